/* Fingerprints of VPN protocols: OpenVPN (UDP and TCP; plain, tls-auth,
 * tls-crypt, tls-crypt-v2), IKE/IPsec (500, 4500 with the non-ESP marker,
 * ESP-in-UDP, IKE over TCP), WireGuard, Tailscale disco, PPTP
 * (specs/detection.md §C). */
#include <stdio.h>
#include <string.h>

#include "analyze/fp_internal.h"

static const uint8_t zero8[8];

/* ---- OpenVPN (OpenVPN/openvpn:src/openvpn/ssl_pkt.h) ----
 * byte 0 = opcode << 3 | key_id. The client's hard reset is opcode 7
 * (0x38, HARD_RESET_CLIENT_V2) or 10 (0x50, _V3, tls-crypt-v2), key 0:
 *   plain:    38 sid(8) acklen=00 msgpid(4)                    = 14 bytes
 *   tls-auth: 38 sid(8) hmac(H) pid(4) time(4) 00 msgpid(4)    = 22 + H, H 16/20/32/64
 *   tls-crypt: 38|50 sid(8) pid(4) time(4) tag(32) ciphertext  (v2 appends WKc,
 *             whose last 2 bytes are its own length)
 * msgpid is 0, or EARLY_NEG_START when early-negotiation TLVs follow. The
 * server answers opcode 8 (0x40) with its own sid and an ack array that
 * echoes the client's sid. */
#define OVPN_EARLY_NEG_START 0x0f000000u
#define OVPN_TIME_SKEW 86400u

enum ovpn_mode { OVPN_PLAIN, OVPN_TLS_AUTH, OVPN_TLS_CRYPT, OVPN_TLS_CRYPT_V2 };

static const char *const ovpn_mode_names[] = {"plain", "tls-auth", "tls-crypt", "tls-crypt-v2"};

struct ovpn_reset {
	enum ovpn_mode mode;
	uint8_t opcode;
	unsigned hmac_len;
	const uint8_t *sid;
	uint32_t time;
	bool strong; /* enough on its own (tls-crypt v1 is not: it is mostly random) */
};

/* Early-negotiation TLVs, type(2) len(2) value, filling [off, len) exactly. */
static bool ovpn_tlvs(const uint8_t *p, size_t stored, size_t off, size_t len)
{
	for (unsigned k = 0; off < len; k++) {
		if (k >= 8 || off + 4 > len || off + 4 > stored)
			return false;
		off += 4 + (size_t)fp_be16(p + off + 2);
	}
	return off == len;
}

/* acklen 0 then msgpid at p[at], and nothing or TLVs up to len. */
static bool ovpn_tail(const uint8_t *p, size_t stored, size_t at, size_t len)
{
	if (at + 5 > len || at + 5 > stored || p[at] != 0)
		return false;
	uint32_t msgpid = fp_be32(p + at + 1);
	if (at + 5 == len)
		return msgpid == 0 || msgpid == OVPN_EARLY_NEG_START;
	return msgpid == OVPN_EARLY_NEG_START && ovpn_tlvs(p, stored, at + 5, len);
}

