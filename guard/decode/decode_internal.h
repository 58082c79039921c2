/* Private to guard/decode: the decoder object and the interfaces between the
 * link-layer, IP, fragment and transport stages. Each stage either fills its
 * part of struct packet and returns true, or returns false with *why set. */
#ifndef KG_DECODE_INTERNAL_H
#define KG_DECODE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "decode/decode.h"
#include "decode/fragments.h"

struct decoder {
	struct decoder_config cfg;
	struct decoder_stats stats;
	struct frag_pool *frags;
	bool l4_csum_unset; /* this packet's L4 checksum is not filled in yet (offload) */
};

/* Big-endian reads; callers have checked the bounds. */
static inline uint16_t decode_be16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t decode_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Finds the IP header inside a link-layer frame: *l3_offset is where it starts. */
bool link_locate_ip(int linktype, const uint8_t *frame, uint32_t caplen, uint32_t *l3_offset,
		    enum decode_reason *why);

/* IP stage: dispatches on the version nibble. `ip` has `caplen` captured bytes. */
bool ip_decode(struct decoder *d, const uint8_t *ip, uint32_t caplen, struct packet *out,
	       enum decode_reason *why);
bool ipv4_decode(struct decoder *d, const uint8_t *ip, uint32_t caplen, bool reassembled,
		 struct packet *out, enum decode_reason *why);
bool ipv6_decode(struct decoder *d, const uint8_t *ip, uint32_t caplen, bool reassembled,
		 struct packet *out, enum decode_reason *why);

/* Transport stage: out->l3/l4/l4_len/l4_caplen/ip_proto/ip_version are set. */
bool transport_decode(const struct decoder *d, struct packet *out, enum decode_reason *why);

#endif
