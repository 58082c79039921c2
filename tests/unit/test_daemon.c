/* daemon: the live event loop without root. The queue is attached to a unix
 * socketpair the test writes packet messages into (as nfnetlink_queue would);
 * the engine is the real one; signals are raised at the test process, which
 * the daemon reads from its signalfd. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "daemon.h"
#include "engine.h"
#include "io/nfq.h"
#include "io/syslog_client.h"
#include "../support/pktbuild.h"

#define QNUM 2
#define REC_MAX 16

/* --- the engine's side --------------------------------------------------------- */

struct records {
	size_t n;
	struct conn_record r[REC_MAX];
};

static void on_conn(void *ctx, const struct conn_record *rec)
{
	struct records *rs = ctx;
	if (rs->n < REC_MAX)
		rs->r[rs->n++] = *rec;
}

static const struct conn_record *record_for_port(const struct records *rs, uint16_t port)
{
	for (size_t i = 0; i < rs->n; i++)
		if (rs->r[i].resp_p == port)
			return &rs->r[i];
	return NULL;
}

static struct engine *engine_new(struct records *rs)
{
	struct engine_config cfg;
	engine_config_defaults(&cfg);
	cfg.max_flows = 1024;
	cfg.content_slots = 64;
	cfg.http_slots = 16;
	cfg.frag_max_datagrams = 16;
	struct engine_sink sink = {.ctx = rs, .conn_done = on_conn};
	struct engine *e = engine_create(&cfg, &sink);
	assert_non_null(e);
	return e;
}

/* --- the kernel's side ------------------------------------------------------------ */

static struct nfq *queue_pair(int *kernel)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	struct nfq_config cfg;
	nfq_config_defaults(&cfg);
	cfg.queue_num = QNUM;
	char err[NFQ_ERR_MAX];
	struct nfq *q = nfq_attach(&cfg, sv[0], err, sizeof(err));
	assert_non_null(q);
	*kernel = sv[1];
	return q;
}

/* One packet message carrying ip[0..len), with NFQA_SKB_INFO flags if any. */
static void kernel_send(int kernel, uint32_t id, const uint8_t *ip, size_t len, uint32_t skb_flags)
{
	static char buf[PB_MAX_FRAME + 512];
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_PACKET, QNUM);
	struct nfqnl_msg_packet_hdr ph = {.packet_id = htonl(id), .hw_protocol = htons(0x0800)};
	mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	if (skb_flags)
		mnl_attr_put_u32(nlh, NFQA_SKB_INFO, htonl(skb_flags));
	mnl_attr_put(nlh, NFQA_PAYLOAD, len, ip);
	assert_int_equal(send(kernel, buf, nlh->nlmsg_len, 0), (ssize_t)nlh->nlmsg_len);
}

static size_t build_syn(uint16_t dport, bool bad_checksum, uint8_t *out)
{
	struct pb_spec s;
	pb_spec_tcp(&s, "10.0.0.1", 40000, "10.0.0.2", dport, 0x02 /* SYN */);
	s.link = PB_LINK_RAW;
	if (bad_checksum)
		s.l4.csum = PB_CSUM_BAD;
	size_t n = pb_build(&s, out, PB_MAX_FRAME);
	assert_true(n > 0);
	return n;
}

