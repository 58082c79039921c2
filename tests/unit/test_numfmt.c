/* numfmt: Zeek's time doubles, TSV fixed-6 and rapidjson's shortest doubles. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "out/numfmt.h"

static void shortest_is(double v, const char *want)
{
	char buf[NUMFMT_DOUBLE_MAX];
	size_t n = numfmt_shortest(v, buf, sizeof(buf));
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
}

static void fixed6_is(double v, const char *want)
{
	char buf[64];
	size_t n = numfmt_fixed6(v, buf, sizeof(buf));
	assert_int_equal(n, strlen(want));
	assert_string_equal(buf, want);
}

/* Zeek computes sec + usec / 1e6 from a microsecond timeval; the same double
 * must come out, or the shortest JSON form changes in the last digits. */
static void test_numfmt_zeek_time(void **state)
{
	(void)state;
	assert_true(numfmt_zeek_time(1300475167096535000LL) == 1300475167.0 + 96535 / 1e6);
	assert_true(numfmt_zeek_time(0) == 0.0);
	/* Finer stamps are truncated to the microsecond, as libpcap does for Zeek. */
	assert_true(numfmt_zeek_time(1000000999LL) == 1.000000);
	assert_true(numfmt_zeek_time(1000001999LL) == 1.0 + 1 / 1e6);
	/* Before the epoch the split is a floor, like a timeval's. */
	assert_true(numfmt_zeek_time(-1) == -1.0 + 999999 / 1e6);
	assert_true(numfmt_zeek_time(-KG_NSEC_PER_SEC) == -1.0);
}

static void test_numfmt_fixed6(void **state)
{
	(void)state;
	fixed6_is(1300475167.096535, "1300475167.096535");
	fixed6_is(0.0, "0.000000");
	fixed6_is(0.013961, "0.013961");
	fixed6_is(0.06685185432434082, "0.066852");
	fixed6_is(2.0000004999, "2.000000");
	fixed6_is(2.0000005001, "2.000001");
	fixed6_is(300.0, "300.000000");
	fixed6_is(-0.5, "-0.500000");
}

/* Layouts of rapidjson's Prettify(), with the digits of the shortest
 * round-trip representation. */
static void test_numfmt_shortest_layouts(void **state)
{
	(void)state;
	shortest_is(1591367999.305988, "1591367999.305988");
	shortest_is(0.06685185432434082, "0.06685185432434082");
	shortest_is(0.0, "0.0");
	shortest_is(-0.0, "-0.0");
	shortest_is(5.0, "5.0");
	shortest_is(300.0, "300.0");
	shortest_is(0.1, "0.1");
	shortest_is(-2.5, "-2.5");
	shortest_is(0.001234, "0.001234");
	shortest_is(0.000001, "0.000001");
	shortest_is(1e-7, "1e-7");
	shortest_is(1.5e-7, "1.5e-7");
	shortest_is(9.5367431640625e-07, "9.5367431640625e-7");
	shortest_is(1e20, "100000000000000000000.0");
	shortest_is(1e21, "1e21");
	shortest_is(1.5e300, "1.5e300");
	shortest_is(123456789012345680000.0, "123456789012345680000.0");
	shortest_is(5e-324, "5e-324");
	shortest_is(DBL_MAX, "1.7976931348623157e308");
	shortest_is(NAN, "null");
	shortest_is(INFINITY, "null");
}

/* Significant digits of a rendering: no sign, point, exponent, or leading
 * and trailing zeros. */
static int significant_digits(const char *s)
{
	char d[40];
	int n = 0;
	for (; *s && *s != 'e'; s++)
		if (*s >= '0' && *s <= '9' && (n > 0 || *s != '0'))
			d[n++] = *s;
	while (n > 0 && d[n - 1] == '0')
		n--;
	return n;
}

/* Every output reads back to the same double, and no shorter digit string
 * (one fewer significant digit) would. */
static void test_numfmt_shortest_roundtrips(void **state)
{
	(void)state;
	uint64_t x = 88172645463325252ULL;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double v;
		if (i % 2) {
			/* Plausible ts and durations: microsecond times and differences. */
			double a = 1.6e9 + (double)(x % 100000000ULL) / 1e6;
			double b = a + (double)((x >> 30) % 5000000ULL) / 1e6;
			v = i % 4 == 1 ? a : b - a;
		} else {
			uint64_t bits = x & 0x7fefffffffffffffULL; /* finite */
			memcpy(&v, &bits, sizeof(v));
		}
		char buf[NUMFMT_DOUBLE_MAX];
		assert_true(numfmt_shortest(v, buf, sizeof(buf)) > 0);
		assert_true(strtod(buf, NULL) == v);
		int digits = significant_digits(buf);
		if (digits > 1) {
			char shorter[40];
			snprintf(shorter, sizeof(shorter), "%.*e", digits - 2, v);
			assert_true(strtod(shorter, NULL) != v);
		}
	}
}

static void test_numfmt_bounded(void **state)
{
	(void)state;
	char buf[32];
	memset(buf, 'Z', sizeof(buf));
	/* "0.06685185432434082" is 19 bytes, and needs 20 with the NUL. */
	assert_int_equal(numfmt_shortest(0.06685185432434082, buf, 19), 0);
	assert_int_equal(buf[19], 'Z');
	assert_int_equal(numfmt_shortest(0.06685185432434082, buf, 20), 19);
	assert_int_equal(numfmt_fixed6(1300475167.096535, buf, 17), 0);
	assert_int_equal(numfmt_fixed6(1300475167.096535, buf, 18), 17);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numfmt_zeek_time),
		cmocka_unit_test(test_numfmt_fixed6),
		cmocka_unit_test(test_numfmt_shortest_layouts),
		cmocka_unit_test(test_numfmt_shortest_roundtrips),
		cmocka_unit_test(test_numfmt_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
