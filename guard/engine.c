/* The engine: decoder -> connection table -> events. Pure: no syscalls. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/service.h"
#include "decode/icmp_error.h"
#include "flow/flow.h"
#include "flow/table.h"
#include "util/uid.h"

/* Detectors age their state at most this often (they also age on every call). */
#define DETECT_TICK_EVERY KG_MSEC(100)

struct engine {
	struct engine_config cfg;
	struct engine_sink sink;
	struct decoder *dec;
	struct flow_table *flows;
	struct flow_timeouts timeouts;
	struct uid_gen uids;
	struct netset default_local;
	const struct netset *local;
	struct engine_stats stats;
	struct analysis *analysis;
	struct detect *detect;
	kg_time last_detect_tick, now;
	struct alert alert_scratch;
	struct policy policy;
	enum verdict verdict; /* of the packet being processed */
	struct packet pkt; /* reused for every packet: no allocation per packet */
};

static void on_service(void *ctx, struct conn *c, const struct service_match *m, kg_time ts)
{
	struct engine *e = ctx;
	detect_service(e->detect, c, m, ts);
}

static void on_http(void *ctx, const struct http_record *r)
{
	struct engine *e = ctx;
	if (e->sink.http_done)
		e->sink.http_done(e->sink.ctx, r);
	detect_http(e->detect, r);
}

static uint8_t ip_proto_of(enum transport t)
{
	switch (t) {
	case TRANSPORT_TCP:
		return IPPROTO_NUM_TCP;
	case TRANSPORT_UDP:
		return IPPROTO_NUM_UDP;
	default:
		return 0;
	}
}

/* Detectors that see only part of a flow leave its state out of the alert:
 * fill it from the connection while it is still in the table. */
static struct conn *enrich_alert(struct engine *e, struct alert *a)
{
	uint8_t proto = ip_proto_of(a->proto);
	if (!proto)
		return NULL;
	struct packet probe;
	memset(&probe, 0, sizeof(probe));
	probe.src = a->orig_h;
	probe.dst = a->resp_h;
	probe.sport = a->orig_p;
	probe.dport = a->resp_p;
	probe.ip_proto = proto;
	struct flow_key k;
	flow_key_from_packet(&probe, &k);
	struct conn *c = flow_table_lookup(e->flows, &k);
	if (!c || strcmp(c->uid, a->uid) != 0)
		return NULL;
	if (!a->service[0] && c->service_state == 1)
		snprintf(a->service, sizeof(a->service), "%s", service_name(c->service));
	if (!a->history[0])
		memcpy(a->history, c->history, sizeof(a->history));
	if (!a->orig_bytes && !a->resp_bytes && c->proto == TRANSPORT_TCP) {
		a->orig_bytes = tcp_endpoint_size(c, true);
		a->resp_bytes = tcp_endpoint_size(c, false);
	}
	return c;
}

/* The decide stage: monitor flags the offender, enforce blocks it and drops
 * the rest of the flow, this packet included. */
/* Returns true when it blocked or dropped something: an enforcement event,
 * which is always logged, even for a repeat the detector would not log. */
static bool decide(struct engine *e, struct alert *a, struct conn *c)
{
	struct policy_decision d;
	policy_decide(&e->policy, a, e->now, &d);
	if (d.drop_flow) {
		if (c)
			c->dropped = true;
		e->verdict = VERDICT_DROP;
	}
	if (d.action == POLICY_NONE)
		return d.drop_flow;
	a->blocked = d.action == POLICY_BLOCK;
	if (e->sink.action) {
		struct engine_action act = {
			.action = d.action, .addr = d.addr, .timeout = d.timeout, .cause = a};
		e->sink.action(e->sink.ctx, &act);
	}
	return d.action == POLICY_BLOCK || d.drop_flow;
}

static void on_alert(void *ctx, const struct alert *a)
{
	struct engine *e = ctx;
	e->alert_scratch = *a;
	struct conn *c = enrich_alert(e, &e->alert_scratch);
	bool enforced = decide(e, &e->alert_scratch, c);
	if (a->repeat && !enforced)
		return; /* already logged once, and nothing new was done */
	e->stats.alerts++;
	if (e->sink.alert)
		e->sink.alert(e->sink.ctx, &e->alert_scratch);
}

void engine_config_defaults(struct engine_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_flows = 262144;
	cfg->uid_seed = 1;
	cfg->frag_max_datagrams = 1024;
	cfg->content_slots = 16384;
	cfg->http_slots = 1024;
}

