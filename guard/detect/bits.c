#include "detect/bits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/addr.h"
#include "util/json_writer.h"

#define BITS_DAY KG_SEC(86400)
/* The per-source aggregate lives in the pair table under this host, which
 * no normalised host can be (it has a blank). */
#define BITS_ANY_HOST "* any"

/* --- configuration ------------------------------------------------------- */

static const char *const default_allowlist[] = {
	"windowsupdate.microsoft.com",
	"update.microsoft.com",
	"windowsupdate.com",
	"download.microsoft.com",
	"wustat.windows.com",
	"ntservicepack.microsoft.com",
	"go.microsoft.com",
	"dl.delivery.mp.microsoft.com",
	"delivery.mp.microsoft.com",
	"prod.do.dsp.mp.microsoft.com",
	"definitionupdates.microsoft.com",
	"sfx.ms",
	"g.live.com",
	"gvt1.com",
	"dl.google.com",
	"download.mozilla.org",
};

/* Sigma win_bits_client_new_transfer_via_file_sharing_domains and
 * specs/detection.md §B.4/B.6. */
static const char *const default_file_sharing[] = {
	"githubusercontent.com",
	"anonfiles.com",
	"cdn.discordapp.com",
	"discordapp.net",
	"ddns.net",
	"dropbox.com",
	"dropboxusercontent.com",
	"ghostbin.co",
	"glitch.me",
	"gofile.io",
	"hastebin.com",
	"mediafire.com",
	"mega.co.nz",
	"mega.nz",
	"mega.io",
	"onrender.com",
	"pages.dev",
	"paste.ee",
	"pastebin.com",
	"pastebin.pl",
	"pastetext.net",
	"privatlab.com",
	"privatlab.net",
	"send.exploit.in",
	"sendspace.com",
	"storage.googleapis.com",
	"storjshare.io",
	"supabase.co",
	"temp.sh",
	"transfer.sh",
	"trycloudflare.com",
	"ufile.io",
	"w3spaces.com",
	"workers.dev",
	"file.io",
	"0x0.st",
};

static const char *const default_common_tlds[] = {"com", "net", "org"};

static void list_fill(struct bits_suffix_list *l, const char *const *items, size_t n)
{
	char err[128];
	bits_suffix_list_clear(l);
	for (size_t i = 0; i < n; i++)
		(void)bits_suffix_list_add(l, items[i], err, sizeof(err)); /* constants: valid */
}

#define LIST_FILL(l, a) list_fill((l), (a), sizeof(a) / sizeof((a)[0]))

void bits_config_defaults(struct bits_config *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = true;
	LIST_FILL(&c->allowlist, default_allowlist);
	LIST_FILL(&c->file_sharing, default_file_sharing);
	/* TLDs are single labels, which the suffix list takes as is. */
	LIST_FILL(&c->common_tlds, default_common_tlds);
	c->upload_large_bytes = 10ull * 1024 * 1024;
	c->upload_daily_bytes = 50ull * 1024 * 1024;
	c->ping_wait = KG_SEC(60);
	c->suppress = KG_SEC(3600);
	c->log_allowlisted = true;
	c->max_pairs = 4096;
}

bool bits_allowlist_parse(struct bits_config *c, const char *text, size_t len, char *err,
			  size_t errlen)
{
	struct bits_suffix_list *tmp = malloc(sizeof(*tmp));
	if (tmp == NULL) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	bits_suffix_list_clear(tmp);
	bool ok = bits_suffix_list_parse(tmp, text, len, err, errlen);
	if (ok)
		memcpy(&c->allowlist, tmp, sizeof(*tmp));
	free(tmp);
	return ok;
}

