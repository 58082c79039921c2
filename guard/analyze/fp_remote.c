/* Fingerprints of remote-desktop and remote-shell protocols: SSH, RDP
 * (X.224 over TPKT) and RDPEUDP, RFB (VNC), Telnet, TeamViewer
 * (specs/detection.md §C). */
#include <stdio.h>
#include <string.h>

#include "analyze/fp_internal.h"

/* SSH: "SSH-" protoversion "-" softwareversion, one line of at most 255
 * bytes (RFC 4253 §4.2). Zeek matches /^[sS][sS][hH]-[12]\./. FP_PART_YES once
 * the version's dash is seen and what follows is printable; *line_len is
 * the banner's length without CR/LF (up to the stored end). */
static enum fp_partial ssh_banner(const uint8_t *p, size_t n, size_t *line_len)
{
	bool full;
	if (!fp_prefix(p, n, "SSH-", true, &full))
		return FP_PART_NO;
	if (!full)
		return FP_PART_MORE;
	size_t i = 4;
	if (i >= n)
		return FP_PART_MORE;
	if (p[i] != '1' && p[i] != '2')
		return FP_PART_NO;
	if (++i >= n)
		return FP_PART_MORE;
	if (p[i] != '.')
		return FP_PART_NO;
	i++;
	size_t digits = 0;
	while (i < n && digits < 3 && p[i] >= '0' && p[i] <= '9') {
		i++;
		digits++;
	}
	if (i >= n)
		return FP_PART_MORE;
	if (digits == 0 || p[i] != '-')
		return FP_PART_NO;
	i++;
	for (; i < n && i < 255; i++) {
		if (p[i] == '\r' || p[i] == '\n') {
			*line_len = i;
			return FP_PART_YES;
		}
		if (!fp_printable(p[i]))
			return FP_PART_NO;
	}
	if (i >= 255)
		return FP_PART_NO;
	*line_len = i;
	return FP_PART_YES;
}

/* The server may send other text lines before its banner: look at each line
 * start (the buffer is at most CONTENT_BYTES). */
static enum fp_side ssh_server_side(const struct fp_ctx *x, const struct content_dir *d,
				    const struct content_dir *other, size_t *off, size_t *len)
{
	const uint8_t *p = d->data;
	size_t n = d->len, start = 0;
	if (n == 0)
		return fp_wait(x, d, other, 1);
	while (start < n) {
		switch (ssh_banner(p + start, n - start, len)) {
		case FP_PART_YES:
			*off = start;
			return FP_YES;
		case FP_PART_MORE:
			return fp_wait(x, d, other, CONTENT_BYTES);
		case FP_PART_NO:
			break;
		}
		size_t i = start;
		for (; i < n && p[i] != '\n'; i++) {
			if (p[i] < 0x20 && p[i] != '\r' && p[i] != '\t')
				return FP_NO; /* not a text line: no banner follows */
		}
		if (i >= n)
			break;
		start = i + 1;
	}
	return fp_dir_open(x, d, other, CONTENT_BYTES) ? FP_PENDING : FP_NO;
}

static void banner_detail(struct service_match *m, const uint8_t *client, size_t clen,
			  const uint8_t *server, size_t slen)
{
	char c[FP_JSON_STR_MAX], s[FP_JSON_STR_MAX];
	if (client)
		fp_json_string(c, sizeof(c), client, clen);
	if (server)
		fp_json_string(s, sizeof(s), server, slen);
	struct fp_member mem[] = {{"client", client ? c : NULL}, {"server", server ? s : NULL}};
	fp_detail_object(m, "banner", mem, 2);
}

enum service_verdict fp_ssh(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	size_t clen = 0, slen = 0, soff = 0;
	enum fp_side cs;
	if (c->len == 0) {
		cs = fp_wait(x, c, s, 1);
	} else {
		switch (ssh_banner(c->data, c->len, &clen)) {
		case FP_PART_YES: cs = FP_YES; break;
		case FP_PART_MORE: cs = fp_wait(x, c, s, CONTENT_BYTES); break;
		default: cs = FP_NO; break;
		}
	}
	enum fp_side ss = cs == FP_NO ? FP_NO : ssh_server_side(x, s, c, &soff, &slen);
	enum service_confidence conf;
	bool both;
	enum service_verdict r = fp_combine(cs, ss, &conf, &both);
	if (r != SERVICE_MATCH)
		return r;
	fp_set(m, SVC_SSH, conf, "ssh-banner", cs == FP_YES ? 0 : soff, both);
	banner_detail(m, cs == FP_YES ? c->data : NULL, clen, ss == FP_YES ? s->data + soff : NULL,
		      slen);
	return r;
}