struct engine *engine_create(const struct engine_config *cfg, const struct engine_sink *sink)
{
	struct engine *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->cfg = *cfg;
	e->sink = *sink;
	struct decoder_config dc = {
		.ignore_checksums = cfg->ignore_checksums,
		.frag_max_datagrams = cfg->frag_max_datagrams,
		.frag_timeout = KG_SEC(30),
	};
	e->dec = decoder_create(&dc);
	e->flows = flow_table_create(cfg->max_flows, cfg->uid_seed ^ 0x6b6e6f636b677264ULL);
	if (!e->dec || !e->flows) {
		engine_destroy(e);
		return NULL;
	}
	flow_timeouts_default(&e->timeouts);
	uid_gen_init(&e->uids, cfg->uid_seed);
	if (cfg->local_nets) {
		e->local = cfg->local_nets;
	} else {
		netset_zeek_local_default(&e->default_local);
		e->local = &e->default_local;
	}
	struct policy_config pc;
	if (cfg->policy)
		pc = *cfg->policy;
	else
		policy_config_defaults(&pc);
	policy_init(&e->policy, &pc);
	struct analysis_sinks as = {.ctx = e, .service = on_service, .http = on_http};
	e->analysis = analysis_create(cfg->content_slots, cfg->http_slots, &as);
	struct detect_sink ds = {.ctx = e, .alert = on_alert};
	struct detect_config *defaults = NULL;
	const struct detect_config *detect_cfg = cfg->detect;
	if (!detect_cfg) {
		defaults = malloc(sizeof(*defaults));
		if (defaults)
			detect_config_defaults(defaults);
		detect_cfg = defaults;
	}
	e->detect = detect_cfg ? detect_create(detect_cfg, e->local, cfg->uid_seed, &ds) : NULL;
	free(defaults);
	if (!e->analysis || !e->detect) {
		engine_destroy(e);
		return NULL;
	}
	return e;
}

void engine_destroy(struct engine *e)
{
	if (!e)
		return;
	decoder_destroy(e->dec);
	flow_table_destroy(e->flows);
	analysis_destroy(e->analysis);
	detect_destroy(e->detect);
	free(e);
}

static void remove_conn(struct engine *e, struct conn *c)
{
	struct conn_record rec;
	/* HTTP transactions still open are flushed before the record goes out. */
	analysis_conn_done(e->analysis, c);
	conn_fill_record(c, e->local, &rec);
	if (c->service_log)
		snprintf(rec.service, sizeof(rec.service), "%s", c->service_log);
	detect_conn_done(e->detect, c, &rec);
	if (e->sink.conn_done)
		e->sink.conn_done(e->sink.ctx, &rec);
	e->stats.records++;
	flow_table_remove(e->flows, c);
}

/* Network time moves to `now`: every timer due by then fires first, as in
 * Zeek, so a packet after its flow's deadline starts a new connection. */
static void expire_due(struct engine *e, kg_time now)
{
	if (now > e->now)
		e->now = now;
	if (now - e->last_detect_tick >= DETECT_TICK_EVERY) {
		e->last_detect_tick = now;
		detect_tick(e->detect, now);
	}
	struct conn *c;
	while ((c = flow_table_due(e->flows, now)) != NULL) {
		if (conn_expire(c, now, &e->timeouts))
			remove_conn(e, c);
		else
			flow_table_schedule(e->flows, c, conn_next_deadline(c));
	}
}

static struct conn *new_conn(struct engine *e, const struct packet *p, const struct flow_key *k)
{
	struct conn *c = flow_table_insert(e->flows, k);
	if (!c) {
		/* Full: the connection idle the longest makes room, and is logged. */
		struct conn *victim = flow_table_oldest(e->flows);
		if (!victim)
			return NULL;
		remove_conn(e, victim);
		e->stats.flows_evicted++;
		c = flow_table_insert(e->flows, k);
		if (!c)
			return NULL;
	}
	conn_init(c, p, flow_flip_at_creation(p), p->ts, &e->timeouts);
	uid_next(&e->uids, c->uid);
	e->stats.flows_created++;
	return c;
}

/* Whether ConnSize sees this packet (it runs after the protocol's checks). */
static bool counted_by_connsize(const struct conn *c, const struct packet *p)
{
	switch (c->proto) {
	case TRANSPORT_TCP:
	case TRANSPORT_UDP:
		return p->csum != L4_CSUM_BAD;
	case TRANSPORT_ICMP:
		return p->csum != L4_CSUM_BAD && !p->truncated;
	case TRANSPORT_UNKNOWN:
		return true;
	}
	return false;
}

/* An unreachable quoting one of our flows is that flow's knock outcome. */
static void icmp_error_outcome(struct engine *e, const struct packet *p)
{
	struct icmp_quoted_flow q;
	if (!icmp_quoted_flow(p, &q))
		return;
	struct knock_flow f = {.src = q.src, .dst = q.dst, .sport = q.sport, .dport = q.dport,
			       .ip_proto = q.ip_proto};
	struct packet quoted;
	memset(&quoted, 0, sizeof(quoted));
	quoted.src = q.src;
	quoted.dst = q.dst;
	quoted.ip_proto = q.ip_proto;
	quoted.sport = q.sport;
	quoted.dport = q.dport;
	struct flow_key k;
	flow_key_from_packet(&quoted, &k);
	const struct conn *c = flow_table_lookup(e->flows, &k);
	detect_icmp_error(e->detect, &f, p->icmp_type, p->icmp_code, p->ts, c ? c->uid : NULL);
}

