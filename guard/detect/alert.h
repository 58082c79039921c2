/* One alert, as every detector raises it and every output (alert log, syslog)
 * renders it. Fields follow specs/detection.md §D.2. Evidence is a JSON object
 * text the detector writes itself (bounded), so outputs stay generic. */
#ifndef KG_ALERT_H
#define KG_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/conn_record.h"
#include "util/addr.h"
#include "util/kgtime.h"

enum alert_severity { SEV_INFO, SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL };

/* TECH_AUDIT: the appliance's own events (start, mode change, unblock, reload),
 * shipped like alerts so they reach the same collector; never acted upon. */
enum alert_technique { TECH_PORT_KNOCK, TECH_BITS, TECH_REMOTE_SERVICE, TECH_AUDIT };

enum alert_direction { DIR_UNKNOWN, DIR_INBOUND, DIR_OUTBOUND, DIR_INTERNAL, DIR_EXTERNAL };

#define ALERT_NAME_MAX 48
#define ALERT_MSG_MAX 256
#define ALERT_EVIDENCE_MAX 1536
#define ALERT_RULE_MAX 64

struct alert {
	kg_time ts;
	char name[ALERT_NAME_MAX]; /* e.g. "PortKnock::Sequence_Then_Access" */
	enum alert_technique technique;
	enum alert_severity severity;
	char uid[KG_UID_LEN]; /* conn.log uid of the triggering flow ("" if none) */
	struct kg_addr orig_h, resp_h;
	uint16_t orig_p, resp_p;
	enum transport proto;
	char service[KG_SERVICE_MAX];
	const char *conn_state; /* NULL when the connection is still open */
	char history[KG_HISTORY_MAX];
	uint64_t orig_bytes, resp_bytes;
	enum alert_direction direction;
	char policy_rule[ALERT_RULE_MAX]; /* rule id that matched, or "default" */
	bool blocked;			  /* action: "blocked" rather than "alert" */
	/* A repeat the detector suppresses in the logs (same rule and hosts
	 * lately): the decide stage still acts on it, outputs skip it. */
	bool repeat;
	char msg[ALERT_MSG_MAX];	  /* one human sentence */
	char evidence[ALERT_EVIDENCE_MAX]; /* a JSON object, "{}" at least */
};

const char *alert_severity_name(enum alert_severity s);	/* "info".."critical" */
const char *alert_technique_id(enum alert_technique t); /* "T1205.001", "T1197", "T1133", "audit" */
const char *alert_direction_name(enum alert_direction d);

#endif
