/* §A.7 on every successful open: the run of failed attempts before it, scan
 * versus knock, "was the port closed before", the score, and the alerts
 * Sequence_Then_Access, Scan_Then_Access, SPA_Then_Access; and at the end of a
 * run without access, the repetition memory and Repeated_Sequence. */
#include "detect/knock_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define NONE LRU_NONE
#define SEQ_SHOWN_MAX 16

/* A run of attempts, oldest first. */
struct knock_run {
	uint32_t idx[KNOCK_RING_MAX];
	unsigned n;
	unsigned k; /* distinct (proto, port) */
	uint64_t tuple_hash;
};

struct closed_info {
	bool yes;
	bool by_src, same_flow;
	kg_time ts;
	char uid[KNOCK_UID_MAX];
	const char *outcome;
	char lb[16];
};

struct gap_stats {
	kg_time span, min, median, max;
	double cv;
};

static unsigned chron(const struct knock_detector *d, uint32_t ps, uint32_t out[KNOCK_RING_MAX])
{
	unsigned n = 0;
	for (uint32_t i = d->pair[ps].q_head; i != NONE && n < KNOCK_RING_MAX; i = d->hit[i].next)
		out[n++] = i;
	return n;
}

static bool same_port(const struct knock_hit *a, const struct knock_hit *b)
{
	return a->ip_proto == b->ip_proto && a->dport == b->dport;
}

static void run_summarize(const struct knock_detector *d, struct knock_run *r)
{
	r->k = 0;
	r->tuple_hash = KNOCK_FNV_INIT;
	for (unsigned i = 0; i < r->n; i++) {
		const struct knock_hit *h = &d->hit[r->idx[i]];
		bool seen = false;
		for (unsigned j = 0; j < i && !seen; j++)
			seen = same_port(h, &d->hit[r->idx[j]]);
		if (!seen)
			r->k++;
		uint8_t t[3] = {h->ip_proto, (uint8_t)(h->dport >> 8), (uint8_t)h->dport};
		r->tuple_hash = knock_fnv64(r->tuple_hash, t, sizeof(t));
	}
}

