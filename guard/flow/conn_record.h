/* One finished connection, as Zeek's conn.log describes it. This is the event
 * the engine hands to its sink when a connection is removed. */
#ifndef KG_CONN_RECORD_H
#define KG_CONN_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "util/addr.h"
#include "util/kgtime.h"

#define KG_UID_LEN 24
#define KG_HISTORY_MAX 64
#define KG_SERVICE_MAX 64

enum transport { TRANSPORT_TCP, TRANSPORT_UDP, TRANSPORT_ICMP, TRANSPORT_UNKNOWN };

/* A tri-state Zeek bool: unset prints "-". */
enum tribool { TRI_UNSET = -1, TRI_FALSE = 0, TRI_TRUE = 1 };

struct conn_record {
	kg_time ts;
	char uid[KG_UID_LEN];
	struct kg_addr orig_h, resp_h;
	uint16_t orig_p, resp_p;
	enum transport proto;
	uint8_t ip_proto;
	char service[KG_SERVICE_MAX]; /* "" = unset */
	/* duration == 0 means unset, and then orig_bytes/resp_bytes are unset too. */
	kg_time duration;
	uint64_t orig_bytes, resp_bytes;
	const char *conn_state; /* static string: "S0", "SF", ... */
	enum tribool local_orig, local_resp;
	uint64_t missed_bytes;
	char history[KG_HISTORY_MAX]; /* "" = unset */
	uint64_t orig_pkts, orig_ip_bytes, resp_pkts, resp_ip_bytes;
};

const char *transport_name(enum transport t);

#endif
