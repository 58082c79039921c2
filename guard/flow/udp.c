/* UDP as Zeek's UDPSessionAdapter sees it, plus the DNS analyzer's two
 * effects on conn.log: its role flip and its 10 s session timer. */
#include "flow/flow.h"
#include "flow/history.h"

#define DNS_HEADER_LEN 12

static void dns_first_message(struct conn *c, const struct packet *p, bool is_orig)
{
	if (c->dns_seen_message || p->payload_caplen < DNS_HEADER_LEN)
		return;
	c->dns_seen_message = true;
	bool is_response = (p->payload[2] & 0x80) != 0;
	/* IsMulticast for IPv4 only looks for a first octet of 224. */
	bool resp_multicast = addr_is_v4(&c->resp_h) ? c->resp_h.b[12] == 224 : c->resp_h.b[0] == 0xff;
	if (is_response && is_orig && !resp_multicast)
		conn_flip_roles(c);
}

void udp_process(struct conn *c, const struct packet *p, bool is_orig, const struct flow_timeouts *t)
{
	(void)t;
	if (p->csum == L4_CSUM_BAD) {
		history_scaled(c, &c->udp_chk[is_orig ? 0 : 1], is_orig ? 'C' : 'c');
		return;
	}
	c->last_time = p->ts;
	int64_t ulen = (int64_t)p->udp_len - 8;
	if (ulen < 0)
		ulen = 0;
	if (is_orig) {
		history_check(c, HIST_UDP_ORIG_DATA, 'D');
		c->orig_size = c->orig_size < 0 ? ulen : c->orig_size + ulen;
	} else {
		history_check(c, HIST_UDP_RESP_DATA, 'd');
		c->resp_size = c->resp_size < 0 ? ulen : c->resp_size + ulen;
	}
	if (c->dns_analyzer)
		dns_first_message(c, p, is_orig);
}

bool udp_dns_expire(struct conn *c, kg_time now, const struct flow_timeouts *t)
{
	while (c->timers.dns && c->timers.dns <= now) {
		kg_time fired = c->timers.dns;
		if (fired - c->last_time >= t->dns_session - KG_SEC(1))
			return true;
		c->timers.dns = fired + t->dns_session;
	}
	return false;
}

const char *udp_conn_state(const struct conn *c)
{
	bool o = c->orig_size >= 0, r = c->resp_size >= 0;
	if (o && r)
		return "SF";
	if (o)
		return "S0";
	if (r)
		return "SHR";
	return "OTH";
}