/* Copies with truncation (the evidence of a Ping keeps a prefix only). */
static void str_copy(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Appends at most max bytes of src, within cap. */
static void str_append(char *dst, size_t cap, const char *src, size_t max)
{
	size_t have = strlen(dst);
	size_t n = strnlen(src, max);
	if (have + n >= cap)
		n = cap - 1 - have;
	memcpy(dst + have, src, n);
	dst[have + n] = '\0';
}

/* --- names --------------------------------------------------------------- */

static const char *const rule_names[BITS_RULE_COUNT] = {
	[BITS_UPLOAD_SESSION] = "BITS::Upload_Session",
	[BITS_UPLOAD_LARGE] = "BITS::Upload_Large",
	[BITS_UPLOAD_ALLOWLISTED] = "BITS::Upload_Allowlisted",
	[BITS_PING_ONLY] = "BITS::Ping_Only",
	[BITS_DOWNLOAD_UNTRUSTED] = "BITS::Download_Untrusted",
	[BITS_DOWNLOAD_IP_LITERAL] = "BITS::Download_IP_Literal",
	[BITS_DOWNLOAD_RARE_TLD] = "BITS::Download_Rare_TLD",
	[BITS_DOWNLOAD_FILESHARING] = "BITS::Download_FileSharing",
	[BITS_DOWNLOAD_EXECUTABLE] = "BITS::Download_Executable",
	[BITS_DOWNLOAD_ALLOWLISTED] = "BITS::Download_Allowlisted",
};

static const enum alert_severity rule_severity[BITS_RULE_COUNT] = {
	[BITS_UPLOAD_SESSION] = SEV_HIGH,	[BITS_UPLOAD_LARGE] = SEV_CRITICAL,
	[BITS_UPLOAD_ALLOWLISTED] = SEV_LOW,	[BITS_PING_ONLY] = SEV_MEDIUM,
	[BITS_DOWNLOAD_UNTRUSTED] = SEV_MEDIUM, [BITS_DOWNLOAD_IP_LITERAL] = SEV_HIGH,
	[BITS_DOWNLOAD_RARE_TLD] = SEV_HIGH,	[BITS_DOWNLOAD_FILESHARING] = SEV_HIGH,
	[BITS_DOWNLOAD_EXECUTABLE] = SEV_HIGH,	[BITS_DOWNLOAD_ALLOWLISTED] = SEV_INFO,
};

const char *bits_rule_name(enum bits_rule r)
{
	return (unsigned)r < BITS_RULE_COUNT ? rule_names[r] : "BITS::Unknown";
}

bool bits_is_user_agent(const char *ua, char *ver, size_t verlen)
{
	static const char prefix[] = "Microsoft BITS/";
	size_t pn = sizeof(prefix) - 1;
	if (strncmp(ua, prefix, pn) != 0)
		return false;
	const char *p = ua + pn, *v = p;
	size_t digits = 0;
	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (digits == 0 || *p != '.')
		return false;
	p++;
	digits = 0;
	while (*p >= '0' && *p <= '9') {
		p++;
		digits++;
	}
	if (digits == 0 || *p != '\0')
		return false;
	if (ver != NULL && verlen > 0)
		snprintf(ver, verlen, "%s", v);
	return true;
}

/* --- packet types (MC-BUP writes them upper case, clients mixed case) ---- */

enum bits_ptype { PT_PING, PT_CREATE, PT_FRAGMENT, PT_CLOSE, PT_CANCEL, PT_OTHER, PT_COUNT };

static const char *const ptype_names[PT_COUNT] = {"Ping",	   "Create-Session", "Fragment",
						  "Close-Session", "Cancel-Session", "other"};

static bool ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
		char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
		if (x != y)
			return false;
	}
	return *a == *b;
}

static enum bits_ptype ptype_of(const char *s)
{
	for (int i = 0; i < PT_OTHER; i++)
		if (ieq(s, ptype_names[i]))
			return (enum bits_ptype)i;
	return PT_OTHER;
}

/* --- the (source, host) table -------------------------------------------- */

#define PING_URI_MAX 160
#define PING_UA_MAX 64
#define SESSION_MAX HTTP_BITS_VALUE_MAX

/* What a Ping_Only alert needs once the Ping is decided later. */
struct bits_ping {
	kg_time ts;
	char uid[KG_UID_LEN];
	struct kg_addr orig_h, resp_h;
	uint16_t orig_p, resp_p;
	uint16_t status;
	char uri[PING_URI_MAX];
	char ua[PING_UA_MAX];
};

struct bits_pair {
	bool used;
	struct kg_addr src;
	char host[BITS_HOST_MAX];
	uint32_t hash;
	uint32_t chain;		     /* next index + 1 in the bucket, 0 = end */
	uint32_t lru_prev, lru_next; /* index + 1, 0 = none */
	kg_time first_seen, last_seen;
	uint64_t upload_total;	 /* largest Content-Range total seen */
	uint64_t fragment_bytes; /* in the current 24 h window */
	kg_time window_start;
	uint32_t fragments;
	uint8_t ptypes;	   /* bit per enum bits_ptype seen */
	bool session_seen; /* Create-Session or Fragment or Close/Cancel */
	uint16_t alerted;  /* bit per rule raised */
	kg_time last_alert[BITS_RULE_COUNT];
	char session_id[SESSION_MAX];
	bool ping_pending;
	struct bits_ping ping;
};

