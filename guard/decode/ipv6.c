/* IPv6: the fixed header, the extension header chain (as Zeek walks it in
 * src/IP.cc: it stops at a fragment header or ESP), fragments, then transport. */
#include <string.h>

#include "decode/decode_internal.h"

#define IPV6_HDR_LEN 40
#define IPV6_MAX_EXT_HEADERS 10 /* real chains have a handful */

#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_ESP 50
#define IP6_AH 51
#define IP6_NONE 59
#define IP6_DSTOPTS 60

#define IP6_FRAG_HDR_LEN 8
#define IP6_ROUTING_TYPE0 0
#define IP6_FRAG_MORE 0x0001
#define IP6_FRAG_OFFSET_MASK 0xfff8

static bool ipv6_fail(enum decode_reason r, enum decode_reason *why)
{
	*why = r;
	return false;
}

/* Where the chain ended. */
struct ipv6_chain {
	uint32_t l4_off;	  /* first byte after the walked headers */
	uint8_t proto;		  /* the next header there */
	bool fragment;		  /* the walk stopped at a fragment header */
	uint32_t frag_off;	  /* its position */
	uint32_t next_hdr_pos;	  /* the byte that named it */
	const uint8_t *final_dst; /* from a type 0 routing header, as Zeek keys on it */
};

/* Walks the extension headers inside the first `avail` bytes (the captured
 * part of the datagram). */
static bool ipv6_walk(const uint8_t *ip, uint32_t avail, struct ipv6_chain *c,
		      enum decode_reason *why)
{
	uint8_t next = ip[6];
	uint32_t next_pos = 6;
	c->final_dst = NULL;
	uint32_t off = IPV6_HDR_LEN;
	for (int n = 0;; n++) {
		switch (next) {
		case IP6_HOPOPTS:
		case IP6_ROUTING:
		case IP6_DSTOPTS:
		case IP6_AH:
		case IP6_FRAGMENT:
			break;
		case IP6_ESP:  /* encrypted from here on: nothing to key a flow on */
		case IP6_NONE: /* Zeek's ipv6_no_next */
			return ipv6_fail(DR_IPV6_NO_TRANSPORT, why);
		default:
			c->l4_off = off;
			c->proto = next;
			c->fragment = false;
			return true;
		}
		if (n >= IPV6_MAX_EXT_HEADERS)
			return ipv6_fail(DR_IPV6_EXT_LOOP, why);
		if (avail - off < 2)
			return ipv6_fail(DR_IPV6_EXT_TRUNCATED, why);
		const uint8_t *h = ip + off;
		uint32_t len;
		if (next == IP6_FRAGMENT)
			len = IP6_FRAG_HDR_LEN;
		else if (next == IP6_AH)
			len = ((uint32_t)h[1] + 2) * 4;
		else
			len = ((uint32_t)h[1] + 1) * 8;
		if (avail - off < len)
			return ipv6_fail(DR_IPV6_EXT_TRUNCATED, why);
		/* Zeek (IPv6_Hdr_Chain::ProcessRoutingHeader) takes the last
		 * address of the first type 0 header with segments left as the
		 * destination; so does the pseudo header (RFC 8200 8.1). */
		if (next == IP6_ROUTING && !c->final_dst && h[2] == IP6_ROUTING_TYPE0 && h[3] > 0 &&
		    h[1] >= 2 && h[1] % 2 == 0)
			c->final_dst = h + len - 16;
		if (next == IP6_FRAGMENT) {
			c->l4_off = off + len;
			c->proto = h[0];
			c->fragment = true;
			c->frag_off = off;
			c->next_hdr_pos = next_pos;
			return true;
		}
		next = h[0];
		next_pos = off;
		off += len;
	}
}

static bool ipv6_fragment(struct decoder *d, const uint8_t *ip, uint32_t total,
			  const struct ipv6_chain *c, struct packet *out, const uint8_t **datagram,
			  uint32_t *datagram_len, enum decode_reason *why)
{
	const uint8_t *fh = ip + c->frag_off;
	uint16_t offlg = decode_be16(fh + 2);
	struct frag_piece piece = {
		.key = {.ip_version = 6,
			.id = decode_be32(fh + 4),
			.src = out->src,
			.dst = out->dst},
		.hdr = ip,
		.hdr_len = c->frag_off,
		.next_hdr_pos = c->next_hdr_pos,
		.frag_next = fh[0],
		.data = ip + c->l4_off,
		.offset = offlg & IP6_FRAG_OFFSET_MASK,
		.len = total - c->l4_off,
		.more = (offlg & IP6_FRAG_MORE) != 0,
	};
	enum frag_result r =
		frag_pool_add(d->frags, out->ts, &piece, &d->stats, datagram, datagram_len, why);
	return r == FRAG_COMPLETE;
}

bool ipv6_decode(struct decoder *d, const uint8_t *ip, uint32_t caplen, bool reassembled,
		 struct packet *out, enum decode_reason *why)
{
	if (caplen < IPV6_HDR_LEN)
		return ipv6_fail(DR_TRUNCATED_IP, why);
	if (ip[0] >> 4 != 6)
		return ipv6_fail(DR_BAD_IP_VERSION, why);

	uint32_t total = (uint32_t)decode_be16(ip + 4) + IPV6_HDR_LEN;
	out->ip_version = 6;
	out->ttl = ip[7];
	addr_from_v6(&out->src, ip + 8);
	addr_from_v6(&out->dst, ip + 24);
	out->ip_len = total;
	out->truncated = caplen < total;
	out->reassembled = reassembled;
	uint32_t avail = out->truncated ? caplen : total; /* without link-layer padding */

	struct ipv6_chain chain;
	if (!ipv6_walk(ip, avail, &chain, why))
		return false;
	out->ip_proto = chain.proto;
	if (chain.final_dst)
		addr_from_v6(&out->dst, chain.final_dst);

	if (chain.fragment) {
		if (reassembled) /* a fragment header inside a reassembled datagram */
			return ipv6_fail(DR_FRAG_INVALID, why);
		uint16_t offlg = decode_be16(ip + chain.frag_off + 2);
		if (out->truncated) {
			/* As for IPv4: only the first fragment is any use when cut short. */
			if ((offlg & IP6_FRAG_OFFSET_MASK) != 0)
				return ipv6_fail(DR_FRAG_INVALID, why);
		} else {
			const uint8_t *datagram;
			uint32_t datagram_len;
			if (!ipv6_fragment(d, ip, total, &chain, out, &datagram, &datagram_len,
					   why))
				return false;
			return ipv6_decode(d, datagram, datagram_len, true, out, why);
		}
	}

	out->l3 = ip;
	out->l3_caplen = avail;
	out->l4 = ip + chain.l4_off;
	out->l4_len = total - chain.l4_off;
	out->l4_caplen = avail - chain.l4_off;
	return transport_decode(d, out, why);
}
