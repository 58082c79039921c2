#include "util/json_writer.h"

#include <stdio.h>
#include <string.h>

static const char hexdigits[] = "0123456789abcdef";

void jsonw_init(struct jsonw *w, char *buf, size_t cap, enum jsonw_escape escape)
{
	outbuf_init(&w->out, buf, cap);
	w->escape = escape;
	w->need_comma = false;
}

static void jw_value_start(struct jsonw *w)
{
	if (w->need_comma)
		outbuf_put(&w->out, ",", 1);
	w->need_comma = false;
}

static size_t jw_u16(char *out, uint32_t u)
{
	out[0] = '\\';
	out[1] = 'u';
	out[2] = hexdigits[(u >> 12) & 15];
	out[3] = hexdigits[(u >> 8) & 15];
	out[4] = hexdigits[(u >> 4) & 15];
	out[5] = hexdigits[u & 15];
	return 6;
}

/* Length of the well-formed UTF-8 sequence at p (at most n bytes), with its
 * code point in *cp; 0 if the bytes are not UTF-8 (overlong, surrogate, past
 * U+10FFFF, or cut short). */
static size_t jw_utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
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

/* The escaped form of the character at p (n >= 1 bytes left) in the given
 * style: at most 12 bytes into out, their count in *outlen. Returns the
 * input bytes it stands for (>= 1). */
static size_t jw_escape_unit(enum jsonw_escape style, const unsigned char *p, size_t n,
			     char out[12], size_t *outlen)
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
		const char *shortform = style == JSONW_ESCAPE_MINIMAL ? NULL
					: c == '\b'		      ? "\\b"
					: c == '\f'		      ? "\\f"
					: c == '\n'		      ? "\\n"
					: c == '\r'		      ? "\\r"
					: c == '\t'		      ? "\\t"
								      : NULL;
		if (shortform) {
			memcpy(out, shortform, 2);
			*outlen = 2;
		} else {
			*outlen = jw_u16(out, c);
		}
		return 1;
	}
	if (style == JSONW_ESCAPE_MINIMAL) {
		out[0] = (char)c;
		*outlen = 1;
		return 1;
	}
	used = style == JSONW_ESCAPE_UTF8 ? jw_utf8_decode(p, n, &cp) : 0;
	if (used == 0) {
		/* The text \xNN, as Zeek's json_escape_utf8 writes a byte that is
		 * not UTF-8. */
		memcpy(out, "\\\\x", 3);
		out[3] = hexdigits[c >> 4];
		out[4] = hexdigits[c & 15];
		*outlen = 5;
		return 1;
	}
	if (cp < 0x10000) {
		*outlen = jw_u16(out, cp);
	} else {
		cp -= 0x10000;
		jw_u16(out, 0xd800 | (cp >> 10));
		jw_u16(out + 6, 0xdc00 | (cp & 0x3ff));
		*outlen = 12;
	}
	return used;
}

/* Escaped contents; stops before the unit that would take the escaped
 * length past max_out. */
static void jw_escaped(struct jsonw *w, const char *s, size_t n, size_t max_out)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t written = 0;
	while (n > 0) {
		char unit[12];
		size_t ulen, used = jw_escape_unit(w->escape, p, n, unit, &ulen);
		if (written + ulen > max_out)
			return;
		outbuf_put(&w->out, unit, ulen);
		written += ulen;
		p += used;
		n -= used;
	}
}

void jsonw_object_begin(struct jsonw *w)
{
	jw_value_start(w);
	outbuf_put(&w->out, "{", 1);
}

void jsonw_object_end(struct jsonw *w)
{
	outbuf_put(&w->out, "}", 1);
	w->need_comma = true;
}

void jsonw_array_begin(struct jsonw *w)
{
	jw_value_start(w);
	outbuf_put(&w->out, "[", 1);
}

void jsonw_array_end(struct jsonw *w)
{
	outbuf_put(&w->out, "]", 1);
	w->need_comma = true;
}

void jsonw_key(struct jsonw *w, const char *key)
{
	jw_value_start(w);
	outbuf_put(&w->out, "\"", 1);
	jw_escaped(w, key, strlen(key), JSONW_NO_LIMIT);
	outbuf_put(&w->out, "\":", 2);
}

void jsonw_string_n(struct jsonw *w, const char *s, size_t n, size_t max_out)
{
	jw_value_start(w);
	outbuf_put(&w->out, "\"", 1);
	jw_escaped(w, s, n, max_out);
	outbuf_put(&w->out, "\"", 1);
	w->need_comma = true;
}

void jsonw_string_max(struct jsonw *w, const char *s, size_t max_out)
{
	jsonw_string_n(w, s, strlen(s), max_out);
}

void jsonw_string(struct jsonw *w, const char *s)
{
	if (s == NULL)
		jsonw_null(w);
	else
		jsonw_string_n(w, s, strlen(s), JSONW_NO_LIMIT);
}

void jsonw_raw_value(struct jsonw *w, const char *text, size_t n)
{
	if (n == 0)
		w->out.overflow = true;
	jw_value_start(w);
	outbuf_put(&w->out, text, n);
	w->need_comma = true;
}

void jsonw_u64(struct jsonw *w, uint64_t v)
{
	jw_value_start(w);
	outbuf_u64(&w->out, v);
	w->need_comma = true;
}

void jsonw_i64(struct jsonw *w, int64_t v)
{
	jw_value_start(w);
	outbuf_i64(&w->out, v);
	w->need_comma = true;
}

void jsonw_bool(struct jsonw *w, bool v)
{
	jsonw_raw_value(w, v ? "true" : "false", v ? 4 : 5);
}

void jsonw_null(struct jsonw *w)
{
	jsonw_raw_value(w, "null", 4);
}

void jsonw_fixed(struct jsonw *w, double v, int decimals)
{
	char tmp[64];
	int n = snprintf(tmp, sizeof(tmp), "%.*f", decimals, v);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		n = 0; /* fails the writer */
	jsonw_raw_value(w, tmp, (size_t)n);
}

/* v in units of `unit` nanoseconds, with `digits` decimals down to the
 * microsecond, truncated. */
static void jw_scaled_time(struct jsonw *w, kg_time v, uint64_t unit, int digits)
{
	const char *sign = v < 0 ? "-" : "";
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	char tmp[48];
	int n = snprintf(tmp, sizeof(tmp), "%s%llu.%0*llu", sign, (unsigned long long)(u / unit),
			 digits, (unsigned long long)(u % unit / 1000u));
	jsonw_raw_value(w, tmp, (size_t)n);
}

void jsonw_time(struct jsonw *w, kg_time t)
{
	jw_scaled_time(w, t, 1000000000u, 6);
}

void jsonw_ms(struct jsonw *w, kg_time d)
{
	jw_scaled_time(w, d, 1000000u, 3);
}

void jsonw_addr(struct jsonw *w, const struct kg_addr *a)
{
	char s[KG_ADDR_STRLEN];
	addr_format(a, s);
	jsonw_string(w, s);
}

void jsonw_raw(struct jsonw *w, const char *s, size_t n)
{
	outbuf_put(&w->out, s, n);
}

void jsonw_escaped(struct jsonw *w, const char *s, size_t n)
{
	jw_escaped(w, s, n, JSONW_NO_LIMIT);
}

bool jsonw_overflowed(const struct jsonw *w)
{
	return w->out.overflow;
}

size_t jsonw_finish(struct jsonw *w)
{
	return outbuf_finish(&w->out);
}