struct bits_detector {
	struct bits_config cfg;
	struct bits_stats stats;
	uint32_t cap, nbuckets;
	uint32_t *buckets; /* index + 1 */
	struct bits_pair *pairs;
	uint32_t lru_head, lru_tail; /* index + 1; head = most recent */
	uint32_t free_next;	     /* entries [free_next, cap) never used yet */
	uint32_t pings_pending;	     /* pairs with ping_pending: expiry walks only then */
};

static uint32_t pair_hash(const struct kg_addr *src, const char *host)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < sizeof(src->b); i++)
		h = (h ^ src->b[i]) * 16777619u;
	for (const char *p = host; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h;
}

struct bits_detector *bits_create(const struct bits_config *cfg)
{
	struct bits_detector *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->cfg = *cfg;
	/* Two at least: an upload touches its pair and the source's aggregate. */
	d->cap = cfg->max_pairs > 2 ? cfg->max_pairs : 2;
	d->nbuckets = 1;
	while (d->nbuckets < d->cap * 2)
		d->nbuckets <<= 1;
	d->buckets = calloc(d->nbuckets, sizeof(*d->buckets));
	d->pairs = calloc(d->cap, sizeof(*d->pairs));
	if (d->buckets == NULL || d->pairs == NULL) {
		bits_destroy(d);
		return NULL;
	}
	return d;
}

void bits_destroy(struct bits_detector *d)
{
	if (d == NULL)
		return;
	free(d->buckets);
	free(d->pairs);
	free(d);
}

const struct bits_stats *bits_stats(const struct bits_detector *d)
{
	return &d->stats;
}

static void lru_unlink(struct bits_detector *d, uint32_t i)
{
	struct bits_pair *p = &d->pairs[i];
	if (p->lru_prev)
		d->pairs[p->lru_prev - 1].lru_next = p->lru_next;
	else
		d->lru_head = p->lru_next;
	if (p->lru_next)
		d->pairs[p->lru_next - 1].lru_prev = p->lru_prev;
	else
		d->lru_tail = p->lru_prev;
	p->lru_prev = p->lru_next = 0;
}

static void lru_push_front(struct bits_detector *d, uint32_t i)
{
	struct bits_pair *p = &d->pairs[i];
	p->lru_prev = 0;
	p->lru_next = d->lru_head;
	if (d->lru_head)
		d->pairs[d->lru_head - 1].lru_prev = i + 1;
	d->lru_head = i + 1;
	if (!d->lru_tail)
		d->lru_tail = i + 1;
}

static void bucket_remove(struct bits_detector *d, uint32_t i)
{
	uint32_t *link = &d->buckets[d->pairs[i].hash & (d->nbuckets - 1)];
	while (*link && *link != i + 1)
		link = &d->pairs[*link - 1].chain;
	if (*link)
		*link = d->pairs[i].chain;
	d->pairs[i].chain = 0;
}

static void ping_alert(struct bits_detector *d, struct bits_pair *p, bits_alert_fn fn, void *ctx);

/* The pair's entry, created (evicting the least recent) when absent. */
static struct bits_pair *pair_get(struct bits_detector *d, const struct kg_addr *src,
				  const char *host, kg_time now, bits_alert_fn fn, void *ctx)
{
	uint32_t h = pair_hash(src, host);
	for (uint32_t k = d->buckets[h & (d->nbuckets - 1)]; k; k = d->pairs[k - 1].chain) {
		struct bits_pair *p = &d->pairs[k - 1];
		if (p->hash == h && addr_eq(&p->src, src) && strcmp(p->host, host) == 0) {
			lru_unlink(d, k - 1);
			lru_push_front(d, k - 1);
			p->last_seen = now;
			return p;
		}
	}
	uint32_t i;
	if (d->free_next < d->cap) {
		i = d->free_next++;
		d->stats.pairs_in_use++;
	} else {
		i = d->lru_tail - 1;
		struct bits_pair *old = &d->pairs[i];
		d->stats.pairs_evicted++;
		if (old->ping_pending) {
			/* Decide the Ping now rather than forget it. */
			d->stats.pings_evicted++;
			ping_alert(d, old, fn, ctx);
		}
		lru_unlink(d, i);
		bucket_remove(d, i);
	}
	struct bits_pair *p = &d->pairs[i];
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->src = *src;
	snprintf(p->host, sizeof(p->host), "%s", host);
	p->hash = h;
	p->first_seen = p->last_seen = now;
	p->window_start = now;
	uint32_t *b = &d->buckets[h & (d->nbuckets - 1)];
	p->chain = *b;
	*b = i + 1;
	lru_push_front(d, i);
	return p;
}

