/* A bounded JSON text writer: objects, arrays, escaped strings, integers.
 * Pure; writes into the caller's buffer and never past cap. Once something
 * does not fit, the writer stays failed and jsonw_finish() returns 0.
 *
 * Strings are escaped as Zeek's JSON logs do: '"' and '\' with a backslash,
 * control bytes as \n \r \t \b \f or \u00XX, and each byte >= 0x80 as the
 * text \xNN (so the output is ASCII and never invalid UTF-8). */
#ifndef KG_JSONW_H
#define KG_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsonw {
	char *buf;
	size_t cap, len;
	bool overflow;
	bool need_comma; /* a value was written at the current nesting level */
};

void jsonw_init(struct jsonw *w, char *buf, size_t cap);
void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w);
void jsonw_array_end(struct jsonw *w);
/* "key": inside an object (the key is written escaped too). */
void jsonw_key(struct jsonw *w, const char *key);
/* A string value. max_out > 0 bounds the escaped text (quotes excluded): the
 * string is cut before the first escape that would pass it, never inside
 * one. 0 = no bound but the buffer's. */
void jsonw_string(struct jsonw *w, const char *s, size_t max_out);
void jsonw_string_n(struct jsonw *w, const char *s, size_t n, size_t max_out);
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_i64(struct jsonw *w, int64_t v);
void jsonw_bool(struct jsonw *w, bool v);
/* Already-formatted JSON (a number from numfmt, "null"). */
void jsonw_raw_value(struct jsonw *w, const char *text, size_t n);
/* Length written (NUL-terminated), or 0 after an overflow (buf then ""). */
size_t jsonw_finish(struct jsonw *w);

/* The escaped form of s[0..n) into out (no quotes); returns the length, or 0
 * with out = "" if it does not fit in cap (with its NUL). */
size_t json_escape(const char *s, size_t n, char *out, size_t cap);

#endif
