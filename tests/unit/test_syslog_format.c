/* syslog_format: RFC 5424 and RFC 3164 messages for alerts, PRI mapping,
 * structured-data escaping, the 2 KB bound, RFC 6587 octet counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "out/alert_json.h"
#include "out/syslog_format.h"

static void set_addr(struct kg_addr *a, const char *s)
{
	if (!addr_parse(s, a))
		fail_msg("bad address %s", s);
}

static void bits_alert(struct alert *a)
{
	memset(a, 0, sizeof(*a));
	a->ts = 1708941952101000000LL; /* 2024-02-26T10:05:52.101Z */
	snprintf(a->name, sizeof(a->name), "BITS::Upload_Session");
	a->technique = TECH_BITS;
	a->severity = SEV_HIGH;
	snprintf(a->uid, sizeof(a->uid), "CbAbCdEfGh1234567");
	set_addr(&a->orig_h, "10.0.0.5");
	set_addr(&a->resp_h, "203.0.113.9");
	a->orig_p = 50123;
	a->resp_p = 80;
	a->proto = TRANSPORT_TCP;
	snprintf(a->service, sizeof(a->service), "http");
	a->conn_state = "SF";
	snprintf(a->history, sizeof(a->history), "ShADadFf");
	a->orig_bytes = 1048576;
	a->resp_bytes = 512;
	a->direction = DIR_OUTBOUND;
	snprintf(a->policy_rule, sizeof(a->policy_rule), "default");
	snprintf(a->msg, sizeof(a->msg), "10.0.0.5 uploaded 1 MiB with BITS to 203.0.113.9.");
	snprintf(a->evidence, sizeof(a->evidence),
		 "{\"method\":\"BITS_POST\",\"host\":\"203.0.113.9\",\"reasons\":[\"upload\","
		 "\"ip_literal\"]}");
}

static void origin(struct syslog_origin *o, enum syslog_format f, int facility)
{
	memset(o, 0, sizeof(*o));
	o->format = f;
	o->facility = facility;
	snprintf(o->hostname, sizeof(o->hostname), "gw1");
	snprintf(o->app_name, sizeof(o->app_name), "knockguard");
	snprintf(o->procid, sizeof(o->procid), "4242");
}

static size_t format(const struct syslog_origin *o, const struct alert *a, kg_time stamp, char *buf,
		     size_t cap)
{
	size_t n = syslog_format_alert(o, a, stamp, buf, cap);
	assert_int_equal(n, strlen(buf));
	assert_true(n <= SYSLOG_MSG_MAX);
	return n;
}

/* The message is header + exactly what alert_json_format gives. */
static void assert_message(const char *msg, const char *header, const struct alert *a)
{
	char json[ALERT_JSON_MAX];
	size_t hl = strlen(header);
	if (strncmp(msg, header, hl) != 0)
		fail_msg("header:\n got  %.*s\n want %s", (int)hl, msg, header);
	alert_json_format(a, json, sizeof(json));
	assert_string_equal(msg + hl, json);
}

static void test_rfc5424(void **state)
{
	(void)state;
	struct alert a;
	struct syslog_origin o;
	char buf[SYSLOG_MSG_MAX + 1];
	bits_alert(&a);
	origin(&o, SYSLOG_RFC5424, SYSLOG_FACILITY_LOCAL0);
	format(&o, &a, a.ts, buf, sizeof(buf));
	/* local0 (16) * 8 + err (3) = 131 */
	assert_message(buf,
		       "<131>1 2024-02-26T10:05:52.101000Z gw1 knockguard 4242 T1197 "
		       "[knockguard@32473 technique=\"T1197\" severity=\"high\" "
		       "name=\"BITS::Upload_Session\"] ",
		       &a);
}

static void test_rfc5424_time_and_nil_fields(void **state)
{
	(void)state;
	struct alert a;
	struct syslog_origin o;
	char buf[SYSLOG_MSG_MAX + 1];
	bits_alert(&a);
	a.technique = TECH_PORT_KNOCK;
	a.severity = SEV_INFO;
	origin(&o, SYSLOG_RFC5424, 3 /* daemon */);
	o.hostname[0] = '\0';
	o.procid[0] = '\0';
	/* nanoseconds are cut to microseconds, not rounded */
	format(&o, &a, KG_SEC(86400 * 365) + 123456789, buf, sizeof(buf));
	assert_message(buf,
		       "<30>1 1971-01-01T00:00:00.123456Z - knockguard - T1205.001 "
		       "[knockguard@32473 technique=\"T1205.001\" severity=\"info\" "
		       "name=\"BITS::Upload_Session\"] ",
		       &a);
	/* A host name with a space or a control byte keeps the header's shape. */
	snprintf(o.hostname, sizeof(o.hostname), "my host\x01");
	format(&o, &a, 0, buf, sizeof(buf));
	assert_non_null(strstr(buf, " 1970-01-01T00:00:00.000000Z my_host_ knockguard - "));
}

