/* Shared between knock.c (tables, attempt lifecycle, scans, SPA candidates),
 * knock_correlate.c (§A.7 evaluation on access, runs, evidence),
 * knock_progress.c (a sequence still being sent) and
 * knock_features.c (pure per-packet features). Not for other modules. */
#ifndef KG_KNOCK_INTERNAL_H
#define KG_KNOCK_INTERNAL_H

#include "decode/packet.h"
#include "detect/knock.h"
#include "detect/lru_map.h"
#include "util/json_writer.h"

#define KNOCK_UID_MAX 20 /* uid_next writes at most 18 characters */
#define KNOCK_SPA_PER_DST 4
#define KNOCK_SEQ_SRCS 4
#define KNOCK_SCAN_PORT_BITS 1024
#define KNOCK_SCAN_DST_BITS 256

enum knock_hit_flag {
	HIT_SPA_SHAPE = 1,  /* payload looks like SPA (features stored) */
	HIT_FINALIZED = 2,  /* already part of a finished run */
	HIT_WAS_SILENT = 4, /* OPEN came after FILTERED_SILENT was decided */
	HIT_PENDING = 8,    /* linked in a pending list */
};

/* One remembered first packet. */
struct knock_hit {
	kg_time ts;
	uint32_t next;		       /* pair queue (oldest -> newest), or free list */
	uint32_t pend_prev, pend_next; /* pending list, while HIT_PENDING */
	uint32_t pair;		       /* owning pair slot */
	uint32_t syn_fp;
	uint16_t sport, dport, window, payload_len;
	uint16_t spa_entropy_centi, spa_b64_permille;
	uint8_t ip_proto, tcp_flags, ttl, outcome, icmp_type, icmp_code, retransmits, flags;
	uint8_t pend_list;
	char uid[KNOCK_UID_MAX];
};

struct knock_pair_key {
	struct kg_addr src, dst;
};

struct knock_pair {
	uint32_t q_head, q_tail; /* hit indices */
	uint32_t run_prev, run_next;
	uint8_t q_len;
	bool in_run_list;
	bool alert_run_valid, scan_access_alerted;
	/* The run last put into seq_memory, so it is neither counted twice nor
	 * taken as its own "seen before". */
	bool recorded_valid;
	int alert_run_score;
	kg_time run_last_ts;	    /* last attempt: the open run ends max_gap after it */
	kg_time alert_run_first_ts; /* first hit of the run that last alerted on access */
	kg_time scan_access_alert_ts;
	kg_time recorded_first_ts, recorded_last_ts;
	uint64_t recorded_hash;
	bool in_progress_alerted; /* Sequence_In_Progress raised at in_progress_ts */
	kg_time in_progress_ts;
};

/* closed_table[(dst, proto, port)]: when anyone last failed or succeeded there. */
struct knock_closed {
	bool has_fail, has_open;
	uint8_t fail_outcome, fail_icmp_type, fail_icmp_code;
	kg_time fail_ts, open_ts;
	struct kg_addr fail_src;
	char fail_uid[KNOCK_UID_MAX];
};

/* seq_memory[hash(dst, ordered tuple)]. */
struct knock_seq {
	uint32_t count;
	uint8_t n_srcs;
	bool alerted;
	kg_time first_ts, last_ts, alerted_ts;
	struct kg_addr srcs[KNOCK_SEQ_SRCS];
};

/* scan_table[src]: distinct failed (dst, proto, port) in the current window. */
struct knock_scan {
	kg_time window_start;
	uint32_t count, n_dsts;
	bool alerted, multi_dst, multi_port;
	uint8_t first_proto;
	uint16_t first_port;
	struct kg_addr first_dst;
	uint64_t port_bits[KNOCK_SCAN_PORT_BITS / 64];
	uint64_t dst_bits[KNOCK_SCAN_DST_BITS / 64];
};

struct knock_spa_cand {
	kg_time ts;
	struct kg_addr src;
	uint16_t sport, dport, len, entropy_centi, b64_permille;
	uint8_t ip_proto;
	uint8_t state;	/* enum knock_spa_state */
	bool escalated; /* SPA_Then_Access raised */
	char uid[KNOCK_UID_MAX];
};

enum knock_spa_state {
	SPA_PENDING,  /* no reply yet: may still turn out to be an application's */
	SPA_SILENT,   /* confirmed: no reply within t_outcome */
	SPA_ICMP,     /* confirmed: ICMP unreachable */
	SPA_ANSWERED, /* the destination answered: not SPA */
};

