/* bits: host normalisation and the dot-boundary allowlist, the allowlist
 * file, and every BITS::* rule of specs/detection.md §B.6, positive and
 * negative. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "detect/bits.h"
#include "detect/bits_host.h"
#include "io/allowlist_file.h"

/* ---- a strict little JSON checker, to prove the evidence is valid ---- */

static const char *js_value(const char *p);

static const char *js_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

static const char *js_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		unsigned char c = (unsigned char)*p;
		if (c == '\0' || c < 0x20 || c >= 0x80)
			return NULL; /* raw control or non-ASCII: not escaped */
		if (c == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF", p[i]) || p[i] == '\0')
						return NULL;
				p += 5;
				continue;
			}
			if (*p == '\0' || !strchr("\"\\/bfnrt", *p))
				return NULL;
		}
		p++;
	}
	return p + 1;
}

static const char *js_value(const char *p)
{
	p = js_ws(p);
	if (*p == '"')
		return js_string(p);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		bool obj = *p == '{';
		p = js_ws(p + 1);
		if (*p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				p = js_string(js_ws(p));
				if (p == NULL)
					return NULL;
				p = js_ws(p);
				if (*p++ != ':')
					return NULL;
			}
			p = js_value(p);
			if (p == NULL)
				return NULL;
			p = js_ws(p);
			if (*p == close)
				return p + 1;
			if (*p++ != ',')
				return NULL;
		}
	}
	if (strncmp(p, "true", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (strncmp(p, "null", 4) == 0)
		return p + 4;
	const char *s = p;
	if (*p == '-')
		p++;
	while (*p >= '0' && *p <= '9')
		p++;
	return p > s && p[-1] != '-' ? p : NULL;
}

static void assert_json_object(const char *text)
{
	if (text[0] != '{')
		fail_msg("not an object: %s", text);
	const char *end = js_value(text);
	if (end == NULL || *js_ws(end) != '\0')
		fail_msg("invalid JSON: %s", text);
}

/* ---- fixtures ---- */

#define MAX_ALERTS 128

struct alerts {
	int n;
	int repeats; /* suppressed in the logs, still raised for enforcement */
	struct alert a[MAX_ALERTS];
};

static void alert_fn(void *ctx, const struct alert *a)
{
	struct alerts *c = ctx;
	assert_json_object(a->evidence);
	if (a->repeat) {
		/* Marked repeats are for the decide stage only, as the engine does. */
		c->repeats++;
		return;
	}
	if (c->n < MAX_ALERTS)
		c->a[c->n] = *a;
	c->n++;
}

static int count_named(const struct alerts *c, const char *name)
{
	int k = 0;
	for (int i = 0; i < c->n && i < MAX_ALERTS; i++)
		k += strcmp(c->a[i].name, name) == 0;
	return k;
}

static const struct alert *find_named(const struct alerts *c, const char *name)
{
	for (int i = 0; i < c->n && i < MAX_ALERTS; i++)
		if (strcmp(c->a[i].name, name) == 0)
			return &c->a[i];
	return NULL;
}

struct fx {
	struct bits_config cfg;
	struct bits_detector *det;
	struct alerts out;
	kg_time now;
};

static struct fx *fx_new_cfg(void (*tweak)(struct bits_config *))
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	bits_config_defaults(&f->cfg);
	if (tweak)
		tweak(&f->cfg);
	f->det = bits_create(&f->cfg);
	assert_non_null(f->det);
	f->now = KG_SEC(1700000000);
	return f;
}

static struct fx *fx_new(void)
{
	return fx_new_cfg(NULL);
}

static void fx_free(struct fx *f)
{
	bits_destroy(f->det);
	free(f);
}

static void rec_init(struct http_record *r, kg_time ts, const char *method, const char *host,
		     const char *uri, const char *ua)
{
	memset(r, 0, sizeof(*r));
	r->ts = ts;
	snprintf(r->uid, sizeof(r->uid), "CbitsTest0001");
	assert_true(addr_parse("10.1.2.3", &r->orig_h));
	assert_true(addr_parse("198.51.100.7", &r->resp_h));
	r->orig_p = 50123;
	r->resp_p = 80;
	r->trans_depth = 1;
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->uri, sizeof(r->uri), "%s", uri);
	snprintf(r->user_agent, sizeof(r->user_agent), "%s", ua);
	r->request_seen = r->response_seen = true;
	r->status_code = 200;
	snprintf(r->version, sizeof(r->version), "1.1");
	r->req_content_range = (struct http_byte_range){-1, -1, -1};
	r->resp_content_range = (struct http_byte_range){-1, -1, -1};
	r->body_offset = -1;
}

