#include "io/nfq.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
/* The kernel's header first: it has every NFQA_SKB_* flag; the library's copy
 * shares its include guard. */
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/* Packets handled per nfq_receive() call before the other descriptors get
 * their turn (the epoll loop is level-triggered and comes back). */
#define NFQ_RECV_BUDGET 1024
/* Room for the attributes around the payload (headers, timestamp, devices,
 * hardware address, conntrack, L2 header...). */
#define NFQ_RX_OVERHEAD 8192
#define NFQ_VERDICT_MSG_SIZE                                                       \
	(MNL_ALIGN(sizeof(struct nlmsghdr)) + MNL_ALIGN(sizeof(struct nfgenmsg)) + \
	 MNL_ATTR_HDRLEN + MNL_ALIGN(sizeof(struct nfqnl_msg_verdict_hdr)))
/* Each waiting packet adds at most one message (a DROP, or the start of a
 * run of ACCEPTs), so batch_max packets never need more than this. */
#define NFQ_TX_SIZE ((NFQ_BATCH_LIMIT + 1) * NFQ_VERDICT_MSG_SIZE)
#define NFQ_ACK_TIMEOUT_MS 2000
/* A kernel stamp further than this from the clock is not trusted (a skb may
 * carry a delivery time on some paths); the clock is used instead. */
#define NFQ_TS_TOLERANCE KG_SEC(10)

struct nfq {
	struct nfq_config cfg;
	struct mnl_socket *nl; /* NULL when attached to a test socket */
	int fd;
	uint32_t rcvbuf;

	uint8_t *rx;
	size_t rx_size;

	char tx[NFQ_TX_SIZE];
	size_t tx_len;
	unsigned waiting;     /* packets decided but not sent */
	bool run_open;	      /* a run of ACCEPTs is being collected */
	uint32_t run_last_id; /* its last id */
	uint32_t last_id;     /* last packet id seen, for gaps */
	kg_time last_ts;      /* packets leave in queue order: time never goes back */

	struct nfq_stats stats;
	char last_error[NFQ_ERR_MAX];
};

void nfq_config_defaults(struct nfq_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->queue_num = 0;
	cfg->copy_range = NFQ_COPY_RANGE_MAX;
	cfg->queue_maxlen = 4096;
	cfg->rcvbuf = NFQ_RCVBUF_DEFAULT;
	cfg->fail_open = true;
	cfg->gso = true;
	cfg->batch_max = 64;
}

bool nfq_config_check(const struct nfq_config *cfg, char *err, size_t errlen)
{
	if (cfg->copy_range < 1 || cfg->copy_range > NFQ_COPY_RANGE_MAX) {
		snprintf(err, errlen, "nfqueue: copy range %u is not in 1..%d", cfg->copy_range,
			 NFQ_COPY_RANGE_MAX);
		return false;
	}
	if (cfg->queue_maxlen < 1) {
		snprintf(err, errlen, "nfqueue: queue maxlen must be at least 1");
		return false;
	}
	if (cfg->batch_max < 1 || cfg->batch_max > NFQ_BATCH_LIMIT) {
		snprintf(err, errlen, "nfqueue: batch size %u is not in 1..%d", cfg->batch_max,
			 NFQ_BATCH_LIMIT);
		return false;
	}
	if (cfg->rcvbuf > (uint32_t)INT32_MAX / 2) {
		snprintf(err, errlen, "nfqueue: receive buffer %u bytes is too large", cfg->rcvbuf);
		return false;
	}
	return true;
}

static kg_time nfq_wall_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (kg_time)ts.tv_sec * KG_NSEC_PER_SEC + ts.tv_nsec;
}

static void nfq_set_error(struct nfq *q, const char *what, int err)
{
	snprintf(q->last_error, sizeof(q->last_error), "nfqueue %u: %s: %s",
		 (unsigned)q->cfg.queue_num, what, strerror(err));
}