static bool ovpn_client_reset(const uint8_t *p, size_t stored, size_t len, struct ovpn_reset *r)
{
	static const unsigned hmacs[] = {16, 20, 32, 64};
	memset(r, 0, sizeof(r[0]));
	if (stored < 14 || len < 14 || (p[0] & 0x07) != 0)
		return false;
	r->opcode = p[0] >> 3;
	r->sid = p + 1;
	if (r->opcode != 7 && r->opcode != 10)
		return false;
	if (r->opcode == 7) {
		for (size_t i = 0; i < sizeof(hmacs) / sizeof(hmacs[0]); i++) {
			size_t b = 9 + hmacs[i];
			if (b + 13 > len || b + 13 > stored)
				continue;
			uint32_t pid = fp_be32(p + b), t = fp_be32(p + b + 4);
			if (pid >= 1 && pid <= 256 && t != 0 && ovpn_tail(p, stored, b + 8, len)) {
				r->mode = OVPN_TLS_AUTH;
				r->hmac_len = hmacs[i];
				r->time = t;
				r->strong = true;
				return true;
			}
		}
		if (ovpn_tail(p, stored, 9, len)) {
			r->mode = OVPN_PLAIN;
			r->strong = true;
			return true;
		}
	}
	/* tls-crypt: header 1+8+8, tag 32, at least acklen + msgpid encrypted. */
	if (len < 54 || stored < 17 || fp_be32(p + 9) == 0 || fp_be32(p + 13) == 0)
		return false;
	r->time = fp_be32(p + 13);
	if (r->opcode == 7) {
		if (len > 54 + 64)
			return false;
		r->mode = OVPN_TLS_CRYPT;
		return true;
	}
	r->mode = OVPN_TLS_CRYPT_V2;
	if (stored < len)
		return true; /* the WKc length is past the stored bytes */
	size_t wkc = fp_be16(p + len - 2);
	r->strong = wkc >= 34 && wkc <= len - 54 && len - wkc <= 54 + 64;
	return r->strong;
}

static bool ovpn_server_confirms(const uint8_t *p, size_t stored, size_t len,
				 const struct ovpn_reset *c)
{
	if (stored < 1 || p[0] != 0x40)
		return false;
	size_t b;
	switch (c->mode) {
	case OVPN_PLAIN:
		b = 9;
		break;
	case OVPN_TLS_AUTH: {
		size_t at = 9 + c->hmac_len;
		if (at + 9 > stored)
			return false;
		uint32_t pid = fp_be32(p + at);
		if (pid < 1 || pid > 256)
			return false;
		b = at + 8;
		break;
	}
	default: {
		/* Encrypted: its packet id is small and its clock agrees with the client's. */
		if (len < 66 || stored < 17)
			return false;
		uint32_t pid = fp_be32(p + 9), t = fp_be32(p + 13);
		uint32_t skew = t > c->time ? t - c->time : c->time - t;
		return pid >= 1 && pid <= 256 && skew <= OVPN_TIME_SKEW;
	}
	}
	if (b >= stored)
		return false;
	size_t acks = p[b];
	if (acks < 1 || acks > 8)
		return false;
	size_t at = b + 1 + 4 * acks;
	return at + 8 <= stored && at + 8 <= len && memcmp(p + at, c->sid, 8) == 0;
}

static enum service_verdict ovpn_decide(const struct fp_ctx *x, struct service_match *m,
					const struct ovpn_reset *c, enum fp_side ss, bool tcp,
					size_t offset)
{
	enum service_confidence conf;
	bool both;
	enum service_verdict r;
	if (c->strong) {
		r = fp_combine(FP_YES, ss, &conf, &both);
	} else if (ss == FP_YES) {
		r = SERVICE_MATCH;
		conf = CONF_HIGH;
		both = true;
	} else if (ss == FP_PENDING) {
		r = SERVICE_NEED_MORE;
	} else if (ss == FP_ABSENT &&
		   service_standard_port(SVC_OPENVPN, tcp ? 6 : 17, x->v->resp_port)) {
		r = SERVICE_MATCH;
		conf = CONF_LOW;
		both = false;
	} else {
		r = SERVICE_NO_MATCH;
	}
	if (r != SERVICE_MATCH)
		return r;
	fp_set(m, SVC_OPENVPN, conf, tcp ? "openvpn-tcp-reset" : "openvpn-udp-reset", offset, both);
	char op[8], hl[8], mode[24];
	snprintf(op, sizeof(op), "%u", c->opcode);
	snprintf(hl, sizeof(hl), "%u", c->hmac_len);
	snprintf(mode, sizeof(mode), "\"%s\"", ovpn_mode_names[c->mode]);
	struct fp_member mem[] = {{"opcode", op}, {"hmac_len", hl}, {"mode", mode}};
	fp_detail_object(m, "openvpn", mem, 3);
	return r;
}

