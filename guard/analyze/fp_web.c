/* Fingerprints of web protocols: HTTP/1.x (any known method, BITS_POST
 * included) and SSL/TLS (ClientHello with SNI and ALPN, ServerHello), and
 * AnyDesk, which is TLS told apart by its ALPN or certificate names
 * (specs/detection.md §C). */
#include <stdio.h>
#include <string.h>

#include "analyze/fp_internal.h"

/* ---- HTTP ---- */
static const char *const http_methods[] = {
	"GET", "POST", "HEAD", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
	"BITS_POST", /* BITS uploads (MC-BUP); Zeek's DPD signature lacks it */
	"PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT",
	"MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE",
	"PURGE",
};
#define HTTP_N_METHODS (sizeof(http_methods) / sizeof(http_methods[0]))

/* "HTTP/" digit "." digit at p, then (if end) what follows. */
static enum fp_partial http_version(const uint8_t *p, size_t n, size_t *used)
{
	static const char pat[] = "HTTP/d.d";
	size_t k = sizeof(pat) - 1;
	for (size_t i = 0; i < k; i++) {
		if (i >= n)
			return FP_PART_MORE;
		bool ok = pat[i] == 'd' ? (p[i] >= '0' && p[i] <= '9') : p[i] == (uint8_t)pat[i];
		if (!ok)
			return FP_PART_NO;
	}
	*used = k;
	return FP_PART_YES;
}

/* While the method token is incomplete: is it a prefix of a known method? */
static bool http_method_prefix(const uint8_t *p, size_t n)
{
	for (size_t k = 0; k < HTTP_N_METHODS; k++) {
		size_t ml = strlen(http_methods[k]);
		if (n <= ml && memcmp(p, http_methods[k], n) == 0)
			return true;
	}
	return false;
}

/* Request line: METHOD SP request-target SP HTTP/x.y CRLF, or HTTP/0.9's
 * "GET target CRLF" (*simple; Zeek's vlan-mpls trace has one). A target
 * longer than the buffer is accepted once the buffer is full. */
static enum fp_partial http_request(const uint8_t *p, size_t n, const char **method,
				    bool *simple)
{
	*simple = false;
	size_t i = 0;
	while (i < n && i < 16 && p[i] != ' ')
		i++;
	if (i >= n)
		return http_method_prefix(p, n) ? FP_PART_MORE : FP_PART_NO;
	if (i == 16)
		return FP_PART_NO;
	*method = NULL;
	for (size_t k = 0; k < HTTP_N_METHODS; k++) {
		size_t ml = strlen(http_methods[k]);
		if (ml == i && memcmp(p, http_methods[k], ml) == 0)
			*method = http_methods[k];
	}
	if (!*method)
		return FP_PART_NO;
	size_t t = ++i;
	while (i < n && p[i] > 0x20 && p[i] != 0x7f)
		i++;
	if (i >= n)
		return n >= CONTENT_BYTES && i > t ? FP_PART_YES : FP_PART_MORE;
	if (i > t && (p[i] == '\r' || p[i] == '\n') && strcmp(*method, "GET") == 0 &&
	    (p[t] == '/' || p[t] == 'h')) {
		*simple = true;
		return FP_PART_YES;
	}
	if (i == t || p[i] != ' ')
		return FP_PART_NO;
	size_t used;
	enum fp_partial v = http_version(p + i + 1, n - i - 1, &used);
	if (v != FP_PART_YES)
		return v;
	size_t e = i + 1 + used;
	if (e >= n)
		return FP_PART_MORE;
	if (p[e] == '\n' || (p[e] == '\r' && (e + 1 >= n || p[e + 1] == '\n')))
		return FP_PART_YES;
	return FP_PART_NO;
}

