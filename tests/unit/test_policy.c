/* policy: monitor flags, enforce blocks and drops, never-block always wins,
 * the rate limit holds blocks back but not drops, min_severity, mode switch
 * keeps state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

#define T0 KG_SEC(1700000000)

static struct kg_addr ip(const char *s)
{
	struct kg_addr a;
	assert_true(addr_parse(s, &a));
	return a;
}

static struct alert mk_alert(const char *src, enum alert_technique t, enum alert_severity sev)
{
	struct alert a;
	memset(&a, 0, sizeof(a));
	a.ts = T0;
	snprintf(a.name, sizeof(a.name), "Test::Alert");
	a.technique = t;
	a.severity = sev;
	a.orig_h = ip(src);
	a.resp_h = ip("192.0.2.53");
	return a;
}

static void test_defaults_and_names(void **state)
{
	(void)state;
	struct policy_config c;
	policy_config_defaults(&c);
	assert_int_equal(c.mode, POLICY_MONITOR);
	assert_int_equal(c.never_block.n, 0);
	assert_int_equal(c.min_severity, SEV_MEDIUM);
	assert_true(c.flag_timeout > 0);
	for (int t = 0; t < 3; t++)
		assert_true(c.block_timeout[t] > 0);
	assert_string_equal(policy_mode_name(POLICY_MONITOR), "monitor");
	assert_string_equal(policy_mode_name(POLICY_ENFORCE), "enforce");
	enum policy_mode m = POLICY_MONITOR;
	assert_true(policy_mode_parse("enforce", &m));
	assert_int_equal(m, POLICY_ENFORCE);
	assert_true(policy_mode_parse("monitor", &m));
	assert_int_equal(m, POLICY_MONITOR);
	assert_false(policy_mode_parse("Enforce", &m));
	assert_false(policy_mode_parse("", &m));
	assert_false(policy_mode_parse("enforced", &m));
	assert_int_equal(m, POLICY_MONITOR); /* untouched on failure */
	assert_string_equal(policy_action_name(POLICY_NONE), "none");
	assert_string_equal(policy_action_name(POLICY_FLAG), "flag");
	assert_string_equal(policy_action_name(POLICY_BLOCK), "block");
}

static void test_monitor_flags_originator(void **state)
{
	(void)state;
	struct policy_config c;
	policy_config_defaults(&c);
	c.flag_timeout = KG_SEC(123);
	struct policy p;
	policy_init(&p, &c);
	struct alert a = mk_alert("198.51.100.7", TECH_PORT_KNOCK, SEV_HIGH);
	struct policy_decision d;
	policy_decide(&p, &a, T0, &d);
	assert_int_equal(d.action, POLICY_FLAG);
	struct kg_addr want = ip("198.51.100.7");
	assert_true(addr_eq(&d.addr, &want));
	assert_int_equal(d.timeout, KG_SEC(123));
	assert_false(d.drop_flow);
	assert_false(d.never_blocked);
	assert_false(d.rate_limited);
	assert_int_equal(p.stats.flagged, 1);
	assert_int_equal(p.stats.blocked, 0);
	/* Monitor flags are not rate limited. */
	c.max_blocks_per_minute = 1;
	policy_init(&p, &c);
	for (int i = 0; i < 10; i++) {
		policy_decide(&p, &a, T0 + i, &d);
		assert_int_equal(d.action, POLICY_FLAG);
	}
	assert_int_equal(p.stats.flagged, 10);
	assert_int_equal(p.stats.rate_limited, 0);
}

static void test_enforce_blocks_with_technique_timeout(void **state)
{
	(void)state;
	struct policy_config c;
	policy_config_defaults(&c);
	c.mode = POLICY_ENFORCE;
	c.block_timeout[TECH_PORT_KNOCK] = KG_SEC(11);
	c.block_timeout[TECH_BITS] = KG_SEC(22);
	c.block_timeout[TECH_REMOTE_SERVICE] = KG_SEC(33);
	struct policy p;
	policy_init(&p, &c);
	static const kg_time want[3] = {KG_SEC(11), KG_SEC(22), KG_SEC(33)};
	for (int t = 0; t < 3; t++) {
		struct alert a = mk_alert("2001:db8::5", (enum alert_technique)t, SEV_MEDIUM);
		struct policy_decision d;
		policy_decide(&p, &a, T0, &d);
		assert_int_equal(d.action, POLICY_BLOCK);
		assert_int_equal(d.timeout, want[t]);
		assert_true(d.drop_flow);
		assert_true(addr_eq(&d.addr, &a.orig_h));
		assert_false(addr_eq(&d.addr, &a.resp_h));
	}
	assert_int_equal(p.stats.blocked, 3);
	assert_int_equal(p.stats.flagged, 0);
}

