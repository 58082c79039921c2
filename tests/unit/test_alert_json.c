/* alert_json: the alert record of specs/detection.md §D.2 as one JSON line,
 * its escaping, the evidence check, the size bound, and the alert log file. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "detect/alert.h"
#include "out/alert_json.h"
#include "out/alertlog.h"
#include "../support/jsoncheck.h"

/* One JSON object and nothing else (tests/support/jsoncheck), printable
 * ASCII only. */
static bool is_json_object(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return false;
	while (*s == ' ')
		s++;
	return *s == '{' && json_valid(s);
}

static void test_checker_itself(void **state)
{
	(void)state;
	assert_true(is_json_object("{\"a\":[1,-2.5e3,true,null,{\"b\":\"\\u00e9\"}]}"));
	assert_false(is_json_object("{\"a\":}"));
	assert_false(is_json_object("{\"a\":1,}"));
	assert_false(is_json_object("{} {}"));
	assert_false(is_json_object("[1]"));
	assert_false(is_json_object("{\"a\":\"\xc3\xa9\"}")); /* valid JSON, not ASCII */
}

/* --- fixtures ------------------------------------------------------------- */

static void set_addr(struct kg_addr *a, const char *s)
{
	if (!addr_parse(s, a))
		fail_msg("bad address %s", s);
}

/* The example of §D.2 (knock_variantB.pcap). */
static void knock_alert(struct alert *a)
{
	memset(a, 0, sizeof(*a));
	a->ts = 1796390752101000000LL;
	snprintf(a->name, sizeof(a->name), "PortKnock::Sequence_Then_Access");
	a->technique = TECH_PORT_KNOCK;
	a->severity = SEV_HIGH;
	snprintf(a->uid, sizeof(a->uid), "Cx3aBcDeFgHiJkLm1");
	set_addr(&a->orig_h, "10.77.0.1");
	set_addr(&a->resp_h, "10.77.0.2");
	a->orig_p = 37276;
	a->resp_p = 22;
	a->proto = TRANSPORT_TCP;
	snprintf(a->service, sizeof(a->service), "ssh");
	a->conn_state = "SF";
	snprintf(a->history, sizeof(a->history), "ShADadFf");
	a->orig_bytes = 3264;
	a->resp_bytes = 4189;
	a->direction = DIR_INTERNAL;
	snprintf(a->policy_rule, sizeof(a->policy_rule), "default");
	snprintf(a->msg, sizeof(a->msg),
		 "10.77.0.1 knocked 7000,8000,9000 on 10.77.0.2, then reached tcp/22.");
	snprintf(a->evidence, sizeof(a->evidence),
		 "{\"sequence\":[{\"port\":7000,\"outcome\":\"REJ\"},{\"port\":8000,\"outcome\":"
		 "\"REJ\"},{\"port\":9000,\"outcome\":\"REJ\"}],\"n_ports\":3,\"span_ms\":0.6,"
		 "\"single_packet_hits\":true,\"score\":8}");
}

static size_t render(const struct alert *a, char *buf, size_t cap)
{
	size_t n = alert_json_format(a, buf, cap);
	assert_int_equal(n, strlen(buf));
	assert_true(n < cap);
	return n;
}

/* --- the record ----------------------------------------------------------- */

static void test_full_record(void **state)
{
	(void)state;
	struct alert a;
	char buf[ALERT_JSON_MAX];
	knock_alert(&a);
	render(&a, buf, sizeof(buf));
	assert_string_equal(
		buf,
		"{\"ts\":1796390752.101,\"name\":\"PortKnock::Sequence_Then_Access\","
		"\"technique\":\"T1205.001\",\"severity\":\"high\",\"action\":\"alert\","
		"\"uid\":\"Cx3aBcDeFgHiJkLm1\",\"id.orig_h\":\"10.77.0.1\",\"id.orig_p\":37276,"
		"\"id.resp_h\":\"10.77.0.2\",\"id.resp_p\":22,\"proto\":\"tcp\",\"service\":\"ssh\","
		"\"conn_state\":\"SF\",\"history\":\"ShADadFf\",\"orig_bytes\":3264,"
		"\"resp_bytes\":4189,\"direction\":\"internal\",\"policy_rule\":\"default\","
		"\"msg\":\"10.77.0.1 knocked 7000,8000,9000 on 10.77.0.2, then reached tcp/22.\","
		"\"evidence\":{\"sequence\":[{\"port\":7000,\"outcome\":\"REJ\"},{\"port\":8000,"
		"\"outcome\":\"REJ\"},{\"port\":9000,\"outcome\":\"REJ\"}],\"n_ports\":3,"
		"\"span_ms\":0.6,\"single_packet_hits\":true,\"score\":8}}");
	assert_true(is_json_object(buf));
}