static void gaps(const struct knock_detector *d, const struct knock_run *r, struct gap_stats *g)
{
	memset(g, 0, sizeof(*g));
	if (r->n < 2)
		return;
	kg_time v[KNOCK_RING_MAX];
	unsigned m = 0;
	double sum = 0;
	for (unsigned i = 1; i < r->n; i++) {
		v[m] = d->hit[r->idx[i]].ts - d->hit[r->idx[i - 1]].ts;
		sum += (double)v[m];
		m++;
	}
	g->span = d->hit[r->idx[r->n - 1]].ts - d->hit[r->idx[0]].ts;
	for (unsigned i = 1; i < m; i++) /* insertion sort, m < 32 */
		for (unsigned j = i; j > 0 && v[j - 1] > v[j]; j--) {
			kg_time t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	g->min = v[0];
	g->max = v[m - 1];
	g->median = m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
	double mean = sum / m, var = 0;
	for (unsigned i = 0; i < m; i++)
		var += ((double)v[i] - mean) * ((double)v[i] - mean);
	g->cv = mean > 0 ? sqrt(var / m) / mean : 0;
}

/* Step 1: failed attempts before t, not to the accessed port, the newest within
 * d_post of t, consecutive gaps <= max_gap, span <= w_seq. */
static void access_run(const struct knock_detector *d, uint32_t ps, uint32_t si, kg_time t,
		       struct knock_run *r)
{
	const struct knock_hit *s = &d->hit[si];
	uint32_t all[KNOCK_RING_MAX], cand[KNOCK_RING_MAX];
	unsigned n = chron(d, ps, all), m = 0;
	for (unsigned i = 0; i < n; i++) {
		const struct knock_hit *h = &d->hit[all[i]];
		if (all[i] == si || !knock_failed_or_pending(h->outcome) || same_port(h, s) ||
		    h->ts > t || t - h->ts > d->cfg.d_post + d->cfg.w_seq)
			continue;
		cand[m++] = all[i];
	}
	r->n = 0;
	if (m == 0 || t - d->hit[cand[m - 1]].ts > d->cfg.d_post)
		return;
	kg_time last = d->hit[cand[m - 1]].ts;
	unsigned first = m - 1;
	while (first > 0) {
		kg_time prev = d->hit[cand[first - 1]].ts;
		if (d->hit[cand[first]].ts - prev > d->cfg.max_gap || last - prev > d->cfg.w_seq)
			break;
		first--;
	}
	for (unsigned i = first; i < m; i++)
		r->idx[r->n++] = cand[i];
	run_summarize(d, r);
}

/* Did src succeed on (proto, port) of `s` between `from` and `to` (exclusive)? */
static bool src_opened_between(const struct knock_detector *d, uint32_t ps, uint32_t si,
			       kg_time from, kg_time to)
{
	const struct knock_hit *s = &d->hit[si];
	for (uint32_t i = d->pair[ps].q_head; i != NONE; i = d->hit[i].next) {
		const struct knock_hit *h = &d->hit[i];
		if (i != si && h->outcome == KNOCK_OPEN && same_port(h, s) && h->ts > from &&
		    h->ts < to)
			return true;
	}
	return false;
}

/* Step 4: was the accessed port closed or filtered before `ref` (the first hit
 * of the run, or the SPA packet)? */
static void closed_before(struct knock_detector *d, uint32_t ps, uint32_t si, kg_time ref,
			  kg_time t, struct closed_info *ci)
{
	const struct knock_hit *s = &d->hit[si];
	memset(ci, 0, sizeof(*ci));
	/* The access itself went unanswered first and got through on a retry. */
	if ((s->flags & HIT_WAS_SILENT) || (s->retransmits > 0 && t - s->ts >= KG_MSEC(500))) {
		ci->yes = ci->by_src = ci->same_flow = true;
		ci->ts = s->ts;
		snprintf(ci->uid, sizeof(ci->uid), "%s", s->uid);
		ci->outcome = "S0";
		return;
	}
	/* src's own earlier failure on the port ("try, knock, retry"). */
	const struct knock_hit *own = NULL;
	for (uint32_t i = d->pair[ps].q_head; i != NONE; i = d->hit[i].next) {
		const struct knock_hit *h = &d->hit[i];
		if (i == si || !same_port(h, s) || h->ts >= t || h->ts < ref - d->cfg.w_closed)
			continue;
		if (knock_failed(h->outcome) || (h->outcome == KNOCK_PENDING && h->ts < ref))
			own = h;
	}
	if (own && !src_opened_between(d, ps, si, own->ts, ref)) {
		ci->yes = ci->by_src = true;
		ci->ts = own->ts;
		snprintf(ci->uid, sizeof(ci->uid), "%s", own->uid);
		ci->outcome =
			knock_outcome_label(own->outcome, own->icmp_type, own->icmp_code, ci->lb);
		return;
	}
	/* Anyone's failure there (closed_table). */
	const struct knock_pair_key *key = knock_pair_key_of(d, ps);
	const struct knock_closed *c = knock_closed_lookup(d, &key->dst, s->ip_proto, s->dport);
	if (c && c->has_fail && c->fail_ts >= ref - d->cfg.w_closed && c->fail_ts < t &&
	    !src_opened_between(d, ps, si, c->fail_ts, ref)) {
		ci->yes = true;
		ci->by_src = addr_eq(&c->fail_src, &key->src);
		ci->ts = c->fail_ts;
		snprintf(ci->uid, sizeof(ci->uid), "%s", c->fail_uid);
		ci->outcome = knock_outcome_label(c->fail_outcome, c->fail_icmp_type,
						  c->fail_icmp_code, ci->lb);
	}
}

static uint64_t seq_key(const struct kg_addr *dst, uint64_t tuple_hash)
{
	uint64_t h = knock_fnv64(KNOCK_FNV_INIT, dst->b, 16);
	return knock_fnv64(h, &tuple_hash, sizeof(tuple_hash));
}

static struct knock_seq *seq_find(struct knock_detector *d, const struct kg_addr *dst,
				  uint64_t tuple_hash)
{
	uint64_t k = seq_key(dst, tuple_hash);
	uint32_t s = lru_map_find(&d->seqs, &k);
	return s == NONE ? NULL : &d->seq_v[s];
}

static struct knock_seq *seq_record(struct knock_detector *d, const struct kg_addr *dst,
				    const struct kg_addr *src, uint64_t tuple_hash, kg_time ts)
{
	uint64_t k = seq_key(dst, tuple_hash);
	uint32_t s = lru_map_find(&d->seqs, &k);
	struct knock_seq *q;
	if (s == NONE) {
		bool evicted;
		s = lru_map_insert(&d->seqs, &k, ts, &evicted);
		if (evicted)
			d->stats.seq_evicted++;
		q = &d->seq_v[s];
		memset(q, 0, sizeof(*q));
		q->first_ts = ts;
	} else {
		lru_map_touch(&d->seqs, s, ts);
		q = &d->seq_v[s];
	}
	q->count++;
	q->last_ts = ts;
	bool known = false;
	for (unsigned i = 0; i < q->n_srcs && !known; i++)
		known = addr_eq(&q->srcs[i], src);
	if (!known && q->n_srcs < KNOCK_SEQ_SRCS)
		q->srcs[q->n_srcs++] = *src;
	return q;
}

/* Was this run (same tuple, overlapping in time) already put into seq_memory? */
static bool run_recorded(const struct knock_pair *p, const struct knock_detector *d,
			 const struct knock_run *r)
{
	if (!p->recorded_valid || p->recorded_hash != r->tuple_hash)
		return false;
	kg_time first = d->hit[r->idx[0]].ts, last = d->hit[r->idx[r->n - 1]].ts;
	return first <= p->recorded_last_ts && last >= p->recorded_first_ts;
}

static struct knock_seq *record_run(struct knock_detector *d, uint32_t ps,
				    const struct knock_run *r, kg_time ts)
{
	const struct knock_pair_key *key = knock_pair_key_of(d, ps);
	struct knock_pair *p = &d->pair[ps];
	p->recorded_valid = true;
	p->recorded_hash = r->tuple_hash;
	p->recorded_first_ts = d->hit[r->idx[0]].ts;
	p->recorded_last_ts = d->hit[r->idx[r->n - 1]].ts;
	return seq_record(d, &key->dst, &key->src, r->tuple_hash, ts);
}

/* ---------------------------------------------------------------- evidence */

static void json_sequence(struct jsonw *j, const struct knock_detector *d,
			  const struct knock_run *r, unsigned max_shown)
{
	unsigned from = r->n > max_shown ? r->n - max_shown : 0;
	jsonw_array_begin(j);
	for (unsigned i = from; i < r->n; i++) {
		const struct knock_hit *h = &d->hit[r->idx[i]];
		char lb[16];
		jsonw_object_begin(j);
		jsonw_key(j, "ts");
		jsonw_time(j, h->ts);
		jsonw_key(j, "proto");
		jsonw_string(j, knock_proto_name(h->ip_proto));
		jsonw_key(j, "port");
		jsonw_u64(j, h->dport);
		jsonw_key(j, "outcome");
		jsonw_string(j, knock_outcome_label(h->outcome, h->icmp_type, h->icmp_code, lb));
		jsonw_key(j, "uid");
		jsonw_string(j, h->uid);
		jsonw_object_end(j);
	}
	jsonw_array_end(j);
	if (from) {
		jsonw_key(j, "sequence_truncated");
		jsonw_u64(j, from);
	}
}

static void json_closed(struct jsonw *j, const struct closed_info *ci)
{
	if (!ci->yes) {
		jsonw_null(j);
		return;
	}
	jsonw_object_begin(j);
	jsonw_key(j, "ts");
	jsonw_time(j, ci->ts);
	jsonw_key(j, "uid");
	jsonw_string(j, ci->uid);
	jsonw_key(j, "by_src");
	jsonw_bool(j, ci->by_src);
	jsonw_key(j, "same_flow");
	jsonw_bool(j, ci->same_flow);
	jsonw_key(j, "outcome");
	jsonw_string(j, ci->outcome);
	jsonw_object_end(j);
}

static void json_success(struct jsonw *j, const struct knock_hit *s, kg_time t, kg_time last_hit,
			 const struct closed_info *ci)
{
	jsonw_object_begin(j);
	jsonw_key(j, "uid");
	jsonw_string(j, s->uid);
	jsonw_key(j, "proto");
	jsonw_string(j, knock_proto_name(s->ip_proto));
	jsonw_key(j, "port");
	jsonw_u64(j, s->dport);
	jsonw_key(j, "ts");
	jsonw_time(j, t);
	jsonw_key(j, "delay_after_last_ms");
	jsonw_ms(j, t - last_hit);
	jsonw_key(j, "closed_before");
	json_closed(j, ci);
	jsonw_object_end(j);
}

static void json_seen(struct jsonw *j, const struct knock_seq *q, bool have,
		      const struct kg_addr *src)
{
	if (!have) {
		jsonw_null(j);
		return;
	}
	jsonw_object_begin(j);
	jsonw_key(j, "count");
	jsonw_u64(j, q->count);
	jsonw_key(j, "first_ts");
	jsonw_time(j, q->first_ts);
	jsonw_key(j, "other_srcs");
	jsonw_array_begin(j);
	for (unsigned i = 0; i < q->n_srcs; i++)
		if (!addr_eq(&q->srcs[i], src))
			jsonw_addr(j, &q->srcs[i]);
	jsonw_array_end(j);
	jsonw_object_end(j);
}

/* Everything §A.7 computes about one access. */
struct access_eval {
	struct knock_run run;
	struct gap_stats g;
	struct closed_info ci;
	bool single_packet, fp_consistent, machine_timed, odd_ports, admin_port, udp_small;
	bool have_seen;
	struct knock_seq seen; /* copy, before this run is recorded */
	unsigned non_syn_hits;
	bool allow_knock, allow_scanner;
	int raw_score, score;
	bool scan_like;
	const char *scan_reason;
};

static void json_run_common(struct jsonw *j, const struct knock_detector *d,
			    const struct access_eval *e, unsigned max_shown)
{
	jsonw_key(j, "sequence");
	json_sequence(j, d, &e->run, max_shown);
	jsonw_key(j, "sequence_hash");
	char hash[24];
	snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)e->run.tuple_hash);
	jsonw_string(j, hash);
	jsonw_key(j, "n_ports");
	jsonw_u64(j, e->run.k);
	jsonw_key(j, "n_hits");
	jsonw_u64(j, e->run.n);
	jsonw_key(j, "span_ms");
	jsonw_ms(j, e->g.span);
	jsonw_key(j, "gaps_ms");
	jsonw_object_begin(j);
	jsonw_key(j, "min");
	jsonw_ms(j, e->g.min);
	jsonw_key(j, "median");
	jsonw_ms(j, e->g.median);
	jsonw_key(j, "max");
	jsonw_ms(j, e->g.max);
	jsonw_key(j, "cv");
	jsonw_fixed(j, e->g.cv, 3);
	jsonw_object_end(j);
	jsonw_key(j, "single_packet_hits");
	jsonw_bool(j, e->single_packet);
	jsonw_key(j, "syn_fp_consistent");
	jsonw_bool(j, e->fp_consistent);
	jsonw_key(j, "non_syn_hits");
	jsonw_u64(j, e->non_syn_hits);
}

