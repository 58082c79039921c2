/* Port-knock detector (T1205.001, specs/detection.md §A.5-A.7): the outcome of
 * every first packet of a flow, a per-(src,dst) history of those attempts, and
 * the correlations on top of it: a sequence of failed ports then access to a
 * port that was closed, scans, fwknop-style single packet authorization (SPA),
 * repeated and known sequences, plain port scans, and knocks still in progress.
 *
 * Pure: packets' facts and time come in through the calls below (time only from
 * arguments), alerts go out through the sink. All tables are allocated by
 * knock_create(), bounded, LRU-evicted and counted; nothing is allocated later.
 *
 * What the engine calls, per flow (originator = the side that sent the first packet):
 *   knock_attempt()    the first packet of a new flow: TCP SYN, or a TCP packet of
 *                      a flow with no state, the first UDP datagram, an ICMP(v6)
 *                      echo request (payload = the echo data after the 8-byte
 *                      header). Counted and ignored: TCP first packets with RST,
 *                      with SYN+ACK, or with data and no SYN; multicast and
 *                      broadcast destinations; UDP traceroute ports 33434-33534;
 *   knock_retransmit() any further originator packet before the responder
 *                      answered (the same SYN again, more UDP datagrams);
 *   knock_outcome()    CLOSED_RST (responder RST before any SYN-ACK),
 *                      CLOSED_ICMP (ICMP(v6) destination-unreachable whose
 *                      embedded header matches the flow, in the flow's
 *                      originator direction), OPEN (SYN-ACK, UDP reply, echo
 *                      reply), BLOCKED_BY_GUARD (our own drop);
 *   knock_tick()       as time advances; it decides FILTERED_SILENT after
 *                      t_outcome and ages the tables. Every other call runs the
 *                      same expiry first, so a coarse tick is harmless. */
#ifndef KG_KNOCK_H
#define KG_KNOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/alert.h"
#include "util/addr.h"
#include "util/kgtime.h"
#include "util/netset.h"

#define KNOCK_RING_MAX 32  /* attempts remembered per (src,dst) pair, at most */
#define KNOCK_SEQ_MAX 32   /* ports in a known sequence (knockd SEQ_MAX) */
#define KNOCK_KNOWN_MAX 32 /* known sequences in the config */
#define KNOCK_NAME_MAX 32

/* One port of a sequence. ip_proto is 6 (TCP) or 17 (UDP). */
struct knock_port {
	uint8_t ip_proto;
	uint16_t port;
};

/* A sequence the operator knows about (e.g. the site's knockd doors): hitting it
 * raises PortKnock::Known_Sequence even when no access follows. */
struct knock_known_sequence {
	char name[KNOCK_NAME_MAX]; /* label for the alert ("" = "known-<n>") */
	struct kg_addr dst_net;	   /* masked; with dst_prefix 0 it matches any dst */
	unsigned dst_prefix;	   /* over the 16-byte form, like struct netset_entry */
	uint8_t n_ports;
	struct knock_port ports[KNOCK_SEQ_MAX];
};

/* Every tunable, defaults from §A.7's table (knock_config_defaults). */
struct knock_config {
	bool enabled;

	/* Sequence correlation (§A.7 steps 1-3). */
	kg_time w_seq;		  /* W_SEQ 30 s: span of one sequence */
	kg_time max_gap;	  /* MAX_GAP 10 s: between two hits of a sequence */
	kg_time d_post;		  /* D_POST 30 s: last hit to the access */
	kg_time w_closed;	  /* W_CLOSED 600 s: "closed moments before" */
	unsigned k_min, k_max;	  /* K_MIN 3 / K_MAX 16 distinct ports */
	unsigned scan_rate;	  /* SCAN_RATE 20 distinct ports/s ... */
	unsigned scan_rate_min_k; /* ... together with K > 8 means a scan */
	kg_time t_outcome_tcp;	  /* T_OUTCOME 3 s: no reply => FILTERED_SILENT */
	kg_time t_outcome_udp;	  /* 2 s (UDP, ICMP) */