/* --- alerts -------------------------------------------------------------- */

/* What one alert says, gathered before rendering. */
struct bits_facts {
	const char *method, *host, *uri, *ua, *range, *session_id, *content_name;
	const char *content_type, *allowlist, *file_ext;
	char bits_version[16];
	uint8_t ptypes;
	int64_t upload_total; /* -1 unknown */
	uint64_t uploaded_bytes;
	uint32_t fragments;
	uint16_t status;
	uint8_t magic[2], magic_len;
	const char *reasons[8];
	int nreasons;
	int64_t days_seen;
};

/* Per-field output bounds (escaped bytes) so that any alert's evidence fits
 * ALERT_EVIDENCE_MAX; `scale` halves them on a retry. */
static void evidence_write(struct jsonw *w, const struct bits_facts *f, unsigned scale)
{
	jsonw_object_begin(w);
	jsonw_key(w, "method");
	jsonw_string_max(w, f->method, 24);
	jsonw_key(w, "host");
	jsonw_string_max(w, f->host, 128 / scale);
	jsonw_key(w, "uri");
	jsonw_string_max(w, f->uri, 240 / scale);
	jsonw_key(w, "user_agent");
	jsonw_string_max(w, f->ua, 120 / scale);
	if (f->bits_version[0]) {
		jsonw_key(w, "bits_version");
		jsonw_string_max(w, f->bits_version, 16);
	}
	if (f->range != NULL && f->range[0]) {
		jsonw_key(w, "range");
		jsonw_string_max(w, f->range, 64 / scale);
	}
	if (f->ptypes) {
		jsonw_key(w, "bits_packet_types");
		jsonw_array_begin(w);
		for (int i = 0; i < PT_COUNT; i++)
			if (f->ptypes & (1u << i))
				jsonw_string(w, ptype_names[i]);
		jsonw_array_end(w);
	}
	if (f->session_id != NULL && f->session_id[0]) {
		jsonw_key(w, "bits_session_id");
		jsonw_string_max(w, f->session_id, 104 / scale);
	}
	if (f->content_name != NULL && f->content_name[0]) {
		jsonw_key(w, "content_name");
		jsonw_string_max(w, f->content_name, 96 / scale);
	}
	if (f->upload_total >= 0) {
		jsonw_key(w, "upload_total");
		jsonw_i64(w, f->upload_total);
	}
	if (f->fragments > 0) {
		jsonw_key(w, "uploaded_bytes");
		jsonw_u64(w, f->uploaded_bytes);
		jsonw_key(w, "fragments");
		jsonw_u64(w, f->fragments);
	}
	if (f->status) {
		jsonw_key(w, "status");
		jsonw_u64(w, f->status);
	}
	if (f->content_type != NULL && f->content_type[0]) {
		jsonw_key(w, "content_type");
		jsonw_string_max(w, f->content_type, 64 / scale);
	}
	if (f->magic_len > 0) {
		static const char hex[] = "0123456789abcdef";
		char m[8];
		size_t n = 0;
		bool printable = true;
		for (int i = 0; i < f->magic_len; i++)
			printable = printable && f->magic[i] >= 0x21 && f->magic[i] < 0x7f;
		for (int i = 0; i < f->magic_len; i++) {
			if (printable) {
				m[n++] = (char)f->magic[i];
			} else {
				m[n++] = hex[f->magic[i] >> 4];
				m[n++] = hex[f->magic[i] & 15];
			}
		}
		jsonw_key(w, "body_magic");
		jsonw_string_n(w, m, n, JSONW_NO_LIMIT);
	}
	if (f->file_ext != NULL && f->file_ext[0]) {
		jsonw_key(w, "file_ext");
		jsonw_string_max(w, f->file_ext, 16);
	}
	jsonw_key(w, "allowlist");
	jsonw_string_max(w, f->allowlist != NULL ? f->allowlist : "none", 128 / scale);
	jsonw_key(w, "reasons");
	jsonw_array_begin(w);
	for (int i = 0; i < f->nreasons; i++)
		jsonw_string(w, f->reasons[i]);
	jsonw_array_end(w);
	jsonw_key(w, "days_seen");
	jsonw_i64(w, f->days_seen);
	jsonw_object_end(w);
}