enum service_verdict fp_openvpn_udp(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	struct fp_slice d, r;
	struct ovpn_reset cr;
	if (!fp_datagram(c, 0, &d))
		return fp_dir_open(x, c, s, 1) ? SERVICE_NEED_MORE : SERVICE_NO_MATCH;
	if (!ovpn_client_reset(d.p, d.stored, d.wire, &cr))
		return SERVICE_NO_MATCH;
	enum fp_side ss;
	if (!fp_datagram(s, 0, &r))
		ss = fp_wait(x, s, c, 1);
	else
		ss = ovpn_server_confirms(r.p, r.stored, r.wire, &cr) ? FP_YES : FP_NO;
	return ovpn_decide(x, m, &cr, ss, false, 0);
}

/* TCP: each packet is preceded by its 2-byte length. */
enum service_verdict fp_openvpn_tcp(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	if (c->len < 3)
		return fp_dir_open(x, c, s, 3) ? SERVICE_NEED_MORE : SERVICE_NO_MATCH;
	size_t plen = fp_be16(c->data);
	if ((c->data[2] != 0x38 && c->data[2] != 0x50) || plen < 14 || plen > CONTENT_BYTES - 2)
		return SERVICE_NO_MATCH;
	if (c->len < 2 + plen)
		return fp_dir_open(x, c, s, 2 + plen) ? SERVICE_NEED_MORE : SERVICE_NO_MATCH;
	struct ovpn_reset cr;
	if (!ovpn_client_reset(c->data + 2, plen, plen, &cr))
		return SERVICE_NO_MATCH;
	enum fp_side ss;
	if (s->len < 3) {
		ss = fp_wait(x, s, c, 3);
	} else {
		size_t slen = fp_be16(s->data);
		size_t have = s->len - 2;
		if (have < slen && fp_dir_open(x, s, c, 2 + slen))
			ss = FP_PENDING;
		else
			ss = ovpn_server_confirms(s->data + 2, have < slen ? have : slen, slen, &cr)
				     ? FP_YES
				     : FP_NO;
	}
	return ovpn_decide(x, m, &cr, ss, true, 2);
}

/* ---- IKE / IPsec (RFC 7296 §3.1, RFC 2408, RFC 3948, RFC 9329) ----
 * Header: SPIi(8) != 0, SPIr(8), next payload, version 0x20 (v2) or 0x10
 * (v1), exchange type, flags, message id, length == the message. */
struct ike_hdr {
	const uint8_t *spi_i;
	uint8_t version, exch;
};

/* Next payload and the reserved flag bits are not checked: receivers must
 * ignore reserved bits (RFC 7296 §3.1), and real captures carry odd values
 * (nDPI's ipsec_isakmp_esp.pcap has flags FF and next payload 127). */
static bool ike_header(const uint8_t *p, size_t stored, size_t len, struct ike_hdr *h)
{
	if (stored < 28 || len < 28 || memcmp(p, zero8, 8) == 0 || fp_be32(p + 24) != len)
		return false;
	bool spir_zero = memcmp(p + 8, zero8, 8) == 0;
	uint8_t ver = p[17], exch = p[18], flags = p[19];
	uint32_t msgid = fp_be32(p + 20);
	if (ver == 0x20) {
		if ((exch < 34 || exch > 37) && exch != 43)
			return false;
		/* IKE_SA_INIT has message id 0; its request has no responder SPI yet. */
		if (exch == 34 && (msgid != 0 || (!(flags & 0x20) && !spir_zero)))
			return false;
	} else if (ver == 0x10) {
		if (!((exch >= 1 && exch <= 6) || exch == 32 || exch == 33))
			return false;
		if ((exch == 2 || exch == 4) && msgid != 0)
			return false;
	} else {
		return false;
	}
	h->spi_i = p;
	h->version = ver;
	h->exch = exch;
	return true;
}

enum ike_kind { IKE_NONE, IKE_KEEPALIVE, IKE_MSG, IKE_ESP, IKE_OTHER };

/* One datagram: an IKE message at 0, or after the 4-byte non-ESP marker
 * (NAT-T); a NAT keepalive (one FF byte); ESP in UDP (port 4500 only). */