static void test_pri_mapping(void **state)
{
	(void)state;
	static const struct {
		enum alert_severity sev;
		int facility;
		const char *pri;
	} cases[] = {
		{SEV_CRITICAL, 16, "<130>"}, {SEV_HIGH, 16, "<131>"},	{SEV_MEDIUM, 16, "<132>"},
		{SEV_LOW, 16, "<133>"},	     {SEV_INFO, 16, "<134>"},	{SEV_MEDIUM, 0, "<4>"},
		{SEV_LOW, 23, "<189>"},	     {SEV_CRITICAL, 4, "<34>"},
	};
	struct alert a;
	struct syslog_origin o;
	char buf[SYSLOG_MSG_MAX + 1];
	bits_alert(&a);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		a.severity = cases[i].sev;
		origin(&o, SYSLOG_RFC5424, cases[i].facility);
		format(&o, &a, a.ts, buf, sizeof(buf));
		assert_memory_equal(buf, cases[i].pri, strlen(cases[i].pri));
		origin(&o, SYSLOG_RFC3164, cases[i].facility);
		format(&o, &a, a.ts, buf, sizeof(buf));
		assert_memory_equal(buf, cases[i].pri, strlen(cases[i].pri));
	}
	assert_int_equal(syslog_severity(SEV_CRITICAL), 2);
	assert_int_equal(syslog_severity(SEV_HIGH), 3);
	assert_int_equal(syslog_severity(SEV_MEDIUM), 4);
	assert_int_equal(syslog_severity(SEV_LOW), 5);
	assert_int_equal(syslog_severity(SEV_INFO), 6);
}

static void test_sd_escaping(void **state)
{
	(void)state;
	struct alert a;
	struct syslog_origin o;
	char buf[SYSLOG_MSG_MAX + 1];
	bits_alert(&a);
	snprintf(a.name, sizeof(a.name), "a\"b\\c]d\ne\xc3\xa9");
	origin(&o, SYSLOG_RFC5424, SYSLOG_FACILITY_LOCAL0);
	format(&o, &a, a.ts, buf, sizeof(buf));
	assert_non_null(strstr(buf, " name=\"a\\\"b\\\\c\\]d?e??\"] {"));
	/* The JSON keeps the name exactly, in its own escaping. */
	assert_non_null(strstr(buf, "\"name\":\"a\\\"b\\\\c]d\\ne\\u00e9\""));
}

static void test_rfc3164(void **state)
{
	(void)state;
	struct alert a;
	struct syslog_origin o;
	char buf[SYSLOG_MSG_MAX + 1];
	setenv("TZ", "UTC0", 1);
	tzset();
	bits_alert(&a);
	origin(&o, SYSLOG_RFC3164, SYSLOG_FACILITY_LOCAL0);
	format(&o, &a, a.ts, buf, sizeof(buf));
	assert_message(buf, "<131>Feb 26 10:05:52 gw1 knockguard[4242]: ", &a);
	/* Single-digit days are padded with a space; no host name for the local
	 * socket. */
	o.hostname[0] = '\0';
	format(&o, &a, KG_SEC(1709719552), buf, sizeof(buf)); /* 2024-03-06T10:05:52Z */
	assert_message(buf, "<131>Mar  6 10:05:52 knockguard[4242]: ", &a);
	/* Local time, as the RFC says. */
	setenv("TZ", "CET-1", 1);
	tzset();
	format(&o, &a, a.ts, buf, sizeof(buf));
	assert_message(buf, "<131>Feb 26 11:05:52 knockguard[4242]: ", &a);
	setenv("TZ", "UTC0", 1);
	tzset();
}

static void test_origin_init(void **state)
{
	(void)state;
	struct syslog_origin o;
	char procid[32];
	snprintf(procid, sizeof(procid), "%ld", (long)getpid());
	syslog_origin_init(&o, SYSLOG_RFC5424, 5, true);
	assert_int_equal(o.facility, 5);
	assert_string_equal(o.app_name, "knockguard");
	assert_string_equal(o.procid, procid);
	assert_true(strlen(o.hostname) > 0);
	syslog_origin_init(&o, SYSLOG_RFC3164, 16, false);
	assert_true(strlen(o.hostname) > 0);
	syslog_origin_init(&o, SYSLOG_RFC3164, 16, true);
	assert_string_equal(o.hostname, "");
}