static void evidence_render(const struct bits_facts *f, char *out, size_t cap)
{
	for (unsigned scale = 1; scale <= 8; scale *= 2) {
		struct jsonw w;
		jsonw_init(&w, out, cap, JSONW_ESCAPE_BYTES);
		evidence_write(&w, f, scale);
		if (jsonw_finish(&w) > 0)
			return;
	}
	snprintf(out, cap, "{}");
}

/* Common fields for an alert about one transaction. */
static void alert_base(struct alert *a, kg_time ts, const char *uid, const struct kg_addr *orig_h,
		       uint16_t orig_p, const struct kg_addr *resp_h, uint16_t resp_p,
		       enum bits_rule rule, enum alert_severity sev, const char *allow_entry)
{
	memset(a, 0, sizeof(*a));
	a->ts = ts;
	snprintf(a->name, sizeof(a->name), "%s", bits_rule_name(rule));
	a->technique = TECH_BITS;
	a->severity = sev;
	snprintf(a->uid, sizeof(a->uid), "%s", uid);
	a->orig_h = *orig_h;
	a->resp_h = *resp_h;
	a->orig_p = orig_p;
	a->resp_p = resp_p;
	a->proto = TRANSPORT_TCP;
	snprintf(a->service, sizeof(a->service), "http");
	a->conn_state = NULL;
	a->direction = DIR_UNKNOWN;
	if (allow_entry != NULL)
		snprintf(a->policy_rule, sizeof(a->policy_rule), "bits-allowlist:%.40s",
			 allow_entry);
	else
		snprintf(a->policy_rule, sizeof(a->policy_rule), "default");
}

/* False (and counted) when the same rule fired for this pair lately. */
static bool alert_allowed(struct bits_detector *d, struct bits_pair *p, enum bits_rule rule,
			  kg_time ts)
{
	if (p->alerted & (1u << rule)) {
		kg_time since = ts - p->last_alert[rule];
		if (d->cfg.suppress > 0 && since >= 0 && since < d->cfg.suppress) {
			d->stats.suppressed++;
			return false;
		}
	}
	p->alerted |= (uint16_t)(1u << rule);
	p->last_alert[rule] = ts;
	return true;
}

static void alert_raise(struct bits_detector *d, struct alert *a, enum bits_rule rule,
			bits_alert_fn fn, void *ctx)
{
	if (!a->repeat)
		d->stats.alerts[rule]++;
	if (fn != NULL)
		fn(ctx, a);
}

static int64_t days_seen(const struct bits_pair *p, kg_time now)
{
	kg_time span = now - p->first_seen;
	return span > 0 ? span / BITS_DAY + 1 : 1;
}

static void ping_alert(struct bits_detector *d, struct bits_pair *p, bits_alert_fn fn, void *ctx)
{
	p->ping_pending = false;
	d->pings_pending--;
	const struct bits_ping *g = &p->ping;
	if (!alert_allowed(d, p, BITS_PING_ONLY, g->ts))
		return;
	struct alert a;
	alert_base(&a, g->ts, g->uid, &g->orig_h, g->orig_p, &g->resp_h, g->resp_p, BITS_PING_ONLY,
		   SEV_MEDIUM, NULL);
	char src[KG_ADDR_STRLEN];
	addr_format(&g->orig_h, src);
	snprintf(
		a.msg, sizeof(a.msg),
		"BITS upload Ping from %s to non-allowlisted host %.80s was not followed by an upload session.",
		src, p->host);
	struct bits_facts f = {0};
	f.method = "BITS_POST";
	f.host = p->host;
	f.uri = g->uri;
	f.ua = g->ua;
	(void)bits_is_user_agent(g->ua, f.bits_version, sizeof(f.bits_version));
	f.ptypes = p->ptypes;
	f.upload_total = -1;
	f.status = g->status;
	f.reasons[f.nreasons++] = "ping_without_session";
	f.reasons[f.nreasons++] = "non_allowlisted_host";
	f.days_seen = days_seen(p, g->ts);
	evidence_render(&f, a.evidence, sizeof(a.evidence));
	alert_raise(d, &a, BITS_PING_ONLY, fn, ctx);
}

void bits_expire(struct bits_detector *d, kg_time now, bits_alert_fn fn, void *ctx)
{
	/* Pings are rare: walk the table only while one is pending. */
	for (uint32_t k = d->lru_tail; k && d->pings_pending > 0; k = d->pairs[k - 1].lru_prev) {
		struct bits_pair *p = &d->pairs[k - 1];
		if (p->ping_pending && now - p->ping.ts >= d->cfg.ping_wait)
			ping_alert(d, p, fn, ctx);
	}
}

