#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iniparser/iniparser.h>

#include "io/allowlist_file.h"
#include "util/decimal.h"

#define NAME_LEN 64
#define LINE_INDEX_MAX 4096
#define VALUE_SHOWN_MAX 80 /* longer values are cut in messages */

/* --- where each section and key is in the file -------------------------- *
 * iniparser gives no line numbers, and keeps the last of two equal keys
 * silently; one cheap scan of the text finds both. */

struct line_entry {
	char section[NAME_LEN];
	char key[NAME_LEN]; /* "" for a section header */
	unsigned line;
};

struct line_index {
	size_t n;
	struct line_entry e[LINE_INDEX_MAX];
	/* The first line that is neither a comment, a [section] nor a key =
	 * value: iniparser refuses most, but skips one at the end of the file. */
	unsigned bad_line;
	char bad_text[64];
};

static void copy_lower_trimmed(char *out, size_t cap, const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	size_t i = 0;
	for (; i < n && i + 1 < cap; i++)
		out[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	out[i] = '\0';
}

static void line_index_add(struct line_index *ix, const char *section, const char *key,
			   unsigned line)
{
	if (ix->n >= LINE_INDEX_MAX)
		return; /* past this, messages just lack a line number */
	struct line_entry *e = &ix->e[ix->n++];
	snprintf(e->section, sizeof(e->section), "%s", section);
	snprintf(e->key, sizeof(e->key), "%s", key);
	e->line = line;
}

static void line_index_scan(struct line_index *ix, const char *text, size_t len)
{
	char section[NAME_LEN] = "";
	unsigned lineno = 0;
	bool continued = false;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		const char *s = p;
		size_t n = (size_t)(eol - p);
		lineno++;
		p = nl ? nl + 1 : end;
		while (n > 0 && (*s == ' ' || *s == '\t'))
			s++, n--;
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
			n--;
		bool was_continued = continued;
		continued = n > 0 && s[n - 1] == '\\';
		if (was_continued || n == 0 || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			const char *close = memchr(s, ']', n);
			if (close) {
				copy_lower_trimmed(section, sizeof(section), s + 1,
						   (size_t)(close - s - 1));
				line_index_add(ix, section, "", lineno);
			}
			continue;
		}
		const char *eq = memchr(s, '=', n);
		if (eq) {
			char key[NAME_LEN];
			copy_lower_trimmed(key, sizeof(key), s, (size_t)(eq - s));
			line_index_add(ix, section, key, lineno);
		} else if (ix->bad_line == 0) {
			ix->bad_line = lineno;
			snprintf(ix->bad_text, sizeof(ix->bad_text), "%.*s", (int)n, s);
		}
	}
}

/* The line of the first (or last) matching entry; 0 if not found. */
static unsigned line_index_find(const struct line_index *ix, const char *section, const char *key,
				bool last)
{
	unsigned found = 0;
	for (size_t i = 0; i < ix->n; i++) {
		if (strcmp(ix->e[i].section, section) == 0 && strcmp(ix->e[i].key, key) == 0) {
			found = ix->e[i].line;
			if (!last)
				break;
		}
	}
	return found;
}

/* --- the key tables -------------------------------------------------------- */

struct load_ctx;
struct config_key;

typedef bool (*config_setter)(struct load_ctx *x, const struct config_key *k, const char *v);

struct config_key {
	const char *name;
	config_setter set;
	size_t offset; /* of the field in struct kg_config */
	uint64_t min, max;
	bool prefix; /* name is a prefix: "rule." matches "rule.<anything>" */
};

struct config_section {
	const char *name;
	const struct config_key *keys;
	size_t n_keys;
};

struct load_ctx {
	const char *path;
	const char *base; /* the file name without its directory, for rule ids */
	char dir[PATH_MAX];
	struct kg_config *cfg;
	struct line_index *lines;
	char *err;
	size_t errlen;
	/* the key being set */
	const char *section, *key;
	unsigned line;
	/* settings applied after every key is read, whatever their order */
	bool internal_nets_set;
	const char *bits_allowlist_file;
	unsigned bits_allowlist_file_line;
	const char *bits_allowlist_extra;
	unsigned bits_allowlist_extra_line;
	const char *remote_rules_file;
	unsigned remote_rules_file_line;
};

static void *field(struct load_ctx *x, const struct config_key *k)
{
	return (char *)x->cfg + k->offset;
}

static void location(const struct load_ctx *x, unsigned line, char *out, size_t cap)
{
	if (line)
		snprintf(out, cap, "%s:%u", x->path, line);
	else
		snprintf(out, cap, "%s", x->path);
}

/* "FILE:LINE: [section] key = 'value': expected ..." */
__attribute__((format(printf, 3, 4))) static bool bad_value(struct load_ctx *x, const char *v,
							    const char *fmt, ...)
{
	char where[PATH_MAX + 16], why[512], shown[VALUE_SHOWN_MAX + 4];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	size_t n = strlen(v);
	if (n > VALUE_SHOWN_MAX)
		snprintf(shown, sizeof(shown), "%.*s...", VALUE_SHOWN_MAX, v);
	else
		snprintf(shown, sizeof(shown), "%s", v);
	location(x, x->line, where, sizeof(where));
	snprintf(x->err, x->errlen, "%s: [%s] %s = '%s': %s", where, x->section, x->key, shown,
		 why);
	return false;
}

static bool get_uint(struct load_ctx *x, const struct config_key *k, const char *v, uint64_t *out)
{
	if (!decimal_parse_u64(v, UINT64_MAX, out) || *out < k->min || *out > k->max)
		return bad_value(x, v, "expected an integer from %" PRIu64 " to %" PRIu64, k->min,
				 k->max);
	return true;
}

static bool set_size(struct load_ctx *x, const struct config_key *k, const char *v)
{
	uint64_t n = 0;
	if (!get_uint(x, k, v, &n))
		return false;
	*(size_t *)field(x, k) = (size_t)n;
	return true;
}

