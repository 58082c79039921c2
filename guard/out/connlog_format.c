#include "out/connlog_format.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "out/numfmt.h"
#include "util/addr.h"

/* The column list of Conn::Info, with the nested id record flattened. */
static const char tsv_fields[] =
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration"
	"\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory"
	"\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\n";
static const char tsv_types[] =
	"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount"
	"\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\n";

#define TSV_UNSET "-"
#define TSV_EMPTY "(empty)"

/* A bounded output cursor: once a write does not fit, it stays failed. */
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

static void out_hex_escape(struct out *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
	out_bytes(o, esc, 4);
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

/* Zeek's ODesc escaping for a string field: non-printable bytes, '\' and the
 * separator (a tab, already non-printable) become \xNN. A value equal to the
 * unset or empty marker gets its first byte escaped so it reads back as a
 * string. Non-ASCII bytes are escaped too (our fields are ASCII). */
static void tsv_string(struct out *o, const char *s)
{
	size_t n = strlen(s);
	if (n == 0) {
		out_str(o, TSV_EMPTY);
		return;
	}
	size_t i = 0;
	if (strcmp(s, TSV_UNSET) == 0 || strcmp(s, TSV_EMPTY) == 0) {
		out_hex_escape(o, (unsigned char)s[0]);
		i = 1;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || c == '\\')
			out_hex_escape(o, c);
		else
			out_bytes(o, (const char *)&c, 1);
	}
}

/* "" means unset for the optional string fields. */
static void tsv_opt_string(struct out *o, const char *s)
{
	if (s == NULL || s[0] == '\0')
		out_str(o, TSV_UNSET);
	else
		tsv_string(o, s);
}

static void tsv_double6(struct out *o, double v)
{
	char tmp[NUMFMT_DOUBLE_MAX * 10];
	size_t n = numfmt_fixed6(v, tmp, sizeof(tmp));
	if (n == 0)
		o->overflow = true;
	out_bytes(o, tmp, n);
}

static void tsv_tribool(struct out *o, enum tribool b)
{
	out_str(o, b == TRI_UNSET ? TSV_UNSET : b == TRI_TRUE ? "T" : "F");
}

static void tsv_addr(struct out *o, const struct kg_addr *a)
{
	char tmp[KG_ADDR_STRLEN];
	addr_format(a, tmp);
	out_str(o, tmp);
}

/* Zeek logs duration only when it is non-zero, and the byte counts with it. */
static bool record_duration(const struct conn_record *r, double *out)
{
	*out = numfmt_zeek_time(r->ts + r->duration) - numfmt_zeek_time(r->ts);
	return r->duration != 0 && *out != 0;
}

size_t connlog_tsv_header(char *buf, size_t cap, const char *open_stamp)
{
	struct out o = {buf, cap, 0, false};
	out_str(&o, "#separator \\x09\n");
	out_str(&o, "#set_separator\t,\n");
	out_str(&o, "#empty_field\t" TSV_EMPTY "\n");
	out_str(&o, "#unset_field\t" TSV_UNSET "\n");
	out_str(&o, "#path\tconn\n");
	out_str(&o, "#open\t");
	out_str(&o, open_stamp);
	out_str(&o, "\n");
	out_str(&o, tsv_fields);
	out_str(&o, tsv_types);
	return out_finish(&o);
}

size_t connlog_tsv_footer(char *buf, size_t cap, const char *close_stamp)
{
	struct out o = {buf, cap, 0, false};
	out_str(&o, "#close\t");
	out_str(&o, close_stamp);
	out_str(&o, "\n");
	return out_finish(&o);
}

size_t connlog_tsv_line(const struct conn_record *r, char *buf, size_t cap)
{
	struct out o = {buf, cap, 0, false};
	double dur;
	bool has_dur = record_duration(r, &dur);

	/* Zeek writes a leading '#' of a data line as \x23 (Ascii.cc:632-643) so
	 * it cannot pass for a meta line; our first field is the numeric ts, which
	 * never starts with '#', so there is nothing to escape here. */
	tsv_double6(&o, numfmt_zeek_time(r->ts));
	out_str(&o, "\t");
	tsv_string(&o, r->uid);
	out_str(&o, "\t");
	tsv_addr(&o, &r->orig_h);
	out_str(&o, "\t");
	out_u64(&o, r->orig_p);
	out_str(&o, "\t");
	tsv_addr(&o, &r->resp_h);
	out_str(&o, "\t");
	out_u64(&o, r->resp_p);
	out_str(&o, "\t");
	out_str(&o, transport_name(r->proto));
	out_str(&o, "\t");
	tsv_opt_string(&o, r->service);
	out_str(&o, "\t");
	if (has_dur) {
		tsv_double6(&o, dur);
		out_str(&o, "\t");
		out_u64(&o, r->orig_bytes);
		out_str(&o, "\t");
		out_u64(&o, r->resp_bytes);
	} else {
		out_str(&o, TSV_UNSET "\t" TSV_UNSET "\t" TSV_UNSET);
	}
	out_str(&o, "\t");
	tsv_opt_string(&o, r->conn_state);
	out_str(&o, "\t");
	tsv_tribool(&o, r->local_orig);
	out_str(&o, "\t");
	tsv_tribool(&o, r->local_resp);
	out_str(&o, "\t");
	out_u64(&o, r->missed_bytes);
	out_str(&o, "\t");
	tsv_opt_string(&o, r->history);
	out_str(&o, "\t");
	out_u64(&o, r->orig_pkts);
	out_str(&o, "\t");
	out_u64(&o, r->orig_ip_bytes);
	out_str(&o, "\t");
	out_u64(&o, r->resp_pkts);
	out_str(&o, "\t");
	out_u64(&o, r->resp_ip_bytes);
	/* tunnel_parents: always unset, knockguard does not decapsulate. */
	out_str(&o, "\t" TSV_UNSET "\t");
	out_u64(&o, r->ip_proto);
	out_str(&o, "\n");

	return out_finish(&o);
}