/* Status line: HTTP/1.x SP 3DIGIT. */
static enum fp_partial http_response(const uint8_t *p, size_t n)
{
	size_t used;
	enum fp_partial v = http_version(p, n, &used);
	if (v != FP_PART_YES)
		return v;
	for (size_t i = used; i < used + 4; i++) {
		if (i >= n)
			return FP_PART_MORE;
		bool ok = i == used ? p[i] == ' ' : (p[i] >= '0' && p[i] <= '9');
		if (!ok)
			return FP_PART_NO;
	}
	return FP_PART_YES;
}

enum service_verdict fp_http(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	const char *method = NULL;
	bool simple = false;
	enum fp_side cs, ss;
	if (c->len == 0) {
		cs = fp_wait(x, c, s, 1);
	} else {
		enum fp_partial v = http_request(c->data, c->len, &method, &simple);
		cs = v == FP_PART_YES ? FP_YES
		     : v == FP_PART_NO ? FP_NO
					: fp_wait(x, c, s, CONTENT_BYTES);
	}
	if (cs == FP_NO) {
		ss = FP_NO;
	} else if (s->len == 0) {
		ss = fp_wait(x, s, c, 1);
	} else {
		enum fp_partial v = http_response(s->data, s->len);
		ss = v == FP_PART_YES ? FP_YES : v == FP_PART_NO ? FP_NO : fp_wait(x, s, c, 13);
		if (simple && ss != FP_YES)
			ss = FP_ABSENT; /* an HTTP/0.9 reply is the bare body */
	}
	enum service_confidence conf;
	bool both;
	enum service_verdict r = fp_combine(cs, ss, &conf, &both);
	if (r != SERVICE_MATCH)
		return r;
	fp_set(m, SVC_HTTP, conf, cs == FP_YES ? "http-request" : "http-response", 0, both);
	if (method) {
		char js[24];
		snprintf(js, sizeof(js), "\"%s\"", method);
		struct fp_member mem[] = {{"method", js}};
		fp_detail_object(m, "http", mem, 1);
	}
	return r;
}

/* ---- SSL/TLS ----
 * Client: record 16 03 0[0-4] <len>, handshake type 1 (ClientHello),
 * client_version 03 0x. Server: a ServerHello (type 2) record, or an alert
 * record (the server speaks TLS and refuses). */
#define TLS_MAX_RECORD (16384 + 2048)
#define TLS_ALPN_MAX 96

struct tls_hello {
	const uint8_t *sni;
	size_t sni_len;
	char alpn[TLS_ALPN_MAX]; /* protocols joined by ',' (bounded), "" if none */
	size_t alpn_len;
	bool anydesk_alpn; /* a protocol starts with "anydesk/" */
};

static enum fp_partial tls_record_head(const uint8_t *p, size_t n, uint8_t type)
{
	if ((n >= 1 && p[0] != type) || (n >= 2 && p[1] != 3) || (n >= 3 && p[2] > 4))
		return FP_PART_NO;
	if (n < 5)
		return FP_PART_MORE;
	size_t len = fp_be16(p + 3);
	return (len >= 1 && len <= TLS_MAX_RECORD) ? FP_PART_YES : FP_PART_NO;
}

static void tls_alpn(const uint8_t *e, size_t elen, struct tls_hello *h)
{
	if (elen < 2)
		return;
	size_t list = fp_be16(e), i = 2;
	if (list + 2 > elen)
		list = elen - 2;
	while (i < 2 + list) {
		size_t pl = e[i++];
		if (pl == 0 || i + pl > 2 + list)
			break;
		if (pl >= 8 && memcmp(e + i, "anydesk/", 8) == 0)
			h->anydesk_alpn = true;
		/* Joined into a bounded buffer; escaped later. */
		size_t room = sizeof(h->alpn) - 1 - h->alpn_len;
		if (h->alpn_len && room > 0) {
			h->alpn[h->alpn_len++] = ',';
			room--;
		}
		size_t k = pl < room ? pl : room;
		memcpy(h->alpn + h->alpn_len, e + i, k);
		h->alpn_len += k;
		h->alpn[h->alpn_len] = '\0';
		i += pl;
	}
}