/* The highest id accepted and the ids dropped, from every verdict sent. */
static void kernel_verdicts(int kernel, uint32_t *accepted_upto, size_t *drops)
{
	static char buf[65536];
	*accepted_upto = 0;
	*drops = 0;
	ssize_t len;
	while ((len = recv(kernel, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int left = (int)len;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlattr *a;
			for (a = mnl_nlmsg_get_payload_offset(nlh, sizeof(struct nfgenmsg));
			     mnl_attr_ok(a, (int)((const char *)mnl_nlmsg_get_payload_tail(nlh) -
						  (const char *)a));
			     a = mnl_attr_next(a)) {
				if (mnl_attr_get_type(a) != NFQA_VERDICT_HDR)
					continue;
				struct nfqnl_msg_verdict_hdr vh;
				memcpy(&vh, mnl_attr_get_payload(a), sizeof(vh));
				if (ntohl(vh.verdict) == NF_DROP)
					(*drops)++;
				else if ((nlh->nlmsg_type & 0xff) == NFQNL_MSG_VERDICT_BATCH)
					*accepted_upto = ntohl(vh.id);
			}
		}
	}
}

/* --- hooks --------------------------------------------------------------------- */

struct hooks_seen {
	struct daemon *d;
	int reloads, ticks, shutdowns;
	int shutdown_code;
	int return_code;
	int stop_after_ticks; /* 0: never */
	kg_time last_wall, last_mono;
};

static void on_reload(void *ctx)
{
	struct hooks_seen *h = ctx;
	h->reloads++;
}

static void on_tick(void *ctx, kg_time wall, kg_time mono)
{
	struct hooks_seen *h = ctx;
	h->ticks++;
	h->last_wall = wall;
	h->last_mono = mono;
	if (h->stop_after_ticks && h->ticks >= h->stop_after_ticks)
		daemon_stop(h->d, 0);
}

static int on_shutdown(void *ctx, int code)
{
	struct hooks_seen *h = ctx;
	h->shutdowns++;
	h->shutdown_code = code;
	return h->return_code;
}

static struct daemon *daemon_new(unsigned tick_ms, struct engine *e, struct nfq *q,
				 struct syslog_client *sc, struct hooks_seen *h)
{
	struct daemon_config cfg;
	daemon_config_defaults(&cfg);
	assert_int_equal(cfg.tick_ms, DAEMON_TICK_MS_DEFAULT);
	cfg.tick_ms = tick_ms;
	struct daemon_hooks hooks = {
		.ctx = h, .reload = on_reload, .tick = on_tick, .shutdown = on_shutdown};
	char err[DAEMON_ERR_MAX];
	struct daemon *d = daemon_create(&cfg, e, q, sc, &hooks, err, sizeof(err));
	assert_non_null(d);
	h->d = d;
	return d;
}

static bool sigterm_blocked(void)
{
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, SIGTERM) == 1;
}

/* --- tests ------------------------------------------------------------------------ */

static void test_packets_signals_and_shutdown(void **state)
{
	(void)state;
	struct records rs = {0};
	struct engine *e = engine_new(&rs);
	int kernel;
	struct nfq *q = queue_pair(&kernel);
	struct hooks_seen h = {.return_code = 3};
	assert_false(sigterm_blocked());
	struct daemon *d = daemon_new(1000, e, q, NULL, &h);
	assert_true(sigterm_blocked());
	assert_ptr_equal(daemon_queue(d), q);

	/* Both SYNs carry a wrong checksum; the kernel says the first one's is
	 * not filled in yet (offload), so only the second is a bad checksum. */
	static uint8_t pkt[PB_MAX_FRAME];
	size_t n = build_syn(80, true, pkt);
	kernel_send(kernel, 1, pkt, n, NFQA_SKB_CSUMNOTREADY);
	n = build_syn(81, true, pkt);
	kernel_send(kernel, 2, pkt, n, 0);
	raise(SIGHUP);
	raise(SIGTERM);

	assert_int_equal(daemon_run(d), 3);
	assert_int_equal(h.reloads, 1);
	assert_int_equal(h.shutdowns, 1);
	assert_int_equal(h.shutdown_code, 0);
	assert_int_equal(daemon_stats(d)->reloads, 1);
	assert_int_equal(daemon_stats(d)->stop_signal, SIGTERM);
	assert_null(daemon_queue(d)); /* released */
	assert_string_equal(daemon_last_error(d), "");

	/* Both packets reached the engine and were accepted. */
	assert_int_equal(engine_stats(e)->packets, 2);
	uint32_t upto;
	size_t drops;
	kernel_verdicts(kernel, &upto, &drops);
	assert_int_equal(upto, 2);
	assert_int_equal(drops, 0);
	/* engine_finish() ran: both connections are logged. */
	assert_int_equal(rs.n, 2);
	const struct conn_record *offloaded = record_for_port(&rs, 80);
	const struct conn_record *bad = record_for_port(&rs, 81);
	assert_non_null(offloaded);
	assert_non_null(bad);
	assert_string_equal(offloaded->history, "S");
	assert_non_null(strchr(bad->history, 'C'));

	daemon_destroy(d);
	assert_false(sigterm_blocked());
	engine_destroy(e);
	close(kernel);
}