void bits_flush(struct bits_detector *d, bits_alert_fn fn, void *ctx)
{
	for (uint32_t k = d->lru_tail; k && d->pings_pending > 0; k = d->pairs[k - 1].lru_prev) {
		struct bits_pair *p = &d->pairs[k - 1];
		if (p->ping_pending)
			ping_alert(d, p, fn, ctx);
	}
}

/* --- classification ------------------------------------------------------ */

static const char *const exec_exts[] = {"exe", "dll", "ps1", "bat", "cmd", "vbs", "js", "hta",
					"scr", "msi", "sct", "wsf", "zip", "rar", "7z"};

static const char *const exec_ctypes[] = {
	"application/x-msdownload",
	"application/x-dosexec",
	"application/x-msdos-program",
	"application/vnd.microsoft.portable-executable",
};

/* The extension of the URI's last path segment (query and fragment cut),
 * lower-cased into ext; "" if none. */
static void uri_extension(const char *uri, char ext[16])
{
	ext[0] = '\0';
	size_t n = strcspn(uri, "?#");
	size_t seg = n;
	while (seg > 0 && uri[seg - 1] != '/')
		seg--;
	size_t dot = n;
	while (dot > seg && uri[dot - 1] != '.')
		dot--;
	if (dot == seg || n - dot == 0 || n - dot >= 16)
		return;
	for (size_t i = dot; i < n; i++)
		ext[i - dot] = uri[i] >= 'A' && uri[i] <= 'Z' ? (char)(uri[i] - 'A' + 'a') : uri[i];
	ext[n - dot] = '\0';
}

static bool is_exec_ext(const char *ext)
{
	for (size_t i = 0; i < sizeof(exec_exts) / sizeof(exec_exts[0]); i++)
		if (strcmp(ext, exec_exts[i]) == 0)
			return true;
	return false;
}

static bool is_exec_ctype(const char *ct)
{
	size_t n = strcspn(ct, "; \t");
	for (size_t i = 0; i < sizeof(exec_ctypes) / sizeof(exec_ctypes[0]); i++) {
		if (strlen(exec_ctypes[i]) != n)
			continue;
		char tmp[64];
		if (n >= sizeof(tmp))
			continue;
		memcpy(tmp, ct, n);
		tmp[n] = '\0';
		if (ieq(tmp, exec_ctypes[i]))
			return true;
	}
	return false;
}

/* The host the request went to: an absolute URI's, a CONNECT target, the
 * Host header, else the server address. */
static void request_host(const struct http_record *r, char host[BITS_HOST_MAX])
{
	if (bits_host_from_uri(r->uri, host))
		return;
	if (strcmp(r->method, "CONNECT") == 0 && bits_host_normalize(r->uri, host))
		return;
	if (bits_host_normalize(r->host, host))
		return;
	char a[KG_ADDR_STRLEN];
	addr_format(&r->resp_h, a);
	snprintf(host, BITS_HOST_MAX, "%s", a);
}

static void facts_from_record(struct bits_facts *f, const struct http_record *r, const char *host,
			      const struct bits_pair *p, const char *allow)
{
	memset(f, 0, sizeof(*f));
	f->method = r->method;
	f->host = host;
	f->uri = r->uri;
	f->ua = r->user_agent;
	(void)bits_is_user_agent(r->user_agent, f->bits_version, sizeof(f->bits_version));
	f->range = r->range;
	f->ptypes = p->ptypes;
	f->session_id = r->bits_session_id[0]	     ? r->bits_session_id
			: r->resp_bits_session_id[0] ? r->resp_bits_session_id
						     : p->session_id;
	f->content_name = r->content_name;
	f->content_type = r->resp_content_type;
	f->allowlist = allow;
	f->upload_total = p->upload_total > 0 ? (int64_t)p->upload_total : -1;
	f->uploaded_bytes = p->fragment_bytes;
	f->fragments = p->fragments;
	f->status = r->status_code;
	f->magic_len = r->body_magic_len;
	memcpy(f->magic, r->body_magic, sizeof(f->magic));
	f->days_seen = days_seen(p, r->ts);
}