static struct nfq *nfq_alloc(const struct nfq_config *cfg, char *err, size_t errlen)
{
	if (!nfq_config_check(cfg, err, errlen))
		return NULL;
	struct nfq *q = calloc(1, sizeof(*q));
	if (q == NULL) {
		snprintf(err, errlen, "nfqueue: %s", strerror(errno));
		return NULL;
	}
	q->cfg = *cfg;
	q->fd = -1;
	q->rx_size = cfg->copy_range + NFQ_RX_OVERHEAD;
	q->rx = malloc(q->rx_size);
	if (q->rx == NULL) {
		snprintf(err, errlen, "nfqueue: receive buffer: %s", strerror(errno));
		free(q);
		return NULL;
	}
	return q;
}

void nfq_release(struct nfq *q)
{
	if (q == NULL)
		return;
	if (q->nl)
		mnl_socket_close(q->nl);
	else if (q->fd >= 0)
		close(q->fd);
	free(q->rx);
	free(q);
}

/* --- verdicts ---------------------------------------------------------------- */

static void nfq_put_verdict(struct nfq *q, int type, uint32_t id, int verdict)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(q->tx + q->tx_len, type, q->cfg.queue_num);
	nfq_nlmsg_verdict_put(nlh, (int)id, verdict);
	q->tx_len += nlh->nlmsg_len;
	q->stats.verdict_msgs++;
	if (type == NFQNL_MSG_VERDICT_BATCH)
		q->stats.batches++;
}

/* A run always goes as a batch, even of one: a batch also accepts any
 * earlier id whose verdict a failed send lost, so nothing hangs in the queue. */
static void nfq_close_run(struct nfq *q)
{
	if (!q->run_open)
		return;
	nfq_put_verdict(q, NFQNL_MSG_VERDICT_BATCH, q->run_last_id, NF_ACCEPT);
	q->run_open = false;
}

static void nfq_flush(struct nfq *q)
{
	nfq_close_run(q);
	if (q->tx_len == 0)
		return;
	ssize_t n;
	do
		n = send(q->fd, q->tx, q->tx_len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == ENOBUFS)
			q->stats.enobufs++;
		q->stats.errors++;
		nfq_set_error(q, "sending verdicts", errno);
	} else {
		q->stats.sends++;
	}
	q->tx_len = 0;
	q->waiting = 0;
}

static void nfq_decide(struct nfq *q, uint32_t id, enum nfq_verdict v)
{
	if (v == NFQ_DROP) {
		nfq_close_run(q);
		nfq_put_verdict(q, NFQNL_MSG_VERDICT, id, NF_DROP);
		q->stats.dropped++;
	} else {
		q->run_open = true;
		q->run_last_id = id;
		q->stats.accepted++;
	}
	if (++q->waiting >= q->cfg.batch_max)
		nfq_flush(q);
}

/* --- packet messages ------------------------------------------------------------ */

static bool nfq_attr_u32(const struct nlattr *a, uint32_t *out)
{
	if (a == NULL || mnl_attr_get_payload_len(a) < sizeof(uint32_t))
		return false;
	uint32_t v;
	memcpy(&v, mnl_attr_get_payload(a), sizeof(v));
	*out = ntohl(v);
	return true;
}

static uint64_t nfq_be64(const void *p)
{
	uint32_t hi, lo;
	memcpy(&hi, p, 4);
	memcpy(&lo, (const uint8_t *)p + 4, 4);
	return ((uint64_t)ntohl(hi) << 32) | ntohl(lo);
}

enum nfq_parse {
	NFQ_PARSE_OK,
	NFQ_PARSE_NO_PAYLOAD, /* only p->id is set: the packet still needs a verdict */
	NFQ_PARSE_BAD,	      /* not even an id */
};

/* Fills *p from one NFQNL_MSG_PACKET. A message without payload comes from
 * a queue still in copy-meta mode (the instant between creating the queue and
 * applying PARAMS, within the bind itself). */
