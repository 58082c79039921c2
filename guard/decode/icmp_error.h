/* The flow an ICMP/ICMPv6 error is about: the IP header and first transport
 * bytes it quotes (RFC 792 / RFC 4443). Bounds-checked against the capture. */
#ifndef KG_ICMP_ERROR_H
#define KG_ICMP_ERROR_H

#include <stdbool.h>
#include <stdint.h>

#include "decode/packet.h"

struct icmp_quoted_flow {
	struct kg_addr src, dst; /* of the quoted packet: the original sender first */
	uint8_t ip_proto;
	uint16_t sport, dport;	 /* 0 when the quote is too short */
};

/* True for destination-unreachable (v4 type 3, v6 type 1) errors. */
bool icmp_is_unreachable(const struct packet *p);
/* Parses the quoted packet of an ICMP error. False if it is cut short or not IP. */
bool icmp_quoted_flow(const struct packet *p, struct icmp_quoted_flow *out);

#endif