static void raise_for_record(struct bits_detector *d, const struct http_record *r,
			     struct bits_pair *p, enum bits_rule rule, enum alert_severity sev,
			     const struct bits_facts *f, const char *what, bits_alert_fn fn,
			     void *ctx)
{
	/* A repeat within the suppression window is still raised, marked: the
	 * logs skip it, but enforce must cut this transfer too. */
	bool repeat = !alert_allowed(d, p, rule, r->ts);
	struct alert a;
	alert_base(&a, r->ts, r->uid, &r->orig_h, r->orig_p, &r->resp_h, r->resp_p, rule, sev,
		   f->allowlist);
	a.repeat = repeat;
	char src[KG_ADDR_STRLEN];
	addr_format(&r->orig_h, src);
	/* A long host or URI is cut here: the evidence has them in full. */
	a.msg[0] = '\0';
	str_append(a.msg, sizeof(a.msg), what, 64);
	str_append(a.msg, sizeof(a.msg), " from ", 8);
	str_append(a.msg, sizeof(a.msg), src, KG_ADDR_STRLEN);
	str_append(a.msg, sizeof(a.msg),
		   f->allowlist != NULL ? " to allowlisted host " : " to non-allowlisted host ",
		   32);
	str_append(a.msg, sizeof(a.msg), f->host, 80);
	str_append(a.msg, sizeof(a.msg), " (", 2);
	str_append(a.msg, sizeof(a.msg), r->method, 20);
	str_append(a.msg, sizeof(a.msg), " ", 1);
	str_append(a.msg, sizeof(a.msg), r->uri, 80);
	str_append(a.msg, sizeof(a.msg), ").", 2);
	evidence_render(f, a.evidence, sizeof(a.evidence));
	alert_raise(d, &a, rule, fn, ctx);
}

static void observe_upload(struct bits_detector *d, const struct http_record *r, const char *host,
			   const char *allow, bits_alert_fn fn, void *ctx)
{
	d->stats.uploads++;
	struct bits_pair *p = pair_get(d, &r->orig_h, host, r->ts, fn, ctx);
	enum bits_ptype pt = r->bits_packet_type[0] ? ptype_of(r->bits_packet_type) : PT_OTHER;
	p->ptypes |= (uint8_t)(1u << pt);
	const char *sid = r->bits_session_id[0] ? r->bits_session_id : r->resp_bits_session_id;
	if (sid[0])
		snprintf(p->session_id, sizeof(p->session_id), "%s", sid);

	if (pt == PT_PING) {
		/* Real clients Ping before Create-Session: only a Ping that stays
		 * alone is Ping_Only, decided ping_wait later. */
		if (allow == NULL && !p->session_seen && !p->ping_pending) {
			struct bits_ping *g = &p->ping;
			p->ping_pending = true;
			d->pings_pending++;
			g->ts = r->ts;
			memcpy(g->uid, r->uid, sizeof(g->uid));
			g->orig_h = r->orig_h;
			g->resp_h = r->resp_h;
			g->orig_p = r->orig_p;
			g->resp_p = r->resp_p;
			g->status = r->status_code;
			str_copy(g->uri, sizeof(g->uri), r->uri);
			str_copy(g->ua, sizeof(g->ua), r->user_agent);
		}
		return;
	}
	p->session_seen = true;
	if (p->ping_pending) {
		p->ping_pending = false;
		d->pings_pending--;
	}

	/* Fragment bytes, per pair and per source, in 24 h windows. */
	struct bits_pair *any = NULL;
	if (pt == PT_FRAGMENT) {
		uint64_t bytes = r->request_body_len;
		const struct http_byte_range *cr = &r->req_content_range;
		if (bytes == 0 && cr->first >= 0 && cr->last >= cr->first)
			bytes = (uint64_t)(cr->last - cr->first + 1);
		if (cr->total >= 0 && (uint64_t)cr->total > p->upload_total)
			p->upload_total = (uint64_t)cr->total;
		if (r->ts - p->window_start >= BITS_DAY) {
			p->window_start = r->ts;
			p->fragment_bytes = 0;
		}
		p->fragment_bytes += bytes;
		p->fragments++;
		any = pair_get(d, &r->orig_h, BITS_ANY_HOST, r->ts, fn, ctx);
		if (r->ts - any->window_start >= BITS_DAY) {
			any->window_start = r->ts;
			any->fragment_bytes = 0;
		}
		any->fragment_bytes += bytes;
		any->fragments++;
		/* p was just made most recent, so with room for two it survived. */
	}

	struct bits_facts f;
	facts_from_record(&f, r, host, p, allow);
	f.reasons[f.nreasons++] = "upload";
	if (allow != NULL) {
		if (d->cfg.log_allowlisted)
			raise_for_record(d, r, p, BITS_UPLOAD_ALLOWLISTED, SEV_LOW, &f,
					 "BITS upload", fn, ctx);
		return;
	}
	f.reasons[f.nreasons++] = "non_allowlisted_host";
	raise_for_record(d, r, p, BITS_UPLOAD_SESSION, SEV_HIGH, &f, "BITS upload session", fn,
			 ctx);
	bool large =
		(d->cfg.upload_large_bytes > 0 && p->upload_total >= d->cfg.upload_large_bytes) ||
		(any != NULL && d->cfg.upload_daily_bytes > 0 &&
		 any->fragment_bytes >= d->cfg.upload_daily_bytes);
	if (large) {
		f.reasons[f.nreasons++] = "large_upload";
		raise_for_record(d, r, p, BITS_UPLOAD_LARGE, SEV_CRITICAL, &f, "Large BITS upload",
				 fn, ctx);
	}
}

