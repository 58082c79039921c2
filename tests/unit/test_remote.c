/* remote policy: rule parsing and its errors, first-match order, actions,
 * severity by service/direction/port, large transfers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "detect/remote.h"
#include "../support/jsoncheck.h"

static void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not in: %s", needle, hay);
}

static struct kg_addr ip(const char *s)
{
	struct kg_addr a;
	assert_true(addr_parse(s, &a));
	return a;
}

static struct remote_config cfg; /* large: static, reset per test */

static void load(const char *rules)
{
	char err[256];
	remote_config_defaults(&cfg);
	/* Zeek's default private space includes the documentation nets used here as
	 * "external" addresses, so name the internal nets explicitly. */
	netset_init(&cfg.internal_nets);
	assert_true(netset_add(&cfg.internal_nets, "10.0.0.0/8"));
	assert_true(netset_add(&cfg.internal_nets, "172.16.0.0/12"));
	assert_true(netset_add(&cfg.internal_nets, "192.168.0.0/16"));
	assert_true(netset_add(&cfg.internal_nets, "fd00::/8"));
	if (!remote_rules_parse(&cfg, rules, "remote.rules", err, sizeof(err)))
		fail_msg("rules refused: %s", err);
}

static struct remote_session session(enum service_id svc, const char *client, const char *server,
				     uint16_t port, bool standard)
{
	struct remote_session s;
	memset(&s, 0, sizeof(s));
	s.ts = KG_SEC(1700000000);
	s.uid = "CRemote1";
	s.service = svc;
	s.confidence = CONF_HIGH;
	s.fingerprint_id = "test-fp";
	s.both_sides = true;
	s.client = ip(client);
	s.server = ip(server);
	s.client_port = 50000;
	s.server_port = port;
	s.proto = TRANSPORT_TCP;
	s.standard_port = standard;
	return s;
}

/* ---------------------------------------------------------------- parsing */

static void test_remote_parse_examples(void **state)
{
	(void)state;
	load("# the spec's examples\n"
	     "ssh 192.0.2.10/32 22 10.0.0.0/8 allow jump host\n"
	     "\n"
	     "   openvpn any any any alert\n"
	     "rdp any any any block\r\n"
	     "vnc any 5900-5903 10.1.0.0/16 action=allow # helpdesk\n"
	     "wg 2001:db8::/32 51820 any\n");
	assert_int_equal(cfg.n_rules, 5);
	const struct remote_rule *r = &cfg.rules[0];
	assert_int_equal(r->service, SVC_SSH);
	assert_false(r->any_server);
	assert_int_equal(r->server_prefix, 96 + 32);
	assert_int_equal(r->port_lo, 22);
	assert_int_equal(r->port_hi, 22);
	assert_int_equal(r->client_prefix, 96 + 8);
	assert_int_equal(r->action, REMOTE_ALLOW);
	assert_string_equal(r->comment, "jump host");
	assert_string_equal(r->id, "remote.rules:2");
	assert_int_equal(cfg.rules[1].service, SVC_OPENVPN);
	assert_true(cfg.rules[1].any_server && cfg.rules[1].any_client);
	assert_int_equal(cfg.rules[1].port_lo, 0);
	assert_int_equal(cfg.rules[1].port_hi, 65535);
	assert_string_equal(cfg.rules[1].id, "remote.rules:4");
	assert_int_equal(cfg.rules[2].action, REMOTE_BLOCK);
	assert_string_equal(cfg.rules[2].comment, "");
	assert_int_equal(cfg.rules[3].service, SVC_RFB);
	assert_int_equal(cfg.rules[3].port_lo, 5900);
	assert_int_equal(cfg.rules[3].port_hi, 5903);
	assert_string_equal(cfg.rules[3].comment, "helpdesk");
	assert_int_equal(cfg.rules[4].service, SVC_WIREGUARD);
	assert_int_equal(cfg.rules[4].action, REMOTE_ALERT);
	assert_int_equal(cfg.rules[4].server_prefix, 32);
	/* A second source appends after the first. */
	char err[128];
	assert_true(remote_rules_parse(&cfg, "any any any any allow", "/etc/kg/rules", err,
				       sizeof(err)));
	assert_int_equal(cfg.n_rules, 6);
	assert_true(cfg.rules[5].any_service);
	assert_string_equal(cfg.rules[5].id, "/etc/kg/rules:1");
}

