#include "out/alert_json.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "out/numfmt.h"

/* Nesting allowed in evidence: deeper is refused rather than recursed into. */
#define EVIDENCE_DEPTH_MAX 16

/* A bounded output cursor: once a write does not fit, it stays failed. */
struct jw {
	char *buf;
	size_t cap, len;
	bool overflow;
};

static void jw_bytes(struct jw *w, const char *s, size_t n)
{
	if (w->overflow || w->len + n + 1 > w->cap) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void jw_str(struct jw *w, const char *s)
{
	jw_bytes(w, s, strlen(s));
}

static void jw_u64(struct jw *w, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	jw_bytes(w, tmp, (size_t)n);
}

/* Length of the well-formed UTF-8 sequence at p (at most n bytes), with its
 * code point in *cp; 0 if the bytes are not UTF-8 (overlong, surrogate, past
 * U+10FFFF, or cut short). */
static size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c = p[0], min;
	size_t len;
	if (c < 0x80) {
		*cp = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2, min = 0x80, c &= 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, min = 0x800, c &= 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, min = 0x10000, c &= 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static const char hexdigits[] = "0123456789abcdef";

static size_t esc_u16(char *out, uint32_t u)
{
	out[0] = '\\';
	out[1] = 'u';
	out[2] = hexdigits[(u >> 12) & 15];
	out[3] = hexdigits[(u >> 8) & 15];
	out[4] = hexdigits[(u >> 4) & 15];
	out[5] = hexdigits[u & 15];
	return 6;
}

/* The escaped form of the character at p (one "unit"): at most 12 bytes.
 * Returns the number of input bytes consumed (>= 1). */
static size_t json_escape_unit(const unsigned char *p, size_t n, char out[12], size_t *outlen)
{
	unsigned char c = p[0];
	uint32_t cp;
	size_t used;

	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		*outlen = 2;
		return 1;
	}
	if (c >= 0x20 && c < 0x7f) {
		out[0] = (char)c;
		*outlen = 1;
		return 1;
	}
	if (c < 0x80) {
		const char *shortform = c == '\b'   ? "\\b"
					: c == '\f' ? "\\f"
					: c == '\n' ? "\\n"
					: c == '\r' ? "\\r"
					: c == '\t' ? "\\t"
						    : NULL;
		if (shortform) {
			memcpy(out, shortform, 2);
			*outlen = 2;
		} else {
			*outlen = esc_u16(out, c);
		}
		return 1;
	}
	used = utf8_decode(p, n, &cp);
	if (used == 0) {
		/* Not UTF-8: the text \xNN, as Zeek's json_escape_utf8 writes it. */
		memcpy(out, "\\\\x", 3);
		out[3] = hexdigits[c >> 4];
		out[4] = hexdigits[c & 15];
		*outlen = 5;
		return 1;
	}
	if (cp < 0x10000) {
		*outlen = esc_u16(out, cp);
	} else {
		cp -= 0x10000;
		esc_u16(out, 0xd800 | (cp >> 10));
		esc_u16(out + 6, 0xdc00 | (cp & 0x3ff));
		*outlen = 12;
	}
	return used;
}

/* Escaped string contents (no quotes); stops before the unit that would take
 * the escaped length past room. */
static void jw_escaped(struct jw *w, const char *s, size_t n, size_t room)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t written = 0;
	while (n > 0) {
		char unit[12];
		size_t ulen, used = json_escape_unit(p, n, unit, &ulen);
		if (written + ulen > room)
			break;
		jw_bytes(w, unit, ulen);
		written += ulen;
		p += used;
		n -= used;
	}
}

static void jw_key(struct jw *w, const char *key)
{
	if (w->len > 1)
		jw_str(w, ",");
	jw_str(w, "\"");
	jw_str(w, key);
	jw_str(w, "\":");
}

/* s is read up to its NUL or maxlen bytes (a field's size), whichever is
 * first; room bounds the escaped output. */
static void jw_string_field(struct jw *w, const char *key, const char *s, size_t maxlen,
			    size_t room)
{
	jw_key(w, key);
	jw_str(w, "\"");
	jw_escaped(w, s, strnlen(s, maxlen), room);
	jw_str(w, "\"");
}

static void jw_opt_string_field(struct jw *w, const char *key, const char *s, size_t maxlen)
{
	if (s != NULL && s[0] != '\0')
		jw_string_field(w, key, s, maxlen, SIZE_MAX);
}

