#include "detect/lru_map.h"

#include <stdlib.h>
#include <string.h>

/* A slot that is not in use has prev == LRU_UNUSED (free slots only use next). */
#define LRU_UNUSED (UINT32_MAX - 1)

size_t lru_map_memory(size_t capacity, size_t key_len)
{
	size_t buckets = 1;
	while (buckets < capacity)
		buckets <<= 1;
	return buckets * sizeof(uint32_t) +
	       capacity * (3 * sizeof(uint32_t) + sizeof(kg_time) + key_len);
}

bool lru_map_init(struct lru_map *m, size_t capacity, size_t key_len, uint64_t seed)
{
	memset(m, 0, sizeof(*m));
	if (capacity == 0 || capacity > (1u << 30) || key_len == 0)
		return false;
	size_t buckets = 1;
	while (buckets < capacity)
		buckets <<= 1;
	m->capacity = (uint32_t)capacity;
	m->key_len = (uint32_t)key_len;
	m->bucket_mask = (uint32_t)(buckets - 1);
	m->seed = seed;
	m->bucket = malloc(buckets * sizeof(uint32_t));
	m->chain = malloc(capacity * sizeof(uint32_t));
	m->prev = malloc(capacity * sizeof(uint32_t));
	m->next = malloc(capacity * sizeof(uint32_t));
	m->touched = calloc(capacity, sizeof(kg_time));
	m->keys = calloc(capacity, key_len);
	if (!m->bucket || !m->chain || !m->prev || !m->next || !m->touched || !m->keys) {
		lru_map_fini(m);
		return false;
	}
	for (size_t i = 0; i < buckets; i++)
		m->bucket[i] = LRU_NONE;
	for (uint32_t i = 0; i < m->capacity; i++) {
		m->chain[i] = LRU_NONE;
		m->prev[i] = LRU_UNUSED;
		m->next[i] = i + 1 < m->capacity ? i + 1 : LRU_NONE;
	}
	m->free_head = 0;
	m->head = m->tail = LRU_NONE;
	return true;
}

void lru_map_fini(struct lru_map *m)
{
	free(m->bucket);
	free(m->chain);
	free(m->prev);
	free(m->next);
	free(m->touched);
	free(m->keys);
	memset(m, 0, sizeof(*m));
}

/* Keyed multiply-xorshift over 8-byte words: not cryptographic, but the seed
 * keeps a sender from choosing addresses that all land in one chain. */
static uint32_t lru_hash(const struct lru_map *m, const uint8_t *key)
{
	uint64_t h = m->seed ^ 0x9e3779b97f4a7c15ull ^ m->key_len;
	size_t i = 0;
	for (; i + 8 <= m->key_len; i += 8) {
		uint64_t w;
		memcpy(&w, key + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	uint64_t w = 0;
	for (size_t j = 0; i < m->key_len; i++, j++)
		w |= (uint64_t)key[i] << (8 * j);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 32;
	return (uint32_t)h & m->bucket_mask;
}

static uint8_t *slot_key(const struct lru_map *m, uint32_t slot)
{
	return m->keys + (size_t)slot * m->key_len;
}

uint32_t lru_map_find(const struct lru_map *m, const void *key)
{
	for (uint32_t s = m->bucket[lru_hash(m, key)]; s != LRU_NONE; s = m->chain[s])
		if (memcmp(slot_key(m, s), key, m->key_len) == 0)
			return s;
	return LRU_NONE;
}

static void list_unlink(struct lru_map *m, uint32_t s)
{
	if (m->prev[s] != LRU_NONE)
		m->next[m->prev[s]] = m->next[s];
	else
		m->head = m->next[s];
	if (m->next[s] != LRU_NONE)
		m->prev[m->next[s]] = m->prev[s];
	else
		m->tail = m->prev[s];
}

static void list_append(struct lru_map *m, uint32_t s)
{
	m->prev[s] = m->tail;
	m->next[s] = LRU_NONE;
	if (m->tail != LRU_NONE)
		m->next[m->tail] = s;
	else
		m->head = s;
	m->tail = s;
}

static void chain_unlink(struct lru_map *m, uint32_t s)
{
	uint32_t *link = &m->bucket[lru_hash(m, slot_key(m, s))];
	while (*link != s)
		link = &m->chain[*link];
	*link = m->chain[s];
	m->chain[s] = LRU_NONE;
}

void lru_map_remove(struct lru_map *m, uint32_t s)
{
	chain_unlink(m, s);
	list_unlink(m, s);
	m->prev[s] = LRU_UNUSED;
	m->next[s] = m->free_head;
	m->free_head = s;
	m->count--;
}

uint32_t lru_map_insert(struct lru_map *m, const void *key, kg_time now, bool *evicted)
{
	*evicted = false;
	uint32_t s;
	if (m->free_head != LRU_NONE) {
		s = m->free_head;
		m->free_head = m->next[s];
	} else {
		s = m->head;
		chain_unlink(m, s);
		list_unlink(m, s);
		m->count--;
		m->evictions++;
		*evicted = true;
	}
	memcpy(slot_key(m, s), key, m->key_len);
	uint32_t b = lru_hash(m, key);
	m->chain[s] = m->bucket[b];
	m->bucket[b] = s;
	list_append(m, s);
	m->touched[s] = now;
	m->count++;
	return s;
}

void lru_map_touch(struct lru_map *m, uint32_t s, kg_time now)
{
	m->touched[s] = now;
	if (m->tail == s)
		return;
	list_unlink(m, s);
	list_append(m, s);
}

uint32_t lru_map_oldest(const struct lru_map *m)
{
	return m->head;
}

kg_time lru_map_touched(const struct lru_map *m, uint32_t s)
{
	return m->touched[s];
}

const void *lru_map_key(const struct lru_map *m, uint32_t s)
{
	return slot_key(m, s);
}

bool lru_map_used(const struct lru_map *m, uint32_t s)
{
	return s < m->capacity && m->prev[s] != LRU_UNUSED;
}
