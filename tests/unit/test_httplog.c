/* httplog: http.log lines in Zeek's layout (TSV and JSON), and the writer's
 * "http.log only when complete" contract. */
#define _GNU_SOURCE /* mkdtemp */
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

#include "out/httplog.h"
#include "out/httplog_format.h"
#include "util/json_writer.h"

#define FIELDS                                                                                      \
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\t" \
	"uri\treferrer\tversion\tuser_agent\torigin\trequest_body_len\tresponse_body_len\t"         \
	"status_code\tstatus_msg\tinfo_code\tinfo_msg\ttags\tusername\tpassword\tproxied\t"         \
	"orig_fuids\torig_filenames\torig_mime_types\tresp_fuids\tresp_filenames\t"                 \
	"resp_mime_types\n"
/* As in zeek/zeek testing/btest/Baseline/scripts.base.protocols.http.* */
#define TYPES                                                                                     \
	"#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring\t"   \
	"string\tstring\tstring\tcount\tcount\tcount\tstring\tcount\tstring\tset[enum]\tstring\t" \
	"string\tset[string]\tvector[string]\tvector[string]\tvector[string]\tvector[string]\t"   \
	"vector[string]\tvector[string]\n"

static void set_addr(struct kg_addr *a, const char *s)
{
	if (!addr_parse(s, a))
		fail_msg("bad address %s", s);
}

/* The transaction of Zeek's http multipart-file-limit baseline. */
static void httpbin_record(struct http_record *r)
{
	memset(r, 0, sizeof(*r));
	r->ts = 1369159408455878000LL;
	snprintf(r->uid, sizeof(r->uid), "CHhAvVGS1DHFjwGM9");
	set_addr(&r->orig_h, "141.142.228.5");
	set_addr(&r->resp_h, "54.243.88.146");
	r->orig_p = 57262;
	r->resp_p = 80;
	r->trans_depth = 1;
	snprintf(r->method, sizeof(r->method), "POST");
	snprintf(r->host, sizeof(r->host), "httpbin.org");
	snprintf(r->uri, sizeof(r->uri), "/post");
	snprintf(r->version, sizeof(r->version), "1.1");
	snprintf(r->user_agent, sizeof(r->user_agent), "curl/7.30.0");
	r->request_body_len = 370;
	r->response_body_len = 465;
	r->status_code = 200;
	snprintf(r->status_msg, sizeof(r->status_msg), "OK");
	r->request_seen = r->response_seen = true;
}

