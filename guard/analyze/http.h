/* A streaming HTTP/1.x parser, one fixed-size state per TCP connection, fed
 * the in-order bytes of each direction on any port. It pairs requests with
 * responses in order (pipelining), skips bodies by Content-Length or chunked
 * framing, and hands one struct http_record per transaction to a sink: the
 * columns of Zeek's http.log plus the headers the BITS detector needs
 * (specs/detection.md §B).
 *
 * Pure and bounded: no allocation, no syscalls. Lines longer than
 * HTTP_LINE_MAX are truncated, at most HTTP_PENDING_MAX requests wait for
 * their responses; everything cut or dropped is counted in struct http_stats. */
#ifndef KG_HTTP_H
#define KG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/conn_record.h" /* KG_UID_LEN */
#include "util/addr.h"
#include "util/kgtime.h"

#define HTTP_LINE_MAX 2048   /* one start or header line, per direction */
#define HTTP_PENDING_MAX 4   /* requests awaiting a response per connection */
#define HTTP_BODY_PREFIX 256 /* response body bytes kept to find the first part's magic */

/* Field sizes, with the NUL. Longer values are cut and counted. */
#define HTTP_METHOD_MAX 24
#define HTTP_HOST_MAX 256
#define HTTP_URI_MAX 512
#define HTTP_REFERRER_MAX 256
#define HTTP_VERSION_MAX 8
#define HTTP_UA_MAX 256
#define HTTP_ORIGIN_MAX 128
#define HTTP_STATUS_MSG_MAX 64
#define HTTP_USERNAME_MAX 64
#define HTTP_PROXIED_MAX 192
#define HTTP_CTYPE_MAX 96
#define HTTP_RANGE_MAX 96
#define HTTP_BITS_VALUE_MAX 112 /* session ids are up to 100 chars (MC-BUP) */
#define HTTP_BITS_SHORT_MAX 40

/* A parsed "bytes first-last/total"; -1 where absent or "*". */
struct http_byte_range {
	int64_t first, last, total;
};

/* One request/response pair. Strings are NUL-terminated, "" = unset. */
struct http_record {
	kg_time ts; /* when the request line (or a response without request) was seen */
	char uid[KG_UID_LEN];
	struct kg_addr orig_h, resp_h;
	uint16_t orig_p, resp_p;
	uint32_t trans_depth; /* 1 for the first transaction of the connection */

	/* http.log columns. */
	char method[HTTP_METHOD_MAX];
	char host[HTTP_HOST_MAX]; /* Host header as sent (may carry a port) */
	char uri[HTTP_URI_MAX];	  /* %-decoded as Zeek's unescape_URI() does */
	char referrer[HTTP_REFERRER_MAX];
	char version[HTTP_VERSION_MAX]; /* of the reply, as Zeek logs it: "1.1" */
	char user_agent[HTTP_UA_MAX];
	char origin[HTTP_ORIGIN_MAX];
	uint64_t request_body_len, response_body_len;
	uint16_t status_code; /* 0 = unset */
	char status_msg[HTTP_STATUS_MSG_MAX];
	uint16_t info_code; /* last 1xx, 0 = unset */
	char info_msg[HTTP_STATUS_MSG_MAX];
	char username[HTTP_USERNAME_MAX]; /* from Basic auth; the password is never kept */
	/* Zeek's proxied set: "NAME -> value" items, separated by '\n' (which
	 * no header value contains), in the order seen. */
	char proxied[HTTP_PROXIED_MAX];

	/* Beyond http.log. */
	bool request_seen, response_seen;
	bool response_complete;			/* the response body ended by its framing */
	bool truncated;				/* a line or a field of this transaction was cut */
	char request_version[HTTP_VERSION_MAX]; /* "1.1", "0.9" when the request line has none */
	char range[HTTP_RANGE_MAX];		/* request Range header */
	char req_content_type[HTTP_CTYPE_MAX];
	char resp_content_type[HTTP_CTYPE_MAX];
	struct http_byte_range req_content_range;  /* BITS Fragment */
	struct http_byte_range resp_content_range; /* 206 */

	/* BITS (MC-BUP) request headers. */
	char bits_packet_type[HTTP_BITS_SHORT_MAX];
	char bits_session_id[HTTP_BITS_VALUE_MAX];
	char bits_supported_protocols[HTTP_BITS_VALUE_MAX];
	char content_name[HTTP_BITS_VALUE_MAX];
	/* BITS response headers. */
	char resp_bits_packet_type[HTTP_BITS_SHORT_MAX];
	char resp_bits_session_id[HTTP_BITS_VALUE_MAX];
	char resp_bits_protocol[HTTP_BITS_VALUE_MAX];
	char bits_error_code[HTTP_BITS_SHORT_MAX]; /* BITS-Error-Code or MC-BUP's BITS-Error */
	char bits_error_context[HTTP_BITS_SHORT_MAX];
	char bits_received_range[HTTP_BITS_SHORT_MAX]; /* BITS-Received-Content-Range */

