/* A bounded output buffer for the text formatters: appends into the caller's
 * buffer and never past cap. Once something does not fit, it stays failed,
 * so a formatter writes everything and checks once at the end.
 *
 * The text is NUL-terminated after every append: buf always holds what fit
 * so far, whether or not the caller ends with outbuf_finish(). */
#ifndef KG_OUTBUF_H
#define KG_OUTBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct outbuf {
	char *buf;
	size_t cap, len;
	bool overflow;
};

void outbuf_init(struct outbuf *o, char *buf, size_t cap);
void outbuf_put(struct outbuf *o, const char *s, size_t n);
void outbuf_str(struct outbuf *o, const char *s);
void outbuf_u64(struct outbuf *o, uint64_t v);
void outbuf_i64(struct outbuf *o, int64_t v);
/* The length written, or 0 after an overflow (buf then ""). */
size_t outbuf_finish(struct outbuf *o);

#endif
