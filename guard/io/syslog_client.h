/* Ships formatted syslog messages to a collector: a local unix datagram socket
 * (default /dev/log), UDP, or TCP with RFC 6587 octet counting. An adapter.
 *
 * Never blocks: syslog_client_enqueue() only copies the message into a queue
 * of queue_max slots allocated at create; syslog_client_flush(), called from
 * the event loop (or after each replay batch), connects and writes what the
 * socket takes without waiting. While the collector is gone, messages wait
 * in the queue; when it is full the oldest is dropped and counted. A lost or
 * refused connection is retried after an exponential backoff
 * (SYSLOG_BACKOFF_MIN doubling to SYSLOG_BACKOFF_MAX, reset by a successful
 * send), on the clock the caller passes in: no sleeping, no timers here.
 * A message cut short by a lost TCP connection is sent again whole.
 *
 * Counters: queued = sent + dropped + syslog_client_pending(). */
#ifndef KG_SYSLOG_CLIENT_H
#define KG_SYSLOG_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/kgtime.h"

#define SYSLOG_PATH_MAX 108 /* sun_path */
#define SYSLOG_HOST_MAX 256
#define SYSLOG_DEFAULT_PATH "/dev/log"
#define SYSLOG_DEFAULT_HOST "127.0.0.1"
#define SYSLOG_DEFAULT_PORT 514
#define SYSLOG_QUEUE_DEFAULT 1024
#define SYSLOG_QUEUE_LIMIT 16384 /* slots are ~2 KiB each */
#define SYSLOG_BACKOFF_MIN KG_MSEC(500)
#define SYSLOG_BACKOFF_MAX KG_SEC(60)

enum syslog_transport { SYSLOG_UNIX, SYSLOG_UDP, SYSLOG_TCP };

struct syslog_client_config {
	enum syslog_transport transport;
	char path[SYSLOG_PATH_MAX]; /* unix */
	char host[SYSLOG_HOST_MAX]; /* udp, tcp: an address or a name resolved at create */
	uint16_t port;		    /* udp, tcp */
	size_t queue_max;	    /* 1..SYSLOG_QUEUE_LIMIT */
};

struct syslog_client_stats {
	uint64_t sent;	     /* messages handed whole to the socket */
	uint64_t queued;     /* messages accepted by syslog_client_enqueue() */
	uint64_t dropped;    /* discarded: queue full (oldest first) or unsendable */
	uint64_t reconnects; /* connections made after a failed connect or a lost link */
	uint64_t errors;     /* failed connects and sends */
};

void syslog_client_config_defaults(struct syslog_client_config *cfg);
/* "unix", "udp" or "tcp". */
bool syslog_transport_parse(const char *s, enum syslog_transport *out);
const char *syslog_transport_name(enum syslog_transport t);

/* Resolves host (the one blocking step, done once) and allocates the queue;
 * does not connect yet. NULL with a message in err on failure. */
struct syslog_client *syslog_client_create(const struct syslog_client_config *cfg, char *err,
					   size_t errlen);
void syslog_client_destroy(struct syslog_client *c);

/* Copies one message (at most SYSLOG_MSG_MAX bytes; false and counted as
 * dropped if longer). Framing for TCP is added here. */
bool syslog_client_enqueue(struct syslog_client *c, const char *msg, size_t len);
/* Connects when due and sends what the socket accepts now. now: any
 * monotonic clock (syslog_client_now()), not packet time. */
void syslog_client_flush(struct syslog_client *c, kg_time now);
/* For shutdown: flushes until the queue is empty or timeout_ms passes,
 * waiting in poll(2). True if everything was sent. */
bool syslog_client_drain(struct syslog_client *c, int timeout_ms);

/* CLOCK_MONOTONIC as kg_time. */
kg_time syslog_client_now(void);
size_t syslog_client_pending(const struct syslog_client *c);
bool syslog_client_connected(const struct syslog_client *c);
/* For an event loop: the socket to poll for POLLOUT, or -1 when nothing
 * waits on it; and when a reconnect is due (0 if none is scheduled). */
int syslog_client_wait_fd(const struct syslog_client *c);
kg_time syslog_client_retry_at(const struct syslog_client *c);
const struct syslog_client_stats *syslog_client_stats(const struct syslog_client *c);
/* The last connect or send error, e.g. "connect 127.0.0.1:514: Connection
 * refused"; "" if none yet. */
const char *syslog_client_last_error(const struct syslog_client *c);

#endif
