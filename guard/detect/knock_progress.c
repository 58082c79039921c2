/* A knock sequence still being sent: PortKnock::Sequence_In_Progress. Raised
 * on the attempt that makes the hits so far look like the start of a knock,
 * so that enforce mode can block the source before the sequence completes
 * (the access never happens, so Sequence_Then_Access would come too late). */
#include "detect/knock_internal.h"

#include <stdio.h>
#include <string.h>

#define NONE LRU_NONE

/* An attempt that may be a knock: TCP or UDP, failed or not yet answered,
 * one packet only, not already part of a finished run. */
static bool progress_counts(const struct knock_hit *h)
{
	return (h->ip_proto == 6 || h->ip_proto == 17) && knock_failed_or_pending(h->outcome) &&
	       h->retransmits == 0 && !(h->flags & HIT_FINALIZED);
}

/* The hits of the sequence being sent, oldest first, ending with `newest`:
 * counted hits, each at most max_gap after the one before, all within w_seq
 * of the newest. */
static unsigned progress_hits(const struct knock_detector *d, uint32_t ps, uint32_t newest,
			      uint32_t out[KNOCK_RING_MAX])
{
	uint32_t all[KNOCK_RING_MAX];
	unsigned n = 0;
	for (uint32_t i = d->pair[ps].q_head; i != NONE && n < KNOCK_RING_MAX; i = d->hit[i].next)
		all[n++] = i;
	const struct knock_hit *last = &d->hit[newest];
	uint32_t rev[KNOCK_RING_MAX];
	unsigned m = 0;
	kg_time later = last->ts;
	for (unsigned c = n; c-- > 0;) {
		const struct knock_hit *h = &d->hit[all[c]];
		if (all[c] != newest && !progress_counts(h))
			continue;
		if (later - h->ts > d->cfg.max_gap || last->ts - h->ts > d->cfg.w_seq)
			break;
		rev[m++] = all[c];
		later = h->ts;
	}
	for (unsigned i = 0; i < m; i++)
		out[i] = rev[m - 1 - i];
	return m;
}

static bool same_port(const struct knock_hit *a, const struct knock_hit *b)
{
	return a->ip_proto == b->ip_proto && a->dport == b->dport;
}

static unsigned distinct_ports(const struct knock_detector *d, const uint32_t *idx, unsigned n)
{
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
		bool seen = false;
		for (unsigned j = 0; j < i && !seen; j++)
			seen = same_port(&d->hit[idx[i]], &d->hit[idx[j]]);
		k += !seen;
	}
	return k;
}

static bool port_in(const struct knock_known_sequence *k, uint8_t proto, uint16_t port)
{
	for (unsigned i = 0; i < k->n_ports; i++)
		if (k->ports[i].ip_proto == proto && k->ports[i].port == port)
			return true;
	return false;
}

/* How many of the sequence's first ports the hits end with (knockd's view:
 * hits on other ports do not count), when the newest is one of them; 0 if
 * they are not a prefix. */
static unsigned known_prefix_len(const struct knock_detector *d,
				 const struct knock_known_sequence *k, const uint32_t *idx,
				 unsigned n)
{
	const struct knock_hit *last = &d->hit[idx[n - 1]];
	unsigned best = 0;
	for (unsigned end = 0; end < k->n_ports; end++) {
		if (k->ports[end].ip_proto != last->ip_proto || k->ports[end].port != last->dport)
			continue;
		int want = (int)end;
		for (unsigned c = n; c-- > 0 && want >= 0;) {
			const struct knock_hit *h = &d->hit[idx[c]];
			if (!port_in(k, h->ip_proto, h->dport))
				continue;
			if (h->ip_proto != k->ports[want].ip_proto ||
			    h->dport != k->ports[want].port)
				break;
			want--;
		}
		if (want < 0 && end + 1 > best)
			best = end + 1;
	}
	return best;
}