static bool set_unsigned(struct load_ctx *x, const struct config_key *k, const char *v)
{
	uint64_t n = 0;
	if (!get_uint(x, k, v, &n))
		return false;
	*(unsigned *)field(x, k) = (unsigned)n;
	return true;
}

static bool set_u16(struct load_ctx *x, const struct config_key *k, const char *v)
{
	uint64_t n = 0;
	if (!get_uint(x, k, v, &n))
		return false;
	*(uint16_t *)field(x, k) = (uint16_t)n;
	return true;
}

static bool set_u32(struct load_ctx *x, const struct config_key *k, const char *v)
{
	uint64_t n = 0;
	if (!get_uint(x, k, v, &n))
		return false;
	*(uint32_t *)field(x, k) = (uint32_t)n;
	return true;
}

static bool set_u64(struct load_ctx *x, const struct config_key *k, const char *v)
{
	uint64_t n = 0;
	if (!get_uint(x, k, v, &n))
		return false;
	*(uint64_t *)field(x, k) = n;
	return true;
}

static bool set_int(struct load_ctx *x, const struct config_key *k, const char *v)
{
	/* min/max hold the range shifted by INT32_MAX, so they stay unsigned. */
	bool neg = v[0] == '-';
	uint64_t mag;
	int64_t lo = (int64_t)k->min - INT32_MAX, hi = (int64_t)k->max - INT32_MAX;
	if (!decimal_parse_u64(v + neg, UINT64_MAX, &mag) || mag > INT32_MAX ||
	    (neg ? -(int64_t)mag : (int64_t)mag) < lo || (neg ? -(int64_t)mag : (int64_t)mag) > hi)
		return bad_value(x, v, "expected an integer from %" PRId64 " to %" PRId64, lo, hi);
	*(int *)field(x, k) = (int)(neg ? -(int64_t)mag : (int64_t)mag);
	return true;
}
#define INT_RANGE(lo, hi) \
	(uint64_t)((int64_t)(lo) + INT32_MAX), (uint64_t)((int64_t)(hi) + INT32_MAX)

static bool set_bool(struct load_ctx *x, const struct config_key *k, const char *v)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*(bool *)field(x, k) = true;
			return true;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*(bool *)field(x, k) = false;
			return true;
		}
	}
	return bad_value(x, v, "expected yes or no (also true/false, on/off, 1/0)");
}

/* Seconds, with up to 9 decimals: "30", "0.5". min/max are nanoseconds. */
static bool set_duration(struct load_ctx *x, const struct config_key *k, const char *v)
{
	uint64_t sec = 0, frac = 0;
	const char *dot = strchr(v, '.');
	char whole[24];
	size_t wn = dot ? (size_t)(dot - v) : strlen(v);
	bool ok = wn > 0 && wn < sizeof(whole);
	if (ok) {
		memcpy(whole, v, wn);
		whole[wn] = '\0';
		ok = decimal_parse_u64(whole, UINT64_MAX, &sec) &&
		     sec <= (uint64_t)INT64_MAX / KG_NSEC_PER_SEC - 1;
	}
	if (ok && dot) {
		const char *f = dot + 1;
		size_t fn = strlen(f);
		ok = fn >= 1 && fn <= 9 && decimal_parse_u64(f, UINT64_MAX, &frac);
		for (size_t i = fn; ok && i < 9; i++)
			frac *= 10;
	}
	uint64_t ns = sec * (uint64_t)KG_NSEC_PER_SEC + frac;
	if (!ok || ns < k->min || ns > k->max) {
		char lo[32], hi[32];
		snprintf(lo, sizeof(lo), "%g", (double)k->min / 1e9);
		snprintf(hi, sizeof(hi), "%g", (double)k->max / 1e9);
		return bad_value(x, v,
				 "expected a duration in seconds (e.g. 30 or 0.5) from %s to %s",
				 lo, hi);
	}
	*(kg_time *)field(x, k) = (kg_time)ns;
	return true;
}
#define SECONDS(s) (uint64_t)((s)*KG_NSEC_PER_SEC)

/* A decimal number; min/max are the range in thousandths. */
static bool set_double(struct load_ctx *x, const struct config_key *k, const char *v)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || errno || !isfinite(d) || d * 1000 < (double)k->min ||
	    d * 1000 > (double)k->max)
		return bad_value(x, v, "expected a number from %g to %g", (double)k->min / 1000,
				 (double)k->max / 1000);
	*(double *)field(x, k) = d;
	return true;
}

static bool set_string(struct load_ctx *x, const struct config_key *k, const char *v)
{
	size_t n = strlen(v);
	if (n < k->min)
		return bad_value(x, v, "expected a non-empty value");
	if (n > k->max)
		return bad_value(x, v, "expected at most %" PRIu64 " characters", k->max);
	char *out = field(x, k);
	memset(out, 0, (size_t)k->max + 1);
	memcpy(out, v, n);
	return true;
}

/* Calls fn for each comma-separated, trimmed, non-empty item of v. */
static bool for_each_item(struct load_ctx *x, const char *v,
			  bool (*fn)(struct load_ctx *x, const struct config_key *k,
				     const char *all, const char *item),
			  const struct config_key *k)
{
	const char *p = v;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char item[256];
		while (n > 0 && (*p == ' ' || *p == '\t'))
			p++, n--;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n >= sizeof(item))
			return bad_value(x, v, "item '%.40s...' is too long", p);
		memcpy(item, p, n);
		item[n] = '\0';
		if (n > 0 && !fn(x, k, v, item))
			return false;
		if (!comma)
			break;
		p = comma + 1;
	}
	return true;
}