static void test_never_block_wins(void **state)
{
	(void)state;
	struct policy_config c;
	policy_config_defaults(&c);
	assert_true(netset_add(&c.never_block, "192.0.2.53"));
	assert_true(netset_add(&c.never_block, "10.1.0.0/16"));
	assert_true(netset_add(&c.never_block, "fd00:53::/64"));
	static const char *const protected[] = {"192.0.2.53", "10.1.200.3", "fd00:53::1"};
	for (int mode = 0; mode < 2; mode++) {
		c.mode = (enum policy_mode)mode;
		struct policy p;
		policy_init(&p, &c);
		for (size_t i = 0; i < 3; i++) {
			/* A spoofed knock "from" the DNS server, at the highest severity. */
			struct alert a = mk_alert(protected[i], TECH_PORT_KNOCK, SEV_CRITICAL);
			struct policy_decision d;
			policy_decide(&p, &a, T0, &d);
			assert_int_equal(d.action, POLICY_NONE);
			assert_true(d.never_blocked);
			assert_false(d.drop_flow);
			assert_int_equal(d.timeout, 0);
		}
		assert_int_equal(p.stats.never_block_hits, 3);
		assert_int_equal(p.stats.blocked + p.stats.flagged, 0);
		/* Next door is not protected. */
		struct alert b = mk_alert("192.0.2.54", TECH_PORT_KNOCK, SEV_CRITICAL);
		struct policy_decision d;
		policy_decide(&p, &b, T0, &d);
		assert_int_equal(d.action, mode ? POLICY_BLOCK : POLICY_FLAG);
		assert_false(d.never_blocked);
	}
}

static void test_min_severity(void **state)
{
	(void)state;
	struct policy_config c;
	policy_config_defaults(&c);
	c.mode = POLICY_ENFORCE;
	c.min_severity = SEV_HIGH;
	struct policy p;
	policy_init(&p, &c);
	static const struct {
		enum alert_severity sev;
		enum policy_action want;
	} cases[] = {{SEV_INFO, POLICY_NONE},
		     {SEV_LOW, POLICY_NONE},
		     {SEV_MEDIUM, POLICY_NONE},
		     {SEV_HIGH, POLICY_BLOCK},
		     {SEV_CRITICAL, POLICY_BLOCK}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct alert a = mk_alert("203.0.113.9", TECH_BITS, cases[i].sev);
		struct policy_decision d;
		policy_decide(&p, &a, T0, &d);
		assert_int_equal(d.action, cases[i].want);
		assert_int_equal(d.drop_flow, cases[i].want == POLICY_BLOCK);
		assert_false(d.never_blocked);
		assert_false(d.rate_limited);
	}
	assert_int_equal(p.stats.blocked, 2);
	/* Below min_severity a never-block host is not even counted. */
	assert_true(netset_add(&p.cfg.never_block, "203.0.113.9"));
	struct alert low = mk_alert("203.0.113.9", TECH_BITS, SEV_LOW);
	struct policy_decision d;
	policy_decide(&p, &low, T0, &d);
	assert_false(d.never_blocked);
	assert_int_equal(p.stats.never_block_hits, 0);
}

