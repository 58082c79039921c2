/* The engine's decide stage end to end with the real detectors: a knock
 * sequence then access raises the alert; monitor flags the knocker and
 * forwards, enforce blocks it and drops the rest of the flow; the mode
 * switches at run time; the never-block list wins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "../support/pktfeed.h"
#include "engine.h"

#define KNOCKER "203.0.113.7"
#define TARGET "10.0.0.5"

struct seen {
	unsigned alerts, flags, blocks;
	char last_alert[ALERT_NAME_MAX];
	bool last_blocked;
	struct kg_addr last_addr;
	kg_time last_timeout;
};

static struct seen seen;

static void on_alert(void *ctx, const struct alert *a)
{
	(void)ctx;
	seen.alerts++;
	snprintf(seen.last_alert, sizeof(seen.last_alert), "%s", a->name);
	seen.last_blocked = a->blocked;
}

static void on_action(void *ctx, const struct engine_action *a)
{
	(void)ctx;
	if (a->action == POLICY_FLAG)
		seen.flags++;
	else if (a->action == POLICY_BLOCK)
		seen.blocks++;
	seen.last_addr = a->addr;
	seen.last_timeout = a->timeout;
}

static struct engine *new_engine(enum policy_mode mode, const char *never_block)
{
	static struct policy_config pc;
	policy_config_defaults(&pc);
	pc.mode = mode;
	if (never_block)
		assert_true(netset_add(&pc.never_block, never_block));
	struct engine_config cfg;
	engine_config_defaults(&cfg);
	cfg.max_flows = 1024;
	cfg.policy = &pc;
	struct engine_sink sink = {.alert = on_alert, .action = on_action};
	memset(&seen, 0, sizeof(seen));
	struct engine *e = engine_create(&cfg, &sink);
	assert_non_null(e);
	return e;
}

/* Three knocks answered by RST, then a SYN to 22 answered by a SYN-ACK.
 * Returns the verdict on that SYN-ACK. */
static enum verdict knock_to(struct engine *e, const char *target, double t0, uint16_t sport0)
{
	static const uint16_t door[] = {7000, 8000, 9000};
	for (int i = 0; i < 3; i++) {
		double t = t0 + i * 0.1;
		uint16_t sp = (uint16_t)(sport0 + i);
		pf_tcp(e, KNOCKER, target, sp, door[i], t, TCPF_SYN, 100, 0, 0);
		pf_tcp(e, target, KNOCKER, door[i], sp, t + 0.001, TCPF_RST | TCPF_ACK, 0, 101, 0);
	}
	/* 22 was tried and refused before the knock. */
	pf_tcp(e, KNOCKER, target, (uint16_t)(sport0 + 9), 22, t0 - 2, TCPF_SYN, 50, 0, 0);
	pf_tcp(e, target, KNOCKER, 22, (uint16_t)(sport0 + 9), t0 - 1.999, TCPF_RST | TCPF_ACK, 0,
	       51, 0);
	uint16_t sp = (uint16_t)(sport0 + 3);
	pf_tcp(e, KNOCKER, target, sp, 22, t0 + 1.0, TCPF_SYN, 500, 0, 0);
	return pf_tcp(e, target, KNOCKER, 22, sp, t0 + 1.001, TCPF_SYN | TCPF_ACK, 900, 501, 0);
}

static enum verdict knock_then_access(struct engine *e, double t0, uint16_t sport0)
{
	return knock_to(e, TARGET, t0, sport0);
}

static void test_monitor_flags_and_forwards(void **state)
{
	(void)state;
	struct engine *e = new_engine(POLICY_MONITOR, NULL);
	assert_int_equal(knock_then_access(e, 100.0, 40000), VERDICT_ACCEPT);
	assert_true(seen.alerts >= 1);
	assert_true(seen.flags >= 1);
	assert_int_equal(seen.blocks, 0);
	assert_false(seen.last_blocked);
	struct kg_addr knocker;
	assert_true(addr_parse(KNOCKER, &knocker));
	assert_true(addr_eq(&seen.last_addr, &knocker));
	engine_destroy(e);
}

static void test_enforce_blocks_and_drops_flow(void **state)
{
	(void)state;
	struct engine *e = new_engine(POLICY_ENFORCE, NULL);
	assert_int_equal(knock_then_access(e, 100.0, 40000), VERDICT_DROP);
	assert_true(seen.blocks >= 1);
	assert_true(seen.last_blocked);
	assert_true(seen.last_timeout > 0);
	/* The rest of that flow is dropped too. */
	assert_int_equal(pf_tcp(e, KNOCKER, TARGET, 40003, 22, 101.2, TCPF_ACK, 501, 901, 0),
			 VERDICT_DROP);
	/* Another flow of an unrelated host still passes. */
	assert_int_equal(pf_tcp(e, "10.0.0.9", TARGET, 5555, 80, 101.3, TCPF_SYN, 1, 0, 0),
			 VERDICT_ACCEPT);
	assert_true(engine_stats(e)->verdict_drop >= 2);
	engine_destroy(e);
}

static void test_mode_switch_takes_effect_on_next_alert(void **state)
{
	(void)state;
	struct engine *e = new_engine(POLICY_MONITOR, NULL);
	assert_int_equal(knock_then_access(e, 100.0, 40000), VERDICT_ACCEPT);
	engine_set_mode(e, POLICY_ENFORCE);
	assert_int_equal(engine_mode(e), POLICY_ENFORCE);
	/* The same knocker opens another door: this time it is blocked. */
	assert_int_equal(knock_to(e, "10.0.0.6", 200.0, 41000), VERDICT_DROP);
	assert_true(seen.blocks >= 1);
	engine_destroy(e);
}

static void test_never_block_wins(void **state)
{
	(void)state;
	struct engine *e = new_engine(POLICY_ENFORCE, "203.0.113.0/24");
	assert_int_equal(knock_then_access(e, 100.0, 40000), VERDICT_ACCEPT);
	assert_true(seen.alerts >= 1);
	assert_int_equal(seen.blocks, 0);
	assert_int_equal(seen.flags, 0);
	assert_true(engine_policy_stats(e)->never_block_hits >= 1);
	engine_destroy(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_monitor_flags_and_forwards),
		cmocka_unit_test(test_enforce_blocks_and_drops_flow),
		cmocka_unit_test(test_mode_switch_takes_effect_on_next_alert),
		cmocka_unit_test(test_never_block_wins),
	};
	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