static void write_access_evidence(struct knock_detector *d, const struct access_eval *e,
				  const struct knock_hit *s, kg_time t, const struct kg_addr *src)
{
	struct alert *a = &d->scratch;
	kg_time last = d->hit[e->run.idx[e->run.n - 1]].ts;
	static const unsigned shown[] = {SEQ_SHOWN_MAX, 8, 4, 0};
	for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
		struct jsonw j;
		jsonw_init(&j, a->evidence, sizeof(a->evidence), JSONW_ESCAPE_MINIMAL);
		jsonw_object_begin(&j);
		json_run_common(&j, d, e, shown[k]);
		jsonw_key(&j, "success");
		json_success(&j, s, t, last, &e->ci);
		jsonw_key(&j, "seen_before");
		json_seen(&j, &e->seen, e->have_seen, src);
		jsonw_key(&j, "score");
		jsonw_i64(&j, e->score);
		jsonw_key(&j, "scan_like");
		jsonw_bool(&j, e->scan_like);
		if (e->scan_reason) {
			jsonw_key(&j, "scan_reason");
			jsonw_string(&j, e->scan_reason);
		}
		jsonw_key(&j, "allowlisted");
		jsonw_bool(&j, e->allow_knock || e->allow_scanner);
		jsonw_object_end(&j);
		if (!jsonw_overflowed(&j))
			return;
	}
	snprintf(a->evidence, sizeof(a->evidence), "{\"score\":%d}", e->score);
}

