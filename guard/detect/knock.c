/* Port-knock detector: configuration, tables, the lifecycle of each first
 * packet (attempt -> outcome), plain port scans, SPA candidates and known
 * sequences. The correlation on access is in knock_correlate.c. */
#include "detect/knock_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE LRU_NONE

/* ---------------------------------------------------------------- config */

void knock_config_defaults(struct knock_config *c)
{
	memset(c, 0, sizeof(*c));
	c->enabled = true;
	c->w_seq = KG_SEC(30);
	c->max_gap = KG_SEC(10);
	c->d_post = KG_SEC(30);
	c->w_closed = KG_SEC(600);
	c->k_min = 3;
	c->k_max = 16;
	c->scan_rate = 20;
	c->scan_rate_min_k = 8;
	c->t_outcome_tcp = KG_SEC(3);
	c->t_outcome_udp = KG_SEC(2);
	c->score_high = 5;
	c->score_medium = 3;
	c->high_requires_closed = true;
	c->r_min = 2;
	c->seq_memory_ttl = KG_SEC(24 * 3600);
	c->spa_enabled = true;
	c->spa_port = 62201;
	c->spa_min_len = 140;
	c->spa_max_len = 1500;
	c->spa_min_entropy = 5.0;
	c->spa_window = KG_SEC(60);
	c->scan_threshold = 25;
	c->scan_window = KG_SEC(300);
	c->known_sequence_severity = SEV_MEDIUM;
	c->in_progress_enabled = true;
	c->in_progress_min_ports = 2;
	c->ring_size = KNOCK_RING_MAX;
	c->pair_table_size = 65536;
	c->attempt_pool_size = 262144;
	c->closed_table_size = 65536;
	c->seq_memory_size = 4096;
	c->scan_table_size = 8192;
	c->spa_table_size = 4096;
	netset_init(&c->knock_allowlist);
	netset_init(&c->scanner_allowlist);
}

static bool fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return false;
}

bool knock_config_check(const struct knock_config *c, char *err, size_t errlen)
{
	if (c->k_min < 1 || c->k_min > c->k_max)
		return fail(err, errlen, "k_min must be at least 1 and at most k_max");
	if (c->k_max >= KNOCK_RING_MAX || c->k_max >= c->ring_size)
		return fail(err, errlen, "k_max must be below ring_size (at most 31)");
	if (c->ring_size < 2 || c->ring_size > KNOCK_RING_MAX)
		return fail(err, errlen, "ring_size must be 2..32");
	if (c->w_seq <= 0 || c->max_gap <= 0 || c->d_post <= 0 || c->w_closed <= 0 ||
	    c->t_outcome_tcp <= 0 || c->t_outcome_udp <= 0 || c->spa_window <= 0 ||
	    c->scan_window <= 0 || c->seq_memory_ttl <= 0)
		return fail(err, errlen, "time windows must be positive");
	if (c->pair_table_size == 0 || c->closed_table_size == 0 || c->seq_memory_size == 0 ||
	    c->scan_table_size == 0 || c->spa_table_size == 0 || c->attempt_pool_size == 0)
		return fail(err, errlen, "table sizes must be positive");
	if (c->pair_table_size > (1u << 30) || c->closed_table_size > (1u << 30) ||
	    c->seq_memory_size > (1u << 30) || c->scan_table_size > (1u << 30) ||
	    c->spa_table_size > (1u << 30) || c->attempt_pool_size > (1u << 30))
		return fail(err, errlen, "table sizes must be at most 1073741824");
	if (c->attempt_pool_size < c->ring_size)
		return fail(err, errlen, "attempt_pool_size must be at least ring_size");
	if (c->spa_min_len < 1 || c->spa_min_len > c->spa_max_len || c->spa_max_len > 65535)
		return fail(err, errlen,
			    "spa_min_len must be 1..spa_max_len, spa_max_len at most 65535");
	if (c->score_medium > c->score_high)
		return fail(err, errlen, "score_medium must not exceed score_high");
	if (c->r_min < 1)
		return fail(err, errlen, "r_min must be at least 1");
	if (c->scan_threshold < 2)
		return fail(err, errlen, "scan_threshold must be at least 2");
	if (c->n_known > KNOCK_KNOWN_MAX)
		return fail(err, errlen, "too many known sequences");
	if (c->in_progress_min_ports < 2 || c->in_progress_min_ports >= KNOCK_RING_MAX)
		return fail(err, errlen, "in_progress_min_ports must be 2..31");
	return true;
}

static bool parse_u16(const char *s, size_t n, uint16_t *out)
{
	unsigned v = 0;
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	*out = (uint16_t)v;
	return true;
}

static bool parse_ports(const char *s, struct knock_known_sequence *out, char *err, size_t errlen)
{
	out->n_ports = 0;
	while (*s) {
		const char *end = strchr(s, ',');
		size_t n = end ? (size_t)(end - s) : strlen(s);
		const char *colon = memchr(s, ':', n);
		size_t pn = colon ? (size_t)(colon - s) : n;
		struct knock_port p = {6, 0};
		if (!parse_u16(s, pn, &p.port)) {
			snprintf(err, errlen,
				 "port '%.*s': expected 1-65535, optionally :tcp or :udp", (int)n,
				 s);
			return false;
		}
		if (colon) {
			size_t rn = n - pn - 1;
			if (rn == 3 && strncmp(colon + 1, "tcp", 3) == 0)
				p.ip_proto = 6;
			else if (rn == 3 && strncmp(colon + 1, "udp", 3) == 0)
				p.ip_proto = 17;
			else {
				snprintf(err, errlen, "port '%.*s': protocol must be tcp or udp",
					 (int)n, s);
				return false;
			}
		}
		if (out->n_ports >= KNOCK_SEQ_MAX) {
			snprintf(err, errlen, "a sequence has at most %d ports", KNOCK_SEQ_MAX);
			return false;
		}
		out->ports[out->n_ports++] = p;
		if (!end)
			break;
		s = end + 1;
		if (!*s) {
			snprintf(err, errlen, "empty port after the last ','");
			return false;
		}
	}
	if (out->n_ports == 0) {
		snprintf(err, errlen, "the sequence has no ports");
		return false;
	}
	return true;
}