static enum ike_kind ike_datagram(const struct fp_slice *d, bool natt_port, struct ike_hdr *h,
				  size_t *off)
{
	if (d->wire == 1 && d->stored == 1 && d->p[0] == 0xFF)
		return IKE_KEEPALIVE;
	if (d->wire >= 32 && d->stored >= 4 && fp_be32(d->p) == 0) {
		*off = 4;
		return ike_header(d->p + 4, d->stored - 4, d->wire - 4, h) ? IKE_MSG : IKE_OTHER;
	}
	*off = 0;
	if (ike_header(d->p, d->stored, d->wire, h))
		return IKE_MSG;
	if (natt_port && d->wire >= 24 && d->stored >= 8 && fp_be32(d->p) >= 256 &&
	    fp_be32(d->p + 4) >= 1)
		return IKE_ESP;
	return IKE_OTHER;
}

/* The first datagram of a direction that is not a keepalive. */
static enum ike_kind ike_first(const struct content_dir *dir, bool natt_port, struct ike_hdr *h,
			       size_t *off, bool *keepalive)
{
	*keepalive = false;
	for (unsigned i = 0; i < dir->nseg; i++) {
		struct fp_slice d;
		if (!fp_datagram(dir, i, &d))
			return IKE_NONE;
		enum ike_kind k = ike_datagram(&d, natt_port, h, off);
		if (k != IKE_KEEPALIVE)
			return k;
		*keepalive = true;
	}
	return IKE_NONE;
}

static void ike_detail(struct service_match *m, const struct ike_hdr *h)
{
	char ver[4], exch[8], spi[24];
	snprintf(ver, sizeof(ver), "%u", (unsigned)(h->version >> 4));
	snprintf(exch, sizeof(exch), "%u", (unsigned)h->exch);
	fp_json_hex(spi, sizeof(spi), h->spi_i, 8);
	struct fp_member mem[] = {{"version", ver}, {"exch_type", exch}, {"spi_i", spi}};
	fp_detail_object(m, "ike", mem, 3);
}

enum service_verdict fp_ike_udp(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	bool natt = x->v->resp_port == 4500, cka, ska;
	struct ike_hdr ch = {0}, sh = {0};
	size_t coff = 0, soff = 0;
	enum ike_kind ck = ike_first(c, natt, &ch, &coff, &cka);
	if (ck == IKE_OTHER)
		return SERVICE_NO_MATCH;
	enum ike_kind sk = ike_first(s, natt, &sh, &soff, &ska);
	if (ck == IKE_NONE) {
		if (fp_dir_open(x, c, s, CONTENT_BYTES))
			return SERVICE_NEED_MORE;
		if (natt && cka && (sk == IKE_NONE || sk == IKE_KEEPALIVE)) {
			fp_set(m, SVC_IKE, CONF_LOW, "ike-natt-keepalive", 0, ska);
			return SERVICE_MATCH;
		}
		return SERVICE_NO_MATCH;
	}
	enum fp_side ss;
	if (sk == IKE_NONE)
		ss = fp_wait(x, s, c, CONTENT_BYTES);
	else if (sk == IKE_ESP || (sk == IKE_MSG && ck == IKE_MSG && !memcmp(sh.spi_i, ch.spi_i, 8)))
		ss = FP_YES;
	else if (sk == IKE_MSG && ck == IKE_ESP)
		ss = FP_YES;
	else
		ss = FP_NO;
	if (ck == IKE_ESP) {
		/* ESP in UDP: port-assisted, so one notch lower. */
		if (ss == FP_NO)
			return SERVICE_NO_MATCH;
		if (ss == FP_PENDING)
			return SERVICE_NEED_MORE;
		fp_set(m, SVC_IKE, ss == FP_YES ? CONF_MEDIUM : CONF_LOW, "ipsec-natt-esp", 0,
		       ss == FP_YES);
		return SERVICE_MATCH;
	}
	enum service_confidence conf;
	bool both;
	enum service_verdict r = fp_combine(FP_YES, ss, &conf, &both);
	if (r != SERVICE_MATCH)
		return r;
	fp_set(m, SVC_IKE, conf, coff ? "ike-natt-marker" : "ike-header", coff, both);
	ike_detail(m, &ch);
	return r;
}

