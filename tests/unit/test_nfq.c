/* nfq: the NFQUEUE adapter without root. The queue is attached to one end of
 * a unix datagram socketpair; the test plays the kernel on the other end:
 * it writes packet messages built with libmnl the way nfnetlink_queue builds
 * them, and reads back the verdict messages the adapter sends. Also the
 * parser of /proc/net/netfilter/nfnetlink_queue. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
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

#include "io/nfq.h"

#define QNUM 7
#define MSG_MAX 100000

/* --- the test's side: a fake kernel --------------------------------------------- */

struct fake {
	struct nfq *q;
	int kernel; /* the other end of the pair */
};

static void fake_open(struct fake *f, const struct nfq_config *cfg)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
	int big = 4 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	char err[NFQ_ERR_MAX];
	f->q = nfq_attach(cfg, sv[0], err, sizeof(err));
	assert_non_null(f->q);
	f->kernel = sv[1];
}

static void fake_open_default(struct fake *f)
{
	struct nfq_config cfg;
	nfq_config_defaults(&cfg);
	cfg.queue_num = QNUM;
	fake_open(f, &cfg);
}

static void fake_close(struct fake *f)
{
	nfq_release(f->q);
	close(f->kernel);
}

/* What goes into one packet message; zero fields are left out. */
struct pkt_spec {
	uint32_t id;
	uint16_t hw_protocol;
	const void *payload;
	uint32_t payload_len;
	bool timestamp;
	uint64_t ts_sec, ts_usec;
	bool skb_info;
	uint32_t skb_flags;
	uint32_t cap_len; /* NFQA_CAP_LEN if nonzero */
	uint32_t mark, indev, outdev;
	bool no_header;	 /* leave NFQA_PACKET_HDR out */
	bool no_payload; /* leave NFQA_PAYLOAD out */
};

static const uint8_t ip_bytes[64] = {0x45, 0, 0, 64, 1, 2, 0x40, 0, 64, 17};

static void spec_init(struct pkt_spec *s, uint32_t id)
{
	memset(s, 0, sizeof(*s));
	s->id = id;
	s->hw_protocol = 0x0800;
	s->payload = ip_bytes;
	s->payload_len = sizeof(ip_bytes);
}

/* Appends one packet message at buf + *off, as nfnetlink_queue lays it out:
 * the payload last and not padded (nlmsg_len may be unaligned). */
static void put_packet(char *buf, size_t *off, const struct pkt_spec *s)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf + *off, NFQNL_MSG_PACKET, QNUM);
	nlh->nlmsg_flags = 0;
	if (!s->no_header) {
		struct nfqnl_msg_packet_hdr ph = {
			.packet_id = htonl(s->id), .hw_protocol = htons(s->hw_protocol), .hook = 2};
		mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	}
	if (s->mark)
		mnl_attr_put_u32(nlh, NFQA_MARK, htonl(s->mark));
	if (s->timestamp) {
		struct nfqnl_msg_packet_timestamp ts = {.sec = __builtin_bswap64(s->ts_sec),
							.usec = __builtin_bswap64(s->ts_usec)};
		mnl_attr_put(nlh, NFQA_TIMESTAMP, sizeof(ts), &ts);
	}
	if (s->indev)
		mnl_attr_put_u32(nlh, NFQA_IFINDEX_INDEV, htonl(s->indev));
	if (s->outdev)
		mnl_attr_put_u32(nlh, NFQA_IFINDEX_OUTDEV, htonl(s->outdev));
	if (s->cap_len)
		mnl_attr_put_u32(nlh, NFQA_CAP_LEN, htonl(s->cap_len));
	if (s->skb_info)
		mnl_attr_put_u32(nlh, NFQA_SKB_INFO, htonl(s->skb_flags));
	if (!s->no_payload) {
		mnl_attr_put(nlh, NFQA_PAYLOAD, s->payload_len, s->payload);
		nlh->nlmsg_len -= MNL_ALIGN(s->payload_len) - s->payload_len;
	}
	*off += MNL_ALIGN(nlh->nlmsg_len);
}