static void test_idle_ticks(void **state)
{
	(void)state;
	struct records rs = {0};
	struct engine *e = engine_new(&rs);
	int kernel;
	struct nfq *q = queue_pair(&kernel);
	struct hooks_seen h = {.stop_after_ticks = 3, .return_code = 0};
	struct daemon *d = daemon_new(10, e, q, NULL, &h);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(daemon_run(d), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double elapsed = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_int_equal(h.ticks, 3);
	assert_true(elapsed >= 0.025 && elapsed < 2.0);
	assert_int_equal(daemon_stats(d)->ticks, 3);
	/* No packet came: every tick moved the engine's time. */
	assert_int_equal(daemon_stats(d)->idle_ticks, 3);
	assert_int_equal(daemon_stats(d)->stop_signal, 0);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	assert_true(now.tv_sec - h.last_wall / KG_NSEC_PER_SEC <= 1);
	assert_true(h.last_mono > 0);
	assert_true(daemon_stats(d)->started <= h.last_wall);
	daemon_destroy(d);
	engine_destroy(e);
	close(kernel);
}

/* Two readable pipes whose callbacks each unwatch the other and give its slot
 * to a third, idle descriptor: the other's event, from the same epoll batch,
 * is stale and must reach neither the other nor the third. */
struct pair_watch {
	struct daemon *d;
	int rfd[2];
	int calls[2];
	int third_fd;
	int third_calls;
};

static void third_ready(void *ctx)
{
	struct pair_watch *pw = ctx;
	pw->third_calls++;
}

static void pair_ready(struct pair_watch *pw, int me)
{
	char c;
	assert_int_equal(read(pw->rfd[me], &c, 1), 1);
	pw->calls[me]++;
	daemon_unwatch(pw->d, pw->rfd[1 - me]);
	assert_int_equal(daemon_watch(pw->d, pw->third_fd, DAEMON_READ, third_ready, pw), 0);
	daemon_unwatch(pw->d, pw->rfd[me]);
	daemon_stop(pw->d, 9);
}

static void pair_ready0(void *ctx)
{
	pair_ready(ctx, 0);
}

static void pair_ready1(void *ctx)
{
	pair_ready(ctx, 1);
}

static void noop_ready(void *ctx)
{
	(void)ctx;
}

static void test_watch_stale_events(void **state)
{
	(void)state;
	struct records rs = {0};
	struct engine *e = engine_new(&rs);
	int kernel;
	struct nfq *q = queue_pair(&kernel);
	struct hooks_seen h = {.return_code = 9};
	struct daemon *d = daemon_new(1000, e, q, NULL, &h);
	struct pair_watch pw = {.d = d};
	int p0[2], p1[2], p2[2];
	assert_int_equal(pipe(p0), 0);
	assert_int_equal(pipe(p1), 0);
	assert_int_equal(pipe(p2), 0);
	pw.third_fd = p2[0];
	pw.rfd[0] = p0[0];
	pw.rfd[1] = p1[0];
	assert_int_equal(write(p0[1], "x", 1), 1);
	assert_int_equal(write(p1[1], "y", 1), 1);
	assert_int_equal(daemon_watch(d, p0[0], DAEMON_READ, pair_ready0, &pw), 0);
	assert_int_equal(daemon_watch(d, p1[0], DAEMON_READ, pair_ready1, &pw), 0);
	assert_int_equal(daemon_watch(d, p1[0], DAEMON_READ, pair_ready1, &pw), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(daemon_run(d), 9);
	assert_int_equal(h.shutdown_code, 9);
	assert_int_equal(pw.calls[0] + pw.calls[1], 1);
	assert_int_equal(pw.third_calls, 0);
	daemon_unwatch(d, p2[0]);
	/* The table is bounded. */
	int fds[DAEMON_WATCH_MAX + 1];
	for (size_t i = 0; i <= DAEMON_WATCH_MAX; i++) {
		fds[i] = dup(p0[1]);
		assert_true(fds[i] >= 0);
		int rc = daemon_watch(d, fds[i], DAEMON_WRITE, noop_ready, NULL);
		if (i < DAEMON_WATCH_MAX) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -1);
			assert_int_equal(errno, ENOSPC);
		}
	}
	assert_int_equal(daemon_watch_events(d, fds[0], DAEMON_READ), 0);
	assert_int_equal(daemon_watch_events(d, fds[DAEMON_WATCH_MAX], DAEMON_READ), -1);
	for (size_t i = 0; i <= DAEMON_WATCH_MAX; i++) {
		daemon_unwatch(d, fds[i]);
		close(fds[i]);
	}
	daemon_destroy(d);
	close(p0[0]);
	close(p0[1]);
	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	engine_destroy(e);
	close(kernel);
}

/* A watch switched from read to write at run time. */
struct rw_watch {
	struct daemon *d;
	int fd;
	int reads, writes;
};

