#include "out/httplog_format.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "out/jsonw.h"
#include "out/numfmt.h"
#include "util/addr.h"

/* The columns of HTTP::Info with the nested id flattened, and their types,
 * as Zeek 6/7 write them. */
static const char tsv_fields[] =
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost"
	"\turi\treferrer\tversion\tuser_agent\torigin\trequest_body_len\tresponse_body_len"
	"\tstatus_code\tstatus_msg\tinfo_code\tinfo_msg\ttags\tusername\tpassword\tproxied"
	"\torig_fuids\torig_filenames\torig_mime_types\tresp_fuids\tresp_filenames"
	"\tresp_mime_types\n";
static const char tsv_types[] =
	"#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring"
	"\tstring\tstring\tstring\tcount\tcount\tcount\tstring\tcount\tstring\tset[enum]"
	"\tstring\tstring\tset[string]\tvector[string]\tvector[string]\tvector[string]"
	"\tvector[string]\tvector[string]\tvector[string]\n";

#define TSV_UNSET "-"
#define TSV_EMPTY "(empty)"

struct out {
	char *buf;
	size_t cap, len;
	bool overflow;
};

static void out_bytes(struct out *o, const char *s, size_t n)
{
	if (o->overflow || o->len + n + 1 > o->cap) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void out_str(struct out *o, const char *s)
{
	out_bytes(o, s, strlen(s));
}

static void out_u64(struct out *o, uint64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v);
	out_bytes(o, tmp, (size_t)n);
}

static size_t out_finish(struct out *o)
{
	if (o->overflow) {
		if (o->cap)
			o->buf[0] = '\0';
		return 0;
	}
	o->buf[o->len] = '\0';
	return o->len;
}

static void out_hex_escape(struct out *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
	out_bytes(o, esc, 4);
}

/* Zeek's ODesc escaping of a string value: non-printable and non-ASCII
 * bytes and '\' as \xNN; inside a set also the set separator ','. A value
 * equal to a marker ("-", "(empty)") gets its first byte escaped. */
static void tsv_escaped(struct out *o, const char *s, size_t n, bool in_set)
{
	if (n == 0) {
		out_str(o, TSV_EMPTY);
		return;
	}
	size_t i = 0;
	if ((n == 1 && s[0] == '-') || (n == 7 && memcmp(s, TSV_EMPTY, 7) == 0)) {
		out_hex_escape(o, (unsigned char)s[0]);
		i = 1;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || c == '\\' || (in_set && c == ','))
			out_hex_escape(o, c);
		else
			out_bytes(o, (const char *)&c, 1);
	}
}

static void tsv_sep(struct out *o)
{
	out_bytes(o, "\t", 1);
}

/* "" = unset. */
static void tsv_opt(struct out *o, const char *s)
{
	if (s[0] == '\0')
		out_str(o, TSV_UNSET);
	else
		tsv_escaped(o, s, strlen(s), false);
}

/* A string that is set even when empty (status_msg of a status line
 * without a reason phrase). */
static void tsv_set_string(struct out *o, bool set, const char *s)
{
	if (!set)
		out_str(o, TSV_UNSET);
	else
		tsv_escaped(o, s, strlen(s), false);
}

static void tsv_opt_count(struct out *o, bool set, uint64_t v)
{
	if (set)
		out_u64(o, v);
	else
		out_str(o, TSV_UNSET);
}

static void tsv_addr(struct out *o, const struct kg_addr *a)
{
	char tmp[KG_ADDR_STRLEN];
	addr_format(a, tmp);
	out_str(o, tmp);
}

/* The proxied set: items separated by '\n' in the record. */
static void tsv_proxied(struct out *o, const char *s)
{
	if (s[0] == '\0') {
		out_str(o, TSV_UNSET);
		return;
	}
	bool first = true;
	while (*s) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (!first)
			out_bytes(o, ",", 1);
		tsv_escaped(o, s, n, true);
		first = false;
		s += n;
		if (*s == '\n')
			s++;
	}
}

size_t httplog_tsv_header(char *buf, size_t cap, const char *open_stamp)
{
	struct out o = {buf, cap, 0, false};
	out_str(&o, "#separator \\x09\n");
	out_str(&o, "#set_separator\t,\n");
	out_str(&o, "#empty_field\t" TSV_EMPTY "\n");
	out_str(&o, "#unset_field\t" TSV_UNSET "\n");
	out_str(&o, "#path\thttp\n");
	out_str(&o, "#open\t");
	out_str(&o, open_stamp);
	out_str(&o, "\n");
	out_str(&o, tsv_fields);
	out_str(&o, tsv_types);
	return out_finish(&o);
}

size_t httplog_tsv_footer(char *buf, size_t cap, const char *close_stamp)
{
	struct out o = {buf, cap, 0, false};
	out_str(&o, "#close\t");
	out_str(&o, close_stamp);
	out_str(&o, "\n");
	return out_finish(&o);
}

