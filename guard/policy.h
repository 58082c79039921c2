/* The decide stage: monitor or enforce. Turns an alert into what the gateway
 * does about it: flag the offender (monitor), or block it and drop the flow
 * (enforce), with a timeout per technique, a never-block list that always
 * wins, and a rate limit on blocks. Pure: time comes in as an argument. */
#ifndef KG_POLICY_H
#define KG_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "detect/alert.h"
#include "util/kgtime.h"
#include "util/netset.h"

enum policy_mode { POLICY_MONITOR, POLICY_ENFORCE };

struct policy_config {
	enum policy_mode mode;	    /* default monitor */
	struct netset never_block;  /* never flagged or blocked (DNS servers, gateways, admins) */
	kg_time flag_timeout;	    /* monitor: how long a host stays in the flagged sets */
	kg_time block_timeout[3];   /* enforce, per enum alert_technique */
	enum alert_severity min_severity; /* alerts below this are logged only (default MEDIUM) */
	/* Rate limit on blocks; 0 = none. Fixed one-minute windows, each opened
	 * by the first block after the previous one ran out, so any 60 s span
	 * holds at most twice this. Every block decision counts, a host already
	 * blocked too (the kernel drops its packets before they are queued, so
	 * repeats are rare). */
	unsigned max_blocks_per_minute;
};

void policy_config_defaults(struct policy_config *cfg);
const char *policy_mode_name(enum policy_mode m);	 /* "monitor", "enforce" */
bool policy_mode_parse(const char *s, enum policy_mode *out);

enum policy_action { POLICY_NONE, POLICY_FLAG, POLICY_BLOCK };
const char *policy_action_name(enum policy_action a); /* "none", "flag", "block" */

/* What to do about one alert. The offender is always the alert's originator
 * (orig_h): true of every detector today (the knocker, the BITS client, the
 * remote-access client). An alert whose offender is the responder would need
 * its own field here, and the never-block check would follow it.
 *   below min_severity       -> NONE
 *   orig_h in never_block    -> NONE, never_blocked (counted); nothing dropped
 *   monitor                  -> FLAG for flag_timeout; nothing dropped
 *   enforce                  -> BLOCK for block_timeout[technique], drop_flow
 *   enforce, rate limit hit  -> NONE, drop_flow, rate_limited (counted) */
struct policy_decision {
	enum policy_action action;
	struct kg_addr addr; /* the host to flag or block (the alert's originator) */
	kg_time timeout;
	bool drop_flow;	     /* enforce: drop this packet and the rest of the flow */
	bool never_blocked;  /* the host is on the never-block list: nothing was done */
	bool rate_limited;   /* a block was due but the rate limit held it back */
};

struct policy_stats {
	uint64_t flagged, blocked, never_block_hits, rate_limited;
};

struct policy {
	struct policy_config cfg;
	/* Rate limiter: blocks granted in the current minute. */
	kg_time window_start;
	unsigned window_blocks;
	struct policy_stats stats;
};

void policy_init(struct policy *p, const struct policy_config *cfg);
/* Switches mode at run time; the state (rate window, counters) stays. */
void policy_set_mode(struct policy *p, enum policy_mode m);
void policy_decide(struct policy *p, const struct alert *a, kg_time now,
		   struct policy_decision *out);

#endif
