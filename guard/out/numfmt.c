#include "out/numfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double numfmt_zeek_time(kg_time t)
{
	/* Floor division, so times before 1970 split the same way as timevals. */
	int64_t sec = t / KG_NSEC_PER_SEC, ns = t % KG_NSEC_PER_SEC;
	if (ns < 0) {
		ns += KG_NSEC_PER_SEC;
		sec -= 1;
	}
	return (double)sec + (double)(ns / 1000) / 1e6;
}

static size_t numfmt_put(char *buf, size_t cap, const char *s, size_t n)
{
	if (n + 1 > cap)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return n;
}

size_t numfmt_fixed6(double v, char *buf, size_t cap)
{
	char tmp[400]; /* %.6f of 1e308 needs 316 bytes */
	int n = snprintf(tmp, sizeof(tmp), "%.6f", v);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return 0;
	return numfmt_put(buf, cap, tmp, (size_t)n);
}

/* The shortest significand digits of v > 0 that round-trip, and the decimal
 * exponent k such that v = digits * 10^k. Tries precisions upward, which is
 * what Grisu2 finds in all but rare cases. */
static int numfmt_shortest_digits(double v, char digits[20], int *k)
{
	char tmp[40];
	for (int prec = 0; prec <= 16; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, v);
		if (strtod(tmp, NULL) == v || prec == 16) {
			/* tmp is "d.ddddde[+-]xx": collect digits, drop trailing zeros. */
			int len = 0;
			const char *p = tmp;
			for (; *p && *p != 'e'; p++)
				if (*p >= '0' && *p <= '9')
					digits[len++] = *p;
			int exp10 = atoi(p + 1);
			while (len > 1 && digits[len - 1] == '0')
				len--;
			digits[len] = '\0';
			*k = exp10 - (len - 1);
			return len;
		}
	}
	return 0; /* not reached: precision 16 always round-trips */
}

static int numfmt_exponent(int e, char *out)
{
	int n = 0;
	if (e < 0) {
		out[n++] = '-';
		e = -e;
	}
	if (e >= 100) {
		out[n++] = (char)('0' + e / 100);
		e %= 100;
		out[n++] = (char)('0' + e / 10);
		out[n++] = (char)('0' + e % 10);
	} else if (e >= 10) {
		out[n++] = (char)('0' + e / 10);
		out[n++] = (char)('0' + e % 10);
	} else {
		out[n++] = (char)('0' + e);
	}
	return n;
}

size_t numfmt_shortest(double v, char *buf, size_t cap)
{
	char out[NUMFMT_DOUBLE_MAX];
	size_t n = 0;

	if (isnan(v) || isinf(v))
		return numfmt_put(buf, cap, "null", 4);
	if (signbit(v))
		out[n++] = '-';
	if (v == 0)
		return numfmt_put(buf, cap, n ? "-0.0" : "0.0", n + 3);
	v = fabs(v);

	char d[20];
	int k, len = numfmt_shortest_digits(v, d, &k);
	int kk = len + k; /* 10^(kk-1) <= v < 10^kk */

	/* The cases of rapidjson's internal Prettify(). */
	if (k >= 0 && kk <= 21) { /* 1234e7 -> 12340000000.0 */
		memcpy(out + n, d, (size_t)len);
		n += (size_t)len;
		for (int i = len; i < kk; i++)
			out[n++] = '0';
		out[n++] = '.';
		out[n++] = '0';
	} else if (kk > 0 && kk <= 21) { /* 1234e-2 -> 12.34 */
		memcpy(out + n, d, (size_t)kk);
		n += (size_t)kk;
		out[n++] = '.';
		memcpy(out + n, d + kk, (size_t)(len - kk));
		n += (size_t)(len - kk);
	} else if (kk > -6 && kk <= 0) { /* 1234e-6 -> 0.001234 */
		out[n++] = '0';
		out[n++] = '.';
		for (int i = kk; i < 0; i++)
			out[n++] = '0';
		memcpy(out + n, d, (size_t)len);
		n += (size_t)len;
	} else if (len == 1) { /* 1e30 */
		out[n++] = d[0];
		out[n++] = 'e';
		n += (size_t)numfmt_exponent(kk - 1, out + n);
	} else { /* 1234e30 -> 1.234e33 */
		out[n++] = d[0];
		out[n++] = '.';
		memcpy(out + n, d + 1, (size_t)(len - 1));
		n += (size_t)(len - 1);
		out[n++] = 'e';
		n += (size_t)numfmt_exponent(kk - 1, out + n);
	}
	return numfmt_put(buf, cap, out, n);
}