static void send_buf(struct fake *f, const char *buf, size_t len)
{
	assert_int_equal(send(f->kernel, buf, len, 0), (ssize_t)len);
}

static void send_packet(struct fake *f, const struct pkt_spec *s)
{
	static char buf[MSG_MAX];
	size_t off = 0;
	put_packet(buf, &off, s);
	/* The last message's unpadded length is what goes on the wire. */
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	send_buf(f, buf, nlh->nlmsg_len);
}

static void send_ids(struct fake *f, uint32_t first, uint32_t last)
{
	for (uint32_t id = first; id <= last; id++) {
		struct pkt_spec s;
		spec_init(&s, id);
		send_packet(f, &s);
	}
}

/* One verdict message as the kernel would read it. */
struct verdict_msg {
	int type; /* NFQNL_MSG_VERDICT or NFQNL_MSG_VERDICT_BATCH */
	uint32_t id;
	uint32_t verdict;
	uint16_t queue;
	int datagram; /* which send() it came in, from 0 */
};

/* Reads every datagram waiting on the kernel side; returns the messages. */
static size_t read_verdicts(struct fake *f, struct verdict_msg *out, size_t max, int *datagrams)
{
	static char buf[MSG_MAX];
	size_t n = 0;
	int dg = 0;
	ssize_t len;
	while ((len = recv(f->kernel, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		int left = (int)len;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			assert_true(n < max);
			assert_int_equal(nlh->nlmsg_type >> 8, NFNL_SUBSYS_QUEUE);
			assert_true(nlh->nlmsg_flags & NLM_F_REQUEST);
			const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
			struct nfqnl_msg_verdict_hdr vh;
			bool found = false;
			const struct nlattr *a;
			for (a = mnl_nlmsg_get_payload_offset(nlh, sizeof(*g));
			     mnl_attr_ok(a, (int)((const char *)mnl_nlmsg_get_payload_tail(nlh) -
						  (const char *)a));
			     a = mnl_attr_next(a)) {
				if (mnl_attr_get_type(a) == NFQA_VERDICT_HDR) {
					assert_int_equal(mnl_attr_get_payload_len(a), sizeof(vh));
					memcpy(&vh, mnl_attr_get_payload(a), sizeof(vh));
					found = true;
				}
			}
			assert_true(found);
			out[n].type = nlh->nlmsg_type & 0xff;
			out[n].id = ntohl(vh.id);
			out[n].verdict = ntohl(vh.verdict);
			out[n].queue = ntohs(g->res_id);
			out[n].datagram = dg;
			n++;
		}
		assert_int_equal(left, 0);
		dg++;
	}
	if (datagrams)
		*datagrams = dg;
	return n;
}

static void expect_verdict(const struct verdict_msg *m, int type, uint32_t id, uint32_t verdict)
{
	assert_int_equal(m->type, type);
	assert_int_equal(m->id, id);
	assert_int_equal(m->verdict, verdict);
	assert_int_equal(m->queue, QNUM);
}

/* --- the callback's side ------------------------------------------------------ */

#define SEEN_MAX 64

struct seen {
	size_t n;
	struct nfq_packet p[SEEN_MAX];
	uint8_t data[SEEN_MAX][128];
	uint32_t drop_ids[8]; /* ids to drop */
	size_t n_drop;
};

static enum nfq_verdict record(void *ctx, const struct nfq_packet *p)
{
	struct seen *s = ctx;
	if (s->n < SEEN_MAX) {
		s->p[s->n] = *p;
		memcpy(s->data[s->n], p->data, p->caplen < 128 ? p->caplen : 128);
		s->n++;
	}
	for (size_t i = 0; i < s->n_drop; i++)
		if (s->drop_ids[i] == p->id)
			return NFQ_DROP;
	return NFQ_ACCEPT;
}

static kg_time wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (kg_time)ts.tv_sec * KG_NSEC_PER_SEC + ts.tv_nsec;
}