/* Walks the stored part of the ClientHello for SNI and ALPN. */
static void tls_client_hello(const uint8_t *p, size_t n, struct tls_hello *h)
{
	memset(h, 0, sizeof(*h));
	size_t end = 5 + (size_t)fp_be16(p + 3);
	if (end > n)
		end = n;
	size_t i = 9 + 2 + 32; /* record, handshake header, version, random */
	if (i + 1 > end)
		return;
	i += 1 + p[i]; /* session id */
	if (i + 2 > end)
		return;
	i += 2 + fp_be16(p + i); /* cipher suites */
	if (i + 1 > end)
		return;
	i += 1 + p[i]; /* compression methods */
	if (i + 2 > end)
		return;
	size_t ext_end = i + 2 + fp_be16(p + i);
	if (ext_end > end)
		ext_end = end;
	i += 2;
	while (i + 4 <= ext_end) {
		unsigned type = fp_be16(p + i);
		size_t len = fp_be16(p + i + 2);
		const uint8_t *e = p + i + 4;
		size_t have = ext_end - (i + 4) < len ? ext_end - (i + 4) : len;
		if (type == 0 && have >= 5 && e[2] == 0) {
			size_t nl = fp_be16(e + 3);
			if (5 + nl <= have) {
				h->sni = e + 5;
				h->sni_len = nl;
			}
		} else if (type == 16) {
			tls_alpn(e, have, h);
		}
		i += 4 + len;
	}
}

/* What the server's records show: a ServerHello (TLS 1.3 or not), and
 * whether its certificate can still appear in cleartext. */
struct tls_server {
	bool hello;
	bool tls13;	/* supported_versions selected 0x0304: the certificate is encrypted */
	bool flight_done; /* ServerHelloDone, ChangeCipherSpec or application data seen */
};

static void tls_server_hello_ext(const uint8_t *h, size_t hl, struct tls_server *sv)
{
	/* version(2) random(32) sid(1+n) suite(2) compression(1) extensions */
	size_t i = 34;
	if (i + 1 > hl)
		return;
	i += 1 + h[i];
	i += 3;
	if (i + 2 > hl)
		return;
	size_t end = i + 2 + fp_be16(h + i);
	if (end > hl)
		end = hl;
	i += 2;
	while (i + 4 <= end) {
		unsigned type = fp_be16(h + i);
		size_t len = fp_be16(h + i + 2);
		if (type == 43 && len == 2 && i + 6 <= end && fp_be16(h + i + 4) == 0x0304)
			sv->tls13 = true;
		i += 4 + len;
	}
}

static void tls_server_scan(const uint8_t *p, size_t n, struct tls_server *sv)
{
	memset(sv, 0, sizeof(*sv));
	size_t off = 0;
	for (unsigned rec = 0; rec < 16 && off + 5 <= n; rec++) {
		uint8_t type = p[off];
		size_t len = fp_be16(p + off + 3);
		if (p[off + 1] != 3 || len > TLS_MAX_RECORD)
			return;
		if (type == 0x14 || type == 0x17) {
			sv->flight_done = true;
			return;
		}
		if (type == 0x16) {
			size_t m = off + 5, end = off + 5 + len;
			while (m + 4 <= end && m + 4 <= n) {
				uint8_t ht = p[m];
				size_t hl = fp_be24(p + m + 1);
				if (ht == 2) {
					sv->hello = true;
					size_t have = n - (m + 4) < hl ? n - (m + 4) : hl;
					tls_server_hello_ext(p + m + 4, have, sv);
				} else if (ht == 14) {
					sv->flight_done = true;
				}
				if (m + 4 + hl > end)
					break; /* continues in the next record: stop parsing messages */
				m += 4 + hl;
			}
		}
		off += 5 + len;
	}
}

/* AnyDesk's certificates: subject CN "AnyDesk Client" (both peers,
 * self-signed) or the relay's "AnyNet Relay", organisation "philandro
 * Software GmbH". Looks for X.509 name attributes (OID 2.5.4.3 / 2.5.4.10
 * then a string). *cn gets the last CN seen (the first certificate's
 * subject follows its issuer). */
