/* Protocol-independent connection logic: creation, role flips, ConnSize
 * counting, inactivity, and the conn.log record at removal. */
#include <string.h>

#include "flow/flow.h"
#include "flow/history.h"

void flow_timeouts_default(struct flow_timeouts *t)
{
	t->tcp_inactivity = KG_SEC(300);
	t->udp_inactivity = KG_SEC(60);
	t->icmp_inactivity = KG_SEC(60);
	t->unknown_inactivity = KG_SEC(60);
	t->long_inactivity = KG_SEC(3600);
	t->attempt_delay = KG_SEC(5);
	t->syn_timeout = KG_SEC(5);
	t->session_timer = KG_SEC(6);
	t->connection_linger = KG_SEC(5);
	t->close_delay = KG_SEC(5);
	t->dns_session = KG_SEC(10);
}

static enum transport transport_of(uint8_t ip_proto)
{
	switch (ip_proto) {
	case IPPROTO_NUM_TCP:
		return TRANSPORT_TCP;
	case IPPROTO_NUM_UDP:
		return TRANSPORT_UDP;
	case IPPROTO_NUM_ICMP:
	case IPPROTO_NUM_ICMPV6:
		return TRANSPORT_ICMP;
	default:
		return TRANSPORT_UNKNOWN;
	}
}

/* The DNS analyzer attaches by responder port in Zeek's default mode. */
static bool dns_port(uint16_t port)
{
	return port == 53 || port == 137 || port == 5353 || port == 5355;
}

void conn_init(struct conn *c, const struct packet *p, bool flip, kg_time ts,
	       const struct flow_timeouts *t)
{
	/* Keep the table's bookkeeping, reset the rest. */
	uint32_t hash_next = c->hash_next, lru_prev = c->lru_prev, lru_next = c->lru_next;
	uint32_t heap_pos = c->heap_pos;
	uint64_t hash = c->hash;
	kg_time heap_key = c->heap_key;
	memset(c, 0, sizeof(*c));
	c->hash_next = hash_next;
	c->lru_prev = lru_prev;
	c->lru_next = lru_next;
	c->heap_pos = heap_pos;
	c->heap_key = heap_key;
	c->hash = hash;
	c->in_use = true;
	c->content_slot = c->http_slot = c->remote_slot = UINT32_MAX;

	c->ip_proto = p->ip_proto;
	c->proto = transport_of(p->ip_proto);
	c->orig_h = p->src;
	c->resp_h = p->dst;
	uint16_t sport = p->sport, dport = p->dport;
	if (c->proto == TRANSPORT_ICMP)
		icmp_ports(p->ip_proto, p->icmp_type, p->icmp_code, &sport, &dport, &c->one_way);
	else if (c->proto == TRANSPORT_UNKNOWN)
		sport = dport = 0;
	c->orig_p = sport;
	c->resp_p = dport;
	c->start_time = c->last_time = ts;
	c->orig_size = c->resp_size = -1;
	scaled_counter_init(&c->udp_chk[0]);
	scaled_counter_init(&c->udp_chk[1]);

	switch (c->proto) {
	case TRANSPORT_TCP:
		tcp_conn_init(c);
		/* TCP starts with UDP's inactivity timeout during the handshake. */
		c->inactivity_timeout = t->udp_inactivity;
		c->timers.expire[0] = ts + t->syn_timeout;
		break;
	case TRANSPORT_UDP:
		c->inactivity_timeout = t->udp_inactivity;
		break;
	case TRANSPORT_ICMP:
		c->inactivity_timeout = t->icmp_inactivity;
		break;
	case TRANSPORT_UNKNOWN:
		c->inactivity_timeout = t->unknown_inactivity;
		break;
	}
	if (flip) {
		conn_flip_roles(c);
	}
	if (c->proto == TRANSPORT_UDP && dns_port(c->resp_p)) {
		c->dns_analyzer = true;
		c->timers.dns = ts + t->dns_session;
	}
}