static void test_remote_parse_errors(void **state)
{
	(void)state;
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"sshd any 22 any", "remote.rules:1: service 'sshd': expected ssh, rdp"},
		{"http any 80 any", "service 'http'"}, /* not a remote-access service */
		{"ssh 10.0.0.0/33 22 any", "remote.rules:1: server '10.0.0.0/33': expected a CIDR"},
		{"ssh any ssh any", "port 'ssh': expected a port 1-65535, a range a-b, or any"},
		{"ssh any 0 any", "port '0'"},
		{"ssh any 65536 any", "port '65536'"},
		{"ssh any 30-20 any", "port '30-20'"},
		{"ssh any 22 10.0.0.1/", "client '10.0.0.1/'"},
		{"ssh any 22", "remote.rules:1: missing client"},
		{"ssh any 22 # no client", "missing client"},
		{"ssh", "missing server"},
		{"ssh any 22 any permit", "action 'permit': expected allow, alert or block"},
		{"ssh any 22 any action=deny", "action 'action=deny'"},
		{"# ok\n\nssh any 22 any\nrdp any x any", "remote.rules:4: port 'x'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[256] = "";
		remote_config_defaults(&cfg);
		if (remote_rules_parse(&cfg, bad[i].text, "remote.rules", err, sizeof(err)))
			fail_msg("accepted '%s'", bad[i].text);
		assert_has(err, bad[i].msg);
		assert_int_equal(cfg.n_rules, 0); /* nothing appended on error */
	}
	/* Too many rules. */
	static char many[REMOTE_RULES_MAX * 20 + 64];
	size_t off = 0;
	for (int i = 0; i <= REMOTE_RULES_MAX; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off, "ssh any %d any\n", i + 1);
	char err[128];
	remote_config_defaults(&cfg);
	assert_false(remote_rules_parse(&cfg, many, "big", err, sizeof(err)));
	assert_has(err, "big:257: more than 256 rules");
}

/* ---------------------------------------------------------------- matching */

static void test_remote_first_match_wins(void **state)
{
	(void)state;
	load("ssh 192.0.2.10 22 10.0.0.0/8 allow jump host\n"
	     "ssh 192.0.2.0/24 any any block\n"
	     "ssh any any 10.0.0.0/8 alert\n"
	     "any any any 10.9.0.0/16 allow\n");
	struct remote_policy pol;
	remote_policy_init(&pol, &cfg);
	struct remote_verdict v;
	struct alert a;

	struct remote_session s = session(SVC_SSH, "10.1.2.3", "192.0.2.10", 22, true);
	assert_false(remote_check(&pol, &s, &v, &a));
	assert_int_equal(v.rule, 0);
	assert_true(v.authorized);

	/* Same server from outside 10/8: falls to rule 2 (block). */
	s = session(SVC_SSH, "198.51.100.7", "192.0.2.10", 22, true);
	assert_true(remote_check(&pol, &s, &v, &a));
	assert_int_equal(v.rule, 1);
	assert_int_equal(remote_rule_action(&pol, v.rule), REMOTE_BLOCK);
	assert_false(a.blocked);
	assert_string_equal(a.policy_rule, "remote.rules:2");
	assert_has(a.evidence, "\"action\":\"block\"");

	/* Port 2222 on the jump host: rule 1 no longer matches, rule 2 does. */
	s = session(SVC_SSH, "10.1.2.3", "192.0.2.10", 2222, false);
	assert_true(remote_check(&pol, &s, &v, &a));
	assert_int_equal(v.rule, 1);

	/* Another server, client in 10/8: rule 3 alert. */
	s = session(SVC_SSH, "10.1.2.3", "203.0.113.5", 22, true);
	assert_true(remote_check(&pol, &s, &v, &a));
	assert_int_equal(v.rule, 2);
	assert_int_equal(v.action, REMOTE_ALERT);

	/* 10.9/16 is allowed anything, but rule 3 comes first for ssh. */
	s = session(SVC_SSH, "10.9.0.1", "203.0.113.5", 22, true);
	assert_true(remote_check(&pol, &s, &v, &a));
	assert_int_equal(v.rule, 2);
	s = session(SVC_RDP, "10.9.0.1", "203.0.113.5", 3389, true);
	assert_false(remote_check(&pol, &s, &v, &a));
	assert_int_equal(v.rule, 3);

	/* No rule: default alert, policy_rule "default", nearest allow rule named. */
	s = session(SVC_SSH, "198.51.100.7", "203.0.113.5", 22, true);
	assert_true(remote_check(&pol, &s, &v, &a));
	assert_int_equal(v.rule, -1);
	assert_int_equal(remote_rule_action(&pol, v.rule), REMOTE_ALERT);
	assert_string_equal(a.policy_rule, "default");
	assert_has(a.evidence, "\"matched_rule\":null");
	assert_has(
		a.evidence,
		"\"nearest_rule\":{\"id\":\"remote.rules:1\",\"action\":\"allow\",\"comment\":\"jump host\"}");
	assert_true(json_valid(a.evidence));
}