static void observe_download(struct bits_detector *d, const struct http_record *r, const char *host,
			     const char *allow, bits_alert_fn fn, void *ctx)
{
	d->stats.downloads++;
	struct bits_pair *p = pair_get(d, &r->orig_h, host, r->ts, fn, ctx);
	struct bits_facts f;
	facts_from_record(&f, r, host, p, allow);
	f.upload_total = -1;
	if (allow != NULL) {
		if (d->cfg.log_allowlisted)
			raise_for_record(d, r, p, BITS_DOWNLOAD_ALLOWLISTED, SEV_INFO, &f,
					 "BITS download", fn, ctx);
		return;
	}
	char ext[16];
	uri_extension(r->uri, ext);
	bool ip = bits_host_is_ip_literal(host);
	const char *tld = bits_host_tld(host);
	bool rare = tld != NULL && bits_suffix_list_match(&d->cfg.common_tlds, tld, NULL) == NULL;
	bool sharing = bits_suffix_list_match(&d->cfg.file_sharing, host, r->uri) != NULL;
	bool exe_ext = is_exec_ext(ext);
	bool exe_ct = is_exec_ctype(r->resp_content_type);
	bool exe_mz = r->body_magic_len == 2 && r->body_magic[0] == 'M' &&
		      r->body_magic[1] == 'Z' && r->body_offset == 0;
	bool exe = exe_ext || exe_ct || exe_mz;

	f.reasons[f.nreasons++] = "non_allowlisted_host";
	if (ip)
		f.reasons[f.nreasons++] = "ip_literal";
	if (rare)
		f.reasons[f.nreasons++] = "rare_tld";
	if (sharing)
		f.reasons[f.nreasons++] = "file_sharing";
	if (exe)
		f.reasons[f.nreasons++] = "executable";
	if (exe_ext)
		f.file_ext = ext;

	/* One alert per request: the most specific rule, the others in reasons. */
	enum bits_rule rule = exe	? BITS_DOWNLOAD_EXECUTABLE
			      : sharing ? BITS_DOWNLOAD_FILESHARING
			      : ip	? BITS_DOWNLOAD_IP_LITERAL
			      : rare	? BITS_DOWNLOAD_RARE_TLD
					: BITS_DOWNLOAD_UNTRUSTED;
	enum alert_severity sev = rule_severity[rule];
	if (rule == BITS_DOWNLOAD_EXECUTABLE && ip)
		sev = SEV_CRITICAL;
	const char *what = exe ? "BITS download of an executable" : "BITS download";
	raise_for_record(d, r, p, rule, sev, &f, what, fn, ctx);
}

void bits_observe(struct bits_detector *d, const struct http_record *r, bits_alert_fn fn, void *ctx)
{
	if (!d->cfg.enabled)
		return;
	d->stats.records++;
	bits_expire(d, r->ts, fn, ctx);
	bool upload = strcmp(r->method, "BITS_POST") == 0 || r->bits_packet_type[0] != '\0';
	bool download = !upload && bits_is_user_agent(r->user_agent, NULL, 0) &&
			(strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0);
	if (!upload && !download)
		return;
	char host[BITS_HOST_MAX];
	request_host(r, host);
	const char *allow = bits_suffix_list_match(&d->cfg.allowlist, host, r->uri);
	if (upload)
		observe_upload(d, r, host, allow, fn, ctx);
	else
		observe_download(d, r, host, allow, fn, ctx);
}
