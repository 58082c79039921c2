/* Content-gap tracking for one TCP direction, as Zeek's TCP_Reassembler sees
 * gaps (missed_bytes, history G). It stores no payload: only which relative
 * sequence ranges arrived, in a fixed number of out-of-order blocks. */
#ifndef KG_REASSEMBLY_H
#define KG_REASSEMBLY_H

#include <stdbool.h>
#include <stdint.h>

#define REASM_MAX_BLOCKS 8

struct reasm_block {
	uint64_t seq, upper;
};

struct reassembler {
	uint64_t last_reassem_seq; /* everything below was delivered (or given up as a gap) */
	uint64_t trim_seq;	   /* everything below was acked */
	bool skip_deliveries;	   /* gave up, like Zeek after too much unacked data */
	uint8_t nblocks;
	struct reasm_block blocks[REASM_MAX_BLOCKS]; /* sorted, above last_reassem_seq */
	uint64_t blocks_dropped;   /* out-of-order blocks we had no room for */
};

/* Called for each gap found; `len` bytes at `seq` were never seen. */
typedef void (*reasm_gap_fn)(void *ctx, uint64_t seq, uint64_t len);

void reasm_init(struct reassembler *r);
/* Data [seq, seq+len) was sent; `acked` is the peer's highest ACK (relative).
 * `no_data_acked` says the peer never acked any of this side's data. */
void reasm_data(struct reassembler *r, uint64_t seq, uint64_t len, uint64_t acked,
		bool no_data_acked);
/* The peer acked up to `seq`. Reports gaps below it through `gap`, unless
 * `partial_start` (partial connection and seq <= 2). */
void reasm_ack(struct reassembler *r, uint64_t seq, bool partial_conn, reasm_gap_fn gap, void *ctx);

#endif
