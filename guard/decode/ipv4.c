/* IPv4: header checks in Zeek's order (src/packet_analysis/protocol/ip/IP.cc),
 * fragments to the reassembly pool, then the transport stage. */
#include <string.h>

#include "decode/checksum.h"
#include "decode/decode_internal.h"

#define IPV4_MIN_HDR 20
#define IPV4_FLAG_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff

static bool ipv4_fail(enum decode_reason r, enum decode_reason *why)
{
	*why = r;
	return false;
}

/* Hands a fragment to the pool. True with *datagram set when it completed one. */
static bool ipv4_fragment(struct decoder *d, const uint8_t *ip, uint32_t hlen, uint32_t total,
			  struct packet *out, const uint8_t **datagram, uint32_t *datagram_len,
			  enum decode_reason *why)
{
	uint16_t frag = decode_be16(ip + 6);
	struct frag_piece piece = {
		.key = {.ip_version = 4,
			.proto = ip[9],
			.id = decode_be16(ip + 4),
			.src = out->src,
			.dst = out->dst},
		.hdr = ip,
		.hdr_len = hlen,
		.data = ip + hlen,
		.offset = (uint32_t)(frag & IPV4_OFFSET_MASK) * 8,
		.len = total - hlen,
		.more = (frag & IPV4_FLAG_MF) != 0,
	};
	enum frag_result r =
		frag_pool_add(d->frags, out->ts, &piece, &d->stats, datagram, datagram_len, why);
	return r == FRAG_COMPLETE;
}

bool ipv4_decode(struct decoder *d, const uint8_t *ip, uint32_t caplen, bool reassembled,
		 struct packet *out, enum decode_reason *why)
{
	if (caplen < IPV4_MIN_HDR)
		return ipv4_fail(DR_TRUNCATED_IP, why);
	if (ip[0] >> 4 != 4)
		return ipv4_fail(DR_BAD_IP_VERSION, why);
	uint32_t hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	if (hlen < IPV4_MIN_HDR)
		return ipv4_fail(DR_BAD_IHL, why);

	uint32_t header_total = decode_be16(ip + 2);
	uint32_t total = header_total;
	if (total == 0) {
		/* TCP segmentation offload zeroes the length. Zeek then uses the
		 * captured length with -C and drops the packet without it; the
		 * counted bytes stay 0 (connlog.md 7.5). */
		if (!d->cfg.ignore_checksums)
			return ipv4_fail(DR_BAD_IP_LEN, why);
		total = caplen;
	}
	if (total < hlen)
		return ipv4_fail(DR_BAD_IP_LEN, why);
	if (hlen > caplen)
		return ipv4_fail(DR_BAD_IHL, why);
	if (!reassembled && !d->cfg.ignore_checksums && !checksum_ipv4_header_ok(ip, hlen))
		return ipv4_fail(DR_BAD_IP_CHECKSUM, why);

	out->ip_version = 4;
	out->ip_proto = ip[9];
	out->ttl = ip[8];
	addr_from_v4(&out->src, ip + 12);
	addr_from_v4(&out->dst, ip + 16);
	out->ip_len = header_total;
	out->truncated = caplen < total;
	out->reassembled = reassembled;

	uint16_t frag = decode_be16(ip + 6);
	if (!reassembled && (frag & (IPV4_FLAG_MF | IPV4_OFFSET_MASK)) != 0) {
		if (out->truncated) {
			/* A fragment captured short cannot be reassembled. Like Zeek,
			 * keep the first one (its headers are still useful). */
			if ((frag & IPV4_OFFSET_MASK) != 0)
				return ipv4_fail(DR_FRAG_INVALID, why);
		} else {
			const uint8_t *datagram;
			uint32_t datagram_len;
			if (!ipv4_fragment(d, ip, hlen, total, out, &datagram, &datagram_len, why))
				return false;
			return ipv4_decode(d, datagram, datagram_len, true, out, why);
		}
	}

	out->l3 = ip;
	out->l3_caplen = out->truncated ? caplen : total; /* Ethernet padding is not ours */
	out->l4 = ip + hlen;
	out->l4_len = total - hlen;
	out->l4_caplen = out->l3_caplen - hlen;
	return transport_decode(d, out, why);
}