static void test_size_bound(void **state)
{
	(void)state;
	static struct alert a;
	struct syslog_origin o;
	char buf[SYSLOG_MSG_MAX + 64];
	bits_alert(&a);
	/* evidence that escapes to about 4 KB */
	size_t len = (size_t)snprintf(a.evidence, sizeof(a.evidence), "{\"ua\":\"");
	while (len + 4 < sizeof(a.evidence)) {
		memcpy(a.evidence + len, "\xc3\xa9", 2);
		len += 2;
	}
	memcpy(a.evidence + len, "\"}", 3);
	for (int f = 0; f < 2; f++) {
		origin(&o, f ? SYSLOG_RFC3164 : SYSLOG_RFC5424, SYSLOG_FACILITY_LOCAL0);
		size_t n = format(&o, &a, a.ts, buf, sizeof(buf));
		assert_true(n > 400 && n <= SYSLOG_MSG_MAX);
		assert_non_null(strstr(buf, "\"evidence\":{\"truncated\":true,\"bytes\":"));
		assert_non_null(strstr(buf, "\"msg\":\"10.0.0.5 uploaded 1 MiB"));
		assert_int_equal(buf[n - 1], '}');
	}
	/* A short buffer: 0, nothing past it. */
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(syslog_format_alert(&o, &a, a.ts, buf, 50), 0);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[50], 'Z');
	/* Enough for the header but not the JSON's minimum: still 0. */
	assert_int_equal(syslog_format_alert(&o, &a, a.ts, buf, 200), 0);
	assert_int_equal(buf[200], 'Z');
}

static void test_octet_counting(void **state)
{
	(void)state;
	char buf[64];
	const char *msg = "<134>1 - - - - - - hi";
	size_t n = syslog_frame_octet_count(msg, strlen(msg), buf, sizeof(buf));
	assert_int_equal(n, strlen("21 ") + strlen(msg));
	assert_memory_equal(buf, "21 <134>1 - - - - - - hi", n);
	assert_int_equal(syslog_frame_octet_count(msg, strlen(msg), buf, 23), 0);
	assert_int_equal(syslog_frame_octet_count(msg, strlen(msg), buf, 24), 24);
	/* In place, as the client frames into its queue slot. */
	char slot[SYSLOG_FRAME_MAX];
	memset(slot, 'x', SYSLOG_MSG_MAX);
	n = syslog_frame_octet_count(slot, SYSLOG_MSG_MAX, slot, sizeof(slot));
	assert_int_equal(n, SYSLOG_MSG_MAX + 5);
	assert_memory_equal(slot, "2048 xxx", 8);
	assert_int_equal(slot[n - 1], 'x');
}

static void test_parsers(void **state)
{
	(void)state;
	enum syslog_format f;
	int code;
	assert_true(syslog_format_parse("rfc5424", &f));
	assert_int_equal(f, SYSLOG_RFC5424);
	assert_true(syslog_format_parse("rfc3164", &f));
	assert_int_equal(f, SYSLOG_RFC3164);
	assert_false(syslog_format_parse("rfc5425", &f));
	assert_string_equal(syslog_format_name(SYSLOG_RFC3164), "rfc3164");
	assert_true(syslog_facility_parse("local0", &code));
	assert_int_equal(code, 16);
	assert_true(syslog_facility_parse("local7", &code));
	assert_int_equal(code, 23);
	assert_true(syslog_facility_parse("kern", &code));
	assert_int_equal(code, 0);
	assert_true(syslog_facility_parse("authpriv", &code));
	assert_int_equal(code, 10);
	assert_false(syslog_facility_parse("local8", &code));
	assert_false(syslog_facility_parse("", &code));
	assert_string_equal(syslog_facility_name(16), "local0");
	assert_null(syslog_facility_name(12));
	assert_null(syslog_facility_name(24));
	assert_null(syslog_facility_name(-1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5424),
		cmocka_unit_test(test_rfc5424_time_and_nil_fields),
		cmocka_unit_test(test_pri_mapping),
		cmocka_unit_test(test_sd_escaping),
		cmocka_unit_test(test_rfc3164),
		cmocka_unit_test(test_origin_init),
		cmocka_unit_test(test_size_bound),
		cmocka_unit_test(test_octet_counting),
		cmocka_unit_test(test_parsers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
