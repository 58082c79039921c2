/* config: the INI file onto struct kg_config; the shipped conf/knockguard.conf
 * equals the defaults; every error names file, line, section, key, value and
 * what is allowed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

/* The project root, from this file's path (tests run from the root). */
static void root_path(char *out, size_t cap, const char *rel)
{
	const char *here = __FILE__; /* "[...]tests/unit/test_config.c" */
	const char *cut = strstr(here, "tests/unit/test_config.c");
	char cwd[256] = "";
	if (here[0] != '/' && getcwd(cwd, sizeof(cwd) - 1) != NULL)
		strcat(cwd, "/");
	snprintf(out, cap, "%s%.*s%s", cwd, (int)(cut - here), here, rel);
}

struct tmpconf {
	char dir[32];
	char path[64];
};

static void tmp_dir(struct tmpconf *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/kg-config.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/knockguard.conf", t->dir);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void tmp_remove(struct tmpconf *t, const char *const *names)
{
	char p[128];
	for (; names && *names; names++) {
		snprintf(p, sizeof(p), "%s/%s", t->dir, *names);
		unlink(p);
	}
	unlink(t->path);
	assert_int_equal(rmdir(t->dir), 0);
}

/* kg_config is large (the BITS suffix lists): keep them off the stack. */
static struct kg_config cfg_a, cfg_b;

static bool load_text(const char *text, struct kg_config *cfg, char *err, size_t errlen)
{
	struct tmpconf t;
	tmp_dir(&t);
	write_file(t.path, text);
	bool ok = config_load(t.path, cfg, err, errlen);
	/* Messages start with the path given; make them comparable. */
	if (!ok && strncmp(err, t.path, strlen(t.path)) == 0) {
		char rest[CONFIG_ERR_MAX];
		snprintf(rest, sizeof(rest), "%s", err + strlen(t.path));
		if (snprintf(err, errlen, "FILE%s", rest) >= (int)errlen)
			fail_msg("message too long: %s", rest);
	}
	tmp_remove(&t, NULL);
	return ok;
}

static void assert_loads(const char *text, struct kg_config *cfg)
{
	char err[CONFIG_ERR_MAX];
	if (!load_text(text, cfg, err, sizeof(err)))
		fail_msg("refused: %s\n%s", err, text);
}

/* --- the shipped file ------------------------------------------------------ */

/* Equal configs, section by section, so a failure says where. */
static void assert_config_equal(const struct kg_config *a, const struct kg_config *b)
{
#define SECTION_EQUAL(m)                                                                           \
	do {                                                                                       \
		const unsigned char *pa = (const void *)&a->m, *pb = (const void *)&b->m;          \
		for (size_t i = 0; i < sizeof(a->m); i++)                                          \
			if (pa[i] != pb[i])                                                        \
				fail_msg("[%s] differs at byte %zu of struct %s (%#x != %#x)", #m, \
					 i, #m, pa[i], pb[i]);                                     \
	} while (0)
	SECTION_EQUAL(engine);
	SECTION_EQUAL(log);
	SECTION_EQUAL(syslog);
	SECTION_EQUAL(knock);
	SECTION_EQUAL(bits);
	SECTION_EQUAL(remote);
	SECTION_EQUAL(remote_sessions);
	SECTION_EQUAL(inventory_size);
	SECTION_EQUAL(policy);
	SECTION_EQUAL(daemon);
	SECTION_EQUAL(nfq);
	SECTION_EQUAL(nft);
#undef SECTION_EQUAL
	assert_memory_equal(a, b, sizeof(*a));
}

/* The shipped file as is (every key commented) loads to the defaults, and so
 * does it with every ';key = default' line uncommented: each documented
 * default is the real one, and each key exists. */
static void test_shipped_conf_equals_defaults(void **state)
{
	(void)state;
	char conf[512], err[CONFIG_ERR_MAX];
	root_path(conf, sizeof(conf), "conf/knockguard.conf");
	config_defaults(&cfg_a);
	if (!config_load(conf, &cfg_b, err, sizeof(err)))
		fail_msg("%s", err);
	assert_config_equal(&cfg_a, &cfg_b);

	FILE *f = fopen(conf, "r");
	assert_non_null(f);
	static char text[65536];
	size_t len = 0, uncommented = 0;
	char line[1024];
	while (fgets(line, sizeof(line), f)) {
		const char *l = line;
		if (line[0] == ';') {
			l = line + 1;
			uncommented++;
		}
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s", l);
	}
	fclose(f);
	assert_true(len < sizeof(text) - 1);
	memset(&cfg_b, 0x5a, sizeof(cfg_b));
	assert_loads(text, &cfg_b);
	assert_config_equal(&cfg_a, &cfg_b);

	/* Every key is documented, exactly once ("known_sequence.*" and
	 * "rule.*" by example). */
	size_t plain = 0;
	for (size_t i = 0; i < config_key_count(); i++) {
		char name[96], want[128];
		config_key_name(i, name, sizeof(name));
		char *dot = strchr(name, '.');
		assert_non_null(dot);
		*dot = '\0';
		size_t kl = strlen(dot + 1);
		if (dot[kl] == '*') {
			snprintf(want, sizeof(want), "#   %.*s", (int)kl - 1, dot + 1);
			if (!strstr(text, want))
				fail_msg("[%s] %s* has no example", name, dot + 1);
			continue;
		}
		plain++;
		/* find "[section]" then "\nkey = " before the next section */
		snprintf(want, sizeof(want), "\n[%s]\n", name);
		const char *sec = strstr(text, want);
		if (sec == NULL)
			fail_msg("section [%s] is not in the shipped file", name);
		const char *next = strstr(sec + 1, "\n[");
		snprintf(want, sizeof(want), "\n%s =", dot + 1);
		const char *at = strstr(sec, want);
		if (at == NULL || (next && at > next))
			fail_msg("[%s] %s is not documented", name, dot + 1);
		const char *again = strstr(at + 1, want);
		if (again && (!next || again < next))
			fail_msg("[%s] %s is documented twice", name, dot + 1);
	}
	assert_int_equal(uncommented, plain);
}

/* conf/bits-allowlist.conf is what the built-in allowlist says. */
static void test_shipped_allowlist_equals_builtin(void **state)
{
	(void)state;
	char list[512], text[1024];
	root_path(list, sizeof(list), "conf/bits-allowlist.conf");
	snprintf(text, sizeof(text), "[bits]\nallowlist_file = %s\n", list);
	config_defaults(&cfg_a);
	assert_loads(text, &cfg_b);
	assert_true(cfg_b.bits.allowlist.n > 10);
	assert_int_equal(cfg_a.bits.allowlist.n, cfg_b.bits.allowlist.n);
	for (size_t i = 0; i < cfg_a.bits.allowlist.n; i++)
		assert_string_equal(cfg_a.bits.allowlist.entry[i], cfg_b.bits.allowlist.entry[i]);
}

/* --- values ---------------------------------------------------------------- */

static void test_every_section_applied(void **state)
{
	(void)state;
	struct kg_config *c = &cfg_a;
	assert_loads("# a comment\n"
		     "[engine]\n"
		     "max_flows = 1000\n"
		     "local_nets = 10.0.0.0/8, fd00::/8 ,192.0.2.1\n"
		     "ignore_checksums = yes\n"
		     "[log]\n"
		     "dir = /var/log/knockguard\n"
		     "format = json ; inline comment\n"
		     "[syslog]\n"
		     "enabled = true\n"
		     "transport = tcp\n"
		     "path = /run/kg.sock\n"
		     "host = collector.example\n"
		     "port = 6514\n"
		     "format = rfc3164\n"
		     "facility = daemon\n"
		     "queue_max = 10\n"
		     "[knock]\n"
		     "enabled = off\n"
		     "sequence_window = 12.5\n"
		     "min_ports = 4\n"
		     "max_ports = 20\n"
		     "score_medium = -2\n"
		     "spa_min_entropy = 4.25\n"
		     "known_sequence_severity = critical\n"
		     "allowlist = 198.51.100.0/24\n"
		     "known_sequence.door = 10.0.0.5/32 7000,8000:udp,9000\n"
		     "known_sequence.named = any 1111,2222,3333 mydoor\n"
		     "[bits]\n"
		     "log_allowlisted = 0\n"
		     "upload_large_bytes = 1234\n"
		     "suppress = 0\n"
		     "allowlist_extra = wsus.corp.example, .sccm.corp.example\n"
		     "[remote]\n"
		     "large_transfer_bytes = 0\n"
		     "min_confidence = high\n"
		     "rule.jump = ssh 192.0.2.10/32 22 10.0.0.0/8 allow jump host\n"
		     "rule.vpn = openvpn any any any block\n"
		     "session_table_size = 100\n"
		     "inventory_size = 50\n",
		     c);
	struct kg_addr a;
	assert_int_equal(c->engine.max_flows, 1000);
	assert_int_equal(c->engine.local_nets.n, 3);
	assert_true(addr_parse("10.9.8.7", &a) && netset_contains(&c->engine.local_nets, &a));
	assert_true(addr_parse("fd12::1", &a) && netset_contains(&c->engine.local_nets, &a));
	assert_true(addr_parse("192.0.2.1", &a) && netset_contains(&c->engine.local_nets, &a));
	assert_true(addr_parse("192.168.1.1", &a) && !netset_contains(&c->engine.local_nets, &a));
	assert_true(c->engine.ignore_checksums);
	assert_string_equal(c->log.dir, "/var/log/knockguard");
	assert_int_equal(c->log.format, CONNLOG_JSON);
	assert_true(c->syslog.enabled);
	assert_int_equal(c->syslog.client.transport, SYSLOG_TCP);
	assert_string_equal(c->syslog.client.path, "/run/kg.sock");
	assert_string_equal(c->syslog.client.host, "collector.example");
	assert_int_equal(c->syslog.client.port, 6514);
	assert_int_equal(c->syslog.format, SYSLOG_RFC3164);
	assert_int_equal(c->syslog.facility, 3);
	assert_int_equal(c->syslog.client.queue_max, 10);
	assert_false(c->knock.enabled);
	assert_int_equal(c->knock.w_seq, KG_MSEC(12500));
	assert_int_equal(c->knock.k_min, 4);
	assert_int_equal(c->knock.k_max, 20);
	assert_int_equal(c->knock.score_medium, -2);
	assert_true(c->knock.spa_min_entropy == 4.25);
	assert_int_equal(c->knock.known_sequence_severity, SEV_CRITICAL);
	assert_true(addr_parse("198.51.100.7", &a) &&
		    netset_contains(&c->knock.knock_allowlist, &a));
	assert_int_equal(c->knock.n_known, 2);
	assert_string_equal(c->knock.known[0].name, "door"); /* from the label */
	assert_int_equal(c->knock.known[0].n_ports, 3);
	assert_int_equal(c->knock.known[0].ports[1].port, 8000);
	assert_int_equal(c->knock.known[0].ports[1].ip_proto, 17);
	assert_string_equal(c->knock.known[1].name, "mydoor");
	assert_false(c->bits.log_allowlisted);
	assert_int_equal(c->bits.upload_large_bytes, 1234);
	assert_int_equal(c->bits.suppress, 0);
	config_defaults(&cfg_b);
	assert_int_equal(c->bits.allowlist.n, cfg_b.bits.allowlist.n + 2);
	assert_non_null(bits_suffix_list_match(&c->bits.allowlist, "a.wsus.corp.example", "/"));
	assert_non_null(bits_suffix_list_match(&c->bits.allowlist, "x.sccm.corp.example", "/"));
	assert_int_equal(c->remote.large_transfer_bytes, 0);
	assert_int_equal(c->remote.min_confidence, CONF_HIGH);
	assert_int_equal(c->remote.n_rules, 2);
	assert_int_equal(c->remote.rules[0].action, REMOTE_ALLOW);
	assert_int_equal(c->remote.rules[0].port_lo, 22);
	assert_string_equal(c->remote.rules[0].id, "knockguard.conf:37");
	assert_int_equal(c->remote.rules[1].action, REMOTE_BLOCK);
	assert_int_equal(c->remote_sessions, 100);
	assert_int_equal(c->inventory_size, 50);
	/* internal_nets not set: the same as local_nets */
	assert_memory_equal(&c->remote.internal_nets, &c->engine.local_nets, sizeof(struct netset));
	/* untouched keys keep their defaults */
	assert_int_equal(c->knock.max_gap, cfg_b.knock.max_gap);
	assert_int_equal(c->bits.max_pairs, cfg_b.bits.max_pairs);

	struct engine_config ec;
	config_engine(c, &ec);
	assert_int_equal(ec.max_flows, 1000);
	assert_true(ec.ignore_checksums);
	assert_ptr_equal(ec.local_nets, &c->engine.local_nets);
	static struct detect_config dc;
	config_detect(c, &dc);
	assert_false(dc.knock.enabled);
	assert_int_equal(dc.knock.n_known, 2);
	assert_int_equal(dc.bits.upload_large_bytes, 1234);
	assert_int_equal(dc.remote.n_rules, 2);
	assert_int_equal(dc.remote_sessions, 100);
	assert_int_equal(dc.inventory_size, 50);
}

static void test_names_case_and_private(void **state)
{
	(void)state;
	struct kg_config *c = &cfg_a;
	assert_loads("[SYSLOG]\nTransport = UDP\nEnabled = YES\n"
		     "[Engine]\nlocal_nets = private, 198.51.0.0/16\n"
		     "[remote]\ninternal_nets = 172.16.0.0/12\n",
		     c);
	assert_int_equal(c->syslog.client.transport, SYSLOG_UDP);
	assert_true(c->syslog.enabled);
	config_defaults(&cfg_b);
	assert_int_equal(c->engine.local_nets.n, cfg_b.engine.local_nets.n + 1);
	assert_int_equal(c->remote.internal_nets.n, 1);
	struct kg_addr a;
	assert_true(addr_parse("10.1.1.1", &a));
	assert_true(netset_contains(&c->engine.local_nets, &a));
	assert_false(netset_contains(&c->remote.internal_nets, &a));
	/* an empty list is allowed: nothing is local */
	assert_loads("[engine]\nlocal_nets =\n", c);
	assert_int_equal(c->engine.local_nets.n, 0);
	assert_int_equal(c->remote.internal_nets.n, 0);
}

/* Files named by keys: relative to the config's directory; inline rules
 * first, then the file's. */
static void test_named_files(void **state)
{
	(void)state;
	struct tmpconf t;
	char err[CONFIG_ERR_MAX];
	static const char *const files[] = {"allow.txt", "rules.txt", NULL};
	tmp_dir(&t);
	write_file(t.path, "[bits]\n"
			   "allowlist_extra = extra.example\n"
			   "allowlist_file = allow.txt\n"
			   "[remote]\n"
			   "rules_file = rules.txt\n"
			   "rule.first = rdp any 3389 any allow\n");
	char p[128];
	snprintf(p, sizeof(p), "%s/allow.txt", t.dir);
	write_file(p, "# mine\nupdates.corp.example\n");
	snprintf(p, sizeof(p), "%s/rules.txt", t.dir);
	write_file(p, "# rules\n\nssh any 22 any alert\nvnc any any any block\n");
	if (!config_load(t.path, &cfg_a, err, sizeof(err)))
		fail_msg("%s", err);
	/* the file replaced the built-in list; the extra came on top, whatever
	 * the order of the keys */
	assert_int_equal(cfg_a.bits.allowlist.n, 2);
	assert_non_null(bits_suffix_list_match(&cfg_a.bits.allowlist, "updates.corp.example", "/"));
	assert_non_null(bits_suffix_list_match(&cfg_a.bits.allowlist, "extra.example", "/"));
	assert_null(bits_suffix_list_match(&cfg_a.bits.allowlist, "windowsupdate.com", "/"));
	assert_int_equal(cfg_a.remote.n_rules, 3);
	assert_string_equal(cfg_a.remote.rules[0].id, "knockguard.conf:6");
	assert_int_equal(cfg_a.remote.rules[0].port_lo, 3389);
	assert_string_equal(cfg_a.remote.rules[1].id, "rules.txt:3");
	assert_string_equal(cfg_a.remote.rules[2].id, "rules.txt:4");
	assert_int_equal(cfg_a.remote.rules[2].action, REMOTE_BLOCK);

	/* A bad rule in the file: its line, under the key that named it. */
	write_file(p, "ssh any 22 any alert\nssh any sshport any\n");
	assert_false(config_load(t.path, &cfg_a, err, sizeof(err)));
	assert_non_null(strstr(err, "knockguard.conf:5: [remote] rules_file = 'rules.txt': "
				    "rules.txt:2: port 'sshport'"));
	unlink(p);
	assert_false(config_load(t.path, &cfg_a, err, sizeof(err)));
	assert_non_null(strstr(err, "knockguard.conf:5: [remote] rules_file = 'rules.txt': "
				    "cannot read "));
	assert_non_null(strstr(err, "/rules.txt: No such file or directory"));
	tmp_remove(&t, files);
}

/* [policy] [daemon] [nfq] [nft], and the [knock] in-progress keys. */
static void test_live_sections_applied(void **state)
{
	(void)state;
	struct kg_config *c = &cfg_a;
	assert_loads("[policy]\n"
		     "mode = enforce\n"
		     "never_block = 192.0.2.53, 10.0.0.1, fd00:53::/64\n"
		     "flag_timeout = 60\n"
		     "block_timeout_knock = 600\n"
		     "block_timeout_bits = 86400\n"
		     "block_timeout_remote = 1.5\n"
		     "min_severity = high\n"
		     "max_blocks_per_minute = 0\n"
		     "[daemon]\n"
		     "control_socket = /run/kg-test/ctl.sock\n"
		     "control_group = knockguard\n"
		     "pid_file = /run/kg-test/pid\n"
		     "[nfq]\n"
		     "queue_num = 7\n"
		     "copy_range = 1500\n"
		     "queue_maxlen = 100\n"
		     "receive_buffer = 65536\n"
		     "fail_open = no\n"
		     "gso = off\n"
		     "batch_max = 255\n"
		     "[nft]\n"
		     "table = kg_lab1\n"
		     "manage = no\n"
		     "remove_at_exit = no\n"
		     "queue_bypass = no\n"
		     "queue_mode = xt\n"
		     "hook_forward = no\n"
		     "hook_input = no\n"
		     "[knock]\n"
		     "in_progress_enabled = no\n"
		     "in_progress_min_ports = 4\n",
		     c);
	struct kg_addr a;
	assert_int_equal(c->policy.mode, POLICY_ENFORCE);
	assert_int_equal(c->policy.never_block.n, 3);
	assert_true(addr_parse("192.0.2.53", &a) && netset_contains(&c->policy.never_block, &a));
	assert_true(addr_parse("fd00:53::99", &a) && netset_contains(&c->policy.never_block, &a));
	assert_true(addr_parse("10.0.0.2", &a) && !netset_contains(&c->policy.never_block, &a));
	assert_int_equal(c->policy.flag_timeout, KG_SEC(60));
	assert_int_equal(c->policy.block_timeout[TECH_PORT_KNOCK], KG_SEC(600));
	assert_int_equal(c->policy.block_timeout[TECH_BITS], KG_SEC(86400));
	assert_int_equal(c->policy.block_timeout[TECH_REMOTE_SERVICE], KG_MSEC(1500));
	assert_int_equal(c->policy.min_severity, SEV_HIGH);
	assert_int_equal(c->policy.max_blocks_per_minute, 0);
	assert_string_equal(c->daemon.ctl.path, "/run/kg-test/ctl.sock");
	assert_string_equal(c->daemon.ctl.group, "knockguard");
	assert_string_equal(c->daemon.pid_file, "/run/kg-test/pid");
	struct ctl_server_config dflt;
	ctl_server_config_defaults(&dflt);
	assert_int_equal(c->daemon.ctl.max_clients, dflt.max_clients); /* not keys */
	assert_int_equal(c->daemon.ctl.max_line, dflt.max_line);
	assert_int_equal(c->nfq.queue_num, 7);
	assert_int_equal(c->nfq.copy_range, 1500);
	assert_int_equal(c->nfq.queue_maxlen, 100);
	assert_int_equal(c->nfq.rcvbuf, 65536);
	assert_false(c->nfq.fail_open);
	assert_false(c->nfq.gso);
	assert_int_equal(c->nfq.batch_max, 255);
	assert_string_equal(c->nft.table, "kg_lab1");
	assert_false(c->nft.manage);
	assert_false(c->nft.remove_at_exit);
	assert_false(c->nft.queue_bypass);
	assert_int_equal(c->nft.queue_mode, NFT_QUEUE_XT);
	assert_false(c->nft.hook_forward); /* both off is fine with manage = no */
	assert_false(c->nft.hook_input);
	/* derived */
	assert_int_equal(c->nft.queue_num, 7);
	assert_int_equal(c->nft.flag_timeout, KG_SEC(60));
	assert_int_equal(c->nft.block_timeout, KG_SEC(86400));
	assert_false(c->knock.in_progress_enabled);
	assert_int_equal(c->knock.in_progress_min_ports, 4);

	struct engine_config ec;
	config_engine(c, &ec);
	assert_ptr_equal(ec.policy, &c->policy);
	static struct detect_config dc;
	config_detect(c, &dc);
	assert_false(dc.knock.in_progress_enabled);

	/* Empty values where they mean "none". */
	assert_loads("[daemon]\ncontrol_group =\npid_file =\n[policy]\nnever_block =\n", c);
	assert_string_equal(c->daemon.ctl.group, "");
	assert_string_equal(c->daemon.pid_file, "");
	assert_int_equal(c->policy.never_block.n, 0);

	/* The defaults agree with the modules' own. */
	config_defaults(c);
	struct policy_config pc;
	policy_config_defaults(&pc);
	assert_memory_equal(&c->policy, &pc, sizeof(pc));
	struct nfq_config qc;
	nfq_config_defaults(&qc);
	assert_memory_equal(&c->nfq, &qc, sizeof(qc));
	assert_string_equal(c->daemon.ctl.path, CTL_DEFAULT_PATH);
	assert_string_equal(c->nft.table, "knockguard");
	assert_int_equal(c->nft.block_timeout, pc.block_timeout[TECH_PORT_KNOCK]);
}

/* --- errors ---------------------------------------------------------------- */

static const struct {
	const char *text;
	const char *error; /* the whole message, FILE standing for the path */
} bad_configs[] = {
	{"[syslog]\ntransport = tcpp\n",
	 "FILE:2: [syslog] transport = 'tcpp': expected one of unix, udp, tcp"},
	{"[sylog]\nport = 1\n",
	 "FILE:1: unknown section [sylog]: expected one of engine, log, syslog, knock, bits, remote, policy, daemon, "
	 "nfq, nft"},
	{"[syslog]\n\ntrnsport = udp\n",
	 "FILE:3: [syslog] unknown key 'trnsport': did you mean 'transport'?"},
	{"[log]\ncolour = red\n",
	 "FILE:2: [log] unknown key 'colour': expected one of dir, format"},
	{"[knock]\nknown_sequences = x\n",
	 "FILE:2: [knock] unknown key 'known_sequences': did you mean 'known_sequence.<label>'?"},
	{"[remote]\nrule. = ssh any 22 any\n",
	 "FILE:2: [remote] unknown key 'rule.': did you mean 'rule.<label>'?"},
	{"max_flows = 5\n[engine]\n", "FILE:1: key 'max_flows' is outside any section"},
	{"[log]\nformat = json\n\n[engine]\n[log]\nformat = tsv\n",
	 "FILE:6: [log] format is set twice (first on line 2)"},
	{"[log]\nformat\n", "FILE:2: syntax error: 'format'"},
	{"[log]\nformat = json\n  x", "FILE:3: syntax error: 'x'"}, /* iniparser skips it */
	{"[engine\n", "FILE:1: syntax error: '[engine'"},
	{"[a:b]\n",
	 "FILE:1: unknown section [a:b]: expected one of engine, log, syslog, knock, bits, remote, policy, daemon, "
	 "nfq, nft"},
	{"[engine]\nmax_flows = 0\n",
	 "FILE:2: [engine] max_flows = '0': expected an integer from 1 to 100000000"},
	{"[engine]\nmax_flows = 12k\n",
	 "FILE:2: [engine] max_flows = '12k': expected an integer from 1 to 100000000"},
	{"[engine]\nmax_flows = -3\n",
	 "FILE:2: [engine] max_flows = '-3': expected an integer from 1 to 100000000"},
	{"[engine]\nmax_flows = 99999999999999999999999\n",
	 "FILE:2: [engine] max_flows = '99999999999999999999999': expected an integer from 1 to "
	 "100000000"},
	{"[engine]\nignore_checksums = maybe\n",
	 "FILE:2: [engine] ignore_checksums = 'maybe': expected yes or no (also true/false, "
	 "on/off, 1/0)"},
	{"[engine]\nlocal_nets = 10.0.0.0/8, 10.0.0.0/33\n",
	 "FILE:2: [engine] local_nets = '10.0.0.0/8, 10.0.0.0/33': '10.0.0.0/33' is not a CIDR "
	 "prefix or an address; expected a comma-separated list like 10.0.0.0/8, fd00::/8, or "
	 "'private' for Zeek's private address space"},
	{"[log]\ndir =\n", "FILE:2: [log] dir = '': expected a non-empty value"},
	{"[log]\nformat = xml\n", "FILE:2: [log] format = 'xml': expected one of tsv, json"},
	{"[syslog]\nport = 0\n",
	 "FILE:2: [syslog] port = '0': expected an integer from 1 to 65535"},
	{"[syslog]\nport = 65536\n",
	 "FILE:2: [syslog] port = '65536': expected an integer from 1 to 65535"},
	{"[syslog]\nformat = rfc5425\n",
	 "FILE:2: [syslog] format = 'rfc5425': expected one of rfc5424, rfc3164"},
	{"[syslog]\nfacility = local8\n",
	 "FILE:2: [syslog] facility = 'local8': expected one of kern, user, mail, daemon, auth, "
	 "syslog, lpr, news, uucp, cron, authpriv, ftp, local0, local1, local2, local3, local4, "
	 "local5, local6, local7"},
	{"[syslog]\nqueue_max = 16385\n",
	 "FILE:2: [syslog] queue_max = '16385': expected an integer from 1 to 16384"},
	{"[syslog]\npath = /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	 "FILE:2: [syslog] path = '/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 "...': expected at most 107 characters"},
	{"[knock]\nsequence_window = 1.2345678901\n",
	 "FILE:2: [knock] sequence_window = '1.2345678901': expected a duration in seconds (e.g. "
	 "30 or 0.5) from 0.001 to 86400"},
	{"[knock]\nmax_gap = -1\n",
	 "FILE:2: [knock] max_gap = '-1': expected a duration in seconds (e.g. 30 or 0.5) from "
	 "0.001 to 86400"},
	{"[knock]\nmax_gap = 1.\n",
	 "FILE:2: [knock] max_gap = '1.': expected a duration in seconds (e.g. 30 or 0.5) from "
	 "0.001 to 86400"},
	{"[knock]\nspa_min_entropy = 9\n",
	 "FILE:2: [knock] spa_min_entropy = '9': expected a number from 0 to 8"},
	{"[knock]\nspa_min_entropy = nan\n",
	 "FILE:2: [knock] spa_min_entropy = 'nan': expected a number from 0 to 8"},
	{"[knock]\nscore_high = 101\n",
	 "FILE:2: [knock] score_high = '101': expected an integer from -100 to 100"},
	{"[knock]\nknown_sequence_severity = severe\n",
	 "FILE:2: [knock] known_sequence_severity = 'severe': expected one of info, low, medium, "
	 "high, critical"},
	{"[knock]\nmin_ports = 10\nmax_ports = 5\n",
	 "FILE: [knock] min_ports must be at least 1 and at most max_ports"},
	{"[remote]\nmin_confidence = certain\n",
	 "FILE:2: [remote] min_confidence = 'certain': expected one of low, medium, high"},
	{"[bits]\nallowlist_extra = ok.example, bad host\n",
	 "FILE:2: [bits] allowlist_extra = 'ok.example, bad host': 'bad host': "},
	{"[bits]\nallowlist_file = /nonexistent/list\n",
	 "FILE:2: [bits] allowlist_file = '/nonexistent/list': /nonexistent/list: No such file or "
	 "directory"},
	{"[bits]\nmax_pairs = 1\n",
	 "FILE:2: [bits] max_pairs = '1': expected an integer from 2 to 16777216"},
	{"[policy]\nmode = enforcing\n",
	 "FILE:2: [policy] mode = 'enforcing': expected one of monitor, enforce"},
	{"[policy]\nnever_block = 192.0.2.300\n",
	 "FILE:2: [policy] never_block = '192.0.2.300': '192.0.2.300' is not a CIDR prefix"},
	{"[policy]\nblock_timeout_knock = 0\n",
	 "FILE:2: [policy] block_timeout_knock = '0': expected a duration in seconds (e.g. 30 or "
	 "0.5) from 1 to 3.1536e+07"},
	{"[policy]\nflag_timeout = 31536001\n",
	 "FILE:2: [policy] flag_timeout = '31536001': expected a duration in seconds"},
	{"[policy]\nmin_severity = severe\n",
	 "FILE:2: [policy] min_severity = 'severe': expected one of info, low, medium, high, "
	 "critical"},
	{"[policy]\nmax_blocks_per_minute = -1\n",
	 "FILE:2: [policy] max_blocks_per_minute = '-1': expected an integer from 0 to 1000000"},
	{"[policy]\nblock_timeout = 60\n",
	 "FILE:2: [policy] unknown key 'block_timeout': expected one of mode, never_block, "
	 "flag_timeout, block_timeout_knock, block_timeout_bits, block_timeout_remote, "
	 "min_severity, max_blocks_per_minute"},
	{"[daemon]\ncontrol_socket = run/ctl.sock\n",
	 "FILE:2: [daemon] control_socket = 'run/ctl.sock': expected an absolute path (starting "
	 "with /)"},
	{"[daemon]\ncontrol_socket =\n",
	 "FILE:2: [daemon] control_socket = '': expected a non-empty value"},
	{"[daemon]\ncontrol_socket = /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	 "FILE:2: [daemon] control_socket = '/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...': expected at most 107 characters"},
	{"[daemon]\npid_file = knockguard.pid\n",
	 "FILE:2: [daemon] pid_file = 'knockguard.pid': expected an absolute path"},
	{"[nfq]\nqueue_num = 65536\n",
	 "FILE:2: [nfq] queue_num = '65536': expected an integer from 0 to 65535"},
	{"[nfq]\ncopy_range = 0\n",
	 "FILE:2: [nfq] copy_range = '0': expected an integer from 1 to 65535"},
	{"[nfq]\nbatch_max = 256\n",
	 "FILE:2: [nfq] batch_max = '256': expected an integer from 1 to 255"},
	{"[nfq]\nreceive_buffer = 1024\n",
	 "FILE:2: [nfq] receive_buffer = '1024': expected an integer from 65536 to 1073741823"},
	{"[nft]\ntable = filter\n",
	 "FILE:2: [nft] table = 'filter': expected a name of letters, digits and _ (at most 31 "
	 "characters, not starting with a digit) that is not an nft keyword"},
	{"[nft]\ntable = 1kg\n", "FILE:2: [nft] table = '1kg': expected a name of letters"},
	{"[nft]\ntable = kg-lab\n", "FILE:2: [nft] table = 'kg-lab': expected a name of letters"},
	{"[nft]\nqueue_mode = compat\n",
	 "FILE:2: [nft] queue_mode = 'compat': expected one of auto, native, xt"},
	{"[nft]\nhook_forward = no\nhook_input = no\n",
	 "FILE: [nft] hook_forward and hook_input are both off: the daemon would see no packet "
	 "(turn one on, or set manage = no)"},
	{"[nft]\nqueue_num = 1\n",
	 "FILE:2: [nft] unknown key 'queue_num': expected one of table, manage, remove_at_exit, "
	 "queue_bypass, queue_mode, hook_forward, hook_input"},
	{"[knock]\nin_progress_min_ports = 1\n",
	 "FILE:2: [knock] in_progress_min_ports = '1': expected an integer from 2 to 31"},
};

static void test_errors(void **state)
{
	(void)state;
	char err[CONFIG_ERR_MAX];
	for (size_t i = 0; i < sizeof(bad_configs) / sizeof(bad_configs[0]); i++) {
		memset(err, 0, sizeof(err));
		if (load_text(bad_configs[i].text, &cfg_a, err, sizeof(err)))
			fail_msg("accepted:\n%s", bad_configs[i].text);
		if (strncmp(err, bad_configs[i].error, strlen(bad_configs[i].error)) != 0)
			fail_msg("config:\n%s\ngot:  %s\nwant: %s", bad_configs[i].text, err,
				 bad_configs[i].error);
	}
}

/* Errors that come from the detectors' own parsers keep their reason. */
static void test_detector_value_errors(void **state)
{
	(void)state;
	char err[CONFIG_ERR_MAX];
	assert_false(load_text("[knock]\nknown_sequence.x = 10.0.0.1/32 7000,notaport\n", &cfg_a,
			       err, sizeof(err)));
	assert_non_null(strstr(err, "FILE:2: [knock] known_sequence.x = '10.0.0.1/32 "
				    "7000,notaport': "));
	assert_non_null(strstr(err, "expected '<dst CIDR|any> <port[:tcp|udp]>,... [name]'"));
	assert_false(load_text("[remote]\nrule.a = sssh any 22 any\n", &cfg_a, err, sizeof(err)));
	/* the reason, without the rule parser's own "file:line: " again */
	assert_non_null(strstr(err, "FILE:2: [remote] rule.a = 'sssh any 22 any': service 'sssh'"));
}

static void test_missing_file(void **state)
{
	(void)state;
	char err[CONFIG_ERR_MAX];
	assert_false(config_load("/nonexistent/knockguard.conf", &cfg_a, err, sizeof(err)));
	assert_string_equal(err, "/nonexistent/knockguard.conf: cannot read: No such file or "
				 "directory");
}

static void test_key_names(void **state)
{
	(void)state;
	char name[96];
	assert_true(config_key_count() > 60);
	config_key_name(0, name, sizeof(name));
	assert_string_equal(name, "engine.max_flows");
	bool seen_prefix = false;
	for (size_t i = 0; i < config_key_count(); i++) {
		config_key_name(i, name, sizeof(name));
		if (strcmp(name, "remote.rule.*") == 0)
			seen_prefix = true;
	}
	assert_true(seen_prefix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_conf_equals_defaults),
		cmocka_unit_test(test_shipped_allowlist_equals_builtin),
		cmocka_unit_test(test_every_section_applied),
		cmocka_unit_test(test_names_case_and_private),
		cmocka_unit_test(test_named_files),
		cmocka_unit_test(test_live_sections_applied),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_detector_value_errors),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_key_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