static void ports_text(const struct knock_detector *d, const struct knock_run *r, char *buf,
		       size_t len)
{
	size_t off = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < r->n && i < 8; i++) {
		int n = snprintf(buf + off, len - off, "%s%u", i ? "," : "",
				 d->hit[r->idx[i]].dport);
		if (n < 0 || (size_t)n >= len - off)
			return;
		off += (size_t)n;
	}
	if (r->n > 8)
		snprintf(buf + off, len - off, ",...");
}

/* ---------------------------------------------------------------- scoring */

static bool is_monotone(const struct knock_detector *d, const struct knock_run *r)
{
	bool up = true, down = true;
	for (unsigned i = 1; i < r->n; i++) {
		uint16_t a = d->hit[r->idx[i - 1]].dport, b = d->hit[r->idx[i]].dport;
		up &= b > a;
		down &= b < a;
	}
	return up || down;
}

/* Step 3: scanner features of the run (and of the source's recent history). */
static const char *scan_reason(struct knock_detector *d, const struct kg_addr *src,
			       const struct access_eval *e, kg_time t)
{
	const struct knock_run *r = &e->run;
	if (r->k > d->cfg.k_max)
		return "many_ports";
	double span_s = (double)e->g.span / KG_NSEC_PER_SEC;
	if (r->k > d->cfg.scan_rate_min_k &&
	    (span_s <= 0 || r->k / span_s > (double)d->cfg.scan_rate))
		return "rate";
	bool fixed_sport = r->n >= 3, nmap_like = true;
	unsigned tcp = 0;
	for (unsigned i = 0; i < r->n; i++) {
		const struct knock_hit *h = &d->hit[r->idx[i]];
		fixed_sport &= h->sport == d->hit[r->idx[0]].sport;
		if (h->ip_proto == 6) {
			tcp++;
			nmap_like &= h->window == 1024 &&
				     (h->syn_fp == d->fp_mss_only || h->syn_fp == 0);
		}
	}
	if (fixed_sport)
		return "fixed_sport";
	if (tcp >= 3 && nmap_like)
		return "scanner_syn";
	const struct knock_scan *sc = knock_scan_lookup(d, src);
	if (sc && t - sc->window_start <= d->cfg.scan_window && sc->alerted)
		return "source_scanning"; /* raised Port_Scan in this window */
	return NULL;
}

