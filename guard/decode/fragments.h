/* IPv4/IPv6 fragment reassembly in a fixed pool sized at creation: no
 * allocation per packet. A datagram is keyed by (version, src, dst, id, and for
 * IPv4 the protocol), tracked in 8-byte blocks, and handed back whole once its
 * first and last fragments and every hole between them have arrived. */
#ifndef KG_DECODE_FRAGMENTS_H
#define KG_DECODE_FRAGMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"
#include "util/addr.h"
#include "util/kgtime.h"

#define FRAG_DEFAULT_DATAGRAMS 64
#define FRAG_MAX_DATAGRAMS 4096
/* Largest fragmentable part: an IPv6 payload length is 16 bits. */
#define FRAG_MAX_DATA 65535u
/* Largest unfragmentable part kept (IPv4 header with options, or IPv6 header
 * plus the extension headers before the fragment header). */
#define FRAG_MAX_HDR 1024u

struct frag_key {
	uint8_t ip_version;
	uint8_t proto; /* IPv4 only; 0 for IPv6 */
	uint32_t id;
	struct kg_addr src, dst;
};

/* One fragment as the IP stage sees it. */
struct frag_piece {
	struct frag_key key;
	const uint8_t *hdr; /* the IP header (+ unfragmentable extension headers) */
	uint32_t hdr_len;
	/* IPv6: where in hdr the next-header byte that names the fragment header
	 * sits, and the fragment header's own next header, so the reassembled
	 * datagram can be stitched without it. */
	uint32_t next_hdr_pos;
	uint8_t frag_next;
	const uint8_t *data; /* the fragment's share of the fragmentable part */
	uint32_t offset;     /* in bytes, a multiple of 8 */
	uint32_t len;
	bool more; /* MF */
};

enum frag_result {
	FRAG_STORED,   /* kept; the datagram is not complete yet */
	FRAG_COMPLETE, /* *datagram holds the whole IP datagram */
	FRAG_DROPPED,  /* invalid; *why says so */
};

struct frag_pool;

/* max_datagrams 0 means FRAG_DEFAULT_DATAGRAMS; more than FRAG_MAX_DATAGRAMS
 * or an allocation failure gives NULL. timeout <= 0: datagrams never expire. */
struct frag_pool *frag_pool_create(size_t max_datagrams, kg_time timeout);
void frag_pool_destroy(struct frag_pool *p);
/* Adds a fragment. Evicted and expired datagrams are counted in stats. A
 * completed datagram is valid until the next call. */
enum frag_result frag_pool_add(struct frag_pool *p, kg_time now, const struct frag_piece *f,
			       struct decoder_stats *stats, const uint8_t **datagram,
			       uint32_t *datagram_len, enum decode_reason *why);
/* Datagrams currently held (for tests and status). */
size_t frag_pool_in_use(const struct frag_pool *p);

#endif
