/* The connection table: a fixed pool of struct conn, a hash index on the
 * canonical 5-tuple, an LRU list (oldest activity first) for eviction, and a
 * min-heap of timer deadlines. Everything is allocated at creation. */
#ifndef KG_TABLE_H
#define KG_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "flow/conn.h"
#include "decode/packet.h"

/* Canonical key: (addr, port) pairs in sorted order unless one_way. */
struct flow_key {
	struct kg_addr lo_addr, hi_addr;
	uint16_t lo_port, hi_port;
	uint8_t ip_proto;
	uint8_t one_way;
};

struct flow_table;

struct flow_table *flow_table_create(size_t capacity, uint64_t hash_seed);
void flow_table_destroy(struct flow_table *t);

void flow_key_from_packet(const struct packet *p, struct flow_key *k);
struct conn *flow_table_lookup(struct flow_table *t, const struct flow_key *k);
/* A fresh slot indexed under `k`, or NULL when the table is full. */
struct conn *flow_table_insert(struct flow_table *t, const struct flow_key *k);
void flow_table_remove(struct flow_table *t, struct conn *c);
size_t flow_table_count(const struct flow_table *t);
size_t flow_table_capacity(const struct flow_table *t);

/* Marks activity: the connection becomes the newest in LRU order. */
void flow_table_touch(struct flow_table *t, struct conn *c);
/* The connection with the oldest activity (eviction candidate), or NULL. */
struct conn *flow_table_oldest(struct flow_table *t);

/* Sets the time at which the connection's timers must next be looked at. */
void flow_table_schedule(struct flow_table *t, struct conn *c, kg_time when);
/* The connection with the earliest deadline if that deadline is <= now. */
struct conn *flow_table_due(struct flow_table *t, kg_time now);

/* Iteration over live connections in slot order (deterministic). */
struct conn *flow_table_at(struct flow_table *t, size_t slot);

#endif