static bool anydesk_cert(const uint8_t *p, size_t n, const uint8_t **cn, size_t *cn_len)
{
	static const uint8_t oid[4] = {0x06, 0x03, 0x55, 0x04};
	bool hit = false;
	unsigned attrs = 0, cns = 0;
	for (size_t i = 0; i + 7 <= n && attrs < 16; i++) {
		if (p[i] != 0x06 || memcmp(p + i, oid, 4) != 0)
			continue;
		uint8_t attr = p[i + 4], tag = p[i + 5];
		size_t len = p[i + 6];
		if ((attr != 3 && attr != 10) || (tag != 0x0c && tag != 0x13 && tag != 0x16) ||
		    len >= 0x80 || i + 7 + len > n)
			continue;
		const uint8_t *v = p + i + 7;
		attrs++;
		if (attr == 3) {
			bool ours = (len == 14 && !memcmp(v, "AnyDesk Client", 14)) ||
				    (len == 12 && !memcmp(v, "AnyNet Relay", 12));
			if (ours || (!hit && ++cns <= 2)) {
				*cn = v; /* issuer, then subject of the first certificate */
				*cn_len = len;
			}
			hit = hit || ours;
		} else if (len == 23 && !memcmp(v, "philandro Software GmbH", 23)) {
			hit = true;
		}
		i += 6 + len;
	}
	return hit;
}

enum service_verdict fp_tls(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	if (c->len == 0)
		return fp_dir_open(x, c, s, 1) ? SERVICE_NEED_MORE : SERVICE_NO_MATCH;
	enum fp_partial head = tls_record_head(c->data, c->len, 0x16);
	if (head == FP_PART_NO)
		return SERVICE_NO_MATCH;
	if (head == FP_PART_MORE || c->len < 11)
		return fp_dir_open(x, c, s, 11) ? SERVICE_NEED_MORE : SERVICE_NO_MATCH;
	if (c->data[5] != 1 || fp_be24(c->data + 6) < 38 || c->data[9] != 3 || c->data[10] > 4)
		return SERVICE_NO_MATCH;
	/* The ClientHello is good; what does the server say? */
	enum fp_side ss;
	struct tls_server sv = {0};
	if (s->len == 0) {
		ss = fp_wait(x, s, c, 1);
	} else {
		/* A handshake or alert record header is enough: Zeek confirms on the
		 * ClientHello, and its modbus-p502-mixed trace has a server answering
		 * with an empty handshake record. */
		uint8_t t = s->data[0];
		bool alert = t == 0x15;
		enum fp_partial sh = tls_record_head(s->data, s->len, alert ? 0x15 : 0x16);
		if (sh == FP_PART_NO && s->len >= 5 && (t == 0x15 || t == 0x16) &&
		    s->data[1] == 3 && s->data[2] <= 4) {
			ss = FP_YES;
			sv.flight_done = true; /* nothing we can parse follows */
		} else if (sh == FP_PART_NO) {
			ss = FP_NO;
		} else if (sh == FP_PART_MORE) {
			ss = fp_wait(x, s, c, 5);
		} else {
			ss = FP_YES;
			if (alert)
				sv.flight_done = true; /* refused: no certificate follows */
			else
				tls_server_scan(s->data, s->len, &sv);
		}
	}
	struct tls_hello h;
	tls_client_hello(c->data, c->len, &h);
	const uint8_t *cn = NULL;
	size_t cn_len = 0;
	bool anydesk = h.anydesk_alpn;
	if (ss == FP_YES) {
		/* Certificates in cleartext (TLS <= 1.2): the server's, and the
		 * client's after its hello. */
		bool cert = anydesk_cert(s->data, s->len, &cn, &cn_len);
		size_t crec = 5 + (size_t)fp_be16(c->data + 3);
		if (!cert && crec < c->len)
			cert = anydesk_cert(c->data + crec, c->len - crec, &cn, &cn_len);
		anydesk = anydesk || cert;
		/* Wait for the server's flight unless it can no longer show a name. */
		if (!anydesk && !sv.tls13 && !sv.flight_done && s->len < CONTENT_BYTES - 24 &&
		    fp_dir_open(x, s, c, CONTENT_BYTES))
			return SERVICE_NEED_MORE;
	}
	enum service_confidence conf;
	bool both;
	enum service_verdict r = fp_combine(FP_YES, ss, &conf, &both);
	if (r != SERVICE_MATCH)
		return r;
	if (anydesk)
		fp_set(m, SVC_ANYDESK, conf, h.anydesk_alpn ? "anydesk-alpn" : "anydesk-cert", 0, both);
	else
		fp_set(m, SVC_SSL, conf, "tls-client-hello", 0, both);
	if (h.sni || h.alpn_len || cn) {
		/* Budgets: 160 + 100 + 80 and the keys fit SERVICE_DETAIL_MAX. */
		char sni[FP_JSON_STR_MAX], alpn[100], cnj[80];
		if (h.sni)
			fp_json_string(sni, sizeof(sni), h.sni, h.sni_len);
		if (h.alpn_len)
			fp_json_string(alpn, sizeof(alpn), (const uint8_t *)h.alpn, h.alpn_len);
		if (cn)
			fp_json_string(cnj, sizeof(cnj), cn, cn_len);
		struct fp_member mem[] = {{"sni", h.sni ? sni : NULL},
					  {"alpn", h.alpn_len ? alpn : NULL},
					  {"cert_cn", cn ? cnj : NULL}};
		fp_detail_object(m, "tls", mem, 3);
	}
	return r;
}