static void test_remote_non_remote_services_ignored(void **state)
{
	(void)state;
	load("");
	struct remote_policy pol;
	remote_policy_init(&pol, &cfg);
	struct remote_verdict v;
	struct alert a;
	static const enum service_id ignored[] = {SVC_NONE, SVC_HTTP, SVC_SSL};
	for (size_t i = 0; i < 3; i++) {
		struct remote_session s =
			session(ignored[i], "198.51.100.7", "10.0.0.5", 443, true);
		assert_false(remote_check(&pol, &s, &v, &a));
		assert_false(remote_update_bytes(&pol, &s, &v, &a));
	}
	/* Disabled policy: nothing at all. */
	cfg.enabled = false;
	remote_policy_init(&pol, &cfg);
	struct remote_session s = session(SVC_TELNET, "198.51.100.7", "10.0.0.5", 23, true);
	assert_false(remote_check(&pol, &s, &v, &a));
	/* min_confidence filters port-only matches. */
	load("");
	cfg.min_confidence = CONF_MEDIUM;
	remote_policy_init(&pol, &cfg);
	s.confidence = CONF_LOW;
	assert_false(remote_check(&pol, &s, &v, &a));
	s.confidence = CONF_MEDIUM;
	assert_true(remote_check(&pol, &s, &v, &a));
}

/* ---------------------------------------------------------------- severity */