static void observe(struct fx *f, const struct http_record *r)
{
	bits_observe(f->det, r, alert_fn, &f->out);
}

/* A BITS-UA GET; returns the number of alerts it raised. */
static int download(struct fx *f, const char *host, const char *uri)
{
	struct http_record r;
	rec_init(&r, f->now, "GET", host, uri, "Microsoft BITS/7.8");
	int before = f->out.n;
	observe(f, &r);
	return f->out.n - before;
}

static const struct alert *last(const struct fx *f)
{
	assert_true(f->out.n > 0);
	return &f->out.a[f->out.n - 1];
}

static void bits_post(struct fx *f, const char *host, const char *ptype, int64_t first,
		      int64_t lastb, int64_t total)
{
	struct http_record r;
	rec_init(&r, f->now, "BITS_POST", host, "/upload/secret.zip", "Microsoft BITS/7.8");
	snprintf(r.bits_packet_type, sizeof(r.bits_packet_type), "%s", ptype);
	snprintf(r.bits_session_id, sizeof(r.bits_session_id), "{aaaa-bbbb}");
	r.req_content_range = (struct http_byte_range){first, lastb, total};
	if (first >= 0)
		r.request_body_len = (uint64_t)(lastb - first + 1);
	observe(f, &r);
}

/* ---- hosts ---- */

static void test_bits_host_normalize(void **state)
{
	(void)state;
	char h[BITS_HOST_MAX];
	assert_true(bits_host_normalize("WWW.Example.COM:8080", h));
	assert_string_equal(h, "www.example.com");
	assert_true(bits_host_normalize("  example.com.  ", h));
	assert_string_equal(h, "example.com");
	assert_true(bits_host_normalize("[2001:DB8::1]:8530", h));
	assert_string_equal(h, "2001:db8::1");
	assert_true(bits_host_normalize("2001:db8::1", h)); /* bare IPv6: no port to strip */
	assert_string_equal(h, "2001:db8::1");
	assert_true(bits_host_normalize("10.0.0.1:80", h));
	assert_string_equal(h, "10.0.0.1");
	assert_false(bits_host_normalize("", h));
	assert_false(bits_host_normalize(":80", h));
	assert_false(bits_host_normalize("[::1", h));

	assert_true(bits_host_from_uri("http://user:pw@Host.Example:81/x?y", h));
	assert_string_equal(h, "host.example");
	assert_true(bits_host_from_uri("HTTPS://[2001:db8::2]/", h));
	assert_string_equal(h, "2001:db8::2");
	assert_false(bits_host_from_uri("/relative/path", h));
	assert_false(bits_host_from_uri("http:///nohost", h));
}

static void test_bits_host_ip_literal_and_tld(void **state)
{
	(void)state;
	assert_true(bits_host_is_ip_literal("203.0.113.9"));
	assert_true(bits_host_is_ip_literal("2001:db8::5"));
	assert_true(bits_host_is_ip_literal("3232235777")); /* integer IPv4 */
	assert_true(bits_host_is_ip_literal("0x7f000001"));
	assert_true(bits_host_is_ip_literal("127.1"));
	assert_false(bits_host_is_ip_literal("example.com"));
	assert_false(bits_host_is_ip_literal("1.2.3.example"));
	assert_false(bits_host_is_ip_literal("wsus01"));
	assert_false(bits_host_is_ip_literal(""));
	assert_string_equal(bits_host_tld("a.example.co.uk"), "uk");
	assert_string_equal(bits_host_tld("example.xyz"), "xyz");
	assert_null(bits_host_tld("frankcao8"));
	assert_null(bits_host_tld("10.0.0.1"));
}