static void score(struct knock_detector *d, const struct knock_pair_key *key,
		  const struct knock_hit *s, struct access_eval *e)
{
	const struct knock_run *r = &e->run;
	e->single_packet = e->fp_consistent = true;
	unsigned uncommon = 0;
	uint32_t tcp_fp = 0;
	bool have_tcp_fp = false;
	for (unsigned i = 0; i < r->n; i++) {
		const struct knock_hit *h = &d->hit[r->idx[i]];
		e->single_packet &= h->retransmits == 0;
		e->fp_consistent &= h->ttl == s->ttl;
		if (h->ip_proto == 6) {
			if (s->ip_proto == 6)
				e->fp_consistent &= h->syn_fp == s->syn_fp;
			else if (have_tcp_fp)
				e->fp_consistent &= h->syn_fp == tcp_fp;
			tcp_fp = h->syn_fp;
			have_tcp_fp = true;
			if (!(h->tcp_flags & TCPF_SYN) || (h->tcp_flags & TCPF_ACK))
				e->non_syn_hits++;
		}
		if (h->ip_proto == 17 && h->payload_len <= 4)
			e->udp_small = true;
		if (!knock_port_is_common(h->dport))
			uncommon++;
	}
	e->machine_timed = r->n >= 2 && (e->g.max < KG_MSEC(5) || (r->n >= 3 && e->g.cv < 0.5));
	e->odd_ports = r->n >= 3 && !is_monotone(d, r) && uncommon * 2 >= r->n;
	e->admin_port = knock_port_is_admin(s->dport);
	const struct knock_seq *q = seq_find(d, &key->dst, r->tuple_hash);
	if (q) {
		e->seen = *q;
		if (run_recorded(&d->pair[s->pair], d, r))
			e->seen.count--; /* this very run is in the count */
		e->have_seen = e->seen.count > 0;
	}
	int sc = 0;
	sc += e->ci.yes ? 3 : 0;
	sc += e->single_packet ? 2 : 0;
	sc += e->fp_consistent ? 1 : 0;
	sc += e->machine_timed ? 1 : 0;
	sc += e->odd_ports ? 1 : 0;
	sc += e->have_seen ? 2 : 0;
	sc += e->admin_port ? 1 : 0;
	sc += e->udp_small ? 1 : 0;
	e->raw_score = sc;
	e->allow_knock =
		d->cfg.knock_allowlist.n && netset_contains(&d->cfg.knock_allowlist, &key->src);
	e->allow_scanner =
		d->cfg.scanner_allowlist.n && netset_contains(&d->cfg.scanner_allowlist, &key->src);
	e->score = sc - (e->allow_knock || e->allow_scanner ? 3 : 0);
}