static bool netset_item(struct load_ctx *x, const struct config_key *k, const char *all,
			const char *item)
{
	struct netset *s = field(x, k);
	if (strcmp(item, "private") == 0) {
		struct netset priv;
		netset_zeek_local_default(&priv);
		for (size_t i = 0; i < priv.n; i++) {
			if (s->n >= NETSET_MAX)
				return bad_value(x, all, "more than %d prefixes", NETSET_MAX);
			s->e[s->n++] = priv.e[i];
		}
		return true;
	}
	if (s->n >= NETSET_MAX)
		return bad_value(x, all, "more than %d prefixes", NETSET_MAX);
	if (!netset_add(s, item))
		return bad_value(
			x, all,
			"'%s' is not a CIDR prefix or an address; expected a comma-separated "
			"list like 10.0.0.0/8, fd00::/8, or 'private' for Zeek's private "
			"address space",
			item);
	return true;
}

static bool set_netset(struct load_ctx *x, const struct config_key *k, const char *v)
{
	struct netset *s = field(x, k);
	memset(s, 0, sizeof(*s));
	netset_init(s);
	return for_each_item(x, v, netset_item, k);
}

static bool set_internal_nets(struct load_ctx *x, const struct config_key *k, const char *v)
{
	if (v[0] == '\0')
		return true; /* the same as [engine] local_nets */
	x->internal_nets_set = true;
	return set_netset(x, k, v);
}

/* One of names (case-insensitive) into an enum field; every enum here is
 * int-sized (checked where each is set). */
static bool set_choice(struct load_ctx *x, const struct config_key *k, const char *v,
		       const char *const *names, const int *values, size_t n)
{
	char allowed[256] = "";
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(v, names[i]) == 0) {
			memcpy(field(x, k), &values[i], sizeof(int));
			return true;
		}
		size_t used = strlen(allowed);
		snprintf(allowed + used, sizeof(allowed) - used, "%s%s", i ? ", " : "", names[i]);
	}
	return bad_value(x, v, "expected one of %s", allowed);
}

static bool set_log_format(struct load_ctx *x, const struct config_key *k, const char *v)
{
	static const char *const names[] = {"tsv", "json"};
	static const int values[] = {CONNLOG_TSV, CONNLOG_JSON};
	_Static_assert(sizeof(enum connlog_format) == sizeof(int), "enum size");
	return set_choice(x, k, v, names, values, 2);
}

static bool set_transport(struct load_ctx *x, const struct config_key *k, const char *v)
{
	static const char *const names[] = {"unix", "udp", "tcp"};
	static const int values[] = {SYSLOG_UNIX, SYSLOG_UDP, SYSLOG_TCP};
	_Static_assert(sizeof(enum syslog_transport) == sizeof(int), "enum size");
	return set_choice(x, k, v, names, values, 3);
}

static bool set_syslog_format(struct load_ctx *x, const struct config_key *k, const char *v)
{
	static const char *const names[] = {"rfc5424", "rfc3164"};
	static const int values[] = {SYSLOG_RFC5424, SYSLOG_RFC3164};
	_Static_assert(sizeof(enum syslog_format) == sizeof(int), "enum size");
	return set_choice(x, k, v, names, values, 2);
}

static bool set_facility(struct load_ctx *x, const struct config_key *k, const char *v)
{
	int code;
	if (!syslog_facility_parse(v, &code))
		return bad_value(x, v, "expected one of %s", syslog_facility_names());
	*(int *)field(x, k) = code;
	return true;
}

static bool set_severity(struct load_ctx *x, const struct config_key *k, const char *v)
{
	static const char *const names[] = {"info", "low", "medium", "high", "critical"};
	static const int values[] = {SEV_INFO, SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL};
	_Static_assert(sizeof(enum alert_severity) == sizeof(int), "enum size");
	return set_choice(x, k, v, names, values, 5);
}

static bool set_confidence(struct load_ctx *x, const struct config_key *k, const char *v)
{
	static const char *const names[] = {"low", "medium", "high"};
	static const int values[] = {CONF_LOW, CONF_MEDIUM, CONF_HIGH};
	_Static_assert(sizeof(enum service_confidence) == sizeof(int), "enum size");
	return set_choice(x, k, v, names, values, 3);
}

static bool set_policy_mode(struct load_ctx *x, const struct config_key *k, const char *v)
{
	static const char *const names[] = {"monitor", "enforce"};
	static const int values[] = {POLICY_MONITOR, POLICY_ENFORCE};
	_Static_assert(sizeof(enum policy_mode) == sizeof(int), "enum size");
	return set_choice(x, k, v, names, values, 2);
}

static bool set_queue_mode(struct load_ctx *x, const struct config_key *k, const char *v)
{
	static const char *const names[] = {"auto", "native", "xt"};
	static const int values[] = {NFT_QUEUE_AUTO, NFT_QUEUE_NATIVE, NFT_QUEUE_XT};
	_Static_assert(sizeof(enum nft_queue_mode) == sizeof(int), "enum size");
	return set_choice(x, k, v, names, values, 3);
}

/* A daemon's file (socket, pid file): absolute, as the daemon may chdir. An
 * empty value is allowed when k->min is 0 ("none"). */
static bool set_abs_path(struct load_ctx *x, const struct config_key *k, const char *v)
{
	if (v[0] != '\0' && v[0] != '/')
		return bad_value(x, v, "expected an absolute path (starting with /)");
	return set_string(x, k, v);
}

static bool set_nft_table(struct load_ctx *x, const struct config_key *k, const char *v)
{
	if (!nft_name_valid(v))
		return bad_value(x, v,
				 "expected a name of letters, digits and _ (at most %d characters, "
				 "not starting with a digit) that is not an nft keyword",
				 NFT_NAME_MAX - 1);
	return set_string(x, k, v);
}

/* knock.known_sequence.<label> = <dst|any> <ports> [name] */
static bool set_known_sequence(struct load_ctx *x, const struct config_key *k, const char *v)
{
	struct knock_config *kc = &x->cfg->knock;
	char why[256];
	(void)k;
	if (kc->n_known >= KNOCK_KNOWN_MAX)
		return bad_value(x, v, "more than %d known sequences", KNOCK_KNOWN_MAX);
	struct knock_known_sequence *s = &kc->known[kc->n_known];
	memset(s, 0, sizeof(*s));
	if (!knock_known_sequence_parse(v, s, why, sizeof(why)))
		return bad_value(x, v, "%s; expected '<dst CIDR|any> <port[:tcp|udp]>,... [name]'",
				 why);
	if (s->name[0] == '\0')
		snprintf(s->name, sizeof(s->name), "%s", x->key + strlen("known_sequence."));
	kc->n_known++;
	return true;
}

