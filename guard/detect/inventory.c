/* Remote-service inventory: an LRU map keyed by (client, server, port, proto,
 * service) and the sorted, aligned text report. */
#include "detect/inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/lru_map.h"
#include "detect/remote.h"

/* The map key: 16 + 16 + 2 + 1 + 1 bytes, built explicitly (no padding). */
#define INV_KEY_LEN 36

struct inventory {
	struct lru_map map;
	struct inventory_entry *e;
	uint32_t *order; /* report scratch: slots to sort, allocated at create */
};

static void key_bytes(const struct inventory_key *k, uint8_t out[INV_KEY_LEN])
{
	memcpy(out, k->client.b, 16);
	memcpy(out + 16, k->server.b, 16);
	out[32] = (uint8_t)(k->server_port >> 8);
	out[33] = (uint8_t)k->server_port;
	out[34] = (uint8_t)k->proto;
	out[35] = (uint8_t)k->service;
}

struct inventory *inventory_create(size_t capacity, uint64_t hash_seed)
{
	struct inventory *inv = calloc(1, sizeof(*inv));
	if (!inv)
		return NULL;
	if (!lru_map_init(&inv->map, capacity, INV_KEY_LEN, hash_seed)) {
		free(inv);
		return NULL;
	}
	inv->e = calloc(capacity, sizeof(*inv->e));
	inv->order = calloc(capacity, sizeof(*inv->order));
	if (!inv->e || !inv->order) {
		inventory_destroy(inv);
		return NULL;
	}
	return inv;
}

void inventory_destroy(struct inventory *inv)
{
	if (!inv)
		return;
	lru_map_fini(&inv->map);
	free(inv->e);
	free(inv->order);
	free(inv);
}

void inventory_add(struct inventory *inv, const struct inventory_key *k, uint64_t orig_bytes,
		   uint64_t resp_bytes, bool authorized, kg_time ts)
{
	uint8_t kb[INV_KEY_LEN];
	key_bytes(k, kb);
	uint32_t s = lru_map_find(&inv->map, kb);
	struct inventory_entry *e;
	if (s == LRU_NONE) {
		bool evicted;
		s = lru_map_insert(&inv->map, kb, ts, &evicted);
		e = &inv->e[s];
		memset(e, 0, sizeof(*e));
		e->key = *k;
		e->first_ts = ts;
	} else {
		lru_map_touch(&inv->map, s, ts);
		e = &inv->e[s];
	}
	e->sessions++;
	e->orig_bytes += orig_bytes;
	e->resp_bytes += resp_bytes;
	if (authorized)
		e->authorized_sessions++;
	if (ts < e->first_ts)
		e->first_ts = ts;
	if (ts > e->last_ts)
		e->last_ts = ts;
}

size_t inventory_count(const struct inventory *inv)
{
	return inv->map.count;
}

uint64_t inventory_evicted(const struct inventory *inv)
{
	return inv->map.evictions;
}

size_t inventory_capacity(const struct inventory *inv)
{
	return inv->map.capacity;
}

const struct inventory_entry *inventory_at(const struct inventory *inv, size_t slot)
{
	if (slot >= inv->map.capacity || !lru_map_used(&inv->map, (uint32_t)slot))
		return NULL;
	return &inv->e[slot];
}

const char *inventory_authorized_name(const struct inventory_entry *e)
{
	if (e->authorized_sessions == 0)
		return "no";
	return e->authorized_sessions == e->sessions ? "yes" : "partly";
}

static int entry_cmp(const struct inventory_entry *a, const struct inventory_entry *b)
{
	int c = addr_cmp(&a->key.client, &b->key.client);
	if (c)
		return c;
	c = addr_cmp(&a->key.server, &b->key.server);
	if (c)
		return c;
	if (a->key.server_port != b->key.server_port)
		return a->key.server_port < b->key.server_port ? -1 : 1;
	if (a->key.proto != b->key.proto)
		return a->key.proto < b->key.proto ? -1 : 1;
	if (a->key.service != b->key.service)
		return a->key.service < b->key.service ? -1 : 1;
	return 0;
}

/* Heap sort of slot numbers: in place, no allocation, no qsort context. */
static void sift(const struct inventory *inv, uint32_t *o, size_t root, size_t n)
{
	for (;;) {
		size_t child = 2 * root + 1;
		if (child >= n)
			return;
		if (child + 1 < n && entry_cmp(&inv->e[o[child]], &inv->e[o[child + 1]]) < 0)
			child++;
		if (entry_cmp(&inv->e[o[root]], &inv->e[o[child]]) >= 0)
			return;
		uint32_t t = o[root];
		o[root] = o[child];
		o[child] = t;
		root = child;
	}
}