static void test_bits_allowlist_dot_boundary(void **state)
{
	(void)state;
	struct bits_suffix_list *l = calloc(1, sizeof(*l));
	assert_non_null(l);
	char err[256];
	assert_true(bits_suffix_list_add(l, "microsoft.com", err, sizeof(err)));
	assert_true(bits_suffix_list_add(l, "windowsupdate.com", err, sizeof(err)));
	assert_true(bits_suffix_list_add(l, "  *.SFX.MS  ", err, sizeof(err)));
	assert_true(bits_suffix_list_add(l, ".gvt1.com", err, sizeof(err)));
	assert_true(bits_suffix_list_add(l, "192.0.2.10", err, sizeof(err)));
	assert_true(
		bits_suffix_list_add(l, "storage.googleapis.com/corp-bucket/", err, sizeof(err)));
	assert_true(bits_suffix_list_add(l, "microsoft.com", err, sizeof(err))); /* duplicate */
	assert_int_equal(l->n, 6);

	assert_null(bits_suffix_list_match(l, "evil-microsoft.com", "/"));
	assert_null(bits_suffix_list_match(l, "xwindowsupdate.com", "/"));
	assert_null(bits_suffix_list_match(l, "windowsupdate.com.evil.net", "/"));
	assert_null(bits_suffix_list_match(l, "com", "/"));
	assert_string_equal(bits_suffix_list_match(l, "x.windowsupdate.com", "/"),
			    "windowsupdate.com");
	assert_string_equal(bits_suffix_list_match(l, "au.download.windowsupdate.com", "/"),
			    "windowsupdate.com");
	assert_string_equal(bits_suffix_list_match(l, "windowsupdate.com", "/"),
			    "windowsupdate.com");
	assert_string_equal(bits_suffix_list_match(l, "oneclient.sfx.ms", "/"), "sfx.ms");
	assert_string_equal(bits_suffix_list_match(l, "r8---sn-abc.gvt1.com", "/"), "gvt1.com");
	/* An address matches only itself, never as a "suffix". */
	assert_string_equal(bits_suffix_list_match(l, "192.0.2.10", "/"), "192.0.2.10");
	assert_null(bits_suffix_list_match(l, "1.192.0.2.10", "/"));
	assert_null(bits_suffix_list_match(l, "10.192.0.2.10", "/"));
	/* A path entry needs the path too. */
	assert_non_null(bits_suffix_list_match(l, "storage.googleapis.com", "/corp-bucket/a.exe"));
	assert_non_null(bits_suffix_list_match(l, "storage.googleapis.com",
					       "http://storage.googleapis.com/corp-bucket/x"));
	assert_null(bits_suffix_list_match(l, "storage.googleapis.com", "/other-bucket/a.exe"));
	assert_null(bits_suffix_list_match(l, "storage.googleapis.com", NULL));
	assert_null(bits_suffix_list_match(l, "", "/"));

	assert_false(bits_suffix_list_add(l, "bad host!", err, sizeof(err)));
	assert_non_null(strstr(err, "invalid character"));
	assert_false(bits_suffix_list_add(l, "*.", err, sizeof(err)));
	assert_false(bits_suffix_list_add(l, "a..b", err, sizeof(err)));
	assert_false(bits_suffix_list_add(l, "   ", err, sizeof(err)));
	free(l);
}

static void test_bits_allowlist_parse_text(void **state)
{
	(void)state;
	struct bits_suffix_list *l = calloc(1, sizeof(*l));
	assert_non_null(l);
	char err[256];
	const char *text = "# vendor hosts\n\n  windowsupdate.com   # trailing comment\n"
			   "*.gvt1.com\r\nwsus01\n";
	assert_true(bits_suffix_list_parse(l, text, strlen(text), err, sizeof(err)));
	assert_int_equal(l->n, 3);
	assert_string_equal(l->entry[0], "windowsupdate.com");
	assert_string_equal(l->entry[1], "gvt1.com");
	assert_string_equal(l->entry[2], "wsus01"); /* an intranet update server */

	bits_suffix_list_clear(l);
	const char *bad = "ok.example\n# c\nnot valid\nlater.example\n";
	assert_false(bits_suffix_list_parse(l, bad, strlen(bad), err, sizeof(err)));
	assert_non_null(strstr(err, "line 3:"));
	assert_int_equal(l->n, 1);

	/* Full list: refused with a reason, not silently cut. */
	bits_suffix_list_clear(l);
	char e[32];
	for (int i = 0; i < BITS_SUFFIX_COUNT; i++) {
		snprintf(e, sizeof(e), "h%d.example", i);
		assert_true(bits_suffix_list_add(l, e, err, sizeof(err)));
	}
	assert_false(bits_suffix_list_add(l, "one-more.example", err, sizeof(err)));
	assert_non_null(strstr(err, "more than"));
	free(l);
}