/* ---------------------------------------------------------------- alerts */

static void emit_scan_access(struct knock_detector *d, uint32_t ps, const struct knock_hit *s,
			     kg_time t, struct access_eval *e)
{
	const struct knock_pair_key *key = knock_pair_key_of(d, ps);
	struct knock_pair *p = &d->pair[ps];
	if (e->allow_scanner ||
	    (p->scan_access_alerted && t - p->scan_access_alert_ts < d->cfg.scan_window)) {
		d->stats.alerts_suppressed++;
		return;
	}
	p->scan_access_alerted = true;
	p->scan_access_alert_ts = t;
	enum alert_severity sev = e->ci.yes ? SEV_MEDIUM : SEV_LOW;
	knock_alert_begin(d, "PortKnock::Scan_Then_Access", sev, t, &key->src, &key->dst, s);
	write_access_evidence(d, e, s, t, &key->src);
	char s1[KG_ADDR_STRLEN], s2[KG_ADDR_STRLEN];
	addr_format(&key->src, s1);
	addr_format(&key->dst, s2);
	snprintf(d->scratch.msg, sizeof(d->scratch.msg),
		 "%s probed %u ports on %s like a scanner (%s) then connected to %s/%u%s.", s1,
		 e->run.k, s2, e->scan_reason, knock_proto_name(s->ip_proto), s->dport,
		 e->ci.yes ? ", which was closed before" : "");
	knock_alert_emit(d);
}

static void emit_sequence_access(struct knock_detector *d, uint32_t ps, const struct knock_hit *s,
				 kg_time t, struct access_eval *e)
{
	const struct knock_pair_key *key = knock_pair_key_of(d, ps);
	struct knock_pair *p = &d->pair[ps];
	int gate = e->allow_knock ? e->raw_score : e->score;
	if (gate < d->cfg.score_medium)
		return;
	enum alert_severity sev = SEV_MEDIUM;
	if (e->score >= d->cfg.score_high && (e->ci.yes || !d->cfg.high_requires_closed))
		sev = SEV_HIGH;
	if (e->allow_knock)
		sev = SEV_INFO;
	kg_time first = d->hit[e->run.idx[0]].ts;
	bool same_run = p->alert_run_valid && p->alert_run_first_ts == first;
	if (same_run && e->score <= p->alert_run_score) {
		d->stats.alerts_suppressed++; /* this run already alerted at least as strongly */
		return;
	}
	if (!run_recorded(p, d, &e->run))
		record_run(d, ps, &e->run, t);
	p->alert_run_valid = true;
	p->alert_run_first_ts = first;
	p->alert_run_score = e->score;

	knock_alert_begin(d, "PortKnock::Sequence_Then_Access", sev, t, &key->src, &key->dst, s);
	if (e->allow_knock)
		snprintf(d->scratch.policy_rule, sizeof(d->scratch.policy_rule), "knock_allowlist");
	else if (e->allow_scanner)
		snprintf(d->scratch.policy_rule, sizeof(d->scratch.policy_rule),
			 "scanner_allowlist");
	write_access_evidence(d, e, s, t, &key->src);
	char s1[KG_ADDR_STRLEN], s2[KG_ADDR_STRLEN], ports[64];
	addr_format(&key->src, s1);
	addr_format(&key->dst, s2);
	ports_text(d, &e->run, ports, sizeof(ports));
	snprintf(d->scratch.msg, sizeof(d->scratch.msg),
		 "%s hit %u failed ports on %s (%s) then connected to %s/%u%s (score %d).", s1,
		 e->run.k, s2, ports, knock_proto_name(s->ip_proto), s->dport,
		 e->ci.yes ? ", which was closed before" : "", e->score);
	knock_alert_emit(d);
}

/* SPA then access: a candidate for this dst within spa_window, then a success
 * from any source to a port that was closed or filtered before the packet. */