static void test_remote_severity_and_direction(void **state)
{
	(void)state;
	load("");
	cfg.large_transfer_bytes = 0;
	struct remote_policy pol;
	remote_policy_init(&pol, &cfg);
	struct remote_verdict v;
	struct alert a;
	static const struct {
		enum service_id svc;
		const char *client, *server;
		uint16_t port;
		bool standard;
		enum alert_direction dir;
		enum alert_severity sev;
	} cases[] = {
		/* inbound interactive logins: HIGH */
		{SVC_SSH, "198.51.100.7", "10.0.0.5", 22, true, DIR_INBOUND, SEV_HIGH},
		{SVC_RDP, "198.51.100.7", "192.168.1.5", 3389, true, DIR_INBOUND, SEV_HIGH},
		{SVC_RFB, "198.51.100.7", "172.16.0.5", 5900, true, DIR_INBOUND, SEV_HIGH},
		/* outbound SSH/RDP and VPNs: MEDIUM */
		{SVC_SSH, "10.0.0.5", "198.51.100.7", 22, true, DIR_OUTBOUND, SEV_MEDIUM},
		{SVC_RDP, "10.0.0.5", "198.51.100.7", 3389, true, DIR_OUTBOUND, SEV_MEDIUM},
		{SVC_OPENVPN, "10.0.0.5", "198.51.100.7", 1194, true, DIR_OUTBOUND, SEV_MEDIUM},
		{SVC_WIREGUARD, "10.0.0.5", "198.51.100.7", 51820, true, DIR_OUTBOUND, SEV_MEDIUM},
		{SVC_IKE, "10.0.0.5", "198.51.100.7", 500, true, DIR_OUTBOUND, SEV_MEDIUM},
		{SVC_PPTP, "10.0.0.5", "198.51.100.7", 1723, true, DIR_OUTBOUND, SEV_MEDIUM},
		{SVC_OPENVPN, "198.51.100.7", "10.0.0.5", 1194, true, DIR_INBOUND, SEV_MEDIUM},
		{SVC_SSH, "10.0.0.5", "10.0.0.6", 22, true, DIR_INTERNAL, SEV_MEDIUM},
		/* any TeamViewer/AnyDesk, telnet always, anything off its port: HIGH */
		{SVC_TEAMVIEWER, "10.0.0.5", "198.51.100.7", 5938, true, DIR_OUTBOUND, SEV_HIGH},
		{SVC_ANYDESK, "10.0.0.5", "198.51.100.7", 7070, true, DIR_OUTBOUND, SEV_HIGH},
		{SVC_TELNET, "10.0.0.5", "10.0.0.6", 23, true, DIR_INTERNAL, SEV_HIGH},
		{SVC_TELNET, "10.0.0.5", "198.51.100.7", 23, true, DIR_OUTBOUND, SEV_HIGH},
		{SVC_SSH, "10.0.0.5", "198.51.100.7", 443, false, DIR_OUTBOUND, SEV_HIGH},
		{SVC_OPENVPN, "10.0.0.5", "198.51.100.7", 443, false, DIR_OUTBOUND, SEV_HIGH},
		{SVC_SSH, "198.51.100.8", "198.51.100.7", 22, true, DIR_EXTERNAL, SEV_MEDIUM},
		{SVC_SSH, "2001:db8::1", "fd00::5", 22, true, DIR_INBOUND, SEV_HIGH},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct remote_session s = session(cases[i].svc, cases[i].client, cases[i].server,
						  cases[i].port, cases[i].standard);
		if (!remote_check(&pol, &s, &v, &a))
			fail_msg("case %zu: no alert", i);
		if (a.severity != cases[i].sev || a.direction != cases[i].dir)
			fail_msg("case %zu (%s %s -> %s:%u): severity %d direction %d", i,
				 service_name(cases[i].svc), cases[i].client,
				 cases[i].server, cases[i].port, a.severity, a.direction);
		assert_string_equal(a.name, "Remote::Unauthorized_Session");
		assert_int_equal(a.technique, TECH_REMOTE_SERVICE);
		assert_string_equal(a.service, service_name(cases[i].svc));
		assert_true(json_valid(a.evidence));
	}
}

static void test_remote_alert_fields_and_detail(void **state)
{
	(void)state;
	load("");
	struct remote_policy pol;
	remote_policy_init(&pol, &cfg);
	struct remote_session s = session(SVC_SSH, "198.51.100.7", "10.0.0.5", 2222, false);
	s.detail =
		"\"banner\":{\"client\":\"SSH-2.0-OpenSSH_9.2p1\",\"server\":\"SSH-2.0-dropbear\"}";
	s.match_offset = 0;
	s.history = "ShAD";
	s.orig_bytes = 100;
	s.resp_bytes = 200;
	struct remote_verdict v;
	struct alert a;
	assert_true(remote_check(&pol, &s, &v, &a));
	assert_string_equal(a.uid, "CRemote1");
	assert_int_equal(a.resp_p, 2222);
	assert_int_equal(a.orig_p, 50000);
	assert_string_equal(a.history, "ShAD");
	assert_null(a.conn_state);
	assert_int_equal(a.orig_bytes, 100);
	assert_true(json_valid(a.evidence));
	assert_has(a.evidence, "\"detected\":\"ssh\"");
	assert_has(a.evidence, "\"fingerprint_id\":\"test-fp\"");
	assert_has(a.evidence, "\"standard_port\":false");
	assert_has(a.evidence, "\"confirmed_both_sides\":true");
	assert_has(a.evidence, "\"banner\":{\"client\":\"SSH-2.0-OpenSSH_9.2p1\"");
	assert_has(a.evidence, "\"authorized\":false");
	assert_has(a.msg, "inbound ssh");
	assert_has(a.msg, "non-standard port");
	/* A detail too long for the evidence is dropped, the rest kept valid. */
	static char huge[SERVICE_DETAIL_MAX * 6];
	memset(huge, 'x', sizeof(huge) - 1);
	memcpy(huge, "\"x\":\"", 5);
	huge[sizeof(huge) - 2] = '"';
	s.detail = huge;
	assert_true(remote_check(&pol, &s, &v, &a));
	assert_true(json_valid(a.evidence));
	assert_has(a.evidence, "\"detected\":\"ssh\"");
	assert_null(strstr(a.evidence, "xxxxxxxx"));
}

