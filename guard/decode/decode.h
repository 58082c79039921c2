/* Decoder: link layer -> IP (with fragment reassembly) -> TCP/UDP/ICMP.
 * Pure: no syscalls. The only memory it owns is the reassembly pool, sized at
 * decoder_create(). Malformed input is counted by reason and never read past
 * its captured length. */
#ifndef KG_DECODE_H
#define KG_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/packet.h"

/* Link types we accept (pcap LINKTYPE_* values). */
#define KG_LINK_NULL 0	     /* BSD loopback, host byte order family */
#define KG_LINK_ETHERNET 1
#define KG_LINK_RAW 101	     /* raw IPv4/IPv6 */
#define KG_LINK_LOOP 108     /* OpenBSD loopback, network byte order family */
#define KG_LINK_LINUX_SLL 113
#define KG_LINK_IPV4 228
#define KG_LINK_IPV6 229
#define KG_LINK_LINUX_SLL2 276
#define KG_LINK_DLT_RAW 12   /* DLT_RAW on some platforms */
#define KG_LINK_DLT_RAW_BSD 14
#define KG_LINK_FDDI 10	     /* FDDI + 802.2 LLC/SNAP (Zeek's llc.pcap) */

/* Reasons a packet was not decoded into struct packet (Zeek's "weirds"). */
enum decode_reason {
	DR_TRUNCATED_LINK,	/* link-layer header cut short */
	DR_UNKNOWN_ETHERTYPE,	/* not IP after all link-layer tags (ARP, LLDP...) */
	DR_TRUNCATED_IP,	/* fewer bytes than a minimal IP header */
	DR_BAD_IP_VERSION,
	DR_BAD_IHL,		/* IPv4 header length < 20 or past the end */
	DR_BAD_IP_LEN,		/* total length < header length */
	DR_BAD_IP_CHECKSUM,	/* IPv4 header checksum wrong (not with -C) */
	DR_IPV6_EXT_TRUNCATED,	/* extension header chain runs past the end */
	DR_IPV6_EXT_LOOP,	/* too many extension headers */
	DR_FRAG_INVALID,	/* overlapping / oversize / inconsistent fragment */
	DR_FRAG_PENDING,	/* fragment stored, datagram not complete yet (not an error) */
	DR_FRAG_EVICTED,	/* reassembly pool full: oldest datagram dropped */
	DR_TRUNCATED_TCP,	/* TCP header < 20 bytes captured */
	DR_BAD_TCP_OFFSET,	/* data offset < 5 or past the segment */
	DR_TRUNCATED_UDP,
	DR_BAD_UDP_LEN,		/* UDP length field < 8 */
	DR_TRUNCATED_ICMP,
	DR_UNSUPPORTED_LINK,	/* link type not handled */
	DR_ZERO_LENGTH,
	DR_IPV6_NO_TRANSPORT,	/* IPv6 chain ends in ESP or no-next-header: Zeek makes no connection */
	DR_FRAG_TIMEOUT,	/* datagram still incomplete after frag_timeout: dropped */
	DR_COUNT
};

const char *decode_reason_name(enum decode_reason r);

enum decode_status {
	DECODE_OK,	/* *out is filled */
	DECODE_SKIP,	/* not for the flow table; the reason was counted */
};

struct decoder_config {
	bool ignore_checksums; /* like zeek -C */
	size_t frag_max_datagrams; /* datagrams being reassembled at once (0: 64, max 4096) */
	kg_time frag_timeout;	   /* <= 0: none, like Zeek's default; the pool still evicts */
};

/* packets = decoded + skipped. reason[] counts each skipped packet once, plus
 * decoded packets with l4_header_bad, plus evicted or expired datagrams. */
struct decoder_stats {
	uint64_t packets;
	uint64_t decoded;
	uint64_t reason[DR_COUNT];
};

struct decoder;

struct decoder *decoder_create(const struct decoder_config *cfg);
void decoder_destroy(struct decoder *d);
/* True if the decoder understands this link type. */
bool decoder_link_supported(int linktype);
/* Decode one captured frame. wirelen is the original length (unused for
 * counting: lengths come from the IP header, like Zeek). */
enum decode_status decoder_frame(struct decoder *d, int linktype, kg_time ts, const uint8_t *frame,
				 uint32_t caplen, struct packet *out);
/* Decode a packet that starts at the IP header (NFQUEUE delivers these). */
enum decode_status decoder_ip(struct decoder *d, kg_time ts, const uint8_t *ip, uint32_t caplen,
			      struct packet *out);
/* The same, with DECODE_F_* flags. */
#define DECODE_F_L4_CSUM_UNSET 0x1 /* GSO / checksum offload: the L4 checksum is not filled in */
enum decode_status decoder_ip_flags(struct decoder *d, kg_time ts, const uint8_t *ip,
				    uint32_t caplen, unsigned flags, struct packet *out);
const struct decoder_stats *decoder_stats(const struct decoder *d);

#endif
