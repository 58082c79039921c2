/* The live daemon's event loop: one thread, one level-triggered epoll over
 *   - the NFQUEUE socket: nfq -> engine_ip_packet_flags() -> verdict, nothing
 *     allocated per packet (GSO and checksum-offloaded packets are passed with
 *     DECODE_F_L4_CSUM_UNSET: their transport checksum is not filled in yet);
 *   - a periodic timer: while no packet came since the last tick, the engine's
 *     time moves to the wall clock (as Zeek moves network time when the source
 *     is idle, connlog.md 10.4); syslog retries; the caller's tick hook;
 *   - the syslog client's socket while it waits to write;
 *   - a signalfd: SIGTERM and SIGINT end the loop cleanly, SIGHUP calls the
 *     reload hook;
 *   - any descriptor another module registers with daemon_watch() (the control
 *     socket): the daemon knows nothing of its protocol.
 *
 * At the end of daemon_run() the last packets in the socket get their
 * verdicts, the queue is released (the rule's bypass carries the traffic from
 * then on), engine_finish() logs every open connection, and the shutdown hook
 * commits the logs and removes what must be removed. */
#ifndef KG_DAEMON_H
#define KG_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "io/nfq.h"
#include "io/syslog_client.h"
#include "util/kgtime.h"

#define DAEMON_TICK_MS_DEFAULT 100
#define DAEMON_WATCH_MAX 32
#define DAEMON_ERR_MAX 512

/* sysexits.h values daemon_run() returns besides 0. */
#define DAEMON_EX_OSERR 71 /* epoll, timer or signal descriptor failed */
#define DAEMON_EX_IOERR 74 /* the queue socket failed */

struct daemon_config {
	unsigned tick_ms; /* 1..60000, default DAEMON_TICK_MS_DEFAULT */
};

void daemon_config_defaults(struct daemon_config *cfg);

/* The caller's part of the loop; every hook may be NULL. They run on the
 * loop's thread, between packets. */
struct daemon_hooks {
	void *ctx;
	/* SIGHUP. */
	void (*reload)(void *ctx);
	/* Every tick: wall is CLOCK_REALTIME, mono CLOCK_MONOTONIC (ns). */
	void (*tick)(void *ctx, kg_time wall, kg_time mono);
	/* Once, after engine_finish(): commit logs, remove the nft table...
	 * Gets daemon_run()'s exit code and returns the one to use. */
	int (*shutdown)(void *ctx, int code);
};

/* Readiness a watched descriptor waits for. */
#define DAEMON_READ 1u
#define DAEMON_WRITE 2u

struct daemon_stats {
	kg_time started;  /* wall clock at daemon_create() */
	uint64_t wakeups; /* epoll_wait returns */
	uint64_t ticks;
	uint64_t idle_ticks; /* ticks that moved the engine's time */
	uint64_t reloads;    /* SIGHUPs */
	int stop_signal;     /* the signal that ended the loop, 0 if none */
};

struct daemon;

/* Blocks SIGTERM, SIGINT and SIGHUP in the calling thread (they are read from
 * a signalfd) and registers q, the timer and the signals. engine, q and syslog
 * (NULL: none) must outlive the daemon. On success q belongs to the daemon
 * (daemon_run() releases it; so does daemon_destroy() if run never was); on
 * failure (NULL, a sentence in err) it stays the caller's. */
struct daemon *daemon_create(const struct daemon_config *cfg, struct engine *engine, struct nfq *q,
			     struct syslog_client *syslog, const struct daemon_hooks *hooks,
			     char *err, size_t errlen);
/* Closes the descriptors the daemon made, restores the signal mask. */
void daemon_destroy(struct daemon *d);

/* Runs until a SIGTERM/SIGINT, daemon_stop() or a fatal error; returns the exit
 * code (0 after a signal or daemon_stop(d, 0)). Once only. */
int daemon_run(struct daemon *d);
/* From a hook or a watched descriptor's callback: the loop ends after the
 * current events, daemon_run() returns code. */
void daemon_stop(struct daemon *d, int code);

/* Calls on_ready(ctx) whenever fd is readable (DAEMON_READ) and/or writable
 * (DAEMON_WRITE), or has an error or hangup. At most DAEMON_WATCH_MAX. The
 * callback may watch and unwatch descriptors, its own included. 0, or -1 with
 * errno (ENOSPC: table full, EEXIST: already watched). */
int daemon_watch(struct daemon *d, int fd, unsigned events, void (*on_ready)(void *ctx), void *ctx);
/* Changes what a watched descriptor waits for. 0, or -1 with errno. */
int daemon_watch_events(struct daemon *d, int fd, unsigned events);
/* Stops watching fd (call it before closing fd). Unknown fds are ignored. */
void daemon_unwatch(struct daemon *d, int fd);

const struct daemon_stats *daemon_stats(const struct daemon *d);
/* The queue, for status (NULL once daemon_run() has released it). */
const struct nfq *daemon_queue(const struct daemon *d);
/* Why daemon_run() failed, "" if it did not. */
const char *daemon_last_error(const struct daemon *d);

#endif