/* ---------------------------------------------------------------- large transfer */

static void test_remote_large_transfer_once(void **state)
{
	(void)state;
	load("ssh 10.0.0.5 22 any allow backups\n");
	cfg.large_transfer_bytes = 1000000;
	struct remote_policy pol;
	remote_policy_init(&pol, &cfg);
	struct remote_verdict v;
	struct alert a;
	/* Unauthorized RDP grows past the threshold: one alert. */
	struct remote_session s = session(SVC_RDP, "198.51.100.7", "10.0.0.6", 3389, true);
	assert_true(remote_check(&pol, &s, &v, &a));
	s.orig_bytes = 400000;
	s.resp_bytes = 500000;
	assert_false(remote_update_bytes(&pol, &s, &v, &a));
	s.resp_bytes = 600000;
	assert_true(remote_update_bytes(&pol, &s, &v, &a));
	assert_string_equal(a.name, "Remote::Large_Transfer");
	assert_int_equal(a.severity, SEV_HIGH); /* inbound RDP keeps its HIGH */
	assert_has(a.evidence, "\"bytes\":1000000");
	assert_has(a.evidence, "\"threshold\":1000000");
	assert_true(json_valid(a.evidence));
	s.resp_bytes = 9000000;
	assert_false(remote_update_bytes(&pol, &s, &v, &a));
	/* An authorized session too, at LOW. */
	s = session(SVC_SSH, "198.51.100.9", "10.0.0.5", 22, true);
	assert_false(remote_check(&pol, &s, &v, &a));
	assert_true(v.authorized);
	s.orig_bytes = 5000000;
	assert_true(remote_update_bytes(&pol, &s, &v, &a));
	assert_int_equal(a.severity, SEV_LOW);
	assert_string_equal(a.policy_rule, "remote.rules:1");
	assert_has(a.msg, "Authorized ssh");
	/* Never checked: nothing. Threshold 0: disabled. */
	struct remote_verdict fresh;
	memset(&fresh, 0, sizeof(fresh));
	assert_false(remote_update_bytes(&pol, &s, &fresh, &a));
	cfg.large_transfer_bytes = 0;
	remote_policy_init(&pol, &cfg);
	assert_false(remote_check(&pol, &s, &v, &a));
	assert_false(remote_update_bytes(&pol, &s, &v, &a));
}

static void test_remote_names(void **state)
{
	(void)state;
	assert_string_equal(service_name(SVC_RFB), "rfb");
	assert_string_equal(service_name(SVC_IKE), "ike");
	assert_string_equal(service_name(SVC_WIREGUARD), "wireguard");
	assert_string_equal(service_name(SVC_NONE), "");
	for (int id = SVC_SSH; id < SVC_COUNT; id++)
		assert_true(service_name((enum service_id)id)[0] != '\0');
	assert_true(service_is_remote_access(SVC_TAILSCALE));
	assert_false(service_is_remote_access(SVC_SSL));
	assert_string_equal(remote_action_name(REMOTE_BLOCK), "block");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remote_parse_examples),
		cmocka_unit_test(test_remote_parse_errors),
		cmocka_unit_test(test_remote_first_match_wins),
		cmocka_unit_test(test_remote_non_remote_services_ignored),
		cmocka_unit_test(test_remote_severity_and_direction),
		cmocka_unit_test(test_remote_alert_fields_and_detail),
		cmocka_unit_test(test_remote_large_transfer_once),
		cmocka_unit_test(test_remote_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
