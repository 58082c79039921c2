#include "util/uid.h"

#include <string.h>

static const char base62_digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* splitmix64: the state walks a full 2^64 cycle and the output mix is a
 * bijection, so consecutive outputs never repeat within a run. */
static uint64_t uid_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Zeek's uitoa_n(): least significant digit first, no padding, "0" for 0. */
static size_t uid_base62(uint64_t v, char *out)
{
	size_t n = 0;
	do {
		out[n++] = base62_digits[v % 62];
		v /= 62;
	} while (v);
	return n;
}

void uid_gen_init(struct uid_gen *g, uint64_t seed)
{
	g->state = seed;
}

void uid_next(struct uid_gen *g, char out[KG_UID_LEN])
{
	/* Zeek draws two 64-bit values for 96 bits and keeps the top 32 of the first. */
	uint64_t hi = uid_splitmix64(&g->state) >> 32;
	uint64_t lo = uid_splitmix64(&g->state);
	size_t n = 0;

	out[n++] = 'C';
	n += uid_base62(hi, out + n);
	n += uid_base62(lo, out + n);
	out[n] = '\0';
}