bool knock_known_sequence_parse(const char *text, struct knock_known_sequence *out, char *err,
				size_t errlen)
{
	char tok[3][128];
	int ntok = 0;
	char dummy[1];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	memset(out, 0, sizeof(*out));
	const char *p = text;
	for (;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		size_t n = (size_t)(p - start);
		if (ntok == 3) {
			snprintf(err, errlen,
				 "unexpected '%.*s' after the name (expected: dst ports [name])",
				 (int)n, start);
			return false;
		}
		if (n >= sizeof(tok[0])) {
			snprintf(err, errlen, "token '%.20s...' is too long", start);
			return false;
		}
		memcpy(tok[ntok], start, n);
		tok[ntok][n] = '\0';
		ntok++;
	}
	if (ntok < 2) {
		snprintf(err, errlen, "expected '<dst CIDR|any> <port[:tcp|udp],...> [name]'");
		return false;
	}
	if (strcmp(tok[0], "any") == 0) {
		out->dst_prefix = 0;
	} else {
		struct netset one;
		netset_init(&one);
		if (!netset_add(&one, tok[0])) {
			snprintf(err, errlen,
				 "destination '%s': expected a CIDR, an address or any", tok[0]);
			return false;
		}
		out->dst_net = one.e[0].net;
		out->dst_prefix = one.e[0].prefix;
	}
	if (!parse_ports(tok[1], out, err, errlen))
		return false;
	if (ntok == 3) {
		if (strlen(tok[2]) >= KNOCK_NAME_MAX) {
			snprintf(err, errlen, "name '%s' is longer than %d characters", tok[2],
				 KNOCK_NAME_MAX - 1);
			return false;
		}
		for (const char *c = tok[2]; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.') {
				snprintf(err, errlen,
					 "name '%s': use letters, digits, '_', '-', '.'", tok[2]);
				return false;
			}
		memcpy(out->name, tok[2], strlen(tok[2]) + 1); /* length checked above */
	}
	return true;
}

size_t knock_memory_bytes(const struct knock_config *c)
{
	return lru_map_memory(c->pair_table_size, sizeof(struct knock_pair_key)) +
	       c->pair_table_size * sizeof(struct knock_pair) +
	       c->attempt_pool_size * sizeof(struct knock_hit) +
	       lru_map_memory(c->closed_table_size, 20) +
	       c->closed_table_size * sizeof(struct knock_closed) +
	       lru_map_memory(c->seq_memory_size, 8) +
	       c->seq_memory_size * sizeof(struct knock_seq) +
	       lru_map_memory(c->scan_table_size, 16) +
	       c->scan_table_size * sizeof(struct knock_scan) +
	       lru_map_memory(c->spa_table_size, 16) +
	       c->spa_table_size * sizeof(struct knock_spa) + sizeof(struct knock_detector);
}

/* ---------------------------------------------------------------- create */

struct knock_detector *knock_create(const struct knock_config *cfg, const struct netset *local_nets,
				    uint64_t hash_seed, const struct knock_sink *sink)
{
	if (!knock_config_check(cfg, NULL, 0))
		return NULL;
	struct knock_detector *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->cfg = *cfg;
	if (local_nets) {
		d->local_nets = *local_nets;
		d->have_local_nets = true;
	}
	if (sink)
		d->sink = *sink;
	d->hash_seed = hash_seed;
	static const uint8_t mss_only[4] = {2, 4, 0x05, 0xb4};
	d->fp_mss_only = knock_tcp_options_fp(mss_only, sizeof(mss_only));

	bool ok = lru_map_init(&d->pairs, cfg->pair_table_size, sizeof(struct knock_pair_key),
			       hash_seed) &&
		  lru_map_init(&d->closed, cfg->closed_table_size, 20, hash_seed + 1) &&
		  lru_map_init(&d->seqs, cfg->seq_memory_size, 8, hash_seed + 2) &&
		  lru_map_init(&d->scans, cfg->scan_table_size, 16, hash_seed + 3) &&
		  lru_map_init(&d->spas, cfg->spa_table_size, 16, hash_seed + 4);
	if (ok) {
		d->pair = calloc(cfg->pair_table_size, sizeof(*d->pair));
		d->hit = calloc(cfg->attempt_pool_size, sizeof(*d->hit));
		d->closed_v = calloc(cfg->closed_table_size, sizeof(*d->closed_v));
		d->seq_v = calloc(cfg->seq_memory_size, sizeof(*d->seq_v));
		d->scan_v = calloc(cfg->scan_table_size, sizeof(*d->scan_v));
		d->spa_v = calloc(cfg->spa_table_size, sizeof(*d->spa_v));
		ok = d->pair && d->hit && d->closed_v && d->seq_v && d->scan_v && d->spa_v;
	}
	if (!ok) {
		knock_destroy(d);
		return NULL;
	}
	for (size_t i = 0; i < cfg->attempt_pool_size; i++)
		d->hit[i].next = i + 1 < cfg->attempt_pool_size ? (uint32_t)(i + 1) : NONE;
	d->hit_free = 0;
	d->pend_head[0] = d->pend_head[1] = d->pend_tail[0] = d->pend_tail[1] = NONE;
	d->run_head = d->run_tail = NONE;
	return d;
}

