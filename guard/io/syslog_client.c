#include "io/syslog_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "out/syslog_format.h"

#define SYSLOG_ERR_MAX 512

enum link_state { LINK_DOWN, LINK_CONNECTING, LINK_UP };

struct slot {
	size_t len;
	char data[SYSLOG_FRAME_MAX];
};

struct syslog_client {
	struct syslog_client_config cfg;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char peer[SYSLOG_HOST_MAX + 16]; /* for messages: "host:port" or the path */

	int fd;
	enum link_state state;
	bool recovering;  /* a connect or send failed since the link was last up */
	kg_time retry_at; /* when DOWN: next connect attempt */
	kg_time backoff;

	struct slot *slots; /* ring of cfg.queue_max */
	size_t head, count;
	size_t head_sent; /* bytes of the head already written (TCP) */

	struct syslog_client_stats stats;
	char last_error[SYSLOG_ERR_MAX];
};

void syslog_client_config_defaults(struct syslog_client_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->transport = SYSLOG_UNIX;
	snprintf(cfg->path, sizeof(cfg->path), SYSLOG_DEFAULT_PATH);
	snprintf(cfg->host, sizeof(cfg->host), SYSLOG_DEFAULT_HOST);
	cfg->port = SYSLOG_DEFAULT_PORT;
	cfg->queue_max = SYSLOG_QUEUE_DEFAULT;
}

bool syslog_transport_parse(const char *s, enum syslog_transport *out)
{
	if (strcmp(s, "unix") == 0)
		*out = SYSLOG_UNIX;
	else if (strcmp(s, "udp") == 0)
		*out = SYSLOG_UDP;
	else if (strcmp(s, "tcp") == 0)
		*out = SYSLOG_TCP;
	else
		return false;
	return true;
}

const char *syslog_transport_name(enum syslog_transport t)
{
	switch (t) {
	case SYSLOG_UNIX:
		return "unix";
	case SYSLOG_UDP:
		return "udp";
	case SYSLOG_TCP:
		return "tcp";
	}
	return "unknown";
}

kg_time syslog_client_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (kg_time)ts.tv_sec * KG_NSEC_PER_SEC + ts.tv_nsec;
}

static bool syslog_client_resolve(struct syslog_client *c, char *err, size_t errlen)
{
	if (c->cfg.transport == SYSLOG_UNIX) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&c->addr;
		size_t n = strnlen(c->cfg.path, sizeof(c->cfg.path));
		if (n == 0 || n >= sizeof(sun->sun_path)) {
			snprintf(err, errlen, "syslog: socket path '%s' is empty or too long",
				 c->cfg.path);
			return false;
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, c->cfg.path, n + 1);
		c->addrlen = (socklen_t)sizeof(*sun);
		snprintf(c->peer, sizeof(c->peer), "%s", c->cfg.path);
		return true;
	}
	struct addrinfo hints = {0}, *res = NULL;
	char port[8];
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = c->cfg.transport == SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM;
	hints.ai_flags = AI_ADDRCONFIG;
	snprintf(port, sizeof(port), "%u", (unsigned)c->cfg.port);
	int rc = getaddrinfo(c->cfg.host, port, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, errlen, "syslog: cannot resolve '%s': %s", c->cfg.host,
			 rc ? gai_strerror(rc) : "no address");
		return false;
	}
	memcpy(&c->addr, res->ai_addr, res->ai_addrlen);
	c->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	snprintf(c->peer, sizeof(c->peer), "%s:%u", c->cfg.host, (unsigned)c->cfg.port);
	return true;
}

