/* The first bytes of each direction of a flow, in order, bounded, with the
 * boundaries of the first segments/datagrams (fingerprints need exact UDP
 * datagram sizes and TCP packet counts). Out-of-order TCP data is not
 * reassembled: the direction stops growing and says so. */
#ifndef KG_CONTENT_H
#define KG_CONTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTENT_BYTES 1024 /* per direction */
#define CONTENT_SEGMENTS 4 /* first segments/datagrams remembered per direction */

struct content_dir {
	uint8_t data[CONTENT_BYTES];
	uint16_t len;			 /* bytes stored (may be a prefix of the segments) */
	uint8_t nseg;			 /* segments recorded in seg_len (at most CONTENT_SEGMENTS) */
	uint16_t seg_len[CONTENT_SEGMENTS]; /* full payload length of each (UDP: datagram) */
	uint32_t segments_seen;		 /* all payload-carrying packets, also past nseg */
	bool stalled;			 /* TCP: a hole before new data; no more bytes taken */
	uint32_t next_seq;		 /* TCP: next expected sequence number */
	bool have_seq;
};

struct content {
	struct content_dir dir[2]; /* [0] originator -> responder, [1] the reverse */
	bool resp_spoke_first;	   /* the responder sent payload before the originator */
};

/* A read-only view passed to the fingerprint matchers. */
struct content_view {
	uint8_t ip_proto; /* 6 TCP, 17 UDP */
	uint16_t resp_port;
	const struct content_dir *orig, *resp;
	bool resp_spoke_first;
};

void content_init(struct content *c);
/* Adds one packet's payload. For TCP pass the segment's sequence number
 * (seq of the first payload byte); UDP ignores `seq`. Returns true if new
 * bytes or a new segment were recorded. */
bool content_add(struct content *c, bool from_orig, uint8_t ip_proto, uint32_t seq,
		 const uint8_t *payload, uint32_t caplen, uint32_t len);
void content_view(const struct content *c, uint8_t ip_proto, uint16_t resp_port,
		  struct content_view *v);

#endif