/* IKE over TCP: "IKETCP", then messages framed as length(2, counting
 * itself), non-ESP marker, IKE header. The server sends no prefix. */
enum service_verdict fp_ike_tcp(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	bool full;
	if (!fp_prefix(c->data, c->len, "IKETCP", false, &full))
		return SERVICE_NO_MATCH;
	if (!full)
		return fp_dir_open(x, c, s, 6) ? SERVICE_NEED_MORE : SERVICE_NO_MATCH;
	struct ike_hdr ch = {0}, sh = {0};
	bool have_hdr = false;
	if (c->len >= 12) {
		size_t flen = fp_be16(c->data + 6);
		if (flen < 6 + 28 || fp_be32(c->data + 8) != 0)
			return SERVICE_NO_MATCH;
		have_hdr = ike_header(c->data + 12, c->len - 12, flen - 6, &ch);
		if (!have_hdr && c->len >= 12 + 28)
			return SERVICE_NO_MATCH;
	}
	enum fp_side ss;
	if (s->len < 6 + 28) {
		ss = fp_wait(x, s, c, 6 + 28);
	} else {
		size_t flen = fp_be16(s->data);
		ss = (flen >= 6 + 28 && fp_be32(s->data + 2) == 0 &&
		      ike_header(s->data + 6, s->len - 6, flen - 6, &sh) &&
		      (!have_hdr || !memcmp(sh.spi_i, ch.spi_i, 8)))
			     ? FP_YES
			     : FP_NO;
	}
	enum service_confidence conf;
	bool both;
	enum service_verdict r = fp_combine(FP_YES, ss, &conf, &both);
	if (r != SERVICE_MATCH)
		return r;
	fp_set(m, SVC_IKE, conf, "ike-tcp", 0, both);
	if (have_hdr)
		ike_detail(m, &ch);
	return r;
}

/* ---- WireGuard (https://www.wireguard.com/protocol/) ----
 * type(1) reserved(3)=0; initiation type 1 is exactly 148 bytes (sender
 * index at 4), response type 2 exactly 92 (sender 4, receiver 8), cookie
 * reply type 3 exactly 64 (receiver 4), transport data type 4 is 32 + a
 * multiple of 16 (receiver 4, counter LE64 8). */
static int wg_type(const struct fp_slice *d)
{
	if (d->stored < 16 || d->p[1] || d->p[2] || d->p[3])
		return 0;
	switch (d->p[0]) {
	case 1: return d->wire == 148 ? 1 : 0;
	case 2: return d->wire == 92 ? 2 : 0;
	case 3: return d->wire == 64 ? 3 : 0;
	case 4: return (d->wire >= 32 && d->wire % 16 == 0) ? 4 : 0;
	}
	return 0;
}

struct wg_dir {
	unsigned n;	       /* WireGuard datagrams */
	bool other;	       /* a datagram that is not WireGuard */
	unsigned inits;
	uint8_t sender[CONTENT_SEGMENTS][4]; /* initiation sender indexes */
	unsigned replies;
	uint8_t receiver[CONTENT_SEGMENTS][4]; /* response / cookie receiver indexes */
	unsigned data;
	bool data_consistent; /* >= 2 data datagrams, one receiver, rising counters */
};