static void test_unset_fields_omitted_and_blocked(void **state)
{
	(void)state;
	struct alert a;
	char buf[ALERT_JSON_MAX];
	knock_alert(&a);
	a.uid[0] = '\0';
	a.service[0] = '\0';
	a.history[0] = '\0';
	a.conn_state = NULL;
	a.policy_rule[0] = '\0';
	a.blocked = true;
	a.technique = TECH_BITS;
	a.severity = SEV_CRITICAL;
	a.direction = DIR_OUTBOUND;
	a.proto = TRANSPORT_UDP;
	set_addr(&a.orig_h, "2001:db8::1");
	render(&a, buf, sizeof(buf));
	assert_null(strstr(buf, "\"uid\""));
	assert_null(strstr(buf, "\"service\""));
	assert_null(strstr(buf, "\"history\""));
	assert_null(strstr(buf, "\"conn_state\""));
	assert_non_null(strstr(buf, "\"technique\":\"T1197\",\"severity\":\"critical\","
				    "\"action\":\"blocked\",\"id.orig_h\":\"2001:db8::1\","));
	assert_non_null(strstr(buf, "\"proto\":\"udp\",\"orig_bytes\":3264"));
	assert_non_null(strstr(buf, "\"direction\":\"outbound\",\"policy_rule\":\"default\""));
	assert_true(is_json_object(buf));
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(alert_severity_name(SEV_INFO), "info");
	assert_string_equal(alert_severity_name(SEV_LOW), "low");
	assert_string_equal(alert_severity_name(SEV_MEDIUM), "medium");
	assert_string_equal(alert_severity_name(SEV_HIGH), "high");
	assert_string_equal(alert_severity_name(SEV_CRITICAL), "critical");
	assert_string_equal(alert_technique_id(TECH_PORT_KNOCK), "T1205.001");
	assert_string_equal(alert_technique_id(TECH_BITS), "T1197");
	assert_string_equal(alert_technique_id(TECH_REMOTE_SERVICE), "T1133");
	assert_string_equal(alert_direction_name(DIR_UNKNOWN), "unknown");
	assert_string_equal(alert_direction_name(DIR_INBOUND), "inbound");
	assert_string_equal(alert_direction_name(DIR_OUTBOUND), "outbound");
	assert_string_equal(alert_direction_name(DIR_INTERNAL), "internal");
	assert_string_equal(alert_direction_name(DIR_EXTERNAL), "external");
}