/* RDP: X.224 Connection Request in TPKT (MS-RDPBCGR 2.2.1.1):
 * 03 00 <len BE> <LI=len-5> E0 <dst-ref 0000> <src-ref> <class 00>, then
 * "Cookie: mstshash=<user>\r\n" or a routing token "Cookie: msts=...\r\n",
 * then RDP_NEG_REQ 01 <flags> 08 00 <requestedProtocols LE32>. ISO-on-TCP
 * (S7comm), MMS and H.323 share the TPKT/COTP header but put COTP parameters
 * (C0/C1/C2) after the class byte, which RDP must not (3.2.5.3.1): byte 11
 * must be 'C' or 0x01, or the TPDU ends there. */
struct rdp_cr {
	uint16_t src_ref;
	const uint8_t *user;
	size_t user_len;
	bool have_req;
	uint32_t requested;
};

static enum fp_partial tpkt_cotp(const uint8_t *p, size_t n, uint16_t *len)
{
	if (n < 1)
		return FP_PART_MORE;
	if (p[0] != 0x03)
		return FP_PART_NO;
	if (n < 2)
		return FP_PART_MORE;
	if (p[1] != 0x00)
		return FP_PART_NO;
	if (n < 5)
		return FP_PART_MORE;
	*len = fp_be16(p + 2);
	if (*len < 11 || *len > CONTENT_BYTES || p[4] != *len - 5)
		return FP_PART_NO;
	return n < 11 ? FP_PART_MORE : FP_PART_YES;
}

static enum fp_partial rdp_cr(const uint8_t *p, size_t n, struct rdp_cr *cr)
{
	uint16_t len;
	memset(cr, 0, sizeof(*cr));
	enum fp_partial h = tpkt_cotp(p, n, &len);
	if (h == FP_PART_NO || (n >= 6 && p[5] != 0xE0))
		return FP_PART_NO;
	if (h == FP_PART_MORE)
		return FP_PART_MORE;
	if (fp_be16(p + 6) != 0 || p[10] != 0)
		return FP_PART_NO;
	cr->src_ref = fp_be16(p + 8);
	if (len == 11)
		return FP_PART_YES; /* LI 6: no cookie, no negotiation */
	if (n < 12)
		return FP_PART_MORE;
	size_t end = n < len ? n : len, neg = 11;
	if (p[11] == 'C') {
		bool full;
		if (!fp_prefix(p + 11, end - 11, "Cookie: ", false, &full))
			return FP_PART_NO;
		if (!full)
			return n < len ? FP_PART_MORE : FP_PART_NO;
		long crlf = fp_find(p + 19, end - 19, "\r\n", 2);
		if (crlf < 0)
			return n < len ? FP_PART_YES : FP_PART_NO; /* the cookie line goes on */
		if (fp_prefix(p + 19, (size_t)crlf, "mstshash=", false, &full) && full) {
			cr->user = p + 28;
			cr->user_len = (size_t)crlf - 9;
		}
		neg = 19 + (size_t)crlf + 2;
		if (neg >= end)
			return FP_PART_YES;
		if (p[neg] != 0x01)
			return FP_PART_YES; /* something after the cookie we do not parse */
	} else if (p[11] != 0x01) {
		return FP_PART_NO; /* COTP parameters: ISO-on-TCP, not RDP */
	}
	if (neg + 4 > end)
		return n < len ? FP_PART_MORE : FP_PART_NO;
	if (p[neg + 2] != 0x08 || p[neg + 3] != 0x00)
		return FP_PART_NO;
	if (neg + 8 <= end) {
		cr->have_req = true;
		cr->requested = fp_le32(p + neg + 4);
	}
	return FP_PART_YES;
}

/* Server: X.224 Connection Confirm (D0) whose dst-ref echoes the client's
 * src-ref, with RDP_NEG_RSP (02) or RDP_NEG_FAILURE (03), or none; or a
 * Disconnect Request (80) refusing the connection. *strong: the negotiation
 * response is there (enough without the client). */
