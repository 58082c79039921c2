/* Remote-service policy: rule parsing, first-match evaluation, severity by
 * direction and port, and the two alerts Remote::Unauthorized_Session and
 * Remote::Large_Transfer. */
#include "detect/remote.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "util/json_writer.h"

/* ---------------------------------------------------------------- names */

struct svc_name {
	const char *name;
	enum service_id id;
};

/* Names accepted in rules: service_name()'s, plus aliases. */
static const struct svc_name svc_names[] = {
	{"ssh", SVC_SSH},	  {"rdp", SVC_RDP},
	{"rdpeudp", SVC_RDPEUDP}, {"rfb", SVC_RFB},
	{"vnc", SVC_RFB},	  {"telnet", SVC_TELNET},
	{"openvpn", SVC_OPENVPN}, {"ike", SVC_IKE},
	{"ipsec", SVC_IKE},	  {"wireguard", SVC_WIREGUARD},
	{"wg", SVC_WIREGUARD},	  {"tailscale", SVC_TAILSCALE},
	{"pptp", SVC_PPTP},	  {"teamviewer", SVC_TEAMVIEWER},
	{"anydesk", SVC_ANYDESK}, {"http", SVC_HTTP},
	{"ssl", SVC_SSL},
};

const char *remote_action_name(enum remote_action a)
{
	switch (a) {
	case REMOTE_ALLOW:
		return "allow";
	case REMOTE_BLOCK:
		return "block";
	default:
		return "alert";
	}
}

/* The alert's direction names, but "unknown-direction" in a message. */
static const char *direction_label(enum alert_direction d)
{
	return d == DIR_UNKNOWN ? "unknown-direction" : alert_direction_name(d);
}

static const char *confidence_name(enum service_confidence c)
{
	switch (c) {
	case CONF_HIGH:
		return "high";
	case CONF_MEDIUM:
		return "medium";
	default:
		return "low";
	}
}

/* ---------------------------------------------------------------- config */

void remote_config_defaults(struct remote_config *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = true;
	netset_zeek_local_default(&c->internal_nets);
	c->large_transfer_bytes = 100ull * 1024 * 1024;
	c->min_confidence = CONF_LOW;
}

/* ---------------------------------------------------------------- parsing */

#define TOKEN_MAX 128

static bool set_err(char *err, size_t errlen, const char *source, unsigned line, const char *field,
		    const char *tok, const char *allowed)
{
	if (err && errlen)
		snprintf(err, errlen, "%s:%u: %s '%s': expected %s", source, line, field, tok,
			 allowed);
	return false;
}

static bool parse_cidr(const char *tok, bool *any, struct kg_addr *net, unsigned *prefix)
{
	if (strcmp(tok, "any") == 0) {
		*any = true;
		memset(net, 0, sizeof(*net));
		*prefix = 0;
		return true;
	}
	struct netset one;
	netset_init(&one);
	if (!netset_add(&one, tok))
		return false;
	*any = false;
	*net = one.e[0].net;
	*prefix = one.e[0].prefix;
	return true;
}

