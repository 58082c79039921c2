#include "decode/icmp_error.h"

#include <string.h>

bool icmp_is_unreachable(const struct packet *p)
{
	return (p->ip_proto == IPPROTO_NUM_ICMP && p->icmp_type == 3) ||
	       (p->ip_proto == IPPROTO_NUM_ICMPV6 && p->icmp_type == 1);
}

static uint16_t be16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

bool icmp_quoted_flow(const struct packet *p, struct icmp_quoted_flow *out)
{
	const uint8_t *q = p->payload;
	uint32_t n = p->payload_caplen;
	memset(out, 0, sizeof(*out));
	if (!q || n < 1)
		return false;
	uint32_t hlen;
	if ((q[0] >> 4) == 4) {
		if (n < 20)
			return false;
		hlen = (uint32_t)(q[0] & 0x0f) * 4;
		if (hlen < 20 || hlen > n)
			return false;
		out->ip_proto = q[9];
		addr_from_v4(&out->src, q + 12);
		addr_from_v4(&out->dst, q + 16);
	} else if ((q[0] >> 4) == 6) {
		/* Extension headers in a quote are rare; the fixed header is enough. */
		if (n < 40)
			return false;
		hlen = 40;
		out->ip_proto = q[6];
		addr_from_v6(&out->src, q + 8);
		addr_from_v6(&out->dst, q + 24);
	} else {
		return false;
	}
	if ((out->ip_proto == IPPROTO_NUM_TCP || out->ip_proto == IPPROTO_NUM_UDP) && n >= hlen + 4) {
		out->sport = be16(q + hlen);
		out->dport = be16(q + hlen + 2);
	}
	return true;
}