static void wg_scan(const struct content_dir *dir, struct wg_dir *w)
{
	memset(w, 0, sizeof(*w));
	uint8_t recv[4];
	uint32_t last_ctr = 0;
	bool consistent = true;
	for (unsigned i = 0; i < dir->nseg; i++) {
		struct fp_slice d;
		if (!fp_datagram(dir, i, &d))
			break;
		int t = wg_type(&d);
		if (t == 0) {
			w->other = true;
			continue;
		}
		w->n++;
		if (t == 1) {
			memcpy(w->sender[w->inits++], d.p + 4, 4);
		} else if (t == 2) {
			memcpy(w->receiver[w->replies++], d.p + 8, 4);
		} else if (t == 3) {
			memcpy(w->receiver[w->replies++], d.p + 4, 4);
		} else {
			uint32_t lo = fp_le32(d.p + 8), hi = fp_le32(d.p + 12);
			if (w->data == 0)
				memcpy(recv, d.p + 4, 4);
			else if (memcmp(recv, d.p + 4, 4) != 0 || hi != 0 || lo <= last_ctr)
				consistent = false;
			if (hi != 0)
				consistent = false;
			last_ctr = lo;
			w->data++;
		}
	}
	w->data_consistent = consistent && w->data >= 2;
}

static bool wg_echo(const struct wg_dir *init, const struct wg_dir *reply, const uint8_t **idx)
{
	for (unsigned i = 0; i < init->inits; i++)
		for (unsigned j = 0; j < reply->replies; j++)
			if (!memcmp(init->sender[i], reply->receiver[j], 4)) {
				*idx = init->sender[i];
				return true;
			}
	return false;
}

static void wg_detail(struct service_match *m, const uint8_t *sender)
{
	char idx[16];
	fp_json_hex(idx, sizeof(idx), sender, 4);
	struct fp_member mem[] = {{"sender_index", idx}};
	fp_detail_object(m, "wg", mem, 1);
}

enum service_verdict fp_wireguard(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	struct wg_dir cw, sw;
	wg_scan(c, &cw);
	wg_scan(s, &sw);
	if (cw.other || sw.other)
		return SERVICE_NO_MATCH;
	const uint8_t *idx;
	if (wg_echo(&cw, &sw, &idx) || wg_echo(&sw, &cw, &idx)) {
		fp_set(m, SVC_WIREGUARD, CONF_HIGH, "wireguard-handshake", 0, true);
		wg_detail(m, idx);
		return SERVICE_MATCH;
	}
	bool c_open = fp_dir_open(x, c, s, CONTENT_BYTES), s_open = fp_dir_open(x, s, c, CONTENT_BYTES);
	if (cw.inits || sw.inits) {
		/* An initiation: wait for its response while the responder may speak. */
		const struct wg_dir *iw = cw.inits ? &cw : &sw;
		if (cw.inits ? s_open : c_open)
			return SERVICE_NEED_MORE;
		fp_set(m, SVC_WIREGUARD, CONF_MEDIUM, "wireguard-init", 0, false);
		wg_detail(m, iw->sender[0]);
		return SERVICE_MATCH;
	}
	if (cw.data_consistent && sw.data_consistent) {
		fp_set(m, SVC_WIREGUARD, CONF_HIGH, "wireguard-data", 0, true);
		return SERVICE_MATCH;
	}
	if (c_open || s_open)
		return (cw.n || sw.n || c->nseg == 0) ? SERVICE_NEED_MORE : SERVICE_NO_MATCH;
	if (cw.data_consistent || sw.data_consistent) {
		fp_set(m, SVC_WIREGUARD, CONF_MEDIUM, "wireguard-data", 0, false);
		return SERVICE_MATCH;
	}
	if ((cw.n || sw.n) && service_standard_port(SVC_WIREGUARD, 17, x->v->resp_port)) {
		fp_set(m, SVC_WIREGUARD, CONF_LOW, "wireguard-data", 0, false);
		return SERVICE_MATCH;
	}
	return SERVICE_NO_MATCH;
}

/* ---- Tailscale disco: "TS" F0 9F 92 AC, the sender's disco key (32), a
 * nonce (24) and a sealed box (>= 16). Tailscale also carries WireGuard in
 * the same flow, so other datagrams must be WireGuard. */
static const uint8_t disco_magic[6] = {0x54, 0x53, 0xF0, 0x9F, 0x92, 0xAC};

