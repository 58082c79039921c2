#include "live.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include "config.h"
#include "daemon.h"
#include "decode/decode.h"
#include "detect/detect.h"
#include "engine.h"
#include "io/ctl_server.h"
#include "io/nfq.h"
#include "io/nft.h"
#include "out/outputs.h"

#define PROG "knockguard"

struct live {
	const struct live_options *opt;
	struct kg_config cfg; /* the settings in force */
	struct kg_config next; /* a reload is parsed here first */
	struct detect_config detect_cfg;
	struct engine *engine;
	struct outputs *out;
	struct nft *nft;
	struct nfq *nfq;
	struct ctl_server *ctl;
	struct daemon *daemon;
	struct engine_sink out_sink; /* the outputs' own callbacks */
	uint64_t action_errors;
	kg_time started;
};

static void logf_(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

/* --- engine sink: logs through the outputs, actions into nftables --- */

static void on_conn(void *ctx, const struct conn_record *r)
{
	struct live *l = ctx;
	l->out_sink.conn_done(l->out_sink.ctx, r);
}

static void on_http(void *ctx, const struct http_record *r)
{
	struct live *l = ctx;
	l->out_sink.http_done(l->out_sink.ctx, r);
}

static void on_alert(void *ctx, const struct alert *a)
{
	struct live *l = ctx;
	l->out_sink.alert(l->out_sink.ctx, a);
}

static void on_action(void *ctx, const struct engine_action *a)
{
	struct live *l = ctx;
	bool ok = a->action == POLICY_BLOCK ? nft_block(l->nft, &a->addr, a->timeout)
					    : nft_flag(l->nft, &a->addr, a->timeout);
	if (!ok) {
		l->action_errors++;
		logf_("nftables: %s", nft_last_error(l->nft));
	}
}

/* --- control socket --- */

static void ctl_status(void *ctx, struct ctl_reply *r)
{
	struct live *l = ctx;
	const struct engine_stats *es = engine_stats(l->engine);
	const struct decoder_stats *ds = engine_decoder_stats(l->engine);
	const struct policy_stats *ps = engine_policy_stats(l->engine);
	const struct nfq *q = daemon_queue(l->daemon);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	kg_time wall = (kg_time)now.tv_sec * KG_NSEC_PER_SEC + now.tv_nsec;

	ctl_reply_line(r, "mode %s", policy_mode_name(engine_mode(l->engine)));
	ctl_reply_line(r, "uptime %lld s", (long long)((wall - l->started) / KG_NSEC_PER_SEC));
	ctl_reply_line(r, "queue %u backend %s", l->cfg.nfq.queue_num, nft_queue_backend(l->nft));
	ctl_reply_line(r, "packets %" PRIu64 " accepted %" PRIu64 " dropped %" PRIu64, es->packets,
		       es->verdict_accept, es->verdict_drop);
	if (q) {
		const struct nfq_stats *qs = nfq_stats(q);
		ctl_reply_line(r,
			       "queue_socket batches %" PRIu64 " enobufs %" PRIu64 " missed %" PRIu64
			       " errors %" PRIu64 " gso %" PRIu64,
			       qs->batches, qs->enobufs, qs->missed, qs->errors, qs->gso);
	}
	struct nfq_kernel_stats ks;
	if (nfq_kernel_stats(l->cfg.nfq.queue_num, &ks))
		ctl_reply_line(r, "queue_kernel waiting %u queue_dropped %u user_dropped %u",
			       ks.queue_total, ks.queue_dropped, ks.user_dropped);
	ctl_reply_line(r, "flows %" PRIu64 " created %" PRIu64 " evicted %" PRIu64, es->flows_active,
		       es->flows_created, es->flows_evicted);
	ctl_reply_line(r, "alerts %" PRIu64 " flagged %" PRIu64 " blocked %" PRIu64
			  " never_block %" PRIu64 " rate_limited %" PRIu64 " nft_errors %" PRIu64,
		       es->alerts, ps->flagged, ps->blocked, ps->never_block_hits, ps->rate_limited,
		       l->action_errors);
	char buf[256];
	outputs_summary(l->out, buf, sizeof(buf));
	ctl_reply_line(r, "logs %s", buf);
	for (int i = 0; i < DR_COUNT; i++)
		if (ds->reason[i])
			ctl_reply_line(r, "malformed %s %" PRIu64,
				       decode_reason_name((enum decode_reason)i), ds->reason[i]);
}

static void audit(struct live *l, const char *name, const char *msg)
{
	struct alert a;
	memset(&a, 0, sizeof(a));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	a.ts = (kg_time)now.tv_sec * KG_NSEC_PER_SEC + now.tv_nsec;
	snprintf(a.name, sizeof(a.name), "%s", name);
	a.technique = TECH_AUDIT;
	a.severity = SEV_INFO;
	snprintf(a.policy_rule, sizeof(a.policy_rule), "operator");
	snprintf(a.msg, sizeof(a.msg), "%s", msg);
	snprintf(a.evidence, sizeof(a.evidence), "{}");
	l->out_sink.alert(l->out_sink.ctx, &a);
	fprintf(stderr, PROG ": %s\n", msg);
}

static void ctl_set_mode(void *ctx, enum policy_mode m, struct ctl_reply *r)
{
	struct live *l = ctx;
	enum policy_mode was = engine_mode(l->engine);
	engine_set_mode(l->engine, m);
	char msg[128];
	snprintf(msg, sizeof(msg), "mode changed from %s to %s by the operator",
		 policy_mode_name(was), policy_mode_name(m));
	audit(l, "Audit::Mode_Change", msg);
	ctl_reply_line(r, "mode %s (was %s)", policy_mode_name(m), policy_mode_name(was));
}

struct list_ctx {
	struct ctl_reply *r;
};

static void blocked_line(void *ctx, const struct nft_element *e)
{
	struct list_ctx *lc = ctx;
	char a[KG_ADDR_STRLEN];
	addr_format(&e->addr, a);
	ctl_reply_line(lc->r, "%s expires %lld s", a, (long long)(e->expires / KG_NSEC_PER_SEC));
}

static void ctl_blocked(void *ctx, struct ctl_reply *r)
{
	struct live *l = ctx;
	struct list_ctx lc = {r};
	if (nft_list_blocked(l->nft, blocked_line, &lc) < 0)
		ctl_reply_fail(r, "cannot list the blocked sets: %s", nft_last_error(l->nft));
}

static void ctl_unblock(void *ctx, const struct kg_addr *a, struct ctl_reply *r)
{
	struct live *l = ctx;
	char s[KG_ADDR_STRLEN];
	addr_format(a, s);
	int rc = nft_unblock(l->nft, a);
	if (rc < 0) {
		ctl_reply_fail(r, "cannot unblock %s: %s", s, nft_last_error(l->nft));
		return;
	}
	char msg[128];
	snprintf(msg, sizeof(msg), "%s unblocked by the operator%s", s, rc ? "" : " (was not blocked)");
	audit(l, "Audit::Unblock", msg);
	ctl_reply_line(r, "%s", msg);
}

/* A reload applies what can change under a running engine (the policy:
 * never-block list, timeouts, thresholds); the mode set at run time stays.
 * An invalid file changes nothing. */
static bool reload(struct live *l, char *err, size_t errlen)
{
	if (!config_load(l->opt->config_file, &l->next, err, errlen))
		return false;
	enum policy_mode mode = engine_mode(l->engine);
	l->cfg.policy = l->next.policy;
	l->cfg.policy.mode = mode;
	engine_set_policy(l->engine, &l->cfg.policy);
	if (l->cfg.nft.manage && !nft_never_block_sync(l->nft, &l->cfg.policy.never_block)) {
		snprintf(err, errlen, "never-block set: %s", nft_last_error(l->nft));
		return false;
	}
	return true;
}

static void ctl_reload(void *ctx, struct ctl_reply *r)
{
	struct live *l = ctx;
	char err[CONFIG_ERR_MAX];
	if (!reload(l, err, sizeof(err))) {
		ctl_reply_fail(r, "reload refused, the running configuration stays: %s", err);
		return;
	}
	audit(l, "Audit::Reload", "configuration reloaded ([policy] applied; other sections take effect at restart)");
	ctl_reply_line(r, "reloaded %s", l->opt->config_file);
}

static void ctl_report_remote(void *ctx, struct ctl_reply *r)
{
	struct live *l = ctx;
	inventory_report(detect_inventory(engine_detect(l->engine)), ctl_reply_text, r);
}

static void ctl_ready(void *ctx)
{
	ctl_server_run(ctx);
}

/* --- daemon hooks --- */

static void hook_reload(void *ctx)
{
	struct live *l = ctx;
	char err[CONFIG_ERR_MAX];
	if (reload(l, err, sizeof(err)))
		audit(l, "Audit::Reload", "configuration reloaded on SIGHUP");
	else
		logf_("reload refused, the running configuration stays: %s", err);
}

static void hook_tick(void *ctx, kg_time wall, kg_time mono)
{
	struct live *l = ctx;
	(void)wall;
	(void)mono;
	outputs_poll(l->out);
	ctl_server_run(l->ctl);
}

static int hook_shutdown(void *ctx, int code)
{
	struct live *l = ctx;
	char err[512];
	if (!outputs_commit(l->out, 2000, err, sizeof(err))) {
		logf_("%s", err);
		if (code == 0)
			code = EX_IOERR;
	}
	l->out = NULL;
	return code;
}

static bool ensure_dir(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return true;
	if (mkdir(dir, 0750) == 0)
		return true;
	fprintf(stderr, PROG ": log directory %s: %s\n", dir, strerror(errno));
	return false;
}

static int setup(struct live *l)
{
	char err[CONFIG_ERR_MAX];
	if (!config_load(l->opt->config_file, &l->cfg, err, sizeof(err))) {
		logf_("%s", err);
		return EX_CONFIG;
	}
	config_detect(&l->cfg, &l->detect_cfg);
	const char *dir = l->cfg.log.dir[0] ? l->cfg.log.dir : ".";
	if (!ensure_dir(dir))
		return EX_CANTCREAT;

	l->nft = nft_open(&l->cfg.nft, err, sizeof(err));
	if (!l->nft || !nft_setup(l->nft, err, sizeof(err))) {
		logf_("nftables: %s", err);
		return EX_OSERR;
	}
	if (l->cfg.nft.manage && !nft_never_block_sync(l->nft, &l->cfg.policy.never_block)) {
		logf_("nftables: never-block set: %s", nft_last_error(l->nft));
		return EX_OSERR;
	}
	fprintf(stderr, PROG ": nftables table inet %s ready, queue %u via the %s backend%s%s\n",
		l->cfg.nft.table, l->cfg.nft.queue_num, nft_queue_backend(l->nft),
		nft_queue_fallback_reason(l->nft)[0] ? ": native queue refused: " : "",
		nft_queue_fallback_reason(l->nft));

	struct outputs_config oc = {
		.dir = dir,
		.format = l->cfg.log.format,
		.syslog = l->cfg.syslog.enabled,
		.syslog_client = l->cfg.syslog.client,
		.syslog_format = l->cfg.syslog.format,
		.syslog_facility = l->cfg.syslog.facility,
	};
	l->out = outputs_open(&oc, err, sizeof(err));
	if (!l->out) {
		logf_("%s", err);
		return EX_CANTCREAT;
	}
	outputs_engine_sink(l->out, &l->out_sink);

	struct engine_config ec;
	config_engine(&l->cfg, &ec);
	ec.detect = &l->detect_cfg;
	ec.uid_seed = l->opt->uid_seed;
	struct engine_sink sink = {.ctx = l,
				   .conn_done = on_conn,
				   .http_done = on_http,
				   .alert = on_alert,
				   .action = on_action};
	l->engine = engine_create(&ec, &sink);
	if (!l->engine) {
		logf_("%s", "cannot create the engine: out of memory");
		return EX_OSERR;
	}

	l->nfq = nfq_bind(&l->cfg.nfq, err, sizeof(err));
	if (!l->nfq) {
		logf_("NFQUEUE: %s", err);
		return EX_OSERR;
	}
	struct ctl_handlers h = {.ctx = l,
				 .status = ctl_status,
				 .set_mode = ctl_set_mode,
				 .blocked = ctl_blocked,
				 .unblock = ctl_unblock,
				 .reload = ctl_reload,
				 .report_remote = ctl_report_remote};
	l->ctl = ctl_server_create(&l->cfg.daemon.ctl, &h, err, sizeof(err));
	if (!l->ctl) {
		logf_("control socket: %s", err);
		return EX_OSERR;
	}
	struct daemon_config dc;
	daemon_config_defaults(&dc);
	struct daemon_hooks hooks = {
		.ctx = l, .reload = hook_reload, .tick = hook_tick, .shutdown = hook_shutdown};
	l->daemon = daemon_create(&dc, l->engine, l->nfq, NULL, &hooks, err, sizeof(err));
	if (l->daemon)
		l->nfq = NULL; /* the daemon owns (and releases) the queue now */
	if (!l->daemon || daemon_watch(l->daemon, ctl_server_fd(l->ctl), DAEMON_READ, ctl_ready,
				       l->ctl) != 0) {
		logf_("event loop: %s", err);
		return EX_OSERR;
	}
	return -1;
}

static void teardown(struct live *l)
{
	if (l->daemon)
		daemon_destroy(l->daemon);
	if (l->ctl)
		ctl_server_destroy(l->ctl);
	if (l->nfq)
		nfq_release(l->nfq);
	if (l->engine)
		engine_destroy(l->engine);
	if (l->out) {
		char err[256];
		outputs_abandon(l->out, err, sizeof(err));
	}
	if (l->nft) {
		if (!nft_teardown(l->nft))
			logf_("nftables teardown: %s", nft_last_error(l->nft));
		nft_close(l->nft);
	}
}

int live_run(const struct live_options *o)
{
	/* Large: the detector settings. */
	struct live *l = calloc(1, sizeof(*l));
	if (!l)
		return EX_OSERR;
	l->opt = o;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	l->started = (kg_time)now.tv_sec * KG_NSEC_PER_SEC + now.tv_nsec;
	signal(SIGPIPE, SIG_IGN);
	int rc = setup(l);
	if (rc < 0) {
		fprintf(stderr, PROG ": inline on queue %u in %s mode, control socket %s\n",
			l->cfg.nfq.queue_num, policy_mode_name(engine_mode(l->engine)),
			l->cfg.daemon.ctl.path);
		audit(l, "Audit::Start", "knockguard started inline");
		rc = daemon_run(l->daemon);
	}
	teardown(l);
	free(l);
	return rc;
}
