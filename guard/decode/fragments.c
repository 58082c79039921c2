#include "decode/fragments.h"

#include <stdlib.h>
#include <string.h>

#include "decode/checksum.h"

#define FRAG_BLOCK 8u
#define FRAG_BLOCKS ((FRAG_MAX_DATA + FRAG_BLOCK - 1) / FRAG_BLOCK)
#define FRAG_BUF_SIZE (FRAG_MAX_HDR + FRAG_MAX_DATA)

struct frag_slot {
	bool in_use;
	bool poisoned; /* saw an inconsistent fragment: the rest is refused too */
	bool have_first;
	bool have_last;
	struct frag_key key;
	kg_time first_ts;
	uint64_t age; /* creation order, for evicting the oldest */
	uint32_t hdr_len;
	uint32_t next_hdr_pos;
	uint8_t frag_next;
	uint32_t data_end; /* end of the fragmentable part, once the last fragment is in */
	uint32_t max_end;  /* highest byte end seen so far */
	uint32_t blocks_filled;
	/* The header is stored right before the data, so the finished datagram is
	 * contiguous: buf[FRAG_MAX_HDR - hdr_len .. FRAG_MAX_HDR + data_end). */
	uint8_t *buf;
	uint8_t blockmap[FRAG_BLOCKS / 8 + 1];
};

struct frag_pool {
	struct frag_slot *slots;
	size_t n_slots;
	size_t in_use;
	kg_time timeout;
	uint64_t next_age;
	uint8_t *memory;
};

struct frag_pool *frag_pool_create(size_t max_datagrams, kg_time timeout)
{
	if (max_datagrams == 0)
		max_datagrams = FRAG_DEFAULT_DATAGRAMS;
	if (max_datagrams > FRAG_MAX_DATAGRAMS)
		return NULL;
	struct frag_pool *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->slots = calloc(max_datagrams, sizeof(*p->slots));
	/* One block for every buffer; pages are only touched when a slot is used. */
	p->memory = malloc(max_datagrams * (size_t)FRAG_BUF_SIZE);
	if (!p->slots || !p->memory) {
		frag_pool_destroy(p);
		return NULL;
	}
	p->n_slots = max_datagrams;
	p->timeout = timeout;
	for (size_t i = 0; i < max_datagrams; i++)
		p->slots[i].buf = p->memory + i * (size_t)FRAG_BUF_SIZE;
	return p;
}

void frag_pool_destroy(struct frag_pool *p)
{
	if (!p)
		return;
	free(p->slots);
	free(p->memory);
	free(p);
}

size_t frag_pool_in_use(const struct frag_pool *p)
{
	return p->in_use;
}

static bool frag_key_eq(const struct frag_key *a, const struct frag_key *b)
{
	return a->ip_version == b->ip_version && a->proto == b->proto && a->id == b->id &&
	       addr_eq(&a->src, &b->src) && addr_eq(&a->dst, &b->dst);
}

static void frag_slot_free(struct frag_pool *p, struct frag_slot *s)
{
	s->in_use = false;
	p->in_use--;
}

static void frag_slot_init(struct frag_pool *p, struct frag_slot *s, const struct frag_key *key,
			   kg_time now)
{
	uint8_t *buf = s->buf;
	memset(s, 0, sizeof(*s));
	s->buf = buf;
	s->in_use = true;
	s->key = *key;
	s->first_ts = now;
	s->age = p->next_age++;
	p->in_use++;
}

/* Expires old datagrams, finds this fragment's datagram, or makes room for it. */
static struct frag_slot *frag_slot_for(struct frag_pool *p, kg_time now, const struct frag_key *key,
				       struct decoder_stats *stats)
{
	struct frag_slot *found = NULL, *free_slot = NULL, *oldest = NULL;
	for (size_t i = 0; i < p->n_slots; i++) {
		struct frag_slot *s = &p->slots[i];
		if (s->in_use && p->timeout > 0 && now - s->first_ts > p->timeout) {
			if (!s->poisoned)
				stats->reason[DR_FRAG_TIMEOUT]++;
			frag_slot_free(p, s);
		}
		if (!s->in_use) {
			if (!free_slot)
				free_slot = s;
			continue;
		}
		if (!found && frag_key_eq(&s->key, key))
			found = s;
		if (!oldest || s->age < oldest->age)
			oldest = s;
	}
	if (found)
		return found;
	if (!free_slot) {
		/* Full: the oldest datagram makes way (oldest is set, n_slots > 0). */
		if (!oldest->poisoned)
			stats->reason[DR_FRAG_EVICTED]++;
		frag_slot_free(p, oldest);
		free_slot = oldest;
	}
	frag_slot_init(p, free_slot, key, now);
	return free_slot;
}

static bool frag_block_set(const struct frag_slot *s, uint32_t b)
{
	return s->blockmap[b / 8] & (1u << (b % 8));
}

/* The unfragmentable part plus the data must fit the 16-bit length field
 * (IPv4 total length, IPv6 payload length). */
