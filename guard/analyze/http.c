#include "analyze/http.h"

#include <stdio.h>
#include <string.h>

enum http_dir_state {
	HD_START,      /* expecting a request or status line (blank lines skipped) */
	HD_HEADERS,    /* header lines until the empty line */
	HD_BODY,       /* body bytes: by length or until the connection closes */
	HD_CHUNK_SIZE, /* a chunk-size line */
	HD_CHUNK_DATA, /* body_left bytes of chunk data */
	HD_CHUNK_END,  /* the CRLF after chunk data */
	HD_TRAILER,    /* trailer lines after the last chunk */
	HD_DEAD,       /* not HTTP any more (violation, tunnel or finished) */
};

enum http_body_mode { HB_LENGTH, HB_UNTIL_CLOSE };

#define DIR_REQ 0
#define DIR_RESP 1

/* Values and sizes we refuse to believe: a length past this is bad framing. */
#define HTTP_LENGTH_LIMIT ((uint64_t)1 << 62)

static const char *const known_methods[] = {
	"GET",	 "POST",     "HEAD",	  "OPTIONS", "PUT",    "DELETE",    "TRACE", "CONNECT",
	"PATCH", "PROPFIND", "PROPPATCH", "MKCOL",   "COPY",   "MOVE",	    "LOCK",  "UNLOCK",
	"POLL",	 "REPORT",   "SUBSCRIBE", "BMOVE",   "SEARCH", "BITS_POST",
};

static const char *const proxy_headers[] = {
	"FORWARDED", "X-FORWARDED-FOR",	 "X-FORWARDED-FROM", "CLIENT-IP",
	"VIA",	     "XROXY-CONNECTION", "PROXY-CONNECTION",
};

/* ---- small string helpers (bounded, no locale) ---- */