static enum nfq_parse nfq_parse_packet(const struct nlmsghdr *nlh, kg_time now,
				       struct nfq_packet *p)
{
	struct nlattr *attr[NFQA_MAX + 1];
	memset(attr, 0, sizeof(attr));
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg)) ||
	    nfq_nlmsg_parse(nlh, attr) < 0)
		return NFQ_PARSE_BAD;
	const struct nlattr *hdr_attr = attr[NFQA_PACKET_HDR];
	const struct nlattr *payload = attr[NFQA_PAYLOAD];
	if (hdr_attr == NULL ||
	    mnl_attr_get_payload_len(hdr_attr) < sizeof(struct nfqnl_msg_packet_hdr))
		return NFQ_PARSE_BAD;

	struct nfqnl_msg_packet_hdr ph;
	memcpy(&ph, mnl_attr_get_payload(hdr_attr), sizeof(ph));
	memset(p, 0, sizeof(*p));
	p->id = ntohl(ph.packet_id);
	if (payload == NULL)
		return NFQ_PARSE_NO_PAYLOAD;
	p->hw_protocol = ntohs(ph.hw_protocol);
	p->hook = ph.hook;
	p->data = mnl_attr_get_payload(payload);
	p->caplen = mnl_attr_get_payload_len(payload);
	p->wirelen = p->caplen;

	uint32_t v;
	if (nfq_attr_u32(attr[NFQA_CAP_LEN], &v) && v > p->caplen) {
		p->wirelen = v;
		p->flags |= NFQ_PKT_TRUNCATED;
	}
	if (nfq_attr_u32(attr[NFQA_SKB_INFO], &v)) {
		if (v & NFQA_SKB_GSO)
			p->flags |= NFQ_PKT_GSO;
		if (v & (NFQA_SKB_CSUMNOTREADY | NFQA_SKB_GSO))
			p->flags |= NFQ_PKT_CSUM_UNVERIFIED;
	}
	nfq_attr_u32(attr[NFQA_MARK], &p->mark);
	nfq_attr_u32(attr[NFQA_IFINDEX_INDEV], &p->indev);
	nfq_attr_u32(attr[NFQA_IFINDEX_OUTDEV], &p->outdev);

	p->ts = now;
	const struct nlattr *ts_attr = attr[NFQA_TIMESTAMP];
	if (ts_attr &&
	    mnl_attr_get_payload_len(ts_attr) >= sizeof(struct nfqnl_msg_packet_timestamp)) {
		const uint8_t *t = mnl_attr_get_payload(ts_attr);
		uint64_t sec = nfq_be64(t), usec = nfq_be64(t + 8);
		if (sec < (uint64_t)(INT64_MAX / KG_NSEC_PER_SEC) - 1 && usec < 1000000) {
			kg_time ts = (kg_time)sec * KG_NSEC_PER_SEC + (kg_time)usec * 1000;
			if (ts > now - NFQ_TS_TOLERANCE && ts < now + NFQ_TS_TOLERANCE) {
				p->ts = ts;
				p->flags |= NFQ_PKT_KERNEL_TIME;
			}
		}
	}
	return NFQ_PARSE_OK;
}

static void nfq_count_packet(struct nfq *q, struct nfq_packet *p)
{
	/* Kernel stamps (taken at reception) and the clock (at our read) mix
	 * when only some packets carry a stamp; the queue's order is the truth. */
	if (p->ts < q->last_ts)
		p->ts = q->last_ts;
	q->last_ts = p->ts;
	q->stats.packets++;
	uint32_t expected = q->last_id + 1;
	uint32_t gap = p->id - expected;
	if (gap != 0 && gap < 0x80000000u)
		q->stats.missed += gap;
	q->last_id = p->id;
	if (p->flags & NFQ_PKT_GSO)
		q->stats.gso++;
	if (p->flags & NFQ_PKT_CSUM_UNVERIFIED)
		q->stats.csum_unverified++;
	if (p->flags & NFQ_PKT_TRUNCATED)
		q->stats.truncated++;
	if (p->flags & NFQ_PKT_KERNEL_TIME)
		q->stats.kernel_time++;
}

