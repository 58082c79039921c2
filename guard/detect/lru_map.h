/* A fixed-capacity map from fixed-size byte keys to slot numbers, with an LRU
 * order (least recently touched first) for eviction and aging. Values live in
 * the caller's arrays, indexed by slot. Everything is allocated at init. */
#ifndef KG_LRU_MAP_H
#define KG_LRU_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/kgtime.h"

#define LRU_NONE UINT32_MAX

struct lru_map {
	uint32_t capacity, count, key_len, bucket_mask;
	uint32_t *bucket;      /* head slot of each hash chain */
	uint32_t *chain;       /* next slot in the same chain */
	uint32_t *prev, *next; /* LRU list (head = oldest); next[] is also the free list */
	kg_time *touched;
	uint8_t *keys;
	uint32_t head, tail, free_head;
	uint64_t seed;
	uint64_t evictions; /* lru_map_insert pushed out the oldest entry */
};

/* False when capacity is 0 or above 2^30, or on allocation failure. */
bool lru_map_init(struct lru_map *m, size_t capacity, size_t key_len, uint64_t seed);
void lru_map_fini(struct lru_map *m);
/* Approximate bytes lru_map_init allocates. */
size_t lru_map_memory(size_t capacity, size_t key_len);

uint32_t lru_map_find(const struct lru_map *m, const void *key);
/* Adds a key that is not present and makes it the newest. When the map is
 * full the oldest entry is removed first and its slot reused: *evicted is set
 * so the caller can release that slot's value before initializing it. */
uint32_t lru_map_insert(struct lru_map *m, const void *key, kg_time now, bool *evicted);
void lru_map_touch(struct lru_map *m, uint32_t slot, kg_time now);
void lru_map_remove(struct lru_map *m, uint32_t slot);
/* The least recently touched slot, or LRU_NONE when empty. */
uint32_t lru_map_oldest(const struct lru_map *m);
kg_time lru_map_touched(const struct lru_map *m, uint32_t slot);
const void *lru_map_key(const struct lru_map *m, uint32_t slot);
bool lru_map_used(const struct lru_map *m, uint32_t slot);

#endif