static bool parse_port_num(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

static bool parse_port(const char *tok, uint16_t *lo, uint16_t *hi)
{
	if (strcmp(tok, "any") == 0) {
		*lo = 0;
		*hi = 65535;
		return true;
	}
	const char *dash = strchr(tok, '-');
	if (!dash) {
		if (!parse_port_num(tok, strlen(tok), lo))
			return false;
		*hi = *lo;
		return true;
	}
	return parse_port_num(tok, (size_t)(dash - tok), lo) &&
	       parse_port_num(dash + 1, strlen(dash + 1), hi) && *lo <= *hi;
}

static bool parse_action(const char *tok, enum remote_action *a)
{
	if (strncmp(tok, "action=", 7) == 0)
		tok += 7;
	if (strcmp(tok, "allow") == 0)
		*a = REMOTE_ALLOW;
	else if (strcmp(tok, "alert") == 0)
		*a = REMOTE_ALERT;
	else if (strcmp(tok, "block") == 0)
		*a = REMOTE_BLOCK;
	else
		return false;
	return true;
}

/* Next whitespace-separated token of *p into tok; false at the end of the line. */
static bool next_token(const char **p, char tok[TOKEN_MAX], bool *too_long)
{
	const char *s = *p;
	*too_long = false;
	while (*s && isspace((unsigned char)*s))
		s++;
	if (!*s) {
		*p = s;
		return false;
	}
	const char *start = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	size_t n = (size_t)(s - start);
	if (n >= TOKEN_MAX) {
		*too_long = true;
		n = TOKEN_MAX - 1;
	}
	memcpy(tok, start, n);
	tok[n] = '\0';
	*p = s;
	return true;
}

bool remote_rule_parse(const char *line, const char *source, unsigned line_no,
		       struct remote_rule *out, char *err, size_t errlen)
{
	static const char *const fields[] = {"service", "server", "port", "client"};
	static const char *const allowed[] = {
		("ssh, rdp, rdpeudp, rfb (vnc), telnet, openvpn, ike (ipsec), wireguard (wg), "
		 "tailscale, pptp, teamviewer, anydesk or any"),
		"a CIDR, an address or any",
		"a port 1-65535, a range a-b, or any",
		"a CIDR, an address or any",
	};
	char tok[TOKEN_MAX];
	bool too_long;
	const char *p = line;
	memset(out, 0, sizeof(*out));
	out->action = REMOTE_ALERT;
	if (!source)
		source = "rules";
	for (int f = 0; f < 4; f++) {
		if (!next_token(&p, tok, &too_long) || tok[0] == '#') {
			if (err && errlen)
				snprintf(
					err, errlen,
					"%s:%u: missing %s: a rule is 'service server port client [action] [comment]'",
					source, line_no, fields[f]);
			return false;
		}
		if (too_long)
			return set_err(err, errlen, source, line_no, fields[f], tok, allowed[f]);
		bool ok = false;
		switch (f) {
		case 0:
			if (strcmp(tok, "any") == 0) {
				out->any_service = ok = true;
				break;
			}
			for (size_t i = 0; i < sizeof(svc_names) / sizeof(svc_names[0]); i++)
				if (strcmp(tok, svc_names[i].name) == 0 &&
				    service_is_remote_access(svc_names[i].id)) {
					out->service = svc_names[i].id;
					ok = true;
				}
			break;
		case 1:
			ok = parse_cidr(tok, &out->any_server, &out->server_net,
					&out->server_prefix);
			break;
		case 2:
			ok = parse_port(tok, &out->port_lo, &out->port_hi);
			break;
		case 3:
			ok = parse_cidr(tok, &out->any_client, &out->client_net,
					&out->client_prefix);
			break;
		}
		if (!ok)
			return set_err(err, errlen, source, line_no, fields[f], tok, allowed[f]);
	}
	while (*p && isspace((unsigned char)*p))
		p++;
	if (*p && *p != '#') {
		next_token(&p, tok, &too_long);
		if (too_long || !parse_action(tok, &out->action))
			return set_err(
				err, errlen, source, line_no, "action", tok,
				"allow, alert or block (or action=...), or a comment after '#'");
		while (*p && isspace((unsigned char)*p))
			p++;
	}
	/* The rest of the line is the comment, with or without a leading '#'. */
	while (*p == '#' || isspace((unsigned char)*p))
		p++;
	snprintf(out->comment, sizeof(out->comment), "%s", p);
	for (size_t n = strlen(out->comment); n && isspace((unsigned char)out->comment[n - 1]);)
		out->comment[--n] = '\0';
	snprintf(out->id, sizeof(out->id), "%.*s:%u", (int)(sizeof(out->id) - 12), source, line_no);
	return true;
}

bool remote_rules_parse(struct remote_config *cfg, const char *text, const char *source, char *err,
			size_t errlen)
{
	/* Rules are parsed in place past n_rules, which moves only on success. */
	size_t n = 0;
	unsigned line_no = 0;
	char line[512];
	if (!source)
		source = "rules";
	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		line_no++;
		if (len >= sizeof(line)) {
			if (err && errlen)
				snprintf(err, errlen, "%s:%u: line longer than %zu characters",
					 source, line_no, sizeof(line) - 1);
			return false;
		}
		memcpy(line, p, len);
		line[len] = '\0';
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		p = eol ? eol + 1 : NULL;
		const char *s = line;
		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		if (cfg->n_rules + n >= REMOTE_RULES_MAX) {
			if (err && errlen)
				snprintf(err, errlen, "%s:%u: more than %d rules", source, line_no,
					 REMOTE_RULES_MAX);
			return false;
		}
		if (!remote_rule_parse(s, source, line_no, &cfg->rules[cfg->n_rules + n], err,
				       errlen))
			return false;
		n++;
	}
	cfg->n_rules += n;
	return true;
}

