#include "out/httplog_format.h"

#include <stdbool.h>
#include <string.h>

#include "out/numfmt.h"
#include "out/zeek_ascii.h"
#include "util/json_writer.h"

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

static void tsv_sep(struct outbuf *o)
{
	outbuf_put(o, "\t", 1);
}

/* A string that is set even when empty (status_msg of a status line
 * without a reason phrase). */
static void tsv_set_string(struct outbuf *o, bool set, const char *s)
{
	if (!set)
		outbuf_str(o, ZEEK_ASCII_UNSET);
	else
		zeek_ascii_string(o, s, strlen(s), false);
}

static void tsv_opt_count(struct outbuf *o, bool set, uint64_t v)
{
	if (set)
		outbuf_u64(o, v);
	else
		outbuf_str(o, ZEEK_ASCII_UNSET);
}

/* The proxied set: items separated by '\n' in the record. */
static void tsv_proxied(struct outbuf *o, const char *s)
{
	if (s[0] == '\0') {
		outbuf_str(o, ZEEK_ASCII_UNSET);
		return;
	}
	bool first = true;
	while (*s) {
		const char *e = strchr(s, '\n');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (!first)
			outbuf_put(o, ",", 1);
		zeek_ascii_string(o, s, n, true);
		first = false;
		s += n;
		if (*s == '\n')
			s++;
	}
}

size_t httplog_tsv_header(char *buf, size_t cap, const char *open_stamp)
{
	return zeek_ascii_header(buf, cap, "http", open_stamp, tsv_fields, tsv_types);
}

size_t httplog_tsv_footer(char *buf, size_t cap, const char *close_stamp)
{
	return zeek_ascii_footer(buf, cap, close_stamp);
}

size_t httplog_tsv_line(const struct http_record *r, char *buf, size_t cap)
{
	struct outbuf o;
	outbuf_init(&o, buf, cap);
	zeek_ascii_double(&o, numfmt_zeek_time(r->ts));
	tsv_sep(&o);
	zeek_ascii_string(&o, r->uid, strlen(r->uid), false);
	tsv_sep(&o);
	zeek_ascii_addr(&o, &r->orig_h);
	tsv_sep(&o);
	outbuf_u64(&o, r->orig_p);
	tsv_sep(&o);
	zeek_ascii_addr(&o, &r->resp_h);
	tsv_sep(&o);
	outbuf_u64(&o, r->resp_p);
	tsv_sep(&o);
	outbuf_u64(&o, r->trans_depth);
	tsv_sep(&o);
	zeek_ascii_opt_string(&o, r->method);
	tsv_sep(&o);
	zeek_ascii_opt_string(&o, r->host);
	tsv_sep(&o);
	tsv_set_string(&o, r->request_seen, r->uri);
	tsv_sep(&o);
	zeek_ascii_opt_string(&o, r->referrer);
	tsv_sep(&o);
	zeek_ascii_opt_string(&o, r->version);
	tsv_sep(&o);
	zeek_ascii_opt_string(&o, r->user_agent);
	tsv_sep(&o);
	zeek_ascii_opt_string(&o, r->origin);
	tsv_sep(&o);
	outbuf_u64(&o, r->request_body_len);
	tsv_sep(&o);
	outbuf_u64(&o, r->response_body_len);
	tsv_sep(&o);
	tsv_opt_count(&o, r->status_code != 0, r->status_code);
	tsv_sep(&o);
	tsv_set_string(&o, r->status_code != 0, r->status_msg);
	tsv_sep(&o);
	tsv_opt_count(&o, r->info_code != 0, r->info_code);
	tsv_sep(&o);
	tsv_set_string(&o, r->info_code != 0, r->info_msg);
	tsv_sep(&o);
	outbuf_str(&o, ZEEK_ASCII_EMPTY); /* tags: no tag is ever set */
	tsv_sep(&o);
	zeek_ascii_opt_string(&o, r->username);
	tsv_sep(&o);
	outbuf_str(&o, ZEEK_ASCII_UNSET); /* password */
	tsv_sep(&o);
	tsv_proxied(&o, r->proxied);
	/* orig_fuids .. resp_mime_types: no file analysis. */
	for (int i = 0; i < 6; i++) {
		tsv_sep(&o);
		outbuf_str(&o, ZEEK_ASCII_UNSET);
	}
	outbuf_put(&o, "\n", 1);
	return outbuf_finish(&o);
}

static void json_opt(struct jsonw *w, const char *key, const char *s)
{
	if (s[0] == '\0')
		return;
	jsonw_key(w, key);
	jsonw_string(w, s);
}

static void json_addr(struct jsonw *w, const char *key, const struct kg_addr *a)
{
	jsonw_key(w, key);
	jsonw_addr(w, a);
}

size_t httplog_json_line(const struct http_record *r, char *buf, size_t cap)
{
	struct jsonw w;
	jsonw_init(&w, buf, cap, JSONW_ESCAPE_BYTES);
	jsonw_object_begin(&w);
	char num[NUMFMT_DOUBLE_MAX];
	size_t n = numfmt_shortest(numfmt_zeek_time(r->ts), num, sizeof(num));
	jsonw_key(&w, "ts");
	jsonw_raw_value(&w, num, n);
	jsonw_key(&w, "uid");
	jsonw_string(&w, r->uid);
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
		jsonw_string(&w, r->uri);
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
		jsonw_string(&w, r->status_msg);
	}
	if (r->info_code != 0) {
		jsonw_key(&w, "info_code");
		jsonw_u64(&w, r->info_code);
		jsonw_key(&w, "info_msg");
		jsonw_string(&w, r->info_msg);
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
			jsonw_string_n(&w, s, len, JSONW_NO_LIMIT);
			s += len;
			if (*s == '\n')
				s++;
		}
		jsonw_array_end(&w);
	}
	jsonw_object_end(&w);
	jsonw_raw(&w, "\n", 1);
	return jsonw_finish(&w);
}