void knock_destroy(struct knock_detector *d)
{
	if (!d)
		return;
	lru_map_fini(&d->pairs);
	lru_map_fini(&d->closed);
	lru_map_fini(&d->seqs);
	lru_map_fini(&d->scans);
	lru_map_fini(&d->spas);
	free(d->pair);
	free(d->hit);
	free(d->closed_v);
	free(d->seq_v);
	free(d->scan_v);
	free(d->spa_v);
	free(d);
}

const struct knock_stats *knock_stats(const struct knock_detector *d)
{
	return &d->stats;
}

/* ---------------------------------------------------------------- helpers */

bool knock_failed(uint8_t o)
{
	return o == KNOCK_CLOSED_RST || o == KNOCK_CLOSED_ICMP || o == KNOCK_FILTERED_SILENT;
}

bool knock_failed_or_pending(uint8_t o)
{
	return knock_failed(o) || o == KNOCK_PENDING;
}

const struct knock_pair_key *knock_pair_key_of(const struct knock_detector *d, uint32_t pair)
{
	return lru_map_key(&d->pairs, pair);
}

static enum alert_direction direction_of(const struct knock_detector *d, const struct kg_addr *src,
					 const struct kg_addr *dst)
{
	if (!d->have_local_nets)
		return DIR_UNKNOWN;
	bool ls = netset_contains(&d->local_nets, src), ld = netset_contains(&d->local_nets, dst);
	if (ls && ld)
		return DIR_INTERNAL;
	if (ls)
		return DIR_OUTBOUND;
	if (ld)
		return DIR_INBOUND;
	return DIR_EXTERNAL;
}

void knock_alert_begin(struct knock_detector *d, const char *name, enum alert_severity sev,
		       kg_time ts, const struct kg_addr *src, const struct kg_addr *dst,
		       const struct knock_hit *h)
{
	struct alert *a = &d->scratch;
	memset(a, 0, sizeof(*a));
	a->ts = ts;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->technique = TECH_PORT_KNOCK;
	a->severity = sev;
	snprintf(a->uid, sizeof(a->uid), "%s", h->uid);
	a->orig_h = *src;
	a->resp_h = *dst;
	a->orig_p = h->sport;
	a->resp_p = h->dport;
	a->proto = knock_transport(h->ip_proto);
	a->conn_state = NULL;
	a->direction = direction_of(d, src, dst);
	snprintf(a->policy_rule, sizeof(a->policy_rule), "default");
	snprintf(a->evidence, sizeof(a->evidence), "{}");
}

void knock_alert_emit(struct knock_detector *d)
{
	d->stats.alerts++;
	if (d->scratch.severity == SEV_INFO)
		d->stats.alerts_allowlisted++;
	if (d->sink.emit)
		d->sink.emit(d->sink.ctx, &d->scratch);
}

/* ---------------------------------------------------------------- hits, pairs */

static void pend_unlink(struct knock_detector *d, uint32_t i)
{
	struct knock_hit *h = &d->hit[i];
	if (!(h->flags & HIT_PENDING))
		return;
	unsigned l = h->pend_list;
	if (h->pend_prev != NONE)
		d->hit[h->pend_prev].pend_next = h->pend_next;
	else
		d->pend_head[l] = h->pend_next;
	if (h->pend_next != NONE)
		d->hit[h->pend_next].pend_prev = h->pend_prev;
	else
		d->pend_tail[l] = h->pend_prev;
	h->flags &= (uint8_t)~HIT_PENDING;
}

static void pend_append(struct knock_detector *d, uint32_t i)
{
	struct knock_hit *h = &d->hit[i];
	unsigned l = h->ip_proto == 6 ? 0 : 1;
	h->pend_list = (uint8_t)l;
	h->pend_prev = d->pend_tail[l];
	h->pend_next = NONE;
	if (d->pend_tail[l] != NONE)
		d->hit[d->pend_tail[l]].pend_next = i;
	else
		d->pend_head[l] = i;
	d->pend_tail[l] = i;
	h->flags |= HIT_PENDING;
}

static void hit_free(struct knock_detector *d, uint32_t i)
{
	pend_unlink(d, i);
	d->hit[i].next = d->hit_free;
	d->hit_free = i;
}

/* Drops the oldest attempt of a pair. */
static void pair_pop_oldest(struct knock_detector *d, uint32_t ps)
{
	struct knock_pair *p = &d->pair[ps];
	uint32_t i = p->q_head;
	if (i == NONE)
		return;
	p->q_head = d->hit[i].next;
	if (p->q_head == NONE)
		p->q_tail = NONE;
	p->q_len--;
	hit_free(d, i);
}

static void run_unlink(struct knock_detector *d, uint32_t ps)
{
	struct knock_pair *p = &d->pair[ps];
	if (!p->in_run_list)
		return;
	if (p->run_prev != NONE)
		d->pair[p->run_prev].run_next = p->run_next;
	else
		d->run_head = p->run_next;
	if (p->run_next != NONE)
		d->pair[p->run_next].run_prev = p->run_prev;
	else
		d->run_tail = p->run_prev;
	p->in_run_list = false;
}

static void run_append(struct knock_detector *d, uint32_t ps)
{
	struct knock_pair *p = &d->pair[ps];
	p->run_prev = d->run_tail;
	p->run_next = NONE;
	if (d->run_tail != NONE)
		d->pair[d->run_tail].run_next = ps;
	else
		d->run_head = ps;
	d->run_tail = ps;
	p->in_run_list = true;
}

/* Frees everything a pair slot holds (before lru removal or reuse). */
static void pair_release(struct knock_detector *d, uint32_t ps)
{
	while (d->pair[ps].q_head != NONE)
		pair_pop_oldest(d, ps);
	run_unlink(d, ps);
}

