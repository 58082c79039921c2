/* connlog: Zeek's TSV and JSON lines byte for byte, and the writer's
 * "conn.log only when complete" contract. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "out/connlog.h"
#include "out/connlog_format.h"

#define TSV_HEADER_FIELDS                                                                          \
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\t" \
	"orig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\t"      \
	"orig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\n"
#define TSV_HEADER_TYPES                                                                       \
	"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\t" \
	"string\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\n"

static void set_addr(struct kg_addr *a, const char *s)
{
	if (!addr_parse(s, a))
		fail_msg("bad address %s", s);
}

/* The record of the spec's §1.1 example: a lone mDNS packet. */
static void mdns_record(struct conn_record *r)
{
	memset(r, 0, sizeof(*r));
	r->ts = 1300475167096535000LL;
	snprintf(r->uid, sizeof(r->uid), "CHhAvVGS1DHFjwGM9");
	set_addr(&r->orig_h, "141.142.220.202");
	set_addr(&r->resp_h, "224.0.0.251");
	r->orig_p = 5353;
	r->resp_p = 5353;
	r->proto = TRANSPORT_UDP;
	r->ip_proto = 17;
	snprintf(r->service, sizeof(r->service), "dns");
	r->conn_state = "S0";
	r->local_orig = TRI_FALSE;
	r->local_resp = TRI_TRUE;
	snprintf(r->history, sizeof(r->history), "D");
	r->orig_pkts = 1;
	r->orig_ip_bytes = 73;
}

/* The record of the spec's §1.2 example (doc/reference/logs/conn.rst). */
static void dns_sf_record(struct conn_record *r)
{
	memset(r, 0, sizeof(*r));
	r->ts = 1591367999305988000LL;
	snprintf(r->uid, sizeof(r->uid), "CMdzit1AMNsmfAIiQc");
	set_addr(&r->orig_h, "192.168.4.76");
	set_addr(&r->resp_h, "192.168.4.1");
	r->orig_p = 36844;
	r->resp_p = 53;
	r->proto = TRANSPORT_UDP;
	r->ip_proto = 17;
	snprintf(r->service, sizeof(r->service), "dns");
	r->duration = 66852000; /* last packet at .372840 */
	r->orig_bytes = 62;
	r->resp_bytes = 141;
	r->conn_state = "SF";
	r->local_orig = TRI_UNSET; /* the doc predates local_* being set by default */
	r->local_resp = TRI_UNSET;
	snprintf(r->history, sizeof(r->history), "Dd");
	r->orig_pkts = 2;
	r->orig_ip_bytes = 118;
	r->resp_pkts = 2;
	r->resp_ip_bytes = 197;
}