static const char *tsv(const struct http_record *r)
{
	static char buf[HTTPLOG_LINE_MAX];
	size_t n = httplog_tsv_line(r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(n, strlen(buf));
	return buf;
}

static const char *json(const struct http_record *r)
{
	static char buf[HTTPLOG_LINE_MAX];
	size_t n = httplog_json_line(r, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(n, strlen(buf));
	return buf;
}

static void test_httplog_tsv_header_footer(void **state)
{
	(void)state;
	char buf[HTTPLOG_HEADER_MAX];
	size_t n = httplog_tsv_header(buf, sizeof(buf), "2026-01-01-12-00-00");
	const char *want =
		"#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n"
		"#unset_field\t-\n#path\thttp\n#open\t2026-01-01-12-00-00\n" FIELDS TYPES;
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
	n = httplog_tsv_footer(buf, sizeof(buf), "2026-01-01-12-00-05");
	assert_string_equal(buf, "#close\t2026-01-01-12-00-05\n");
	/* Too small a buffer: nothing, not a cut header. */
	assert_int_equal(httplog_tsv_header(buf, 100, "x"), 0);
	assert_string_equal(buf, "");
}

/* Zeek's line, with the file-analysis columns unset (we do no file
 * analysis; Zeek had fuids and text/json there). */
static void test_httplog_tsv_zeek_line(void **state)
{
	(void)state;
	struct http_record r;
	httpbin_record(&r);
	assert_string_equal(tsv(&r), "1369159408.455878\tCHhAvVGS1DHFjwGM9\t141.142.228.5\t57262\t"
				     "54.243.88.146\t80\t1\tPOST\thttpbin.org\t/post\t-\t1.1\t"
				     "curl/7.30.0\t-\t370\t465\t200\tOK\t-\t-\t(empty)\t-\t-\t-\t"
				     "-\t-\t-\t-\t-\t-\n");
	/* 30 columns, as #fields says. */
	int tabs = 0;
	for (const char *p = tsv(&r); *p; p++)
		tabs += *p == '\t';
	assert_int_equal(tabs, 29);
}

static void test_httplog_tsv_escaping_and_unset(void **state)
{
	(void)state;
	struct http_record r;
	httpbin_record(&r);
	snprintf(r.user_agent, sizeof(r.user_agent), "a\tb\\c\x01\xe9");
	snprintf(r.host, sizeof(r.host), "-");
	snprintf(r.uri, sizeof(r.uri), "%s", "");
	r.status_msg[0] = '\0'; /* a status line without a reason: set but empty */
	r.info_code = 100;
	snprintf(r.info_msg, sizeof(r.info_msg), "Continue");
	snprintf(r.username, sizeof(r.username), "bob");
	snprintf(r.proxied, sizeof(r.proxied), "VIA -> 1.1 p\nX-FORWARDED-FOR -> 1.1.1.1, 2.2.2.2");
	const char *line = tsv(&r);
	assert_non_null(strstr(line, "\ta\\x09b\\x5cc\\x01\\xe9\t"));
	assert_non_null(strstr(line, "\tPOST\t\\x2d\t(empty)\t-\t1.1\t"));
	assert_non_null(strstr(line, "\t200\t(empty)\t100\tContinue\t(empty)\tbob\t-\t"
				     "VIA -> 1.1 p,X-FORWARDED-FOR -> 1.1.1.1\\x2c 2.2.2.2\t-\t"));

	/* A response without a request: method, uri and the rest unset. */
	struct http_record o;
	memset(&o, 0, sizeof(o));
	o.ts = KG_SEC(1);
	snprintf(o.uid, sizeof(o.uid), "Cx");
	set_addr(&o.orig_h, "10.0.0.1");
	set_addr(&o.resp_h, "2001:db8::1");
	o.trans_depth = 1;
	o.response_seen = true;
	o.status_code = 400;
	snprintf(o.status_msg, sizeof(o.status_msg), "Bad Request");
	snprintf(o.version, sizeof(o.version), "1.1");
	assert_string_equal(tsv(&o),
			    "1.000000\tCx\t10.0.0.1\t0\t2001:db8::1\t0\t1\t-\t-\t-\t-\t1.1\t-\t"
			    "-\t0\t0\t400\tBad Request\t-\t-\t(empty)\t-\t-\t-\t-\t-\t-\t-\t"
			    "-\t-\n");
}

static void test_httplog_json_line(void **state)
{
	(void)state;
	struct http_record r;
	httpbin_record(&r);
	assert_string_equal(
		json(&r),
		"{\"ts\":1369159408.455878,\"uid\":\"CHhAvVGS1DHFjwGM9\",\"id.orig_h\":\"141.142.228.5\","
		"\"id.orig_p\":57262,\"id.resp_h\":\"54.243.88.146\",\"id.resp_p\":80,"
		"\"trans_depth\":1,\"method\":\"POST\",\"host\":\"httpbin.org\",\"uri\":\"/post\","
		"\"version\":\"1.1\",\"user_agent\":\"curl/7.30.0\",\"request_body_len\":370,"
		"\"response_body_len\":465,\"status_code\":200,\"status_msg\":\"OK\",\"tags\":[]}\n");
	snprintf(r.user_agent, sizeof(r.user_agent), "q\"\\\n\x7f\xff");
	snprintf(r.proxied, sizeof(r.proxied), "VIA -> a\nCLIENT-IP -> b");
	const char *j = json(&r);
	assert_non_null(strstr(j, "\"user_agent\":\"q\\\"\\\\\\n\\u007f\\\\xff\""));
	assert_non_null(strstr(j, "\"tags\":[],\"proxied\":[\"VIA -> a\",\"CLIENT-IP -> b\"]}"));
}

/* Every field at its maximum, all bytes escaping to 4/6: still one line. */
static void test_httplog_worst_case_fits(void **state)
{
	(void)state;
	struct http_record *r = calloc(1, sizeof(*r));
	assert_non_null(r);
	httpbin_record(r);
#define FILL(f) memset(r->f, 0x01, sizeof(r->f) - 1)
	FILL(method);
	FILL(host);
	FILL(uri);
	FILL(referrer);
	FILL(version);
	FILL(user_agent);
	FILL(origin);
	FILL(status_msg);
	FILL(info_msg);
	FILL(username);
	FILL(proxied);
#undef FILL
	r->info_code = 199;
	char *buf = malloc(HTTPLOG_LINE_MAX);
	assert_non_null(buf);
	assert_true(httplog_tsv_line(r, buf, HTTPLOG_LINE_MAX) > 0);
	assert_true(httplog_json_line(r, buf, HTTPLOG_LINE_MAX) > 0);
	/* And a buffer one byte too small for the line gives 0, not a cut line. */
	size_t n = httplog_tsv_line(r, buf, HTTPLOG_LINE_MAX);
	assert_int_equal(httplog_tsv_line(r, buf, n), 0);
	assert_int_equal(httplog_tsv_line(r, buf, n + 1), n);
	free(buf);
	free(r);
}

static void test_jsonw_bounds(void **state)
{
	(void)state;
	char buf[64];
	struct jsonw w;
	jsonw_init(&w, buf, sizeof(buf), JSONW_ESCAPE_BYTES);
	jsonw_object_begin(&w);
	jsonw_key(&w, "a");
	jsonw_string_max(&w, "x\"y\x01z", 8); /* x \" y = 4, \u0001 would pass 8: cut before it */
	jsonw_key(&w, "n");
	jsonw_i64(&w, -5);
	jsonw_key(&w, "l");
	jsonw_array_begin(&w);
	jsonw_bool(&w, true);
	jsonw_u64(&w, 7);
	jsonw_array_end(&w);
	jsonw_object_end(&w);
	size_t n = jsonw_finish(&w);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "{\"a\":\"x\\\"y\",\"n\":-5,\"l\":[true,7]}");

	jsonw_init(&w, buf, 8, JSONW_ESCAPE_BYTES);
	jsonw_object_begin(&w);
	jsonw_key(&w, "long-key");
	assert_int_equal(jsonw_finish(&w), 0);
	assert_string_equal(buf, "");

	char e[16];
	jsonw_init(&w, e, sizeof(e), JSONW_ESCAPE_BYTES);
	jsonw_escaped(&w, "a\tb", 3);
	assert_int_equal(jsonw_finish(&w), 4);
	assert_string_equal(e, "a\\tb");
	jsonw_init(&w, e, sizeof(e), JSONW_ESCAPE_BYTES);
	jsonw_escaped(&w, "\x01\x02\x03", 3); /* 18 escaped bytes */
	assert_int_equal(jsonw_finish(&w), 0);
	assert_string_equal(e, "");
}

static char *read_all(const char *path)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL)
		return NULL;
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void test_httplog_writer(void **state)
{
	(void)state;
	char dir[] = "/tmp/kg-httplog-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char err[512], path[600];
	struct httplog *l = httplog_open(dir, CONNLOG_TSV, err, sizeof(err));
	assert_non_null(l);
	snprintf(path, sizeof(path), "%s/http.log", dir);
	struct stat sb;
	assert_int_not_equal(stat(path, &sb), 0); /* not there before close */
	struct http_record r;
	httpbin_record(&r);
	httplog_sink(l, &r);
	r.trans_depth = 2;
	httplog_write(l, &r);
	assert_int_equal(httplog_records(l), 2);
	assert_false(httplog_failed(l));
	assert_true(httplog_close(l, err, sizeof(err)));
	char *text = read_all(path);
	assert_non_null(text);
	assert_true(strncmp(text, "#separator \\x09\n", 16) == 0);
	assert_non_null(strstr(text, "#path\thttp\n"));
	assert_non_null(strstr(text, FIELDS TYPES "1369159408.455878\tCHhAvVGS1DHFjwGM9\t"));
	assert_non_null(strstr(text, "\t80\t2\tPOST\t"));
	assert_non_null(strstr(text, "\n#close\t"));
	unlink(path);

	l = httplog_open(dir, CONNLOG_JSON, err, sizeof(err));
	assert_non_null(l);
	httplog_write(l, &r);
	assert_true(httplog_abandon(l, err, sizeof(err)));
	snprintf(path, sizeof(path), "%s/http.log.incomplete", dir);
	text = read_all(path);
	assert_non_null(text);
	assert_true(strncmp(text, "{\"ts\":1369159408.455878,", 24) == 0);
	assert_null(strstr(text, "#close"));
	unlink(path);
	assert_int_equal(rmdir(dir), 0);

	/* A directory that does not exist: an error naming it. */
	assert_null(httplog_open("/nonexistent-kg-dir", CONNLOG_TSV, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent-kg-dir"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_httplog_tsv_header_footer),
		cmocka_unit_test(test_httplog_tsv_zeek_line),
		cmocka_unit_test(test_httplog_tsv_escaping_and_unset),
		cmocka_unit_test(test_httplog_json_line),
		cmocka_unit_test(test_httplog_worst_case_fits),
		cmocka_unit_test(test_jsonw_bounds),
		cmocka_unit_test(test_httplog_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