struct syslog_client *syslog_client_create(const struct syslog_client_config *cfg, char *err,
					   size_t errlen)
{
	if (cfg->queue_max == 0 || cfg->queue_max > SYSLOG_QUEUE_LIMIT) {
		snprintf(err, errlen, "syslog: queue size %zu is not in 1..%d", cfg->queue_max,
			 SYSLOG_QUEUE_LIMIT);
		return NULL;
	}
	struct syslog_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "syslog: %s", strerror(errno));
		return NULL;
	}
	c->cfg = *cfg;
	c->cfg.path[sizeof(c->cfg.path) - 1] = '\0';
	c->cfg.host[sizeof(c->cfg.host) - 1] = '\0';
	c->fd = -1;
	c->backoff = SYSLOG_BACKOFF_MIN;
	if (!syslog_client_resolve(c, err, errlen)) {
		free(c);
		return NULL;
	}
	c->slots = calloc(cfg->queue_max, sizeof(*c->slots));
	if (c->slots == NULL) {
		snprintf(err, errlen, "syslog: queue of %zu: %s", cfg->queue_max, strerror(errno));
		free(c);
		return NULL;
	}
	return c;
}

void syslog_client_destroy(struct syslog_client *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->slots);
	free(c);
}

static void syslog_client_pop(struct syslog_client *c)
{
	c->head = (c->head + 1) % c->cfg.queue_max;
	c->count--;
	c->head_sent = 0;
}

bool syslog_client_enqueue(struct syslog_client *c, const char *msg, size_t len)
{
	c->stats.queued++;
	if (len > SYSLOG_MSG_MAX) {
		c->stats.dropped++;
		return false;
	}
	if (c->count == c->cfg.queue_max) {
		c->stats.dropped++;
		if (c->head_sent == 0) {
			syslog_client_pop(c);
		} else if (c->count == 1) {
			/* The only slot is half on the wire: it must be finished
			 * for the stream to stay framed, so the new one goes. */
			return false;
		} else {
			/* Drop the second oldest: the head is half on the wire.
			 * Its slot moves one place on, over the dropped one. */
			size_t next = (c->head + 1) % c->cfg.queue_max;
			c->slots[next] = c->slots[c->head];
			c->head = next;
			c->count--;
		}
	}
	struct slot *s = &c->slots[(c->head + c->count) % c->cfg.queue_max];
	if (c->cfg.transport == SYSLOG_TCP)
		s->len = syslog_frame_octet_count(msg, len, s->data, sizeof(s->data));
	else {
		memcpy(s->data, msg, len);
		s->len = len;
	}
	c->count++;
	return true;
}

static void syslog_client_note(struct syslog_client *c, const char *what, int e)
{
	snprintf(c->last_error, sizeof(c->last_error), "%s %s: %s", what, c->peer, strerror(e));
}

/* The link failed: close, and try again after the backoff, which doubles. */
static void syslog_client_fail(struct syslog_client *c, kg_time now, const char *what, int e)
{
	c->stats.errors++;
	c->recovering = true;
	syslog_client_note(c, what, e);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = LINK_DOWN;
	c->head_sent = 0; /* a cut message goes again whole */
	c->retry_at = now + c->backoff;
	c->backoff = c->backoff * 2 > SYSLOG_BACKOFF_MAX ? SYSLOG_BACKOFF_MAX : c->backoff * 2;
}

static void syslog_client_up(struct syslog_client *c)
{
	c->state = LINK_UP;
	if (c->recovering)
		c->stats.reconnects++;
	c->recovering = false;
}

static void syslog_client_connect(struct syslog_client *c, kg_time now)
{
	int type = c->cfg.transport == SYSLOG_TCP ? SOCK_STREAM : SOCK_DGRAM;
	c->fd = socket(c->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		syslog_client_fail(c, now, "socket for", errno);
		return;
	}
	if (connect(c->fd, (const struct sockaddr *)&c->addr, c->addrlen) == 0) {
		syslog_client_up(c);
		return;
	}
	if (errno == EINPROGRESS && type == SOCK_STREAM) {
		c->state = LINK_CONNECTING;
		return;
	}
	syslog_client_fail(c, now, "connect", errno);
}