static size_t sorted_slots(const struct inventory *inv)
{
	uint32_t *o = inv->order;
	size_t n = 0;
	for (uint32_t s = 0; s < inv->map.capacity; s++)
		if (lru_map_used(&inv->map, s))
			o[n++] = s;
	for (size_t i = n / 2; i-- > 0;)
		sift(inv, o, i, n);
	for (size_t end = n; end-- > 1;) {
		uint32_t t = o[0];
		o[0] = o[end];
		o[end] = t;
		sift(inv, o, 0, end);
	}
	return n;
}

/* conn.log's names, but "ip" where conn.log says "unknown_transport". */
static const char *proto_name(enum transport t)
{
	return t == TRANSPORT_UNKNOWN ? "ip" : transport_name(t);
}

struct row {
	char client[KG_ADDR_STRLEN], server[KG_ADDR_STRLEN], port[16], service[16];
	char sessions[24], bytes[24];
	const char *authorized;
};

static void row_of(const struct inventory_entry *e, struct row *r)
{
	addr_format(&e->key.client, r->client);
	addr_format(&e->key.server, r->server);
	snprintf(r->port, sizeof(r->port), "%u/%s", e->key.server_port, proto_name(e->key.proto));
	const char *svc = service_name(e->key.service);
	snprintf(r->service, sizeof(r->service), "%s", svc[0] ? svc : "-");
	snprintf(r->sessions, sizeof(r->sessions), "%llu", (unsigned long long)e->sessions);
	snprintf(r->bytes, sizeof(r->bytes), "%llu",
		 (unsigned long long)(e->orig_bytes + e->resp_bytes));
	r->authorized = inventory_authorized_name(e);
}

#define NCOL 7

static void row_cols(const struct row *r, const char *c[NCOL])
{
	c[0] = r->client;
	c[1] = r->server;
	c[2] = r->port;
	c[3] = r->service;
	c[4] = r->sessions;
	c[5] = r->bytes;
	c[6] = r->authorized;
}

static void emit_line(const char *c[NCOL], const size_t w[NCOL],
		      void (*line)(void *ctx, const char *text), void *ctx)
{
	char buf[256];
	size_t off = 0;
	for (int i = 0; i < NCOL; i++) {
		/* Numbers right-aligned, text left-aligned; no trailing spaces. */
		bool num = i == 4 || i == 5;
		int n = i == NCOL - 1 ? snprintf(buf + off, sizeof(buf) - off, "%s", c[i])
			: num ? snprintf(buf + off, sizeof(buf) - off, "%*s  ", (int)w[i], c[i])
			      : snprintf(buf + off, sizeof(buf) - off, "%-*s  ", (int)w[i], c[i]);
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			break;
		off += (size_t)n;
	}
	line(ctx, buf);
}

void inventory_report(const struct inventory *inv, void (*line)(void *ctx, const char *text),
		      void *ctx)
{
	static const char *const header[NCOL] = {"client",   "server", "port",	    "service",
						 "sessions", "bytes",  "authorized"};
	size_t n = sorted_slots(inv);
	size_t w[NCOL];
	for (int i = 0; i < NCOL; i++)
		w[i] = strlen(header[i]);
	for (size_t i = 0; i < n; i++) {
		struct row r;
		const char *c[NCOL];
		row_of(&inv->e[inv->order[i]], &r);
		row_cols(&r, c);
		for (int k = 0; k < NCOL; k++)
			if (strlen(c[k]) > w[k])
				w[k] = strlen(c[k]);
	}
	emit_line((const char **)header, w, line, ctx);
	for (size_t i = 0; i < n; i++) {
		struct row r;
		const char *c[NCOL];
		row_of(&inv->e[inv->order[i]], &r);
		row_cols(&r, c);
		emit_line(c, w, line, ctx);
	}
	if (inv->map.evictions) {
		char buf[96];
		snprintf(buf, sizeof(buf), "# %llu entries dropped: the inventory was full (%u)",
			 (unsigned long long)inv->map.evictions, inv->map.capacity);
		line(ctx, buf);
	}
}

struct report_buf {
	char *buf;
	size_t len, written, need;
};

static void buf_put(struct report_buf *b, const char *s, size_t n)
{
	if (b->len) {
		size_t room = b->len - 1 - b->written;
		size_t take = n < room ? n : room;
		memcpy(b->buf + b->written, s, take);
		b->written += take;
		b->buf[b->written] = '\0';
	}
	b->need += n;
}

static void buf_line(void *ctx, const char *text)
{
	buf_put(ctx, text, strlen(text));
	buf_put(ctx, "\n", 1);
}

size_t inventory_report_buf(const struct inventory *inv, char *buf, size_t len)
{
	struct report_buf b = {buf, len, 0, 0};
	if (len)
		buf[0] = '\0';
	inventory_report(inv, buf_line, &b);
	return b.need;
}