/* rapidjson's String(): '"' and '\' escaped, control bytes as \b \f \n \r \t
 * or \u00XX. Zeek's json_escape_utf8 turns a byte that is not UTF-8 into the
 * text \xNN first; our fields are ASCII, so every byte >= 0x80 is taken as
 * such. */
static void json_string(struct out *o, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	out_str(o, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			out_bytes(o, esc, 2);
		} else if (c < 0x20) {
			const char *shortform = c == '\b' ? "\\b" : c == '\f' ? "\\f" : c == '\n' ? "\\n"
				: c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
			if (shortform) {
				out_str(o, shortform);
			} else {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				out_bytes(o, esc, 6);
			}
		} else if (c >= 0x80) {
			memcpy(esc, "\\\\x", 3);
			esc[3] = hex[c >> 4];
			esc[4] = hex[c & 15];
			out_bytes(o, esc, 5);
		} else {
			out_bytes(o, (const char *)&c, 1);
		}
	}
	out_str(o, "\"");
}

static void json_key(struct out *o, const char *key)
{
	if (o->len > 1) /* something follows the opening '{' already */
		out_str(o, ",");
	out_str(o, "\"");
	out_str(o, key);
	out_str(o, "\":");
}

static void json_double(struct out *o, const char *key, double v)
{
	char tmp[NUMFMT_DOUBLE_MAX];
	size_t n = numfmt_shortest(v, tmp, sizeof(tmp));
	if (n == 0)
		o->overflow = true;
	json_key(o, key);
	out_bytes(o, tmp, n);
}

static void json_u64(struct out *o, const char *key, uint64_t v)
{
	json_key(o, key);
	out_u64(o, v);
}

static void json_opt_string(struct out *o, const char *key, const char *s)
{
	if (s == NULL || s[0] == '\0')
		return;
	json_key(o, key);
	json_string(o, s);
}

static void json_tribool(struct out *o, const char *key, enum tribool b)
{
	if (b == TRI_UNSET)
		return;
	json_key(o, key);
	out_str(o, b == TRI_TRUE ? "true" : "false");
}

static void json_addr(struct out *o, const char *key, const struct kg_addr *a)
{
	char tmp[KG_ADDR_STRLEN];
	addr_format(a, tmp);
	json_key(o, key);
	json_string(o, tmp);
}

size_t connlog_json_line(const struct conn_record *r, char *buf, size_t cap)
{
	struct out o = {buf, cap, 0, false};
	double dur;
	bool has_dur = record_duration(r, &dur);

	out_str(&o, "{");
	json_double(&o, "ts", numfmt_zeek_time(r->ts));
	json_key(&o, "uid");
	json_string(&o, r->uid);
	json_addr(&o, "id.orig_h", &r->orig_h);
	json_u64(&o, "id.orig_p", r->orig_p);
	json_addr(&o, "id.resp_h", &r->resp_h);
	json_u64(&o, "id.resp_p", r->resp_p);
	json_key(&o, "proto");
	json_string(&o, transport_name(r->proto));
	json_opt_string(&o, "service", r->service);
	if (has_dur) {
		json_double(&o, "duration", dur);
		json_u64(&o, "orig_bytes", r->orig_bytes);
		json_u64(&o, "resp_bytes", r->resp_bytes);
	}
	json_opt_string(&o, "conn_state", r->conn_state);
	json_tribool(&o, "local_orig", r->local_orig);
	json_tribool(&o, "local_resp", r->local_resp);
	json_u64(&o, "missed_bytes", r->missed_bytes);
	json_opt_string(&o, "history", r->history);
	json_u64(&o, "orig_pkts", r->orig_pkts);
	json_u64(&o, "orig_ip_bytes", r->orig_ip_bytes);
	json_u64(&o, "resp_pkts", r->resp_pkts);
	json_u64(&o, "resp_ip_bytes", r->resp_ip_bytes);
	json_u64(&o, "ip_proto", r->ip_proto);
	out_str(&o, "}\n");
	return out_finish(&o);
}
