#include "flow/table.h"

#include "flow/flow.h"

#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

struct flow_table {
	size_t capacity;
	uint64_t seed;
	struct conn *pool;
	uint32_t *buckets;
	uint32_t bucket_mask;
	uint32_t free_head; /* freed slots chained through hash_next */
	uint32_t next_unused; /* slots from here on were never used: no need to touch them at start */
	size_t count;
	uint32_t lru_head, lru_tail; /* head = oldest activity */
	uint32_t *heap;		     /* slot indices ordered by heap_key */
	size_t heap_len;
};

static uint32_t slot_of(const struct flow_table *t, const struct conn *c)
{
	return (uint32_t)(c - t->pool);
}

struct flow_table *flow_table_create(size_t capacity, uint64_t hash_seed)
{
	if (capacity == 0 || capacity >= NIL / 2)
		return NULL;
	struct flow_table *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	size_t nb = 1;
	while (nb < capacity * 2)
		nb <<= 1;
	t->capacity = capacity;
	t->seed = hash_seed;
	t->pool = calloc(capacity, sizeof(*t->pool));
	t->buckets = malloc(nb * sizeof(*t->buckets));
	t->heap = malloc(capacity * sizeof(*t->heap));
	if (!t->pool || !t->buckets || !t->heap) {
		flow_table_destroy(t);
		return NULL;
	}
	t->bucket_mask = (uint32_t)(nb - 1);
	for (size_t i = 0; i < nb; i++)
		t->buckets[i] = NIL;
	t->free_head = NIL;
	t->next_unused = 0;
	t->lru_head = t->lru_tail = NIL;
	return t;
}

void flow_table_destroy(struct flow_table *t)
{
	if (!t)
		return;
	free(t->pool);
	free(t->buckets);
	free(t->heap);
	free(t);
}