/* remote.rule.<label> = service server port client [action] [comment] */
static bool set_remote_rule(struct load_ctx *x, const struct config_key *k, const char *v)
{
	struct remote_config *rc = &x->cfg->remote;
	char why[256];
	(void)k;
	if (rc->n_rules >= REMOTE_RULES_MAX)
		return bad_value(x, v, "more than %d rules", REMOTE_RULES_MAX);
	struct remote_rule r;
	memset(&r, 0, sizeof(r));
	if (!remote_rule_parse(v, x->base, x->line, &r, why, sizeof(why))) {
		/* It says "<file>:<line>: " first, which the message has already. */
		char own[NAME_LEN + PATH_MAX];
		snprintf(own, sizeof(own), "%s:%u: ", x->base, x->line);
		const char *reason = strncmp(why, own, strlen(own)) == 0 ? why + strlen(own) : why;
		return bad_value(x, v, "%s", reason);
	}
	rc->rules[rc->n_rules++] = r;
	return true;
}

static bool set_bits_allowlist_file(struct load_ctx *x, const struct config_key *k, const char *v)
{
	(void)k;
	x->bits_allowlist_file = v;
	x->bits_allowlist_file_line = x->line;
	return true;
}

static bool set_bits_allowlist_extra(struct load_ctx *x, const struct config_key *k, const char *v)
{
	(void)k;
	x->bits_allowlist_extra = v;
	x->bits_allowlist_extra_line = x->line;
	return true;
}

static bool suffix_item(struct load_ctx *x, const struct config_key *k, const char *all,
			const char *item)
{
	char why[256];
	if (!bits_suffix_list_add(field(x, k), item, why, sizeof(why)))
		return bad_value(x, all, "'%s': %s", item, why);
	return true;
}

static bool set_suffix_extra(struct load_ctx *x, const struct config_key *k, const char *v)
{
	return for_each_item(x, v, suffix_item, k);
}

static bool set_remote_rules_file(struct load_ctx *x, const struct config_key *k, const char *v)
{
	(void)k;
	x->remote_rules_file = v;
	x->remote_rules_file_line = x->line;
	return true;
}

#define F(m) offsetof(struct kg_config, m)
#define NO_RANGE 0, 0

static const struct config_key engine_keys[] = {
	{"max_flows", set_size, F(engine.max_flows), 1, CONFIG_MAX_FLOWS_LIMIT, false},
	{"local_nets", set_netset, F(engine.local_nets), NO_RANGE, false},
	{"ignore_checksums", set_bool, F(engine.ignore_checksums), NO_RANGE, false},
};

static const struct config_key log_keys[] = {
	{"dir", set_string, F(log.dir), 1, PATH_MAX - 1, false},
	{"format", set_log_format, F(log.format), NO_RANGE, false},
};

static const struct config_key syslog_keys[] = {
	{"enabled", set_bool, F(syslog.enabled), NO_RANGE, false},
	{"transport", set_transport, F(syslog.client.transport), NO_RANGE, false},
	{"path", set_string, F(syslog.client.path), 1, SYSLOG_PATH_MAX - 1, false},
	{"host", set_string, F(syslog.client.host), 1, SYSLOG_HOST_MAX - 1, false},
	{"port", set_u16, F(syslog.client.port), 1, 65535, false},
	{"format", set_syslog_format, F(syslog.format), NO_RANGE, false},
	{"facility", set_facility, F(syslog.facility), NO_RANGE, false},
	{"queue_max", set_size, F(syslog.client.queue_max), 1, SYSLOG_QUEUE_LIMIT, false},
};

static const struct config_key knock_keys[] = {
	{"enabled", set_bool, F(knock.enabled), NO_RANGE, false},
	{"sequence_window", set_duration, F(knock.w_seq), SECONDS(0.001), SECONDS(86400), false},
	{"max_gap", set_duration, F(knock.max_gap), SECONDS(0.001), SECONDS(86400), false},
	{"access_window", set_duration, F(knock.d_post), SECONDS(0.001), SECONDS(86400), false},
	{"closed_window", set_duration, F(knock.w_closed), SECONDS(0.001), SECONDS(86400), false},
	{"min_ports", set_unsigned, F(knock.k_min), 2, KNOCK_SEQ_MAX, false},
	{"max_ports", set_unsigned, F(knock.k_max), 2, KNOCK_RING_MAX - 1, false},
	{"scan_rate", set_unsigned, F(knock.scan_rate), 1, 1000000, false},
	{"scan_rate_min_ports", set_unsigned, F(knock.scan_rate_min_k), 1, 65535, false},
	{"outcome_timeout_tcp", set_duration, F(knock.t_outcome_tcp), SECONDS(0.001), SECONDS(600),
	 false},
	{"outcome_timeout_udp", set_duration, F(knock.t_outcome_udp), SECONDS(0.001), SECONDS(600),
	 false},
	{"score_high", set_int, F(knock.score_high), INT_RANGE(-100, 100), false},
	{"score_medium", set_int, F(knock.score_medium), INT_RANGE(-100, 100), false},
	{"high_requires_closed", set_bool, F(knock.high_requires_closed), NO_RANGE, false},
	{"repeat_min", set_unsigned, F(knock.r_min), 1, 1000000, false},
	{"sequence_memory_ttl", set_duration, F(knock.seq_memory_ttl), SECONDS(1),
	 SECONDS(30 * 86400), false},
	{"spa_enabled", set_bool, F(knock.spa_enabled), NO_RANGE, false},
	{"spa_port", set_u16, F(knock.spa_port), 1, 65535, false},
	{"spa_min_len", set_unsigned, F(knock.spa_min_len), 1, 65535, false},
	{"spa_max_len", set_unsigned, F(knock.spa_max_len), 1, 65535, false},
	{"spa_min_entropy", set_double, F(knock.spa_min_entropy), 0, 8000, false},
	{"spa_window", set_duration, F(knock.spa_window), SECONDS(0.001), SECONDS(86400), false},
	{"scan_threshold", set_unsigned, F(knock.scan_threshold), 2, 1000000, false},
	{"scan_window", set_duration, F(knock.scan_window), SECONDS(1), SECONDS(86400), false},
	{"known_sequence_severity", set_severity, F(knock.known_sequence_severity), NO_RANGE,
	 false},
	{"in_progress_enabled", set_bool, F(knock.in_progress_enabled), NO_RANGE, false},
	{"in_progress_min_ports", set_unsigned, F(knock.in_progress_min_ports), 2,
	 KNOCK_RING_MAX - 1, false},
	{"ring_size", set_unsigned, F(knock.ring_size), 2, KNOCK_RING_MAX, false},
	{"pair_table_size", set_size, F(knock.pair_table_size), 1, 1 << 24, false},
	{"attempt_pool_size", set_size, F(knock.attempt_pool_size), 1, 1 << 26, false},
	{"closed_table_size", set_size, F(knock.closed_table_size), 1, 1 << 24, false},
	{"seq_memory_size", set_size, F(knock.seq_memory_size), 1, 1 << 24, false},
	{"scan_table_size", set_size, F(knock.scan_table_size), 1, 1 << 24, false},
	{"spa_table_size", set_size, F(knock.spa_table_size), 1, 1 << 24, false},
	{"allowlist", set_netset, F(knock.knock_allowlist), NO_RANGE, false},
	{"scanner_allowlist", set_netset, F(knock.scanner_allowlist), NO_RANGE, false},
	{"known_sequence.", set_known_sequence, 0, NO_RANGE, true},
};

