#include "out/jsonw.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void jsonw_init(struct jsonw *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->overflow = cap == 0;
	w->need_comma = false;
	if (cap > 0)
		buf[0] = '\0';
}

static void jw_put(struct jsonw *w, const char *s, size_t n)
{
	if (w->overflow || w->len + n + 1 > w->cap) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void jw_value_start(struct jsonw *w)
{
	if (w->need_comma)
		jw_put(w, ",", 1);
	w->need_comma = false;
}

/* The escape of one byte: at most 6 characters. */
static size_t jw_escape_byte(unsigned char c, char out[6])
{
	static const char hex[] = "0123456789abcdef";
	switch (c) {
	case '"':
	case '\\':
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	case '\b':
		memcpy(out, "\\b", 2);
		return 2;
	case '\f':
		memcpy(out, "\\f", 2);
		return 2;
	case '\n':
		memcpy(out, "\\n", 2);
		return 2;
	case '\r':
		memcpy(out, "\\r", 2);
		return 2;
	case '\t':
		memcpy(out, "\\t", 2);
		return 2;
	default:
		break;
	}
	if (c < 0x20 || c == 0x7f) {
		memcpy(out, "\\u00", 4);
		out[4] = hex[c >> 4];
		out[5] = hex[c & 15];
		return 6;
	}
	if (c >= 0x80) {
		memcpy(out, "\\\\x", 3);
		out[3] = hex[c >> 4];
		out[4] = hex[c & 15];
		return 5;
	}
	out[0] = (char)c;
	return 1;
}

static void jw_escaped(struct jsonw *w, const char *s, size_t n, size_t max_out)
{
	size_t used = 0;
	for (size_t i = 0; i < n; i++) {
		char e[6];
		size_t k = jw_escape_byte((unsigned char)s[i], e);
		if (max_out > 0 && used + k > max_out)
			return;
		jw_put(w, e, k);
		used += k;
	}
}

void jsonw_object_begin(struct jsonw *w)
{
	jw_value_start(w);
	jw_put(w, "{", 1);
}

void jsonw_object_end(struct jsonw *w)
{
	jw_put(w, "}", 1);
	w->need_comma = true;
}

void jsonw_array_begin(struct jsonw *w)
{
	jw_value_start(w);
	jw_put(w, "[", 1);
}

void jsonw_array_end(struct jsonw *w)
{
	jw_put(w, "]", 1);
	w->need_comma = true;
}

void jsonw_key(struct jsonw *w, const char *key)
{
	jw_value_start(w);
	jw_put(w, "\"", 1);
	jw_escaped(w, key, strlen(key), 0);
	jw_put(w, "\":", 2);
}

void jsonw_string_n(struct jsonw *w, const char *s, size_t n, size_t max_out)
{
	jw_value_start(w);
	jw_put(w, "\"", 1);
	jw_escaped(w, s, n, max_out);
	jw_put(w, "\"", 1);
	w->need_comma = true;
}

void jsonw_string(struct jsonw *w, const char *s, size_t max_out)
{
	jsonw_string_n(w, s, strlen(s), max_out);
}

void jsonw_raw_value(struct jsonw *w, const char *text, size_t n)
{
	jw_value_start(w);
	jw_put(w, text, n);
	w->need_comma = true;
}

void jsonw_u64(struct jsonw *w, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	jsonw_raw_value(w, tmp, (size_t)n);
}

void jsonw_i64(struct jsonw *w, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	jsonw_raw_value(w, tmp, (size_t)n);
}

void jsonw_bool(struct jsonw *w, bool v)
{
	jsonw_raw_value(w, v ? "true" : "false", v ? 4 : 5);
}

size_t jsonw_finish(struct jsonw *w)
{
	if (w->overflow) {
		if (w->cap > 0)
			w->buf[0] = '\0';
		return 0;
	}
	w->buf[w->len] = '\0';
	return w->len;
}

size_t json_escape(const char *s, size_t n, char *out, size_t cap)
{
	struct jsonw w;
	jsonw_init(&w, out, cap);
	jw_escaped(&w, s, n, 0);
	return jsonw_finish(&w);
}
