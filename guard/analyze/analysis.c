#include "analyze/analysis.h"

#include <stdlib.h>
#include <string.h>

#include "analyze/content.h"

#define NIL UINT32_MAX

enum { SVC_LOOKING, SVC_IDENTIFIED, SVC_GAVE_UP };

/* Past this many payload packets without a verdict, stop looking. */
#define ANALYSIS_MAX_SEGMENTS 16

/* An index pool: slots never used are handed out in order, freed ones reused. */
struct slot_pool {
	uint32_t *free_list;
	size_t nfree, next_unused, capacity;
};

/* HTTP needs the whole in-order stream, not just the first bytes. */
struct http_slot {
	struct http_state st;
	uint32_t next_seq[2];
	bool have_seq[2];
};

struct analysis {
	struct content *content;
	struct slot_pool content_pool;
	struct http_slot *http;
	struct slot_pool http_pool;
	struct analysis_sinks sinks;
	struct http_sink http_sink;
	struct analysis_stats stats;
};

static bool pool_init(struct slot_pool *p, size_t capacity)
{
	p->free_list = calloc(capacity ? capacity : 1, sizeof(*p->free_list));
	p->capacity = capacity;
	return p->free_list != NULL;
}

static uint32_t pool_get(struct slot_pool *p)
{
	if (p->nfree > 0)
		return p->free_list[--p->nfree];
	if (p->next_unused < p->capacity)
		return (uint32_t)p->next_unused++;
	return NIL;
}

static void pool_put(struct slot_pool *p, uint32_t slot)
{
	p->free_list[p->nfree++] = slot;
}

struct analysis *analysis_create(size_t content_slots, size_t http_slots,
				 const struct analysis_sinks *sinks)
{
	struct analysis *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->sinks = *sinks;
	a->http_sink.fn = sinks->http;
	a->http_sink.ctx = sinks->ctx;
	/* calloc'd pools: pages are only touched when a slot is first used. */
	a->content = calloc(content_slots ? content_slots : 1, sizeof(*a->content));
	a->http = calloc(http_slots ? http_slots : 1, sizeof(*a->http));
	if (!a->content || !a->http || !pool_init(&a->content_pool, content_slots) ||
	    !pool_init(&a->http_pool, http_slots)) {
		analysis_destroy(a);
		return NULL;
	}
	return a;
}

void analysis_destroy(struct analysis *a)
{
	if (!a)
		return;
	free(a->content);
	free(a->http);
	free(a->content_pool.free_list);
	free(a->http_pool.free_list);
	free(a);
}

static void release_content(struct analysis *a, struct conn *c)
{
	if (c->content_slot == NIL)
		return;
	pool_put(&a->content_pool, c->content_slot);
	c->content_slot = NIL;
}

static void identified(struct analysis *a, struct conn *c, const struct service_match *m,
		       kg_time ts)
{
	c->service = (uint8_t)m->id;
	c->service_state = SVC_IDENTIFIED;
	c->service_log = service_conn_log_name(m, c->ip_proto, c->resp_p);
	a->stats.services_identified++;
	release_content(a, c);
	if (a->sinks.service)
		a->sinks.service(a->sinks.ctx, c, m, ts);
}

static void give_up(struct analysis *a, struct conn *c)
{
	c->service_state = SVC_GAVE_UP;
	a->stats.services_unknown++;
	release_content(a, c);
}

/* ESP and AH carry no bytes we could read: the protocol is the fingerprint. */
static void identify_native_ipsec(struct analysis *a, struct conn *c, kg_time ts)
{
	struct service_match m;
	memset(&m, 0, sizeof(m));
	m.id = SVC_IKE;
	m.confidence = CONF_MEDIUM;
	m.fingerprint_id = c->ip_proto == 50 ? "ipsec-esp" : "ipsec-ah";
	identified(a, c, &m, ts);
}