/* --- tests -------------------------------------------------------------------- */

static void test_config(void **state)
{
	(void)state;
	struct nfq_config cfg;
	char err[NFQ_ERR_MAX];
	nfq_config_defaults(&cfg);
	assert_int_equal(cfg.queue_num, 0);
	assert_int_equal(cfg.copy_range, 65535);
	assert_int_equal(cfg.queue_maxlen, 4096);
	assert_int_equal(cfg.rcvbuf, 8 * 1024 * 1024);
	assert_true(cfg.fail_open && cfg.gso);
	assert_int_equal(cfg.batch_max, 64);
	assert_true(nfq_config_check(&cfg, err, sizeof(err)));

	cfg.batch_max = 0;
	assert_false(nfq_config_check(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "batch"));
	cfg.batch_max = NFQ_BATCH_LIMIT + 1;
	assert_false(nfq_config_check(&cfg, err, sizeof(err)));
	cfg.batch_max = NFQ_BATCH_LIMIT;
	assert_true(nfq_config_check(&cfg, err, sizeof(err)));
	cfg.copy_range = 0;
	assert_false(nfq_config_check(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "copy range"));
	cfg.copy_range = 65536;
	assert_false(nfq_config_check(&cfg, err, sizeof(err)));
	cfg.copy_range = 128;
	cfg.queue_maxlen = 0;
	assert_false(nfq_config_check(&cfg, err, sizeof(err)));
	/* A bad config is refused before any socket is opened. */
	assert_null(nfq_bind(&cfg, err, sizeof(err)));
	assert_non_null(strstr(err, "maxlen"));
}

static void test_packet_fields(void **state)
{
	(void)state;
	struct fake f;
	fake_open_default(&f);
	kg_time now = wall_now();
	struct pkt_spec s;
	spec_init(&s, 1);
	s.hw_protocol = 0x86dd;
	s.timestamp = true;
	s.ts_sec = (uint64_t)(now / KG_NSEC_PER_SEC) - 1;
	s.ts_usec = 250001;
	s.skb_info = true;
	s.skb_flags = NFQA_SKB_GSO | NFQA_SKB_CSUMNOTREADY;
	s.cap_len = 9000;
	s.mark = 0x1234;
	s.indev = 3;
	s.outdev = 4;
	send_packet(&f, &s);

	struct seen seen = {0};
	assert_int_equal(nfq_receive(f.q, record, &seen), 1);
	assert_int_equal(seen.n, 1);
	const struct nfq_packet *p = &seen.p[0];
	assert_int_equal(p->id, 1);
	assert_int_equal(p->hw_protocol, 0x86dd);
	assert_int_equal(p->hook, 2);
	assert_int_equal(p->caplen, sizeof(ip_bytes));
	assert_int_equal(p->wirelen, 9000);
	assert_memory_equal(seen.data[0], ip_bytes, sizeof(ip_bytes));
	assert_int_equal(p->ts, (kg_time)s.ts_sec * KG_NSEC_PER_SEC + 250001000LL);
	assert_int_equal(p->flags, NFQ_PKT_GSO | NFQ_PKT_CSUM_UNVERIFIED | NFQ_PKT_TRUNCATED |
					   NFQ_PKT_KERNEL_TIME);
	assert_int_equal(p->mark, 0x1234);
	assert_int_equal(p->indev, 3);
	assert_int_equal(p->outdev, 4);

	const struct nfq_stats *st = nfq_stats(f.q);
	assert_int_equal(st->packets, 1);
	assert_int_equal(st->gso, 1);
	assert_int_equal(st->csum_unverified, 1);
	assert_int_equal(st->truncated, 1);
	assert_int_equal(st->kernel_time, 1);
	assert_int_equal(st->errors, 0);

	struct verdict_msg v[4];
	assert_int_equal(read_verdicts(&f, v, 4, NULL), 1);
	expect_verdict(&v[0], NFQNL_MSG_VERDICT_BATCH, 1, NF_ACCEPT);
	fake_close(&f);
}