void conn_flip_roles(struct conn *c)
{
	struct kg_addr a = c->orig_h;
	c->orig_h = c->resp_h;
	c->resp_h = a;
	uint16_t port = c->orig_p;
	c->orig_p = c->resp_p;
	c->resp_p = port;
	uint64_t n = c->orig_pkts;
	c->orig_pkts = c->resp_pkts;
	c->resp_pkts = n;
	n = c->orig_ip_bytes;
	c->orig_ip_bytes = c->resp_ip_bytes;
	c->resp_ip_bytes = n;
	if (c->proto == TRANSPORT_TCP) {
		c->orig_idx ^= 1;
		c->ep[0].is_orig = !c->ep[0].is_orig;
		c->ep[1].is_orig = !c->ep[1].is_orig;
		c->first_packet_seen = (uint8_t)(((c->first_packet_seen & 1) ? 2 : 0) |
						 ((c->first_packet_seen & 2) ? 1 : 0));
		c->tcp_is_partial = false;
	}
	/* UDP/ICMP payload sums stay where they are: Zeek's UDP and ICMP
	 * adapters have no FlipRoles. */
	history_add(c, '^');
}

bool conn_packet_is_orig(const struct conn *c, const struct packet *p)
{
	uint16_t sport = p->sport, dport = p->dport;
	bool one_way;
	if (c->proto == TRANSPORT_ICMP)
		icmp_ports(p->ip_proto, p->icmp_type, p->icmp_code, &sport, &dport, &one_way);
	else if (c->proto == TRANSPORT_UNKNOWN)
		sport = 0;
	return addr_eq(&p->src, &c->orig_h) && sport == c->orig_p;
}

void conn_count_packet(struct conn *c, bool is_orig, uint32_t ip_len)
{
	if (is_orig) {
		c->orig_pkts++;
		c->orig_ip_bytes += ip_len;
	} else {
		c->resp_pkts++;
		c->resp_ip_bytes += ip_len;
	}
}

static enum tribool local_flag(const struct netset *local, const struct kg_addr *a)
{
	if (!local || local->n == 0)
		return TRI_UNSET;
	return netset_contains(local, a) ? TRI_TRUE : TRI_FALSE;
}

void conn_fill_record(const struct conn *c, const struct netset *local, struct conn_record *r)
{
	memset(r, 0, sizeof(*r));
	r->ts = c->start_time;
	memcpy(r->uid, c->uid, sizeof(r->uid));
	r->orig_h = c->orig_h;
	r->resp_h = c->resp_h;
	r->orig_p = c->orig_p;
	r->resp_p = c->resp_p;
	r->proto = c->proto;
	r->ip_proto = c->ip_proto;
	r->duration = c->last_time - c->start_time;
	switch (c->proto) {
	case TRANSPORT_TCP:
		r->orig_bytes = tcp_endpoint_size(c, true);
		r->resp_bytes = tcp_endpoint_size(c, false);
		r->conn_state = tcp_conn_state(c);
		r->missed_bytes = tcp_missed_bytes(c);
		break;
	case TRANSPORT_UDP:
		r->conn_state = udp_conn_state(c);
		r->orig_bytes = c->orig_size > 0 ? (uint64_t)c->orig_size : 0;
		r->resp_bytes = c->resp_size > 0 ? (uint64_t)c->resp_size : 0;
		break;
	case TRANSPORT_ICMP:
		r->conn_state = "OTH";
		r->orig_bytes = c->orig_size > 0 ? (uint64_t)c->orig_size : 0;
		r->resp_bytes = c->resp_size > 0 ? (uint64_t)c->resp_size : 0;
		break;
	case TRANSPORT_UNKNOWN:
		r->conn_state = "OTH";
		break;
	}
	r->local_orig = local_flag(local, &c->orig_h);
	r->local_resp = local_flag(local, &c->resp_h);
	memcpy(r->history, c->history, sizeof(r->history));
	r->orig_pkts = c->orig_pkts;
	r->orig_ip_bytes = c->orig_ip_bytes;
	r->resp_pkts = c->resp_pkts;
	r->resp_ip_bytes = c->resp_ip_bytes;
}

kg_time conn_next_deadline(const struct conn *c)
{
	kg_time next = c->last_time + c->inactivity_timeout;
	if (c->proto == TRANSPORT_TCP) {
		kg_time t = tcp_next_deadline(c);
		if (t && t < next)
			next = t;
	}
	if (c->timers.dns && c->timers.dns < next)
		next = c->timers.dns;
	return next;
}

bool conn_expire(struct conn *c, kg_time now, const struct flow_timeouts *t)
{
	if (c->proto == TRANSPORT_TCP && tcp_expire(c, now, t))
		return true;
	if (c->dns_analyzer && udp_dns_expire(c, now, t))
		return true;
	return c->last_time + c->inactivity_timeout <= now;
}