static void test_rate_limit_fixed_window(void **state)
{
	(void)state;
	struct policy_config c;
	policy_config_defaults(&c);
	c.mode = POLICY_ENFORCE;
	c.max_blocks_per_minute = 3;
	struct policy p;
	policy_init(&p, &c);
	char src[32];
	struct policy_decision d;
	unsigned blocked = 0, limited = 0;
	/* 10 alerts in the first 10 s: 3 blocks, 7 held back but dropped. */
	for (int i = 0; i < 10; i++) {
		snprintf(src, sizeof(src), "198.51.100.%d", i + 1);
		struct alert a = mk_alert(src, TECH_PORT_KNOCK, SEV_HIGH);
		policy_decide(&p, &a, T0 + KG_SEC(i), &d);
		assert_true(d.drop_flow);
		if (d.action == POLICY_BLOCK) {
			assert_false(d.rate_limited);
			blocked++;
		} else {
			assert_int_equal(d.action, POLICY_NONE);
			assert_true(d.rate_limited);
			assert_int_equal(d.timeout, 0);
			limited++;
		}
		assert_int_equal(blocked, i < 3 ? (unsigned)i + 1 : 3u);
	}
	assert_int_equal(limited, 7);
	assert_int_equal(p.stats.blocked, 3);
	assert_int_equal(p.stats.rate_limited, 7);
	/* Still inside the window (opened at T0) at T0 + 59.999 s. */
	struct alert a = mk_alert("198.51.100.99", TECH_PORT_KNOCK, SEV_HIGH);
	policy_decide(&p, &a, T0 + KG_MSEC(59999), &d);
	assert_true(d.rate_limited);
	/* A new window at T0 + 60 s. */
	for (int i = 0; i < 3; i++) {
		policy_decide(&p, &a, T0 + KG_SEC(60) + i, &d);
		assert_int_equal(d.action, POLICY_BLOCK);
	}
	policy_decide(&p, &a, T0 + KG_SEC(61), &d);
	assert_true(d.rate_limited);
	assert_int_equal(p.stats.blocked, 6);
	assert_int_equal(p.stats.rate_limited, 9);

	/* Never-block hits do not use up the budget. */
	policy_init(&p, &c);
	assert_true(netset_add(&p.cfg.never_block, "192.0.2.53"));
	struct alert dns = mk_alert("192.0.2.53", TECH_PORT_KNOCK, SEV_HIGH);
	for (int i = 0; i < 10; i++)
		policy_decide(&p, &dns, T0, &d);
	policy_decide(&p, &a, T0, &d);
	assert_int_equal(d.action, POLICY_BLOCK);

	/* 0: no limit. */
	c.max_blocks_per_minute = 0;
	policy_init(&p, &c);
	for (int i = 0; i < 1000; i++) {
		policy_decide(&p, &a, T0, &d);
		assert_int_equal(d.action, POLICY_BLOCK);
	}
	assert_int_equal(p.stats.rate_limited, 0);
}

static void test_time_going_backwards_reopens_window(void **state)
{
	(void)state;
	struct policy_config c;
	policy_config_defaults(&c);
	c.mode = POLICY_ENFORCE;
	c.max_blocks_per_minute = 1;
	struct policy p;
	policy_init(&p, &c);
	struct alert a = mk_alert("198.51.100.1", TECH_PORT_KNOCK, SEV_HIGH);
	struct policy_decision d;
	policy_decide(&p, &a, T0, &d);
	assert_int_equal(d.action, POLICY_BLOCK);
	policy_decide(&p, &a, T0 + 1, &d);
	assert_true(d.rate_limited);
	/* A clock step back (queue timestamps are wall time) must not freeze
	 * the limiter for the length of the step. */
	policy_decide(&p, &a, T0 - KG_SEC(3600), &d);
	assert_int_equal(d.action, POLICY_BLOCK);
}

static void test_mode_switch_keeps_state(void **state)
{
	(void)state;
	struct policy_config c;
	policy_config_defaults(&c);
	c.max_blocks_per_minute = 2;
	struct policy p;
	policy_init(&p, &c);
	struct alert a = mk_alert("198.51.100.1", TECH_PORT_KNOCK, SEV_HIGH);
	struct policy_decision d;
	policy_decide(&p, &a, T0, &d);
	assert_int_equal(d.action, POLICY_FLAG);

	policy_set_mode(&p, POLICY_ENFORCE);
	assert_int_equal(p.cfg.mode, POLICY_ENFORCE);
	policy_decide(&p, &a, T0 + 1, &d);
	policy_decide(&p, &a, T0 + 2, &d);
	assert_int_equal(d.action, POLICY_BLOCK);
	policy_decide(&p, &a, T0 + 3, &d);
	assert_true(d.rate_limited);

	/* Back and forth: counters and the rate window stay. */
	policy_set_mode(&p, POLICY_MONITOR);
	policy_decide(&p, &a, T0 + 4, &d);
	assert_int_equal(d.action, POLICY_FLAG);
	policy_set_mode(&p, POLICY_ENFORCE);
	policy_decide(&p, &a, T0 + 5, &d);
	assert_true(d.rate_limited);
	assert_int_equal(p.stats.flagged, 2);
	assert_int_equal(p.stats.blocked, 2);
	assert_int_equal(p.stats.rate_limited, 2);
	/* The config passed to init is copied: later changes to it do nothing. */
	c.mode = POLICY_MONITOR;
	policy_decide(&p, &a, T0 + 6, &d);
	assert_true(d.drop_flow);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_names),
		cmocka_unit_test(test_monitor_flags_originator),
		cmocka_unit_test(test_enforce_blocks_with_technique_timeout),
		cmocka_unit_test(test_never_block_wins),
		cmocka_unit_test(test_min_severity),
		cmocka_unit_test(test_rate_limit_fixed_window),
		cmocka_unit_test(test_time_going_backwards_reopens_window),
		cmocka_unit_test(test_mode_switch_keeps_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