static void test_skb_info_flags(void **state)
{
	(void)state;
	struct fake f;
	fake_open_default(&f);
	struct pkt_spec s;
	/* Checksum not ready without GSO: unverified, not a super-packet. */
	spec_init(&s, 1);
	s.skb_info = true;
	s.skb_flags = NFQA_SKB_CSUMNOTREADY;
	send_packet(&f, &s);
	/* "Not verified by the hardware" is normal: the engine checks it. */
	spec_init(&s, 2);
	s.skb_info = true;
	s.skb_flags = NFQA_SKB_CSUM_NOTVERIFIED;
	send_packet(&f, &s);
	/* No NFQA_SKB_INFO at all. */
	spec_init(&s, 3);
	send_packet(&f, &s);
	/* A super-packet's checksum cannot hold for its segments, flag or not. */
	spec_init(&s, 4);
	s.skb_info = true;
	s.skb_flags = NFQA_SKB_GSO;
	send_packet(&f, &s);
	struct seen seen = {0};
	assert_int_equal(nfq_receive(f.q, record, &seen), 4);
	assert_int_equal(seen.p[3].flags & (NFQ_PKT_GSO | NFQ_PKT_CSUM_UNVERIFIED),
			 NFQ_PKT_GSO | NFQ_PKT_CSUM_UNVERIFIED);
	assert_int_equal(seen.p[0].flags & (NFQ_PKT_GSO | NFQ_PKT_CSUM_UNVERIFIED),
			 NFQ_PKT_CSUM_UNVERIFIED);
	assert_int_equal(seen.p[1].flags & (NFQ_PKT_GSO | NFQ_PKT_CSUM_UNVERIFIED), 0);
	assert_int_equal(seen.p[2].flags & (NFQ_PKT_GSO | NFQ_PKT_CSUM_UNVERIFIED), 0);
	assert_int_equal(nfq_stats(f.q)->csum_unverified, 2);
	assert_int_equal(nfq_stats(f.q)->gso, 1);
	fake_close(&f);
}

static void test_timestamps(void **state)
{
	(void)state;
	struct fake f;
	fake_open_default(&f);
	kg_time before = wall_now();
	struct pkt_spec s;
	spec_init(&s, 1); /* no NFQA_TIMESTAMP: the clock */
	send_packet(&f, &s);
	spec_init(&s, 2); /* a stamp far from the clock: not trusted */
	s.timestamp = true;
	s.ts_sec = 1000;
	send_packet(&f, &s);
	spec_init(&s, 3); /* microseconds out of range: not trusted */
	s.timestamp = true;
	s.ts_sec = (uint64_t)(before / KG_NSEC_PER_SEC);
	s.ts_usec = 1000000;
	send_packet(&f, &s);
	struct seen seen = {0};
	assert_int_equal(nfq_receive(f.q, record, &seen), 3);
	kg_time after = wall_now();
	for (size_t i = 0; i < 3; i++) {
		assert_true(seen.p[i].ts >= before && seen.p[i].ts <= after);
		assert_false(seen.p[i].flags & NFQ_PKT_KERNEL_TIME);
	}
	assert_int_equal(nfq_stats(f.q)->kernel_time, 0);
	fake_close(&f);
}

static void test_time_never_goes_back(void **state)
{
	(void)state;
	struct fake f;
	fake_open_default(&f);
	struct pkt_spec s;
	spec_init(&s, 1); /* the clock */
	send_packet(&f, &s);
	/* Stamped by the kernel when it arrived, 2 s before the clock read
	 * above: within the tolerance, but it left the queue after packet 1. */
	kg_time now = wall_now();
	spec_init(&s, 2);
	s.timestamp = true;
	s.ts_sec = (uint64_t)(now / KG_NSEC_PER_SEC) - 2;
	send_packet(&f, &s);
	spec_init(&s, 3);
	s.timestamp = true;
	s.ts_sec = (uint64_t)(now / KG_NSEC_PER_SEC) + 3;
	send_packet(&f, &s);
	struct seen seen = {0};
	assert_int_equal(nfq_receive(f.q, record, &seen), 3);
	assert_true(seen.p[1].flags & NFQ_PKT_KERNEL_TIME);
	assert_int_equal(seen.p[1].ts, seen.p[0].ts);
	assert_int_equal(seen.p[2].ts, (kg_time)s.ts_sec * KG_NSEC_PER_SEC);
	fake_close(&f);
}