void flow_key_from_packet(const struct packet *p, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	uint16_t sport = p->sport, dport = p->dport;
	bool one_way = false;
	if (p->ip_proto == IPPROTO_NUM_ICMP || p->ip_proto == IPPROTO_NUM_ICMPV6) {
		icmp_ports(p->ip_proto, p->icmp_type, p->icmp_code, &sport, &dport, &one_way);
	} else if (p->ip_proto != IPPROTO_NUM_TCP && p->ip_proto != IPPROTO_NUM_UDP) {
		sport = dport = 0;
	}
	k->ip_proto = p->ip_proto;
	k->one_way = one_way;
	int cmp = addr_cmp(&p->src, &p->dst);
	if (one_way || cmp < 0 || (cmp == 0 && sport <= dport)) {
		k->lo_addr = p->src;
		k->hi_addr = p->dst;
		k->lo_port = sport;
		k->hi_port = dport;
	} else {
		k->lo_addr = p->dst;
		k->hi_addr = p->src;
		k->lo_port = dport;
		k->hi_port = sport;
	}
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t load64(const uint8_t *b)
{
	uint64_t v;
	memcpy(&v, b, 8);
	return v;
}

static uint64_t key_hash(const struct flow_table *t, const struct flow_key *k)
{
	uint64_t h = t->seed;
	h = mix64(h ^ load64(k->lo_addr.b));
	h = mix64(h ^ load64(k->lo_addr.b + 8));
	h = mix64(h ^ load64(k->hi_addr.b));
	h = mix64(h ^ load64(k->hi_addr.b + 8));
	h = mix64(h ^ ((uint64_t)k->lo_port << 32 | (uint64_t)k->hi_port << 16 |
		       (uint64_t)k->ip_proto << 8 | k->one_way));
	return h;
}

static void key_of_conn(const struct conn *c, struct flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->ip_proto = c->ip_proto;
	k->one_way = c->one_way;
	int cmp = addr_cmp(&c->orig_h, &c->resp_h);
	if (c->one_way || cmp < 0 || (cmp == 0 && c->orig_p <= c->resp_p)) {
		k->lo_addr = c->orig_h;
		k->hi_addr = c->resp_h;
		k->lo_port = c->orig_p;
		k->hi_port = c->resp_p;
	} else {
		k->lo_addr = c->resp_h;
		k->hi_addr = c->orig_h;
		k->lo_port = c->resp_p;
		k->hi_port = c->orig_p;
	}
}

static bool key_eq(const struct flow_key *a, const struct flow_key *b)
{
	return a->ip_proto == b->ip_proto && a->one_way == b->one_way &&
	       a->lo_port == b->lo_port && a->hi_port == b->hi_port &&
	       addr_eq(&a->lo_addr, &b->lo_addr) && addr_eq(&a->hi_addr, &b->hi_addr);
}

struct conn *flow_table_lookup(struct flow_table *t, const struct flow_key *k)
{
	uint64_t h = key_hash(t, k);
	for (uint32_t i = t->buckets[h & t->bucket_mask]; i != NIL; i = t->pool[i].hash_next) {
		struct conn *c = &t->pool[i];
		if (c->hash != h)
			continue;
		struct flow_key ck;
		key_of_conn(c, &ck);
		if (key_eq(&ck, k))
			return c;
	}
	return NULL;
}

static void lru_unlink(struct flow_table *t, struct conn *c)
{
	if (c->lru_prev != NIL)
		t->pool[c->lru_prev].lru_next = c->lru_next;
	else
		t->lru_head = c->lru_next;
	if (c->lru_next != NIL)
		t->pool[c->lru_next].lru_prev = c->lru_prev;
	else
		t->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NIL;
}

static void lru_append(struct flow_table *t, struct conn *c)
{
	uint32_t s = slot_of(t, c);
	c->lru_next = NIL;
	c->lru_prev = t->lru_tail;
	if (t->lru_tail != NIL)
		t->pool[t->lru_tail].lru_next = s;
	else
		t->lru_head = s;
	t->lru_tail = s;
}

struct conn *flow_table_insert(struct flow_table *t, const struct flow_key *k)
{
	uint32_t s;
	if (t->free_head != NIL) {
		s = t->free_head;
		t->free_head = t->pool[s].hash_next;
	} else if (t->next_unused < t->capacity) {
		s = t->next_unused++;
	} else {
		return NULL;
	}
	struct conn *c = &t->pool[s];
	memset(c, 0, sizeof(*c));
	c->heap_pos = NIL;
	c->in_use = true;
	c->hash = key_hash(t, k);
	uint32_t b = (uint32_t)(c->hash & t->bucket_mask);
	c->hash_next = t->buckets[b];
	t->buckets[b] = s;
	lru_append(t, c);
	t->count++;
	return c;
}

/* --- timer heap --- */

static void heap_set(struct flow_table *t, size_t pos, uint32_t slot)
{
	t->heap[pos] = slot;
	t->pool[slot].heap_pos = (uint32_t)pos;
}

static void heap_up(struct flow_table *t, size_t pos)
{
	uint32_t slot = t->heap[pos];
	kg_time key = t->pool[slot].heap_key;
	while (pos > 0) {
		size_t parent = (pos - 1) / 2;
		if (t->pool[t->heap[parent]].heap_key <= key)
			break;
		heap_set(t, pos, t->heap[parent]);
		pos = parent;
	}
	heap_set(t, pos, slot);
}

static void heap_down(struct flow_table *t, size_t pos)
{
	uint32_t slot = t->heap[pos];
	kg_time key = t->pool[slot].heap_key;
	for (;;) {
		size_t l = 2 * pos + 1, r = l + 1, m = pos;
		kg_time mk = key;
		if (l < t->heap_len && t->pool[t->heap[l]].heap_key < mk) {
			m = l;
			mk = t->pool[t->heap[l]].heap_key;
		}
		if (r < t->heap_len && t->pool[t->heap[r]].heap_key < mk)
			m = r;
		if (m == pos)
			break;
		heap_set(t, pos, t->heap[m]);
		pos = m;
	}
	heap_set(t, pos, slot);
}

static void heap_remove(struct flow_table *t, struct conn *c)
{
	if (c->heap_pos == NIL)
		return;
	size_t pos = c->heap_pos;
	c->heap_pos = NIL;
	t->heap_len--;
	if (pos == t->heap_len)
		return;
	uint32_t moved = t->heap[t->heap_len];
	heap_set(t, pos, moved);
	heap_up(t, pos);
	heap_down(t, t->pool[moved].heap_pos);
}

void flow_table_schedule(struct flow_table *t, struct conn *c, kg_time when)
{
	c->heap_key = when;
	if (c->heap_pos == NIL) {
		size_t pos = t->heap_len++;
		heap_set(t, pos, slot_of(t, c));
		heap_up(t, pos);
	} else {
		size_t pos = c->heap_pos;
		heap_up(t, pos);
		heap_down(t, c->heap_pos);
	}
}

struct conn *flow_table_due(struct flow_table *t, kg_time now)
{
	if (t->heap_len == 0)
		return NULL;
	struct conn *c = &t->pool[t->heap[0]];
	return c->heap_key <= now ? c : NULL;
}

void flow_table_remove(struct flow_table *t, struct conn *c)
{
	uint32_t s = slot_of(t, c);
	uint32_t *link = &t->buckets[c->hash & t->bucket_mask];
	while (*link != NIL && *link != s)
		link = &t->pool[*link].hash_next;
	if (*link == s)
		*link = c->hash_next;
	lru_unlink(t, c);
	heap_remove(t, c);
	c->in_use = false;
	c->hash_next = t->free_head;
	t->free_head = s;
	t->count--;
}

size_t flow_table_count(const struct flow_table *t)
{
	return t->count;
}

size_t flow_table_capacity(const struct flow_table *t)
{
	return t->capacity;
}

void flow_table_touch(struct flow_table *t, struct conn *c)
{
	if (t->lru_tail == slot_of(t, c))
		return;
	lru_unlink(t, c);
	lru_append(t, c);
}

struct conn *flow_table_oldest(struct flow_table *t)
{
	return t->lru_head == NIL ? NULL : &t->pool[t->lru_head];
}

struct conn *flow_table_at(struct flow_table *t, size_t slot)
{
	if (slot >= t->capacity || !t->pool[slot].in_use)
		return NULL;
	return &t->pool[slot];
}