static bool nfq_is_packet_msg(const struct nlmsghdr *nlh)
{
	return nlh->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET);
}

/* An NLMSG_ERROR: 0 is an ack; else the (positive) errno. -1: malformed. */
static int nfq_error_code(const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct nlmsgerr))
		return -1;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	return e->error < 0 ? -e->error : e->error;
}

/* One received datagram: every message in it. Returns the packets handled. */
static int nfq_handle_datagram(struct nfq *q, size_t len, kg_time now, nfq_packet_fn fn, void *ctx)
{
	int handled = 0;
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)q->rx;
	int left = (int)len;
	while (mnl_nlmsg_ok(nlh, left)) {
		if (nfq_is_packet_msg(nlh)) {
			struct nfq_packet p;
			enum nfq_parse r = nfq_parse_packet(nlh, now, &p);
			if (r != NFQ_PARSE_OK) {
				q->stats.errors++;
				snprintf(q->last_error, sizeof(q->last_error),
					 "nfqueue %u: malformed packet message",
					 (unsigned)q->cfg.queue_num);
			}
			if (r == NFQ_PARSE_OK) {
				nfq_count_packet(q, &p);
				nfq_decide(q, p.id, fn(ctx, &p));
				handled++;
			} else if (r == NFQ_PARSE_NO_PAYLOAD) {
				/* Nothing to inspect: let it pass, as fail-open would. */
				nfq_count_packet(q, &p);
				nfq_decide(q, p.id, NFQ_ACCEPT);
			}
			/* Without an id there is no verdict to give; the next
			 * batch accepts the packet with every earlier id. */
		} else if (nlh->nlmsg_type == NLMSG_ERROR) {
			int code = nfq_error_code(nlh);
			if (code < 0) {
				q->stats.errors++;
			} else if (code > 0) {
				q->stats.verdict_errors++;
				nfq_set_error(q, "verdict refused", code);
			}
		}
		nlh = mnl_nlmsg_next(nlh, &left);
	}
	/* The kernel does not pad the payload attribute, so after a last
	 * message of unaligned length left is a few bytes below zero. */
	if (left > 0) {
		q->stats.errors++;
		snprintf(q->last_error, sizeof(q->last_error),
			 "nfqueue %u: %d bytes of a cut netlink message",
			 (unsigned)q->cfg.queue_num, left);
	}
	return handled;
}

int nfq_receive(struct nfq *q, nfq_packet_fn fn, void *ctx)
{
	int handled = 0;
	int fatal = 0;
	for (int reads = 0; reads < NFQ_RECV_BUDGET && handled < NFQ_RECV_BUDGET; reads++) {
		ssize_t n = recv(q->fd, q->rx, q->rx_size, MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == ENOBUFS) {
				/* The socket overflowed; what was lost is in missed. */
				q->stats.enobufs++;
				continue;
			}
			fatal = errno;
			break;
		}
		if (n == 0)
			break;
		if ((size_t)n > q->rx_size) {
			/* Larger than copy_range allows: the message was cut. Its
			 * packet is accepted by the next batch (ids below it). */
			q->stats.errors++;
			snprintf(q->last_error, sizeof(q->last_error),
				 "nfqueue %u: a %zd-byte message does not fit %zu bytes",
				 (unsigned)q->cfg.queue_num, n, q->rx_size);
			continue;
		}
		handled += nfq_handle_datagram(q, (size_t)n, nfq_wall_clock(), fn, ctx);
	}
	nfq_flush(q);
	if (fatal) {
		q->stats.errors++;
		nfq_set_error(q, "receive", fatal);
		return -1;
	}
	return handled;
}

