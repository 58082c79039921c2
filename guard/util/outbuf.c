#include "util/outbuf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void outbuf_init(struct outbuf *o, char *buf, size_t cap)
{
	o->buf = buf;
	o->cap = cap;
	o->len = 0;
	o->overflow = cap == 0;
	if (cap > 0)
		buf[0] = '\0';
}

void outbuf_put(struct outbuf *o, const char *s, size_t n)
{
	if (o->overflow || o->len + n + 1 > o->cap) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

void outbuf_str(struct outbuf *o, const char *s)
{
	outbuf_put(o, s, strlen(s));
}

void outbuf_u64(struct outbuf *o, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	outbuf_put(o, tmp, (size_t)n);
}

void outbuf_i64(struct outbuf *o, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	outbuf_put(o, tmp, (size_t)n);
}

size_t outbuf_finish(struct outbuf *o)
{
	if (o->overflow) {
		if (o->cap > 0)
			o->buf[0] = '\0';
		return 0;
	}
	return o->len;
}