static const char *field_of(const char *json, const char *key, char *out, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *p = strstr(json, pat);
	if (p == NULL)
		return NULL;
	p += strlen(pat);
	size_t n = 0;
	while (p[n] && !(p[n] == '"' && (n == 0 || p[n - 1] != '\\')) && n + 1 < cap)
		n++;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

static void test_string_escaping(void **state)
{
	(void)state;
	struct alert a;
	char buf[ALERT_JSON_MAX], msg[512];
	knock_alert(&a);
	/* quote, backslash, newline, tab, \x01, DEL, é (U+00E9), € (U+20AC), 😀
	 * (U+1F600), a lone continuation byte, an overlong '/', a surrogate. */
	snprintf(a.msg, sizeof(a.msg),
		 "a\"b\\c\nd\te\x01"
		 "f\x7f"
		 "g\xc3\xa9h\xe2\x82\xaci\xf0\x9f\x98\x80j\x80k\xc0\xafl"
		 "\xed\xa0\x80m");
	render(&a, buf, sizeof(buf));
	assert_true(is_json_object(buf));
	assert_non_null(field_of(buf, "msg", msg, sizeof(msg)));
	assert_string_equal(msg, "a\\\"b\\\\c\\nd\\te\\u0001f\\u007fg\\u00e9h\\u20aci"
				 "\\ud83d\\ude00j\\\\x80k\\\\xc0\\\\xafl\\\\xed\\\\xa0\\\\x80m");
}

static void test_evidence_compacted_and_reescaped(void **state)
{
	(void)state;
	struct alert a;
	char buf[ALERT_JSON_MAX];
	knock_alert(&a);
	snprintf(a.evidence, sizeof(a.evidence),
		 " { \"ua\" : \"Microsoft BITS/7.8\\t\xc3\xa9\x01\" ,\n \"n\" : [ 1 , 2.5 , -0 ,"
		 " 1e-3 ] , \"o\" : { } , \"b\" : false , \"z\" : null } \n");
	render(&a, buf, sizeof(buf));
	assert_true(is_json_object(buf));
	assert_non_null(strstr(buf, "\"evidence\":{\"ua\":\"Microsoft BITS/7.8\\t\\u00e9\\u0001\","
				    "\"n\":[1,2.5,-0,1e-3],\"o\":{},\"b\":false,\"z\":null}}"));
}

static void test_evidence_invalid_or_empty(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"[1,2]",					    /* not an object */
		"{\"a\":1",					    /* unterminated */
		"{\"a\":1}x",					    /* trailing text */
		"{\"a\":01}",					    /* leading zero */
		"{\"a\":tru}",					    /* bad literal */
		"{a:1}",					    /* unquoted key */
		"{\"a\":\"\\q\"}",				    /* bad escape */
		"{\"a\":\"\\u12\"}",				    /* short \u */
		"{\"a\":1,}",					    /* trailing comma */
		"{\"a\":\"x}",					    /* unterminated string */
		"{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", /* too deep */
	};
	struct alert a;
	char buf[ALERT_JSON_MAX];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		knock_alert(&a);
		snprintf(a.evidence, sizeof(a.evidence), "%s", bad[i]);
		render(&a, buf, sizeof(buf));
		if (!strstr(buf, "\"evidence\":{\"invalid\":true}}"))
			fail_msg("evidence %s gave %s", bad[i], buf);
		assert_true(is_json_object(buf));
	}
	knock_alert(&a);
	a.evidence[0] = '\0';
	render(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"evidence\":{}}"));
	/* 16 levels of nesting are fine. */
	snprintf(a.evidence, sizeof(a.evidence), "{\"a\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}");
	render(&a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"evidence\":{\"a\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}}"));
}

/* Evidence as long as the struct allows, with raw UTF-8 (é) that grows when
 * escaped, so the rendered object is well past 2 KB. */
static void long_evidence(struct alert *a)
{
	size_t len = 0;
	len += (size_t)snprintf(a->evidence + len, sizeof(a->evidence) - len, "{\"sequence\":[");
	for (int i = 0; len + 64 < sizeof(a->evidence); i++)
		len += (size_t)snprintf(a->evidence + len, sizeof(a->evidence) - len,
					"%s{\"port\":%d,\"host\":\"\xc3\xa9\xc3\xa9\"}",
					i ? "," : "", 10000 + i);
	snprintf(a->evidence + len, sizeof(a->evidence) - len, "]}");
}

static void test_bounded_for_syslog(void **state)
{
	(void)state;
	struct alert a;
	char buf[ALERT_JSON_MAX];
	knock_alert(&a);
	long_evidence(&a);
	size_t full = render(&a, buf, sizeof(buf));
	assert_true(full > ALERT_JSON_SYSLOG_MAX);
	assert_true(is_json_object(buf));

	/* Too big for 2 KB: evidence gives way, everything else stays. */
	size_t n = render(&a, buf, ALERT_JSON_SYSLOG_MAX);
	assert_true(n < ALERT_JSON_SYSLOG_MAX);
	assert_true(is_json_object(buf));
	char want[64];
	snprintf(want, sizeof(want), "\"evidence\":{\"truncated\":true,\"bytes\":%zu}}",
		 strlen(a.evidence));
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "\"msg\":\"10.77.0.1 knocked 7000,8000,9000"));

	/* Smaller still: msg is cut, at a character boundary. */
	memset(a.msg, 0, sizeof(a.msg));
	for (size_t i = 0; i + 2 < sizeof(a.msg); i += 2)
		memcpy(a.msg + i, "\xc3\xa9", 2); /* é: 6 bytes escaped each */
	n = render(&a, buf, 600);
	assert_true(is_json_object(buf));
	char msg[2048];
	assert_non_null(field_of(buf, "msg", msg, sizeof(msg)));
	assert_true(strlen(msg) > 0);
	assert_int_equal(strlen(msg) % 6, 0);
	assert_true(n + 6 >= 600 - 1 - strlen(want)); /* it used the room there was */

	/* Nothing fits: 0 and an empty string. */
	assert_int_equal(alert_json_format(&a, buf, 40), 0);
	assert_string_equal(buf, "");
	assert_int_equal(alert_json_format(&a, buf, 0), 0);
}