/* --- binding -------------------------------------------------------------------- */

static void nfq_bind_error(const struct nfq_config *cfg, int code, char *err, size_t errlen)
{
	unsigned qn = cfg->queue_num;
	switch (code) {
	case EBUSY:
		snprintf(err, errlen, "nfqueue %u: this socket is already bound to the queue", qn);
		break;
	case EPERM: {
		/* The kernel says EPERM both for a queue another socket holds and
		 * for a missing CAP_NET_ADMIN. */
		struct nfq_kernel_stats ks;
		if (nfq_kernel_stats(cfg->queue_num, &ks))
			snprintf(
				err, errlen,
				"nfqueue %u: another program is bound to this queue (netlink port %u)",
				qn, ks.portid);
		else
			snprintf(err, errlen, "nfqueue %u: binding needs CAP_NET_ADMIN (%s)", qn,
				 strerror(code));
		break;
	}
	case EOPNOTSUPP:
		snprintf(err, errlen,
			 "nfqueue %u: the kernel refuses the configuration (flags gso=%s "
			 "fail_open=%s): %s",
			 qn, cfg->gso ? "yes" : "no", cfg->fail_open ? "yes" : "no",
			 strerror(code));
		break;
	default:
		snprintf(err, errlen, "nfqueue %u: bind: %s (is nfnetlink_queue available?)", qn,
			 strerror(code));
	}
}

static void nfq_set_rcvbuf(struct nfq *q)
{
	int size = (int)q->cfg.rcvbuf;
	if (size > 0 && setsockopt(q->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(q->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	int got = 0;
	socklen_t len = sizeof(got);
	if (getsockopt(q->fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 && got > 0)
		q->rcvbuf = (uint32_t)got;
}

/* BIND + PARAMS + QUEUE_MAXLEN + FLAGS/MASK, one message, acknowledged. */
static size_t nfq_build_config(const struct nfq_config *cfg, char *buf, uint32_t seq)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, cfg->queue_num);
	nlh->nlmsg_flags |= NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)cfg->copy_range);
	nfq_nlmsg_cfg_put_qmaxlen(nlh, cfg->queue_maxlen);
	uint32_t flags =
		(cfg->gso ? NFQA_CFG_F_GSO : 0) | (cfg->fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
	uint32_t mask = NFQA_CFG_F_GSO | NFQA_CFG_F_FAIL_OPEN;
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
	return nlh->nlmsg_len;
}

/* Reads until the ack of seq. Packets queued in the moment between the bind
 * and the ack are accepted unseen (they are counted). 0 or an errno. */
static int nfq_wait_ack(struct nfq *q, uint32_t seq)
{
	uint32_t portid = mnl_socket_get_portid(q->nl);
	bool early = false;
	uint32_t early_last = 0;
	int code = ETIMEDOUT;
	for (;;) {
		struct pollfd pfd = {.fd = q->fd, .events = POLLIN};
		int r = poll(&pfd, 1, NFQ_ACK_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t n = recv(q->fd, q->rx, q->rx_size, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			code = errno;
			break;
		}
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)q->rx;
		int left = (int)n;
		bool done = false;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nfq_is_packet_msg(nlh)) {
				struct nfq_packet p;
				if (nfq_parse_packet(nlh, 0, &p) != NFQ_PARSE_BAD) {
					early = true;
					early_last = p.id;
					q->last_id = p.id;
					q->stats.startup_accepted++;
				}
			} else if (nlh->nlmsg_type == NLMSG_ERROR && nlh->nlmsg_seq == seq &&
				   mnl_nlmsg_portid_ok(nlh, portid)) {
				code = nfq_error_code(nlh);
				if (code < 0)
					code = EPROTO;
				done = true;
			}
		}
		if (done)
			break;
	}
	if (early && code == 0) {
		nfq_put_verdict(q, NFQNL_MSG_VERDICT_BATCH, early_last, NF_ACCEPT);
		q->waiting = 1;
		nfq_flush(q);
	}
	return code;
}