/* ---- STARTTLS ----
 * A text protocol upgraded in place: the client sends SMTP/IMAP "STARTTLS",
 * POP3 "STLS" or FTP "AUTH TLS"/"AUTH SSL" in a line, and its next bytes
 * are a ClientHello; or LDAP's StartTLS extended request (OID
 * 1.3.6.1.4.1.1466.20037) followed by one. The server answers with text (or
 * an LDAP response) and then a ServerHello. Zeek logs these "imap,ssl",
 * "ldap_tcp,ssl"...; we name the TLS part. */
static bool starttls_text(uint8_t c)
{
	return fp_printable(c) || c == '\r' || c == '\t';
}

/* The verb starts the line (SMTP, POP3, FTP) or follows IMAP's tag. */
static bool starttls_verb(const uint8_t *line, size_t n)
{
	static const char *const verbs[] = {"STARTTLS", "STLS", "AUTH TLS", "AUTH SSL"};
	size_t starts[2] = {0, SIZE_MAX};
	for (size_t i = 0; i < n && i < 32; i++) {
		if (line[i] == ' ') {
			starts[1] = i + 1;
			break;
		}
	}
	for (size_t k = 0; k < 2; k++) {
		if (starts[k] >= n)
			continue;
		uint8_t c0 = line[starts[k]] | 0x20;
		if (c0 != 's' && c0 != 'a')
			continue;
		for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++) {
			bool full;
			if (fp_prefix(line + starts[k], n - starts[k], verbs[v], true, &full) && full)
				return true;
		}
	}
	return false;
}

/* Where the text lines end and TLS starts: the offset of a 0x16 at a line
 * start after the upgrade verb (need_verb) or after any text. SIZE_MAX if
 * not (yet); *bad when the stream is not text lines. */
static size_t starttls_after_text(const uint8_t *p, size_t n, bool need_verb, bool *bad)
{
	bool verb = false;
	size_t i = 0;
	*bad = false;
	for (unsigned lines = 0; i < n && lines < 64; lines++) {
		if (p[i] == 0x16 && i > 0 && (verb || !need_verb))
			return i;
		size_t st = i;
		while (i < n && p[i] != '\n') {
			if (!starttls_text(p[i])) {
				*bad = true;
				return SIZE_MAX;
			}
			i++;
		}
		if (i >= n)
			break;
		verb = verb || (need_verb && starttls_verb(p + st, i - st));
		i++;
	}
	return SIZE_MAX;
}

