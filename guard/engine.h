/* The pure core: packets and time in, verdicts and events out. No syscalls.
 * Offline replay and the live NFQUEUE daemon are both thin adapters around it. */
#ifndef KG_ENGINE_H
#define KG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/analysis.h"
#include "analyze/http.h"
#include "decode/decode.h"
#include "detect/alert.h"
#include "detect/detect.h"
#include "flow/conn_record.h"
#include "policy.h"
#include "util/kgtime.h"
#include "util/netset.h"

enum verdict { VERDICT_ACCEPT, VERDICT_DROP };

/* A host to put into (or refresh in) the kernel's flagged or blocked sets. */
struct engine_action {
	enum policy_action action; /* POLICY_FLAG or POLICY_BLOCK */
	struct kg_addr addr;
	kg_time timeout;
	const struct alert *cause;
};

/* Where the engine's events go. Callbacks run synchronously inside
 * engine_packet()/engine_tick()/engine_finish(); they must not block. */
struct engine_sink {
	void *ctx;
	void (*conn_done)(void *ctx, const struct conn_record *rec);
	void (*http_done)(void *ctx, const struct http_record *rec); /* may be NULL */
	void (*alert)(void *ctx, const struct alert *a);	     /* may be NULL */
	/* Flag or block a host (live mode: nftables sets). May be NULL. */
	void (*action)(void *ctx, const struct engine_action *a);
};

struct engine_config {
	size_t max_flows;	 /* connection table capacity; oldest idle evicted beyond */
	bool ignore_checksums;	 /* zeek -C */
	uint64_t uid_seed;	 /* uids are deterministic for a given seed */
	const struct netset *local_nets; /* NULL: Zeek's default private space */
	size_t frag_max_datagrams;
	size_t content_slots; /* flows being fingerprinted at once */
	size_t http_slots;    /* HTTP connections parsed at once */
	/* Detector settings; NULL: every detector with its defaults. */
	const struct detect_config *detect;
	/* Monitor/enforce settings; NULL: monitor, defaults. */
	const struct policy_config *policy;
};

struct engine_stats {
	uint64_t packets;
	uint64_t flows_created;
	uint64_t flows_active;
	uint64_t flows_evicted; /* removed early because the table was full */
	uint64_t records;	/* conn records emitted */
	uint64_t alerts;
	uint64_t verdict_accept, verdict_drop;
};

struct engine;

void engine_config_defaults(struct engine_config *cfg);
struct engine *engine_create(const struct engine_config *cfg, const struct engine_sink *sink);
void engine_destroy(struct engine *e);

/* One captured frame of the given link type. Expires due timers first. */
enum verdict engine_frame(struct engine *e, int linktype, kg_time ts, const uint8_t *frame,
			  uint32_t caplen);
/* One packet starting at its IP header (NFQUEUE). */
enum verdict engine_ip_packet(struct engine *e, kg_time ts, const uint8_t *ip, uint32_t caplen);
/* The same with DECODE_F_* flags (e.g. DECODE_F_L4_CSUM_UNSET for GSO packets). */
enum verdict engine_ip_packet_flags(struct engine *e, kg_time ts, const uint8_t *ip,
				    uint32_t caplen, unsigned flags);
/* An already decoded packet (tests, and adapters that decode themselves). */
enum verdict engine_decoded(struct engine *e, const struct packet *p);
/* Monitor or enforce, at run time, without losing any state. */
void engine_set_mode(struct engine *e, enum policy_mode m);
/* New policy settings (reload); cfg->mode is applied too. Counters stay. */
void engine_set_policy(struct engine *e, const struct policy_config *cfg);
enum policy_mode engine_mode(const struct engine *e);
const struct policy_stats *engine_policy_stats(const struct engine *e);
/* Advance time without a packet (live mode when idle). */
void engine_tick(struct engine *e, kg_time now);
/* End of input: run pending attempt timers, then flush every connection. */
void engine_finish(struct engine *e);

const struct engine_stats *engine_stats(const struct engine *e);
const struct decoder_stats *engine_decoder_stats(const struct engine *e);
const struct analysis_stats *engine_analysis_stats(const struct engine *e);
const struct detect *engine_detect(const struct engine *e);

#endif