static void jw_u64_field(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_u64(w, v);
}

static void jw_addr_field(struct jw *w, const char *key, const struct kg_addr *a)
{
	char s[KG_ADDR_STRLEN];
	addr_format(a, s);
	jw_string_field(w, key, s, sizeof(s), SIZE_MAX);
}

/* --- evidence: validated and copied compacted, strings re-escaped --------- */

struct jin {
	const char *p, *end;
};

static void jin_ws(struct jin *in)
{
	while (in->p < in->end &&
	       (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
		in->p++;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A JSON string: the escapes it has are kept; raw control bytes and non-ASCII
 * are escaped on the way (a lenient repair of a detector's oversight). */
static bool ev_string(struct jin *in, struct jw *w)
{
	in->p++; /* opening quote */
	jw_str(w, "\"");
	while (in->p < in->end) {
		char c = *in->p;
		if (c == '"') {
			in->p++;
			jw_str(w, "\"");
			return true;
		}
		if (c == '\\') {
			if (in->end - in->p < 2)
				return false;
			char e = in->p[1];
			if (e == 'u') {
				if (in->end - in->p < 6 || !is_hex(in->p[2]) || !is_hex(in->p[3]) ||
				    !is_hex(in->p[4]) || !is_hex(in->p[5]))
					return false;
				jw_bytes(w, in->p, 6);
				in->p += 6;
				continue;
			}
			if (!strchr("\"\\/bfnrt", e) || e == '\0')
				return false;
			jw_bytes(w, in->p, 2);
			in->p += 2;
			continue;
		}
		char unit[12];
		size_t ulen, used = json_escape_unit((const unsigned char *)in->p,
						     (size_t)(in->end - in->p), unit, &ulen);
		jw_bytes(w, unit, ulen);
		in->p += used;
	}
	return false;
}

static bool ev_number(struct jin *in, struct jw *w)
{
	const char *start = in->p, *p = in->p, *end = in->end;
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
	} else if (p < end && *p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return false;
	}
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return false;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return false;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	jw_bytes(w, start, (size_t)(p - start));
	in->p = p;
	return true;
}

static bool ev_literal(struct jin *in, struct jw *w, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(in->end - in->p) < n || memcmp(in->p, lit, n) != 0)
		return false;
	jw_bytes(w, lit, n);
	in->p += n;
	return true;
}

static bool ev_value(struct jin *in, struct jw *w, unsigned depth);

/* An object or an array, after its opening bracket. */
static bool ev_container(struct jin *in, struct jw *w, unsigned depth, bool object)
{
	char close = object ? '}' : ']';
	jw_bytes(w, object ? "{" : "[", 1);
	in->p++;
	jin_ws(in);
	if (in->p < in->end && *in->p == close) {
		in->p++;
		jw_bytes(w, &close, 1);
		return true;
	}
	for (;;) {
		if (object) {
			jin_ws(in);
			if (in->p >= in->end || *in->p != '"' || !ev_string(in, w))
				return false;
			jin_ws(in);
			if (in->p >= in->end || *in->p != ':')
				return false;
			in->p++;
			jw_str(w, ":");
		}
		if (!ev_value(in, w, depth + 1))
			return false;
		jin_ws(in);
		if (in->p >= in->end)
			return false;
		if (*in->p == close) {
			in->p++;
			jw_bytes(w, &close, 1);
			return true;
		}
		if (*in->p != ',')
			return false;
		in->p++;
		jw_str(w, ",");
	}
}

static bool ev_value(struct jin *in, struct jw *w, unsigned depth)
{
	if (depth > EVIDENCE_DEPTH_MAX)
		return false;
	jin_ws(in);
	if (in->p >= in->end)
		return false;
	switch (*in->p) {
	case '{':
		return ev_container(in, w, depth, true);
	case '[':
		return ev_container(in, w, depth, false);
	case '"':
		return ev_string(in, w);
	case 't':
		return ev_literal(in, w, "true");
	case 'f':
		return ev_literal(in, w, "false");
	case 'n':
		return ev_literal(in, w, "null");
	default:
		return ev_number(in, w);
	}
}

/* Copies the evidence object; on a syntax error rewinds and writes a marker. */
static void jw_evidence(struct jw *w, const char *ev)
{
	size_t mark = w->len;
	struct jin in = {ev, ev + strnlen(ev, ALERT_EVIDENCE_MAX)};
	jin_ws(&in);
	if (in.p == in.end) {
		jw_str(w, "{}");
		return;
	}
	bool ok = *in.p == '{' && ev_value(&in, w, 0);
	jin_ws(&in);
	if (ok && in.p == in.end)
		return;
	if (w->overflow)
		return; /* the caller degrades; a rewind would hide the overflow */
	w->len = mark;
	jw_str(w, "{\"invalid\":true}");
}

/* --- the record ----------------------------------------------------------- */

enum render_level {
	RENDER_FULL,
	RENDER_NO_EVIDENCE, /* evidence replaced by a truncation marker */
	RENDER_MINIMAL,	    /* identification fields only */
};

static void render(struct jw *w, const struct alert *a, enum render_level level, size_t msg_room)
{
	char num[NUMFMT_DOUBLE_MAX];
	size_t n;

	w->len = 0;
	w->overflow = false;
	jw_str(w, "{");
	jw_key(w, "ts");
	n = numfmt_shortest(numfmt_zeek_time(a->ts), num, sizeof(num));
	jw_bytes(w, num, n);
	jw_string_field(w, "name", a->name, sizeof(a->name), SIZE_MAX);
	jw_string_field(w, "technique", alert_technique_id(a->technique), 16, SIZE_MAX);
	jw_string_field(w, "severity", alert_severity_name(a->severity), 16, SIZE_MAX);
	jw_string_field(w, "action", a->blocked ? "blocked" : "alert", 16, SIZE_MAX);
	jw_opt_string_field(w, "uid", a->uid, sizeof(a->uid));
	jw_addr_field(w, "id.orig_h", &a->orig_h);
	jw_u64_field(w, "id.orig_p", a->orig_p);
	jw_addr_field(w, "id.resp_h", &a->resp_h);
	jw_u64_field(w, "id.resp_p", a->resp_p);
	jw_string_field(w, "proto", transport_name(a->proto), 32, SIZE_MAX);
	if (level == RENDER_MINIMAL) {
		jw_key(w, "truncated");
		jw_str(w, "true}");
		return;
	}
	jw_opt_string_field(w, "service", a->service, sizeof(a->service));
	jw_opt_string_field(w, "conn_state", a->conn_state, 16);
	jw_opt_string_field(w, "history", a->history, sizeof(a->history));
	jw_u64_field(w, "orig_bytes", a->orig_bytes);
	jw_u64_field(w, "resp_bytes", a->resp_bytes);
	jw_string_field(w, "direction", alert_direction_name(a->direction), 16, SIZE_MAX);
	jw_string_field(w, "policy_rule", a->policy_rule[0] ? a->policy_rule : "default",
			sizeof(a->policy_rule), SIZE_MAX);
	jw_string_field(w, "msg", a->msg, sizeof(a->msg), msg_room);
	jw_key(w, "evidence");
	if (level == RENDER_FULL) {
		jw_evidence(w, a->evidence);
	} else {
		jw_str(w, "{\"truncated\":true,\"bytes\":");
		jw_u64(w, strnlen(a->evidence, ALERT_EVIDENCE_MAX));
		jw_str(w, "}");
	}
	jw_str(w, "}");
}

static size_t finish(struct jw *w)
{
	w->buf[w->len] = '\0';
	return w->len;
}

size_t alert_json_format(const struct alert *a, char *buf, size_t cap)
{
	struct jw w = {buf, cap, 0, false};
	if (cap == 0)
		return 0;
	render(&w, a, RENDER_FULL, SIZE_MAX);
	if (!w.overflow)
		return finish(&w);
	render(&w, a, RENDER_NO_EVIDENCE, SIZE_MAX);
	if (!w.overflow)
		return finish(&w);
	/* Measure without msg, then give msg whatever room is left. */
	render(&w, a, RENDER_NO_EVIDENCE, 0);
	if (!w.overflow) {
		size_t room = cap - 1 - w.len;
		render(&w, a, RENDER_NO_EVIDENCE, room);
		if (!w.overflow)
			return finish(&w);
	}
	render(&w, a, RENDER_MINIMAL, 0);
	if (!w.overflow)
		return finish(&w);
	buf[0] = '\0';
	return 0;
}