/* spa_table[dst]: its latest SPA candidates. */
struct knock_spa {
	uint8_t n, next;
	struct knock_spa_cand c[KNOCK_SPA_PER_DST];
};

struct knock_detector {
	struct knock_config cfg;
	struct netset local_nets;
	bool have_local_nets;
	struct knock_sink sink;
	struct knock_stats stats;
	uint32_t fp_mss_only; /* knock_tcp_options_fp of {MSS} (nmap -sS) */
	uint64_t hash_seed;

	struct lru_map pairs;
	struct knock_pair *pair;
	struct knock_hit *hit;
	uint32_t hit_free;
	uint32_t pend_head[2], pend_tail[2]; /* [0] TCP, [1] UDP/ICMP; oldest first */
	uint32_t run_head, run_tail;	     /* pairs with an open run; oldest first */

	struct lru_map closed;
	struct knock_closed *closed_v;
	struct lru_map seqs;
	struct knock_seq *seq_v;
	struct lru_map scans;
	struct knock_scan *scan_v;
	struct lru_map spas;
	struct knock_spa *spa_v;

	struct alert scratch; /* the alert being built (no stack 2 KB per call) */
};

/* knock_features.c */
struct knock_spa_features {
	bool shape; /* length, alphabet and entropy all qualify */
	uint16_t len;
	uint16_t entropy_centi; /* bits per character * 100 */
	uint16_t b64_permille;	/* share of base64 characters */
};
void knock_spa_features(const struct knock_config *cfg, const uint8_t *p, uint32_t caplen,
			uint32_t len, struct knock_spa_features *out);
bool knock_port_is_common(uint16_t port);	  /* well-known service ports */
bool knock_port_is_admin(uint16_t port);	  /* remote-access / admin ports */
bool knock_dst_is_group(const struct kg_addr *a); /* multicast, limited broadcast */
bool knock_port_is_traceroute(uint8_t ip_proto, uint16_t port);
const char *knock_outcome_label(uint8_t outcome, uint8_t icmp_type, uint8_t icmp_code,
				char buf[16]);
enum transport knock_transport(uint8_t ip_proto);
const char *knock_proto_name(uint8_t ip_proto);
/* FNV-1a, stable across runs (sequence hashes are shown to operators). */
uint64_t knock_fnv64(uint64_t h, const void *data, size_t n);
#define KNOCK_FNV_INIT 0xcbf29ce484222325ull

/* knock.c, used by knock_correlate.c */
bool knock_failed(uint8_t outcome); /* CLOSED_* or FILTERED_SILENT */
bool knock_failed_or_pending(uint8_t outcome);
struct knock_closed *knock_closed_lookup(struct knock_detector *d, const struct kg_addr *dst,
					 uint8_t proto, uint16_t port);
struct knock_scan *knock_scan_lookup(struct knock_detector *d, const struct kg_addr *src);
struct knock_spa *knock_spa_lookup(struct knock_detector *d, const struct kg_addr *dst);
const char *knock_spa_reply_name(uint8_t state);
/* The evidence object spa{dport, proto, default_port, len, b64_ratio, entropy, reply, ts, src,
 * uid}. */
void knock_spa_json(struct jsonw *j, const struct knock_config *cfg,
		    const struct knock_spa_cand *c);
const struct knock_pair_key *knock_pair_key_of(const struct knock_detector *d, uint32_t pair);
/* Fills the common fields of d->scratch for a flow of `h` in `pair`. */
void knock_alert_begin(struct knock_detector *d, const char *name, enum alert_severity sev,
		       kg_time ts, const struct kg_addr *src, const struct kg_addr *dst,
		       const struct knock_hit *h);
void knock_alert_emit(struct knock_detector *d);

bool knock_known_dst_match(const struct knock_known_sequence *k, const struct kg_addr *dst);
bool knock_src_allowlisted(const struct netset *s, const struct kg_addr *a);

/* knock_progress.c, called by knock.c after each new attempt */
void knock_in_progress_check(struct knock_detector *d, uint32_t pair, uint32_t newest);

/* knock_correlate.c, called by knock.c */
void knock_on_open(struct knock_detector *d, uint32_t pair, uint32_t hit, kg_time t);
void knock_finalize_runs(struct knock_detector *d, uint32_t pair);

#endif