static void pair_init(struct knock_detector *d, uint32_t ps)
{
	struct knock_pair *p = &d->pair[ps];
	memset(p, 0, sizeof(*p));
	p->q_head = p->q_tail = NONE;
	p->run_prev = p->run_next = NONE;
}

static uint32_t pair_get(struct knock_detector *d, const struct kg_addr *src,
			 const struct kg_addr *dst, kg_time now)
{
	struct knock_pair_key k = {*src, *dst};
	uint32_t ps = lru_map_find(&d->pairs, &k);
	if (ps != NONE) {
		lru_map_touch(&d->pairs, ps, now);
		return ps;
	}
	bool evicted;
	ps = lru_map_insert(&d->pairs, &k, now, &evicted);
	if (evicted) {
		d->stats.pairs_evicted++;
		pair_release(d, ps);
	}
	pair_init(d, ps);
	return ps;
}

/* A free attempt slot, taking it from the least recently used pair when the
 * pool is empty; NONE only if nothing at all can be freed. */
static uint32_t hit_alloc(struct knock_detector *d, uint32_t current)
{
	while (d->hit_free == NONE) {
		uint32_t old = lru_map_oldest(&d->pairs);
		d->stats.attempts_evicted_pool++;
		if (old == NONE || old == current) {
			if (d->pair[current].q_head == NONE)
				return NONE;
			pair_pop_oldest(d, current);
		} else {
			pair_release(d, old);
			lru_map_remove(&d->pairs, old);
		}
	}
	uint32_t i = d->hit_free;
	d->hit_free = d->hit[i].next;
	return i;
}

/* The newest remembered attempt of this flow, or NONE. */
static uint32_t hit_find(struct knock_detector *d, const struct knock_flow *f, uint32_t *pair_out)
{
	struct knock_pair_key k = {f->src, f->dst};
	uint32_t ps = lru_map_find(&d->pairs, &k);
	*pair_out = ps;
	if (ps == NONE)
		return NONE;
	uint32_t found = NONE;
	for (uint32_t i = d->pair[ps].q_head; i != NONE; i = d->hit[i].next) {
		const struct knock_hit *h = &d->hit[i];
		if (h->ip_proto == f->ip_proto && h->sport == f->sport && h->dport == f->dport)
			found = i;
	}
	return found;
}

static void copy_uid(char dst[KNOCK_UID_MAX], const char *uid)
{
	snprintf(dst, KNOCK_UID_MAX, "%s", uid ? uid : "");
}

bool knock_src_allowlisted(const struct netset *s, const struct kg_addr *a)
{
	return s->n && netset_contains(s, a);
}

/* ---------------------------------------------------------------- closed table */

static void closed_key(uint8_t key[20], const struct kg_addr *dst, uint8_t proto, uint16_t port)
{
	memcpy(key, dst->b, 16);
	key[16] = proto;
	key[17] = (uint8_t)(port >> 8);
	key[18] = (uint8_t)port;
	key[19] = 0;
}

struct knock_closed *knock_closed_lookup(struct knock_detector *d, const struct kg_addr *dst,
					 uint8_t proto, uint16_t port)
{
	uint8_t key[20];
	closed_key(key, dst, proto, port);
	uint32_t s = lru_map_find(&d->closed, key);
	return s == NONE ? NULL : &d->closed_v[s];
}

static struct knock_closed *closed_get(struct knock_detector *d, const struct kg_addr *dst,
				       uint8_t proto, uint16_t port, kg_time now)
{
	uint8_t key[20];
	closed_key(key, dst, proto, port);
	uint32_t s = lru_map_find(&d->closed, key);
	if (s != NONE) {
		lru_map_touch(&d->closed, s, now);
		return &d->closed_v[s];
	}
	bool evicted;
	s = lru_map_insert(&d->closed, key, now, &evicted);
	if (evicted)
		d->stats.closed_evicted++;
	memset(&d->closed_v[s], 0, sizeof(d->closed_v[s]));
	return &d->closed_v[s];
}

/* ---------------------------------------------------------------- port scan */

struct knock_scan *knock_scan_lookup(struct knock_detector *d, const struct kg_addr *src)
{
	uint32_t s = lru_map_find(&d->scans, src->b);
	return s == NONE ? NULL : &d->scan_v[s];
}

static bool bit_set(uint64_t *bits, unsigned nbits, uint64_t h)
{
	unsigned b = (unsigned)(h % nbits);
	uint64_t m = 1ull << (b % 64);
	if (bits[b / 64] & m)
		return false;
	bits[b / 64] |= m;
	return true;
}

static void scan_emit(struct knock_detector *d, const struct kg_addr *src,
		      const struct kg_addr *dst, const struct knock_hit *h,
		      const struct knock_scan *sc)
{
	knock_alert_begin(d, "PortKnock::Port_Scan", SEV_LOW, h->ts, src, dst, h);
	struct alert *a = &d->scratch;
	const char *shape = !sc->multi_dst    ? "port_scan"
			    : !sc->multi_port ? "address_scan"
					      : "random_scan";
	struct jsonw j;
	jsonw_init(&j, a->evidence, sizeof(a->evidence), JSONW_ESCAPE_MINIMAL);
	jsonw_object_begin(&j);
	jsonw_key(&j, "shape");
	jsonw_string(&j, shape);
	jsonw_key(&j, "distinct_targets");
	jsonw_u64(&j, sc->count);
	jsonw_key(&j, "distinct_dsts");
	jsonw_u64(&j, sc->n_dsts);
	jsonw_key(&j, "window_s");
	jsonw_i64(&j, d->cfg.scan_window / KG_NSEC_PER_SEC);
	jsonw_key(&j, "window_start");
	jsonw_time(&j, sc->window_start);
	jsonw_key(&j, "first_dst");
	jsonw_addr(&j, &sc->first_dst);
	jsonw_key(&j, "first_port");
	jsonw_u64(&j, sc->first_port);
	jsonw_key(&j, "last_outcome");
	char lb[16];
	jsonw_string(&j, knock_outcome_label(h->outcome, h->icmp_type, h->icmp_code, lb));
	jsonw_key(&j, "fixed_window_1024");
	jsonw_bool(&j, h->ip_proto == 6 && h->window == 1024);
	jsonw_object_end(&j);
	if (jsonw_overflowed(&j))
		snprintf(a->evidence, sizeof(a->evidence), "{}");
	char s[KG_ADDR_STRLEN];
	addr_format(src, s);
	snprintf(a->msg, sizeof(a->msg), "%s failed on %u distinct ports/hosts within %lld s (%s).",
		 s, sc->count, (long long)(d->cfg.scan_window / KG_NSEC_PER_SEC), shape);
	knock_alert_emit(d);
}

