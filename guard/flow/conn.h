/* Per-connection state, following Zeek's Connection + TCP/UDP/ICMP session
 * adapters closely enough that conn.log matches (../shared/specs/connlog.md). */
#ifndef KG_CONN_H
#define KG_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "flow/conn_record.h"
#include "flow/reassembly.h"
#include "util/addr.h"
#include "util/kgtime.h"

enum tcp_state {
	TCP_INACTIVE,
	TCP_SYN_SENT,
	TCP_SYN_ACK_SENT,
	TCP_PARTIAL,
	TCP_ESTABLISHED,
	TCP_CLOSED,
	TCP_RESET,
};

/* A scaled history letter (C, T, W, G): logged at the 1st, 10th, 100th... event. */
struct scaled_counter {
	uint32_t count;
	uint32_t threshold;
};

struct tcp_endpoint {
	enum tcp_state state, prev_state;
	bool is_orig; /* flips with the roles */
	bool did_close;
	uint32_t start_seq, last_seq, ack_seq;
	uint32_t seq_wraps, ack_wraps;
	uint32_t fin_cnt, rst_cnt;
	uint64_t fin_seq; /* relative seq one past the FIN */
	uint64_t hist_last_syn, hist_last_fin, hist_last_rst;
	uint32_t window, window_seq, window_ack_seq;
	uint8_t window_scale;
	bool did_eof;
	struct scaled_counter chk, rxmt, win0, gap;
	struct reassembler reasm;
};

/* Deadlines (0 = not armed) of the timers Zeek would have pending. */
struct conn_timers {
	kg_time attempt; /* TCP: orig SYN + tcp_attempt_delay */
	kg_time expire[3]; /* TCP expire timers: periodic, plus one per half close */
	kg_time close_delete; /* TCP: last_time at complete close + tcp_close_delay */
	kg_time dns; /* UDP DNS session timer */
};

struct conn {
	/* Key and roles. */
	struct kg_addr orig_h, resp_h;
	uint16_t orig_p, resp_p; /* ICMP: type and counterpart/code */
	uint8_t ip_proto;
	enum transport proto;
	bool one_way; /* ICMP one-way types: the key keeps packet direction */

	char uid[KG_UID_LEN];
	kg_time start_time, last_time;
	kg_time inactivity_timeout;

	char history[KG_HISTORY_MAX];
	uint8_t history_len;
	uint32_t hist_seen;
	uint64_t history_truncated; /* letters dropped because the buffer was full */

	/* ConnSize: packets and IP bytes per direction. */
	uint64_t orig_pkts, orig_ip_bytes, resp_pkts, resp_ip_bytes;

	/* TCP. ep[orig_idx] is the originator's endpoint; a role flip toggles
	 * orig_idx so that pointers to an endpoint stay with its host. */
	struct tcp_endpoint ep[2];
	uint8_t orig_idx;
	bool tcp_is_active;    /* Zeek's TCPSessionAdapter::is_active */
	bool tcp_is_partial;
	bool close_deferred, deferred_gen_event;
	uint8_t first_packet_seen; /* bit 1 orig, bit 2 resp */

	/* UDP / ICMP: payload byte sums, -1 while that side is inactive. */
	int64_t orig_size, resp_size;
	struct scaled_counter udp_chk[2]; /* [0] orig, [1] resp */
	bool dns_analyzer;
	bool dns_seen_message;

	uint64_t missed_bytes; /* content gaps reported, both directions */

	/* Content analysis (owned by analyze/analysis.c). */
	uint32_t content_slot; /* index into the content pool, or UINT32_MAX */
	uint32_t http_slot;    /* index into the HTTP parser pool, or UINT32_MAX */
	uint8_t service;       /* enum service_id once identified */
	uint8_t service_state; /* 0 still looking, 1 identified, 2 gave up */
	const char *service_log; /* conn.log's service (static), NULL: Zeek would not confirm it */

	/* Detection (owned by detect/detect.c). */
	uint8_t knock_state;  /* 0 not an attempt, 1 awaiting its outcome, 2 decided */
	uint32_t remote_slot; /* index into the remote-session pool, or UINT32_MAX */
	bool dropped;	      /* enforce: every further packet of this flow is dropped */

	struct conn_timers timers;

	/* Table bookkeeping (owned by flow/table.c). */
	uint32_t hash_next;  /* chain in the bucket */
	uint32_t lru_prev, lru_next;
	uint32_t heap_pos;   /* position in the timer heap, or UINT32_MAX */
	kg_time heap_key;
	uint64_t hash;
	bool in_use;
};

#endif
