/* The decoder's output: a bounds-checked view of one IP packet's L3/L4 headers.
 * Every pointer points into the caller's frame (or the decoder's reassembly
 * buffer for a reassembled fragment) and is valid until the next decode call. */
#ifndef KG_PACKET_H
#define KG_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#include "util/addr.h"
#include "util/kgtime.h"

#define IPPROTO_NUM_ICMP 1
#define IPPROTO_NUM_TCP 6
#define IPPROTO_NUM_UDP 17
#define IPPROTO_NUM_ICMPV6 58

#define TCPF_FIN 0x01
#define TCPF_SYN 0x02
#define TCPF_RST 0x04
#define TCPF_PSH 0x08
#define TCPF_ACK 0x10
#define TCPF_URG 0x20

/* Which checksum state the L4 header is in. */
enum l4_checksum {
	L4_CSUM_OK,	     /* verified and correct */
	L4_CSUM_BAD,	     /* verified and wrong: Zeek adds C/c and ignores the packet */
	L4_CSUM_NOT_CHECKED, /* -C, truncated capture, or IPv4 UDP checksum 0 */
};

struct packet {
	kg_time ts;

	uint8_t ip_version; /* 4 or 6 */
	uint8_t ip_proto;   /* final upper-layer protocol number (after IPv6 ext headers) */
	uint8_t ttl;	    /* TTL / hop limit */
	struct kg_addr src, dst;
	/* What Zeek counts in *_ip_bytes: IPv4 total length, IPv6 payload length + 40
	 * (of the reassembled datagram for fragments). */
	uint32_t ip_len;
	bool truncated; /* captured fewer bytes than the IP header says */
	bool reassembled; /* built from fragments */

	const uint8_t *l3; /* start of the IP header */
	uint32_t l3_caplen; /* bytes available from l3 */

	const uint8_t *l4;  /* start of the transport header */
	uint32_t l4_len;    /* transport length from the IP header (header + payload) */
	uint32_t l4_caplen; /* bytes of it actually captured */

	/* TCP/UDP: ports. ICMP/ICMPv6: sport = type, dport = code. Others: 0. */
	uint16_t sport, dport;
	uint8_t icmp_type, icmp_code;

	/* TCP only. */
	/* The 20 bytes with the ports are there, but the data offset is < 5 or past
	 * the segment or the capture. Zeek still creates the connection, then
	 * ignores the packet (TCP.cc ExtractTCP_Header): only ports are set. */
	bool l4_header_bad;
	uint8_t tcp_flags;
	uint32_t seq, ack;
	uint16_t window;
	int8_t wscale; /* window scale option value, -1 if absent */

	/* UDP only: the UDP header length field. */
	uint16_t udp_len;

	/* Transport payload: payload_len from the headers, payload_caplen captured. */
	const uint8_t *payload;
	uint32_t payload_len;
	uint32_t payload_caplen;

	enum l4_checksum csum;
};

#endif
