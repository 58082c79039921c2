#include "flow/reassembly.h"

#include <string.h>

/* Zeek gives up on reassembly past these (tcp_max_above_hole_without_any_acks,
 * tcp_excessive_data_without_further_acks); after that no gap is reported. */
#define REASM_MAX_ABOVE_HOLE_NO_ACKS 16384u
#define REASM_MAX_UNACKED (10u * 1024u * 1024u)

void reasm_init(struct reassembler *r)
{
	memset(r, 0, sizeof(*r));
	/* Relative sequence numbers start at 1: the SYN octet is 0. */
	r->last_reassem_seq = 1;
	r->trim_seq = 1;
}

static void remove_block(struct reassembler *r, unsigned i)
{
	memmove(&r->blocks[i], &r->blocks[i + 1], (r->nblocks - i - 1) * sizeof(r->blocks[0]));
	r->nblocks--;
}

/* Moves last_reassem_seq through every block it now touches. */
static void deliver_contiguous(struct reassembler *r)
{
	while (r->nblocks > 0 && r->blocks[0].seq <= r->last_reassem_seq) {
		if (r->blocks[0].upper > r->last_reassem_seq)
			r->last_reassem_seq = r->blocks[0].upper;
		remove_block(r, 0);
	}
}

/* Inserts [seq, upper) above last_reassem_seq, merging overlaps. When the
 * block array is full the new range is merged into its nearest neighbour:
 * the hole between them is treated as seen (counted in blocks_dropped). */
static void insert_block(struct reassembler *r, uint64_t seq, uint64_t upper)
{
	unsigned i = 0;
	while (i < r->nblocks && r->blocks[i].upper < seq)
		i++;
	if (i < r->nblocks && r->blocks[i].seq <= upper) {
		/* Overlaps or touches block i (and maybe the following ones). */
		if (seq < r->blocks[i].seq)
			r->blocks[i].seq = seq;
		if (upper > r->blocks[i].upper)
			r->blocks[i].upper = upper;
		while (i + 1 < r->nblocks && r->blocks[i + 1].seq <= r->blocks[i].upper) {
			if (r->blocks[i + 1].upper > r->blocks[i].upper)
				r->blocks[i].upper = r->blocks[i + 1].upper;
			remove_block(r, i + 1);
		}
		return;
	}
	if (r->nblocks == REASM_MAX_BLOCKS) {
		r->blocks_dropped++;
		if (i == r->nblocks) {
			r->blocks[i - 1].upper = upper;
		} else {
			if (seq < r->blocks[i].seq)
				r->blocks[i].seq = seq;
		}
		return;
	}
	memmove(&r->blocks[i + 1], &r->blocks[i], (r->nblocks - i) * sizeof(r->blocks[0]));
	r->blocks[i].seq = seq;
	r->blocks[i].upper = upper;
	r->nblocks++;
}

static uint64_t undelivered_above_hole(const struct reassembler *r)
{
	if (r->nblocks == 0)
		return 0;
	return r->blocks[r->nblocks - 1].upper - r->last_reassem_seq;
}

static uint64_t buffered_bytes(const struct reassembler *r)
{
	uint64_t n = r->last_reassem_seq > r->trim_seq ? r->last_reassem_seq - r->trim_seq : 0;
	for (unsigned i = 0; i < r->nblocks; i++)
		n += r->blocks[i].upper - r->blocks[i].seq;
	return n;
}

void reasm_data(struct reassembler *r, uint64_t seq, uint64_t len, uint64_t acked,
		bool no_data_acked)
{
	if (r->skip_deliveries || len == 0)
		return;
	uint64_t upper = seq + len;
	if (seq < acked) {
		if (upper <= acked)
			return; /* delivered and acked already */
		seq = acked;
	}
	if (upper <= r->trim_seq)
		return;
	if (seq < r->trim_seq)
		seq = r->trim_seq;

	if (seq <= r->last_reassem_seq) {
		if (upper > r->last_reassem_seq)
			r->last_reassem_seq = upper;
		deliver_contiguous(r);
	} else {
		insert_block(r, seq, upper);
	}

	if (no_data_acked && undelivered_above_hole(r) > REASM_MAX_ABOVE_HOLE_NO_ACKS) {
		r->nblocks = 0;
		r->skip_deliveries = true;
	}
	if (buffered_bytes(r) > REASM_MAX_UNACKED) {
		r->nblocks = 0;
		r->skip_deliveries = true;
	}
	/* Zeek drops delivered data nobody acks once a side sent a lot of it
	 * (tcp_max_initial_window); that keeps one-sided captures from
	 * tripping the 10 MiB limit above. */
	if (no_data_acked && r->last_reassem_seq > 16384 + 1 && r->trim_seq < r->last_reassem_seq)
		r->trim_seq = r->last_reassem_seq;
}

static void undelivered(struct reassembler *r, uint64_t up_to, bool partial_conn, reasm_gap_fn gap,
			void *ctx)
{
	/* A partial connection's faked-up initial sequence: the first ack
	 * claims octet 1 (or 2 after a keep-alive) is missing. Zeek ignores it
	 * and, notably, leaves last_reassem_seq where it was. */
	if (up_to <= 2 && partial_conn)
		return;
	if (!r->skip_deliveries) {
		while (r->nblocks > 0 && r->blocks[0].seq < up_to) {
			if (r->blocks[0].seq > r->last_reassem_seq)
				gap(ctx, r->last_reassem_seq, r->blocks[0].seq - r->last_reassem_seq);
			if (r->blocks[0].upper > r->last_reassem_seq)
				r->last_reassem_seq = r->blocks[0].upper;
			remove_block(r, 0);
			deliver_contiguous(r);
		}
		if (up_to > r->last_reassem_seq)
			gap(ctx, r->last_reassem_seq, up_to - r->last_reassem_seq);
	}
	if (up_to > r->last_reassem_seq)
		r->last_reassem_seq = up_to;
}

void reasm_ack(struct reassembler *r, uint64_t seq, bool partial_conn, reasm_gap_fn gap, void *ctx)
{
	if (seq <= r->trim_seq)
		return;
	if (seq > r->last_reassem_seq)
		undelivered(r, seq, partial_conn, gap, ctx);
	while (r->nblocks > 0 && r->blocks[0].upper <= seq)
		remove_block(r, 0);
	if (r->nblocks > 0 && r->blocks[0].seq < seq)
		r->blocks[0].seq = seq;
	r->trim_seq = seq;
}