static void rw_ready(void *ctx)
{
	struct rw_watch *w = ctx;
	char c;
	if (w->reads == 0) {
		assert_int_equal(read(w->fd, &c, 1), 1);
		w->reads++;
		assert_int_equal(daemon_watch_events(w->d, w->fd, DAEMON_WRITE), 0);
		return;
	}
	w->writes++;
	assert_int_equal(write(w->fd, "z", 1), 1);
	daemon_unwatch(w->d, w->fd);
	daemon_stop(w->d, 0);
}

static void test_watch_events_change(void **state)
{
	(void)state;
	struct records rs = {0};
	struct engine *e = engine_new(&rs);
	int kernel;
	struct nfq *q = queue_pair(&kernel);
	struct hooks_seen h = {0};
	struct daemon *d = daemon_new(1000, e, q, NULL, &h);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct rw_watch w = {.d = d, .fd = sv[0]};
	assert_int_equal(write(sv[1], "a", 1), 1);
	assert_int_equal(daemon_watch(d, sv[0], DAEMON_READ, rw_ready, &w), 0);
	assert_int_equal(daemon_run(d), 0);
	assert_int_equal(w.reads, 1);
	assert_int_equal(w.writes, 1);
	char c;
	assert_int_equal(read(sv[1], &c, 1), 1);
	assert_int_equal(c, 'z');
	daemon_destroy(d);
	close(sv[0]);
	close(sv[1]);
	engine_destroy(e);
	close(kernel);
}

static void test_queue_failure(void **state)
{
	(void)state;
	struct records rs = {0};
	struct engine *e = engine_new(&rs);
	/* A pipe is not a socket: the first read fails, and that is fatal. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	struct nfq_config cfg;
	nfq_config_defaults(&cfg);
	char err[NFQ_ERR_MAX];
	struct nfq *q = nfq_attach(&cfg, p[0], err, sizeof(err));
	assert_non_null(q);
	assert_int_equal(write(p[1], "x", 1), 1);
	struct hooks_seen h = {.return_code = DAEMON_EX_IOERR};
	struct daemon *d = daemon_new(1000, e, q, NULL, &h);
	assert_int_equal(daemon_run(d), DAEMON_EX_IOERR);
	assert_int_equal(h.shutdown_code, DAEMON_EX_IOERR);
	assert_non_null(strstr(daemon_last_error(d), "receive"));
	daemon_destroy(d);
	close(p[1]);
	engine_destroy(e);
}

static void test_syslog_flushed(void **state)
{
	(void)state;
	/* A collector on 127.0.0.1: what was queued before the loop leaves on
	 * its first wakeup. */
	int coll = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(coll >= 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(coll, (struct sockaddr *)&sin, sizeof(sin)), 0);
	socklen_t sl = sizeof(sin);
	assert_int_equal(getsockname(coll, (struct sockaddr *)&sin, &sl), 0);
	struct syslog_client_config sc;
	syslog_client_config_defaults(&sc);
	sc.transport = SYSLOG_UDP;
	snprintf(sc.host, sizeof(sc.host), "127.0.0.1");
	sc.port = ntohs(sin.sin_port);
	char err[256];
	struct syslog_client *c = syslog_client_create(&sc, err, sizeof(err));
	assert_non_null(c);
	assert_true(syslog_client_enqueue(c, "<14>hello", 9));

	struct records rs = {0};
	struct engine *e = engine_new(&rs);
	int kernel;
	struct nfq *q = queue_pair(&kernel);
	struct hooks_seen h = {.stop_after_ticks = 1};
	struct daemon *d = daemon_new(10, e, q, c, &h);
	assert_int_equal(daemon_run(d), 0);
	assert_int_equal(syslog_client_pending(c), 0);
	char buf[64];
	ssize_t n = recv(coll, buf, sizeof(buf), MSG_DONTWAIT);
	assert_int_equal(n, 9);
	assert_memory_equal(buf, "<14>hello", 9);
	daemon_destroy(d);
	syslog_client_destroy(c);
	engine_destroy(e);
	close(kernel);
	close(coll);
}

static void test_bad_config(void **state)
{
	(void)state;
	struct daemon_config cfg;
	daemon_config_defaults(&cfg);
	cfg.tick_ms = 0;
	char err[DAEMON_ERR_MAX];
	assert_null(daemon_create(&cfg, NULL, NULL, NULL, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "tick"));
	assert_false(sigterm_blocked());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packets_signals_and_shutdown),
		cmocka_unit_test(test_idle_ticks),
		cmocka_unit_test(test_watch_stale_events),
		cmocka_unit_test(test_watch_events_change),
		cmocka_unit_test(test_queue_failure),
		cmocka_unit_test(test_syslog_flushed),
		cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