static const struct config_key bits_keys[] = {
	{"enabled", set_bool, F(bits.enabled), NO_RANGE, false},
	{"allowlist_file", set_bits_allowlist_file, 0, NO_RANGE, false},
	{"allowlist_extra", set_bits_allowlist_extra, 0, NO_RANGE, false},
	{"file_sharing_extra", set_suffix_extra, F(bits.file_sharing), NO_RANGE, false},
	{"common_tlds_extra", set_suffix_extra, F(bits.common_tlds), NO_RANGE, false},
	{"upload_large_bytes", set_u64, F(bits.upload_large_bytes), 1, UINT64_MAX, false},
	{"upload_daily_bytes", set_u64, F(bits.upload_daily_bytes), 1, UINT64_MAX, false},
	{"ping_wait", set_duration, F(bits.ping_wait), SECONDS(0.001), SECONDS(86400), false},
	{"suppress", set_duration, F(bits.suppress), 0, SECONDS(30 * 86400), false},
	{"log_allowlisted", set_bool, F(bits.log_allowlisted), NO_RANGE, false},
	{"max_pairs", set_u32, F(bits.max_pairs), 2, 1 << 24, false},
};

static const struct config_key remote_keys[] = {
	{"enabled", set_bool, F(remote.enabled), NO_RANGE, false},
	{"internal_nets", set_internal_nets, F(remote.internal_nets), NO_RANGE, false},
	{"large_transfer_bytes", set_u64, F(remote.large_transfer_bytes), 0, UINT64_MAX, false},
	{"min_confidence", set_confidence, F(remote.min_confidence), NO_RANGE, false},
	{"session_table_size", set_size, F(remote_sessions), 1, 1 << 24, false},
	{"inventory_size", set_size, F(inventory_size), 1, 1 << 24, false},
	{"rules_file", set_remote_rules_file, 0, NO_RANGE, false},
	{"rule.", set_remote_rule, 0, NO_RANGE, true},
};

#define TIMEOUT_RANGE SECONDS(1), SECONDS(365 * 86400) /* nft's NFT_TIMEOUT_MAX */

static const struct config_key policy_keys[] = {
	{"mode", set_policy_mode, F(policy.mode), NO_RANGE, false},
	{"never_block", set_netset, F(policy.never_block), NO_RANGE, false},
	{"flag_timeout", set_duration, F(policy.flag_timeout), TIMEOUT_RANGE, false},
	{"block_timeout_knock", set_duration, F(policy.block_timeout[TECH_PORT_KNOCK]),
	 TIMEOUT_RANGE, false},
	{"block_timeout_bits", set_duration, F(policy.block_timeout[TECH_BITS]), TIMEOUT_RANGE,
	 false},
	{"block_timeout_remote", set_duration, F(policy.block_timeout[TECH_REMOTE_SERVICE]),
	 TIMEOUT_RANGE, false},
	{"min_severity", set_severity, F(policy.min_severity), NO_RANGE, false},
	{"max_blocks_per_minute", set_unsigned, F(policy.max_blocks_per_minute), 0, 1000000, false},
};

static const struct config_key daemon_keys[] = {
	{"control_socket", set_abs_path, F(daemon.ctl.path), 1, CTL_PATH_MAX - 1, false},
	{"control_group", set_string, F(daemon.ctl.group), 0, CTL_GROUP_MAX - 1, false},
	{"pid_file", set_abs_path, F(daemon.pid_file), 0, PATH_MAX - 1, false},
};

static const struct config_key nfq_keys[] = {
	{"queue_num", set_u16, F(nfq.queue_num), 0, 65535, false},
	{"copy_range", set_u32, F(nfq.copy_range), 1, NFQ_COPY_RANGE_MAX, false},
	{"queue_maxlen", set_u32, F(nfq.queue_maxlen), 1, 1 << 24, false},
	{"receive_buffer", set_u32, F(nfq.rcvbuf), 65536, INT32_MAX / 2, false},
	{"fail_open", set_bool, F(nfq.fail_open), NO_RANGE, false},
	{"gso", set_bool, F(nfq.gso), NO_RANGE, false},
	{"batch_max", set_unsigned, F(nfq.batch_max), 1, NFQ_BATCH_LIMIT, false},
};

