/* The bounded JSON text writer of every formatter and detector: objects,
 * arrays, escaped strings, numbers. Pure; writes into the caller's buffer
 * (a struct outbuf) and never past cap. Once something does not fit, the
 * writer stays failed: jsonw_overflowed() says so, jsonw_finish() returns 0;
 * until then buf holds what fit, NUL-terminated.
 * Separators are written for the caller: a ',' goes before each value or key
 * that follows another at the same nesting level. */
#ifndef KG_JSON_WRITER_H
#define KG_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"
#include "util/kgtime.h"
#include "util/outbuf.h"

/* How strings are escaped. In every style '"' and '\' get a backslash and
 * the output never holds a raw control byte or DEL. */
enum jsonw_escape {
	/* Zeek's JSON logs (conn.log, http.log): control bytes as \b \f \n \r \t
	 * or \u00XX, and each byte >= 0x80 as the text \xNN, so the output is
	 * ASCII and never invalid UTF-8. */
	JSONW_ESCAPE_BYTES,
	/* Alerts: as BYTES, but well-formed UTF-8 as \uXXXX (a surrogate pair
	 * above U+FFFF); only a byte that is not UTF-8 becomes the text \xNN. */
	JSONW_ESCAPE_UTF8,
	/* Detector evidence: every control byte and DEL as \u00XX (no short
	 * forms), bytes >= 0x80 copied as they are; the alert writer escapes
	 * those when it copies the evidence. */
	JSONW_ESCAPE_MINIMAL,
};

/* max_out for a string with no bound but the buffer's. */
#define JSONW_NO_LIMIT SIZE_MAX

struct jsonw {
	struct outbuf out;
	enum jsonw_escape escape;
	bool need_comma; /* a value was written at the current nesting level */
};

void jsonw_init(struct jsonw *w, char *buf, size_t cap, enum jsonw_escape escape);
void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w);
void jsonw_array_end(struct jsonw *w);
/* "key": inside an object (the key is written escaped too). */
void jsonw_key(struct jsonw *w, const char *key);
/* A string value; NULL writes null. */
void jsonw_string(struct jsonw *w, const char *s);
/* A string value whose escaped text (quotes excluded) is at most max_out
 * bytes: it is cut before the first escape that would pass max_out, never
 * inside one. jsonw_string_n takes s[0..n). */
void jsonw_string_max(struct jsonw *w, const char *s, size_t max_out);
void jsonw_string_n(struct jsonw *w, const char *s, size_t n, size_t max_out);
void jsonw_u64(struct jsonw *w, uint64_t v);
void jsonw_i64(struct jsonw *w, int64_t v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);
/* printf's %.*f, e.g. 0.875 with 3 decimals. */
void jsonw_fixed(struct jsonw *w, double v, int decimals);
/* A time as seconds with 6 decimals (Zeek's ts: 1796390752.101234), and a
 * duration as milliseconds with 3; both truncated, negative ones signed. */
void jsonw_time(struct jsonw *w, kg_time t);
void jsonw_ms(struct jsonw *w, kg_time d);
/* An address as a string, in addr_format()'s form. */
void jsonw_addr(struct jsonw *w, const struct kg_addr *a);
/* Already-formatted JSON in the place of one value (a number from numfmt,
 * "{}"), or inside an object of whole "key":value members. An empty text is
 * no JSON: the writer fails. */
void jsonw_raw_value(struct jsonw *w, const char *text, size_t n);

/* For a caller that copies JSON text it has checked itself, piece by piece:
 * bytes as they are, and the escaped form of s[0..n) (no quotes). Neither
 * writes a separator or counts as a value. */
void jsonw_raw(struct jsonw *w, const char *s, size_t n);
void jsonw_escaped(struct jsonw *w, const char *s, size_t n);

bool jsonw_overflowed(const struct jsonw *w);
/* Length written (NUL-terminated), or 0 after an overflow (buf then ""). */
size_t jsonw_finish(struct jsonw *w);

#endif