static void progress_emit(struct knock_detector *d, const struct knock_pair_key *key,
			  const uint32_t *idx, unsigned n, unsigned k_ports,
			  const struct knock_known_sequence *known, size_t known_i)
{
	const struct knock_hit *first = &d->hit[idx[0]], *last = &d->hit[idx[n - 1]];
	bool allow = knock_src_allowlisted(&d->cfg.knock_allowlist, &key->src);
	knock_alert_begin(d, "PortKnock::Sequence_In_Progress", allow ? SEV_INFO : SEV_MEDIUM,
			  last->ts, &key->src, &key->dst, last);
	struct alert *a = &d->scratch;
	char name[KNOCK_NAME_MAX + 8] = "";
	if (known) {
		if (known->name[0])
			snprintf(name, sizeof(name), "%s", known->name);
		else
			snprintf(name, sizeof(name), "known-%zu", known_i + 1);
		snprintf(a->policy_rule, sizeof(a->policy_rule), "known:%s", name);
	}
	if (allow)
		snprintf(a->policy_rule, sizeof(a->policy_rule), "knock_allowlist");

	struct jsonw j;
	char lb[16], ports[48] = ""; /* "7000,8000,...", cut in the message */
	size_t used = 0;
	jsonw_init(&j, a->evidence, sizeof(a->evidence), JSONW_ESCAPE_MINIMAL);
	jsonw_object_begin(&j);
	jsonw_key(&j, "hits");
	jsonw_array_begin(&j);
	for (unsigned i = 0; i < n; i++) {
		const struct knock_hit *h = &d->hit[idx[i]];
		jsonw_object_begin(&j);
		jsonw_key(&j, "proto");
		jsonw_string(&j, knock_proto_name(h->ip_proto));
		jsonw_key(&j, "port");
		jsonw_u64(&j, h->dport);
		jsonw_key(&j, "outcome");
		jsonw_string(&j, knock_outcome_label(h->outcome, h->icmp_type, h->icmp_code, lb));
		jsonw_key(&j, "uid");
		jsonw_string(&j, h->uid);
		jsonw_object_end(&j);
		int w = snprintf(ports + used, sizeof(ports) - used, "%s%u", i ? "," : "",
				 h->dport);
		if (w > 0 && (size_t)w < sizeof(ports) - used)
			used += (size_t)w;
	}
	jsonw_array_end(&j);
	jsonw_key(&j, "n_ports");
	jsonw_u64(&j, k_ports);
	jsonw_key(&j, "min_ports");
	jsonw_u64(&j, d->cfg.in_progress_min_ports);
	jsonw_key(&j, "span_ms");
	jsonw_ms(&j, last->ts - first->ts);
	jsonw_key(&j, "match");
	jsonw_string(&j, known ? "known_prefix" : "uncommon_ports");
	jsonw_key(&j, "known_sequence");
	if (known)
		jsonw_string(&j, name);
	else
		jsonw_null(&j);
	if (known) {
		jsonw_key(&j, "known_ports");
		jsonw_u64(&j, known->n_ports);
	}
	jsonw_key(&j, "allowlisted");
	jsonw_bool(&j, allow);
	jsonw_object_end(&j);
	if (jsonw_overflowed(&j))
		snprintf(a->evidence, sizeof(a->evidence), "{\"n_ports\":%u}", k_ports);

	char s1[KG_ADDR_STRLEN], s2[KG_ADDR_STRLEN];
	addr_format(&key->src, s1);
	addr_format(&key->dst, s2);
	if (known)
		snprintf(a->msg, sizeof(a->msg),
			 "%s sent the first %u knocks (%.40s) of the known sequence %s to %s.", s1,
			 n, ports, name, s2);
	else
		snprintf(
			a->msg, sizeof(a->msg),
			"%s hit %u closed or unanswered uncommon ports (%.40s) of %s one packet each: "
			"a knock sequence in progress.",
			s1, k_ports, ports, s2);
	knock_alert_emit(d);
}

void knock_in_progress_check(struct knock_detector *d, uint32_t ps, uint32_t newest)
{
	const struct knock_hit *last = &d->hit[newest];
	if (!progress_counts(last))
		return;
	struct knock_pair *p = &d->pair[ps];
	if (p->in_progress_alerted && last->ts - p->in_progress_ts < d->cfg.w_seq)
		return;
	uint32_t idx[KNOCK_RING_MAX];
	unsigned n = progress_hits(d, ps, newest, idx);
	unsigned k_ports = distinct_ports(d, idx, n);
	if (k_ports < d->cfg.in_progress_min_ports)
		return;
	struct knock_pair_key key = *knock_pair_key_of(d, ps); /* the sink may evict */
	/* An approved scanner fails on many ports by design; in enforce mode this
	 * alert would block it. */
	if (knock_src_allowlisted(&d->cfg.scanner_allowlist, &key.src)) {
		p->in_progress_alerted = true;
		p->in_progress_ts = last->ts;
		d->stats.alerts_suppressed++;
		return;
	}

	for (size_t ki = 0; ki < d->cfg.n_known; ki++) {
		const struct knock_known_sequence *k = &d->cfg.known[ki];
		if (!knock_known_dst_match(k, &key.dst))
			continue;
		unsigned m = known_prefix_len(d, k, idx, n);
		if (m < d->cfg.in_progress_min_ports)
			continue;
		/* Only the hits that are the prefix: the others are not the knock. */
		uint32_t pre[KNOCK_RING_MAX];
		unsigned np = 0;
		int want = (int)m - 1;
		for (unsigned c = n; c-- > 0 && want >= 0;) {
			const struct knock_hit *h = &d->hit[idx[c]];
			if (h->ip_proto == k->ports[want].ip_proto &&
			    h->dport == k->ports[want].port) {
				pre[KNOCK_RING_MAX - 1 - np++] = idx[c];
				want--;
			}
		}
		p->in_progress_alerted = true;
		p->in_progress_ts = last->ts;
		progress_emit(d, &key, pre + KNOCK_RING_MAX - np, np,
			      distinct_ports(d, pre + KNOCK_RING_MAX - np, np), k, ki);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		if (knock_port_is_common(d->hit[idx[i]].dport))
			return;
	p->in_progress_alerted = true;
	p->in_progress_ts = last->ts;
	progress_emit(d, &key, idx, n, k_ports, NULL, 0);
}