static const struct config_key nft_keys[] = {
	{"table", set_nft_table, F(nft.table), 1, NFT_NAME_MAX - 1, false},
	{"manage", set_bool, F(nft.manage), NO_RANGE, false},
	{"remove_at_exit", set_bool, F(nft.remove_at_exit), NO_RANGE, false},
	{"queue_bypass", set_bool, F(nft.queue_bypass), NO_RANGE, false},
	{"queue_mode", set_queue_mode, F(nft.queue_mode), NO_RANGE, false},
	{"hook_forward", set_bool, F(nft.hook_forward), NO_RANGE, false},
	{"hook_input", set_bool, F(nft.hook_input), NO_RANGE, false},
};

#define SECTION(name, keys)                                \
	{                                                  \
		name, keys, sizeof(keys) / sizeof(keys[0]) \
	}
static const struct config_section sections[] = {
	SECTION("engine", engine_keys), SECTION("log", log_keys),
	SECTION("syslog", syslog_keys), SECTION("knock", knock_keys),
	SECTION("bits", bits_keys),	SECTION("remote", remote_keys),
	SECTION("policy", policy_keys), SECTION("daemon", daemon_keys),
	SECTION("nfq", nfq_keys),	SECTION("nft", nft_keys),
};
#define N_SECTIONS (sizeof(sections) / sizeof(sections[0]))

/* [nft] fields that follow other keys (see struct kg_config). */
static void config_derive_nft(struct kg_config *cfg)
{
	cfg->nft.queue_num = cfg->nfq.queue_num;
	cfg->nft.flag_timeout = cfg->policy.flag_timeout;
	cfg->nft.block_timeout = 0;
	for (size_t t = 0; t < sizeof(cfg->policy.block_timeout) / sizeof(kg_time); t++)
		if (cfg->policy.block_timeout[t] > cfg->nft.block_timeout)
			cfg->nft.block_timeout = cfg->policy.block_timeout[t];
}

/* Large (the BITS lists); used at startup only, like the config itself. */
static struct detect_config detect_defaults;

void config_defaults(struct kg_config *cfg)
{
	struct engine_config ec;
	memset(cfg, 0, sizeof(*cfg));
	engine_config_defaults(&ec);
	cfg->engine.max_flows = ec.max_flows;
	cfg->engine.ignore_checksums = ec.ignore_checksums;
	netset_zeek_local_default(&cfg->engine.local_nets);
	snprintf(cfg->log.dir, sizeof(cfg->log.dir), ".");
	cfg->log.format = CONNLOG_TSV;
	cfg->syslog.enabled = false;
	cfg->syslog.format = SYSLOG_RFC5424;
	cfg->syslog.facility = SYSLOG_FACILITY_LOCAL0;
	syslog_client_config_defaults(&cfg->syslog.client);
	/* The detectors' defaults as the engine's own default comes by them. */
	detect_config_defaults(&detect_defaults);
	cfg->knock = detect_defaults.knock;
	cfg->bits = detect_defaults.bits;
	cfg->remote = detect_defaults.remote;
	cfg->remote_sessions = detect_defaults.remote_sessions;
	cfg->inventory_size = detect_defaults.inventory_size;
	cfg->remote.internal_nets = cfg->engine.local_nets;
	/* In place: struct copies would not clear the padding the tests compare. */
	policy_config_defaults(&cfg->policy);
	ctl_server_config_defaults(&cfg->daemon.ctl);
	nfq_config_defaults(&cfg->nfq);
	nft_config_defaults(&cfg->nft);
	config_derive_nft(cfg);
}

void config_engine(const struct kg_config *cfg, struct engine_config *out)
{
	engine_config_defaults(out);
	out->max_flows = cfg->engine.max_flows;
	out->ignore_checksums = cfg->engine.ignore_checksums;
	out->local_nets = &cfg->engine.local_nets;
	out->policy = &cfg->policy;
}

void config_detect(const struct kg_config *cfg, struct detect_config *out)
{
	detect_config_defaults(out);
	out->knock = cfg->knock;
	out->bits = cfg->bits;
	out->remote = cfg->remote;
	out->remote_sessions = cfg->remote_sessions;
	out->inventory_size = cfg->inventory_size;
}

size_t config_key_count(void)
{
	size_t n = 0;
	for (size_t s = 0; s < N_SECTIONS; s++)
		n += sections[s].n_keys;
	return n;
}

void config_key_name(size_t i, char *out, size_t outlen)
{
	for (size_t s = 0; s < N_SECTIONS; s++) {
		if (i < sections[s].n_keys) {
			const struct config_key *k = &sections[s].keys[i];
			snprintf(out, outlen, "%s.%s%s", sections[s].name, k->name,
				 k->prefix ? "*" : "");
			return;
		}
		i -= sections[s].n_keys;
	}
	snprintf(out, outlen, "?");
}

/* --- loading --------------------------------------------------------------- */

/* iniparser reports through a callback; capture its message (loading is a
 * single-threaded startup step). */
static char ini_message[512];

static int ini_capture(const char *fmt, ...)
{
	va_list ap;
	size_t used = strlen(ini_message);
	va_start(ap, fmt);
	vsnprintf(ini_message + used, sizeof(ini_message) - used, fmt, ap);
	va_end(ap);
	return 0;
}