static void scan_account(struct knock_detector *d, const struct kg_addr *src,
			 const struct kg_addr *dst, const struct knock_hit *h)
{
	if (h->ip_proto != 6 && h->ip_proto != 17)
		return;
	uint32_t s = lru_map_find(&d->scans, src->b);
	struct knock_scan *sc;
	if (s == NONE) {
		bool evicted;
		s = lru_map_insert(&d->scans, src->b, h->ts, &evicted);
		if (evicted)
			d->stats.scan_evicted++;
		sc = &d->scan_v[s];
		memset(sc, 0, sizeof(*sc));
		sc->window_start = h->ts;
	} else {
		lru_map_touch(&d->scans, s, h->ts);
		sc = &d->scan_v[s];
	}
	if (h->ts - sc->window_start > d->cfg.scan_window) {
		memset(sc, 0, sizeof(*sc));
		sc->window_start = h->ts;
	}
	uint8_t key[19];
	memcpy(key, dst->b, 16);
	key[16] = h->ip_proto;
	key[17] = (uint8_t)(h->dport >> 8);
	key[18] = (uint8_t)h->dport;
	uint64_t hv = knock_fnv64(KNOCK_FNV_INIT ^ d->hash_seed, key, sizeof(key));
	if (!bit_set(sc->port_bits, KNOCK_SCAN_PORT_BITS, hv))
		return;
	if (sc->count == 0) {
		sc->first_dst = *dst;
		sc->first_port = h->dport;
		sc->first_proto = h->ip_proto;
	} else {
		if (!addr_eq(&sc->first_dst, dst))
			sc->multi_dst = true;
		if (sc->first_port != h->dport || sc->first_proto != h->ip_proto)
			sc->multi_port = true;
	}
	sc->count++;
	if (bit_set(sc->dst_bits, KNOCK_SCAN_DST_BITS,
		    knock_fnv64(KNOCK_FNV_INIT ^ d->hash_seed, dst->b, 16)))
		sc->n_dsts++;
	if (sc->count < d->cfg.scan_threshold || sc->alerted)
		return;
	sc->alerted = true; /* one alert per source per window */
	if (knock_src_allowlisted(&d->cfg.scanner_allowlist, src)) {
		d->stats.alerts_suppressed++;
		return;
	}
	scan_emit(d, src, dst, h, sc);
}

/* ---------------------------------------------------------------- SPA */

/* An SPA-shaped datagram is remembered at once (the access may come before a
 * silent drop is decided) and confirmed or withdrawn by its outcome. */
static void spa_register(struct knock_detector *d, const struct kg_addr *src,
			 const struct kg_addr *dst, const struct knock_hit *h)
{
	uint32_t s = lru_map_find(&d->spas, dst->b);
	if (s == NONE) {
		bool evicted;
		s = lru_map_insert(&d->spas, dst->b, h->ts, &evicted);
		if (evicted)
			d->stats.spa_evicted++;
		memset(&d->spa_v[s], 0, sizeof(d->spa_v[s]));
	} else {
		lru_map_touch(&d->spas, s, h->ts);
	}
	struct knock_spa *sp = &d->spa_v[s];
	struct knock_spa_cand *c = &sp->c[sp->next];
	sp->next = (uint8_t)((sp->next + 1) % KNOCK_SPA_PER_DST);
	if (sp->n < KNOCK_SPA_PER_DST)
		sp->n++;
	memset(c, 0, sizeof(*c));
	c->ts = h->ts;
	c->src = *src;
	c->sport = h->sport;
	c->dport = h->dport;
	c->ip_proto = h->ip_proto;
	c->len = h->payload_len;
	c->entropy_centi = h->spa_entropy_centi;
	c->b64_permille = h->spa_b64_permille;
	c->state = SPA_PENDING;
	copy_uid(c->uid, h->uid);
}

struct knock_spa *knock_spa_lookup(struct knock_detector *d, const struct kg_addr *dst)
{
	uint32_t s = lru_map_find(&d->spas, dst->b);
	return s == NONE ? NULL : &d->spa_v[s];
}

const char *knock_spa_reply_name(uint8_t state)
{
	switch (state) {
	case SPA_SILENT:
		return "none";
	case SPA_ICMP:
		return "icmp";
	case SPA_ANSWERED:
		return "answered";
	default:
		return "pending";
	}
}