static void test_unaligned_payload(void **state)
{
	(void)state;
	struct fake f;
	fake_open_default(&f);
	/* 61 bytes: the kernel's message ends 3 bytes short of alignment. */
	struct pkt_spec s;
	spec_init(&s, 1);
	s.payload_len = 61;
	send_packet(&f, &s);
	/* Two messages in one datagram, the first unaligned, padded between. */
	static char buf[MSG_MAX];
	size_t off = 0;
	spec_init(&s, 2);
	s.payload_len = 33;
	put_packet(buf, &off, &s);
	spec_init(&s, 3);
	s.payload_len = 7;
	size_t last = off;
	put_packet(buf, &off, &s);
	send_buf(&f, buf, last + ((struct nlmsghdr *)(buf + last))->nlmsg_len);

	struct seen seen = {0};
	assert_int_equal(nfq_receive(f.q, record, &seen), 3);
	assert_int_equal(seen.p[0].caplen, 61);
	assert_int_equal(seen.p[1].caplen, 33);
	assert_int_equal(seen.p[2].caplen, 7);
	assert_int_equal(seen.p[2].id, 3);
	assert_int_equal(nfq_stats(f.q)->errors, 0);
	fake_close(&f);
}

static void test_accept_runs_and_drops(void **state)
{
	(void)state;
	struct fake f;
	fake_open_default(&f);
	send_ids(&f, 1, 5);
	struct seen seen = {.drop_ids = {3}, .n_drop = 1};
	assert_int_equal(nfq_receive(f.q, record, &seen), 5);

	/* 1-2 accepted as a batch, 3 dropped alone, 4-5 a batch: one send. */
	struct verdict_msg v[8];
	int datagrams;
	assert_int_equal(read_verdicts(&f, v, 8, &datagrams), 3);
	assert_int_equal(datagrams, 1);
	expect_verdict(&v[0], NFQNL_MSG_VERDICT_BATCH, 2, NF_ACCEPT);
	expect_verdict(&v[1], NFQNL_MSG_VERDICT, 3, NF_DROP);
	expect_verdict(&v[2], NFQNL_MSG_VERDICT_BATCH, 5, NF_ACCEPT);

	const struct nfq_stats *st = nfq_stats(f.q);
	assert_int_equal(st->packets, 5);
	assert_int_equal(st->accepted, 4);
	assert_int_equal(st->dropped, 1);
	assert_int_equal(st->batches, 2);
	assert_int_equal(st->verdict_msgs, 3);
	assert_int_equal(st->sends, 1);
	fake_close(&f);
}

static void test_drops_only_and_leading_drop(void **state)
{
	(void)state;
	struct fake f;
	fake_open_default(&f);
	send_ids(&f, 1, 4);
	struct seen seen = {.drop_ids = {1, 2, 4}, .n_drop = 3};
	assert_int_equal(nfq_receive(f.q, record, &seen), 4);
	struct verdict_msg v[8];
	assert_int_equal(read_verdicts(&f, v, 8, NULL), 4);
	expect_verdict(&v[0], NFQNL_MSG_VERDICT, 1, NF_DROP);
	expect_verdict(&v[1], NFQNL_MSG_VERDICT, 2, NF_DROP);
	expect_verdict(&v[2], NFQNL_MSG_VERDICT_BATCH, 3, NF_ACCEPT);
	expect_verdict(&v[3], NFQNL_MSG_VERDICT, 4, NF_DROP);
	assert_int_equal(nfq_stats(f.q)->batches, 1);
	fake_close(&f);
}

