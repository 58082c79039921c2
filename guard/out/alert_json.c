#include "out/alert_json.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "out/numfmt.h"
#include "util/json_writer.h"

/* Nesting allowed in evidence: deeper is refused rather than recursed into. */
#define EVIDENCE_DEPTH_MAX 16

/* s is read up to its NUL or maxlen bytes (a field's size), whichever is
 * first; room bounds the escaped output. */
static void json_string_field(struct jsonw *w, const char *key, const char *s, size_t maxlen,
			      size_t room)
{
	jsonw_key(w, key);
	jsonw_string_n(w, s, strnlen(s, maxlen), room);
}

/* A NULL or empty string is left out. */
static void json_opt_string_field(struct jsonw *w, const char *key, const char *s, size_t maxlen)
{
	if (s != NULL && s[0] != '\0')
		json_string_field(w, key, s, maxlen, JSONW_NO_LIMIT);
}

static void json_u64_field(struct jsonw *w, const char *key, uint64_t v)
{
	jsonw_key(w, key);
	jsonw_u64(w, v);
}

static void json_addr_field(struct jsonw *w, const char *key, const struct kg_addr *a)
{
	jsonw_key(w, key);
	jsonw_addr(w, a);
}

/* --- evidence: validated and copied compacted, strings re-escaped --------- */

struct jin {
	const char *p, *end;
};