static enum fp_partial rdp_cc(const uint8_t *p, size_t n, const struct rdp_cr *cr, bool *strong)
{
	uint16_t len;
	*strong = false;
	enum fp_partial h = tpkt_cotp(p, n, &len);
	if (h != FP_PART_YES)
		return h;
	uint8_t code = p[5] & 0xF0;
	if (code == 0x80)
		return FP_PART_YES;
	if (code != 0xD0)
		return FP_PART_NO;
	if (cr && fp_be16(p + 6) != cr->src_ref)
		return FP_PART_NO;
	if (len == 11)
		return FP_PART_YES;
	if (n < 15)
		return FP_PART_MORE;
	if ((p[11] != 0x02 && p[11] != 0x03) || p[13] != 0x08 || p[14] != 0x00)
		return FP_PART_NO;
	*strong = true;
	return FP_PART_YES;
}

enum service_verdict fp_rdp(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	struct rdp_cr cr;
	enum fp_side cs;
	if (c->len == 0) {
		cs = fp_wait(x, c, s, 1);
		memset(&cr, 0, sizeof(cr));
	} else {
		switch (rdp_cr(c->data, c->len, &cr)) {
		case FP_PART_YES: cs = FP_YES; break;
		case FP_PART_MORE: cs = fp_wait(x, c, s, CONTENT_BYTES); break;
		default: cs = FP_NO; break;
		}
	}
	enum fp_side ss;
	bool strong = false;
	if (cs == FP_NO) {
		ss = FP_NO;
	} else if (s->len == 0) {
		ss = fp_wait(x, s, c, 1);
	} else {
		switch (rdp_cc(s->data, s->len, cs == FP_YES ? &cr : NULL, &strong)) {
		case FP_PART_YES: ss = FP_YES; break;
		case FP_PART_MORE: ss = fp_wait(x, s, c, CONTENT_BYTES); break;
		default: ss = FP_NO; break;
		}
	}
	if (cs == FP_ABSENT && ss == FP_YES && !strong)
		ss = FP_ABSENT; /* a bare CC is ISO-on-TCP as much as RDP */
	enum service_confidence conf;
	bool both;
	enum service_verdict r = fp_combine(cs, ss, &conf, &both);
	if (r != SERVICE_MATCH)
		return r;
	fp_set(m, SVC_RDP, conf, cs == FP_YES ? "rdp-x224-cr" : "rdp-x224-cc", 0, both);
	if (cr.user || cr.have_req) {
		char user[FP_JSON_STR_MAX], req[16];
		if (cr.user)
			fp_json_string(user, sizeof(user), cr.user, cr.user_len);
		if (cr.have_req)
			snprintf(req, sizeof(req), "%u", (unsigned)cr.requested);
		struct fp_member mem[] = {{"cookie_user", cr.user ? user : NULL},
					  {"requested_protocols", cr.have_req ? req : NULL}};
		fp_detail_object(m, "rdp", mem, 2);
	}
	return r;
}

/* RDPEUDP SYN (MS-RDPEUDP 2.2.2.1/2.2.2.5): a 1132..1232-byte datagram
 * (zero-padded) with snSourceAck FF FF FF FF, the receive window, uFlags BE
 * with SYN (0x0001), then snInitialSequenceNumber and the up/down stream
 * MTUs, each 1132..1232. The server's SYN+ACK puts the client's initial
 * sequence number in snSourceAck and sets SYN|ACK (0x0005). */
static bool rdpeudp_mtu(uint16_t v)
{
	return v >= 1132 && v <= 1232;
}

enum service_verdict fp_rdpeudp(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	struct fp_slice d;
	enum fp_side cs, ss;
	if (!fp_datagram(c, 0, &d)) {
		cs = fp_wait(x, c, s, 1);
	} else if (d.wire < 1132 || d.wire > 1232 || d.stored < 16 ||
		   fp_be32(d.p) != 0xFFFFFFFFu || !(fp_be16(d.p + 6) & 0x0001) ||
		   !rdpeudp_mtu(fp_be16(d.p + 12)) || !rdpeudp_mtu(fp_be16(d.p + 14))) {
		return SERVICE_NO_MATCH;
	} else {
		cs = FP_YES;
	}
	struct fp_slice r;
	if (!fp_datagram(s, 0, &r))
		ss = fp_wait(x, s, c, 1);
	else if (cs == FP_YES && r.stored >= 8 && fp_be32(r.p) == fp_be32(d.p + 8) &&
		 (fp_be16(r.p + 6) & 0x0005) == 0x0005)
		ss = FP_YES;
	else
		ss = FP_NO;
	if (cs != FP_YES) /* the server's SYN+ACK alone is not enough */
		return cs == FP_PENDING ? SERVICE_NEED_MORE : SERVICE_NO_MATCH;
	enum service_confidence conf;
	bool both;
	enum service_verdict v = fp_combine(cs, ss, &conf, &both);
	if (v == SERVICE_MATCH)
		fp_set(m, SVC_RDPEUDP, conf, "rdpeudp-syn", 0, both);
	return v;
}

