#include "daemon.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "decode/decode.h"

#define DAEMON_EVENTS_MAX 32
#define DAEMON_TICK_MS_MAX 60000

/* What an epoll event is about: the kind in the top byte; for watches the
 * slot and its generation, so an event for a slot freed and reused during
 * the same epoll_wait batch is recognised as stale. */
enum daemon_source { SRC_QUEUE = 1, SRC_TIMER, SRC_SIGNAL, SRC_SYSLOG, SRC_WATCH };

struct daemon_watch {
	int fd; /* -1: free */
	uint32_t gen;
	void (*on_ready)(void *ctx);
	void *ctx;
};

struct daemon {
	struct daemon_config cfg;
	struct engine *engine;
	struct nfq *q;
	struct syslog_client *syslog;
	struct daemon_hooks hooks;

	int epfd, timerfd, sigfd;
	sigset_t old_mask;
	int syslog_fd; /* registered for EPOLLOUT, -1 if none */

	struct daemon_watch watch[DAEMON_WATCH_MAX];

	bool ran, stopping;
	int exit_code;
	uint64_t packets_at_tick;
	struct daemon_stats stats;
	char last_error[DAEMON_ERR_MAX];
};

void daemon_config_defaults(struct daemon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->tick_ms = DAEMON_TICK_MS_DEFAULT;
}

static kg_time daemon_clock(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (kg_time)ts.tv_sec * KG_NSEC_PER_SEC + ts.tv_nsec;
}

static uint64_t daemon_tag(enum daemon_source src, uint32_t gen, uint32_t slot)
{
	return (uint64_t)src << 56 | (uint64_t)(gen & 0xffffff) << 32 | slot;
}

static int daemon_epoll_add(struct daemon *d, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag};
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* what: a sentence; err: an errno to append, or 0. */
static void daemon_fail(struct daemon *d, int code, const char *what, int err)
{
	if (err)
		snprintf(d->last_error, sizeof(d->last_error), "%s: %s", what, strerror(err));
	else
		snprintf(d->last_error, sizeof(d->last_error), "%s", what);
	daemon_stop(d, code);
}