	/* Scoring (§A.7 steps 5-6). */
	int score_high;		   /* 5: Sequence_Then_Access HIGH at or above */
	int score_medium;	   /* 3: MEDIUM at or above; below, no alert */
	bool high_requires_closed; /* true: HIGH only when the port was closed before */

	/* Repetition (§A.7 step 7). */
	unsigned r_min;		/* R_MIN 2 */
	kg_time seq_memory_ttl; /* 24 h */

	/* A knock in progress: PortKnock::Sequence_In_Progress (MEDIUM), raised
	 * while the sequence is still being sent, so that enforce mode can block
	 * the source before the last knock reaches the server. It needs at least
	 * in_progress_min_ports distinct TCP/UDP ports of one destination, each
	 * hit by a single packet (no retransmission) that failed or is still
	 * unanswered, no two hits more than max_gap apart, all within w_seq; and
	 * either those hits are the start of a known sequence for that
	 * destination, or none of their ports is a common service port. Once per
	 * (src, dst) per w_seq. */
	bool in_progress_enabled;	/* default yes */
	unsigned in_progress_min_ports; /* default 2; 2..KNOCK_RING_MAX-1 */

	/* SPA sub-detector. */
	bool spa_enabled;
	uint16_t spa_port;	/* 62201 (fwknop default), counts extra */
	unsigned spa_min_len;	/* 140 (fwknopd MIN_SPA_DATA_SIZE) */
	unsigned spa_max_len;	/* 1500 (MAX_SPA_PACKET_LEN) */
	double spa_min_entropy; /* 5.0 bits per character */
	kg_time spa_window;	/* SPA_WINDOW 60 s */

	/* Plain port scan: distinct (dst, proto, port) failures of one src. */
	unsigned scan_threshold; /* 25 (ncsa/bro-simple-scan scan_threshold) */
	kg_time scan_window;	 /* 300 s; also the alert rate limit per src */

	/* Severity of PortKnock::Known_Sequence. */
	enum alert_severity known_sequence_severity; /* MEDIUM */

	/* Table sizes (entries). About 39 MB with the defaults (knock_memory_bytes). */
	unsigned ring_size;	  /* 32 (KNOCK_RING), attempts kept per pair */
	size_t pair_table_size;	  /* 65536 (src,dst) pairs */
	size_t attempt_pool_size; /* 262144 attempts shared by all pairs */
	size_t closed_table_size; /* 65536 (dst,proto,port) */
	size_t seq_memory_size;	  /* 4096 ordered tuples */
	size_t scan_table_size;	  /* 8192 sources */
	size_t spa_table_size;	  /* 4096 destinations with SPA candidates */

	/* Sources whose knocks are approved (alerts drop to INFO, score -3) and
	 * scanners (no Port_Scan / Scan_Then_Access / Repeated_Sequence /
	 * Sequence_In_Progress, score -3). */
	struct netset knock_allowlist;
	struct netset scanner_allowlist;

	size_t n_known;
	struct knock_known_sequence known[KNOCK_KNOWN_MAX];
};

void knock_config_defaults(struct knock_config *cfg);
/* Cross-field checks (k_min <= k_max, ring_size <= KNOCK_RING_MAX, non-zero
 * tables, pool >= ring). False with a sentence in err naming the field. */
bool knock_config_check(const struct knock_config *cfg, char *err, size_t errlen);
/* "<dst CIDR|any> <port[:tcp|udp]>,<port[:tcp|udp]>,... [name]", knockd's
 * Sequence syntax, e.g. "10.0.0.5/32 7000,8000,9000 openSSH" or
 * "any 2222:udp,3333:tcp,4444:udp". False with a sentence in err. */
bool knock_known_sequence_parse(const char *text, struct knock_known_sequence *out, char *err,
				size_t errlen);
/* Approximate bytes knock_create allocates for this config. */
size_t knock_memory_bytes(const struct knock_config *cfg);

/* A flow in its originator's direction. For ICMP echo: sport = type, dport = code
 * (as Zeek logs them). ip_proto 6, 17, 1 or 58. */