/* Every string full of bytes that escape to the most: still whole in
 * ALERT_JSON_MAX, and still complete in ALERT_JSON_MIN. */
static void test_worst_case_sizes(void **state)
{
	(void)state;
	static struct alert a;
	static char buf[ALERT_JSON_MAX];
	memset(&a, 0x01, sizeof(a));
	a.name[sizeof(a.name) - 1] = '\0';
	a.uid[sizeof(a.uid) - 1] = '\0';
	a.service[sizeof(a.service) - 1] = '\0';
	a.history[sizeof(a.history) - 1] = '\0';
	a.policy_rule[sizeof(a.policy_rule) - 1] = '\0';
	a.msg[sizeof(a.msg) - 1] = '\0';
	a.conn_state = a.history;
	a.technique = TECH_REMOTE_SERVICE;
	a.severity = SEV_LOW;
	a.direction = DIR_INBOUND;
	a.proto = TRANSPORT_ICMP;
	a.ts = INT64_MAX;
	a.orig_bytes = a.resp_bytes = UINT64_MAX;
	memset(a.orig_h.b, 0x11, 16);
	memset(a.resp_h.b, 0x22, 16);
	memset(a.evidence, 0x01, sizeof(a.evidence));
	memcpy(a.evidence, "{\"a\":\"", 6);
	memcpy(a.evidence + sizeof(a.evidence) - 3, "\"}", 3);

	size_t n = render(&a, buf, sizeof(buf));
	assert_true(is_json_object(buf));
	assert_null(strstr(buf, "\"truncated\""));
	assert_true(n > 9000);

	n = render(&a, buf, ALERT_JSON_MIN);
	assert_true(n > 0);
	assert_true(is_json_object(buf));
	assert_non_null(strstr(buf, "\"truncated\":true"));
	assert_non_null(strstr(buf, "\"technique\":\"T1133\""));
}

/* A detector that forgets a NUL: each string is read no further than its
 * field. */
static void test_unterminated_fields(void **state)
{
	(void)state;
	static struct alert a;
	static char buf[ALERT_JSON_MAX];
	char want[ALERT_NAME_MAX + 16];
	knock_alert(&a);
	memset(a.name, 'N', sizeof(a.name));
	memset(a.uid, 'U', sizeof(a.uid));
	memset(a.service, 'S', sizeof(a.service));
	memset(a.history, 'H', sizeof(a.history));
	memset(a.policy_rule, 'P', sizeof(a.policy_rule));
	memset(a.msg, 'M', sizeof(a.msg));
	memset(a.evidence, ' ', sizeof(a.evidence));
	a.evidence[0] = '{';
	a.evidence[sizeof(a.evidence) - 1] = '}';
	render(&a, buf, sizeof(buf));
	assert_true(is_json_object(buf));
	snprintf(want, sizeof(want), "\"name\":\"%.*s\"", ALERT_NAME_MAX,
		 "NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN");
	assert_non_null(strstr(buf, want));
	assert_non_null(strstr(buf, "\"evidence\":{}}"));
}

/* Random bytes everywhere: never past the cap, always one ASCII object. */
static void test_random_alerts(void **state)
{
	(void)state;
	static struct alert a;
	static char buf[ALERT_JSON_MAX];
	static const size_t caps[] = {ALERT_JSON_MIN, ALERT_JSON_SYSLOG_MAX, ALERT_JSON_MAX};
	uint32_t seed = 12345;
	for (int iter = 0; iter < 3000; iter++) {
		unsigned char *p = (unsigned char *)&a;
		for (size_t i = 0; i < sizeof(a); i++) {
			seed = seed * 1103515245u + 12345u;
			p[i] = (unsigned char)(seed >> 16);
		}
		a.name[sizeof(a.name) - 1] = a.uid[sizeof(a.uid) - 1] = '\0';
		a.service[sizeof(a.service) - 1] = a.history[sizeof(a.history) - 1] = '\0';
		a.policy_rule[sizeof(a.policy_rule) - 1] = a.msg[sizeof(a.msg) - 1] = '\0';
		a.conn_state = iter % 2 ? "S0" : NULL;
		a.blocked = iter % 2;
		a.technique = (enum alert_technique)(iter % 3);
		a.severity = (enum alert_severity)(iter % 5);
		a.direction = (enum alert_direction)(iter % 5);
		a.proto = (enum transport)(iter % 4);
		if (iter % 3 == 0) {
			/* structured evidence with random string contents */
			a.evidence[0] = '{';
			a.evidence[1] = '"';
			a.evidence[2] = 'k';
			a.evidence[3] = '"';
			a.evidence[4] = ':';
			a.evidence[5] = '"';
			for (size_t i = 6; i < 200; i++)
				if (a.evidence[i] == '"' || a.evidence[i] == '\\' || !a.evidence[i])
					a.evidence[i] = 'x';
			memcpy(a.evidence + 200, "\"}", 3);
		} else {
			a.evidence[sizeof(a.evidence) - 1] = '\0';
		}
		size_t cap = caps[iter % 3];
		size_t n = alert_json_format(&a, buf, cap);
		assert_true(n > 0 && n < cap);
		assert_int_equal(n, strlen(buf));
		if (!is_json_object(buf))
			fail_msg("iteration %d: not JSON: %s", iter, buf);
		if (iter % 3 == 0 && cap == ALERT_JSON_MAX)
			assert_null(strstr(buf, "\"invalid\""));
	}
}

