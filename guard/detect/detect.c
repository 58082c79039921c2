#include "detect/detect.h"

#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"

#define NIL UINT32_MAX

enum { KNOCK_NONE, KNOCK_AWAITING, KNOCK_DECIDED };

/* What the remote policy needs again when the session's bytes grow. */
struct remote_slot {
	struct remote_verdict verdict;
	enum service_id service;
	enum service_confidence confidence;
	const char *fingerprint_id;
	bool standard_port;
	uint32_t next_free;
};

struct detect {
	struct detect_sink sink;
	struct knock_detector *knock;
	struct bits_detector *bits;
	struct remote_policy remote;
	struct inventory *inventory;
	struct remote_slot *slots;
	size_t nslots;
	uint32_t free_slot, next_unused;
	struct detect_stats stats;
};

void detect_config_defaults(struct detect_config *cfg)
{
	knock_config_defaults(&cfg->knock);
	bits_config_defaults(&cfg->bits);
	remote_config_defaults(&cfg->remote);
	cfg->remote_sessions = 16384;
	cfg->inventory_size = INVENTORY_DEFAULT_SIZE;
}

static void emit(void *ctx, const struct alert *a)
{
	struct detect *d = ctx;
	d->stats.alerts++;
	if (d->sink.alert)
		d->sink.alert(d->sink.ctx, a);
}

struct detect *detect_create(const struct detect_config *cfg, const struct netset *local,
			     uint64_t seed, const struct detect_sink *sink)
{
	struct detect *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->sink = *sink;
	struct knock_sink ks = {.ctx = d, .emit = emit};
	d->knock = knock_create(&cfg->knock, local, seed, &ks);
	d->bits = bits_create(&cfg->bits);
	d->inventory = inventory_create(cfg->inventory_size, seed ^ 0x696e76ULL);
	d->nslots = cfg->remote_sessions;
	d->slots = calloc(d->nslots ? d->nslots : 1, sizeof(*d->slots));
	if (!d->knock || !d->bits || !d->inventory || !d->slots) {
		detect_destroy(d);
		return NULL;
	}
	remote_policy_init(&d->remote, &cfg->remote);
	d->free_slot = NIL;
	return d;
}

void detect_destroy(struct detect *d)
{
	if (!d)
		return;
	knock_destroy(d->knock);
	bits_destroy(d->bits);
	inventory_destroy(d->inventory);
	free(d->slots);
	free(d);
}

static void knock_flow_of(const struct conn *c, struct knock_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->src = c->orig_h;
	f->dst = c->resp_h;
	f->sport = c->orig_p;
	f->dport = c->resp_p;
	f->ip_proto = c->ip_proto;
}

static bool is_echo_request(const struct packet *p)
{
	return (p->ip_proto == IPPROTO_NUM_ICMP && p->icmp_type == 8) ||
	       (p->ip_proto == IPPROTO_NUM_ICMPV6 && p->icmp_type == 128);
}

void detect_conn_new(struct detect *d, struct conn *c, const struct packet *p)
{
	if (p->csum == L4_CSUM_BAD || p->l4_header_bad)
		return;
	bool attempt = false;
	switch (c->proto) {
	case TRANSPORT_TCP:
		/* A SYN, or a stray packet with no state (non-SYN knocks); not a
		 * connection we only see from its answer. */
		attempt = !((p->tcp_flags & TCPF_SYN) && (p->tcp_flags & TCPF_ACK)) &&
			  conn_packet_is_orig(c, p);
		break;
	case TRANSPORT_UDP:
		attempt = conn_packet_is_orig(c, p);
		break;
	case TRANSPORT_ICMP:
		attempt = is_echo_request(p);
		break;
	case TRANSPORT_UNKNOWN:
		break;
	}
	if (!attempt)
		return;
	struct knock_attempt a;
	memset(&a, 0, sizeof(a));
	a.ts = p->ts;
	knock_flow_of(c, &a.flow);
	a.tcp_flags = p->tcp_flags;
	a.ttl = p->ttl;
	a.window = p->window;
	if (c->proto == TRANSPORT_TCP && p->l4 && p->l4_caplen >= 20) {
		uint32_t hlen = (uint32_t)(p->l4[12] >> 4) * 4;
		if (hlen > p->l4_caplen)
			hlen = p->l4_caplen;
		if (hlen > 20)
			a.syn_fp = knock_tcp_options_fp(p->l4 + 20, hlen - 20);
	}
	a.payload_len = p->payload_len;
	a.payload = p->payload;
	a.payload_caplen = p->payload_caplen < p->payload_len ? p->payload_caplen : p->payload_len;
	a.uid = c->uid;
	knock_attempt(d->knock, &a);
	c->knock_state = KNOCK_AWAITING;
}

static uint64_t conn_bytes(const struct conn *c, bool orig)
{
	if (c->proto == TRANSPORT_TCP)
		return tcp_endpoint_size(c, orig);
	int64_t n = orig ? c->orig_size : c->resp_size;
	return n > 0 ? (uint64_t)n : 0;
}