/* "iniparser: syntax error in F (12):\n-> text\n" -> "F:12: syntax error: text" */
static void ini_failure(const struct load_ctx *x)
{
	char what[128] = "cannot parse", rest[256] = "";
	unsigned line = 0;
	const char *m = ini_message;
	if (strncmp(m, "iniparser: ", 11) == 0)
		m += 11;
	const char *in = strstr(m, " in ");
	if (in) {
		snprintf(what, sizeof(what), "%.*s", (int)(in - m), m);
		const char *paren = strrchr(in, '(');
		if (paren)
			line = (unsigned)strtoul(paren + 1, NULL, 10);
		const char *arrow = strstr(in, "-> ");
		if (arrow)
			snprintf(rest, sizeof(rest), ": '%.*s'", (int)strcspn(arrow + 3, "\n"),
				 arrow + 3);
	}
	char where[PATH_MAX + 16];
	location(x, line, where, sizeof(where));
	snprintf(x->err, x->errlen, "%s: %s%s", where, what, rest);
}

/* The whole file, NUL-terminated, at most CONFIG_FILE_MAX bytes. */
static char *read_file(const char *path, size_t *len, char *why, size_t whylen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(why, whylen, "%s", strerror(errno));
		return NULL;
	}
	char *buf = malloc(CONFIG_FILE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		snprintf(why, whylen, "%s", strerror(ENOMEM));
		return NULL;
	}
	size_t n = fread(buf, 1, CONFIG_FILE_MAX + 1, f);
	int e = ferror(f) ? errno : 0;
	fclose(f);
	if (e || n > CONFIG_FILE_MAX) {
		snprintf(why, whylen, "%s", e ? strerror(e) : "larger than 1 MiB");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* A path named in the config: relative paths are taken from its directory.
 * False if the result does not fit. */
static bool resolve_path(const struct load_ctx *x, const char *p, char *out, size_t cap)
{
	int n;
	if (p[0] == '/' || x->dir[0] == '\0')
		n = snprintf(out, cap, "%s", p);
	else
		n = snprintf(out, cap, "%s/%s", x->dir, p);
	return n >= 0 && (size_t)n < cap;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[NAME_LEN + 1];
	if (la > NAME_LEN || lb > NAME_LEN)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static const struct config_section *find_section(const char *name)
{
	for (size_t s = 0; s < N_SECTIONS; s++)
		if (strcmp(sections[s].name, name) == 0)
			return &sections[s];
	return NULL;
}

static const struct config_key *find_key(const struct config_section *s, const char *name)
{
	for (size_t i = 0; i < s->n_keys; i++) {
		const struct config_key *k = &s->keys[i];
		if (k->prefix ? strncmp(name, k->name, strlen(k->name)) == 0 &&
					name[strlen(k->name)] != '\0'
			      : strcmp(name, k->name) == 0)
			return k;
	}
	return NULL;
}

static bool unknown_section(struct load_ctx *x, const char *name)
{
	char where[PATH_MAX + 16], allowed[128] = "";
	for (size_t s = 0; s < N_SECTIONS; s++) {
		size_t used = strlen(allowed);
		snprintf(allowed + used, sizeof(allowed) - used, "%s%s", s ? ", " : "",
			 sections[s].name);
	}
	location(x, line_index_find(x->lines, name, "", false), where, sizeof(where));
	snprintf(x->err, x->errlen, "%s: unknown section [%s]: expected one of %s", where, name,
		 allowed);
	return false;
}

static bool unknown_key(struct load_ctx *x, const struct config_section *s, const char *key)
{
	char where[PATH_MAX + 16], hint[700] = "";
	const struct config_key *best = NULL;
	size_t best_d = SIZE_MAX;
	for (size_t i = 0; i < s->n_keys; i++) {
		size_t d = edit_distance(key, s->keys[i].name);
		if (d < best_d)
			best_d = d, best = &s->keys[i];
	}
	if (best && best_d <= 2 && best_d < strlen(key)) {
		snprintf(hint, sizeof(hint), "did you mean '%s%s'?", best->name,
			 best->prefix ? "<label>" : "");
	} else {
		snprintf(hint, sizeof(hint), "expected one of ");
		for (size_t i = 0; i < s->n_keys; i++) {
			size_t used = strlen(hint);
			snprintf(hint + used, sizeof(hint) - used, "%s%s%s", i ? ", " : "",
				 s->keys[i].name, s->keys[i].prefix ? "<label>" : "");
		}
	}
	location(x, line_index_find(x->lines, s->name, key, false), where, sizeof(where));
	snprintf(x->err, x->errlen, "%s: [%s] unknown key '%s': %s", where, s->name, key, hint);
	return false;
}

static bool apply_entry(struct load_ctx *x, const char *full, const char *value)
{
	char section[NAME_LEN], where[PATH_MAX + 16];
	const char *colon = strchr(full, ':');
	if (value == NULL) {
		/* A section header: iniparser stores it without a value. */
		return find_section(full) ? true : unknown_section(x, full);
	}
	/* iniparser names keys "section:key" (":key" outside any section). */
	size_t seclen = colon ? (size_t)(colon - full) : 0;
	const char *key = colon ? colon + 1 : full;
	snprintf(section, sizeof(section), "%.*s", (int)seclen, full);
	if (section[0] == '\0') {
		location(x, line_index_find(x->lines, "", key, false), where, sizeof(where));
		snprintf(x->err, x->errlen, "%s: key '%s' is outside any section", where, key);
		return false;
	}
	const struct config_section *s = find_section(section);
	if (s == NULL)
		return unknown_section(x, section);
	const struct config_key *k = find_key(s, key);
	if (k == NULL)
		return unknown_key(x, s, key);
	unsigned first = line_index_find(x->lines, section, key, false);
	unsigned last = line_index_find(x->lines, section, key, true);
	if (first != last) {
		location(x, last, where, sizeof(where));
		snprintf(x->err, x->errlen, "%s: [%s] %s is set twice (first on line %u)", where,
			 section, key, first);
		return false;
	}
	x->section = s->name;
	x->key = key;
	x->line = last;
	return k->set(x, k, value);
}

/* knock_config_check() names struct fields; say the keys instead. */
static void knock_names(const char *msg, char *out, size_t cap)
{
	static const char *const names[][2] = {
		{"w_seq", "sequence_window"},
		{"d_post", "access_window"},
		{"w_closed", "closed_window"},
		{"k_min", "min_ports"},
		{"k_max", "max_ports"},
		{"scan_rate_min_k", "scan_rate_min_ports"},
		{"t_outcome_tcp", "outcome_timeout_tcp"},
		{"t_outcome_udp", "outcome_timeout_udp"},
		{"r_min", "repeat_min"},
		{"seq_memory_ttl", "sequence_memory_ttl"},
		{"knock_allowlist", "allowlist"},
	};
	size_t len = 0;
	out[0] = '\0';
	while (*msg && len + 1 < cap) {
		size_t word = strspn(msg, "abcdefghijklmnopqrstuvwxyz_");
		const char *repl = NULL;
		for (size_t i = 0; word && i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i][0]) == word && strncmp(msg, names[i][0], word) == 0)
				repl = names[i][1];
		size_t n = word ? word : 1;
		int w = repl ? snprintf(out + len, cap - len, "%s", repl)
			     : snprintf(out + len, cap - len, "%.*s", (int)n, msg);
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
		msg += n;
	}
}