/* --- the alert log file ---------------------------------------------------- */

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	static char data[65536];
	size_t n = fread(data, 1, sizeof(data) - 1, f);
	fclose(f);
	data[n] = '\0';
	return data;
}

static size_t dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *e;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_alertlog_lines(void **state)
{
	(void)state;
	char dir[] = "/tmp/kg-alertlog.XXXXXX", err[512], path[128], one[ALERT_JSON_MAX];
	assert_non_null(mkdtemp(dir));
	struct alert a;
	knock_alert(&a);

	struct alertlog *l = alertlog_open(dir, err, sizeof(err));
	assert_non_null(l);
	snprintf(path, sizeof(path), "%s/alerts.log", dir);
	alertlog_write(l, &a);
	a.severity = SEV_LOW;
	long_evidence(&a); /* the log keeps what syslog would trim */
	alertlog_write(l, &a);
	assert_int_equal(alertlog_records(l), 2);
	assert_false(alertlog_failed(l));
	assert_int_equal(access(path, F_OK), -1); /* not before close */
	assert_true(alertlog_close(l, err, sizeof(err)));

	char *text = slurp(path);
	assert_non_null(text);
	char *nl = strchr(text, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_true(is_json_object(text));
	knock_alert(&a);
	alert_json_format(&a, one, sizeof(one));
	assert_string_equal(text, one);
	char *second = nl + 1;
	nl = strchr(second, '\n');
	assert_non_null(nl);
	assert_string_equal(nl + 1, "");
	*nl = '\0';
	assert_true(is_json_object(second));
	assert_null(strstr(second, "\"truncated\""));
	assert_non_null(strstr(second, "\"severity\":\"low\""));
	assert_true(strlen(second) > ALERT_JSON_SYSLOG_MAX);
	assert_int_equal(dir_entries(dir), 1);

	/* Abandoned: kept as alerts.log.incomplete, alerts.log untouched. */
	l = alertlog_open(dir, err, sizeof(err));
	assert_non_null(l);
	alertlog_write(l, &a);
	assert_true(alertlog_abandon(l, err, sizeof(err)));
	snprintf(path, sizeof(path), "%s/alerts.log.incomplete", dir);
	text = slurp(path);
	assert_non_null(text);
	assert_int_equal(strlen(text), strlen(one) + 1);
	assert_int_equal(dir_entries(dir), 2);
	unlink(path);

	/* No alerts: an empty alerts.log. */
	l = alertlog_open(dir, err, sizeof(err));
	assert_true(alertlog_close(l, err, sizeof(err)));
	snprintf(path, sizeof(path), "%s/alerts.log", dir);
	text = slurp(path);
	assert_string_equal(text, "");
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static void test_alertlog_open_fails(void **state)
{
	(void)state;
	char err[512];
	assert_null(alertlog_open("/nonexistent/kg-dir", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/kg-dir"));
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker_itself),
		cmocka_unit_test(test_full_record),
		cmocka_unit_test(test_unset_fields_omitted_and_blocked),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_string_escaping),
		cmocka_unit_test(test_evidence_compacted_and_reescaped),
		cmocka_unit_test(test_evidence_invalid_or_empty),
		cmocka_unit_test(test_bounded_for_syslog),
		cmocka_unit_test(test_worst_case_sizes),
		cmocka_unit_test(test_unterminated_fields),
		cmocka_unit_test(test_random_alerts),
		cmocka_unit_test(test_alertlog_lines),
		cmocka_unit_test(test_alertlog_open_fails),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