/* RFB: each side's first message is the 12-byte ProtocolVersion
 * "RFB xxx.yyy\n" (RFC 6143 §7.1.1); the server sends it first. */
static enum fp_partial rfb_version(const uint8_t *p, size_t n)
{
	static const char pat[] = "RFB d.d\n";
	size_t i = 0;
	for (const char *q = pat; *q; q++) {
		size_t k = *q == 'd' ? 3 : 1;
		for (size_t j = 0; j < k; j++, i++) {
			if (i >= n)
				return FP_PART_MORE;
			bool ok = *q == 'd' ? (p[i] >= '0' && p[i] <= '9') : p[i] == (uint8_t)*q;
			if (!ok)
				return FP_PART_NO;
		}
	}
	return FP_PART_YES;
}

static enum fp_side rfb_side(const struct fp_ctx *x, const struct content_dir *d,
			     const struct content_dir *other)
{
	if (d->len == 0)
		return fp_wait(x, d, other, 1);
	return fp_side_of(x, d, other, rfb_version(d->data, d->len), 12);
}

enum service_verdict fp_rfb(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *o = x->v->orig, *r = x->v->resp;
	enum fp_side os = rfb_side(x, o, r), rs = os == FP_NO ? FP_NO : rfb_side(x, r, o);
	enum service_confidence conf;
	bool both;
	enum service_verdict v = fp_combine(os, rs, &conf, &both);
	if (v != SERVICE_MATCH)
		return v;
	/* The server is whoever spoke first (normally the responder). */
	bool resp_is_server = x->v->resp_spoke_first || os != FP_YES;
	const struct content_dir *srv = resp_is_server ? r : o, *cli = resp_is_server ? o : r;
	bool srv_yes = resp_is_server ? rs == FP_YES : os == FP_YES;
	bool cli_yes = resp_is_server ? os == FP_YES : rs == FP_YES;
	fp_set(m, SVC_RFB, conf, "rfb-version", 0, both);
	banner_detail(m, cli_yes ? cli->data : NULL, 11, srv_yes ? srv->data : NULL, 11);
	return v;
}

/* Telnet: a side that starts with option negotiation, IAC (FF) then
 * WILL/WONT/DO/DONT (FB..FE) and an option, or a subnegotiation
 * IAC SB opt ... IAC SE (RFC 854/855). Options we accept are below 0x30
 * (nDPI's search_iac() wants < 0x28; 0x2c COM-PORT and a few more exist) or
 * EXOPL (FF). */
struct iac_run {
	unsigned count; /* negotiations seen from offset 0 */
	bool starts;	/* first byte is IAC */
	bool bad;	/* an IAC sequence we do not accept */
	bool partial;	/* the stored bytes end inside a sequence */
};

static bool telnet_option(uint8_t o)
{
	return o < 0x30 || o == 0xFF;
}

static void telnet_iac(const uint8_t *p, size_t n, struct iac_run *r)
{
	memset(r, 0, sizeof(*r));
	r->starts = n > 0 && p[0] == 0xFF;
	size_t i = 0;
	while (i < n && p[i] == 0xFF && r->count < 64) {
		if (i + 2 >= n) {
			r->partial = true;
			return;
		}
		uint8_t cmd = p[i + 1], opt = p[i + 2];
		if (cmd >= 0xFB && cmd <= 0xFE) {
			if (!telnet_option(opt)) {
				r->bad = true;
				return;
			}
			r->count++;
			i += 3;
		} else if (cmd == 0xFA) {
			if (!telnet_option(opt)) {
				r->bad = true;
				return;
			}
			size_t j = i + 3, limit = i + 3 + 128;
			bool done = false;
			while (j + 1 < n && j < limit) {
				if (p[j] == 0xFF && p[j + 1] == 0xF0) {
					done = true;
					break;
				}
				j += (p[j] == 0xFF && p[j + 1] == 0xFF) ? 2 : 1;
			}
			if (!done) {
				if (j + 1 >= n && j < limit)
					r->partial = true;
				else
					r->bad = true;
				return;
			}
			r->count++;
			i = j + 2;
		} else if (cmd >= 0xF1 && cmd <= 0xF9) {
			i += 2; /* NOP, DM, BRK, IP, AO, AYT, EC, EL, GA */
		} else {
			r->bad = true;
			return;
		}
	}
}