	/* The first bytes of the response entity: of the first part for
	 * multipart/byteranges. body_offset is the file offset they sit at (0 for
	 * a full 200 body, the range start for a 206), -1 if unknown. */
	uint8_t body_magic[2];
	uint8_t body_magic_len;
	int64_t body_offset;
};

/* The record is valid during the call only: copy what you keep. */
typedef void (*http_record_fn)(void *ctx, const struct http_record *r);

struct http_sink {
	http_record_fn fn;
	void *ctx;
};

/* What was cut, skipped or dropped. One set per connection; the engine sums. */
struct http_stats {
	uint64_t transactions;	   /* records emitted */
	uint64_t lines_truncated;  /* lines longer than HTTP_LINE_MAX */
	uint64_t fields_truncated; /* values longer than their record field */
	uint64_t folded_ignored;   /* obsolete header continuation lines, not joined */
	uint64_t pending_overflow; /* requests flushed unanswered: HTTP_PENDING_MAX reached */
	uint64_t unanswered;	   /* requests emitted without any response */
	uint64_t orphan_responses; /* responses with no request left to match */
	uint64_t violations;	   /* a direction stopped: not HTTP */
	uint64_t bad_framing;	   /* bad chunk size or Content-Length */
	uint64_t gaps;		   /* http_gap() calls */
	uint64_t gap_skipped;	   /* gaps inside a body of known length: stayed in sync */
	uint64_t gap_resyncs;	   /* found a new message start after losing sync */
	uint64_t gap_abandoned;	   /* directions that stopped after a gap */
};

/* Internal: one direction's reader. */
struct http_dir {
	uint8_t state;		  /* enum http_dir_state in http.c */
	uint8_t body_mode;	  /* enum http_body_mode in http.c */
	bool line_overflow;	  /* the line in progress is longer than HTTP_LINE_MAX */
	bool hunting;		  /* lost sync after a gap: skip lines until a start line */
	bool chunked, has_length; /* framing headers of the message in progress */
	uint16_t line_len;
	uint64_t length;    /* Content-Length of the message in progress */
	uint64_t body_left; /* bytes left in the body or the current chunk */
	char line[HTTP_LINE_MAX];
};

struct http_state {
	char uid[KG_UID_LEN];
	struct kg_addr orig_h, resp_h;
	uint16_t orig_p, resp_p;
	bool tunnel; /* after 101 Switching Protocols or a CONNECT 200: no more HTTP */
	uint32_t depth;
	struct http_dir dir[2]; /* [0] requests (originator), [1] responses */
	/* FIFO of transactions in request order. A request is parsed straight
	 * into its slot (req_slot while req_open); the response being parsed
	 * fills pending[head]. */
	struct http_record pending[HTTP_PENDING_MAX];
	uint8_t head, npending;
	uint8_t req_slot;
	bool req_open;		   /* request headers or body still being read */
	bool req_detached;	   /* its record was already emitted (answered early) */
	bool resp_open;		   /* a response is being read into pending[head] */
	bool resp_detached;	   /* ... whose record was already emitted (pending overflow) */
	struct http_record orphan; /* a response that found no request */
	bool orphan_open;
	/* The response being read. */
	uint16_t body_prefix_len;
	uint8_t body_prefix[HTTP_BODY_PREFIX];
	struct http_stats stats;
};

/* Quick test for the engine, before it spends a pool slot: does the
 * originator's first payload start like an HTTP/1.x request line?
 * HTTP_PROBE_MORE when `len` is too short to tell. */
enum http_probe { HTTP_PROBE_NO, HTTP_PROBE_YES, HTTP_PROBE_MORE };
enum http_probe http_probe_request(const uint8_t *data, size_t len);

void http_init(struct http_state *st, const char uid[KG_UID_LEN], const struct kg_addr *orig_h,
	       uint16_t orig_p, const struct kg_addr *resp_h, uint16_t resp_p);
/* In-order payload bytes of one direction. Emits finished transactions. */
void http_feed(struct http_state *st, bool from_orig, const uint8_t *data, size_t len, kg_time ts,
	       const struct http_sink *sink);
/* `len` bytes of one direction were lost (a hole in the TCP stream). Inside
 * a body of known length the parser stays in step; elsewhere the message in
 * progress ends (emitted as incomplete) and the direction skips lines until
 * the next request or status line. */
void http_gap(struct http_state *st, bool from_orig, uint64_t len, kg_time ts,
	      const struct http_sink *sink);
/* The connection ended: a body read until close ends here; every request
 * still pending is emitted, in order. The state may be reused after
 * http_init(). */
void http_finish(struct http_state *st, kg_time ts, const struct http_sink *sink);

/* Sums one connection's counters into a total. */
void http_stats_add(struct http_stats *total, const struct http_stats *s);

#endif