/* ---------------------------------------------------------------- evaluation */

void remote_policy_init(struct remote_policy *p, const struct remote_config *cfg)
{
	p->cfg = *cfg;
}

static bool prefix_match(const struct kg_addr *a, const struct kg_addr *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	if (memcmp(a->b, net->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t m = (uint8_t)(0xff00u >> rest);
	return (a->b[full] & m) == net->b[full];
}

static bool rule_matches(const struct remote_rule *r, const struct remote_session *s)
{
	return (r->any_service || r->service == s->service) &&
	       (r->any_server || prefix_match(&s->server, &r->server_net, r->server_prefix)) &&
	       s->server_port >= r->port_lo && s->server_port <= r->port_hi &&
	       (r->any_client || prefix_match(&s->client, &r->client_net, r->client_prefix));
}

enum alert_direction remote_direction(const struct remote_policy *p, const struct kg_addr *client,
				      const struct kg_addr *server)
{
	bool lc = netset_contains(&p->cfg.internal_nets, client);
	bool ls = netset_contains(&p->cfg.internal_nets, server);
	if (lc && ls)
		return DIR_INTERNAL;
	if (lc)
		return DIR_OUTBOUND;
	if (ls)
		return DIR_INBOUND;
	return DIR_EXTERNAL;
}

/* §C Severity: HIGH for telnet, TeamViewer/AnyDesk, any remote access off its
 * standard port, and inbound interactive logins; MEDIUM otherwise (outbound
 * SSH/RDP, VPNs). */
static enum alert_severity severity_of(const struct remote_session *s, enum alert_direction dir)
{
	switch (s->service) {
	case SVC_TELNET:
	case SVC_TEAMVIEWER:
	case SVC_ANYDESK:
		return SEV_HIGH;
	default:
		break;
	}
	if (!s->standard_port)
		return SEV_HIGH;
	if (dir == DIR_INBOUND && (s->service == SVC_SSH || s->service == SVC_RDP ||
				   s->service == SVC_RDPEUDP || s->service == SVC_RFB))
		return SEV_HIGH;
	return SEV_MEDIUM;
}

enum remote_action remote_rule_action(const struct remote_policy *p, int rule)
{
	if (rule < 0 || (size_t)rule >= p->cfg.n_rules)
		return REMOTE_ALERT;
	return p->cfg.rules[rule].action;
}

static void alert_common(const struct remote_policy *p, const struct remote_session *s,
			 const struct remote_verdict *v, const char *name, enum alert_severity sev,
			 struct alert *a)
{
	memset(a, 0, sizeof(*a));
	a->ts = s->ts;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->technique = TECH_REMOTE_SERVICE;
	a->severity = sev;
	snprintf(a->uid, sizeof(a->uid), "%s", s->uid ? s->uid : "");
	a->orig_h = s->client;
	a->resp_h = s->server;
	a->orig_p = s->client_port;
	a->resp_p = s->server_port;
	a->proto = s->proto;
	snprintf(a->service, sizeof(a->service), "%s", service_name(s->service));
	a->conn_state = s->conn_state;
	snprintf(a->history, sizeof(a->history), "%s", s->history ? s->history : "");
	a->orig_bytes = s->orig_bytes;
	a->resp_bytes = s->resp_bytes;
	a->direction = v->direction;
	snprintf(a->policy_rule, sizeof(a->policy_rule), "%s",
		 v->rule >= 0 ? p->cfg.rules[v->rule].id : "default");
	a->blocked = false;
}

/* The first allow rule for this service: what the session would have needed. */
static int nearest_rule(const struct remote_policy *p, const struct remote_session *s)
{
	for (size_t i = 0; i < p->cfg.n_rules; i++) {
		const struct remote_rule *r = &p->cfg.rules[i];
		if (r->action == REMOTE_ALLOW && (r->any_service || r->service == s->service))
			return (int)i;
	}
	return -1;
}

static void json_rule(struct jsonw *j, const struct remote_policy *p, int rule)
{
	if (rule < 0) {
		jsonw_null(j);
		return;
	}
	const struct remote_rule *r = &p->cfg.rules[rule];
	jsonw_object_begin(j);
	jsonw_key(j, "id");
	jsonw_string(j, r->id);
	jsonw_key(j, "action");
	jsonw_string(j, remote_action_name(r->action));
	if (r->comment[0]) {
		jsonw_key(j, "comment");
		jsonw_string(j, r->comment);
	}
	jsonw_object_end(j);
}

static void session_evidence(struct jsonw *j, const struct remote_session *s)
{
	jsonw_key(j, "detected");
	jsonw_string(j, service_name(s->service));
	jsonw_key(j, "fingerprint_id");
	jsonw_string(j, s->fingerprint_id);
	jsonw_key(j, "match_offset");
	jsonw_u64(j, s->match_offset);
	jsonw_key(j, "confirmed_both_sides");
	jsonw_bool(j, s->both_sides);
	jsonw_key(j, "confidence");
	jsonw_string(j, confidence_name(s->confidence));
	jsonw_key(j, "standard_port");
	jsonw_bool(j, s->standard_port);
}

static bool session_alert(const struct remote_policy *p, const struct remote_session *s,
			  const struct remote_verdict *v, struct alert *a)
{
	alert_common(p, s, v, "Remote::Unauthorized_Session", v->severity, a);
	const char *detail = s->detail && s->detail[0] ? s->detail : NULL;
	/* With the service's own detail first, then without it if that is too long. */
	for (int pass = 0; pass < 2; pass++) {
		struct jsonw j;
		jsonw_init(&j, a->evidence, sizeof(a->evidence), JSONW_ESCAPE_MINIMAL);
		jsonw_object_begin(&j);
		session_evidence(&j, s);
		if (detail && pass == 0)
			jsonw_raw_value(&j, detail, strlen(detail)); /* "key":value members */
		jsonw_key(&j, "authorized");
		jsonw_bool(&j, false);
		jsonw_key(&j, "action");
		jsonw_string(&j, remote_action_name(v->action));
		jsonw_key(&j, "matched_rule");
		json_rule(&j, p, v->rule);
		jsonw_key(&j, "nearest_rule");
		json_rule(&j, p, nearest_rule(p, s));
		jsonw_object_end(&j);
		if (!jsonw_overflowed(&j))
			break;
		snprintf(a->evidence, sizeof(a->evidence), "{}");
	}
	char c[KG_ADDR_STRLEN], sv[KG_ADDR_STRLEN];
	addr_format(&s->client, c);
	addr_format(&s->server, sv);
	snprintf(a->msg, sizeof(a->msg),
		 "Unauthorized %s %s session from %s to %s:%u (%s port, %s confidence%s%s).",
		 direction_label(v->direction), service_name(s->service), c, sv,
		 s->server_port, s->standard_port ? "standard" : "non-standard",
		 confidence_name(s->confidence), v->rule >= 0 ? ", rule " : "",
		 v->rule >= 0 ? p->cfg.rules[v->rule].id : "");
	return true;
}

bool remote_check(const struct remote_policy *p, const struct remote_session *s,
		  struct remote_verdict *v, struct alert *out)
{
	memset(v, 0, sizeof(*v));
	v->checked = true;
	v->rule = -1;
	v->action = REMOTE_ALERT;
	if (!p->cfg.enabled || !service_is_remote_access(s->service)) {
		v->authorized = true; /* nothing to judge */
		v->action = REMOTE_ALLOW;
		return false;
	}
	v->direction = remote_direction(p, &s->client, &s->server);
	for (size_t i = 0; i < p->cfg.n_rules; i++)
		if (rule_matches(&p->cfg.rules[i], s)) {
			v->rule = (int)i;
			v->action = p->cfg.rules[i].action;
			break;
		}
	v->authorized = v->action == REMOTE_ALLOW;
	v->severity = severity_of(s, v->direction);
	if (v->authorized || s->confidence < p->cfg.min_confidence)
		return false;
	return session_alert(p, s, v, out);
}

bool remote_update_bytes(const struct remote_policy *p, const struct remote_session *s,
			 struct remote_verdict *v, struct alert *out)
{
	if (!v->checked || v->large_alerted || !p->cfg.enabled ||
	    p->cfg.large_transfer_bytes == 0 || !service_is_remote_access(s->service))
		return false;
	uint64_t total = s->orig_bytes + s->resp_bytes;
	if (total < p->cfg.large_transfer_bytes)
		return false;
	v->large_alerted = true;
	/* An authorized session moving a lot is worth a look; an unauthorized one more so. */
	enum alert_severity sev =
		v->authorized ? SEV_LOW : (v->severity > SEV_MEDIUM ? v->severity : SEV_MEDIUM);
	alert_common(p, s, v, "Remote::Large_Transfer", sev, out);
	struct jsonw j;
	jsonw_init(&j, out->evidence, sizeof(out->evidence), JSONW_ESCAPE_MINIMAL);
	jsonw_object_begin(&j);
	session_evidence(&j, s);
	jsonw_key(&j, "bytes");
	jsonw_u64(&j, total);
	jsonw_key(&j, "orig_bytes");
	jsonw_u64(&j, s->orig_bytes);
	jsonw_key(&j, "resp_bytes");
	jsonw_u64(&j, s->resp_bytes);
	jsonw_key(&j, "threshold");
	jsonw_u64(&j, p->cfg.large_transfer_bytes);
	jsonw_key(&j, "authorized");
	jsonw_bool(&j, v->authorized);
	jsonw_key(&j, "matched_rule");
	json_rule(&j, p, v->rule);
	jsonw_object_end(&j);
	if (jsonw_overflowed(&j))
		snprintf(out->evidence, sizeof(out->evidence), "{}");
	char c[KG_ADDR_STRLEN], sv[KG_ADDR_STRLEN];
	addr_format(&s->client, c);
	addr_format(&s->server, sv);
	const char *dirn =
		s->orig_bytes >= s->resp_bytes ? "mostly from the client" : "mostly to the client";
	snprintf(
		out->msg, sizeof(out->msg),
		"%s %s session from %s to %s:%u moved %llu bytes (%s), over the %llu-byte threshold.",
		v->authorized ? "Authorized" : "Unauthorized", service_name(s->service), c,
		sv, s->server_port, (unsigned long long)total, dirn,
		(unsigned long long)p->cfg.large_transfer_bytes);
	return true;
}