static bool frag_fits(const struct frag_slot *s, const struct frag_piece *f, uint32_t end)
{
	uint32_t hdr_len = 0;
	if (f->offset == 0)
		hdr_len = f->hdr_len;
	else if (s->have_first)
		hdr_len = s->hdr_len;
	uint32_t counted_hdr = hdr_len;
	if (s->key.ip_version == 6)
		counted_hdr = hdr_len >= 40 ? hdr_len - 40 : 0;
	uint32_t data_end = end > s->max_end ? end : s->max_end;
	return counted_hdr + data_end <= 65535u;
}

/* Makes the stored header describe the whole datagram. */
static void frag_patch_header(struct frag_slot *s, uint8_t *hdr)
{
	uint32_t total = s->hdr_len + s->data_end;
	if (s->key.ip_version == 4) {
		hdr[2] = (uint8_t)(total >> 8);
		hdr[3] = (uint8_t)total;
		hdr[6] &= 0xc0; /* keep reserved and DF, clear MF and the offset */
		hdr[7] = 0;
		hdr[10] = hdr[11] = 0;
		uint16_t c = checksum_finish(checksum_add(0, hdr, s->hdr_len));
		hdr[10] = (uint8_t)(c >> 8);
		hdr[11] = (uint8_t)c;
	} else {
		uint32_t plen = total - 40;
		hdr[4] = (uint8_t)(plen >> 8);
		hdr[5] = (uint8_t)plen;
		hdr[s->next_hdr_pos] = s->frag_next;
	}
}

static enum frag_result frag_reject(struct frag_slot *s, enum decode_reason *why)
{
	s->poisoned = true;
	*why = DR_FRAG_INVALID;
	return FRAG_DROPPED;
}

enum frag_result frag_pool_add(struct frag_pool *p, kg_time now, const struct frag_piece *f,
			       struct decoder_stats *stats, const uint8_t **datagram,
			       uint32_t *datagram_len, enum decode_reason *why)
{
	uint32_t end = f->offset + f->len;
	/* Malformed on its own: no datagram is created for it. */
	if (f->offset % FRAG_BLOCK != 0 || end > FRAG_MAX_DATA || f->hdr_len > FRAG_MAX_HDR ||
	    (f->more && (f->len == 0 || f->len % FRAG_BLOCK != 0))) {
		*why = DR_FRAG_INVALID;
		return FRAG_DROPPED;
	}

	struct frag_slot *s = frag_slot_for(p, now, &f->key, stats);
	if (s->poisoned)
		return frag_reject(s, why);
	if (!f->more) {
		if ((s->have_last && s->data_end != end) || s->max_end > end)
			return frag_reject(s, why);
	} else if (s->have_last && end > s->data_end) {
		return frag_reject(s, why);
	}
	if (!frag_fits(s, f, end))
		return frag_reject(s, why);

	uint8_t *data = s->buf + FRAG_MAX_HDR;
	uint32_t first_block = f->offset / FRAG_BLOCK;
	uint32_t n_blocks = (f->len + FRAG_BLOCK - 1) / FRAG_BLOCK;
	uint32_t already = 0;
	for (uint32_t b = first_block; b < first_block + n_blocks; b++)
		already += frag_block_set(s, b);
	if (already > 0) {
		/* A pure duplicate (same range, same bytes) is harmless; any other
		 * overlap would let two readings of the datagram disagree. */
		if (already == n_blocks && f->len > 0 &&
		    memcmp(data + f->offset, f->data, f->len) == 0) {
			*why = DR_FRAG_PENDING;
			return FRAG_STORED;
		}
		return frag_reject(s, why);
	}

	memcpy(data + f->offset, f->data, f->len);
	for (uint32_t b = first_block; b < first_block + n_blocks; b++)
		s->blockmap[b / 8] |= (uint8_t)(1u << (b % 8));
	s->blocks_filled += n_blocks;
	if (end > s->max_end)
		s->max_end = end;
	if (!f->more) {
		s->have_last = true;
		s->data_end = end;
	}
	if (f->offset == 0 && !s->have_first) {
		s->have_first = true;
		s->hdr_len = f->hdr_len;
		s->next_hdr_pos = f->next_hdr_pos;
		s->frag_next = f->frag_next;
		memcpy(s->buf + FRAG_MAX_HDR - f->hdr_len, f->hdr, f->hdr_len);
	}

	if (s->have_first && s->have_last &&
	    s->blocks_filled == (s->data_end + FRAG_BLOCK - 1) / FRAG_BLOCK) {
		uint8_t *hdr = s->buf + FRAG_MAX_HDR - s->hdr_len;
		frag_patch_header(s, hdr);
		*datagram = hdr;
		*datagram_len = s->hdr_len + s->data_end;
		frag_slot_free(p, s); /* the bytes stay put until the slot is reused */
		return FRAG_COMPLETE;
	}
	*why = DR_FRAG_PENDING;
	return FRAG_STORED;
}
