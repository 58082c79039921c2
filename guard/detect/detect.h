/* The detect stage: fans the engine's facts out to the three detectors
 * (port knocking, BITS, remote-service policy) and the remote-service
 * inventory, and their alerts into one sink. Pure; bounded pools. */
#ifndef KG_DETECT_H
#define KG_DETECT_H

#include <stddef.h>

#include "analyze/http.h"
#include "analyze/service.h"
#include "decode/packet.h"
#include "detect/alert.h"
#include "detect/bits.h"
#include "detect/inventory.h"
#include "detect/knock.h"
#include "detect/remote.h"
#include "flow/conn.h"

struct detect_config {
	struct knock_config knock;
	struct bits_config bits;
	struct remote_config remote;
	size_t remote_sessions; /* remote-access sessions tracked at once */
	size_t inventory_size;
};

void detect_config_defaults(struct detect_config *cfg);

struct detect_sink {
	void *ctx;
	void (*alert)(void *ctx, const struct alert *a);
};

struct detect_stats {
	uint64_t alerts;
	uint64_t remote_pool_exhausted; /* remote sessions not tracked for bytes (alert still raised) */
};

struct detect;

struct detect *detect_create(const struct detect_config *cfg, const struct netset *local,
			     uint64_t seed, const struct detect_sink *sink);
void detect_destroy(struct detect *d);

/* A new connection and its first packet. */
void detect_conn_new(struct detect *d, struct conn *c, const struct packet *p);
/* Every later packet of a connection (after the flow layer). */
void detect_conn_packet(struct detect *d, struct conn *c, const struct packet *p, bool is_orig);
/* An ICMP error whose embedded header names `flow` (in that flow's originator
 * direction); uid of that flow if it is known. */
void detect_icmp_error(struct detect *d, const struct knock_flow *flow, uint8_t type, uint8_t code,
		       kg_time ts, const char *uid);
/* The connection's service was identified. */
void detect_service(struct detect *d, struct conn *c, const struct service_match *m, kg_time ts);
/* A finished HTTP transaction. */
void detect_http(struct detect *d, const struct http_record *r);
/* The connection is being removed; `r` is its final record. */
void detect_conn_done(struct detect *d, struct conn *c, const struct conn_record *r);
void detect_tick(struct detect *d, kg_time now);
/* End of input: decide everything still pending. */
void detect_finish(struct detect *d, kg_time now);

const struct detect_stats *detect_stats(const struct detect *d);
const struct knock_stats *detect_knock_stats(const struct detect *d);
const struct bits_stats *detect_bits_stats(const struct detect *d);
const struct inventory *detect_inventory(const struct detect *d);

#endif