static void jin_ws(struct jin *in)
{
	while (in->p < in->end &&
	       (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
		in->p++;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A JSON string: the escapes it has are kept; raw control bytes and non-ASCII
 * are escaped on the way (a lenient repair of a detector's oversight). */
static bool ev_string(struct jin *in, struct jsonw *w)
{
	in->p++; /* opening quote */
	jsonw_raw(w, "\"", 1);
	while (in->p < in->end) {
		char c = *in->p;
		if (c == '"') {
			in->p++;
			jsonw_raw(w, "\"", 1);
			return true;
		}
		if (c == '\\') {
			if (in->end - in->p < 2)
				return false;
			char e = in->p[1];
			if (e == 'u') {
				if (in->end - in->p < 6 || !is_hex(in->p[2]) || !is_hex(in->p[3]) ||
				    !is_hex(in->p[4]) || !is_hex(in->p[5]))
					return false;
				jsonw_raw(w, in->p, 6);
				in->p += 6;
				continue;
			}
			if (!strchr("\"\\/bfnrt", e) || e == '\0')
				return false;
			jsonw_raw(w, in->p, 2);
			in->p += 2;
			continue;
		}
		/* A run of plain bytes up to the next quote or escape: no UTF-8
		 * sequence spans either, so it escapes as it would byte by byte. */
		const char *run = in->p;
		while (in->p < in->end && *in->p != '"' && *in->p != '\\')
			in->p++;
		jsonw_escaped(w, run, (size_t)(in->p - run));
	}
	return false;
}

static bool ev_number(struct jin *in, struct jsonw *w)
{
	const char *start = in->p, *p = in->p, *end = in->end;
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
	} else if (p < end && *p >= '1' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else {
		return false;
	}
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			return false;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			return false;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	jsonw_raw(w, start, (size_t)(p - start));
	in->p = p;
	return true;
}

static bool ev_literal(struct jin *in, struct jsonw *w, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(in->end - in->p) < n || memcmp(in->p, lit, n) != 0)
		return false;
	jsonw_raw(w, lit, n);
	in->p += n;
	return true;
}

static bool ev_value(struct jin *in, struct jsonw *w, unsigned depth);

/* An object or an array, after its opening bracket. */
static bool ev_container(struct jin *in, struct jsonw *w, unsigned depth, bool object)
{
	char close = object ? '}' : ']';
	jsonw_raw(w, object ? "{" : "[", 1);
	in->p++;
	jin_ws(in);
	if (in->p < in->end && *in->p == close) {
		in->p++;
		jsonw_raw(w, &close, 1);
		return true;
	}
	for (;;) {
		if (object) {
			jin_ws(in);
			if (in->p >= in->end || *in->p != '"' || !ev_string(in, w))
				return false;
			jin_ws(in);
			if (in->p >= in->end || *in->p != ':')
				return false;
			in->p++;
			jsonw_raw(w, ":", 1);
		}
		if (!ev_value(in, w, depth + 1))
			return false;
		jin_ws(in);
		if (in->p >= in->end)
			return false;
		if (*in->p == close) {
			in->p++;
			jsonw_raw(w, &close, 1);
			return true;
		}
		if (*in->p != ',')
			return false;
		in->p++;
		jsonw_raw(w, ",", 1);
	}
}

static bool ev_value(struct jin *in, struct jsonw *w, unsigned depth)
{
	if (depth > EVIDENCE_DEPTH_MAX)
		return false;
	jin_ws(in);
	if (in->p >= in->end)
		return false;
	switch (*in->p) {
	case '{':
		return ev_container(in, w, depth, true);
	case '[':
		return ev_container(in, w, depth, false);
	case '"':
		return ev_string(in, w);
	case 't':
		return ev_literal(in, w, "true");
	case 'f':
		return ev_literal(in, w, "false");
	case 'n':
		return ev_literal(in, w, "null");
	default:
		return ev_number(in, w);
	}
}

/* Copies the evidence object; on a syntax error rewinds and writes a marker. */
static void json_evidence(struct jsonw *w, const char *ev)
{
	struct jsonw mark = *w; /* a copy of the writer: assigning it back rewinds */
	struct jin in = {ev, ev + strnlen(ev, ALERT_EVIDENCE_MAX)};
	jin_ws(&in);
	if (in.p == in.end) {
		jsonw_raw_value(w, "{}", 2);
		return;
	}
	bool ok = *in.p == '{' && ev_value(&in, w, 0);
	jin_ws(&in);
	if (ok && in.p == in.end)
		return;
	if (jsonw_overflowed(w))
		return; /* the caller degrades; a rewind would hide the overflow */
	static const char invalid[] = "{\"invalid\":true}";
	*w = mark;
	jsonw_raw_value(w, invalid, sizeof(invalid) - 1);
}

/* --- the record ----------------------------------------------------------- */

enum render_level {
	RENDER_FULL,
	RENDER_NO_EVIDENCE, /* evidence replaced by a truncation marker */
	RENDER_MINIMAL,	    /* identification fields only */
};

static void render(struct jsonw *w, char *buf, size_t cap, const struct alert *a,
		   enum render_level level, size_t msg_room)
{
	char num[NUMFMT_DOUBLE_MAX];
	size_t n;

	jsonw_init(w, buf, cap, JSONW_ESCAPE_UTF8);
	jsonw_object_begin(w);
	jsonw_key(w, "ts");
	n = numfmt_shortest(numfmt_zeek_time(a->ts), num, sizeof(num));
	jsonw_raw_value(w, num, n);
	json_string_field(w, "name", a->name, sizeof(a->name), JSONW_NO_LIMIT);
	json_string_field(w, "technique", alert_technique_id(a->technique), 16, JSONW_NO_LIMIT);
	json_string_field(w, "severity", alert_severity_name(a->severity), 16, JSONW_NO_LIMIT);
	json_string_field(w, "action", a->blocked ? "blocked" : "alert", 16, JSONW_NO_LIMIT);
	json_opt_string_field(w, "uid", a->uid, sizeof(a->uid));
	json_addr_field(w, "id.orig_h", &a->orig_h);
	json_u64_field(w, "id.orig_p", a->orig_p);
	json_addr_field(w, "id.resp_h", &a->resp_h);
	json_u64_field(w, "id.resp_p", a->resp_p);
	json_string_field(w, "proto", transport_name(a->proto), 32, JSONW_NO_LIMIT);
	if (level == RENDER_MINIMAL) {
		jsonw_key(w, "truncated");
		jsonw_bool(w, true);
		jsonw_object_end(w);
		return;
	}
	json_opt_string_field(w, "service", a->service, sizeof(a->service));
	json_opt_string_field(w, "conn_state", a->conn_state, 16);
	json_opt_string_field(w, "history", a->history, sizeof(a->history));
	json_u64_field(w, "orig_bytes", a->orig_bytes);
	json_u64_field(w, "resp_bytes", a->resp_bytes);
	json_string_field(w, "direction", alert_direction_name(a->direction), 16, JSONW_NO_LIMIT);
	json_string_field(w, "policy_rule", a->policy_rule[0] ? a->policy_rule : "default",
			  sizeof(a->policy_rule), JSONW_NO_LIMIT);
	json_string_field(w, "msg", a->msg, sizeof(a->msg), msg_room);
	jsonw_key(w, "evidence");
	if (level == RENDER_FULL) {
		json_evidence(w, a->evidence);
	} else {
		jsonw_object_begin(w);
		jsonw_key(w, "truncated");
		jsonw_bool(w, true);
		json_u64_field(w, "bytes", strnlen(a->evidence, ALERT_EVIDENCE_MAX));
		jsonw_object_end(w);
	}
	jsonw_object_end(w);
}

size_t alert_json_format(const struct alert *a, char *buf, size_t cap)
{
	struct jsonw w;
	render(&w, buf, cap, a, RENDER_FULL, JSONW_NO_LIMIT);
	if (!jsonw_overflowed(&w))
		return jsonw_finish(&w);
	render(&w, buf, cap, a, RENDER_NO_EVIDENCE, JSONW_NO_LIMIT);
	if (!jsonw_overflowed(&w))
		return jsonw_finish(&w);
	/* Measure without msg, then give msg whatever room is left. */
	render(&w, buf, cap, a, RENDER_NO_EVIDENCE, 0);
	if (!jsonw_overflowed(&w)) {
		size_t room = cap - 1 - jsonw_finish(&w);
		render(&w, buf, cap, a, RENDER_NO_EVIDENCE, room);
		if (!jsonw_overflowed(&w))
			return jsonw_finish(&w);
	}
	render(&w, buf, cap, a, RENDER_MINIMAL, 0);
	return jsonw_finish(&w); /* 0 and "" if even that does not fit */
}