static void spa_access(struct knock_detector *d, uint32_t ps, uint32_t si, kg_time t)
{
	const struct knock_pair_key *key = knock_pair_key_of(d, ps);
	struct knock_spa *sp = knock_spa_lookup(d, &key->dst);
	if (!sp)
		return;
	const struct knock_hit *s = &d->hit[si];
	for (unsigned back = 1; back <= sp->n; back++) {
		struct knock_spa_cand *c =
			&sp->c[(sp->next + KNOCK_SPA_PER_DST - back) % KNOCK_SPA_PER_DST];
		if (c->escalated || c->state == SPA_ANSWERED || c->ts >= t ||
		    t - c->ts > d->cfg.spa_window ||
		    (c->ip_proto == s->ip_proto && c->dport == s->dport))
			continue;
		struct closed_info ci;
		closed_before(d, ps, si, c->ts, t, &ci);
		if (!ci.yes)
			continue;
		c->escalated = true;
		bool allow = d->cfg.knock_allowlist.n &&
			     (netset_contains(&d->cfg.knock_allowlist, &key->src) ||
			      netset_contains(&d->cfg.knock_allowlist, &c->src));
		knock_alert_begin(d, "PortKnock::SPA_Then_Access", allow ? SEV_INFO : SEV_HIGH, t,
				  &key->src, &key->dst, s);
		struct alert *a = &d->scratch;
		if (allow)
			snprintf(a->policy_rule, sizeof(a->policy_rule), "knock_allowlist");
		struct jsonw j;
		jsonw_init(&j, a->evidence, sizeof(a->evidence), JSONW_ESCAPE_MINIMAL);
		jsonw_object_begin(&j);
		jsonw_key(&j, "spa");
		knock_spa_json(&j, &d->cfg, c);
		jsonw_key(&j, "spa_src_is_access_src");
		jsonw_bool(&j, addr_eq(&c->src, &key->src));
		jsonw_key(&j, "success");
		json_success(&j, s, t, c->ts, &ci);
		jsonw_key(&j, "allowlisted");
		jsonw_bool(&j, allow);
		jsonw_object_end(&j);
		if (jsonw_overflowed(&j))
			snprintf(a->evidence, sizeof(a->evidence), "{}");
		char s1[KG_ADDR_STRLEN], s2[KG_ADDR_STRLEN], s3[KG_ADDR_STRLEN];
		addr_format(&c->src, s1);
		addr_format(&key->dst, s2);
		addr_format(&key->src, s3);
		snprintf(
			a->msg, sizeof(a->msg),
			"%s sent an SPA-like %u-byte packet to %s:%u; %lld ms later %s connected to %s/%u, which was closed before.",
			s1, c->len, s2, c->dport, (long long)((t - c->ts) / 1000000), s3,
			knock_proto_name(s->ip_proto), s->dport);
		knock_alert_emit(d);
		return;
	}
}

void knock_on_open(struct knock_detector *d, uint32_t ps, uint32_t si, kg_time t)
{
	const struct knock_hit *s = &d->hit[si];
	if (s->ip_proto != 6 && s->ip_proto != 17)
		return; /* an echo reply unlocks nothing */
	if (d->cfg.spa_enabled)
		spa_access(d, ps, si, t);

	struct access_eval e;
	memset(&e, 0, sizeof(e));
	access_run(d, ps, si, t, &e.run);
	if (e.run.n == 0 || e.run.k < d->cfg.k_min)
		return;
	gaps(d, &e.run, &e.g);
	closed_before(d, ps, si, d->hit[e.run.idx[0]].ts, t, &e.ci);
	const struct knock_pair_key *key = knock_pair_key_of(d, ps);
	score(d, key, s, &e);
	e.scan_reason = scan_reason(d, &key->src, &e, t);
	e.scan_like = e.scan_reason != NULL;
	if (e.scan_like)
		emit_scan_access(d, ps, s, t, &e);
	else
		emit_sequence_access(d, ps, s, t, &e);
}

/* ---------------------------------------------------------------- runs */