void knock_spa_json(struct jsonw *j, const struct knock_config *cfg, const struct knock_spa_cand *c)
{
	jsonw_object_begin(j);
	jsonw_key(j, "dport");
	jsonw_u64(j, c->dport);
	jsonw_key(j, "proto");
	jsonw_string(j, knock_proto_name(c->ip_proto));
	jsonw_key(j, "default_port");
	jsonw_bool(j, c->dport == cfg->spa_port);
	jsonw_key(j, "len");
	jsonw_u64(j, c->len);
	jsonw_key(j, "b64_ratio");
	jsonw_fixed(j, c->b64_permille / 1000.0, 3);
	jsonw_key(j, "entropy");
	jsonw_fixed(j, c->entropy_centi / 100.0, 2);
	jsonw_key(j, "reply");
	jsonw_string(j, knock_spa_reply_name(c->state));
	jsonw_key(j, "ts");
	jsonw_time(j, c->ts);
	jsonw_key(j, "src");
	jsonw_addr(j, &c->src);
	jsonw_key(j, "uid");
	jsonw_string(j, c->uid);
	jsonw_object_end(j);
}

static void spa_resolved(struct knock_detector *d, const struct kg_addr *src,
			 const struct kg_addr *dst, const struct knock_hit *h)
{
	struct knock_spa *sp = knock_spa_lookup(d, dst);
	if (!sp)
		return; /* aged out or evicted */
	struct knock_spa_cand *c = NULL;
	for (unsigned i = 0; i < sp->n; i++)
		if (sp->c[i].ts == h->ts && sp->c[i].sport == h->sport &&
		    sp->c[i].dport == h->dport && addr_eq(&sp->c[i].src, src))
			c = &sp->c[i];
	if (!c || c->state != SPA_PENDING)
		return;
	if (h->outcome == KNOCK_OPEN || h->outcome == KNOCK_BLOCKED_BY_GUARD) {
		c->state = SPA_ANSWERED;
		return;
	}
	c->state = h->outcome == KNOCK_CLOSED_ICMP ? SPA_ICMP : SPA_SILENT;
	d->stats.spa_candidates++;
	if (c->escalated)
		return; /* SPA_Then_Access already told the whole story */

	bool allow = knock_src_allowlisted(&d->cfg.knock_allowlist, src);
	knock_alert_begin(d, "PortKnock::SPA_Candidate", allow ? SEV_INFO : SEV_MEDIUM, h->ts, src,
			  dst, h);
	struct alert *a = &d->scratch;
	struct jsonw j;
	jsonw_init(&j, a->evidence, sizeof(a->evidence), JSONW_ESCAPE_MINIMAL);
	jsonw_object_begin(&j);
	jsonw_key(&j, "spa");
	knock_spa_json(&j, &d->cfg, c);
	jsonw_key(&j, "allowlisted");
	jsonw_bool(&j, allow);
	jsonw_object_end(&j);
	if (jsonw_overflowed(&j))
		snprintf(a->evidence, sizeof(a->evidence), "{}");
	if (allow)
		snprintf(a->policy_rule, sizeof(a->policy_rule), "knock_allowlist");
	char s1[KG_ADDR_STRLEN], s2[KG_ADDR_STRLEN];
	addr_format(src, s1);
	addr_format(dst, s2);
	snprintf(
		a->msg, sizeof(a->msg),
		"%s sent a %u-byte base64 datagram (entropy %.2f) to %s:%u that got no application reply, like an fwknop SPA packet.",
		s1, c->len, c->entropy_centi / 100.0, s2, c->dport);
	knock_alert_emit(d);
}

/* ---------------------------------------------------------------- known sequences */