static const char *tsv(const struct conn_record *r)
{
	static char buf[CONNLOG_LINE_MAX];
	size_t n = connlog_tsv_line(r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(n, strlen(buf));
	return buf;
}

static const char *json(const struct conn_record *r)
{
	static char buf[CONNLOG_LINE_MAX];
	size_t n = connlog_json_line(r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(n, strlen(buf));
	return buf;
}

static void test_connlog_tsv_header_footer(void **state)
{
	(void)state;
	char buf[CONNLOG_HEADER_MAX];
	size_t n = connlog_tsv_header(buf, sizeof(buf), "2026-01-01-12-00-00");
	const char *want = "#separator \\x09\n"
			   "#set_separator\t,\n"
			   "#empty_field\t(empty)\n"
			   "#unset_field\t-\n"
			   "#path\tconn\n"
			   "#open\t2026-01-01-12-00-00\n" TSV_HEADER_FIELDS TSV_HEADER_TYPES;
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
	n = connlog_tsv_footer(buf, sizeof(buf), "2026-01-01-12-00-05");
	assert_string_equal(buf, "#close\t2026-01-01-12-00-05\n");
	assert_int_equal(n, 27);
}

static void test_connlog_tsv_spec_example(void **state)
{
	(void)state;
	struct conn_record r;
	mdns_record(&r);
	assert_string_equal(tsv(&r), "1300475167.096535\tCHhAvVGS1DHFjwGM9\t141.142.220.202\t5353\t"
				     "224.0.0.251\t5353\tudp\tdns\t-\t-\t-\tS0\tF\tT\t0\tD\t1\t73\t0\t0\t-\t17\n");
}

static void test_connlog_tsv_with_duration(void **state)
{
	(void)state;
	struct conn_record r;
	dns_sf_record(&r);
	r.local_orig = TRI_TRUE;
	r.local_resp = TRI_TRUE;
	r.missed_bytes = 7;
	assert_string_equal(tsv(&r), "1591367999.305988\tCMdzit1AMNsmfAIiQc\t192.168.4.76\t36844\t"
				     "192.168.4.1\t53\tudp\tdns\t0.066852\t62\t141\tSF\tT\tT\t7\tDd\t2\t118\t"
				     "2\t197\t-\t17\n");
}

static void test_connlog_json_spec_example(void **state)
{
	(void)state;
	struct conn_record r;
	dns_sf_record(&r);
	assert_string_equal(
		json(&r),
		"{\"ts\":1591367999.305988,\"uid\":\"CMdzit1AMNsmfAIiQc\",\"id.orig_h\":\"192.168.4.76\","
		"\"id.orig_p\":36844,\"id.resp_h\":\"192.168.4.1\",\"id.resp_p\":53,\"proto\":\"udp\","
		"\"service\":\"dns\",\"duration\":0.06685185432434082,\"orig_bytes\":62,"
		"\"resp_bytes\":141,\"conn_state\":\"SF\",\"missed_bytes\":0,\"history\":\"Dd\","
		"\"orig_pkts\":2,\"orig_ip_bytes\":118,\"resp_pkts\":2,\"resp_ip_bytes\":197,"
		"\"ip_proto\":17}\n");
}

/* Unset fields are omitted; local_* are JSON booleans. */
static void test_connlog_json_unset_and_bools(void **state)
{
	(void)state;
	struct conn_record r;
	mdns_record(&r);
	r.service[0] = '\0';
	assert_string_equal(
		json(&r),
		"{\"ts\":1300475167.096535,\"uid\":\"CHhAvVGS1DHFjwGM9\",\"id.orig_h\":\"141.142.220.202\","
		"\"id.orig_p\":5353,\"id.resp_h\":\"224.0.0.251\",\"id.resp_p\":5353,\"proto\":\"udp\","
		"\"conn_state\":\"S0\",\"local_orig\":false,\"local_resp\":true,\"missed_bytes\":0,"
		"\"history\":\"D\",\"orig_pkts\":1,\"orig_ip_bytes\":73,\"resp_pkts\":0,"
		"\"resp_ip_bytes\":0,\"ip_proto\":17}\n");
}

/* Zeek gates orig_bytes/resp_bytes on a non-zero duration, even if counted. */
static void test_connlog_zero_duration_hides_bytes(void **state)
{
	(void)state;
	struct conn_record r;
	dns_sf_record(&r);
	r.duration = 0;
	r.orig_bytes = 62;
	assert_non_null(strstr(tsv(&r), "\tudp\tdns\t-\t-\t-\tSF\t"));
	const char *j = json(&r);
	assert_null(strstr(j, "duration"));
	assert_null(strstr(j, "orig_bytes"));
	assert_null(strstr(j, "resp_bytes"));
	assert_non_null(strstr(j, "\"orig_pkts\":2"));
}

/* ts and duration come from microsecond doubles, as Zeek reads a pcap. */
static void test_connlog_nanosecond_times(void **state)
{
	(void)state;
	struct conn_record r;
	dns_sf_record(&r);
	r.ts = 1591367999305988999LL; /* truncated, not rounded, to .305988 */
	r.duration = 66851002;	      /* ends at .372840001 */
	assert_non_null(strstr(tsv(&r), "1591367999.305988\t"));
	assert_non_null(strstr(tsv(&r), "\t0.066852\t62\t"));
	assert_non_null(strstr(json(&r), "\"ts\":1591367999.305988,"));
	assert_non_null(strstr(json(&r), "\"duration\":0.06685185432434082,"));

	/* Two packets in the same microsecond: Zeek sees duration 0 -> unset. */
	r.ts = 1000000100LL;
	r.duration = 500;
	assert_non_null(strstr(tsv(&r), "1.000000\t"));
	assert_non_null(strstr(tsv(&r), "\tdns\t-\t-\t-\tSF"));
	/* Crossing a microsecond boundary by 200 ns counts as 1 us for Zeek. */
	r.ts = 1000000900LL;
	r.duration = 200;
	assert_non_null(strstr(tsv(&r), "\tdns\t0.000001\t62\t141\t"));
}

static void test_connlog_transports_and_ipv6(void **state)
{
	(void)state;
	struct conn_record r;
	mdns_record(&r);
	set_addr(&r.orig_h, "fe80::20c:29ff:fe3b:1");
	set_addr(&r.resp_h, "FF02::1");
	r.proto = TRANSPORT_ICMP;
	r.ip_proto = 58;
	r.orig_p = 135;
	r.resp_p = 136;
	r.service[0] = '\0';
	r.history[0] = '\0';
	r.conn_state = "OTH";
	r.local_orig = TRI_TRUE;
	r.local_resp = TRI_FALSE;
	assert_string_equal(tsv(&r), "1300475167.096535\tCHhAvVGS1DHFjwGM9\tfe80::20c:29ff:fe3b:1\t135\t"
				     "ff02::1\t136\ticmp\t-\t-\t-\t-\tOTH\tT\tF\t0\t-\t1\t73\t0\t0\t-\t58\n");
	r.proto = TRANSPORT_UNKNOWN;
	r.ip_proto = 132;
	r.local_orig = TRI_UNSET;
	assert_non_null(strstr(tsv(&r), "\tunknown_transport\t-\t-\t-\t-\tOTH\t-\tF\t"));
	assert_non_null(strstr(json(&r), "\"proto\":\"unknown_transport\""));
	assert_non_null(strstr(json(&r), "\"id.resp_h\":\"ff02::1\""));
	assert_null(strstr(json(&r), "local_orig"));
	assert_null(strstr(json(&r), "history"));
	assert_non_null(strstr(json(&r), "\"ip_proto\":132}"));
	r.proto = TRANSPORT_TCP;
	assert_non_null(strstr(tsv(&r), "\ttcp\t"));
}

/* Zeek's ASCII escaping of strings (formatters/Ascii.cc, ODesc). */
static void test_connlog_tsv_escaping(void **state)
{
	(void)state;
	struct conn_record r;
	mdns_record(&r);
	snprintf(r.service, sizeof(r.service), "-");
	assert_non_null(strstr(tsv(&r), "\tudp\t\\x2d\t-\t"));
	snprintf(r.service, sizeof(r.service), "(empty)");
	assert_non_null(strstr(tsv(&r), "\tudp\t\\x28empty)\t-\t"));
	/* Only the whole value is reserved, not a prefix of it. */
	snprintf(r.service, sizeof(r.service), "-x");
	assert_non_null(strstr(tsv(&r), "\tudp\t-x\t-\t"));
	snprintf(r.history, sizeof(r.history), "a\tb\\c\x01\x7f\xc3");
	assert_non_null(strstr(tsv(&r), "\ta\\x09b\\x5cc\\x01\\x7f\\xc3\t"));
	snprintf(r.history, sizeof(r.history), "ShADadFf");
	assert_non_null(strstr(tsv(&r), "\tShADadFf\t"));
}

static void test_connlog_json_escaping(void **state)
{
	(void)state;
	struct conn_record r;
	mdns_record(&r);
	snprintf(r.service, sizeof(r.service), "a\"b\\c\n\x01");
	assert_non_null(strstr(json(&r), "\"service\":\"a\\\"b\\\\c\\n\\u0001\","));
	snprintf(r.service, sizeof(r.service), "-");
	assert_non_null(strstr(json(&r), "\"service\":\"-\","));
}

/* Never a byte past cap; 0 when the line does not fit with its NUL. */
static void test_connlog_bounded(void **state)
{
	(void)state;
	struct conn_record r;
	dns_sf_record(&r);
	size_t (*fmt[2])(const struct conn_record *, char *, size_t) = {connlog_tsv_line,
									 connlog_json_line};
	for (int f = 0; f < 2; f++) {
		char full[CONNLOG_LINE_MAX];
		size_t len = fmt[f](&r, full, sizeof(full));
		assert_true(len > 100);
		for (size_t cap = 0; cap <= len; cap++) {
			char buf[CONNLOG_LINE_MAX];
			memset(buf, 'Z', sizeof(buf));
			assert_int_equal(fmt[f](&r, buf, cap), 0);
			for (size_t i = cap; i < sizeof(buf); i++)
				assert_int_equal(buf[i], 'Z');
		}
		char exact[CONNLOG_LINE_MAX];
		assert_int_equal(fmt[f](&r, exact, len + 1), len);
		assert_string_equal(exact, full);
	}
	char hdr[CONNLOG_HEADER_MAX];
	assert_int_equal(connlog_tsv_header(hdr, 100, "2026-01-01-12-00-00"), 0);
}

/* The longest fields Zeek allows us (every byte escaped) still fit. */
static void test_connlog_worst_case_fits(void **state)
{
	(void)state;
	struct conn_record r;
	dns_sf_record(&r);
	memset(r.service, 0x01, sizeof(r.service) - 1);
	r.service[sizeof(r.service) - 1] = '\0';
	memset(r.history, '"', sizeof(r.history) - 1);
	r.history[sizeof(r.history) - 1] = '\0';
	memset(r.uid, 'z', sizeof(r.uid) - 1);
	r.uid[sizeof(r.uid) - 1] = '\0';
	set_addr(&r.orig_h, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe");
	set_addr(&r.resp_h, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	r.orig_bytes = r.resp_bytes = r.missed_bytes = UINT64_MAX;
	r.orig_pkts = r.orig_ip_bytes = r.resp_pkts = r.resp_ip_bytes = UINT64_MAX;
	r.ts = INT64_MAX / 2;
	r.duration = INT64_MAX / 2;
	tsv(&r);
	json(&r);
}

/* --- the writer --- */

static char tmpdir[256];

static int writer_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/kg_connlog_XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int writer_teardown(void **state)
{
	(void)state;
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char p[512];
	while (d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", tmpdir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	return rmdir(tmpdir);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Names in tmpdir, sorted, joined with ' '. */
static const char *dir_listing(void)
{
	static char out[16 * 257];
	static char names[16][256];
	int n = 0;
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	while ((e = readdir(d)) != NULL && n < 16)
		if (e->d_name[0] != '.')
			snprintf(names[n++], sizeof(names[0]), "%s", e->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof(names[0]), cmp_name);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, names[i]);
	}
	return out;
}

static char *slurp(const char *name, size_t *len)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "rb");
	if (f == NULL)
		return NULL;
	static char buf[65536];
	*len = fread(buf, 1, sizeof(buf) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_connlog_writer_tsv_commit(void **state)
{
	(void)state;
	char err[512];
	struct conn_record a, b;
	mdns_record(&a);
	dns_sf_record(&b);
	mode_t old = umask(022);
	struct connlog *l = connlog_open(tmpdir, CONNLOG_TSV, err, sizeof(err));
	umask(old);
	assert_non_null(l);
	connlog_write(l, &a);
	connlog_write(l, &b);
	assert_int_equal(connlog_records(l), 2);
	assert_false(connlog_failed(l));
	/* Until close, only a temporary name exists. */
	const char *ls = dir_listing();
	assert_null(strstr(ls, "conn.log "));
	assert_true(strncmp(ls, "conn.log.tmp.", 13) == 0);
	assert_true(connlog_close(l, err, sizeof(err)));
	assert_string_equal(dir_listing(), "conn.log");

	size_t len;
	char *s = slurp("conn.log", &len);
	assert_non_null(s);
	assert_true(strncmp(s, "#separator \\x09\n#set_separator\t,\n", 33) == 0);
	assert_non_null(strstr(s, "\n#open\t20"));
	assert_non_null(strstr(s, TSV_HEADER_TYPES "1300475167.096535\tCHhAvVGS1DHFjwGM9\t"));
	assert_non_null(strstr(s, "\n1591367999.305988\tCMdzit1AMNsmfAIiQc\t"));
	/* "#close\tYYYY-MM-DD-HH-MM-SS\n" ends the file. */
	assert_true(len > 27);
	assert_true(strncmp(s + len - 27, "#close\t", 7) == 0);
	assert_int_equal(s[len - 1], '\n');
	assert_int_equal(count_lines(s), 8 + 2 + 1);

	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/conn.log", tmpdir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
}

static void test_connlog_writer_json_commit(void **state)
{
	(void)state;
	char err[512];
	struct conn_record a;
	mdns_record(&a);
	struct connlog *l = connlog_open(tmpdir, CONNLOG_JSON, err, sizeof(err));
	assert_non_null(l);
	connlog_write(l, &a);
	connlog_write(l, &a);
	connlog_write(l, &a);
	assert_true(connlog_close(l, err, sizeof(err)));
	size_t len;
	char *s = slurp("conn.log", &len);
	assert_non_null(s);
	assert_int_equal(count_lines(s), 3);
	assert_true(strncmp(s, "{\"ts\":1300475167.096535,", 24) == 0);
	assert_null(strchr(s, '#'));
}

/* An abandoned run leaves no conn.log, and its records without #close. */
static void test_connlog_writer_abandon(void **state)
{
	(void)state;
	char err[512];
	struct conn_record a;
	mdns_record(&a);
	struct connlog *l = connlog_open(tmpdir, CONNLOG_TSV, err, sizeof(err));
	assert_non_null(l);
	connlog_write(l, &a);
	assert_true(connlog_abandon(l, err, sizeof(err)));
	assert_string_equal(dir_listing(), "conn.log.incomplete");
	size_t len;
	char *s = slurp("conn.log.incomplete", &len);
	assert_non_null(s);
	assert_int_equal(count_lines(s), 8 + 1);
	assert_null(strstr(s, "#close"));
	assert_non_null(strstr(s, "\tCHhAvVGS1DHFjwGM9\t"));
}

static void test_connlog_writer_missing_dir(void **state)
{
	(void)state;
	char err[512], dir[300];
	snprintf(dir, sizeof(dir), "%s/nope", tmpdir);
	assert_null(connlog_open(dir, CONNLOG_TSV, err, sizeof(err)));
	assert_non_null(strstr(err, dir));
	assert_non_null(strstr(err, strerror(ENOENT)));
}

/* A write error (here: the file size limit) is reported at close, with the
 * errno text, and leaves neither conn.log nor the temporary file. */
static void test_connlog_writer_write_error(void **state)
{
	(void)state;
	char err[512];
	struct conn_record a;
	struct rlimit old, small = {8192, 8192};
	mdns_record(&a);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small.rlim_max = old.rlim_max;
	void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
	struct connlog *l = connlog_open(tmpdir, CONNLOG_TSV, err, sizeof(err));
	assert_non_null(l);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	for (int i = 0; i < 1000; i++)
		connlog_write(l, &a);
	bool ok = connlog_close(l, err, sizeof(err));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, prev);
	assert_false(ok);
	assert_non_null(strstr(err, strerror(EFBIG)));
	assert_non_null(strstr(err, tmpdir));
	assert_string_equal(dir_listing(), "");
}

static void test_connlog_format_parse(void **state)
{
	(void)state;
	enum connlog_format f = CONNLOG_TSV;
	assert_true(connlog_format_parse("json", &f));
	assert_int_equal(f, CONNLOG_JSON);
	assert_true(connlog_format_parse("tsv", &f));
	assert_int_equal(f, CONNLOG_TSV);
	assert_false(connlog_format_parse("JSON", &f));
	assert_false(connlog_format_parse("", &f));
	assert_false(connlog_format_parse("tsvx", &f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connlog_tsv_header_footer),
		cmocka_unit_test(test_connlog_tsv_spec_example),
		cmocka_unit_test(test_connlog_tsv_with_duration),
		cmocka_unit_test(test_connlog_json_spec_example),
		cmocka_unit_test(test_connlog_json_unset_and_bools),
		cmocka_unit_test(test_connlog_zero_duration_hides_bytes),
		cmocka_unit_test(test_connlog_nanosecond_times),
		cmocka_unit_test(test_connlog_transports_and_ipv6),
		cmocka_unit_test(test_connlog_tsv_escaping),
		cmocka_unit_test(test_connlog_json_escaping),
		cmocka_unit_test(test_connlog_bounded),
		cmocka_unit_test(test_connlog_worst_case_fits),
		cmocka_unit_test_setup_teardown(test_connlog_writer_tsv_commit, writer_setup,
						writer_teardown),
		cmocka_unit_test_setup_teardown(test_connlog_writer_json_commit, writer_setup,
						writer_teardown),
		cmocka_unit_test_setup_teardown(test_connlog_writer_abandon, writer_setup,
						writer_teardown),
		cmocka_unit_test_setup_teardown(test_connlog_writer_missing_dir, writer_setup,
						writer_teardown),
		cmocka_unit_test_setup_teardown(test_connlog_writer_write_error, writer_setup,
						writer_teardown),
		cmocka_unit_test(test_connlog_format_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
