/* TCP as Zeek's TCPSessionAdapter sees it: endpoint states, history letters,
 * sequence-space sizes, gaps, and the attempt/expire/close timers.
 * Function order and names follow Zeek's so that a reader can compare. */
#include <string.h>

#include "flow/flow.h"
#include "flow/history.h"

#define TOO_LARGE_SEQ_DELTA 1048576
#define PKT_SYN(p) (((p)->tcp_flags & TCPF_SYN) != 0)
#define PKT_FIN(p) (((p)->tcp_flags & TCPF_FIN) != 0)
#define PKT_RST(p) (((p)->tcp_flags & TCPF_RST) != 0)
#define PKT_ACK(p) (((p)->tcp_flags & TCPF_ACK) != 0)

#define FIRST_SEEN_ORIG 1
#define FIRST_SEEN_RESP 2

static inline int32_t seq_delta(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

static inline uint64_t full_seq(uint32_t seq, uint32_t wraps)
{
	return ((uint64_t)wraps << 32) | seq;
}

static inline uint64_t rel_seq_space(const struct tcp_endpoint *e, uint32_t seq, uint32_t wraps)
{
	return full_seq(seq, wraps) - e->start_seq;
}

static inline struct tcp_endpoint *orig_ep(struct conn *c)
{
	return &c->ep[c->orig_idx];
}

static inline struct tcp_endpoint *resp_ep(struct conn *c)
{
	return &c->ep[c->orig_idx ^ 1];
}

static inline struct tcp_endpoint *peer_of(struct conn *c, const struct tcp_endpoint *e)
{
	return e == &c->ep[0] ? &c->ep[1] : &c->ep[0];
}

static inline const struct tcp_endpoint *cpeer_of(const struct conn *c, const struct tcp_endpoint *e)
{
	return e == &c->ep[0] ? &c->ep[1] : &c->ep[0];
}

static bool is_handshake(enum tcp_state s)
{
	return s == TCP_INACTIVE || s == TCP_SYN_SENT || s == TCP_SYN_ACK_SENT;
}

static void endpoint_init(struct tcp_endpoint *e, bool is_orig)
{
	memset(e, 0, sizeof(*e));
	e->is_orig = is_orig;
	scaled_counter_init(&e->chk);
	scaled_counter_init(&e->rxmt);
	scaled_counter_init(&e->win0);
	scaled_counter_init(&e->gap);
	reasm_init(&e->reasm);
}

void tcp_conn_init(struct conn *c)
{
	c->orig_idx = 0;
	endpoint_init(&c->ep[0], true);
	endpoint_init(&c->ep[1], false);
	c->tcp_is_active = true;
}

static bool no_data_acked(const struct tcp_endpoint *e)
{
	uint64_t ack = full_seq(e->ack_seq, e->ack_wraps);
	return ack == e->start_seq || ack == (uint64_t)e->start_seq + 1;
}

static uint64_t endpoint_size(const struct conn *c, const struct tcp_endpoint *e)
{
	const struct tcp_endpoint *peer = cpeer_of(c, e);
	if (e->prev_state == TCP_SYN_SENT && e->state == TCP_RESET && peer->state == TCP_INACTIVE &&
	    !no_data_acked(e))
		return 0; /* a half-open connection discovered and aborted */
	uint64_t last = full_seq(e->last_seq, e->seq_wraps);
	uint64_t ack = full_seq(e->ack_seq, e->ack_wraps);
	uint64_t size = (last > ack ? last : ack) - e->start_seq;
	if (size != 0)
		size--; /* the SYN octet */
	if (e->fin_cnt > 0 && size != 0)
		size--; /* the FIN octet */
	return size;
}

uint64_t tcp_endpoint_size(const struct conn *c, bool orig)
{
	return endpoint_size(c, &c->ep[orig ? c->orig_idx : c->orig_idx ^ 1]);
}

uint64_t tcp_missed_bytes(const struct conn *c)
{
	return c->missed_bytes;
}

static void set_state(struct conn *c, struct tcp_endpoint *e, enum tcp_state s,
		      const struct flow_timeouts *t)
{
	if (s == e->state)
		return;
	/* Leaving the handshake switches the inactivity timeout to TCP's. */
	if (!is_handshake(s) && is_handshake(e->state) && is_handshake(peer_of(c, e)->state))
		c->inactivity_timeout = t->tcp_inactivity;
	e->prev_state = e->state;
	e->state = s;
}

static int segment_len(const struct packet *p)
{
	int len = (int)p->payload_len;
	if (PKT_SYN(p))
		len++;
	if (PKT_FIN(p))
		len++;
	if (PKT_RST(p))
		len -= (int)p->payload_len; /* RST payload is not in the stream */
	return len;
}

static void init_endpoint(struct tcp_endpoint *e, const struct packet *p, uint32_t seq,
			  uint32_t last)
{
	switch (e->state) {
	case TCP_INACTIVE:
		if (PKT_SYN(p)) {
			e->ack_seq = seq;
			e->start_seq = seq;
		} else {
			/* Partial connection: number as though a SYN was seen. */
			e->ack_seq = seq - 1;
			e->start_seq = seq - 1;
			last = seq;
		}
		e->last_seq = last;
		break;
	case TCP_SYN_SENT:
	case TCP_SYN_ACK_SENT:
		if (PKT_SYN(p) && seq != e->start_seq) {
			e->start_seq = seq;
			e->ack_seq = seq;
			e->last_seq = last;
		}
		break;
	case TCP_ESTABLISHED:
	case TCP_PARTIAL:
		if (PKT_SYN(p)) {
			e->start_seq = seq;
			e->ack_seq = seq;
			e->last_seq = last;
		}
		break;
	case TCP_RESET:
		if (PKT_SYN(p) && e->prev_state == TCP_INACTIVE) {
			/* The earlier RST may have been injected: trust the SYN. */
			e->start_seq = seq;
			e->ack_seq = seq;
			e->last_seq = last;
		}
		break;
	default:
		break;
	}
}

static uint64_t relative_seq(const struct tcp_endpoint *e, uint32_t cur, uint32_t last,
			     uint32_t wraps, bool *underflow)
{
	int32_t delta = seq_delta(cur, last);
	if (delta < 0) {
		if (wraps && cur > last)
			--wraps; /* part of the previous 32-bit space */
	} else if (delta > 0) {
		if (cur < last)
			++wraps;
	}
	if (wraps == 0) {
		delta = seq_delta(cur, e->start_seq);
		if (underflow && delta < 0)
			*underflow = true;
		return (uint64_t)(int64_t)delta;
	}
	return rel_seq_space(e, cur, wraps);
}

static bool ep_check_history(struct conn *c, const struct tcp_endpoint *e, uint32_t mask, char code)
{
	if (!e->is_orig) {
		mask <<= 16;
		code = (char)(code - 'A' + 'a');
	}
	return history_check(c, mask, code);
}

static void ep_add_history(struct conn *c, const struct tcp_endpoint *e, char code)
{
	history_add(c, e->is_orig ? code : (char)(code - 'A' + 'a'));
}

static bool ep_scaled(struct conn *c, const struct tcp_endpoint *e, struct scaled_counter *sc,
		      char code)
{
	return history_scaled(c, sc, e->is_orig ? code : (char)(code - 'A' + 'a'));
}

/* A connection that began with an unflipped SYN-ACK (history exactly "H")
 * whose next packet is an ACK or data: the SYN-ACK sender was the server. */
static void maybe_flip_after_synack(struct conn *c)
{
	if (c->history_len == 1 && c->history[0] == 'H') {
		conn_flip_roles(c);
		c->history[1] = 'h'; /* "H^" becomes "^h" */
		c->history[0] = '^';
	}
}

static void update_history(struct conn *c, const struct packet *p, struct tcp_endpoint *e,
			   uint64_t rel_seq, int len)
{
	int bits = PKT_SYN(p) + PKT_FIN(p) + PKT_RST(p);
	if (bits > 1) {
		if (PKT_FIN(p) && PKT_RST(p))
			ep_check_history(c, e, HIST_FIN_RST_PKT, 'I');
		else
			ep_check_history(c, e, HIST_MULTI_FLAG_PKT, 'Q');
	} else if (bits == 1) {
		if (PKT_SYN(p)) {
			char code = PKT_ACK(p) ? 'H' : 'S';
			if (ep_check_history(c, e, HIST_SYN_PKT, code) && rel_seq != e->hist_last_syn)
				ep_add_history(c, e, code);
			e->hist_last_syn = rel_seq;
		}
		if (PKT_FIN(p)) {
			/* A FIN's sequence is at the end of its data. */
			if (ep_check_history(c, e, HIST_FIN_PKT, 'F') &&
			    rel_seq + (uint64_t)len != e->hist_last_fin)
				ep_add_history(c, e, 'F');
			e->hist_last_fin = rel_seq + (uint64_t)len;
		}
		if (PKT_RST(p)) {
			if (ep_check_history(c, e, HIST_RST_PKT, 'R') && rel_seq != e->hist_last_rst)
				ep_add_history(c, e, 'R');
			e->hist_last_rst = rel_seq;
		}
	} else if (len > 0 || PKT_ACK(p)) {
		maybe_flip_after_synack(c);
		if (len > 0)
			ep_check_history(c, e, HIST_DATA_PKT, 'D');
		else
			ep_check_history(c, e, HIST_ACK_PKT, 'A');
	}
}

static void update_ack_seq(struct tcp_endpoint *e, uint32_t ack)
{
	int32_t delta = seq_delta(ack, e->ack_seq);
	if (ack == 0 && delta > TOO_LARGE_SEQ_DELTA)
		return; /* more likely a broken ack than a wrap onto 0 */
	if (delta > 0) {
		if (ack < e->ack_seq)
			e->ack_wraps++;
		e->ack_seq = ack;
	}
}

static void update_last_seq_value(struct tcp_endpoint *e, uint32_t last)
{
	if (last < e->last_seq)
		e->seq_wraps++;
	e->last_seq = last;
}

static int32_t update_last_seq(struct conn *c, struct tcp_endpoint *e, uint32_t last,
			       const struct packet *p, int len)
{
	int32_t delta = seq_delta(last, e->last_seq);
	if ((PKT_SYN(p) || PKT_RST(p)) &&
	    (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA))
		; /* an outlandish SYN/RST sequence is not trusted */
	else if (PKT_FIN(p) && e->last_seq == e->start_seq + 1)
		update_last_seq_value(e, last); /* > 2 GB connection seen only by SYN and FIN */
	else if (e->state == TCP_RESET)
		; /* nothing after a RST is trusted */
	else if (delta > 0)
		update_last_seq_value(e, last);
	else if (len > 0)
		ep_scaled(c, e, &e->rxmt, 'T');
	return delta;
}

static void set_partial_status(struct conn *c, const struct packet *p, bool ep_is_orig)
{
	if (ep_is_orig) {
		if (!(c->first_packet_seen & FIRST_SEEN_ORIG))
			c->tcp_is_partial = !PKT_SYN(p) || PKT_ACK(p);
	} else if (!(c->first_packet_seen & FIRST_SEEN_RESP) && !c->tcp_is_partial) {
		c->tcp_is_partial = !PKT_SYN(p);
	}
}

static bool port_wants_long_timeout(uint16_t port)
{
	return port == 21 || port == 22 || port == 23 || port == 513;
}

/* State machine: endpoint INACTIVE. `is_orig` is the packet's direction as
 * decided before any flip in this packet, as in Zeek. */
static void update_inactive(struct conn *c, struct tcp_endpoint *e, struct tcp_endpoint *peer,
			    const struct packet *p, int len, bool is_orig, bool *do_close,
			    bool *gen_event, const struct flow_timeouts *t)
{
	if (PKT_SYN(p)) {
		if (is_orig) {
			set_state(c, e, PKT_ACK(p) ? TCP_SYN_ACK_SENT : TCP_SYN_SENT, t);
			c->timers.attempt = p->ts + t->attempt_delay;
		} else {
			if (!PKT_ACK(p) && peer->state == TCP_SYN_ACK_SENT && p->seq == e->start_seq) {
				/* SYN and SYN-ACK seen in reverse order. */
				c->tcp_is_partial = false;
				conn_flip_roles(c);
				set_state(c, peer, TCP_ESTABLISHED, t);
				c->first_packet_seen |= FIRST_SEEN_ORIG;
			}
			if (peer->state == TCP_SYN_SENT)
				set_state(c, peer, TCP_ESTABLISHED, t);
			set_state(c, e, TCP_ESTABLISHED, t);
			if (peer->state != TCP_PARTIAL && port_wants_long_timeout(c->resp_p))
				c->inactivity_timeout = t->long_inactivity; /* connection_established */
		}
	}
	if (PKT_FIN(p)) {
		set_state(c, e, TCP_CLOSED, t);
		*do_close = *gen_event = true;
	}
	if (PKT_RST(p)) {
		set_state(c, e, TCP_RESET, t);
		bool is_reject = false;
		if (is_orig) {
			/* A SYN-ACK was seen but no SYN: a reverse scan. */
			if (peer->state == TCP_ESTABLISHED)
				is_reject = true;
		} else if (peer->state == TCP_SYN_SENT || peer->state == TCP_SYN_ACK_SENT) {
			is_reject = true;
		}
		*do_close = true;
		*gen_event = !is_reject;
	}
	if (e->state == TCP_INACTIVE) {
		if (!is_orig && len == 0 && orig_ep(c)->state == TCP_SYN_SENT)
			; /* some stacks ACK a SYN before answering it */
		else if (PKT_ACK(p) && peer->state == TCP_ESTABLISHED) {
			/* Missed the SYN after a SYN-ACK. */
			set_state(c, e, TCP_ESTABLISHED, t);
			c->tcp_is_partial = false;
			c->first_packet_seen |= is_orig ? FIRST_SEEN_ORIG : FIRST_SEEN_RESP;
		} else {
			set_state(c, e, TCP_PARTIAL, t);
		}
	}
}

static void connection_reset(struct conn *c)
{
	c->tcp_is_active = false;
}

static void update_syn_sent(struct conn *c, struct tcp_endpoint *e, const struct packet *p,
			    bool *do_close, bool *gen_event, const struct flow_timeouts *t)
{
	if (PKT_FIN(p)) {
		set_state(c, e, TCP_CLOSED, t);
		*do_close = *gen_event = true;
	}
	if (PKT_RST(p)) {
		set_state(c, e, TCP_RESET, t);
		connection_reset(c);
		*do_close = true;
	}
}

static void update_established(struct conn *c, struct tcp_endpoint *e, struct tcp_endpoint *peer,
			       const struct packet *p, bool *do_close, bool *gen_event,
			       const struct flow_timeouts *t)
{
	if (PKT_SYN(p) && e->state == TCP_PARTIAL && peer->state == TCP_INACTIVE && !PKT_ACK(p))
		set_state(c, e, TCP_SYN_SENT, t);
	if (PKT_FIN(p) && !PKT_RST(p)) {
		set_state(c, e, TCP_CLOSED, t);
		/* FIN, RST, FIN: the peer's RST after its FIN was a normal close. */
		if (peer->state == TCP_RESET && peer->prev_state == TCP_CLOSED)
			set_state(c, peer, TCP_CLOSED, t);
		*do_close = *gen_event = true;
	}
	if (PKT_RST(p)) {
		set_state(c, e, TCP_RESET, t);
		*do_close = true;
		if (peer->state != TCP_RESET || peer->prev_state != TCP_ESTABLISHED)
			connection_reset(c);
	}
}

static void update_closed(struct conn *c, struct tcp_endpoint *e, const struct packet *p,
			  bool *do_close, const struct flow_timeouts *t)
{
	/* A RST after both FINs does not undo the clean close. */
	if (PKT_RST(p) && peer_of(c, e)->state != TCP_CLOSED) {
		set_state(c, e, TCP_RESET, t);
		if (!e->did_close)
			*do_close = true;
	}
}

static void update_state_machine(struct conn *c, struct tcp_endpoint *e, struct tcp_endpoint *peer,
				 const struct packet *p, int len, bool is_orig, bool *do_close,
				 bool *gen_event, const struct flow_timeouts *t)
{
	*do_close = *gen_event = false;
	switch (e->state) {
	case TCP_INACTIVE:
		update_inactive(c, e, peer, p, len, is_orig, do_close, gen_event, t);
		break;
	case TCP_SYN_SENT:
	case TCP_SYN_ACK_SENT:
		update_syn_sent(c, e, p, do_close, gen_event, t);
		break;
	case TCP_ESTABLISHED:
	case TCP_PARTIAL:
		update_established(c, e, peer, p, do_close, gen_event, t);
		break;
	case TCP_CLOSED:
		update_closed(c, e, p, do_close, t);
		break;
	case TCP_RESET:
		break;
	}
}

/* --- gaps (TCP_Reassembler) --- */

static bool is_clean(const struct tcp_endpoint *e)
{
	return e->state == TCP_ESTABLISHED ||
	       (e->state == TCP_CLOSED && e->prev_state == TCP_ESTABLISHED);
}

struct gap_ctx {
	struct conn *c;
	struct tcp_endpoint *e;
};

static void on_gap(void *arg, uint64_t seq, uint64_t len)
{
	struct gap_ctx *g = arg;
	(void)seq;
	if (is_clean(g->e) && is_clean(peer_of(g->c, g->e))) {
		ep_scaled(g->c, g->e, &g->e->gap, 'G');
		g->c->missed_bytes += len;
	}
}

static bool has_undelivered(const struct tcp_endpoint *e)
{
	return e->reasm.nblocks > 0;
}

static bool data_pending(const struct conn *c, const struct tcp_endpoint *e)
{
	if (e->reasm.skip_deliveries)
		return false;
	uint64_t delivered = (uint64_t)e->start_seq + e->reasm.last_reassem_seq;
	uint64_t last = full_seq(e->last_seq, e->seq_wraps);
	if (last < delivered)
		return false;
	/* Everything is delivered up to the FIN octet (or exactly, after a RST). */
	if (delivered != last - 1 && delivered != last)
		return true;
	if (e->state != TCP_RESET && has_undelivered(cpeer_of(c, e)))
		return true;
	return false;
}

static void connection_closed(struct conn *c, struct tcp_endpoint *e, bool gen_event,
			      const struct flow_timeouts *t);

static void check_eof(struct conn *c, struct tcp_endpoint *e, const struct flow_timeouts *t)
{
	if (!e->did_eof && (e->fin_cnt > 0 || e->state == TCP_CLOSED || e->state == TCP_RESET) &&
	    !data_pending(c, e)) {
		e->did_eof = true;
		if (c->close_deferred) {
			c->close_deferred = false;
			connection_closed(c, e, c->deferred_gen_event, t);
		}
	}
}

static void ack_received(struct conn *c, struct tcp_endpoint *e, uint64_t seq,
			 const struct flow_timeouts *t)
{
	if (e->fin_cnt > 0 && seq >= e->fin_seq)
		seq = e->fin_seq - 1; /* the FIN octet is no data */
	struct gap_ctx g = {c, e};
	reasm_ack(&e->reasm, seq, c->tcp_is_partial, on_gap, &g);
	check_eof(c, e, t);
}

static void add_expire_timer(struct conn *c, kg_time when)
{
	for (unsigned i = 0; i < sizeof(c->timers.expire) / sizeof(c->timers.expire[0]); i++) {
		if (c->timers.expire[i] == 0) {
			c->timers.expire[i] = when;
			return;
		}
	}
	/* All slots busy: keep the earliest check, as the extra timer would
	 * only re-check the same condition. */
	kg_time *latest = &c->timers.expire[0];
	for (unsigned i = 1; i < sizeof(c->timers.expire) / sizeof(c->timers.expire[0]); i++)
		if (c->timers.expire[i] > *latest)
			latest = &c->timers.expire[i];
	if (when < *latest)
		*latest = when;
}

static void connection_closed(struct conn *c, struct tcp_endpoint *e, bool gen_event,
			      const struct flow_timeouts *t)
{
	struct tcp_endpoint *peer = peer_of(c, e);
	if (data_pending(c, e)) {
		/* Wait until the data before the close has been seen (or given up). */
		c->close_deferred = true;
		if (!c->deferred_gen_event)
			c->deferred_gen_event = gen_event;
		return;
	}
	c->close_deferred = false;
	if (e->did_close)
		return;
	e->did_close = true;
	bool complete = e->state == TCP_RESET || peer->did_close || peer->state == TCP_INACTIVE;
	if (complete) {
		if (e->prev_state != TCP_INACTIVE || peer->state != TCP_INACTIVE) {
			if (c->deferred_gen_event) {
				gen_event = true;
				c->deferred_gen_event = false;
			}
			if (gen_event)
				c->tcp_is_active = false; /* ConnectionFinished */
		}
		/* CancelTimers(), then delete after tcp_close_delay. */
		c->timers.attempt = 0;
		memset(c->timers.expire, 0, sizeof(c->timers.expire));
		kg_time del = c->last_time + t->close_delay;
		if (c->timers.close_delete == 0 || del < c->timers.close_delete)
			c->timers.close_delete = del;
	} else if (e->prev_state != TCP_INACTIVE) {
		add_expire_timer(c, c->last_time + t->session_timer);
	}
}

void tcp_process(struct conn *c, const struct packet *p, bool is_orig, const struct flow_timeouts *t)
{
	struct tcp_endpoint *e = is_orig ? orig_ep(c) : resp_ep(c);
	struct tcp_endpoint *peer = peer_of(c, e);

	if (p->csum == L4_CSUM_BAD) {
		ep_scaled(c, e, &e->chk, 'C');
		return;
	}

	set_partial_status(c, p, e->is_orig);
	int len = (int)p->payload_len;
	uint32_t base_seq = p->seq;
	uint32_t ack_seq = p->ack;
	int seg_len = segment_len(p);
	uint32_t seq_one_past = base_seq + (uint32_t)seg_len;

	init_endpoint(e, p, base_seq, seq_one_past);

	bool seq_underflow = false;
	uint64_t rel_seq = relative_seq(e, base_seq, e->last_seq, e->seq_wraps, &seq_underflow);

	update_history(c, p, e, rel_seq, len);

	if (p->window == 0 && !PKT_RST(p) && peer->state != TCP_CLOSED && e->state != TCP_RESET)
		ep_scaled(c, e, &e->win0, 'W');

	if (!orig_ep(c)->did_close || !resp_ep(c)->did_close)
		c->last_time = p->ts;

	if (PKT_FIN(p)) {
		e->fin_cnt++;
		e->fin_seq = rel_seq + (uint64_t)seg_len;
	}
	if (PKT_RST(p))
		e->rst_cnt++;

	uint64_t rel_ack = 0;
	if (PKT_ACK(p)) {
		if (peer->state == TCP_INACTIVE) {
			rel_ack = 1;
			/* Number the silent peer as though its SYN was seen. */
			peer->start_seq = ack_seq - 1;
			peer->ack_seq = ack_seq - 1;
			peer->last_seq = ack_seq - 1;
		} else {
			bool ack_underflow = false;
			rel_ack = relative_seq(peer, ack_seq, peer->ack_seq, peer->ack_wraps,
					       &ack_underflow);
			if (ack_underflow)
				rel_ack = 0;
			else if (!PKT_RST(p))
				update_ack_seq(peer, ack_seq); /* RST acks are not trusted */
		}
	}

	update_last_seq(c, e, seq_one_past, p, len);

	bool do_close, gen_event;
	update_state_machine(c, e, peer, p, len, is_orig, &do_close, &gen_event, t);

	if (PKT_ACK(p))
		ack_received(c, peer, rel_ack, t);

	c->first_packet_seen |= is_orig ? FIRST_SEEN_ORIG : FIRST_SEEN_RESP;

	uint64_t rel_data_seq = PKT_SYN(p) ? rel_seq + 1 : rel_seq;
	if (len > 0 && !PKT_RST(p) && !seq_underflow && p->payload_caplen >= p->payload_len) {
		/* Truncated payload is not reassembled: once acked it is a gap. */
		reasm_data(&e->reasm, rel_data_seq, (uint64_t)len,
			   rel_seq_space(e, e->ack_seq, e->ack_wraps), no_data_acked(e));
	}
	check_eof(c, e, t);

	if (do_close)
		connection_closed(c, e, gen_event, t);
}

bool tcp_is_reuse(const struct conn *c, const struct packet *p)
{
	if (!PKT_SYN(p))
		return false; /* only a new SYN (or a half connection's SYN-ACK) */
	const struct tcp_endpoint *o = &c->ep[c->orig_idx];
	const struct tcp_endpoint *r = &c->ep[c->orig_idx ^ 1];
	const struct tcp_endpoint *conn_orig = o;
	if (PKT_ACK(p)) {
		if (o->state != TCP_INACTIVE)
			return false;
		conn_orig = r;
	}
	bool closed = o->did_close || r->did_close;
	if (!closed) {
		if (p->seq == conn_orig->start_seq)
			return false; /* a retransmitted SYN */
		if (!PKT_ACK(p) && conn_orig->state == TCP_SYN_ACK_SENT && r->state == TCP_INACTIVE &&
		    p->seq == r->start_seq)
			return false; /* SYN and SYN-ACK reordered; tcp_process flips */
	}
	return true;
}

kg_time tcp_next_deadline(const struct conn *c)
{
	kg_time next = 0;
#define CONSIDER(x)                                  \
	do {                                         \
		if ((x) != 0 && (next == 0 || (x) < next)) \
			next = (x);                  \
	} while (0)
	CONSIDER(c->timers.attempt);
	for (unsigned i = 0; i < sizeof(c->timers.expire) / sizeof(c->timers.expire[0]); i++)
		CONSIDER(c->timers.expire[i]);
	CONSIDER(c->timers.close_delete);
#undef CONSIDER
	return next;
}

static bool attempt_timer(struct conn *c)
{
	const struct tcp_endpoint *o = orig_ep(c), *r = resp_ep(c);
	if (!c->tcp_is_active)
		return false;
	if ((o->state == TCP_SYN_SENT || o->state == TCP_SYN_ACK_SENT) && r->state == TCP_INACTIVE) {
		c->tcp_is_active = false;
		return true;
	}
	return false;
}

/* Zeek's ExpireTimer; returns true to remove, else *resched is the next check. */
static bool expire_timer(struct conn *c, kg_time now, const struct flow_timeouts *t, bool *stop)
{
	const struct tcp_endpoint *o = orig_ep(c), *r = resp_ep(c);
	*stop = false;
	if (!c->tcp_is_active) {
		*stop = true;
		return false;
	}
	if (c->last_time + t->connection_linger < now) {
		if (o->did_close || r->did_close) {
			if ((o->did_close && r->did_close) || o->state == TCP_RESET ||
			    r->state == TCP_RESET || o->state == TCP_INACTIVE ||
			    r->state == TCP_INACTIVE) {
				c->tcp_is_active = false;
				return true;
			}
		}
		if (r->state == TCP_INACTIVE && o->state == TCP_INACTIVE)
			return true; /* only trashed packets */
	}
	return false;
}

bool tcp_expire(struct conn *c, kg_time now, const struct flow_timeouts *t)
{
	/* Fire due timers in time order, as Zeek's timer queue would. */
	for (;;) {
		kg_time *due = NULL;
		kg_time best = 0;
		if (c->timers.attempt && c->timers.attempt <= now) {
			due = &c->timers.attempt;
			best = *due;
		}
		for (unsigned i = 0; i < sizeof(c->timers.expire) / sizeof(c->timers.expire[0]); i++) {
			kg_time *x = &c->timers.expire[i];
			if (*x && *x <= now && (!due || *x < best)) {
				due = x;
				best = *x;
			}
		}
		if (c->timers.close_delete && c->timers.close_delete <= now &&
		    (!due || c->timers.close_delete < best)) {
			return true;
		}
		if (!due)
			return false;
		if (due == &c->timers.attempt) {
			*due = 0;
			if (attempt_timer(c))
				return true;
			continue;
		}
		bool stop;
		kg_time fired = *due;
		if (expire_timer(c, fired, t, &stop))
			return true;
		*due = stop ? 0 : fired + t->session_timer;
	}
}

const char *tcp_conn_state(const struct conn *c)
{
	const struct tcp_endpoint *o = &c->ep[c->orig_idx], *r = &c->ep[c->orig_idx ^ 1];
	bool o_inactive = o->state == TCP_INACTIVE || o->state == TCP_PARTIAL;
	bool r_inactive = r->state == TCP_INACTIVE || r->state == TCP_PARTIAL;

	if (r->state == TCP_RESET) {
		if (o->state == TCP_SYN_SENT || o->state == TCP_SYN_ACK_SENT ||
		    (o->state == TCP_RESET && endpoint_size(c, o) == 0 && endpoint_size(c, r) == 0))
			return "REJ";
		if (o_inactive)
			return "RSTRH";
		return "RSTR";
	}
	if (o->state == TCP_RESET) {
		if (r_inactive) {
			/* ^\^?S[^HAFGIQ]*R.*$ */
			const char *h = c->history;
			if (*h == '^')
				h++;
			if (*h == 'S') {
				h++;
				while (*h && !strchr("HAFGIQR", *h))
					h++;
				if (*h == 'R')
					return "RSTOS0";
			}
			return "OTH";
		}
		return "RSTO";
	}
	if (o->state == TCP_CLOSED && r->state == TCP_CLOSED)
		return "SF";
	if (o->state == TCP_CLOSED)
		return r_inactive ? "SH" : "S2";
	if (r->state == TCP_CLOSED)
		return o_inactive ? "SHR" : "S3";
	if (o->state == TCP_SYN_SENT && r->state == TCP_INACTIVE)
		return "S0";
	if (o->state == TCP_ESTABLISHED && r->state == TCP_ESTABLISHED)
		return "S1";
	return "OTH";
}