static void test_batch_max(void **state)
{
	(void)state;
	struct nfq_config cfg;
	nfq_config_defaults(&cfg);
	cfg.queue_num = QNUM;
	cfg.batch_max = 4;
	struct fake f;
	fake_open(&f, &cfg);
	send_ids(&f, 1, 10);
	struct seen seen = {.drop_ids = {6}, .n_drop = 1};
	assert_int_equal(nfq_receive(f.q, record, &seen), 10);
	/* A send each 4 packets decided, and one when the socket is drained. */
	struct verdict_msg v[16];
	int datagrams;
	size_t n = read_verdicts(&f, v, 16, &datagrams);
	assert_int_equal(datagrams, 3);
	assert_int_equal(n, 5);
	expect_verdict(&v[0], NFQNL_MSG_VERDICT_BATCH, 4, NF_ACCEPT);
	assert_int_equal(v[0].datagram, 0);
	expect_verdict(&v[1], NFQNL_MSG_VERDICT_BATCH, 5, NF_ACCEPT);
	expect_verdict(&v[2], NFQNL_MSG_VERDICT, 6, NF_DROP);
	expect_verdict(&v[3], NFQNL_MSG_VERDICT_BATCH, 8, NF_ACCEPT);
	assert_int_equal(v[3].datagram, 1);
	expect_verdict(&v[4], NFQNL_MSG_VERDICT_BATCH, 10, NF_ACCEPT);
	assert_int_equal(v[4].datagram, 2);
	assert_int_equal(nfq_stats(f.q)->sends, 3);
	fake_close(&f);
}

static void test_batch_limit_fits(void **state)
{
	(void)state;
	/* The worst case for the send buffer: batch_max at its limit with
	 * verdicts alternating, one message per packet. */
	struct nfq_config cfg;
	nfq_config_defaults(&cfg);
	cfg.queue_num = QNUM;
	cfg.batch_max = NFQ_BATCH_LIMIT;
	struct fake f;
	fake_open(&f, &cfg);
	struct pkt_spec s;
	static char buf[MSG_MAX];
	size_t off = 0, last = 0;
	/* All in one datagram, so one nfq_receive sees them all before a drain. */
	for (uint32_t id = 1; id <= NFQ_BATCH_LIMIT; id++) {
		spec_init(&s, id);
		s.payload_len = 20;
		last = off;
		put_packet(buf, &off, &s);
	}
	send_buf(&f, buf, last + ((struct nlmsghdr *)(buf + last))->nlmsg_len);
	struct seen seen = {0};
	for (uint32_t id = 2; id <= 16; id += 2)
		seen.drop_ids[seen.n_drop++] = id;
	assert_int_equal(nfq_receive(f.q, record, &seen), NFQ_BATCH_LIMIT);
	static struct verdict_msg v[NFQ_BATCH_LIMIT + 1];
	int datagrams;
	size_t n = read_verdicts(&f, v, NFQ_BATCH_LIMIT + 1, &datagrams);
	assert_int_equal(datagrams, 1);
	/* 1 A, 2 D, 3 A, ... 16 D: 16 messages, then one batch up to 255. */
	assert_int_equal(n, 17);
	expect_verdict(&v[15], NFQNL_MSG_VERDICT, 16, NF_DROP);
	expect_verdict(&v[16], NFQNL_MSG_VERDICT_BATCH, NFQ_BATCH_LIMIT, NF_ACCEPT);
	assert_int_equal(nfq_stats(f.q)->errors, 0);
	fake_close(&f);
}