static void identify(struct analysis *a, struct conn *c, const struct packet *p, bool is_orig)
{
	if (c->content_slot == NIL) {
		c->content_slot = pool_get(&a->content_pool);
		if (c->content_slot == NIL) {
			a->stats.content_pool_exhausted++;
			c->service_state = SVC_GAVE_UP;
			return;
		}
		content_init(&a->content[c->content_slot]);
	}
	struct content *ct = &a->content[c->content_slot];
	/* The first payload byte of a SYN-carrying segment is at seq + 1. */
	uint32_t seq = p->seq + ((p->tcp_flags & TCPF_SYN) ? 1 : 0);
	if (!content_add(ct, is_orig, c->ip_proto, seq, p->payload, p->payload_caplen,
			 p->payload_len))
		return;
	struct content_view v;
	content_view(ct, c->ip_proto, c->resp_p, &v);
	struct service_match m;
	switch (service_identify(&v, &m)) {
	case SERVICE_MATCH:
		identified(a, c, &m, p->ts);
		break;
	case SERVICE_NO_MATCH:
		give_up(a, c);
		break;
	case SERVICE_NEED_MORE:
		if (ct->dir[0].segments_seen + ct->dir[1].segments_seen > ANALYSIS_MAX_SEGMENTS)
			give_up(a, c);
		break;
	}
}

static void http_packet(struct analysis *a, struct conn *c, const struct packet *p, bool is_orig)
{
	if (c->http_slot == NIL) {
		/* Only a connection whose first client bytes look like a request. */
		if (!is_orig || c->service_state == SVC_GAVE_UP)
			return;
		if (http_probe_request(p->payload, p->payload_caplen) != HTTP_PROBE_YES)
			return;
		c->http_slot = pool_get(&a->http_pool);
		if (c->http_slot == NIL) {
			a->stats.http_pool_exhausted++;
			return;
		}
		struct http_slot *hs = &a->http[c->http_slot];
		memset(hs->have_seq, 0, sizeof(hs->have_seq));
		http_init(&hs->st, c->uid, &c->orig_h, c->orig_p, &c->resp_h, c->resp_p);
	}
	struct http_slot *hs = &a->http[c->http_slot];
	int dir = is_orig ? 0 : 1;
	uint32_t seq = p->seq + ((p->tcp_flags & TCPF_SYN) ? 1 : 0);
	uint32_t len = p->payload_len, cap = p->payload_caplen < len ? p->payload_caplen : len;
	const uint8_t *data = p->payload;
	if (!hs->have_seq[dir]) {
		hs->have_seq[dir] = true;
		hs->next_seq[dir] = seq;
	}
	int32_t ahead = (int32_t)(seq - hs->next_seq[dir]);
	if (ahead > 0) {
		http_gap(&hs->st, is_orig, (uint64_t)ahead, p->ts, &a->http_sink);
	} else if (ahead < 0) {
		uint32_t old = (uint32_t)(-ahead);
		if (old >= len)
			return; /* retransmission */
		data += old;
		len -= old;
		cap = cap > old ? cap - old : 0;
	}
	http_feed(&hs->st, is_orig, data, cap, p->ts, &a->http_sink);
	if (cap < len)
		http_gap(&hs->st, is_orig, len - cap, p->ts, &a->http_sink);
	hs->next_seq[dir] = seq + (p->payload_len);
}

void analysis_packet(struct analysis *a, struct conn *c, const struct packet *p, bool is_orig)
{
	if (c->proto == TRANSPORT_UNKNOWN && c->service_state == SVC_LOOKING &&
	    (c->ip_proto == 50 || c->ip_proto == 51)) {
		identify_native_ipsec(a, c, p->ts);
		return;
	}
	if (c->proto != TRANSPORT_TCP && c->proto != TRANSPORT_UDP)
		return;
	if (p->payload_len == 0 || p->csum == L4_CSUM_BAD || !p->payload)
		return;
	if (c->service_state == SVC_LOOKING)
		identify(a, c, p, is_orig);
	if (c->proto == TRANSPORT_TCP && !(p->tcp_flags & TCPF_RST))
		http_packet(a, c, p, is_orig);
}

void analysis_conn_done(struct analysis *a, struct conn *c)
{
	if (c->service_state == SVC_LOOKING && c->content_slot != NIL) {
		/* No more bytes will come: take what one side alone shows. */
		struct content_view v;
		struct service_match m;
		content_view(&a->content[c->content_slot], c->ip_proto, c->resp_p, &v);
		if (service_identify_final(&v, &m) == SERVICE_MATCH)
			identified(a, c, &m, c->last_time);
	}
	release_content(a, c);
	if (c->http_slot != NIL) {
		struct http_slot *hs = &a->http[c->http_slot];
		http_finish(&hs->st, c->last_time, &a->http_sink);
		http_stats_add(&a->stats.http, &hs->st.stats);
		pool_put(&a->http_pool, c->http_slot);
		c->http_slot = NIL;
	}
}

const struct analysis_stats *analysis_stats(const struct analysis *a)
{
	return &a->stats;
}