/* Terminal text: printable ASCII, CR, LF, TAB, BS, BEL, ESC, NUL (CR NUL is
 * telnet's bare CR), and embedded IAC sequences. */
static bool telnet_text(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n && i < 64; i++) {
		uint8_t c = p[i];
		if (fp_printable(c) || c == '\r' || c == '\n' || c == '\t' || c == 0x08 ||
		    c == 0x07 || c == 0x1b || c == 0x00)
			continue;
		if (c == 0xFF && i + 1 < n && p[i + 1] >= 0xF0) {
			i += (p[i + 1] >= 0xFB || p[i + 1] == 0xFA) ? 2 : 1;
			continue;
		}
		return false;
	}
	return true;
}

enum tn_side { TN_PENDING, TN_ABSENT, TN_IAC, TN_TEXT, TN_NO };

static enum tn_side telnet_side(const struct fp_ctx *x, const struct content_dir *d,
				const struct content_dir *other, unsigned *count)
{
	*count = 0;
	if (d->len == 0)
		return fp_dir_open(x, d, other, 1) ? TN_PENDING : TN_ABSENT;
	struct iac_run r;
	telnet_iac(d->data, d->len, &r);
	*count = r.count;
	if (r.starts) {
		if (r.count > 0)
			return TN_IAC;
		if (r.partial)
			return fp_dir_open(x, d, other, CONTENT_BYTES) ? TN_PENDING : TN_ABSENT;
		return TN_NO;
	}
	return telnet_text(d->data, d->len) ? TN_TEXT : TN_NO;
}

enum service_verdict fp_telnet(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	unsigned cn, sn;
	enum tn_side cs = telnet_side(x, c, s, &cn), ss = telnet_side(x, s, c, &sn);
	bool std = service_standard_port(SVC_TELNET, 6, x->v->resp_port);
	if (cs == TN_NO || ss == TN_NO)
		return SERVICE_NO_MATCH;
	if (cs == TN_IAC && ss == TN_IAC) {
		fp_set(m, SVC_TELNET, CONF_HIGH, "telnet-iac", 0, true);
		return SERVICE_MATCH;
	}
	if (cs == TN_IAC || ss == TN_IAC) {
		enum tn_side other = cs == TN_IAC ? ss : cs;
		unsigned count = cs == TN_IAC ? cn : sn;
		if (other == TN_PENDING)
			return SERVICE_NEED_MORE;
		enum service_confidence conf = (count >= 2 || std) ? CONF_MEDIUM : CONF_LOW;
		fp_set(m, SVC_TELNET, conf, "telnet-iac", 0, false);
		return SERVICE_MATCH;
	}
	if (cs == TN_PENDING || ss == TN_PENDING)
		return SERVICE_NEED_MORE;
	/* Many embedded devices negotiate nothing and print "login:". */
	if (std && ss == TN_TEXT && s->len >= 4) {
		fp_set(m, SVC_TELNET, CONF_LOW, "telnet-port-banner", 0, false);
		return SERVICE_MATCH;
	}
	return SERVICE_NO_MATCH;
}

/* TeamViewer over TCP: the client's first bytes are 17 24, the server's
 * 11 30; frames chain by their headers ("17 24" cmd len16-LE, 5-byte header;
 * "11 30" cmd 00 len32-LE, 24-byte header, as seen in nDPI's
 * teamviewer.pcap). nDPI wants 4 such packets unless the port is 5938; we
 * want 3 frames in all, or 5938. A 2-byte magic alone collides with random
 * data, hence the chain. */