static void test_malformed(void **state)
{
	(void)state;
	struct fake f;
	fake_open_default(&f);
	struct pkt_spec s;
	spec_init(&s, 1);
	s.no_header = true;
	send_packet(&f, &s);
	spec_init(&s, 2);
	s.no_payload = true;
	send_packet(&f, &s);
	/* A message that claims more bytes than the datagram holds. */
	static char buf[MSG_MAX];
	size_t off = 0;
	spec_init(&s, 3);
	put_packet(buf, &off, &s);
	((struct nlmsghdr *)buf)->nlmsg_len += 100;
	send_buf(&f, buf, off);
	/* An attribute running past its message. */
	off = 0;
	spec_init(&s, 4);
	put_packet(buf, &off, &s);
	struct nlattr *first =
		(struct nlattr *)(buf + MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)));
	first->nla_len = 0xfff0;
	send_buf(&f, buf, off);
	/* A header shorter than nfgenmsg. */
	struct nlmsghdr tiny = {.nlmsg_len = sizeof(tiny),
				.nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET};
	send_buf(&f, (const char *)&tiny, sizeof(tiny));
	/* Then a good one: still handled. */
	spec_init(&s, 5);
	send_packet(&f, &s);

	struct seen seen = {0};
	assert_int_equal(nfq_receive(f.q, record, &seen), 1);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.p[0].id, 5);
	const struct nfq_stats *st = nfq_stats(f.q);
	assert_int_equal(st->errors, 5);
	/* 2 had an id but nothing to inspect: accepted unseen. 1, 3 and 4
	 * have no readable id: the batch up to 5 covers them. */
	assert_int_equal(st->packets, 2);
	assert_int_equal(st->accepted, 2);
	assert_int_equal(st->missed, 3);
	assert_string_not_equal(nfq_last_error(f.q), "");
	struct verdict_msg v[4];
	assert_int_equal(read_verdicts(&f, v, 4, NULL), 1);
	expect_verdict(&v[0], NFQNL_MSG_VERDICT_BATCH, 5, NF_ACCEPT);
	fake_close(&f);
}

static void test_oversized_datagram(void **state)
{
	(void)state;
	struct nfq_config cfg;
	nfq_config_defaults(&cfg);
	cfg.queue_num = QNUM;
	cfg.copy_range = 100;
	struct fake f;
	fake_open(&f, &cfg);
	/* Far beyond copy_range and the room for attributes: cut by recv. */
	static uint8_t big[20000];
	struct pkt_spec s;
	spec_init(&s, 1);
	s.payload = big;
	s.payload_len = sizeof(big);
	send_packet(&f, &s);
	spec_init(&s, 2);
	send_packet(&f, &s);
	struct seen seen = {0};
	assert_int_equal(nfq_receive(f.q, record, &seen), 1);
	assert_int_equal(seen.p[0].id, 2);
	assert_int_equal(nfq_stats(f.q)->errors, 1);
	assert_non_null(strstr(nfq_last_error(f.q), "does not fit"));
	fake_close(&f);
}

static void test_kernel_errors_and_acks(void **state)
{
	(void)state;
	struct fake f;
	fake_open_default(&f);
	static char buf[256];
	for (int code = 0; code >= -ENOENT; code -= ENOENT) {
		memset(buf, 0, sizeof(buf));
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = NLMSG_ERROR;
		struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
		e->error = code;
		send_buf(&f, buf, nlh->nlmsg_len);
	}
	struct seen seen = {0};
	assert_int_equal(nfq_receive(f.q, record, &seen), 0);
	assert_int_equal(nfq_stats(f.q)->verdict_errors, 1);
	assert_int_equal(nfq_stats(f.q)->errors, 0);
	assert_non_null(strstr(nfq_last_error(f.q), strerror(ENOENT)));
	struct verdict_msg v[2];
	assert_int_equal(read_verdicts(&f, v, 2, NULL), 0);
	fake_close(&f);
}

static void test_id_gaps(void **state)
{
	(void)state;
	struct fake f;
	fake_open_default(&f);
	/* 3 and 4 never came up (a full socket): missed, and the batch up to 5
	 * covers them in the kernel's eyes. */
	send_ids(&f, 1, 2);
	send_ids(&f, 5, 6);
	struct seen seen = {0};
	assert_int_equal(nfq_receive(f.q, record, &seen), 4);
	assert_int_equal(nfq_stats(f.q)->missed, 2);
	struct verdict_msg v[2];
	assert_int_equal(read_verdicts(&f, v, 2, NULL), 1);
	expect_verdict(&v[0], NFQNL_MSG_VERDICT_BATCH, 6, NF_ACCEPT);
	fake_close(&f);
}