/* BER length at p[1..]: the whole TLV's size, or 0. */
static size_t ber_tlv_size(const uint8_t *p, size_t n)
{
	if (n < 2)
		return 0;
	if (p[1] < 0x80)
		return 2 + (size_t)p[1];
	size_t k = p[1] & 0x7f;
	if (k == 0 || k > 3 || n < 2 + k)
		return 0;
	size_t len = 0;
	for (size_t i = 0; i < k; i++)
		len = len << 8 | p[2 + i];
	return 2 + k + len;
}

/* LDAP: a first message (SEQUENCE) naming the StartTLS OID, then TLS. */
static size_t starttls_after_ldap(const uint8_t *p, size_t n, bool need_oid, bool *bad)
{
	static const char oid[] = "1.3.6.1.4.1.1466.20037";
	*bad = false;
	if (n == 0)
		return SIZE_MAX;
	if (p[0] != 0x30) {
		*bad = true;
		return SIZE_MAX;
	}
	size_t m = ber_tlv_size(p, n);
	if (m == 0 || m > 256) {
		*bad = m == 0 && n >= 5;
		return SIZE_MAX;
	}
	if (m > n)
		return SIZE_MAX;
	if (need_oid && fp_find(p, m, oid, sizeof(oid) - 1) < 0) {
		*bad = true;
		return SIZE_MAX;
	}
	return m < n ? m : SIZE_MAX;
}

static bool starttls_hello(const uint8_t *p, size_t n, uint8_t type, bool *more)
{
	*more = false;
	enum fp_partial h = tls_record_head(p, n, 0x16);
	if (h == FP_PART_MORE || (h == FP_PART_YES && n < 6)) {
		*more = true;
		return false;
	}
	return h == FP_PART_YES && p[5] == type;
}

enum service_verdict fp_starttls(const struct fp_ctx *x, struct service_match *m)
{
	const struct content_dir *c = x->v->orig, *s = x->v->resp;
	if (c->len == 0)
		return fp_dir_open(x, c, s, 1) ? SERVICE_NEED_MORE : SERVICE_NO_MATCH;
	bool ldap = c->data[0] == 0x30, bad, more, simple;
	const char *method;
	if (!ldap && http_request(c->data, c->len, &method, &simple) == FP_PART_YES)
		return SERVICE_NO_MATCH; /* HTTP has its own upgrade (CONNECT) */
	size_t at = ldap ? starttls_after_ldap(c->data, c->len, true, &bad)
			 : starttls_after_text(c->data, c->len, true, &bad);
	if (bad)
		return SERVICE_NO_MATCH;
	/* The server talks the same kind of protocol before the upgrade. */
	bool sbad;
	size_t sat = ldap ? starttls_after_ldap(s->data, s->len, false, &sbad)
			  : starttls_after_text(s->data, s->len, false, &sbad);
	if (sbad)
		return SERVICE_NO_MATCH;
	if (at == SIZE_MAX)
		return fp_dir_open(x, c, s, CONTENT_BYTES) ? SERVICE_NEED_MORE : SERVICE_NO_MATCH;
	if (!starttls_hello(c->data + at, c->len - at, 1, &more))
		return more && fp_dir_open(x, c, s, CONTENT_BYTES) ? SERVICE_NEED_MORE
								   : SERVICE_NO_MATCH;
	enum fp_side ss;
	if (sat != SIZE_MAX)
		ss = starttls_hello(s->data + sat, s->len - sat, 2, &more) ? FP_YES
		     : more ? fp_wait(x, s, c, CONTENT_BYTES)
			    : FP_ABSENT;
	else
		ss = fp_wait(x, s, c, CONTENT_BYTES);
	enum service_confidence conf;
	bool both;
	enum service_verdict r = fp_combine(FP_YES, ss, &conf, &both);
	if (r == SERVICE_MATCH)
		fp_set(m, SVC_SSL, conf, ldap ? "tls-starttls-ldap" : "tls-starttls", at, both);
	return r;
}