bool knock_known_dst_match(const struct knock_known_sequence *k, const struct kg_addr *dst)
{
	unsigned full = k->dst_prefix / 8, rest = k->dst_prefix % 8;
	if (memcmp(dst->b, k->dst_net.b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t m = (uint8_t)(0xff00u >> rest);
	return (dst->b[full] & m) == k->dst_net.b[full];
}

static bool known_has_port(const struct knock_known_sequence *k, uint8_t proto, uint16_t port)
{
	for (unsigned i = 0; i < k->n_ports; i++)
		if (k->ports[i].ip_proto == proto && k->ports[i].port == port)
			return true;
	return false;
}

/* knockd's view: only hits on the sequence's own ports count, and the last
 * n_ports of them (within w_seq of the first) must be the sequence in order. */
static void known_check(struct knock_detector *d, uint32_t ps, uint32_t newest)
{
	const struct knock_pair_key *key = knock_pair_key_of(d, ps);
	const struct knock_hit *last = &d->hit[newest];
	uint32_t chron[KNOCK_RING_MAX];
	unsigned n = 0;
	for (uint32_t i = d->pair[ps].q_head; i != NONE && n < KNOCK_RING_MAX; i = d->hit[i].next)
		chron[n++] = i;
	for (size_t ki = 0; ki < d->cfg.n_known; ki++) {
		const struct knock_known_sequence *k = &d->cfg.known[ki];
		const struct knock_port *lp = &k->ports[k->n_ports - 1];
		if (lp->ip_proto != last->ip_proto || lp->port != last->dport ||
		    !knock_known_dst_match(k, &key->dst))
			continue;
		int want = k->n_ports - 1;
		const struct knock_hit *first = last;
		for (int c = (int)n - 1; c >= 0 && want >= 0; c--) {
			const struct knock_hit *h = &d->hit[chron[c]];
			if (last->ts - h->ts > d->cfg.w_seq)
				break;
			if (!known_has_port(k, h->ip_proto, h->dport))
				continue;
			if (h->ip_proto != k->ports[want].ip_proto ||
			    h->dport != k->ports[want].port)
				break;
			first = h;
			want--;
		}
		if (want >= 0)
			continue;
		bool allow = knock_src_allowlisted(&d->cfg.knock_allowlist, &key->src);
		knock_alert_begin(d, "PortKnock::Known_Sequence",
				  allow ? SEV_INFO : d->cfg.known_sequence_severity, last->ts,
				  &key->src, &key->dst, last);
		struct alert *a = &d->scratch;
		char name[KNOCK_NAME_MAX + 8];
		if (k->name[0])
			snprintf(name, sizeof(name), "%s", k->name);
		else
			snprintf(name, sizeof(name), "known-%zu", ki + 1);
		snprintf(a->policy_rule, sizeof(a->policy_rule), "known:%s", name);
		struct jsonw j;
		jsonw_init(&j, a->evidence, sizeof(a->evidence), JSONW_ESCAPE_MINIMAL);
		jsonw_object_begin(&j);
		jsonw_key(&j, "known_sequence");
		jsonw_string(&j, name);
		jsonw_key(&j, "ports");
		jsonw_array_begin(&j);
		for (unsigned i = 0; i < k->n_ports; i++) {
			char port[24]; /* "65535/icmp" */
			snprintf(port, sizeof(port), "%u/%s", k->ports[i].port,
				 knock_proto_name(k->ports[i].ip_proto));
			jsonw_string(&j, port);
		}
		jsonw_array_end(&j);
		jsonw_key(&j, "n_ports");
		jsonw_u64(&j, k->n_ports);
		jsonw_key(&j, "span_ms");
		jsonw_ms(&j, last->ts - first->ts);
		jsonw_key(&j, "allowlisted");
		jsonw_bool(&j, allow);
		jsonw_object_end(&j);
		if (jsonw_overflowed(&j))
			snprintf(a->evidence, sizeof(a->evidence), "{\"known_sequence\":\"%s\"}",
				 name);
		char s1[KG_ADDR_STRLEN], s2[KG_ADDR_STRLEN];
		addr_format(&key->src, s1);
		addr_format(&key->dst, s2);
		snprintf(a->msg, sizeof(a->msg), "%s sent the known knock sequence %s to %s.", s1,
			 name, s2);
		knock_alert_emit(d);
	}
}

/* ---------------------------------------------------------------- lifecycle */

static void resolve(struct knock_detector *d, uint32_t ps, uint32_t i, uint8_t outcome,
		    uint8_t icmp_type, uint8_t icmp_code, kg_time ts)
{
	struct knock_hit *h = &d->hit[i];
	uint8_t before = h->outcome;
	if (before != KNOCK_PENDING) {
		if (before == KNOCK_FILTERED_SILENT && outcome == KNOCK_OPEN) {
			/* A retransmitted SYN got through: the port opened meanwhile. */
			h->flags |= HIT_WAS_SILENT;
			d->stats.outcomes[KNOCK_FILTERED_SILENT]--;
			d->stats.outcomes_late_open++;
		} else {
			if (before == KNOCK_FILTERED_SILENT &&
			    (outcome == KNOCK_CLOSED_RST || outcome == KNOCK_CLOSED_ICMP)) {
				/* A late answer names the kind of closed; nothing else changes. */
				d->stats.outcomes[before]--;
				d->stats.outcomes[outcome]++;
				h->outcome = outcome;
				h->icmp_type = icmp_type;
				h->icmp_code = icmp_code;
			}
			return;
		}
	}
	pend_unlink(d, i);
	h->outcome = outcome;
	h->icmp_type = icmp_type;
	h->icmp_code = icmp_code;
	d->stats.outcomes[outcome]++;
	const struct knock_pair_key *key = knock_pair_key_of(d, ps);
	struct knock_pair_key k = *key; /* stable copy: callbacks below may evict */

	if (knock_failed(outcome)) {
		struct knock_closed *c = closed_get(d, &k.dst, h->ip_proto, h->dport, ts);
		if (!c->has_fail || h->ts >= c->fail_ts) {
			c->has_fail = true;
			c->fail_ts = h->ts;
			c->fail_src = k.src;
			c->fail_outcome = outcome;
			c->fail_icmp_type = icmp_type;
			c->fail_icmp_code = icmp_code;
			copy_uid(c->fail_uid, h->uid);
		}
		scan_account(d, &k.src, &k.dst, h);
	} else if (outcome == KNOCK_OPEN) {
		knock_on_open(d, ps, i, ts);
		struct knock_closed *c = closed_get(d, &k.dst, h->ip_proto, h->dport, ts);
		c->has_open = true;
		c->open_ts = ts;
	}
	if (h->flags & HIT_SPA_SHAPE)
		spa_resolved(d, &k.src, &k.dst, h);
}

static void expire(struct knock_detector *d, kg_time now)
{
	const kg_time tout[2] = {d->cfg.t_outcome_tcp, d->cfg.t_outcome_udp};
	for (;;) {
		/* Oldest deadline of the two lists first, so events stay in time order. */
		int l = -1;
		kg_time best = 0;
		for (int k = 0; k < 2; k++) {
			uint32_t i = d->pend_head[k];
			if (i == NONE)
				continue;
			kg_time due = d->hit[i].ts + tout[k];
			if (due <= now && (l < 0 || due < best)) {
				l = k;
				best = due;
			}
		}
		if (l < 0)
			break;
		uint32_t i = d->pend_head[l];
		resolve(d, d->hit[i].pair, i, KNOCK_FILTERED_SILENT, 0, 0, best);
	}
	while (d->run_head != NONE && d->pair[d->run_head].run_last_ts + d->cfg.max_gap < now) {
		uint32_t ps = d->run_head;
		run_unlink(d, ps);
		knock_finalize_runs(d, ps);
	}
	uint32_t s;
	while ((s = lru_map_oldest(&d->pairs)) != NONE &&
	       lru_map_touched(&d->pairs, s) + d->cfg.w_closed < now) {
		if (d->pair[s].in_run_list) {
			run_unlink(d, s);
			knock_finalize_runs(d, s);
		}
		pair_release(d, s);
		lru_map_remove(&d->pairs, s);
		d->stats.pairs_expired++;
	}
	while ((s = lru_map_oldest(&d->closed)) != NONE &&
	       lru_map_touched(&d->closed, s) + d->cfg.w_closed < now)
		lru_map_remove(&d->closed, s);
	while ((s = lru_map_oldest(&d->seqs)) != NONE &&
	       lru_map_touched(&d->seqs, s) + d->cfg.seq_memory_ttl < now)
		lru_map_remove(&d->seqs, s);
	while ((s = lru_map_oldest(&d->scans)) != NONE &&
	       lru_map_touched(&d->scans, s) + d->cfg.scan_window < now)
		lru_map_remove(&d->scans, s);
	while ((s = lru_map_oldest(&d->spas)) != NONE &&
	       lru_map_touched(&d->spas, s) + d->cfg.spa_window < now)
		lru_map_remove(&d->spas, s);
}

void knock_tick(struct knock_detector *d, kg_time now)
{
	if (d->cfg.enabled)
		expire(d, now);
}

void knock_attempt(struct knock_detector *d, const struct knock_attempt *a)
{
	if (!d->cfg.enabled)
		return;
	expire(d, a->ts);
	const struct knock_flow *f = &a->flow;
	/* Not an attempt: backscatter or a teardown (RST), the answer to a SYN we
	 * missed (SYN-ACK), or a connection picked up mid-stream (data, no SYN).
	 * FIN, ACK, NULL and XMAS probes without data still count: knockd's
	 * TCPFlags allows them and scanners use them. */
	if (f->ip_proto == 6 && ((a->tcp_flags & TCPF_RST) ||
				 (a->tcp_flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK) ||
				 (!(a->tcp_flags & TCPF_SYN) && a->payload_len > 0))) {
		d->stats.attempts_ignored++;
		return;
	}
	if (knock_dst_is_group(&f->dst) || knock_port_is_traceroute(f->ip_proto, f->dport)) {
		d->stats.attempts_ignored++;
		return;
	}
	uint32_t ps;
	uint32_t dup = hit_find(d, f, &ps);
	if (dup != NONE && d->hit[dup].outcome == KNOCK_PENDING) {
		/* The same flow announced twice: count it as a repeat of the first packet. */
		knock_retransmit(d, f, a->ts);
		return;
	}
	d->stats.attempts++;
	ps = pair_get(d, &f->src, &f->dst, a->ts);
	struct knock_pair *p = &d->pair[ps];
	if (p->q_len >= d->cfg.ring_size) {
		pair_pop_oldest(d, ps);
		d->stats.attempts_ring_dropped++;
	}
	uint32_t i = hit_alloc(d, ps);
	if (i == NONE)
		return; /* cannot happen with pool >= ring (config check); counted above */
	p = &d->pair[ps];
	struct knock_hit *h = &d->hit[i];
	memset(h, 0, sizeof(*h));
	h->ts = a->ts;
	h->next = NONE;
	h->pair = ps;
	h->ip_proto = f->ip_proto;
	h->sport = f->sport;
	h->dport = f->dport;
	h->tcp_flags = a->tcp_flags;
	h->ttl = a->ttl;
	h->window = a->window;
	h->syn_fp = a->syn_fp;
	h->payload_len = (uint16_t)(a->payload_len > UINT16_MAX ? UINT16_MAX : a->payload_len);
	h->outcome = KNOCK_PENDING;
	copy_uid(h->uid, a->uid);
	if (d->cfg.spa_enabled && f->ip_proto != 6 && a->payload_len >= d->cfg.spa_min_len) {
		struct knock_spa_features sf;
		knock_spa_features(&d->cfg, a->payload, a->payload_caplen, a->payload_len, &sf);
		if (sf.shape) {
			h->flags |= HIT_SPA_SHAPE;
			h->spa_entropy_centi = sf.entropy_centi;
			h->spa_b64_permille = sf.b64_permille;
			spa_register(d, &f->src, &f->dst, h);
		}
	}
	if (p->q_tail != NONE)
		d->hit[p->q_tail].next = i;
	else
		p->q_head = i;
	p->q_tail = i;
	p->q_len++;
	pend_append(d, i);

	p->run_last_ts = a->ts;
	run_unlink(d, ps);
	run_append(d, ps);
	if (d->cfg.n_known)
		known_check(d, ps, i);
	if (d->cfg.in_progress_enabled)
		knock_in_progress_check(d, ps, i);
}

void knock_outcome(struct knock_detector *d, const struct knock_flow *f, enum knock_outcome o,
		   uint8_t icmp_type, uint8_t icmp_code, kg_time ts, const char *uid)
{
	if (!d->cfg.enabled || o == KNOCK_PENDING || (unsigned)o > KNOCK_BLOCKED_BY_GUARD)
		return;
	expire(d, ts);
	uint32_t ps;
	uint32_t i = hit_find(d, f, &ps);
	if (i == NONE) {
		d->stats.outcomes_unmatched++;
		return;
	}
	if (uid && !d->hit[i].uid[0])
		copy_uid(d->hit[i].uid, uid);
	lru_map_touch(&d->pairs, ps, ts);
	resolve(d, ps, i, (uint8_t)o, icmp_type, icmp_code, ts);
}

void knock_retransmit(struct knock_detector *d, const struct knock_flow *f, kg_time ts)
{
	if (!d->cfg.enabled)
		return;
	expire(d, ts);
	uint32_t ps;
	uint32_t i = hit_find(d, f, &ps);
	if (i == NONE) {
		d->stats.retransmits_unmatched++;
		return;
	}
	d->stats.retransmits++;
	if (d->hit[i].retransmits < UINT8_MAX)
		d->hit[i].retransmits++;
}