static void test_drained_socket(void **state)
{
	(void)state;
	struct fake f;
	fake_open_default(&f);
	struct seen seen = {0};
	assert_int_equal(nfq_receive(f.q, record, &seen), 0);
	assert_int_equal(nfq_stats(f.q)->sends, 0);
	struct verdict_msg v[2];
	assert_int_equal(read_verdicts(&f, v, 2, NULL), 0);
	/* Verdicts of a later round go in their own send. */
	send_ids(&f, 1, 2);
	assert_int_equal(nfq_receive(f.q, record, &seen), 2);
	send_ids(&f, 3, 3);
	assert_int_equal(nfq_receive(f.q, record, &seen), 1);
	int datagrams;
	assert_int_equal(read_verdicts(&f, v, 2, &datagrams), 2);
	assert_int_equal(datagrams, 2);
	expect_verdict(&v[0], NFQNL_MSG_VERDICT_BATCH, 2, NF_ACCEPT);
	expect_verdict(&v[1], NFQNL_MSG_VERDICT_BATCH, 3, NF_ACCEPT);
	assert_int_equal(nfq_socket_fd(f.q) >= 0, 1);
	assert_int_equal(nfq_config(f.q)->queue_num, QNUM);
	fake_close(&f);
}

static void test_fatal_socket_error(void **state)
{
	(void)state;
	struct nfq_config cfg;
	nfq_config_defaults(&cfg);
	char err[NFQ_ERR_MAX];
	/* recv() on a descriptor that is not a socket fails: fatal. */
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	struct nfq *q = nfq_attach(&cfg, fds[0], err, sizeof(err));
	assert_non_null(q);
	struct seen seen = {0};
	assert_int_equal(nfq_receive(q, record, &seen), -1);
	assert_non_null(strstr(nfq_last_error(q), "receive"));
	assert_int_equal(nfq_stats(q)->errors, 1);
	nfq_release(q);
	close(fds[1]);
}

static void test_kernel_stats_parse(void **state)
{
	(void)state;
	static const char text[] = "    0  12345     0 2 65531     0     0        7  1\n"
				   "    3   4242    17 2   128     5     9     1000  1\n";
	struct nfq_kernel_stats ks;
	assert_true(nfq_kernel_stats_parse(text, 3, &ks));
	assert_int_equal(ks.queue_num, 3);
	assert_int_equal(ks.portid, 4242);
	assert_int_equal(ks.queue_total, 17);
	assert_int_equal(ks.copy_mode, 2);
	assert_int_equal(ks.copy_range, 128);
	assert_int_equal(ks.queue_dropped, 5);
	assert_int_equal(ks.user_dropped, 9);
	assert_int_equal(ks.id_sequence, 1000);
	assert_true(nfq_kernel_stats_parse(text, 0, &ks));
	assert_int_equal(ks.portid, 12345);
	assert_int_equal(ks.id_sequence, 7);
	assert_false(nfq_kernel_stats_parse(text, 1, &ks));
	assert_false(nfq_kernel_stats_parse("", 0, &ks));
	assert_false(nfq_kernel_stats_parse("garbage\n  0 1 2\n", 0, &ks));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_packet_fields),
		cmocka_unit_test(test_skb_info_flags),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_time_never_goes_back),
		cmocka_unit_test(test_unaligned_payload),
		cmocka_unit_test(test_accept_runs_and_drops),
		cmocka_unit_test(test_drops_only_and_leading_drop),
		cmocka_unit_test(test_batch_max),
		cmocka_unit_test(test_batch_limit_fits),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_oversized_datagram),
		cmocka_unit_test(test_kernel_errors_and_acks),
		cmocka_unit_test(test_id_gaps),
		cmocka_unit_test(test_drained_socket),
		cmocka_unit_test(test_fatal_socket_error),
		cmocka_unit_test(test_kernel_stats_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