static bool ts_scan(const struct content_dir *dir, unsigned *disco)
{
	*disco = 0;
	for (unsigned i = 0; i < dir->nseg; i++) {
		struct fp_slice d;
		if (!fp_datagram(dir, i, &d))
			break;
		if (d.wire >= 6 + 32 + 24 + 16 && d.stored >= 6 && !memcmp(d.p, disco_magic, 6))
			(*disco)++;
		else if (!wg_type(&d))
			return false;
	}
	return true;
}

enum service_verdict fp_tailscale(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	unsigned cd, sd;
	if (!ts_scan(c, &cd) || !ts_scan(s, &sd))
		return SERVICE_NO_MATCH;
	enum fp_side cs = cd ? FP_YES : fp_wait(x, c, s, CONTENT_BYTES);
	enum fp_side ss = sd ? FP_YES : fp_wait(x, s, c, CONTENT_BYTES);
	enum service_confidence conf;
	bool both;
	enum service_verdict r = fp_combine(cs, ss, &conf, &both);
	if (r == SERVICE_MATCH)
		fp_set(m, SVC_TAILSCALE, conf, "tailscale-disco", 0, both);
	return r;
}

/* ---- PPTP control channel (RFC 2637 §2) ----
 * length(2) == the message, type 1 (control), magic cookie 1A2B3C4D,
 * control message type 1..15, reserved 0; SCCRQ (1) / SCCRP (2) are 156
 * bytes with protocol version 1.0. */
static enum fp_partial pptp_ctrl(const uint8_t *p, size_t n)
{
	static const uint8_t head[6] = {0x00, 0x01, 0x1A, 0x2B, 0x3C, 0x4D};
	if (n < 2)
		return FP_PART_MORE;
	size_t len = fp_be16(p);
	if (len < 16 || len > 220) /* the largest control message (ICRQ) is 220 */
		return FP_PART_NO;
	for (size_t i = 0; i < sizeof(head); i++) {
		if (2 + i >= n)
			return FP_PART_MORE;
		if (p[2 + i] != head[i])
			return FP_PART_NO;
	}
	if (n < 12)
		return FP_PART_MORE;
	unsigned type = fp_be16(p + 8);
	if (type < 1 || type > 15 || fp_be16(p + 10) != 0)
		return FP_PART_NO;
	if (type == 1 || type == 2) {
		if (len != 156)
			return FP_PART_NO;
		if (n < 14)
			return FP_PART_MORE;
		if (fp_be16(p + 12) != 0x0100)
			return FP_PART_NO;
	}
	return FP_PART_YES;
}

static enum fp_side pptp_side(const struct fp_ctx *x, const struct content_dir *d,
			      const struct content_dir *other)
{
	if (d->len == 0)
		return fp_wait(x, d, other, 1);
	return fp_side_of(x, d, other, pptp_ctrl(d->data, d->len), 16);
}

/* A NUL-padded 64-byte name field of SCCRQ/SCCRP. */
static const char *pptp_name(const struct content_dir *d, size_t at, char *buf, size_t cap)
{
	if (d->len < at + 64 || fp_be16(d->data + 8) > 2)
		return NULL;
	size_t k = 0;
	while (k < 64 && d->data[at + k])
		k++;
	if (k == 0)
		return NULL;
	fp_json_string(buf, cap, d->data + at, k);
	return buf;
}

enum service_verdict fp_pptp(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	enum fp_side cs = pptp_side(x, c, s), ss = cs == FP_NO ? FP_NO : pptp_side(x, s, c);
	enum service_confidence conf;
	bool both;
	enum service_verdict r = fp_combine(cs, ss, &conf, &both);
	if (r != SERVICE_MATCH)
		return r;
	fp_set(m, SVC_PPTP, conf, "pptp-control", 4, both);
	const struct content_dir *named = cs == FP_YES ? c : s;
	char host[FP_JSON_STR_MAX], vendor[FP_JSON_STR_MAX];
	struct fp_member mem[] = {{"hostname", pptp_name(named, 28, host, sizeof(host))},
				  {"vendor", pptp_name(named, 92, vendor, sizeof(vendor))}};
	if (mem[0].json || mem[1].json)
		fp_detail_object(m, "pptp", mem, 2);
	return r;
}