static unsigned tv_frames(const uint8_t *p, size_t n)
{
	size_t off = 0;
	unsigned k = 0;
	while (k < 16 && off + 2 <= n) {
		if (p[off] == 0x17 && p[off + 1] == 0x24) {
			k++;
			if (off + 5 > n)
				break;
			off += 5 + (size_t)(p[off + 3] | (p[off + 4] << 8));
		} else if (p[off] == 0x11 && p[off + 1] == 0x30) {
			k++;
			if (off + 8 > n)
				break;
			uint32_t len = fp_le32(p + off + 4);
			if (len > (1u << 20))
				break;
			off += 24 + (size_t)len;
		} else {
			break;
		}
	}
	return k;
}

enum service_verdict fp_teamviewer_tcp(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	if (c->len == 0)
		return fp_dir_open(x, c, s, 1) ? SERVICE_NEED_MORE : SERVICE_NO_MATCH;
	if (c->data[0] != 0x17 || (c->len >= 2 && c->data[1] != 0x24))
		return SERVICE_NO_MATCH;
	if (c->len < 2)
		return fp_dir_open(x, c, s, 2) ? SERVICE_NEED_MORE : SERVICE_NO_MATCH;
	bool s_yes = false;
	if (s->len >= 2) {
		bool m1130 = s->data[0] == 0x11 && s->data[1] == 0x30;
		bool m1724 = s->data[0] == 0x17 && s->data[1] == 0x24;
		if (!m1130 && !m1724)
			return SERVICE_NO_MATCH;
		s_yes = true;
	}
	unsigned total = tv_frames(c->data, c->len) + (s_yes ? tv_frames(s->data, s->len) : 0);
	bool std = x->v->resp_port == 5938;
	bool s_open = fp_dir_open(x, s, c, 2);
	if (total >= 3 || std) {
		if (!s_yes && s_open)
			return SERVICE_NEED_MORE;
		fp_set(m, SVC_TEAMVIEWER, s_yes ? CONF_HIGH : CONF_MEDIUM, "teamviewer-magic", 0, s_yes);
		return SERVICE_MATCH;
	}
	if (fp_dir_open(x, c, s, CONTENT_BYTES) || fp_dir_open(x, s, c, CONTENT_BYTES))
		return SERVICE_NEED_MORE;
	if (s_yes) {
		fp_set(m, SVC_TEAMVIEWER, CONF_LOW, "teamviewer-magic", 0, true);
		return SERVICE_MATCH;
	}
	return SERVICE_NO_MATCH;
}

/* TeamViewer over UDP: [0]=00 and [11..12]=17 24 (nDPI), in 4 datagrams, or
 * on port 5938. */
static bool tv_udp(const struct content_dir *d, unsigned i, bool *seen)
{
	struct fp_slice s;
	*seen = fp_datagram(d, i, &s);
	return *seen && s.wire > 13 && s.stored >= 13 && s.p[0] == 0x00 && s.p[11] == 0x17 &&
	       s.p[12] == 0x24;
}

enum service_verdict fp_teamviewer_udp(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	unsigned cn = 0, sn = 0;
	bool seen;
	for (unsigned i = 0; i < c->nseg; i++) {
		if (tv_udp(c, i, &seen))
			cn++;
		else if (i == 0 && seen)
			return SERVICE_NO_MATCH; /* the first datagram decides */
	}
	for (unsigned i = 0; i < s->nseg; i++) {
		if (tv_udp(s, i, &seen))
			sn++;
		else if (i == 0 && seen)
			return SERVICE_NO_MATCH;
	}
	if (cn == 0)
		return (c->nseg == 0 && fp_dir_open(x, c, s, 1)) ? SERVICE_NEED_MORE : SERVICE_NO_MATCH;
	bool std = x->v->resp_port == 5938;
	if (cn + sn >= 4 || std) {
		if (sn == 0 && fp_dir_open(x, s, c, 1))
			return SERVICE_NEED_MORE;
		fp_set(m, SVC_TEAMVIEWER, sn ? CONF_HIGH : CONF_MEDIUM, "teamviewer-udp-magic", 11,
		       sn > 0);
		return SERVICE_MATCH;
	}
	if (fp_dir_open(x, c, s, CONTENT_BYTES) || fp_dir_open(x, s, c, CONTENT_BYTES))
		return SERVICE_NEED_MORE;
	if (sn) {
		fp_set(m, SVC_TEAMVIEWER, CONF_LOW, "teamviewer-udp-magic", 11, true);
		return SERVICE_MATCH;
	}
	return SERVICE_NO_MATCH;
}