struct nfq *nfq_bind(const struct nfq_config *cfg, char *err, size_t errlen)
{
	struct nfq *q = nfq_alloc(cfg, err, errlen);
	if (q == NULL)
		return NULL;
	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (q->nl == NULL) {
		snprintf(err, errlen, "nfqueue: netlink socket: %s", strerror(errno));
		nfq_release(q);
		return NULL;
	}
	q->fd = mnl_socket_get_fd(q->nl);
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "nfqueue: netlink bind: %s", strerror(errno));
		nfq_release(q);
		return NULL;
	}
	nfq_set_rcvbuf(q);
	/* Overruns are seen as gaps in the ids (missed), not as a socket error
	 * that would end every read with ENOBUFS. */
	int one = 1;
	if (mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one)) < 0) {
		snprintf(err, errlen, "nfqueue: NETLINK_NO_ENOBUFS: %s", strerror(errno));
		nfq_release(q);
		return NULL;
	}

	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = (uint32_t)time(NULL);
	size_t len = nfq_build_config(cfg, buf, seq);
	if (mnl_socket_sendto(q->nl, buf, len) < 0) {
		nfq_bind_error(cfg, errno, err, errlen);
		nfq_release(q);
		return NULL;
	}
	int code = nfq_wait_ack(q, seq);
	if (code != 0) {
		if (code == ETIMEDOUT)
			snprintf(err, errlen, "nfqueue %u: no answer to the bind",
				 (unsigned)cfg->queue_num);
		else
			nfq_bind_error(cfg, code, err, errlen);
		nfq_release(q);
		return NULL;
	}
	return q;
}

struct nfq *nfq_attach(const struct nfq_config *cfg, int fd, char *err, size_t errlen)
{
	struct nfq *q = nfq_alloc(cfg, err, errlen);
	if (q == NULL) {
		close(fd);
		return NULL;
	}
	q->fd = fd;
	return q;
}

int nfq_socket_fd(const struct nfq *q)
{
	return q->fd;
}

const struct nfq_stats *nfq_stats(const struct nfq *q)
{
	return &q->stats;
}

uint32_t nfq_rcvbuf(const struct nfq *q)
{
	return q->rcvbuf;
}

const char *nfq_last_error(const struct nfq *q)
{
	return q->last_error;
}

const struct nfq_config *nfq_config(const struct nfq *q)
{
	return &q->cfg;
}

/* --- kernel counters ------------------------------------------------------------ */

static bool nfq_kernel_stats_line(const char *line, uint16_t queue_num,
				  struct nfq_kernel_stats *out)
{
	unsigned qn, portid, total, mode, range, qdrop, udrop, seq;
	if (sscanf(line, "%u %u %u %u %u %u %u %u", &qn, &portid, &total, &mode, &range, &qdrop,
		   &udrop, &seq) != 8 ||
	    qn != queue_num)
		return false;
	out->queue_num = (uint16_t)qn;
	out->portid = portid;
	out->queue_total = total;
	out->copy_mode = (uint8_t)mode;
	out->copy_range = range;
	out->queue_dropped = qdrop;
	out->user_dropped = udrop;
	out->id_sequence = seq;
	return true;
}

bool nfq_kernel_stats_parse(const char *text, uint16_t queue_num, struct nfq_kernel_stats *out)
{
	for (const char *line = text; line && *line;) {
		if (nfq_kernel_stats_line(line, queue_num, out))
			return true;
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return false;
}

bool nfq_kernel_stats(uint16_t queue_num, struct nfq_kernel_stats *out)
{
	FILE *f = fopen(NFQ_KERNEL_STATS_PATH, "re");
	if (f == NULL)
		return false;
	char line[256];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = nfq_kernel_stats_line(line, queue_num, out);
	fclose(f);
	return found;
}