/* Settings that depend on others, applied in a fixed order. */
static bool apply_deferred(struct load_ctx *x)
{
	struct kg_config *cfg = x->cfg;
	char why[512], path[PATH_MAX];
	if (!x->internal_nets_set)
		cfg->remote.internal_nets = cfg->engine.local_nets;

	x->section = "bits";
	if (x->bits_allowlist_file && x->bits_allowlist_file[0]) {
		x->key = "allowlist_file";
		x->line = x->bits_allowlist_file_line;
		if (!resolve_path(x, x->bits_allowlist_file, path, sizeof(path)))
			return bad_value(x, x->bits_allowlist_file, "%s", strerror(ENAMETOOLONG));
		if (!bits_allowlist_load_file(&cfg->bits, path, why, sizeof(why)))
			return bad_value(x, x->bits_allowlist_file, "%s", why);
	}
	if (x->bits_allowlist_extra) {
		static const struct config_key allow = {"allowlist_extra", set_suffix_extra,
							F(bits.allowlist), NO_RANGE, false};
		x->key = allow.name;
		x->line = x->bits_allowlist_extra_line;
		if (!set_suffix_extra(x, &allow, x->bits_allowlist_extra))
			return false;
	}

	x->section = "remote";
	if (x->remote_rules_file && x->remote_rules_file[0]) {
		size_t len;
		x->key = "rules_file";
		x->line = x->remote_rules_file_line;
		char *text = NULL;
		if (!resolve_path(x, x->remote_rules_file, path, sizeof(path)))
			snprintf(why, sizeof(why), "%s", strerror(ENAMETOOLONG));
		else
			text = read_file(path, &len, why, sizeof(why));
		if (text == NULL)
			return bad_value(x, x->remote_rules_file, "cannot read %s: %s", path, why);
		const char *slash = strrchr(path, '/');
		bool ok = remote_rules_parse(&cfg->remote, text, slash ? slash + 1 : path, why,
					     sizeof(why));
		free(text);
		if (!ok)
			return bad_value(x, x->remote_rules_file, "%s", why);
	}

	if (!knock_config_check(&cfg->knock, why, sizeof(why))) {
		char named[512];
		knock_names(why, named, sizeof(named));
		snprintf(x->err, x->errlen, "%s: [knock] %s", x->path, named);
		return false;
	}

	config_derive_nft(cfg);
	if (cfg->nft.manage && !cfg->nft.hook_forward && !cfg->nft.hook_input) {
		snprintf(x->err, x->errlen,
			 "%s: [nft] hook_forward and hook_input are both off: the daemon would see "
			 "no packet (turn one on, or set manage = no)",
			 x->path);
		return false;
	}
	/* The key ranges already hold these; kept in case the modules tighten. */
	if (!nfq_config_check(&cfg->nfq, why, sizeof(why))) {
		snprintf(x->err, x->errlen, "%s: [nfq] %s", x->path, why);
		return false;
	}
	if (!nft_config_check(&cfg->nft, why, sizeof(why))) {
		snprintf(x->err, x->errlen, "%s: [nft] %s", x->path, why);
		return false;
	}
	return true;
}

bool config_load(const char *path, struct kg_config *cfg, char *err, size_t errlen)
{
	struct load_ctx x = {0};
	char why[256];
	size_t len;
	bool ok = false;

	config_defaults(cfg);
	x.path = path;
	x.cfg = cfg;
	x.err = err;
	x.errlen = errlen;
	const char *slash = strrchr(path, '/');
	x.base = slash ? slash + 1 : path;
	if (slash)
		snprintf(x.dir, sizeof(x.dir), "%.*s", (int)(slash - path), path);
	if (slash == path)
		snprintf(x.dir, sizeof(x.dir), "/");

	char *text = read_file(path, &len, why, sizeof(why));
	if (text == NULL) {
		snprintf(err, errlen, "%s: cannot read: %s", path, why);
		return false;
	}
	x.lines = calloc(1, sizeof(*x.lines));
	if (x.lines == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		free(text);
		return false;
	}
	line_index_scan(x.lines, text, len);
	free(text);
	if (x.lines->bad_line) {
		snprintf(err, errlen, "%s:%u: syntax error: '%s'", path, x.lines->bad_line,
			 x.lines->bad_text);
		free(x.lines);
		return false;
	}

	ini_message[0] = '\0';
	iniparser_set_error_callback(ini_capture);
	dictionary *d = iniparser_load(path);
	iniparser_set_error_callback(NULL);
	if (d == NULL) {
		ini_failure(&x);
		goto out;
	}
	for (ssize_t i = 0; i < d->size; i++) {
		if (d->key[i] == NULL)
			continue;
		if (!apply_entry(&x, d->key[i], d->val[i]))
			goto out;
	}
	ok = apply_deferred(&x);
out:
	/* Deferred values point into d: used above, before it is freed. */
	if (d)
		iniparser_freedict(d);
	free(x.lines);
	return ok;
}
