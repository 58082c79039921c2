/* netset: CIDR parsing, membership, and Zeek's default Site::local_nets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "util/netset.h"

static bool in_set(const struct netset *s, const char *addr)
{
	struct kg_addr a;
	assert_true(addr_parse(addr, &a));
	return netset_contains(s, &a);
}

static void test_netset_parse_accepts(void **state)
{
	(void)state;
	static const char *const good[] = {
		"10.0.0.0/8", "192.0.2.1", "192.0.2.1/32", "0.0.0.0/0", "fe80::/10", "::/0",
		"::1/128",    "2001:db8::1", "10.0.0.0/08", "255.255.255.255/32",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct netset s;
		netset_init(&s);
		if (!netset_add(&s, good[i]))
			fail_msg("rejected %s", good[i]);
		assert_int_equal(s.n, 1);
	}
}

static void test_netset_parse_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",	       "/8",	      "10.0.0.0/",   "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8",
		"10.0.0.0/8x", "10.0.0.0/ 8", " 10.0.0.0/8", "10.0.0/8",    "10.0.0.256",  "garbage",
		"::/129",      "fe80::/1000", "10.0.0.0/8/8", "fe80:::1/64", "1.2.3.4/0008",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct netset s;
		netset_init(&s);
		if (netset_add(&s, bad[i]))
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(s.n, 0);
	}
}

static void test_netset_contains_v4(void **state)
{
	(void)state;
	struct netset s;
	netset_init(&s);
	assert_true(netset_add(&s, "172.16.0.0/12"));
	assert_true(netset_add(&s, "192.0.2.7"));
	assert_true(in_set(&s, "172.16.0.0"));
	assert_true(in_set(&s, "172.31.255.255"));
	assert_false(in_set(&s, "172.32.0.0"));
	assert_false(in_set(&s, "172.15.255.255"));
	assert_true(in_set(&s, "192.0.2.7"));
	assert_false(in_set(&s, "192.0.2.6"));
	assert_false(in_set(&s, "192.0.2.8"));
	/* An IPv4 prefix is over the v4-mapped form, as in Zeek: a v4-mapped
	 * IPv6 literal is the same address, other IPv6 addresses are not. */
	assert_true(in_set(&s, "::ffff:172.20.1.1"));
	assert_false(in_set(&s, "::172.20.1.1"));
	assert_false(in_set(&s, "2002:ac10::1"));
}

static void test_netset_contains_v6_and_zero_prefix(void **state)
{
	(void)state;
	struct netset s;
	netset_init(&s);
	assert_true(netset_add(&s, "fe80::/10"));
	assert_true(in_set(&s, "fe80::1"));
	assert_true(in_set(&s, "febf:ffff::1"));
	assert_false(in_set(&s, "fec0::1"));
	assert_false(in_set(&s, "10.0.0.1"));

	netset_init(&s);
	assert_true(netset_add(&s, "0.0.0.0/0"));
	assert_true(in_set(&s, "8.8.8.8"));
	assert_false(in_set(&s, "2001:db8::1"));

	netset_init(&s);
	assert_true(netset_add(&s, "::/0"));
	assert_true(in_set(&s, "2001:db8::1"));
	assert_true(in_set(&s, "8.8.8.8"));
}

/* Host bits in the network part are masked off, as Zeek does for 10.1.2.3/8. */
static void test_netset_masks_host_bits(void **state)
{
	(void)state;
	struct netset s;
	netset_init(&s);
	assert_true(netset_add(&s, "10.1.2.3/8"));
	assert_true(netset_add(&s, "2001:db8:ffff::1/33"));
	assert_true(in_set(&s, "10.200.0.1"));
	assert_false(in_set(&s, "11.0.0.0"));
	assert_true(in_set(&s, "2001:db8:8000::"));
	assert_false(in_set(&s, "2001:db8:7fff::"));
	assert_int_equal(s.e[0].prefix, 104);
	struct kg_addr net;
	assert_true(addr_parse("10.0.0.0", &net));
	assert_true(addr_eq(&s.e[0].net, &net));
}

static void test_netset_bounded(void **state)
{
	(void)state;
	static struct netset s;
	char cidr[32];
	netset_init(&s);
	for (int i = 0; i < NETSET_MAX; i++) {
		snprintf(cidr, sizeof(cidr), "10.%d.%d.0/24", i / 256, i % 256);
		assert_true(netset_add(&s, cidr));
	}
	assert_int_equal(s.n, NETSET_MAX);
	/* A duplicate is not a new entry, so it still "fits". */
	assert_true(netset_add(&s, "10.0.5.0/24"));
	assert_false(netset_add(&s, "192.168.0.0/16"));
	assert_int_equal(s.n, NETSET_MAX);
	assert_false(in_set(&s, "192.168.1.1"));
}

/* Zeek's Site::local_nets with private_address_space_is_local=T, checked
 * against the examples in specs/connlog.md (local_orig row). */
static void test_netset_zeek_local_default(void **state)
{
	(void)state;
	static const char *const local[] = {
		"10.0.0.1",	   "10.255.255.255", "172.16.0.1",     "172.31.255.254", "192.168.1.1",
		"127.0.0.1",	   "169.254.1.1",    "100.64.0.1",     "0.0.0.0",	 "192.0.2.1",
		"198.51.100.7",	   "203.0.113.9",    "198.19.255.255", "224.0.0.251",	 "224.0.0.1",
		"239.255.255.250", "240.0.0.1",	     "255.255.255.255", "::",		 "::1",
		"fe80::1",	   "fc00::1",	     "fd12:3456::1",   "fec0::1",	 "2001:db8::1",
		"2002:c0a8:101::1", "2002:a00:1::",  "2002:e000:0::1", "64:ff9b:1::1",	 "100::1",
	};
	static const char *const remote[] = {
		"8.8.8.8",	 "1.1.1.1",  "141.142.220.202", "172.32.0.1", "192.169.0.1",
		"224.0.1.1",	 "225.1.2.3", "238.255.255.255", "100.128.0.1",
		"ff02::1",	 "ff02::fb", "2001:4860:4860::8888", "2002:808:808::1", "64:ff9b::808:808",
		"fe00::1",	 "::2",
	};
	struct netset s;
	netset_zeek_local_default(&s);
	assert_true(s.n > 0);
	for (size_t i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		if (!in_set(&s, local[i]))
			fail_msg("%s should be local", local[i]);
	for (size_t i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
		struct kg_addr a;
		if (!addr_parse(remote[i], &a))
			fail_msg("bad test address %s", remote[i]);
		if (netset_contains(&s, &a))
			fail_msg("%s should not be local", remote[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_netset_parse_accepts),
		cmocka_unit_test(test_netset_parse_rejects),
		cmocka_unit_test(test_netset_contains_v4),
		cmocka_unit_test(test_netset_contains_v6_and_zero_prefix),
		cmocka_unit_test(test_netset_masks_host_bits),
		cmocka_unit_test(test_netset_bounded),
		cmocka_unit_test(test_netset_zeek_local_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