struct knock_flow {
	struct kg_addr src, dst;
	uint16_t sport, dport;
	uint8_t ip_proto;
};

/* The first packet of a new flow. */
struct knock_attempt {
	kg_time ts;
	struct knock_flow flow;
	uint8_t tcp_flags; /* TCPF_* of the packet (0 unless TCP) */
	uint8_t ttl;	   /* IPv4 TTL / IPv6 hop limit */
	uint16_t window;   /* TCP window field as sent (unscaled) */
	/* knock_tcp_options_fp() of the packet's TCP options; 0 = no options or
	 * not TCP. */
	uint32_t syn_fp;
	uint32_t payload_len;	 /* from the headers */
	const uint8_t *payload;	 /* captured payload, valid during the call only */
	uint32_t payload_caplen; /* bytes at payload (<= payload_len) */
	const char *uid;	 /* conn.log uid of the flow */
};

enum knock_outcome {
	KNOCK_PENDING,		/* not decided yet (internal) */
	KNOCK_CLOSED_RST,	/* REJ */
	KNOCK_CLOSED_ICMP,	/* ICMP(v6) unreachable matched to the flow */
	KNOCK_FILTERED_SILENT,	/* no reply within t_outcome (decided by knock_tick) */
	KNOCK_OPEN,		/* SYN-ACK, UDP reply, echo reply */
	KNOCK_BLOCKED_BY_GUARD, /* our own drop: neither open nor closed */
};

/* The fingerprint of a TCP header's options: a hash of the option kinds in
 * order (EOL and what follows ignored). `opts` points after the 20 fixed bytes,
 * `len` = data offset * 4 - 20 (bounded by the capture). 0 when there are none. */
uint32_t knock_tcp_options_fp(const uint8_t *opts, size_t len);

struct knock_sink {
	void *ctx;
	void (*emit)(void *ctx, const struct alert *a); /* synchronous; copy what you keep */
};

struct knock_stats {
	uint64_t attempts;
	uint64_t attempts_ignored;		       /* not attempts (see knock_attempt above) */
	uint64_t outcomes[KNOCK_BLOCKED_BY_GUARD + 1]; /* by final outcome */
	uint64_t outcomes_late_open;		       /* OPEN after FILTERED_SILENT was decided */
	uint64_t outcomes_unmatched;		       /* no attempt remembered for the flow */
	uint64_t retransmits;
	uint64_t retransmits_unmatched;
	uint64_t pairs_evicted;		/* LRU, table full */
	uint64_t pairs_expired;		/* idle longer than w_closed */
	uint64_t attempts_evicted_pool; /* pool full: the oldest pair's history dropped */
	uint64_t attempts_ring_dropped; /* a pair's oldest attempt pushed out by ring_size */
	uint64_t closed_evicted, seq_evicted, scan_evicted, spa_evicted;
	uint64_t alerts;
	uint64_t alerts_allowlisted; /* emitted at INFO because of knock_allowlist */
	uint64_t alerts_suppressed;  /* not emitted: scanner_allowlist or rate limit */
	uint64_t spa_candidates;
};

struct knock_detector;

/* local_nets (may be NULL: direction unknown) gives alert.direction. The config
 * is copied. NULL on allocation failure or a config knock_config_check refuses. */
struct knock_detector *knock_create(const struct knock_config *cfg, const struct netset *local_nets,
				    uint64_t hash_seed, const struct knock_sink *sink);
void knock_destroy(struct knock_detector *d);

void knock_attempt(struct knock_detector *d, const struct knock_attempt *a);
/* icmp_type/code only for KNOCK_CLOSED_ICMP. uid may be NULL. */
void knock_outcome(struct knock_detector *d, const struct knock_flow *f, enum knock_outcome o,
		   uint8_t icmp_type, uint8_t icmp_code, kg_time ts, const char *uid);
void knock_retransmit(struct knock_detector *d, const struct knock_flow *f, kg_time ts);
void knock_tick(struct knock_detector *d, kg_time now);

const struct knock_stats *knock_stats(const struct knock_detector *d);

#endif
