/* addr: both families in one 16-byte form; Zeek's text rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/addr.h"

static void format_of(const char *in, const char *want)
{
	struct kg_addr a;
	char out[KG_ADDR_STRLEN];
	if (!addr_parse(in, &a))
		fail_msg("cannot parse %s", in);
	addr_format(&a, out);
	assert_string_equal(out, want);
}

static void test_addr_v4_is_mapped(void **state)
{
	(void)state;
	static const uint8_t v4[4] = {192, 0, 2, 33};
	static const uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 33};
	struct kg_addr a;
	addr_from_v4(&a, v4);
	assert_memory_equal(a.b, mapped, 16);
	assert_true(addr_is_v4(&a));
}

static void test_addr_v6_kept(void **state)
{
	(void)state;
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	struct kg_addr a;
	addr_from_v6(&a, v6);
	assert_memory_equal(a.b, v6, 16);
	assert_false(addr_is_v4(&a));
	/* Almost v4-mapped is not v4. */
	uint8_t near[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 1, 2, 3, 4};
	addr_from_v6(&a, near);
	assert_false(addr_is_v4(&a));
}

static void test_addr_format_like_zeek(void **state)
{
	(void)state;
	format_of("141.142.220.202", "141.142.220.202");
	format_of("0.0.0.0", "0.0.0.0");
	format_of("255.255.255.255", "255.255.255.255");
	/* Canonical: compressed, lower case, leading zeros dropped. */
	format_of("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1");
	format_of("FE80::ABCD", "fe80::abcd");
	format_of("::", "::");
	format_of("::1", "::1");
	format_of("ff02::fb", "ff02::fb");
	/* The longest zero run is the one compressed; a single zero group is not. */
	format_of("2001:db8:0:0:1:0:0:0", "2001:db8:0:0:1::");
	format_of("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1");
	/* A v4-mapped address prints as IPv4, as Zeek prints it. */
	format_of("::ffff:10.1.2.3", "10.1.2.3");
}

static void test_addr_parse_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", " 1.2.3.4", "01.2.3.4x",
		"2001:db8::1::2", "2001:db8:::1", "12345::", "g::1", "1.2.3.4/32", "localhost",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct kg_addr a;
		if (addr_parse(bad[i], &a))
			fail_msg("accepted '%s'", bad[i]);
	}
}

static void test_addr_compare(void **state)
{
	(void)state;
	struct kg_addr a, b, c, d;
	assert_true(addr_parse("10.0.0.1", &a));
	assert_true(addr_parse("10.0.0.2", &b));
	assert_true(addr_parse("::ffff:10.0.0.1", &c));
	assert_true(addr_parse("2001:db8::1", &d));
	assert_true(addr_cmp(&a, &b) < 0);
	assert_true(addr_cmp(&b, &a) > 0);
	assert_int_equal(addr_cmp(&a, &c), 0);
	assert_true(addr_eq(&a, &c));
	assert_false(addr_eq(&a, &b));
	/* Byte order: every v4-mapped address sorts before 2001::/16. */
	assert_true(addr_cmp(&b, &d) < 0);
	assert_true(addr_cmp(&d, &a) > 0);
}

static void test_addr_roundtrip(void **state)
{
	(void)state;
	static const char *const s[] = {"1.2.3.4", "fe80::1:2", "2001:db8:1:2:3:4:5:6", "::2"};
	for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		struct kg_addr a, b;
		char out[KG_ADDR_STRLEN];
		assert_true(addr_parse(s[i], &a));
		addr_format(&a, out);
		assert_true(addr_parse(out, &b));
		assert_true(addr_eq(&a, &b));
		assert_string_equal(out, s[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_v4_is_mapped),
		cmocka_unit_test(test_addr_v6_kept),
		cmocka_unit_test(test_addr_format_like_zeek),
		cmocka_unit_test(test_addr_parse_rejects),
		cmocka_unit_test(test_addr_compare),
		cmocka_unit_test(test_addr_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
