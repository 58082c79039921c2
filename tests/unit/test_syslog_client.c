/* syslog_client against real sockets made here: a unix datagram socket in a
 * private directory, UDP and TCP on 127.0.0.1 port 0. Time for the backoff is
 * a synthetic clock; the sockets are real. */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "io/syslog_client.h"
#include "out/syslog_format.h"

#define T0 KG_SEC(1000)

/* --- collectors ------------------------------------------------------------ */

struct tmp {
	char dir[32];
	char path[64];
};

static void tmp_make(struct tmp *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/kg-syslog.XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	assert_true(snprintf(t->path, sizeof(t->path), "%s/log", t->dir) < (int)sizeof(t->path));
}

static void tmp_remove(struct tmp *t)
{
	unlink(t->path);
	assert_int_equal(rmdir(t->dir), 0);
}

static int unix_collector(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

static int inet_socket(int type, uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
	socklen_t len = sizeof(sin);
	int one = 1;
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*bound = ntohs(sin.sin_port);
	return fd;
}

static int tcp_listener(uint16_t port, uint16_t *bound, int rcvbuf)
{
	int fd = inet_socket(SOCK_STREAM, port, bound);
	if (rcvbuf)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static int tcp_accept(int lfd)
{
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 2000), 1);
	int fd = accept(lfd, NULL, NULL);
	assert_true(fd >= 0);
	return fd;
}

/* One datagram, or -1 if none arrives within timeout_ms. */
static ssize_t recv_dgram(int fd, char *buf, size_t cap, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	ssize_t n = recv(fd, buf, cap - 1, 0);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, 0) == 1;
}

/* An octet-counted TCP stream, parsed as it comes. */
struct stream {
	char buf[1 << 20];
	size_t len;
	size_t frames;
	bool broken; /* a frame that is not "LEN SP MSG" */
};

/* Calls fn for each complete frame; keeps a partial one. */
static void stream_read(struct stream *s, int fd, void (*fn)(void *ctx, const char *m, size_t n),
			void *ctx)
{
	for (;;) {
		ssize_t n = recv(fd, s->buf + s->len, sizeof(s->buf) - s->len, MSG_DONTWAIT);
		if (n <= 0)
			break;
		s->len += (size_t)n;
	}
	size_t off = 0;
	while (off < s->len) {
		size_t i = off, msglen = 0;
		while (i < s->len && s->buf[i] >= '0' && s->buf[i] <= '9' && i - off < 5)
			msglen = msglen * 10 + (size_t)(s->buf[i++] - '0');
		if (i == s->len)
			break; /* length still arriving */
		if (i == off || s->buf[i] != ' ' || msglen == 0 || msglen > SYSLOG_MSG_MAX) {
			s->broken = true;
			return;
		}
		if (s->len - (i + 1) < msglen)
			break;
		fn(ctx, s->buf + i + 1, msglen);
		s->frames++;
		off = i + 1 + msglen;
	}
	memmove(s->buf, s->buf + off, s->len - off);
	s->len -= off;
}

/* --- helpers ---------------------------------------------------------------- */

static void config(struct syslog_client_config *cfg, enum syslog_transport t, const char *path,
		   uint16_t port, size_t queue_max)
{
	syslog_client_config_defaults(cfg);
	cfg->transport = t;
	if (path)
		snprintf(cfg->path, sizeof(cfg->path), "%s", path);
	cfg->port = port;
	cfg->queue_max = queue_max;
}

static struct syslog_client *client(const struct syslog_client_config *cfg)
{
	char err[256];
	struct syslog_client *c = syslog_client_create(cfg, err, sizeof(err));
	if (c == NULL)
		fail_msg("create: %s", err);
	return c;
}