struct daemon *daemon_create(const struct daemon_config *cfg, struct engine *engine, struct nfq *q,
			     struct syslog_client *syslog, const struct daemon_hooks *hooks,
			     char *err, size_t errlen)
{
	if (cfg->tick_ms < 1 || cfg->tick_ms > DAEMON_TICK_MS_MAX) {
		snprintf(err, errlen, "daemon: tick %u ms is not in 1..%d", cfg->tick_ms,
			 DAEMON_TICK_MS_MAX);
		return NULL;
	}
	struct daemon *d = calloc(1, sizeof(*d));
	if (d == NULL) {
		snprintf(err, errlen, "daemon: %s", strerror(errno));
		return NULL;
	}
	d->cfg = *cfg;
	d->engine = engine;
	d->q = q;
	d->syslog = syslog;
	if (hooks)
		d->hooks = *hooks;
	d->epfd = d->timerfd = d->sigfd = d->syslog_fd = -1;
	for (size_t i = 0; i < DAEMON_WATCH_MAX; i++)
		d->watch[i].fd = -1;
	d->stats.started = daemon_clock(CLOCK_REALTIME);

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked, the signals wait for the signalfd instead of interrupting
	 * the packet path. */
	if (sigprocmask(SIG_BLOCK, &set, &d->old_mask) < 0) {
		snprintf(err, errlen, "daemon: sigprocmask: %s", strerror(errno));
		free(d);
		return NULL;
	}
	const char *what = NULL;
	struct itimerspec its = {
		.it_interval = {.tv_sec = cfg->tick_ms / 1000,
				.tv_nsec = (long)(cfg->tick_ms % 1000) * 1000000L},
	};
	its.it_value = its.it_interval;
	if ((d->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		what = "epoll_create1";
	else if ((d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		what = "signalfd";
	else if ((d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)) < 0)
		what = "timerfd_create";
	else if (timerfd_settime(d->timerfd, 0, &its, NULL) < 0)
		what = "timerfd_settime";
	else if (daemon_epoll_add(d, d->sigfd, EPOLLIN, daemon_tag(SRC_SIGNAL, 0, 0)) < 0 ||
		 daemon_epoll_add(d, d->timerfd, EPOLLIN, daemon_tag(SRC_TIMER, 0, 0)) < 0 ||
		 daemon_epoll_add(d, nfq_socket_fd(q), EPOLLIN, daemon_tag(SRC_QUEUE, 0, 0)) < 0)
		what = "epoll_ctl";
	if (what) {
		snprintf(err, errlen, "daemon: %s: %s", what, strerror(errno));
		d->q = NULL; /* the caller still owns it on failure */
		daemon_destroy(d);
		return NULL;
	}
	return d;
}

void daemon_destroy(struct daemon *d)
{
	if (d == NULL)
		return;
	nfq_release(d->q);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->timerfd >= 0)
		close(d->timerfd);
	if (d->sigfd >= 0) {
		/* A signal that came during the shutdown would otherwise be
		 * delivered, and kill, as soon as the mask is restored. */
		struct signalfd_siginfo si;
		while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			;
		close(d->sigfd);
	}
	sigprocmask(SIG_SETMASK, &d->old_mask, NULL);
	free(d);
}

void daemon_stop(struct daemon *d, int code)
{
	if (d->stopping)
		return;
	d->stopping = true;
	d->exit_code = code;
}

/* --- watched descriptors --------------------------------------------------------- */

static uint32_t daemon_epoll_events(unsigned events)
{
	return ((events & DAEMON_READ) ? EPOLLIN : 0) | ((events & DAEMON_WRITE) ? EPOLLOUT : 0);
}

static struct daemon_watch *daemon_find_watch(struct daemon *d, int fd)
{
	for (size_t i = 0; i < DAEMON_WATCH_MAX; i++)
		if (d->watch[i].fd == fd)
			return &d->watch[i];
	return NULL;
}

int daemon_watch(struct daemon *d, int fd, unsigned events, void (*on_ready)(void *ctx), void *ctx)
{
	if (fd < 0 || on_ready == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (daemon_find_watch(d, fd)) {
		errno = EEXIST;
		return -1;
	}
	struct daemon_watch *w = daemon_find_watch(d, -1);
	if (w == NULL) {
		errno = ENOSPC;
		return -1;
	}
	uint32_t slot = (uint32_t)(w - d->watch);
	w->gen++;
	if (daemon_epoll_add(d, fd, daemon_epoll_events(events),
			     daemon_tag(SRC_WATCH, w->gen, slot)) < 0)
		return -1;
	w->fd = fd;
	w->on_ready = on_ready;
	w->ctx = ctx;
	return 0;
}

int daemon_watch_events(struct daemon *d, int fd, unsigned events)
{
	struct daemon_watch *w = daemon_find_watch(d, fd);
	if (fd < 0 || w == NULL) {
		errno = ENOENT;
		return -1;
	}
	struct epoll_event ev = {
		.events = daemon_epoll_events(events),
		.data.u64 = daemon_tag(SRC_WATCH, w->gen, (uint32_t)(w - d->watch)),
	};
	return epoll_ctl(d->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void daemon_unwatch(struct daemon *d, int fd)
{
	struct daemon_watch *w = fd >= 0 ? daemon_find_watch(d, fd) : NULL;
	if (w == NULL)
		return;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->fd = -1;
	w->gen++; /* events already returned for it are now stale */
}

/* --- sources ------------------------------------------------------------------- */

static enum nfq_verdict daemon_on_packet(void *ctx, const struct nfq_packet *p)
{
	struct daemon *d = ctx;
	unsigned flags = (p->flags & NFQ_PKT_CSUM_UNVERIFIED) ? DECODE_F_L4_CSUM_UNSET : 0;
	enum verdict v = engine_ip_packet_flags(d->engine, p->ts, p->data, p->caplen, flags);
	return v == VERDICT_DROP ? NFQ_DROP : NFQ_ACCEPT;
}

static void daemon_queue_ready(struct daemon *d)
{
	if (nfq_receive(d->q, daemon_on_packet, d) < 0)
		daemon_fail(d, DAEMON_EX_IOERR, nfq_last_error(d->q), 0);
}

static void daemon_syslog_flush(struct daemon *d)
{
	if (d->syslog && syslog_client_pending(d->syslog))
		syslog_client_flush(d->syslog, syslog_client_now());
}

/* Waits for POLLOUT on the syslog socket only while the client has something
 * it could not write. The descriptor changes on every reconnect, and a closed
 * one leaves the epoll set by itself, so it is registered afresh each time. */
static void daemon_syslog_arm(struct daemon *d)
{
	int want = d->syslog ? syslog_client_wait_fd(d->syslog) : -1;
	if (d->syslog_fd >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->syslog_fd, NULL);
		d->syslog_fd = -1;
	}
	if (want >= 0 && daemon_epoll_add(d, want, EPOLLOUT, daemon_tag(SRC_SYSLOG, 0, 0)) == 0)
		d->syslog_fd = want;
}

static void daemon_timer_ready(struct daemon *d)
{
	uint64_t expirations;
	if (read(d->timerfd, &expirations, sizeof(expirations)) != (ssize_t)sizeof(expirations))
		return;
	d->stats.ticks++;
	kg_time wall = daemon_clock(CLOCK_REALTIME);
	uint64_t packets = nfq_stats(d->q)->packets;
	if (packets == d->packets_at_tick) {
		/* Idle: time moves on without packets, so timers still fire. */
		engine_tick(d->engine, wall);
		d->stats.idle_ticks++;
	}
	d->packets_at_tick = packets;
	if (d->hooks.tick)
		d->hooks.tick(d->hooks.ctx, wall, daemon_clock(CLOCK_MONOTONIC));
}

static void daemon_signal_ready(struct daemon *d)
{
	struct signalfd_siginfo si;
	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			d->stats.reloads++;
			if (d->hooks.reload)
				d->hooks.reload(d->hooks.ctx);
			break;
		case SIGTERM:
		case SIGINT:
			if (!d->stopping)
				d->stats.stop_signal = (int)si.ssi_signo;
			daemon_stop(d, 0);
			break;
		}
	}
}

static void daemon_watch_ready(struct daemon *d, uint64_t tag)
{
	uint32_t slot = (uint32_t)tag;
	uint32_t gen = (uint32_t)(tag >> 32) & 0xffffff;
	if (slot >= DAEMON_WATCH_MAX)
		return;
	struct daemon_watch *w = &d->watch[slot];
	if (w->fd < 0 || (w->gen & 0xffffff) != gen)
		return; /* unwatched by an earlier callback of this batch */
	w->on_ready(w->ctx);
}

static void daemon_dispatch(struct daemon *d, uint64_t tag)
{
	switch ((enum daemon_source)(tag >> 56)) {
	case SRC_QUEUE:
		daemon_queue_ready(d);
		break;
	case SRC_TIMER:
		daemon_timer_ready(d);
		break;
	case SRC_SIGNAL:
		daemon_signal_ready(d);
		break;
	case SRC_SYSLOG:
		daemon_syslog_flush(d);
		break;
	case SRC_WATCH:
		daemon_watch_ready(d, tag);
		break;
	}
}

int daemon_run(struct daemon *d)
{
	if (d->ran) {
		snprintf(d->last_error, sizeof(d->last_error), "daemon: run twice");
		return DAEMON_EX_OSERR;
	}
	d->ran = true;
	d->packets_at_tick = nfq_stats(d->q)->packets;
	struct epoll_event ev[DAEMON_EVENTS_MAX];
	while (!d->stopping) {
		daemon_syslog_arm(d);
		int n = epoll_wait(d->epfd, ev, DAEMON_EVENTS_MAX, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			daemon_fail(d, DAEMON_EX_OSERR, "daemon: epoll_wait", errno);
			break;
		}
		d->stats.wakeups++;
		for (int i = 0; i < n; i++)
			daemon_dispatch(d, ev[i].data.u64);
		/* Alerts raised by these packets leave now, not at the next tick;
		 * on a tick, a reconnect that has come due. */
		daemon_syslog_flush(d);
	}
	if (d->syslog_fd >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->syslog_fd, NULL);
		d->syslog_fd = -1;
	}
	/* What already sits in the socket gets its verdict; then the queue goes
	 * and the rule's bypass carries the traffic while the logs are written. */
	if (d->exit_code != DAEMON_EX_IOERR)
		nfq_receive(d->q, daemon_on_packet, d);
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, nfq_socket_fd(d->q), NULL);
	nfq_release(d->q);
	d->q = NULL;
	engine_finish(d->engine);
	int code = d->exit_code;
	if (d->hooks.shutdown)
		code = d->hooks.shutdown(d->hooks.ctx, code);
	return code;
}

const struct daemon_stats *daemon_stats(const struct daemon *d)
{
	return &d->stats;
}

const struct nfq *daemon_queue(const struct daemon *d)
{
	return d->q;
}

const char *daemon_last_error(const struct daemon *d)
{
	return d->last_error;
}