size_t httplog_tsv_line(const struct http_record *r, char *buf, size_t cap)
{
	struct out o = {buf, cap, 0, false};
	char num[NUMFMT_DOUBLE_MAX * 10];
	size_t n = numfmt_fixed6(numfmt_zeek_time(r->ts), num, sizeof(num));
	if (n == 0)
		o.overflow = true;
	out_bytes(&o, num, n);
	tsv_sep(&o);
	tsv_escaped(&o, r->uid, strlen(r->uid), false);
	tsv_sep(&o);
	tsv_addr(&o, &r->orig_h);
	tsv_sep(&o);
	out_u64(&o, r->orig_p);
	tsv_sep(&o);
	tsv_addr(&o, &r->resp_h);
	tsv_sep(&o);
	out_u64(&o, r->resp_p);
	tsv_sep(&o);
	out_u64(&o, r->trans_depth);
	tsv_sep(&o);
	tsv_opt(&o, r->method);
	tsv_sep(&o);
	tsv_opt(&o, r->host);
	tsv_sep(&o);
	tsv_set_string(&o, r->request_seen, r->uri);
	tsv_sep(&o);
	tsv_opt(&o, r->referrer);
	tsv_sep(&o);
	tsv_opt(&o, r->version);
	tsv_sep(&o);
	tsv_opt(&o, r->user_agent);
	tsv_sep(&o);
	tsv_opt(&o, r->origin);
	tsv_sep(&o);
	out_u64(&o, r->request_body_len);
	tsv_sep(&o);
	out_u64(&o, r->response_body_len);
	tsv_sep(&o);
	tsv_opt_count(&o, r->status_code != 0, r->status_code);
	tsv_sep(&o);
	tsv_set_string(&o, r->status_code != 0, r->status_msg);
	tsv_sep(&o);
	tsv_opt_count(&o, r->info_code != 0, r->info_code);
	tsv_sep(&o);
	tsv_set_string(&o, r->info_code != 0, r->info_msg);
	tsv_sep(&o);
	out_str(&o, TSV_EMPTY); /* tags: no tag is ever set */
	tsv_sep(&o);
	tsv_opt(&o, r->username);
	tsv_sep(&o);
	out_str(&o, TSV_UNSET); /* password */
	tsv_sep(&o);
	tsv_proxied(&o, r->proxied);
	/* orig_fuids .. resp_mime_types: no file analysis. */
	for (int i = 0; i < 6; i++) {
		tsv_sep(&o);
		out_str(&o, TSV_UNSET);
	}
	out_bytes(&o, "\n", 1);
	return out_finish(&o);
}

static void json_opt(struct jsonw *w, const char *key, const char *s)
{
	if (s[0] == '\0')
		return;
	jsonw_key(w, key);
	jsonw_string(w, s, 0);
}

static void json_addr(struct jsonw *w, const char *key, const struct kg_addr *a)
{
	char tmp[KG_ADDR_STRLEN];
	addr_format(a, tmp);
	jsonw_key(w, key);
	jsonw_string(w, tmp, 0);
}

size_t httplog_json_line(const struct http_record *r, char *buf, size_t cap)
{
	struct jsonw w;
	jsonw_init(&w, buf, cap);
	jsonw_object_begin(&w);
	char num[NUMFMT_DOUBLE_MAX];
	size_t n = numfmt_shortest(numfmt_zeek_time(r->ts), num, sizeof(num));
	if (n == 0)
		w.overflow = true;
	jsonw_key(&w, "ts");
	jsonw_raw_value(&w, num, n);
	jsonw_key(&w, "uid");
	jsonw_string(&w, r->uid, 0);
	json_addr(&w, "id.orig_h", &r->orig_h);
	jsonw_key(&w, "id.orig_p");
	jsonw_u64(&w, r->orig_p);
	json_addr(&w, "id.resp_h", &r->resp_h);
	jsonw_key(&w, "id.resp_p");
	jsonw_u64(&w, r->resp_p);
	jsonw_key(&w, "trans_depth");
	jsonw_u64(&w, r->trans_depth);
	json_opt(&w, "method", r->method);
	json_opt(&w, "host", r->host);
	if (r->request_seen) {
		jsonw_key(&w, "uri");
		jsonw_string(&w, r->uri, 0);
	}
	json_opt(&w, "referrer", r->referrer);
	json_opt(&w, "version", r->version);
	json_opt(&w, "user_agent", r->user_agent);
	json_opt(&w, "origin", r->origin);
	jsonw_key(&w, "request_body_len");
	jsonw_u64(&w, r->request_body_len);
	jsonw_key(&w, "response_body_len");
	jsonw_u64(&w, r->response_body_len);
	if (r->status_code != 0) {
		jsonw_key(&w, "status_code");
		jsonw_u64(&w, r->status_code);
		jsonw_key(&w, "status_msg");
		jsonw_string(&w, r->status_msg, 0);
	}
	if (r->info_code != 0) {
		jsonw_key(&w, "info_code");
		jsonw_u64(&w, r->info_code);
		jsonw_key(&w, "info_msg");
		jsonw_string(&w, r->info_msg, 0);
	}
	jsonw_key(&w, "tags");
	jsonw_array_begin(&w);
	jsonw_array_end(&w);
	json_opt(&w, "username", r->username);
	if (r->proxied[0] != '\0') {
		jsonw_key(&w, "proxied");
		jsonw_array_begin(&w);
		for (const char *s = r->proxied; *s;) {
			const char *e = strchr(s, '\n');
			size_t len = e ? (size_t)(e - s) : strlen(s);
			jsonw_string_n(&w, s, len, 0);
			s += len;
			if (*s == '\n')
				s++;
		}
		jsonw_array_end(&w);
	}
	jsonw_object_end(&w);
	size_t len = jsonw_finish(&w);
	if (len == 0 || len + 2 > cap) {
		if (cap > 0)
			buf[0] = '\0';
		return 0;
	}
	buf[len] = '\n';
	buf[len + 1] = '\0';
	return len + 1;
}