static void enqueue(struct syslog_client *c, const char *fmt, int n)
{
	char msg[128];
	int len = snprintf(msg, sizeof(msg), fmt, n);
	assert_true(syslog_client_enqueue(c, msg, (size_t)len));
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Flushes at `now` until the queue is empty or the link is down (a pending
 * TCP connect needs a few rounds). */
static void flush_settle(struct syslog_client *c, kg_time now)
{
	for (int i = 0; i < 400; i++) {
		syslog_client_flush(c, now);
		if (syslog_client_pending(c) == 0 || syslog_client_retry_at(c) != 0)
			return;
		sleep_ms(5);
	}
}

static void assert_invariant(const struct syslog_client *c)
{
	const struct syslog_client_stats *s = syslog_client_stats(c);
	assert_int_equal(s->queued, s->sent + s->dropped + syslog_client_pending(c));
}

/* --- tests ---------------------------------------------------------------- */

static void test_unix_delivery(void **state)
{
	(void)state;
	struct tmp t;
	struct syslog_client_config cfg;
	char buf[4096];
	tmp_make(&t);
	int fd = unix_collector(t.path);
	config(&cfg, SYSLOG_UNIX, t.path, 0, 8);
	struct syslog_client *c = client(&cfg);

	assert_false(syslog_client_connected(c));
	for (int i = 0; i < 3; i++)
		enqueue(c, "<134>1 - - - - - - unix %d", i);
	assert_int_equal(syslog_client_pending(c), 3);
	assert_false(readable(fd)); /* enqueue never sends */
	syslog_client_flush(c, T0);
	for (int i = 0; i < 3; i++) {
		char want[64];
		snprintf(want, sizeof(want), "<134>1 - - - - - - unix %d", i);
		assert_int_equal(recv_dgram(fd, buf, sizeof(buf), 1000), (ssize_t)strlen(want));
		assert_string_equal(buf, want); /* one message a datagram, unframed */
	}
	assert_false(readable(fd));
	const struct syslog_client_stats *s = syslog_client_stats(c);
	assert_int_equal(s->sent, 3);
	assert_int_equal(s->queued, 3);
	assert_int_equal(s->dropped, 0);
	assert_int_equal(s->errors, 0);
	assert_int_equal(s->reconnects, 0);
	assert_true(syslog_client_connected(c));
	assert_int_equal(syslog_client_wait_fd(c), -1); /* nothing to wait for */
	assert_string_equal(syslog_client_last_error(c), "");

	/* A full-size message goes through whole. */
	static char big[SYSLOG_MSG_MAX];
	memset(big, 'b', sizeof(big));
	assert_true(syslog_client_enqueue(c, big, sizeof(big)));
	syslog_client_flush(c, T0);
	assert_int_equal(recv_dgram(fd, buf, sizeof(buf), 1000), SYSLOG_MSG_MAX);
	assert_memory_equal(buf, big, SYSLOG_MSG_MAX);
	/* Longer is refused and counted. */
	static char huge[SYSLOG_MSG_MAX + 1];
	assert_false(syslog_client_enqueue(c, huge, sizeof(huge)));
	assert_int_equal(s->dropped, 1);
	assert_invariant(c);

	syslog_client_destroy(c);
	close(fd);
	tmp_remove(&t);
}

/* No collector yet: messages wait; reconnects follow the backoff. */
static void test_unix_collector_absent_then_present(void **state)
{
	(void)state;
	struct tmp t;
	struct syslog_client_config cfg;
	char buf[256];
	tmp_make(&t);
	config(&cfg, SYSLOG_UNIX, t.path, 0, 8);
	struct syslog_client *c = client(&cfg);
	const struct syslog_client_stats *s = syslog_client_stats(c);

	enqueue(c, "early %d", 0);
	syslog_client_flush(c, T0);
	assert_int_equal(s->errors, 1);
	assert_int_equal(s->sent, 0);
	assert_int_equal(syslog_client_pending(c), 1);
	assert_int_equal(syslog_client_retry_at(c), T0 + SYSLOG_BACKOFF_MIN);
	assert_non_null(strstr(syslog_client_last_error(c), t.path));
	assert_non_null(strstr(syslog_client_last_error(c), "No such file"));

	int fd = unix_collector(t.path);
	enqueue(c, "early %d", 1);
	/* Before the retry time nothing is tried. */
	syslog_client_flush(c, T0 + SYSLOG_BACKOFF_MIN - 1);
	assert_false(readable(fd));
	assert_int_equal(s->errors, 1);
	/* At it, the connection is made and the queue goes, oldest first. */
	syslog_client_flush(c, T0 + SYSLOG_BACKOFF_MIN);
	assert_int_equal(recv_dgram(fd, buf, sizeof(buf), 1000), 7);
	assert_string_equal(buf, "early 0");
	assert_int_equal(recv_dgram(fd, buf, sizeof(buf), 1000), 7);
	assert_string_equal(buf, "early 1");
	assert_int_equal(s->sent, 2);
	assert_int_equal(s->reconnects, 1);
	assert_int_equal(syslog_client_retry_at(c), 0);
	assert_invariant(c);

	syslog_client_destroy(c);
	close(fd);
	tmp_remove(&t);
}

/* The collector restarts (a new socket at the same path): the old connection
 * is refused, the client reconnects and nothing queued is lost. */
static void test_unix_collector_restart(void **state)
{
	(void)state;
	struct tmp t;
	struct syslog_client_config cfg;
	char buf[256];
	tmp_make(&t);
	int fd = unix_collector(t.path);
	config(&cfg, SYSLOG_UNIX, t.path, 0, 8);
	struct syslog_client *c = client(&cfg);
	const struct syslog_client_stats *s = syslog_client_stats(c);
	enqueue(c, "before %d", 1);
	syslog_client_flush(c, T0);
	assert_int_equal(recv_dgram(fd, buf, sizeof(buf), 1000), 8);

	close(fd);
	fd = unix_collector(t.path);
	enqueue(c, "after %d", 1);
	enqueue(c, "after %d", 2);
	syslog_client_flush(c, T0 + 1);
	assert_int_equal(s->errors, 1);
	assert_int_equal(syslog_client_pending(c), 2);
	assert_false(readable(fd));
	syslog_client_flush(c, T0 + 1 + SYSLOG_BACKOFF_MIN);
	assert_int_equal(recv_dgram(fd, buf, sizeof(buf), 1000), 7);
	assert_string_equal(buf, "after 1");
	assert_int_equal(recv_dgram(fd, buf, sizeof(buf), 1000), 7);
	assert_string_equal(buf, "after 2");
	assert_int_equal(s->reconnects, 1);
	assert_int_equal(s->sent, 3);
	assert_invariant(c);

	syslog_client_destroy(c);
	close(fd);
	tmp_remove(&t);
}

/* Each failure doubles the wait, up to SYSLOG_BACKOFF_MAX; a send resets it. */
static void test_backoff_doubles_and_resets(void **state)
{
	(void)state;
	struct tmp t;
	struct syslog_client_config cfg;
	char buf[64];
	tmp_make(&t);
	config(&cfg, SYSLOG_UNIX, t.path, 0, 4);
	struct syslog_client *c = client(&cfg);
	enqueue(c, "m%d", 0);
	kg_time now = T0, wait = SYSLOG_BACKOFF_MIN;
	for (int i = 0; i < 12; i++) {
		syslog_client_flush(c, now);
		assert_int_equal(syslog_client_retry_at(c), now + wait);
		assert_int_equal(syslog_client_stats(c)->errors, (uint64_t)i + 1);
		/* an early flush changes nothing */
		syslog_client_flush(c, now + wait - 1);
		assert_int_equal(syslog_client_stats(c)->errors, (uint64_t)i + 1);
		now += wait;
		wait = wait * 2 > SYSLOG_BACKOFF_MAX ? SYSLOG_BACKOFF_MAX : wait * 2;
	}
	assert_int_equal(wait, SYSLOG_BACKOFF_MAX);

	int fd = unix_collector(t.path);
	syslog_client_flush(c, now);
	assert_int_equal(recv_dgram(fd, buf, sizeof(buf), 1000), 2);
	close(fd);
	/* The next failure starts from the minimum again. */
	unlink(t.path);
	enqueue(c, "m%d", 1);
	syslog_client_flush(c, now + 1);
	assert_int_equal(syslog_client_retry_at(c), now + 1 + SYSLOG_BACKOFF_MIN);

	syslog_client_destroy(c);
	tmp_remove(&t);
}

static void test_udp_delivery(void **state)
{
	(void)state;
	struct syslog_client_config cfg;
	char buf[4096];
	uint16_t port;
	int fd = inet_socket(SOCK_DGRAM, 0, &port);
	config(&cfg, SYSLOG_UDP, NULL, port, 16);
	struct syslog_client *c = client(&cfg);
	for (int i = 0; i < 5; i++)
		enqueue(c, "<134>1 - - - - - - udp %d", i);
	syslog_client_flush(c, T0);
	for (int i = 0; i < 5; i++) {
		char want[64];
		snprintf(want, sizeof(want), "<134>1 - - - - - - udp %d", i);
		assert_true(recv_dgram(fd, buf, sizeof(buf), 1000) > 0);
		assert_string_equal(buf, want);
	}
	assert_int_equal(syslog_client_stats(c)->sent, 5);
	assert_invariant(c);
	/* drain: everything out, true */
	enqueue(c, "drained %d", 1);
	assert_true(syslog_client_drain(c, 1000));
	assert_true(recv_dgram(fd, buf, sizeof(buf), 1000) > 0);
	assert_string_equal(buf, "drained 1");
	syslog_client_destroy(c);
	close(fd);
}

struct collected {
	char msgs[64][128];
	size_t n;
};

static void collect(void *ctx, const char *m, size_t n)
{
	struct collected *c = ctx;
	if (c->n < 64 && n < 128) {
		memcpy(c->msgs[c->n], m, n);
		c->msgs[c->n][n] = '\0';
	}
	c->n++;
}

static void read_frames(struct stream *st, int fd, struct collected *got, size_t want)
{
	for (int i = 0; i < 400 && got->n < want && !st->broken; i++) {
		stream_read(st, fd, collect, got);
		if (got->n < want)
			sleep_ms(5);
	}
	assert_false(st->broken);
	assert_int_equal(got->n, want);
}

static void test_tcp_octet_counting(void **state)
{
	(void)state;
	static struct stream st;
	static struct collected got;
	struct syslog_client_config cfg;
	uint16_t port;
	memset(&st, 0, sizeof(st));
	memset(&got, 0, sizeof(got));
	int lfd = tcp_listener(0, &port, 0);
	config(&cfg, SYSLOG_TCP, NULL, port, 16);
	struct syslog_client *c = client(&cfg);
	for (int i = 0; i < 3; i++)
		enqueue(c, "<134>1 - - - - - - tcp %d", i);
	flush_settle(c, T0);
	assert_int_equal(syslog_client_pending(c), 0);
	int fd = tcp_accept(lfd);
	read_frames(&st, fd, &got, 3);
	for (int i = 0; i < 3; i++) {
		char want[64];
		snprintf(want, sizeof(want), "<134>1 - - - - - - tcp %d", i);
		assert_string_equal(got.msgs[i], want);
	}
	assert_int_equal(syslog_client_stats(c)->sent, 3);
	assert_int_equal(syslog_client_stats(c)->reconnects, 0);
	assert_int_equal(st.len, 0); /* nothing but whole frames */
	syslog_client_destroy(c);
	close(fd);
	close(lfd);
}

/* The TCP collector goes away: the client notices before writing, queues,
 * drops the oldest beyond queue_max, backs off, reconnects and sends what it
 * kept, in order. */
static void test_tcp_peer_down_queue_and_reconnect(void **state)
{
	(void)state;
	static struct stream st;
	static struct collected got;
	struct syslog_client_config cfg;
	uint16_t port;
	memset(&st, 0, sizeof(st));
	memset(&got, 0, sizeof(got));
	int lfd = tcp_listener(0, &port, 0);
	config(&cfg, SYSLOG_TCP, NULL, port, 4);
	struct syslog_client *c = client(&cfg);
	const struct syslog_client_stats *s = syslog_client_stats(c);
	enqueue(c, "msg %d", 0);
	flush_settle(c, T0);
	int fd = tcp_accept(lfd);
	read_frames(&st, fd, &got, 1);
	assert_string_equal(got.msgs[0], "msg 0");

	close(fd);
	close(lfd);
	sleep_ms(20); /* let the FIN arrive */
	syslog_client_flush(c, T0 + 1);
	assert_false(syslog_client_connected(c));
	assert_int_equal(s->errors, 1);
	assert_int_equal(syslog_client_retry_at(c), 0); /* nothing queued, nothing scheduled */

	for (int i = 1; i <= 10; i++)
		enqueue(c, "msg %d", i);
	assert_int_equal(s->dropped, 6);
	assert_int_equal(syslog_client_pending(c), 4);
	assert_int_equal(syslog_client_retry_at(c), T0 + 1 + SYSLOG_BACKOFF_MIN);

	/* Retry with no listener: refused, the wait doubles. */
	kg_time now = T0 + 1 + SYSLOG_BACKOFF_MIN;
	flush_settle(c, now);
	assert_int_equal(s->errors, 2);
	assert_int_equal(syslog_client_retry_at(c), now + 2 * SYSLOG_BACKOFF_MIN);
	assert_non_null(strstr(syslog_client_last_error(c), "refused"));

	lfd = tcp_listener(port, &port, 0);
	syslog_client_flush(c, now + SYSLOG_BACKOFF_MIN); /* too early */
	assert_false(readable(lfd));
	now += 2 * SYSLOG_BACKOFF_MIN;
	flush_settle(c, now);
	assert_int_equal(syslog_client_pending(c), 0);
	fd = tcp_accept(lfd);
	memset(&got, 0, sizeof(got));
	read_frames(&st, fd, &got, 4);
	for (int i = 0; i < 4; i++) {
		char want[32];
		snprintf(want, sizeof(want), "msg %d", 7 + i);
		assert_string_equal(got.msgs[i], want);
	}
	assert_int_equal(s->sent, 5);
	assert_int_equal(s->reconnects, 1);
	assert_int_equal(s->queued, 11);
	assert_invariant(c);
	syslog_client_destroy(c);
	close(fd);
	close(lfd);
}

struct numbered {
	long last;
	size_t frames;
	bool bad;
};

/* Frames are "seq NNNNNN " + filler that depends on NNNNNN. */
static void check_numbered(void *ctx, const char *m, size_t n)
{
	struct numbered *x = ctx;
	long seq;
	if (n < 11 || sscanf(m, "seq %6ld", &seq) != 1 || seq <= x->last) {
		x->bad = true;
		return;
	}
	for (size_t i = 11; i < n; i++)
		if (m[i] != (char)('a' + (seq + (long)i) % 26)) {
			x->bad = true;
			return;
		}
	if (n != 11 + (size_t)(seq % 1900) + 50)
		x->bad = true;
	x->last = seq;
	x->frames++;
}

static void enqueue_numbered(struct syslog_client *c, long seq)
{
	static char m[SYSLOG_MSG_MAX];
	size_t n = 11 + (size_t)(seq % 1900) + 50;
	snprintf(m, sizeof(m), "seq %06ld ", seq);
	for (size_t i = 11; i < n; i++)
		m[i] = (char)('a' + (seq + (long)i) % 26);
	assert_true(syslog_client_enqueue(c, m, n));
}

/* A collector that reads slowly: the socket takes parts of messages, the
 * queue overflows while the oldest is half sent, and the stream still holds
 * only whole, in-order frames; everything sent arrives. */
static void test_tcp_partial_writes_keep_framing(void **state)
{
	(void)state;
	static struct stream st;
	struct numbered got = {-1, 0, false};
	struct syslog_client_config cfg;
	uint16_t port;
	memset(&st, 0, sizeof(st));
	int lfd = tcp_listener(0, &port, 4096);
	config(&cfg, SYSLOG_TCP, NULL, port, 512);
	struct syslog_client *c = client(&cfg);
	long seq = 0;
	enqueue_numbered(c, seq++);
	flush_settle(c, T0);
	int fd = tcp_accept(lfd);

	/* Fill the socket until it stops taking data. */
	for (int round = 0; round < 200 && syslog_client_pending(c) < 256; round++) {
		while (syslog_client_pending(c) < 512)
			enqueue_numbered(c, seq++);
		syslog_client_flush(c, T0);
	}
	assert_true(syslog_client_pending(c) > 0);
	/* Overflow the queue: the oldest give way. */
	for (int i = 0; i < 700; i++)
		enqueue_numbered(c, seq++);
	assert_true(syslog_client_stats(c)->dropped >= 188);

	kg_time deadline = syslog_client_now() + KG_SEC(20);
	while ((syslog_client_pending(c) > 0 || got.frames < syslog_client_stats(c)->sent) &&
	       syslog_client_now() < deadline) {
		syslog_client_flush(c, T0);
		stream_read(&st, fd, check_numbered, &got);
		assert_false(st.broken);
		assert_false(got.bad);
	}
	assert_int_equal(syslog_client_pending(c), 0);
	assert_int_equal(got.frames, syslog_client_stats(c)->sent);
	assert_int_equal(got.last, seq - 1); /* the newest always survives */
	assert_int_equal(syslog_client_stats(c)->errors, 0);
	assert_invariant(c);
	syslog_client_destroy(c);
	close(fd);
	close(lfd);
}

static void test_create_errors(void **state)
{
	(void)state;
	struct syslog_client_config cfg;
	char err[256];
	config(&cfg, SYSLOG_UDP, NULL, 514, 0);
	assert_null(syslog_client_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "queue size 0"));
	cfg.queue_max = SYSLOG_QUEUE_LIMIT + 1;
	assert_null(syslog_client_create(&cfg, err, sizeof(err)));
	cfg.queue_max = 1;
	snprintf(cfg.host, sizeof(cfg.host), "no-such-host.invalid");
	assert_null(syslog_client_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot resolve 'no-such-host.invalid'"));
	config(&cfg, SYSLOG_UNIX, "", 0, 1);
	assert_null(syslog_client_create(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "socket path"));
}

static void test_drain_gives_up(void **state)
{
	(void)state;
	struct tmp t;
	struct syslog_client_config cfg;
	tmp_make(&t);
	config(&cfg, SYSLOG_UNIX, t.path, 0, 4);
	struct syslog_client *c = client(&cfg);
	enqueue(c, "lost %d", 1);
	kg_time start = syslog_client_now();
	assert_false(syslog_client_drain(c, 150));
	kg_time took = syslog_client_now() - start;
	assert_true(took >= KG_MSEC(150) && took < KG_SEC(2));
	assert_int_equal(syslog_client_pending(c), 1);
	syslog_client_destroy(c);
	rmdir(t.dir);
}

static void test_transport_names(void **state)
{
	(void)state;
	enum syslog_transport t;
	assert_true(syslog_transport_parse("unix", &t));
	assert_int_equal(t, SYSLOG_UNIX);
	assert_true(syslog_transport_parse("udp", &t));
	assert_int_equal(t, SYSLOG_UDP);
	assert_true(syslog_transport_parse("tcp", &t));
	assert_int_equal(t, SYSLOG_TCP);
	assert_false(syslog_transport_parse("tls", &t));
	assert_string_equal(syslog_transport_name(SYSLOG_TCP), "tcp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unix_delivery),
		cmocka_unit_test(test_unix_collector_absent_then_present),
		cmocka_unit_test(test_unix_collector_restart),
		cmocka_unit_test(test_backoff_doubles_and_resets),
		cmocka_unit_test(test_udp_delivery),
		cmocka_unit_test(test_tcp_octet_counting),
		cmocka_unit_test(test_tcp_peer_down_queue_and_reconnect),
		cmocka_unit_test(test_tcp_partial_writes_keep_framing),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_drain_gives_up),
		cmocka_unit_test(test_transport_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
