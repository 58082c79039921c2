/* Helpers shared by the fingerprint matchers (see fp_internal.h). */
#include "analyze/fp_internal.h"

#include <stdio.h>
#include <string.h>

bool fp_dir_open(const struct fp_ctx *x, const struct content_dir *d,
		 const struct content_dir *other, size_t want)
{
	if (x->final || d->stalled || d->len >= want || d->len >= CONTENT_BYTES)
		return false;
	if (d->segments_seen >= FP_PATIENCE)
		return false;
	if (d->segments_seen == 0 && other->segments_seen >= FP_SILENT_PATIENCE)
		return false;
	return true;
}

enum fp_side fp_wait(const struct fp_ctx *x, const struct content_dir *d,
		     const struct content_dir *other, size_t want)
{
	return fp_dir_open(x, d, other, want) ? FP_PENDING : FP_ABSENT;
}

enum service_verdict fp_combine(enum fp_side a, enum fp_side b, enum service_confidence *conf,
				bool *both)
{
	if (a == FP_NO || b == FP_NO)
		return SERVICE_NO_MATCH;
	if (a == FP_YES && b == FP_YES) {
		*conf = CONF_HIGH;
		*both = true;
		return SERVICE_MATCH;
	}
	if (a == FP_YES || b == FP_YES) {
		enum fp_side other = a == FP_YES ? b : a;
		if (other == FP_PENDING)
			return SERVICE_NEED_MORE;
		*conf = CONF_MEDIUM;
		*both = false;
		return SERVICE_MATCH;
	}
	if (a == FP_PENDING || b == FP_PENDING)
		return SERVICE_NEED_MORE;
	return SERVICE_NO_MATCH;
}

void fp_set(struct service_match *m, enum service_id id, enum service_confidence conf,
	    const char *fingerprint_id, size_t offset, bool both_sides)
{
	m->id = id;
	m->confidence = conf;
	m->fingerprint_id = fingerprint_id;
	m->match_offset = (uint16_t)(offset > UINT16_MAX ? UINT16_MAX : offset);
	m->both_sides = both_sides;
}

bool fp_datagram(const struct content_dir *d, unsigned i, struct fp_slice *out)
{
	if (i >= d->nseg)
		return false;
	/* Datagrams are stored back to back. The offsets are exact unless a
	 * truncated capture cut one short (the sum of wire lengths then exceeds
	 * what was stored without the buffer being full); then only the first
	 * datagram's place is known. */
	size_t total = 0, off = 0;
	for (unsigned j = 0; j < d->nseg; j++) {
		if (j < i)
			off += d->seg_len[j];
		total += d->seg_len[j];
	}
	bool exact = total == d->len || d->len >= CONTENT_BYTES;
	if (!exact && i > 0)
		return false;
	if (off >= d->len)
		return false;
	size_t stored = d->len - off;
	if (stored > d->seg_len[i])
		stored = d->seg_len[i];
	out->p = d->data + off;
	out->stored = stored;
	out->wire = d->seg_len[i];
	return true;
}

long fp_find(const uint8_t *hay, size_t n, const void *needle, size_t k)
{
	const uint8_t *nd = needle;
	if (k == 0 || k > n)
		return -1;
	for (size_t i = 0; i + k <= n; i++) {
		if (hay[i] == nd[0] && memcmp(hay + i, nd, k) == 0)
			return (long)i;
	}
	return -1;
}

static uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c - 'A' + 'a') : c;
}

bool fp_prefix(const uint8_t *p, size_t n, const char *lit, bool nocase, bool *full)
{
	size_t k = strlen(lit);
	size_t m = n < k ? n : k;
	for (size_t i = 0; i < m; i++) {
		uint8_t a = p[i], b = (uint8_t)lit[i];
		if (nocase ? lower(a) != lower(b) : a != b) {
			*full = false;
			return false;
		}
	}
	*full = n >= k;
	return true;
}

size_t fp_json_string(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (cap < 3) {
		if (cap)
			dst[0] = '\0';
		return 0;
	}
	size_t o = 0;
	dst[o++] = '"';
	for (size_t i = 0; i < n; i++) {
		char esc[7];
		size_t k;
		uint8_t c = src[i];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			k = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			esc[0] = '\\';
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			k = 6;
		} else {
			esc[0] = (char)c;
			k = 1;
		}
		if (o + k + 2 > cap) /* room for the closing quote and NUL */
			break;
		memcpy(dst + o, esc, k);
		o += k;
	}
	dst[o++] = '"';
	dst[o] = '\0';
	return o;
}

size_t fp_json_hex(char *dst, size_t cap, const uint8_t *src, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	if (cap < 3) {
		if (cap)
			dst[0] = '\0';
		return 0;
	}
	size_t o = 0;
	dst[o++] = '"';
	for (size_t i = 0; i < n && o + 4 <= cap; i++) {
		dst[o++] = hex[src[i] >> 4];
		dst[o++] = hex[src[i] & 15];
	}
	dst[o++] = '"';
	dst[o] = '\0';
	return o;
}

void fp_detail_object(struct service_match *m, const char *name, const struct fp_member *mem,
		      size_t n)
{
	char *d = m->detail;
	size_t cap = sizeof(m->detail), o = 0;
	int w = snprintf(d, cap, "\"%s\":{", name);
	if (w < 0 || (size_t)w >= cap)
		goto overflow;
	o = (size_t)w;
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (!mem[i].json)
			continue;
		w = snprintf(d + o, cap - o, "%s\"%s\":%s", first ? "" : ",", mem[i].key, mem[i].json);
		if (w < 0 || (size_t)w >= cap - o)
			goto overflow;
		o += (size_t)w;
		first = false;
	}
	if (o + 2 > cap)
		goto overflow;
	d[o++] = '}';
	d[o] = '\0';
	return;
overflow:
	d[0] = '\0';
}

enum fp_side fp_side_of(const struct fp_ctx *x, const struct content_dir *d,
			const struct content_dir *other, enum fp_partial part, size_t want)
{
	switch (part) {
	case FP_PART_YES: return FP_YES;
	case FP_PART_MORE: return fp_wait(x, d, other, want);
	default: return FP_NO;
	}
}
