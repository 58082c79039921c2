/* Remote-service inventory: every remote-access session seen, aggregated by
 * (client, server, server port, service), for `knockguard -r ... --report remote`.
 * Bounded: when full, the least recently seen entry is dropped and counted. */
#ifndef KG_INVENTORY_H
#define KG_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/service.h"
#include "flow/conn_record.h"
#include "util/addr.h"
#include "util/kgtime.h"

#define INVENTORY_DEFAULT_SIZE 65536

struct inventory_key {
	struct kg_addr client, server;
	uint16_t server_port;
	enum transport proto;
	enum service_id service;
};

struct inventory_entry {
	struct inventory_key key;
	uint64_t sessions;
	uint64_t orig_bytes, resp_bytes;
	uint64_t authorized_sessions; /* sessions an allow rule matched */
	kg_time first_ts, last_ts;
};

struct inventory;

struct inventory *inventory_create(size_t capacity, uint64_t hash_seed);
void inventory_destroy(struct inventory *inv);

/* One session (call once per session, at its end, with its final bytes). */
void inventory_add(struct inventory *inv, const struct inventory_key *k, uint64_t orig_bytes,
		   uint64_t resp_bytes, bool authorized, kg_time ts);
size_t inventory_count(const struct inventory *inv);
uint64_t inventory_evicted(const struct inventory *inv);
/* Entries in slot order; NULL for an empty slot. slot < capacity. */
const struct inventory_entry *inventory_at(const struct inventory *inv, size_t slot);
size_t inventory_capacity(const struct inventory *inv);
/* "yes", "no" or "partly" (some sessions authorized). */
const char *inventory_authorized_name(const struct inventory_entry *e);

/* The report, one line per call (no newline), header first, entries sorted by
 * client, server, port, service; columns: client server port service sessions
 * bytes authorized, aligned with spaces. A last line notes evictions, if any. */
void inventory_report(const struct inventory *inv, void (*line)(void *ctx, const char *text),
		      void *ctx);
/* The same report into buf, lines ending in '\n'. Returns the length the whole
 * report needs (like snprintf); the text is cut (NUL-terminated) if len is short. */
size_t inventory_report_buf(const struct inventory *inv, char *buf, size_t len);

#endif