static char lower_ascii(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower_ascii(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* RFC 7230 tchar. */
static bool is_token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static bool ieq_n(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (lower_ascii(a[i]) != lower_ascii(b[i]))
			return false;
	return true;
}

/* Case-insensitive substring test over a bounded value. */
static bool icontains(const char *s, size_t n, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = 0; m <= n && i <= n - m; i++)
		if (ieq_n(s + i, m, needle))
			return true;
	return false;
}

static bool known_method(const char *m, size_t n)
{
	for (size_t i = 0; i < sizeof(known_methods) / sizeof(known_methods[0]); i++)
		if (strlen(known_methods[i]) == n && memcmp(known_methods[i], m, n) == 0)
			return true;
	return false;
}

enum http_probe http_probe_request(const uint8_t *data, size_t len)
{
	const char *p = (const char *)data;
	bool maybe = false;
	for (size_t i = 0; i < sizeof(known_methods) / sizeof(known_methods[0]); i++) {
		size_t m = strlen(known_methods[i]);
		if (len >= m + 1) {
			if (memcmp(p, known_methods[i], m) == 0 && p[m] == ' ')
				return HTTP_PROBE_YES;
		} else if (memcmp(p, known_methods[i], len) == 0) {
			maybe = true; /* a prefix of "METHOD " so far */
		}
	}
	return maybe ? HTTP_PROBE_MORE : HTTP_PROBE_NO;
}

/* ---- records ---- */

static void field_set(struct http_state *st, struct http_record *r, char *dst, size_t cap,
		      const char *src, size_t n)
{
	if (n >= cap) {
		n = cap - 1;
		r->truncated = true;
		st->stats.fields_truncated++;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

#define FIELD_SET(st, r, field, src, n) \
	field_set((st), (r), (r)->field, sizeof((r)->field), (src), (n))

static void record_init(const struct http_state *st, struct http_record *r, kg_time ts,
			uint32_t depth)
{
	memset(r, 0, sizeof(*r));
	r->ts = ts;
	memcpy(r->uid, st->uid, sizeof(r->uid));
	r->orig_h = st->orig_h;
	r->resp_h = st->resp_h;
	r->orig_p = st->orig_p;
	r->resp_p = st->resp_p;
	r->trans_depth = depth;
	r->req_content_range = (struct http_byte_range){-1, -1, -1};
	r->resp_content_range = (struct http_byte_range){-1, -1, -1};
	r->body_offset = -1;
}

static void emit(struct http_state *st, struct http_record *r, const struct http_sink *sink)
{
	st->stats.transactions++;
	if (!r->response_seen)
		st->stats.unanswered++;
	if (sink != NULL && sink->fn != NULL)
		sink->fn(sink->ctx, r);
}

static struct http_record *req_record(struct http_state *st)
{
	return st->req_open && !st->req_detached ? &st->pending[st->req_slot] : NULL;
}

static struct http_record *resp_record(struct http_state *st)
{
	if (!st->resp_open)
		return NULL;
	if (st->orphan_open)
		return &st->orphan;
	return st->resp_detached ? NULL : &st->pending[st->head];
}

/* The first bytes of the response entity. For multipart/byteranges they
 * are those after the first part's headers, at that part's range start. */
static void record_body_magic(struct http_state *st, struct http_record *r)
{
	const uint8_t *p = st->body_prefix;
	size_t n = st->body_prefix_len;
	if (n == 0)
		return;
	if (icontains(r->resp_content_type, strlen(r->resp_content_type), "multipart/byteranges")) {
		/* Skip the preamble and boundary line, then the part headers. */
		size_t i = 0, line_start = 0;
		bool in_part = false;
		int64_t part_first = -1;
		for (; i < n; i++) {
			if (p[i] != '\n')
				continue;
			size_t l = i - line_start;
			const char *line = (const char *)p + line_start;
			if (l > 0 && line[l - 1] == '\r')
				l--;
			line_start = i + 1;
			if (!in_part) {
				in_part = l >= 2 && line[0] == '-' && line[1] == '-';
				continue;
			}
			if (l == 0) {
				size_t avail = n - line_start;
				if (avail > 2)
					avail = 2;
				memcpy(r->body_magic, p + line_start, avail);
				r->body_magic_len = (uint8_t)avail;
				r->body_offset = part_first;
				return;
			}
			const char *key = "content-range:";
			if (l > strlen(key) && ieq_n(line, strlen(key), key)) {
				const char *v = line + strlen(key);
				size_t vl = l - strlen(key);
				while (vl > 0 && (*v == ' ' || *v == '\t')) {
					v++;
					vl--;
				}
				if (vl > 6 && ieq_n(v, 6, "bytes ")) {
					int64_t x = 0;
					size_t k = 6;
					bool any = false;
					while (k < vl && is_digit(v[k]) &&
					       x < (int64_t)HTTP_LENGTH_LIMIT) {
						x = x * 10 + (v[k++] - '0');
						any = true;
					}
					if (any)
						part_first = x;
				}
			}
		}
		return; /* first part's headers not within the prefix */
	}
	r->body_magic_len = (uint8_t)(n < 2 ? n : 2);
	memcpy(r->body_magic, p, r->body_magic_len);
	if (r->status_code == 206)
		r->body_offset = r->resp_content_range.first;
	else
		r->body_offset = 0;
}

/* Drops the oldest pending record (emitted unanswered or half answered). */
static void pending_pop(struct http_state *st, const struct http_sink *sink, bool do_emit)
{
	if (st->npending == 0)
		return;
	if (do_emit)
		emit(st, &st->pending[st->head], sink);
	if (st->req_open && st->req_slot == st->head)
		st->req_detached = true;
	st->head = (uint8_t)((st->head + 1) % HTTP_PENDING_MAX);
	st->npending--;
}

/* ---- message ends ---- */

static void dir_reset_message(struct http_dir *d)
{
	d->state = HD_START;
	d->chunked = false;
	d->has_length = false;
	d->length = 0;
	d->body_left = 0;
}

static void request_done(struct http_state *st)
{
	st->req_open = false;
	st->req_detached = false;
	if (st->dir[DIR_REQ].state != HD_DEAD)
		dir_reset_message(&st->dir[DIR_REQ]);
}

/* The response in progress is over; `complete` when its framing said so. */
static void response_done(struct http_state *st, bool complete, const struct http_sink *sink)
{
	struct http_record *r = resp_record(st);
	if (r != NULL) {
		r->response_complete = complete;
		record_body_magic(st, r);
	}
	if (st->orphan_open) {
		emit(st, &st->orphan, sink);
		st->orphan_open = false;
	} else if (st->resp_detached) {
		st->resp_detached = false;
	} else {
		pending_pop(st, sink, true);
	}
	st->resp_open = false;
	st->body_prefix_len = 0;
	if (st->dir[DIR_RESP].state != HD_DEAD)
		dir_reset_message(&st->dir[DIR_RESP]);
}

static void message_done(struct http_state *st, int dir, const struct http_sink *sink)
{
	if (dir == DIR_REQ)
		request_done(st);
	else
		response_done(st, true, sink);
}

static void dir_stop(struct http_state *st, int dir)
{
	st->dir[dir].state = HD_DEAD;
	st->dir[dir].line_len = 0;
}

/* The whole connection is no longer HTTP (101, CONNECT 200). */
static void enter_tunnel(struct http_state *st)
{
	st->tunnel = true;
	dir_stop(st, DIR_REQ);
	dir_stop(st, DIR_RESP);
}

static void violation(struct http_state *st, int dir)
{
	st->stats.violations++;
	dir_stop(st, dir);
}

/* ---- start lines ---- */

/* Zeek's unescape_URI(): %XX and %uXXXX decoded, a doubled '%' dropped,
 * broken escapes kept as they are. */
static void uri_unescape(struct http_state *st, struct http_record *r, const char *s, size_t n)
{
	char out[HTTP_URI_MAX] = {0};
	size_t o = 0;
	bool cut = false;
	for (size_t i = 0; i < n; i++) {
		char tmp[2];
		size_t tn = 0;
		if (s[i] != '%') {
			tmp[tn++] = s[i];
		} else if (i + 1 == n) {
			tmp[tn++] = '%';
		} else if (i + 2 == n) {
			tmp[tn++] = '%';
			tmp[tn++] = s[i + 1];
			i++;
		} else if (s[i + 1] == '%') {
			continue; /* the first of "%%" is dropped, the second is looked at next */
		} else if (hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
			tmp[tn++] = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
			i += 2;
		} else if (n - i >= 6 && s[i + 1] == 'u' && hex_value(s[i + 2]) >= 0 &&
			   hex_value(s[i + 3]) >= 0 && hex_value(s[i + 4]) >= 0 &&
			   hex_value(s[i + 5]) >= 0) {
			if (!(s[i + 2] == '0' && s[i + 3] == '0'))
				tmp[tn++] = (char)(hex_value(s[i + 2]) * 16 + hex_value(s[i + 3]));
			tmp[tn++] = (char)(hex_value(s[i + 4]) * 16 + hex_value(s[i + 5]));
			i += 5;
		} else {
			tmp[tn++] = '%';
			tmp[tn++] = s[i + 1];
			i++;
		}
		for (size_t k = 0; k < tn; k++) {
			/* A NUL would end our C string early; keep it visible as Zeek
			 * would escape it. */
			if (o + 1 >= sizeof(out)) {
				cut = true;
				break;
			}
			out[o++] = tmp[k] == '\0' ? '?' : tmp[k];
		}
		if (cut)
			break;
	}
	if (cut) {
		r->truncated = true;
		st->stats.fields_truncated++;
	}
	memcpy(r->uri, out, o);
	r->uri[o] = '\0';
}

/* "HTTP/1.1" -> "1.1". */
static bool parse_version(const char *s, size_t n, char out[HTTP_VERSION_MAX])
{
	if (n < 8 || n >= 5 + HTTP_VERSION_MAX || memcmp(s, "HTTP/", 5) != 0)
		return false;
	size_t k = 5;
	if (!is_digit(s[k]))
		return false;
	while (k < n && is_digit(s[k]))
		k++;
	if (k >= n || s[k] != '.')
		return false;
	k++;
	if (k >= n || !is_digit(s[k]))
		return false;
	while (k < n && is_digit(s[k]))
		k++;
	if (k != n)
		return false;
	memcpy(out, s + 5, n - 5);
	out[n - 5] = '\0';
	return true;
}

static bool request_line(struct http_state *st, const char *line, size_t n, kg_time ts,
			 const struct http_sink *sink)
{
	size_t m = 0;
	while (m < n && is_token_char(line[m]))
		m++;
	if (m == 0 || m >= HTTP_METHOD_MAX || m >= n || line[m] != ' ')
		return false;
	size_t u = m;
	while (u < n && line[u] == ' ')
		u++;
	size_t end = n;
	while (end > u && (line[end - 1] == ' ' || line[end - 1] == '\t'))
		end--;
	if (u >= end)
		return false;
	/* The version is the last word, when it is "HTTP/x.y"; a URI may
	 * contain blanks from a broken client. */
	char version[HTTP_VERSION_MAX] = "0.9";
	size_t uri_end = end;
	size_t sp = end;
	while (sp > u && line[sp - 1] != ' ')
		sp--;
	if (sp > u) {
		if (!parse_version(line + sp, end - sp, version))
			return false;
		uri_end = sp - 1;
		while (uri_end > u && line[uri_end - 1] == ' ')
			uri_end--;
	} else if (!known_method(line, m)) {
		/* A one-word request (HTTP/0.9) only with a method we know, so
		 * that random text does not pass for a request. */
		return false;
	}
	if (uri_end <= u)
		return false;

	if (st->dir[DIR_REQ].hunting) {
		st->dir[DIR_REQ].hunting = false;
		st->stats.gap_resyncs++;
	}
	if (st->npending == HTTP_PENDING_MAX) {
		/* Flush the oldest, as Zeek does past max_pending_requests. */
		st->stats.pending_overflow++;
		if (st->resp_open && !st->orphan_open)
			st->resp_detached = true;
		pending_pop(st, sink, true);
	}
	st->req_slot = (uint8_t)((st->head + st->npending) % HTTP_PENDING_MAX);
	st->npending++;
	st->req_open = true;
	st->req_detached = false;
	struct http_record *r = &st->pending[st->req_slot];
	record_init(st, r, ts, ++st->depth);
	r->request_seen = true;
	FIELD_SET(st, r, method, line, m);
	uri_unescape(st, r, line + u, uri_end - u);
	memcpy(r->request_version, version, sizeof(version));
	return true;
}

static bool status_line(struct http_state *st, const char *line, size_t n, kg_time ts)
{
	size_t v = 0;
	while (v < n && line[v] != ' ')
		v++;
	char version[HTTP_VERSION_MAX] = {0}; /* copied whole into the record */
	if (!parse_version(line, v, version))
		return false;
	size_t c = v;
	while (c < n && line[c] == ' ')
		c++;
	if (c + 3 > n || !is_digit(line[c]) || !is_digit(line[c + 1]) || !is_digit(line[c + 2]) ||
	    (c + 3 < n && line[c + 3] != ' '))
		return false;
	uint16_t code =
		(uint16_t)((line[c] - '0') * 100 + (line[c + 1] - '0') * 10 + (line[c + 2] - '0'));
	size_t m = c + 3;
	while (m < n && line[m] == ' ')
		m++;
	size_t mend = n;
	while (mend > m && (line[mend - 1] == ' ' || line[mend - 1] == '\t'))
		mend--;

	if (st->dir[DIR_RESP].hunting) {
		st->dir[DIR_RESP].hunting = false;
		st->stats.gap_resyncs++;
	}
	if (!st->resp_open) {
		st->resp_open = true;
		st->body_prefix_len = 0;
		if (st->npending == 0) {
			st->stats.orphan_responses++;
			st->orphan_open = true;
			record_init(st, &st->orphan, ts, ++st->depth);
		}
	}
	struct http_record *r = resp_record(st);
	if (r != NULL) {
		r->response_seen = true;
		r->status_code = code;
		FIELD_SET(st, r, status_msg, line + m, mend - m);
		memcpy(r->version, version, sizeof(version));
		if (code >= 100 && code <= 199) {
			r->info_code = code;
			FIELD_SET(st, r, info_msg, line + m, mend - m);
		}
	}
	return true;
}

/* ---- headers ---- */

static int64_t parse_u63(const char *s, size_t n, size_t *used)
{
	uint64_t x = 0;
	size_t k = 0;
	while (k < n && is_digit(s[k])) {
		x = x * 10 + (uint64_t)(s[k] - '0');
		if (x >= HTTP_LENGTH_LIMIT)
			return -1;
		k++;
	}
	if (k == 0)
		return -1;
	*used = k;
	return (int64_t)x;
}

/* "bytes a-b/total"; the range or the total may be "*" (unknown). */
static void parse_content_range(const char *v, size_t n, struct http_byte_range *out)
{
	*out = (struct http_byte_range){-1, -1, -1};
	if (n < 6 || !ieq_n(v, 6, "bytes "))
		return;
	size_t k = 6, used;
	while (k < n && v[k] == ' ')
		k++;
	if (k < n && v[k] == '*') {
		k++;
	} else {
		int64_t a = parse_u63(v + k, n - k, &used);
		if (a < 0)
			return;
		k += used;
		if (k >= n || v[k] != '-')
			return;
		k++;
		int64_t b = parse_u63(v + k, n - k, &used);
		if (b < 0 || b < a)
			return;
		k += used;
		out->first = a;
		out->last = b;
	}
	if (k < n && v[k] == '/') {
		k++;
		if (k < n && v[k] != '*') {
			int64_t t = parse_u63(v + k, n - k, &used);
			if (t >= 0)
				out->total = t;
		}
	}
}

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (is_digit(c))
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Basic credentials: the user name only (Zeek does not keep passwords by
 * default either). */
static void basic_auth_user(struct http_state *st, struct http_record *r, const char *v, size_t n)
{
	if (n < 6 || !ieq_n(v, 6, "basic "))
		return;
	size_t k = 6;
	while (k < n && (v[k] == ' ' || v[k] == '\t'))
		k++;
	char dec[HTTP_LINE_MAX] = {0};
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	bool ok = true;
	for (; k < n; k++) {
		if (v[k] == '=')
			break;
		int x = b64_value(v[k]);
		if (x < 0) {
			ok = false;
			break;
		}
		acc = (acc << 6) | (uint32_t)x;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < sizeof(dec))
				dec[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	const char *colon = ok ? memchr(dec, ':', o) : NULL;
	if (colon != NULL) {
		FIELD_SET(st, r, username, dec, (size_t)(colon - dec));
	} else {
		/* Zeek's text for credentials it cannot split. */
		char tmp[HTTP_USERNAME_MAX + 1];
		int w = snprintf(tmp, sizeof(tmp), "<problem-decoding> (%.*s)",
				 (int)(n < sizeof(tmp) ? n : sizeof(tmp)), v);
		size_t wn = w < 0 ? 0 : (size_t)w;
		FIELD_SET(st, r, username, tmp, wn < sizeof(tmp) ? wn : sizeof(tmp) - 1);
	}
}

static void proxied_add(struct http_state *st, struct http_record *r, const char *name,
			const char *v, size_t n)
{
	char item[HTTP_PROXIED_MAX];
	int w = snprintf(item, sizeof(item), "%s%s -> %.*s", r->proxied[0] ? "\n" : "", name,
			 (int)(n < sizeof(item) ? n : sizeof(item)), v);
	size_t have = strlen(r->proxied);
	size_t add = w < 0 ? 0 : (size_t)w;
	if (have + add >= sizeof(r->proxied)) {
		r->truncated = true;
		st->stats.fields_truncated++;
		return;
	}
	memcpy(r->proxied + have, item, add + 1);
}

/* Content-Length and Transfer-Encoding: how the message body ends, in
 * either direction. */
static void framing_header(struct http_state *st, struct http_dir *d, const char *name, size_t nl,
			   const char *v, size_t vl)
{
	size_t used;
	if (ieq_n(name, nl, "content-length")) {
		int64_t x = parse_u63(v, vl, &used);
		if (x < 0 || used != vl)
			st->stats.bad_framing++;
		else if (!d->has_length) {
			d->has_length = true;
			d->length = (uint64_t)x;
		}
	} else if (ieq_n(name, nl, "transfer-encoding")) {
		if (icontains(v, vl, "chunked"))
			d->chunked = true;
	}
}

static void request_header(struct http_state *st, struct http_dir *d, const char *name, size_t nl,
			   const char *v, size_t vl)
{
	struct http_record *r = req_record(st);
	framing_header(st, d, name, nl, v, vl);
	if (r == NULL)
		return;
	if (ieq_n(name, nl, "host"))
		FIELD_SET(st, r, host, v, vl);
	else if (ieq_n(name, nl, "user-agent"))
		FIELD_SET(st, r, user_agent, v, vl);
	else if (ieq_n(name, nl, "referer"))
		FIELD_SET(st, r, referrer, v, vl);
	else if (ieq_n(name, nl, "origin"))
		FIELD_SET(st, r, origin, v, vl);
	else if (ieq_n(name, nl, "range"))
		FIELD_SET(st, r, range, v, vl);
	else if (ieq_n(name, nl, "content-type"))
		FIELD_SET(st, r, req_content_type, v, vl);
	else if (ieq_n(name, nl, "content-range"))
		parse_content_range(v, vl, &r->req_content_range);
	else if (ieq_n(name, nl, "bits-packet-type"))
		FIELD_SET(st, r, bits_packet_type, v, vl);
	else if (ieq_n(name, nl, "bits-session-id"))
		FIELD_SET(st, r, bits_session_id, v, vl);
	else if (ieq_n(name, nl, "bits-supported-protocols"))
		FIELD_SET(st, r, bits_supported_protocols, v, vl);
	else if (ieq_n(name, nl, "content-name"))
		FIELD_SET(st, r, content_name, v, vl);
	else if (ieq_n(name, nl, "authorization") || ieq_n(name, nl, "proxy-authorization"))
		basic_auth_user(st, r, v, vl);
	else {
		for (size_t i = 0; i < sizeof(proxy_headers) / sizeof(proxy_headers[0]); i++) {
			if (ieq_n(name, nl, proxy_headers[i])) {
				proxied_add(st, r, proxy_headers[i], v, vl);
				break;
			}
		}
	}
}

static void response_header(struct http_state *st, struct http_dir *d, const char *name, size_t nl,
			    const char *v, size_t vl)
{
	struct http_record *r = resp_record(st);
	framing_header(st, d, name, nl, v, vl);
	if (r == NULL)
		return;
	if (ieq_n(name, nl, "content-type"))
		FIELD_SET(st, r, resp_content_type, v, vl);
	else if (ieq_n(name, nl, "content-range"))
		parse_content_range(v, vl, &r->resp_content_range);
	else if (ieq_n(name, nl, "bits-packet-type"))
		FIELD_SET(st, r, resp_bits_packet_type, v, vl);
	else if (ieq_n(name, nl, "bits-session-id"))
		FIELD_SET(st, r, resp_bits_session_id, v, vl);
	else if (ieq_n(name, nl, "bits-protocol"))
		FIELD_SET(st, r, resp_bits_protocol, v, vl);
	else if (ieq_n(name, nl, "bits-error-code") || ieq_n(name, nl, "bits-error"))
		FIELD_SET(st, r, bits_error_code, v, vl);
	else if (ieq_n(name, nl, "bits-error-context"))
		FIELD_SET(st, r, bits_error_context, v, vl);
	else if (ieq_n(name, nl, "bits-received-content-range"))
		FIELD_SET(st, r, bits_received_range, v, vl);
}

static void header_line(struct http_state *st, int dir, const char *line, size_t n)
{
	struct http_dir *d = &st->dir[dir];
	if (line[0] == ' ' || line[0] == '\t') {
		st->stats.folded_ignored++;
		return;
	}
	const char *colon = memchr(line, ':', n);
	if (colon == NULL)
		return; /* Zeek raises a weird and goes on */
	size_t nl = (size_t)(colon - line);
	while (nl > 0 && (line[nl - 1] == ' ' || line[nl - 1] == '\t'))
		nl--;
	const char *v = colon + 1;
	size_t vl = n - (size_t)(v - line);
	while (vl > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vl--;
	}
	while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (dir == DIR_REQ)
		request_header(st, d, line, nl, v, vl);
	else
		response_header(st, d, line, nl, v, vl);
}

/* The empty line after the headers: how long is the body? */
static void headers_done(struct http_state *st, int dir, const struct http_sink *sink)
{
	struct http_dir *d = &st->dir[dir];
	if (dir == DIR_REQ) {
		struct http_record *r = req_record(st);
		bool connect = r != NULL && strcmp(r->method, "CONNECT") == 0;
		if (d->chunked) {
			d->state = HD_CHUNK_SIZE;
		} else if (d->has_length && d->length > 0) {
			d->state = HD_BODY;
			d->body_mode = HB_LENGTH;
			d->body_left = d->length;
		} else {
			request_done(st);
		}
		/* What follows a CONNECT is the tunnel, not more requests. */
		if (connect && st->dir[DIR_REQ].state == HD_START)
			dir_stop(st, DIR_REQ);
		return;
	}

	struct http_record *r = resp_record(st);
	uint16_t code = r != NULL ? r->status_code : 0;
	const struct http_record *req = st->orphan_open || st->resp_detached || st->npending == 0
						? NULL
						: &st->pending[st->head];
	if (code == 101 ||
	    (req != NULL && strcmp(req->method, "CONNECT") == 0 && code >= 200 && code <= 299)) {
		response_done(st, true, sink);
		enter_tunnel(st);
		return;
	}
	if (code >= 100 && code <= 199) {
		/* Informational: the real response to the same request follows. */
		dir_reset_message(d);
		return;
	}
	bool no_body =
		code == 204 || code == 304 || (req != NULL && strcmp(req->method, "HEAD") == 0);
	if (no_body) {
		response_done(st, true, sink);
	} else if (d->chunked) {
		d->state = HD_CHUNK_SIZE;
	} else if (d->has_length) {
		if (d->length == 0) {
			response_done(st, true, sink);
		} else {
			d->state = HD_BODY;
			d->body_mode = HB_LENGTH;
			d->body_left = d->length;
		}
	} else {
		d->state = HD_BODY;
		d->body_mode = HB_UNTIL_CLOSE;
	}
}

/* ---- line dispatch ---- */

static void chunk_size_line(struct http_state *st, int dir, const char *line, size_t n,
			    const struct http_sink *sink);

static void lost_sync(struct http_state *st, int dir, const struct http_sink *sink)
{
	struct http_dir *d = &st->dir[dir];
	if (dir == DIR_REQ) {
		if (st->req_open)
			request_done(st);
	} else if (st->resp_open) {
		response_done(st, false, sink);
	}
	dir_reset_message(d);
	d->line_len = 0;
	d->line_overflow = false;
	d->hunting = true;
}

static void process_line(struct http_state *st, int dir, const char *line, size_t n, kg_time ts,
			 const struct http_sink *sink)
{
	struct http_dir *d = &st->dir[dir];
	switch (d->state) {
	case HD_START:
		if (n == 0)
			return; /* blank lines between messages are tolerated */
		if (dir == DIR_REQ) {
			if (!request_line(st, line, n, ts, sink)) {
				if (!d->hunting)
					violation(st, dir);
				return;
			}
		} else {
			/* An HTTP/0.9 request gets a bare body until close. */
			const struct http_record *req =
				st->npending > 0 && !st->resp_open ? &st->pending[st->head] : NULL;
			if (req != NULL && strcmp(req->request_version, "0.9") == 0 &&
			    !d->hunting) {
				st->resp_open = true;
				st->body_prefix_len = 0;
				st->pending[st->head].response_seen = true;
				d->state = HD_BODY;
				d->body_mode = HB_UNTIL_CLOSE;
				return; /* this line is body; counted by the caller */
			}
			if (!status_line(st, line, n, ts)) {
				if (!d->hunting)
					violation(st, dir);
				return;
			}
		}
		d->state = HD_HEADERS;
		d->chunked = false;
		d->has_length = false;
		d->length = 0;
		return;
	case HD_HEADERS:
		if (n == 0)
			headers_done(st, dir, sink);
		else
			header_line(st, dir, line, n);
		return;
	case HD_CHUNK_SIZE:
		chunk_size_line(st, dir, line, n, sink);
		return;
	case HD_CHUNK_END:
		if (n != 0) {
			st->stats.bad_framing++;
			lost_sync(st, dir, sink);
			return;
		}
		d->state = HD_CHUNK_SIZE;
		return;
	case HD_TRAILER:
		if (n == 0)
			message_done(st, dir, sink);
		return;
	default:
		return;
	}
}

static void chunk_size_line(struct http_state *st, int dir, const char *line, size_t n,
			    const struct http_sink *sink)
{
	struct http_dir *d = &st->dir[dir];
	uint64_t x = 0;
	size_t k = 0;
	while (k < n && (line[k] == ' ' || line[k] == '\t'))
		k++;
	size_t start = k;
	while (k < n && hex_value(line[k]) >= 0) {
		x = x * 16 + (uint64_t)hex_value(line[k]);
		if (x >= HTTP_LENGTH_LIMIT)
			break;
		k++;
	}
	while (k < n && (line[k] == ' ' || line[k] == '\t'))
		k++;
	if (k == start || x >= HTTP_LENGTH_LIMIT || (k < n && line[k] != ';')) {
		st->stats.bad_framing++;
		lost_sync(st, dir, sink);
		return;
	}
	if (x == 0) {
		d->state = HD_TRAILER;
	} else {
		d->state = HD_CHUNK_DATA;
		d->body_left = x;
	}
}

/* ---- bodies ---- */

static void body_bytes(struct http_state *st, int dir, const uint8_t *p, size_t n)
{
	if (dir == DIR_REQ) {
		struct http_record *r = req_record(st);
		if (r != NULL)
			r->request_body_len += n;
		return;
	}
	struct http_record *r = resp_record(st);
	if (r != NULL)
		r->response_body_len += n;
	if (st->body_prefix_len < HTTP_BODY_PREFIX) {
		size_t room = HTTP_BODY_PREFIX - st->body_prefix_len;
		size_t c = n < room ? n : room;
		memcpy(st->body_prefix + st->body_prefix_len, p, c);
		st->body_prefix_len = (uint16_t)(st->body_prefix_len + c);
	}
}

/* One body-state step; returns bytes consumed. */
static size_t body_step(struct http_state *st, int dir, const uint8_t *p, size_t len,
			const struct http_sink *sink)
{
	struct http_dir *d = &st->dir[dir];
	if (d->state == HD_BODY && d->body_mode == HB_UNTIL_CLOSE) {
		body_bytes(st, dir, p, len);
		return len;
	}
	size_t n = d->body_left < len ? (size_t)d->body_left : len;
	body_bytes(st, dir, p, n);
	d->body_left -= n;
	if (d->body_left == 0) {
		if (d->state == HD_CHUNK_DATA)
			d->state = HD_CHUNK_END;
		else
			message_done(st, dir, sink);
	}
	return n;
}

/* One line-state step; returns bytes consumed. */
static size_t line_step(struct http_state *st, int dir, const uint8_t *p, size_t len, kg_time ts,
			const struct http_sink *sink)
{
	struct http_dir *d = &st->dir[dir];
	const uint8_t *nl = memchr(p, '\n', len);
	size_t take = nl != NULL ? (size_t)(nl - p) : len;
	size_t room = HTTP_LINE_MAX - 1 - d->line_len;
	if (take > room)
		d->line_overflow = true; /* the rest of the line is dropped */
	size_t c = take > room ? room : take;
	memcpy(d->line + d->line_len, p, c);
	d->line_len = (uint16_t)(d->line_len + c);
	if (nl == NULL)
		return len;

	size_t n = d->line_len;
	if (n > 0 && d->line[n - 1] == '\r' && !d->line_overflow)
		n--;
	d->line[n] = '\0';
	if (d->line_overflow) {
		st->stats.lines_truncated++;
		struct http_record *r = dir == DIR_REQ ? req_record(st) : resp_record(st);
		if (r != NULL)
			r->truncated = true;
	}
	d->line_len = 0;
	d->line_overflow = false;
	uint8_t before = d->state;
	process_line(st, dir, d->line, n, ts, sink);
	/* An HTTP/0.9 response starts with this very line: count it as body. */
	if (dir == DIR_RESP && before == HD_START && d->state == HD_BODY &&
	    d->body_mode == HB_UNTIL_CLOSE && st->resp_open) {
		body_bytes(st, dir, (const uint8_t *)d->line, n);
		body_bytes(st, dir, (const uint8_t *)"\n", 1);
	}
	return take + 1;
}

/* ---- public ---- */

void http_init(struct http_state *st, const char uid[KG_UID_LEN], const struct kg_addr *orig_h,
	       uint16_t orig_p, const struct kg_addr *resp_h, uint16_t resp_p)
{
	memset(st, 0, sizeof(*st));
	memcpy(st->uid, uid, KG_UID_LEN);
	st->uid[KG_UID_LEN - 1] = '\0';
	st->orig_h = *orig_h;
	st->resp_h = *resp_h;
	st->orig_p = orig_p;
	st->resp_p = resp_p;
	dir_reset_message(&st->dir[DIR_REQ]);
	dir_reset_message(&st->dir[DIR_RESP]);
}

void http_feed(struct http_state *st, bool from_orig, const uint8_t *data, size_t len, kg_time ts,
	       const struct http_sink *sink)
{
	int dir = from_orig ? DIR_REQ : DIR_RESP;
	struct http_dir *d = &st->dir[dir];
	while (len > 0 && d->state != HD_DEAD) {
		size_t used;
		if (d->state == HD_BODY || d->state == HD_CHUNK_DATA)
			used = body_step(st, dir, data, len, sink);
		else
			used = line_step(st, dir, data, len, ts, sink);
		data += used;
		len -= used;
	}
}

void http_gap(struct http_state *st, bool from_orig, uint64_t len, kg_time ts,
	      const struct http_sink *sink)
{
	(void)ts;
	int dir = from_orig ? DIR_REQ : DIR_RESP;
	struct http_dir *d = &st->dir[dir];
	st->stats.gaps++;
	if (d->state == HD_DEAD || len == 0)
		return;
	if (d->state == HD_BODY && d->body_mode == HB_UNTIL_CLOSE) {
		st->stats.gap_skipped++;
		return;
	}
	if ((d->state == HD_BODY || d->state == HD_CHUNK_DATA) && len <= d->body_left) {
		/* Still in step: the framing says where the body ends. */
		st->stats.gap_skipped++;
		d->body_left -= len;
		if (d->body_left == 0) {
			if (d->state == HD_CHUNK_DATA)
				d->state = HD_CHUNK_END;
			else
				message_done(st, dir, sink);
		}
		return;
	}
	lost_sync(st, dir, sink);
}

void http_finish(struct http_state *st, kg_time ts, const struct http_sink *sink)
{
	(void)ts;
	for (int dir = DIR_REQ; dir <= DIR_RESP; dir++)
		if (st->dir[dir].hunting) {
			st->stats.gap_abandoned++;
			st->dir[dir].hunting = false;
		}
	if (st->resp_open) {
		struct http_dir *d = &st->dir[DIR_RESP];
		bool by_close = d->state == HD_BODY && d->body_mode == HB_UNTIL_CLOSE;
		response_done(st, by_close, sink);
	}
	st->req_open = false;
	while (st->npending > 0)
		pending_pop(st, sink, true);
	dir_stop(st, DIR_REQ);
	dir_stop(st, DIR_RESP);
}

void http_stats_add(struct http_stats *total, const struct http_stats *s)
{
	total->transactions += s->transactions;
	total->lines_truncated += s->lines_truncated;
	total->fields_truncated += s->fields_truncated;
	total->folded_ignored += s->folded_ignored;
	total->pending_overflow += s->pending_overflow;
	total->unanswered += s->unanswered;
	total->orphan_responses += s->orphan_responses;
	total->violations += s->violations;
	total->bad_framing += s->bad_framing;
	total->gaps += s->gaps;
	total->gap_skipped += s->gap_skipped;
	total->gap_resyncs += s->gap_resyncs;
	total->gap_abandoned += s->gap_abandoned;
}