/* conf/bits-allowlist.conf is the default list, entry for entry. */
static void test_bits_allowlist_conf_file_is_default(void **state)
{
	(void)state;
	struct bits_config *c = malloc(sizeof(*c)), *d = malloc(sizeof(*d));
	assert_non_null(c);
	assert_non_null(d);
	bits_config_defaults(c);
	bits_config_defaults(d);
	char err[512];
	bits_suffix_list_clear(&c->allowlist);
	if (!bits_allowlist_load_file(c, "conf/bits-allowlist.conf", err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(c->allowlist.n, d->allowlist.n);
	for (uint16_t i = 0; i < c->allowlist.n; i++)
		assert_string_equal(c->allowlist.entry[i], d->allowlist.entry[i]);

	/* Errors name the file; the config is left as it was. */
	assert_false(bits_allowlist_load_file(c, "/nonexistent/allow.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/allow.conf: "));
	char path[] = "/tmp/kg-allow-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char *bad = "good.example\nbad_entry!\n";
	assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	assert_false(bits_allowlist_load_file(c, path, err, sizeof(err)));
	assert_non_null(strstr(err, "line 2:"));
	assert_int_equal(c->allowlist.n, d->allowlist.n);
	unlink(path);
	free(c);
	free(d);
}

static void test_bits_user_agent(void **state)
{
	(void)state;
	char v[16];
	assert_true(bits_is_user_agent("Microsoft BITS/7.8", v, sizeof(v)));
	assert_string_equal(v, "7.8");
	assert_true(bits_is_user_agent("Microsoft BITS/10.0", NULL, 0));
	assert_false(bits_is_user_agent("Microsoft BITS/7", NULL, 0));
	assert_false(bits_is_user_agent("Microsoft BITS/7.8 extra", NULL, 0));
	assert_false(bits_is_user_agent("microsoft bits/7.8", NULL, 0));
	assert_false(bits_is_user_agent("Mozilla/5.0", NULL, 0));
	assert_false(bits_is_user_agent("", NULL, 0));
}

/* ---- upload rules ---- */

static void test_bits_upload_session(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	bits_post(f, "evil.example.com", "Create-Session", -1, -1, -1);
	assert_int_equal(f->out.n, 1);
	const struct alert *a = last(f);
	assert_string_equal(a->name, "BITS::Upload_Session");
	assert_int_equal(a->severity, SEV_HIGH);
	assert_int_equal(a->technique, TECH_BITS);
	assert_string_equal(a->uid, "CbitsTest0001");
	assert_int_equal(a->orig_p, 50123);
	assert_int_equal(a->resp_p, 80);
	assert_int_equal(a->proto, TRANSPORT_TCP);
	assert_string_equal(a->service, "http");
	assert_string_equal(a->policy_rule, "default");
	assert_non_null(strstr(a->msg, "evil.example.com"));
	assert_non_null(strstr(a->evidence, "\"method\":\"BITS_POST\""));
	assert_non_null(strstr(a->evidence, "\"bits_packet_types\":[\"Create-Session\"]"));
	assert_non_null(strstr(a->evidence, "\"bits_session_id\":\"{aaaa-bbbb}\""));
	assert_non_null(strstr(a->evidence, "\"bits_version\":\"7.8\""));
	assert_non_null(strstr(a->evidence, "\"allowlist\":\"none\""));
	assert_non_null(strstr(a->evidence, "\"reasons\":[\"upload\",\"non_allowlisted_host\"]"));

	/* MC-BUP's upper-case packet type, and a spoofed method with the header. */
	struct http_record r;
	rec_init(&r, f->now, "POST", "other.example.net", "/u", "Mozilla/5.0");
	snprintf(r.bits_packet_type, sizeof(r.bits_packet_type), "FRAGMENT");
	observe(f, &r);
	assert_int_equal(count_named(&f->out, "BITS::Upload_Session"), 2);
	assert_non_null(strstr(last(f)->evidence, "\"bits_packet_types\":[\"Fragment\"]"));

	/* Not an upload: a plain POST, and a GET without the BITS agent. */
	rec_init(&r, f->now, "POST", "evil.example.com", "/form", "Microsoft BITS/7.8");
	observe(f, &r);
	rec_init(&r, f->now, "GET", "evil.example.com", "/x.exe", "curl/8.0");
	observe(f, &r);
	assert_int_equal(f->out.n, 2);
	assert_int_equal(bits_stats(f->det)->uploads, 2);
	fx_free(f);
}

static void test_bits_upload_allowlisted(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	bits_post(f, "upload.windowsupdate.com:443", "Create-Session", -1, -1, -1);
	assert_int_equal(f->out.n, 1);
	assert_string_equal(last(f)->name, "BITS::Upload_Allowlisted");
	assert_int_equal(last(f)->severity, SEV_LOW);
	assert_string_equal(last(f)->policy_rule, "bits-allowlist:windowsupdate.com");
	assert_non_null(strstr(last(f)->evidence, "\"allowlist\":\"windowsupdate.com\""));
	/* A look-alike is not allowlisted. */
	bits_post(f, "evil-windowsupdate.com", "Create-Session", -1, -1, -1);
	assert_string_equal(last(f)->name, "BITS::Upload_Session");
	fx_free(f);
}

static void no_allowlisted_logging(struct bits_config *c)
{
	c->log_allowlisted = false;
}

static void test_bits_allowlisted_logging_off(void **state)
{
	(void)state;
	struct fx *f = fx_new_cfg(no_allowlisted_logging);
	bits_post(f, "x.windowsupdate.com", "Fragment", 0, 99, 100);
	assert_int_equal(download(f, "download.windowsupdate.com", "/a.cab"), 0);
	assert_int_equal(f->out.n, 0);
	fx_free(f);
}

static void test_bits_upload_large(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	const int64_t mib = 1024 * 1024;
	bits_post(f, "exfil.example.com", "Create-Session", -1, -1, -1);
	bits_post(f, "exfil.example.com", "Fragment", 0, mib - 1, 20 * mib);
	assert_int_equal(count_named(&f->out, "BITS::Upload_Large"), 1);
	const struct alert *a = find_named(&f->out, "BITS::Upload_Large");
	assert_int_equal(a->severity, SEV_CRITICAL);
	assert_non_null(strstr(a->evidence, "\"upload_total\":20971520"));
	assert_non_null(strstr(a->evidence, "\"uploaded_bytes\":1048576,\"fragments\":1"));
	assert_non_null(strstr(a->evidence, "\"large_upload\""));
	assert_non_null(
		strstr(a->evidence, "\"bits_packet_types\":[\"Create-Session\",\"Fragment\"]"));
	/* More fragments of the same upload: suppressed, not repeated. */
	bits_post(f, "exfil.example.com", "Fragment", mib, 2 * mib - 1, 20 * mib);
	assert_int_equal(count_named(&f->out, "BITS::Upload_Large"), 1);
	assert_true(bits_stats(f->det)->suppressed >= 1);

	/* Below the threshold: a session alert only. */
	struct fx *g = fx_new();
	bits_post(g, "small.example.com", "Fragment", 0, mib - 1, mib);
	assert_int_equal(count_named(&g->out, "BITS::Upload_Large"), 0);
	assert_int_equal(count_named(&g->out, "BITS::Upload_Session"), 1);
	fx_free(g);

	/* Large totals to an allowlisted host stay LOW. */
	bits_post(f, "x.update.microsoft.com", "Fragment", 0, mib - 1, 100 * mib);
	assert_string_equal(last(f)->name, "BITS::Upload_Allowlisted");
	fx_free(f);
}

/* Many small uploads from one source to many hosts: 50 MiB in 24 h. */
static void test_bits_upload_large_daily(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	const int64_t mib = 1024 * 1024;
	int first_large = -1;
	for (int i = 0; i < 60; i++) {
		char host[64];
		snprintf(host, sizeof(host), "h%d.drop.example", i);
		bits_post(f, host, "Fragment", 0, mib - 1, mib);
		if (first_large < 0 && count_named(&f->out, "BITS::Upload_Large") > 0)
			first_large = i;
		f->now += KG_SEC(60);
	}
	assert_int_equal(first_large, 49); /* the 50th MiB */

	/* A day later the window restarts. */
	struct fx *g = fx_new();
	for (int i = 0; i < 60; i++) {
		char host[64];
		snprintf(host, sizeof(host), "h%d.drop.example", i);
		bits_post(g, host, "Fragment", 0, mib - 1, mib);
		g->now += KG_SEC(3600); /* 60 MiB over 60 h: never 50 in a day */
	}
	assert_int_equal(count_named(&g->out, "BITS::Upload_Large"), 0);
	fx_free(g);
	fx_free(f);
}

static void test_bits_ping_only(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	bits_post(f, "probe.example.org", "Ping", -1, -1, -1);
	assert_int_equal(f->out.n, 0); /* undecided */
	bits_expire(f->det, f->now + KG_SEC(30), alert_fn, &f->out);
	assert_int_equal(f->out.n, 0);
	bits_expire(f->det, f->now + KG_SEC(61), alert_fn, &f->out);
	assert_int_equal(f->out.n, 1);
	const struct alert *a = last(f);
	assert_string_equal(a->name, "BITS::Ping_Only");
	assert_int_equal(a->severity, SEV_MEDIUM);
	assert_int_equal(a->ts, f->now); /* the Ping's time */
	assert_string_equal(a->uid, "CbitsTest0001");
	assert_non_null(strstr(a->evidence, "\"bits_packet_types\":[\"Ping\"]"));
	assert_non_null(strstr(a->evidence, "\"ping_without_session\""));
	bits_flush(f->det, alert_fn, &f->out);
	assert_int_equal(f->out.n, 1);

	/* Ping then Create-Session: the ordinary client, no Ping_Only. */
	struct fx *g = fx_new();
	bits_post(g, "upl.example.org", "Ping", -1, -1, -1);
	g->now += KG_SEC(1);
	bits_post(g, "upl.example.org", "Create-Session", -1, -1, -1);
	bits_expire(g->det, g->now + KG_SEC(3600), alert_fn, &g->out);
	bits_flush(g->det, alert_fn, &g->out);
	assert_int_equal(count_named(&g->out, "BITS::Ping_Only"), 0);
	assert_int_equal(count_named(&g->out, "BITS::Upload_Session"), 1);
	assert_non_null(strstr(last(g)->evidence, "[\"Ping\",\"Create-Session\"]"));
	fx_free(g);

	/* The end of input decides a pending Ping. */
	g = fx_new();
	bits_post(g, "p2.example.org", "Ping", -1, -1, -1);
	bits_flush(g->det, alert_fn, &g->out);
	assert_int_equal(count_named(&g->out, "BITS::Ping_Only"), 1);
	fx_free(g);

	/* A later record moves time on too. */
	g = fx_new();
	bits_post(g, "p3.example.org", "Ping", -1, -1, -1);
	g->now += KG_SEC(120);
	assert_int_equal(download(g, "download.windowsupdate.com", "/x.cab"), 2);
	assert_int_equal(count_named(&g->out, "BITS::Ping_Only"), 1);
	fx_free(g);

	/* A Ping to an allowlisted host is no alert. */
	g = fx_new();
	bits_post(g, "x.windowsupdate.com", "Ping", -1, -1, -1);
	bits_flush(g->det, alert_fn, &g->out);
	assert_int_equal(g->out.n, 0);
	fx_free(g);
	fx_free(f);
}

/* ---- download rules ---- */

static void test_bits_download_untrusted(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	assert_int_equal(download(f, "updates.example.com", "/pkg/data.cab"), 1);
	const struct alert *a = last(f);
	assert_string_equal(a->name, "BITS::Download_Untrusted");
	assert_int_equal(a->severity, SEV_MEDIUM);
	assert_non_null(strstr(a->evidence, "\"reasons\":[\"non_allowlisted_host\"]"));
	assert_non_null(strstr(a->evidence, "\"host\":\"updates.example.com\""));
	/* HEAD counts as a download too; a single-label intranet host is not a rare TLD. */
	struct http_record r;
	rec_init(&r, f->now, "HEAD", "wsus01:8530", "/c/x.cab", "Microsoft BITS/7.7");
	observe(f, &r);
	assert_string_equal(last(f)->name, "BITS::Download_Untrusted");
	/* Negative: not the BITS agent, or not HEAD/GET. */
	rec_init(&r, f->now, "GET", "updates.example.com", "/x.exe", "Microsoft-CryptoAPI/10.0");
	observe(f, &r);
	rec_init(&r, f->now, "PUT", "updates.example.com", "/x.exe", "Microsoft BITS/7.8");
	observe(f, &r);
	assert_int_equal(f->out.n, 2);
	fx_free(f);
}

static void test_bits_download_ip_literal(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	assert_int_equal(download(f, "203.0.113.9:8080", "/a/data.bin"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_IP_Literal");
	assert_int_equal(last(f)->severity, SEV_HIGH);
	assert_non_null(strstr(last(f)->evidence, "\"ip_literal\""));
	assert_int_equal(download(f, "[2001:db8::5]:8080", "/a/data.bin"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_IP_Literal");
	assert_non_null(strstr(last(f)->evidence, "\"host\":\"2001:db8::5\""));
	/* No Host header: the server address is the host. */
	assert_int_equal(download(f, "", "/b/data.bin"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_IP_Literal");
	assert_non_null(strstr(last(f)->evidence, "\"host\":\"198.51.100.7\""));
	/* Negative: a name. */
	assert_int_equal(download(f, "ip-203-0-113-9.example.com", "/a/data.bin"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_Untrusted");
	fx_free(f);
}

static void add_de(struct bits_config *c)
{
	char err[64];
	assert_true(bits_suffix_list_add(&c->common_tlds, "de", err, sizeof(err)));
}

static void test_bits_download_rare_tld(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	assert_int_equal(download(f, "cdn.example.xyz", "/a/data.bin"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_Rare_TLD");
	assert_int_equal(last(f)->severity, SEV_HIGH);
	assert_non_null(strstr(last(f)->evidence, "\"rare_tld\""));
	assert_int_equal(download(f, "cdn.example.org", "/a/data.bin"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_Untrusted");
	fx_free(f);
	/* An operator's ccTLD is not rare. */
	f = fx_new_cfg(add_de);
	assert_int_equal(download(f, "mirror.example.de", "/a/data.bin"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_Untrusted");
	fx_free(f);
}

static void test_bits_download_file_sharing(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	assert_int_equal(download(f, "raw.githubusercontent.com", "/u/r/main/data.bin"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_FileSharing");
	assert_int_equal(last(f)->severity, SEV_HIGH);
	assert_int_equal(download(f, "mega.nz", "/file/abc"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_FileSharing");
	assert_non_null(strstr(last(f)->evidence, "\"rare_tld\",\"file_sharing\""));
	/* Negative: a look-alike name is only untrusted. */
	assert_int_equal(download(f, "notgithubusercontent.com", "/data.bin"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_Untrusted");
	fx_free(f);
}

static void test_bits_download_executable(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	assert_int_equal(download(f, "files.example.com", "/a/b/Payload.EXE?x=1#f"), 1);
	const struct alert *a = last(f);
	assert_string_equal(a->name, "BITS::Download_Executable");
	assert_int_equal(a->severity, SEV_HIGH);
	assert_non_null(strstr(a->evidence, "\"file_ext\":\"exe\""));
	assert_non_null(strstr(a->evidence, "\"executable\""));

	/* By Content-Type. */
	struct http_record r;
	rec_init(&r, f->now, "GET", "files2.example.com", "/get?id=7", "Microsoft BITS/7.8");
	snprintf(r.resp_content_type, sizeof(r.resp_content_type), "application/x-msdownload; q=1");
	observe(f, &r);
	assert_string_equal(last(f)->name, "BITS::Download_Executable");
	/* By the MZ header at offset 0 of a 206. */
	rec_init(&r, f->now, "GET", "files3.example.com", "/blob", "Microsoft BITS/7.8");
	r.status_code = 206;
	memcpy(r.body_magic, "MZ", 2);
	r.body_magic_len = 2;
	r.body_offset = 0;
	observe(f, &r);
	assert_string_equal(last(f)->name, "BITS::Download_Executable");
	assert_non_null(strstr(last(f)->evidence, "\"body_magic\":\"MZ\""));
	/* "MZ" in the middle of a file is not a header. */
	rec_init(&r, f->now, "GET", "files4.example.com", "/blob", "Microsoft BITS/7.8");
	memcpy(r.body_magic, "MZ", 2);
	r.body_magic_len = 2;
	r.body_offset = 65536;
	observe(f, &r);
	assert_string_equal(last(f)->name, "BITS::Download_Untrusted");
	/* With an IP literal: CRITICAL. */
	assert_int_equal(download(f, "203.0.113.50", "/run.ps1"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_Executable");
	assert_int_equal(last(f)->severity, SEV_CRITICAL);
	/* Not executables: .cab, .psf, a directory called x.exe. */
	assert_int_equal(download(f, "files5.example.com", "/x.exe/data.psf"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_Untrusted");
	/* An allowlisted host with an .exe is only logged. */
	assert_int_equal(download(f, "dl.google.com", "/chrome/installer.exe"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_Allowlisted");
	fx_free(f);
}

static void test_bits_download_allowlisted(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	assert_int_equal(download(f, "download.windowsupdate.com", "/msdownload/x.psf"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_Allowlisted");
	assert_int_equal(last(f)->severity, SEV_INFO);
	assert_int_equal(download(f, "evil-windowsupdate.com", "/msdownload/x.psf"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_Untrusted");
	/* An absolute URI (through a proxy) names the real host. */
	assert_int_equal(download(f, "proxy.corp:3128", "http://payload.example.top/a.bin"), 1);
	assert_string_equal(last(f)->name, "BITS::Download_Rare_TLD");
	assert_non_null(strstr(last(f)->evidence, "\"host\":\"payload.example.top\""));
	fx_free(f);
}

static void no_suppress(struct bits_config *c)
{
	c->suppress = 0;
}

static void test_bits_suppression(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	assert_int_equal(download(f, "updates.example.com", "/a"), 1);
	f->now += KG_SEC(10);
	assert_int_equal(download(f, "updates.example.com", "/b"), 0); /* same pair, same rule */
	assert_int_equal(bits_stats(f->det)->suppressed, 1);
	assert_int_equal(f->out.repeats, 1); /* ...still raised, marked, so enforce can act */
	assert_int_equal(download(f, "updates.example.com", "/c.exe"), 1); /* another rule */
	f->now += KG_SEC(3600);
	assert_int_equal(download(f, "updates.example.com", "/d"), 1); /* window over */
	fx_free(f);

	f = fx_new_cfg(no_suppress);
	assert_int_equal(download(f, "updates.example.com", "/a"), 1);
	assert_int_equal(download(f, "updates.example.com", "/b"), 1);
	assert_int_equal(bits_stats(f->det)->alerts[BITS_DOWNLOAD_UNTRUSTED], 2);
	fx_free(f);
}

static void small_table(struct bits_config *c)
{
	c->max_pairs = 4;
}

static void test_bits_pair_table_bounded(void **state)
{
	(void)state;
	struct fx *f = fx_new_cfg(small_table);
	bits_post(f, "p0.example.org", "Ping", -1, -1, -1); /* pending in the oldest pair */
	for (int i = 1; i < 10; i++) {
		char host[64];
		snprintf(host, sizeof(host), "h%d.example.com", i);
		/* h4 pushes out p0, whose pending Ping is decided then. */
		assert_int_equal(download(f, host, "/x"), i == 4 ? 2 : 1);
	}
	const struct bits_stats *s = bits_stats(f->det);
	assert_int_equal(s->pairs_in_use, 4);
	assert_int_equal(s->pairs_evicted, 6);
	/* The evicted pair's Ping was decided, not lost. */
	assert_int_equal(s->pings_evicted, 1);
	assert_int_equal(count_named(&f->out, "BITS::Ping_Only"), 1);
	/* An evicted pair starts afresh: its rule fires again. */
	assert_int_equal(download(f, "h1.example.com", "/x"), 1);
	fx_free(f);
}

static void disabled(struct bits_config *c)
{
	c->enabled = false;
}

static void test_bits_disabled(void **state)
{
	(void)state;
	struct fx *f = fx_new_cfg(disabled);
	bits_post(f, "evil.example.com", "Create-Session", -1, -1, -1);
	assert_int_equal(download(f, "203.0.113.9", "/x.exe"), 0);
	assert_int_equal(f->out.n, 0);
	assert_int_equal(bits_stats(f->det)->records, 0);
	fx_free(f);
}

/* Hostile field contents: the evidence stays valid, bounded JSON. */
static void test_bits_evidence_escaping_and_bounds(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct http_record r;
	rec_init(&r, f->now, "BITS_POST", "x", "/", "Microsoft BITS/7.8");
	memset(r.uri, '"', sizeof(r.uri) - 1);
	r.uri[0] = '/';
	memset(r.host, 'a', 200);
	r.host[200] = '\0';
	memset(r.user_agent, '\x01', sizeof(r.user_agent) - 1);
	memset(r.bits_session_id, '\\', sizeof(r.bits_session_id) - 1);
	memset(r.content_name, '\xff', sizeof(r.content_name) - 1);
	memset(r.range, '\n', sizeof(r.range) - 1);
	memset(r.resp_content_type, '\t', sizeof(r.resp_content_type) - 1);
	snprintf(r.bits_packet_type, sizeof(r.bits_packet_type), "Fragment");
	r.req_content_range = (struct http_byte_range){0, 99, 1LL << 40};
	r.request_body_len = 100;
	observe(f, &r);
	assert_int_equal(count_named(&f->out, "BITS::Upload_Large"), 1);
	for (int i = 0; i < f->out.n; i++) {
		const struct alert *a = &f->out.a[i];
		size_t n = strlen(a->evidence);
		assert_true(n > 100 && n < ALERT_EVIDENCE_MAX);
		assert_json_object(a->evidence); /* also checked in alert_fn */
		assert_non_null(strstr(a->evidence, "\"upload_total\":1099511627776"));
		assert_true(strlen(a->msg) > 0 && strlen(a->msg) < ALERT_MSG_MAX);
	}
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bits_host_normalize),
		cmocka_unit_test(test_bits_host_ip_literal_and_tld),
		cmocka_unit_test(test_bits_allowlist_dot_boundary),
		cmocka_unit_test(test_bits_allowlist_parse_text),
		cmocka_unit_test(test_bits_allowlist_conf_file_is_default),
		cmocka_unit_test(test_bits_user_agent),
		cmocka_unit_test(test_bits_upload_session),
		cmocka_unit_test(test_bits_upload_allowlisted),
		cmocka_unit_test(test_bits_allowlisted_logging_off),
		cmocka_unit_test(test_bits_upload_large),
		cmocka_unit_test(test_bits_upload_large_daily),
		cmocka_unit_test(test_bits_ping_only),
		cmocka_unit_test(test_bits_download_untrusted),
		cmocka_unit_test(test_bits_download_ip_literal),
		cmocka_unit_test(test_bits_download_rare_tld),
		cmocka_unit_test(test_bits_download_file_sharing),
		cmocka_unit_test(test_bits_download_executable),
		cmocka_unit_test(test_bits_download_allowlisted),
		cmocka_unit_test(test_bits_suppression),
		cmocka_unit_test(test_bits_pair_table_bounded),
		cmocka_unit_test(test_bits_disabled),
		cmocka_unit_test(test_bits_evidence_escaping_and_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
