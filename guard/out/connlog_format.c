#include "out/connlog_format.h"

#include <stdbool.h>
#include <string.h>

#include "out/numfmt.h"
#include "out/zeek_ascii.h"
#include "util/json_writer.h"

/* The column list of Conn::Info, with the nested id record flattened. */
static const char tsv_fields[] =
	"#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration"
	"\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory"
	"\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\tip_proto\n";
static const char tsv_types[] =
	"#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount"
	"\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\tcount\n";

static void tsv_tribool(struct outbuf *o, enum tribool b)
{
	outbuf_str(o, b == TRI_UNSET ? ZEEK_ASCII_UNSET : b == TRI_TRUE ? "T" : "F");
}

/* Zeek logs duration only when it is non-zero, and the byte counts with it. */
static bool record_duration(const struct conn_record *r, double *out)
{
	*out = numfmt_zeek_time(r->ts + r->duration) - numfmt_zeek_time(r->ts);
	return r->duration != 0 && *out != 0;
}

size_t connlog_tsv_header(char *buf, size_t cap, const char *open_stamp)
{
	return zeek_ascii_header(buf, cap, "conn", open_stamp, tsv_fields, tsv_types);
}

size_t connlog_tsv_footer(char *buf, size_t cap, const char *close_stamp)
{
	return zeek_ascii_footer(buf, cap, close_stamp);
}

size_t connlog_tsv_line(const struct conn_record *r, char *buf, size_t cap)
{
	struct outbuf o;
	double dur;
	bool has_dur = record_duration(r, &dur);

	outbuf_init(&o, buf, cap);
	/* Zeek writes a leading '#' of a data line as \x23 (Ascii.cc:632-643) so
	 * it cannot pass for a meta line; our first field is the numeric ts, which
	 * never starts with '#', so there is nothing to escape here. */
	zeek_ascii_double(&o, numfmt_zeek_time(r->ts));
	outbuf_str(&o, "\t");
	zeek_ascii_string(&o, r->uid, strlen(r->uid), false);
	outbuf_str(&o, "\t");
	zeek_ascii_addr(&o, &r->orig_h);
	outbuf_str(&o, "\t");
	outbuf_u64(&o, r->orig_p);
	outbuf_str(&o, "\t");
	zeek_ascii_addr(&o, &r->resp_h);
	outbuf_str(&o, "\t");
	outbuf_u64(&o, r->resp_p);
	outbuf_str(&o, "\t");
	outbuf_str(&o, transport_name(r->proto));
	outbuf_str(&o, "\t");
	zeek_ascii_opt_string(&o, r->service);
	outbuf_str(&o, "\t");
	if (has_dur) {
		zeek_ascii_double(&o, dur);
		outbuf_str(&o, "\t");
		outbuf_u64(&o, r->orig_bytes);
		outbuf_str(&o, "\t");
		outbuf_u64(&o, r->resp_bytes);
	} else {
		outbuf_str(&o, ZEEK_ASCII_UNSET "\t" ZEEK_ASCII_UNSET "\t" ZEEK_ASCII_UNSET);
	}
	outbuf_str(&o, "\t");
	zeek_ascii_opt_string(&o, r->conn_state);
	outbuf_str(&o, "\t");
	tsv_tribool(&o, r->local_orig);
	outbuf_str(&o, "\t");
	tsv_tribool(&o, r->local_resp);
	outbuf_str(&o, "\t");
	outbuf_u64(&o, r->missed_bytes);
	outbuf_str(&o, "\t");
	zeek_ascii_opt_string(&o, r->history);
	outbuf_str(&o, "\t");
	outbuf_u64(&o, r->orig_pkts);
	outbuf_str(&o, "\t");
	outbuf_u64(&o, r->orig_ip_bytes);
	outbuf_str(&o, "\t");
	outbuf_u64(&o, r->resp_pkts);
	outbuf_str(&o, "\t");
	outbuf_u64(&o, r->resp_ip_bytes);
	/* tunnel_parents: always unset, knockguard does not decapsulate. */
	outbuf_str(&o, "\t" ZEEK_ASCII_UNSET "\t");
	outbuf_u64(&o, r->ip_proto);
	outbuf_str(&o, "\n");

	return outbuf_finish(&o);
}

static void json_double(struct jsonw *w, const char *key, double v)
{
	char tmp[NUMFMT_DOUBLE_MAX];
	size_t n = numfmt_shortest(v, tmp, sizeof(tmp));
	jsonw_key(w, key);
	jsonw_raw_value(w, tmp, n);
}

static void json_u64(struct jsonw *w, const char *key, uint64_t v)
{
	jsonw_key(w, key);
	jsonw_u64(w, v);
}

static void json_opt_string(struct jsonw *w, const char *key, const char *s)
{
	if (s == NULL || s[0] == '\0')
		return;
	jsonw_key(w, key);
	jsonw_string(w, s);
}

static void json_tribool(struct jsonw *w, const char *key, enum tribool b)
{
	if (b == TRI_UNSET)
		return;
	jsonw_key(w, key);
	jsonw_bool(w, b == TRI_TRUE);
}

static void json_addr(struct jsonw *w, const char *key, const struct kg_addr *a)
{
	jsonw_key(w, key);
	jsonw_addr(w, a);
}

/* Strings as rapidjson's String() after Zeek's json_escape_utf8: our fields
 * are ASCII, so every byte >= 0x80 is taken as one that is not UTF-8. */
size_t connlog_json_line(const struct conn_record *r, char *buf, size_t cap)
{
	struct jsonw w;
	double dur;
	bool has_dur = record_duration(r, &dur);

	jsonw_init(&w, buf, cap, JSONW_ESCAPE_BYTES);
	jsonw_object_begin(&w);
	json_double(&w, "ts", numfmt_zeek_time(r->ts));
	jsonw_key(&w, "uid");
	jsonw_string(&w, r->uid);
	json_addr(&w, "id.orig_h", &r->orig_h);
	json_u64(&w, "id.orig_p", r->orig_p);
	json_addr(&w, "id.resp_h", &r->resp_h);
	json_u64(&w, "id.resp_p", r->resp_p);
	jsonw_key(&w, "proto");
	jsonw_string(&w, transport_name(r->proto));
	json_opt_string(&w, "service", r->service);
	if (has_dur) {
		json_double(&w, "duration", dur);
		json_u64(&w, "orig_bytes", r->orig_bytes);
		json_u64(&w, "resp_bytes", r->resp_bytes);
	}
	json_opt_string(&w, "conn_state", r->conn_state);
	json_tribool(&w, "local_orig", r->local_orig);
	json_tribool(&w, "local_resp", r->local_resp);
	json_u64(&w, "missed_bytes", r->missed_bytes);
	json_opt_string(&w, "history", r->history);
	json_u64(&w, "orig_pkts", r->orig_pkts);
	json_u64(&w, "orig_ip_bytes", r->orig_ip_bytes);
	json_u64(&w, "resp_pkts", r->resp_pkts);
	json_u64(&w, "resp_ip_bytes", r->resp_ip_bytes);
	json_u64(&w, "ip_proto", r->ip_proto);
	jsonw_object_end(&w);
	jsonw_raw(&w, "\n", 1);
	return jsonw_finish(&w);
}