static void emit_repeated(struct knock_detector *d, uint32_t ps, const struct knock_run *r,
			  const struct knock_seq *q)
{
	const struct knock_pair_key *key = knock_pair_key_of(d, ps);
	bool allow =
		d->cfg.knock_allowlist.n && netset_contains(&d->cfg.knock_allowlist, &key->src);
	const struct knock_hit *last = &d->hit[r->idx[r->n - 1]];
	knock_alert_begin(d, "PortKnock::Repeated_Sequence", allow ? SEV_INFO : SEV_LOW, last->ts,
			  &key->src, &key->dst, last);
	struct alert *a = &d->scratch;
	if (allow)
		snprintf(a->policy_rule, sizeof(a->policy_rule), "knock_allowlist");
	struct access_eval e;
	memset(&e, 0, sizeof(e));
	e.run = *r;
	gaps(d, r, &e.g);
	e.single_packet = true;
	for (unsigned i = 0; i < r->n; i++)
		e.single_packet &= d->hit[r->idx[i]].retransmits == 0;
	static const unsigned shown[] = {SEQ_SHOWN_MAX, 8, 4, 0};
	for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
		struct jsonw j;
		jsonw_init(&j, a->evidence, sizeof(a->evidence), JSONW_ESCAPE_MINIMAL);
		jsonw_object_begin(&j);
		json_run_common(&j, d, &e, shown[k]);
		jsonw_key(&j, "seen_before");
		json_seen(&j, q, true, &key->src);
		jsonw_key(&j, "allowlisted");
		jsonw_bool(&j, allow);
		jsonw_object_end(&j);
		if (!jsonw_overflowed(&j))
			break;
	}
	char s1[KG_ADDR_STRLEN], s2[KG_ADDR_STRLEN], ports[64];
	addr_format(&key->src, s1);
	addr_format(&key->dst, s2);
	ports_text(d, r, ports, sizeof(ports));
	snprintf(a->msg, sizeof(a->msg),
		 "%s sent the same sequence of failed ports to %s (%s) %u times within %lld h.", s1,
		 s2, ports, q->count, (long long)(d->cfg.seq_memory_ttl / KG_SEC(3600)));
	knock_alert_emit(d);
}

static void finish_run(struct knock_detector *d, uint32_t ps, struct knock_run *r)
{
	if (r->n < d->cfg.k_min)
		return;
	run_summarize(d, r);
	const struct knock_hit *first = &d->hit[r->idx[0]], *last = &d->hit[r->idx[r->n - 1]];
	bool single = true;
	for (unsigned i = 0; i < r->n; i++)
		single &= d->hit[r->idx[i]].retransmits == 0;
	if (r->k < d->cfg.k_min || r->k > d->cfg.k_max || !single ||
	    last->ts - first->ts > d->cfg.w_seq)
		return; /* not knock-shaped */
	const struct knock_pair *p = &d->pair[ps];
	if (p->alert_run_valid && p->alert_run_first_ts >= first->ts &&
	    p->alert_run_first_ts <= last->ts)
		return; /* recorded when its access alerted */
	if (run_recorded(p, d, r))
		return;
	const struct knock_pair_key *key = knock_pair_key_of(d, ps);
	struct knock_seq *q = record_run(d, ps, r, last->ts);
	if (q->count < d->cfg.r_min)
		return;
	if (q->alerted && last->ts - q->alerted_ts < d->cfg.seq_memory_ttl)
		return;
	q->alerted = true;
	q->alerted_ts = last->ts;
	if (d->cfg.scanner_allowlist.n && netset_contains(&d->cfg.scanner_allowlist, &key->src)) {
		d->stats.alerts_suppressed++;
		return;
	}
	struct knock_seq copy = *q;
	emit_repeated(d, ps, r, &copy);
}

void knock_finalize_runs(struct knock_detector *d, uint32_t ps)
{
	uint32_t all[KNOCK_RING_MAX];
	unsigned n = chron(d, ps, all);
	struct knock_run r;
	r.n = 0;
	for (unsigned i = 0; i < n; i++) {
		struct knock_hit *h = &d->hit[all[i]];
		if ((h->flags & HIT_FINALIZED) || !knock_failed_or_pending(h->outcome))
			continue;
		h->flags |= HIT_FINALIZED;
		if (r.n) {
			kg_time prev = d->hit[r.idx[r.n - 1]].ts, start = d->hit[r.idx[0]].ts;
			if (h->ts - prev > d->cfg.max_gap || h->ts - start > d->cfg.w_seq) {
				finish_run(d, ps, &r);
				r.n = 0;
			}
		}
		r.idx[r.n++] = all[i];
	}
	if (r.n)
		finish_run(d, ps, &r);
}