static void process_packet(struct engine *e, const struct packet *p)
{
	struct flow_key k;
	flow_key_from_packet(p, &k);
	struct conn *c = flow_table_lookup(e->flows, &k);
	if (c && c->proto == TRANSPORT_TCP && tcp_is_reuse(c, p)) {
		remove_conn(e, c);
		c = NULL;
	}
	bool fresh = false;
	if (!c) {
		c = new_conn(e, p, &k);
		if (!c)
			return;
		fresh = true;
	}
	if (p->l4_header_bad) {
		/* Zeek creates the connection, then ignores the packet. */
		flow_table_touch(e->flows, c);
		flow_table_schedule(e->flows, c, conn_next_deadline(c));
		return;
	}
	if (c->dropped)
		e->verdict = VERDICT_DROP; /* enforce cut this flow: still logged, never forwarded */
	bool is_orig = conn_packet_is_orig(c, p);
	switch (c->proto) {
	case TRANSPORT_TCP:
		tcp_process(c, p, is_orig, &e->timeouts);
		/* A TCP flip inside this packet (^h) counts it with the new
		 * roles (core.conn-size-flip); an application analyzer's flip
		 * (DNS) leaves ConnSize with the old direction. */
		is_orig = conn_packet_is_orig(c, p);
		break;
	case TRANSPORT_UDP:
		udp_process(c, p, is_orig, &e->timeouts);
		break;
	case TRANSPORT_ICMP:
		icmp_process(c, p, is_orig);
		break;
	case TRANSPORT_UNKNOWN:
		unknown_ip_process(c, p, is_orig);
		break;
	}
	if (counted_by_connsize(c, p))
		conn_count_packet(c, is_orig, p->ip_len);
	if (fresh)
		detect_conn_new(e->detect, c, p);
	else
		detect_conn_packet(e->detect, c, p, is_orig);
	analysis_packet(e->analysis, c, p, is_orig);
	if (c->proto == TRANSPORT_ICMP && p->csum != L4_CSUM_BAD && icmp_is_unreachable(p))
		icmp_error_outcome(e, p);
	flow_table_touch(e->flows, c);
	flow_table_schedule(e->flows, c, conn_next_deadline(c));
}

static enum verdict finish_packet(struct engine *e)
{
	e->stats.flows_active = flow_table_count(e->flows);
	if (e->verdict == VERDICT_DROP)
		e->stats.verdict_drop++;
	else
		e->stats.verdict_accept++;
	return e->verdict;
}

enum verdict engine_frame(struct engine *e, int linktype, kg_time ts, const uint8_t *frame,
			  uint32_t caplen)
{
	e->stats.packets++;
	expire_due(e, ts);
	e->verdict = VERDICT_ACCEPT;
	if (decoder_frame(e->dec, linktype, ts, frame, caplen, &e->pkt) == DECODE_OK)
		process_packet(e, &e->pkt);
	return finish_packet(e);
}

enum verdict engine_ip_packet_flags(struct engine *e, kg_time ts, const uint8_t *ip,
				    uint32_t caplen, unsigned flags)
{
	e->stats.packets++;
	expire_due(e, ts);
	e->verdict = VERDICT_ACCEPT;
	if (decoder_ip_flags(e->dec, ts, ip, caplen, flags, &e->pkt) == DECODE_OK)
		process_packet(e, &e->pkt);
	return finish_packet(e);
}

enum verdict engine_ip_packet(struct engine *e, kg_time ts, const uint8_t *ip, uint32_t caplen)
{
	return engine_ip_packet_flags(e, ts, ip, caplen, 0);
}

enum verdict engine_decoded(struct engine *e, const struct packet *p)
{
	e->stats.packets++;
	expire_due(e, p->ts);
	e->verdict = VERDICT_ACCEPT;
	process_packet(e, p);
	return finish_packet(e);
}

void engine_tick(struct engine *e, kg_time now)
{
	expire_due(e, now);
	e->stats.flows_active = flow_table_count(e->flows);
}

void engine_finish(struct engine *e)
{
	/* Zeek drains every remaining connection with the state it has now. */
	size_t cap = flow_table_capacity(e->flows);
	for (size_t i = 0; i < cap; i++) {
		struct conn *c = flow_table_at(e->flows, i);
		if (c)
			remove_conn(e, c);
	}
	detect_finish(e->detect, e->now);
	e->stats.flows_active = 0;
}

void engine_set_mode(struct engine *e, enum policy_mode m)
{
	policy_set_mode(&e->policy, m);
}

void engine_set_policy(struct engine *e, const struct policy_config *cfg)
{
	struct policy_stats keep = e->policy.stats;
	policy_init(&e->policy, cfg);
	e->policy.stats = keep;
}

enum policy_mode engine_mode(const struct engine *e)
{
	return e->policy.cfg.mode;
}

const struct policy_stats *engine_policy_stats(const struct engine *e)
{
	return &e->policy.stats;
}

const struct engine_stats *engine_stats(const struct engine *e)
{
	return &e->stats;
}

const struct decoder_stats *engine_decoder_stats(const struct engine *e)
{
	return decoder_stats(e->dec);
}

const struct analysis_stats *engine_analysis_stats(const struct engine *e)
{
	return analysis_stats(e->analysis);
}

const struct detect *engine_detect(const struct engine *e)
{
	return e->detect;
}
