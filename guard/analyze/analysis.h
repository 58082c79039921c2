/* The analyze stage: per-connection content buffers, service identification
 * and HTTP parsing. Pools are sized at creation; a connection that finds a
 * pool empty goes unanalysed and is counted. */
#ifndef KG_ANALYSIS_H
#define KG_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "analyze/http.h"
#include "analyze/service.h"
#include "decode/packet.h"
#include "flow/conn.h"

struct analysis_stats {
	uint64_t content_pool_exhausted; /* flows that got no content buffer */
	uint64_t http_pool_exhausted;	 /* HTTP-looking flows left unparsed */
	uint64_t services_identified;
	uint64_t services_unknown;
	struct http_stats http;		 /* summed over finished connections */
};

struct analysis_sinks {
	void *ctx;
	/* A connection's service became known (once per connection). */
	void (*service)(void *ctx, struct conn *c, const struct service_match *m, kg_time ts);
	/* An HTTP transaction finished. */
	void (*http)(void *ctx, const struct http_record *r);
};

struct analysis;

struct analysis *analysis_create(size_t content_slots, size_t http_slots,
				 const struct analysis_sinks *sinks);
void analysis_destroy(struct analysis *a);
/* After the flow layer processed `p` for connection `c`. */
void analysis_packet(struct analysis *a, struct conn *c, const struct packet *p, bool is_orig);
/* Before `c` is removed: flushes its HTTP transactions, releases its buffers. */
void analysis_conn_done(struct analysis *a, struct conn *c);
const struct analysis_stats *analysis_stats(const struct analysis *a);

#endif