static void remote_session_of(const struct conn *c, const struct remote_slot *s,
			      struct remote_session *rs, kg_time ts)
{
	memset(rs, 0, sizeof(*rs));
	rs->ts = ts;
	rs->uid = c->uid;
	rs->service = s->service;
	rs->confidence = s->confidence;
	rs->fingerprint_id = s->fingerprint_id;
	rs->client = c->orig_h;
	rs->server = c->resp_h;
	rs->client_port = c->orig_p;
	rs->server_port = c->resp_p;
	rs->proto = c->proto;
	rs->standard_port = s->standard_port;
	rs->orig_bytes = conn_bytes(c, true);
	rs->resp_bytes = conn_bytes(c, false);
	rs->history = c->history;
}

/* Large transfers are checked as packets go by, not only at the end. */
#define REMOTE_BYTES_CHECK_EVERY 256

void detect_conn_packet(struct detect *d, struct conn *c, const struct packet *p, bool is_orig)
{
	if (c->knock_state == KNOCK_AWAITING && p->csum != L4_CSUM_BAD) {
		struct knock_flow f;
		knock_flow_of(c, &f);
		if (is_orig) {
			knock_retransmit(d->knock, &f, p->ts);
		} else {
			bool rst = c->proto == TRANSPORT_TCP && (p->tcp_flags & TCPF_RST);
			knock_outcome(d->knock, &f, rst ? KNOCK_CLOSED_RST : KNOCK_OPEN, 0, 0, p->ts,
				      c->uid);
			c->knock_state = KNOCK_DECIDED;
		}
	}
	if (c->remote_slot != NIL && ((c->orig_pkts + c->resp_pkts) % REMOTE_BYTES_CHECK_EVERY) == 0) {
		struct remote_slot *s = &d->slots[c->remote_slot];
		struct remote_session rs;
		struct alert a;
		remote_session_of(c, s, &rs, p->ts);
		if (remote_update_bytes(&d->remote, &rs, &s->verdict, &a))
			emit(d, &a);
	}
}

void detect_icmp_error(struct detect *d, const struct knock_flow *flow, uint8_t type, uint8_t code,
		       kg_time ts, const char *uid)
{
	knock_outcome(d->knock, flow, KNOCK_CLOSED_ICMP, type, code, ts, uid);
}

static uint32_t slot_alloc(struct detect *d)
{
	if (d->free_slot != NIL) {
		uint32_t s = d->free_slot;
		d->free_slot = d->slots[s].next_free;
		return s;
	}
	if (d->next_unused < d->nslots)
		return d->next_unused++;
	return NIL;
}

void detect_service(struct detect *d, struct conn *c, const struct service_match *m, kg_time ts)
{
	if (!service_is_remote_access(m->id))
		return;
	struct remote_slot tmp, *s = &tmp;
	uint32_t idx = slot_alloc(d);
	if (idx == NIL)
		d->stats.remote_pool_exhausted++;
	else
		s = &d->slots[idx];
	memset(s, 0, sizeof(*s));
	s->service = m->id;
	s->confidence = m->confidence;
	s->fingerprint_id = m->fingerprint_id;
	s->standard_port = service_standard_port(m->id, c->ip_proto, c->resp_p);
	c->remote_slot = idx;

	struct remote_session rs;
	remote_session_of(c, s, &rs, ts);
	rs.match_offset = m->match_offset;
	rs.both_sides = m->both_sides;
	rs.detail = m->detail;
	struct alert a;
	if (remote_check(&d->remote, &rs, &s->verdict, &a))
		emit(d, &a);
}

void detect_http(struct detect *d, const struct http_record *r)
{
	bits_observe(d->bits, r, emit, d);
}

void detect_conn_done(struct detect *d, struct conn *c, const struct conn_record *r)
{
	if (c->remote_slot == NIL)
		return;
	struct remote_slot *s = &d->slots[c->remote_slot];
	struct remote_session rs;
	remote_session_of(c, s, &rs, c->last_time);
	rs.conn_state = r->conn_state;
	struct alert a;
	if (remote_update_bytes(&d->remote, &rs, &s->verdict, &a))
		emit(d, &a);
	struct inventory_key k = {
		.client = c->orig_h,
		.server = c->resp_h,
		.server_port = c->resp_p,
		.proto = c->proto,
		.service = s->service,
	};
	inventory_add(d->inventory, &k, rs.orig_bytes, rs.resp_bytes, s->verdict.authorized,
		      c->start_time);
	s->next_free = d->free_slot;
	d->free_slot = c->remote_slot;
	c->remote_slot = NIL;
}

void detect_tick(struct detect *d, kg_time now)
{
	knock_tick(d->knock, now);
	bits_expire(d->bits, now, emit, d);
}

void detect_finish(struct detect *d, kg_time now)
{
	knock_tick(d->knock, now);
	bits_flush(d->bits, emit, d);
}

const struct detect_stats *detect_stats(const struct detect *d)
{
	return &d->stats;
}

const struct knock_stats *detect_knock_stats(const struct detect *d)
{
	return knock_stats(d->knock);
}

const struct bits_stats *detect_bits_stats(const struct detect *d)
{
	return bits_stats(d->bits);
}

const struct inventory *detect_inventory(const struct detect *d)
{
	return d->inventory;
}
