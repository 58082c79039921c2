/* uid: Zeek's format, determinism per seed, uniqueness within a run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/uid.h"

/* ^C[0-9A-Za-z]{2,17}$ */
static int uid_matches_pattern(const char *u)
{
	size_t n = strlen(u);
	if (n < 3 || n > 18 || u[0] != 'C')
		return 0;
	for (size_t i = 1; i < n; i++) {
		char c = u[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return 0;
	}
	return 1;
}

/* Reference: splitmix64 seeded with 1234567 yields 6457827717110365317 and
 * 3203168211198807973 (the published test vector); base62 of
 * 6457827717110365317 >> 32 and of 3203168211198807973, least significant
 * digit first, computed independently. */
static void test_uid_known_vector(void **state)
{
	(void)state;
	struct uid_gen g;
	char u[KG_UID_LEN];
	uid_gen_init(&g, 1234567);
	uid_next(&g, u);
	assert_string_equal(u, "ChTRKD1F0TcuDKxCO3");
	uid_next(&g, u);
	assert_string_equal(u, "C3n2Hu2Vb7g65mJjt5");
}

static void test_uid_deterministic_per_seed(void **state)
{
	(void)state;
	struct uid_gen a, b, c;
	char ua[KG_UID_LEN], ub[KG_UID_LEN], uc[KG_UID_LEN];
	uid_gen_init(&a, 42);
	uid_gen_init(&b, 42);
	uid_gen_init(&c, 43);
	int differ = 0;
	for (int i = 0; i < 1000; i++) {
		uid_next(&a, ua);
		uid_next(&b, ub);
		uid_next(&c, uc);
		assert_string_equal(ua, ub);
		differ += strcmp(ua, uc) != 0;
	}
	assert_int_equal(differ, 1000);
}

static int cmp_uid(const void *x, const void *y)
{
	return strcmp((const char *)x, (const char *)y);
}

/* One million uids from one seed: all well-formed, no two alike. Seed 0 is
 * included on purpose (an all-zero state must still work). */
static void test_uid_unique_million(void **state)
{
	(void)state;
	enum { N = 1000000 };
	char(*u)[KG_UID_LEN] = malloc(sizeof(*u) * N);
	assert_non_null(u);
	struct uid_gen g;
	uid_gen_init(&g, 0);
	size_t min_len = 99, max_len = 0;
	for (size_t i = 0; i < N; i++) {
		uid_next(&g, u[i]);
		assert_true(uid_matches_pattern(u[i]));
		size_t n = strlen(u[i]);
		min_len = n < min_len ? n : min_len;
		max_len = n > max_len ? n : max_len;
	}
	qsort(u, N, sizeof(*u), cmp_uid);
	for (size_t i = 1; i < N; i++)
		assert_int_not_equal(strcmp(u[i - 1], u[i]), 0);
	/* Typical Zeek uids are 17-18 characters; shorter ones are rare. */
	assert_true(max_len == 18);
	assert_true(min_len >= 3 && min_len <= 17);
	free(u);
}

/* The digit alphabet covers all 62 symbols and digits are not padded. */
static void test_uid_alphabet_used(void **state)
{
	(void)state;
	struct uid_gen g;
	char u[KG_UID_LEN];
	int seen[256] = {0};
	uid_gen_init(&g, 7);
	for (int i = 0; i < 10000; i++) {
		uid_next(&g, u);
		for (const char *p = u + 1; *p; p++)
			seen[(unsigned char)*p] = 1;
	}
	int distinct = 0;
	for (int c = 0; c < 256; c++)
		distinct += seen[c];
	assert_int_equal(distinct, 62);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uid_known_vector),
		cmocka_unit_test(test_uid_deterministic_per_seed),
		cmocka_unit_test(test_uid_unique_million),
		cmocka_unit_test(test_uid_alphabet_used),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