/* A pending TCP connect: done, failed, or still going. */
static void syslog_client_check_connecting(struct syslog_client *c, kg_time now)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
	if (poll(&pfd, 1, 0) <= 0)
		return;
	int e = 0;
	socklen_t elen = sizeof(e);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &elen) != 0)
		e = errno;
	if (e == 0 && !(pfd.revents & (POLLERR | POLLHUP)))
		syslog_client_up(c);
	else
		syslog_client_fail(c, now, "connect", e ? e : ECONNREFUSED);
}

/* A collector never talks back: readable means it closed (or reset) the
 * connection. Seeing it before writing saves the messages a write into a
 * dead connection would lose. Anything it does send is read and ignored. */
static bool syslog_client_peer_closed(struct syslog_client *c, kg_time now)
{
	char buf[256];
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == 0) {
			syslog_client_fail(c, now, "connection closed by", ECONNRESET);
			return true;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return false;
		if (errno == EINTR)
			continue;
		syslog_client_fail(c, now, "connection to", errno);
		return true;
	}
}

static void syslog_client_send_queue(struct syslog_client *c, kg_time now)
{
	while (c->count > 0) {
		struct slot *s = &c->slots[c->head];
		ssize_t n = send(c->fd, s->data + c->head_sent, s->len - c->head_sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n >= 0) {
			c->head_sent += (size_t)n;
			if (c->head_sent < s->len)
				continue; /* a stream took part of it */
			syslog_client_pop(c);
			c->stats.sent++;
			c->backoff = SYSLOG_BACKOFF_MIN;
			continue;
		}
		int e = errno;
		if (e == EINTR)
			continue;
		if (e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS)
			return; /* full for now; the next flush goes on */
		if (e == EMSGSIZE) {
			/* This collector never takes a message this big. */
			c->stats.errors++;
			c->stats.dropped++;
			syslog_client_note(c, "message too big for", e);
			syslog_client_pop(c);
			continue;
		}
		syslog_client_fail(c, now, "send to", e);
		return;
	}
}

void syslog_client_flush(struct syslog_client *c, kg_time now)
{
	if (c->state == LINK_DOWN) {
		if (c->count == 0 || now < c->retry_at)
			return;
		syslog_client_connect(c, now);
	}
	if (c->state == LINK_CONNECTING)
		syslog_client_check_connecting(c, now);
	if (c->state != LINK_UP)
		return;
	if (c->cfg.transport == SYSLOG_TCP && syslog_client_peer_closed(c, now))
		return;
	syslog_client_send_queue(c, now);
}

bool syslog_client_drain(struct syslog_client *c, int timeout_ms)
{
	kg_time deadline = syslog_client_now() + KG_MSEC(timeout_ms);
	for (;;) {
		kg_time now = syslog_client_now();
		syslog_client_flush(c, now);
		if (c->count == 0)
			return true;
		if (now >= deadline)
			return false;
		kg_time wake = deadline;
		if (c->state == LINK_DOWN && c->retry_at < wake)
			wake = c->retry_at;
		int wait_ms = (int)((wake - now + KG_MSEC(1) - 1) / KG_MSEC(1));
		if (c->fd >= 0) {
			struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
			(void)poll(&pfd, 1, wait_ms);
		} else if (wait_ms > 0) {
			(void)poll(NULL, 0, wait_ms);
		}
	}
}

size_t syslog_client_pending(const struct syslog_client *c)
{
	return c->count;
}

bool syslog_client_connected(const struct syslog_client *c)
{
	return c->state == LINK_UP;
}

int syslog_client_wait_fd(const struct syslog_client *c)
{
	if (c->fd < 0 || (c->state == LINK_UP && c->count == 0))
		return -1;
	return c->fd;
}

kg_time syslog_client_retry_at(const struct syslog_client *c)
{
	return c->state == LINK_DOWN && c->count > 0 ? c->retry_at : 0;
}

const struct syslog_client_stats *syslog_client_stats(const struct syslog_client *c)
{
	return &c->stats;
}

const char *syslog_client_last_error(const struct syslog_client *c)
{
	return c->last_error;
}
