/* The decide stage: an alert in, what the gateway does about it out. */
#include "policy.h"

#include <string.h>

#define POLICY_WINDOW KG_SEC(60)
#define N_TECHNIQUES (sizeof(((struct policy_config *)0)->block_timeout) / sizeof(kg_time))

void policy_config_defaults(struct policy_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = POLICY_MONITOR;
	netset_init(&cfg->never_block);
	cfg->flag_timeout = KG_SEC(3600);
	cfg->block_timeout[TECH_PORT_KNOCK] = KG_SEC(3600);
	cfg->block_timeout[TECH_BITS] = KG_SEC(3600);
	cfg->block_timeout[TECH_REMOTE_SERVICE] = KG_SEC(3600);
	cfg->min_severity = SEV_MEDIUM;
	cfg->max_blocks_per_minute = 60;
}

const char *policy_mode_name(enum policy_mode m)
{
	return m == POLICY_ENFORCE ? "enforce" : "monitor";
}

bool policy_mode_parse(const char *s, enum policy_mode *out)
{
	if (strcmp(s, "monitor") == 0)
		*out = POLICY_MONITOR;
	else if (strcmp(s, "enforce") == 0)
		*out = POLICY_ENFORCE;
	else
		return false;
	return true;
}

const char *policy_action_name(enum policy_action a)
{
	switch (a) {
	case POLICY_FLAG:
		return "flag";
	case POLICY_BLOCK:
		return "block";
	default:
		return "none";
	}
}

void policy_init(struct policy *p, const struct policy_config *cfg)
{
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
}

void policy_set_mode(struct policy *p, enum policy_mode m)
{
	p->cfg.mode = m;
}

/* Fixed one-minute windows: the first block after a window has run out opens
 * the next one. True when one more block fits in the current window. */
static bool policy_rate_take(struct policy *p, kg_time now)
{
	if (p->cfg.max_blocks_per_minute == 0)
		return true;
	if (p->window_blocks == 0 || now - p->window_start >= POLICY_WINDOW ||
	    now < p->window_start) {
		p->window_start = now;
		p->window_blocks = 0;
	}
	if (p->window_blocks >= p->cfg.max_blocks_per_minute)
		return false;
	p->window_blocks++;
	return true;
}

void policy_decide(struct policy *p, const struct alert *a, kg_time now,
		   struct policy_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->action = POLICY_NONE;
	out->addr = a->orig_h;
	if (a->severity < p->cfg.min_severity)
		return;
	if (netset_contains(&p->cfg.never_block, &a->orig_h)) {
		out->never_blocked = true;
		p->stats.never_block_hits++;
		return;
	}
	if (p->cfg.mode == POLICY_MONITOR) {
		out->action = POLICY_FLAG;
		out->timeout = p->cfg.flag_timeout;
		p->stats.flagged++;
		return;
	}
	/* Enforce: this flow goes, whether or not the host may be blocked too. */
	out->drop_flow = true;
	if (!policy_rate_take(p, now)) {
		out->rate_limited = true;
		p->stats.rate_limited++;
		return;
	}
	out->action = POLICY_BLOCK;
	out->timeout = (unsigned)a->technique < N_TECHNIQUES
			       ? p->cfg.block_timeout[a->technique]
			       : p->cfg.block_timeout[TECH_PORT_KNOCK];
	p->stats.blocked++;
}
