/* NFQUEUE adapter: one queue read through libmnl + libnetfilter_queue. The
 * only place that knows netlink. Packets come up whole from their IP header
 * (GSO super-packets too), the callback decides, verdicts go back batched.
 *
 * Binding and configuration go in ONE netlink message whose ACK is checked
 * (BIND + PARAMS + QUEUE_MAXLEN + one FLAGS/MASK pair): a queue bound before
 * its copy mode is set drops what arrives in between, and a second FLAGS
 * attribute would replace the first (nfqueue.md).
 *
 * Verdicts keep the kernel's order: a run of ACCEPTs becomes one
 * NFQNL_MSG_VERDICT_BATCH (every id up to the last), a DROP ends the run and
 * goes as its own NFQNL_MSG_VERDICT. What is collected goes out in one send()
 * when the socket is drained or batch_max packets wait. Nothing is allocated
 * after nfq_bind().
 *
 * libnetfilter_queue owns nfq_open/nfq_close/nfq_fd, hence nfq_bind,
 * nfq_release and nfq_socket_fd here. */
#ifndef KG_NFQ_H
#define KG_NFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/kgtime.h"

#define NFQ_COPY_RANGE_MAX 65535 /* the kernel clamps to 64 KiB less an attribute header */
#define NFQ_BATCH_LIMIT 255	 /* like Suricata's nfq.batchcount */
#define NFQ_RCVBUF_DEFAULT (8 * 1024 * 1024)
#define NFQ_ERR_MAX 256

struct nfq_config {
	uint16_t queue_num;    /* default 0 */
	uint32_t copy_range;   /* bytes of each packet copied up, 1..NFQ_COPY_RANGE_MAX; 65535 */
	uint32_t queue_maxlen; /* packets the kernel holds for us; default 4096 */
	uint32_t rcvbuf;       /* socket receive buffer, bytes (SO_RCVBUFFORCE, else SO_RCVBUF) */
	bool fail_open;	       /* NFQA_CFG_F_FAIL_OPEN: a full queue accepts; default yes */
	bool gso;	       /* NFQA_CFG_F_GSO: super-packets come up whole; default yes */
	unsigned batch_max;    /* packets decided before a send, 1..NFQ_BATCH_LIMIT; 64 */
};

void nfq_config_defaults(struct nfq_config *cfg);
/* Checks the ranges above; false with one sentence in err. */
bool nfq_config_check(const struct nfq_config *cfg, char *err, size_t errlen);

/* NFQA_SKB_INFO: the packet's checksum is not computed yet (CHECKSUM_PARTIAL,
 * or a GSO super-packet whose segments get theirs later). Such a packet is not
 * a bad checksum: the engine must not validate its transport checksum. */
#define NFQ_PKT_CSUM_UNVERIFIED (1u << 0)
#define NFQ_PKT_GSO (1u << 1)	      /* a GSO super-packet (may exceed the MTU) */
#define NFQ_PKT_TRUNCATED (1u << 2)   /* longer than copy_range: caplen < wirelen */
#define NFQ_PKT_KERNEL_TIME (1u << 3) /* ts is the kernel's NFQA_TIMESTAMP, not the clock */

struct nfq_packet {
	uint32_t id;
	uint16_t hw_protocol; /* host order: 0x0800 IPv4, 0x86dd IPv6 */
	uint8_t hook;	      /* NF_INET_* */
	unsigned flags;	      /* NFQ_PKT_* */
	kg_time ts;	      /* wall clock, ns; never below the previous packet's */
	const uint8_t *data;  /* from the IP header; valid during the callback only */
	uint32_t caplen;
	uint32_t wirelen; /* NFQA_CAP_LEN when truncated, else caplen */
	uint32_t mark;
	uint32_t indev, outdev; /* ifindex, 0 if none */
};

enum nfq_verdict { NFQ_ACCEPT, NFQ_DROP };

typedef enum nfq_verdict (*nfq_packet_fn)(void *ctx, const struct nfq_packet *p);

/* accepted + dropped = packets once the last verdicts are sent. */
struct nfq_stats {
	uint64_t packets; /* packet messages with an id: handed to the callback, or
			   * accepted unseen when they came without payload */
	uint64_t accepted, dropped;
	uint64_t batches;	   /* NFQNL_MSG_VERDICT_BATCH messages */
	uint64_t verdict_msgs;	   /* every verdict message, batches included */
	uint64_t sends;		   /* send() calls carrying verdicts */
	uint64_t enobufs;	   /* receive overruns reported by the socket */
	uint64_t missed;	   /* ids the kernel skipped: lost to a full socket (then
				    * accepted by fail-open, or counted as user_dropped) */
	uint64_t errors;	   /* malformed or cut messages, failed sends and receives */
	uint64_t verdict_errors;   /* verdicts the kernel refused (NLMSG_ERROR) */
	uint64_t gso;		   /* NFQ_PKT_GSO packets */
	uint64_t csum_unverified;  /* NFQ_PKT_CSUM_UNVERIFIED packets */
	uint64_t truncated;	   /* NFQ_PKT_TRUNCATED packets */
	uint64_t kernel_time;	   /* packets stamped by the kernel (the rest: the clock) */
	uint64_t startup_accepted; /* queued before the bind was acknowledged: accepted unseen */
};

struct nfq;

/* Opens a netlink socket, binds and configures cfg->queue_num in one
 * acknowledged message, sets the receive buffer and NETLINK_NO_ENOBUFS.
 * NULL with a sentence in err (EBUSY: another program holds the queue; EPERM:
 * needs CAP_NET_ADMIN). */
struct nfq *nfq_bind(const struct nfq_config *cfg, char *err, size_t errlen);
/* For tests: the same adapter over a datagram socket already connected to
 * something that speaks the queue protocol (a socketpair). No bind is sent.
 * Takes ownership of fd. */
struct nfq *nfq_attach(const struct nfq_config *cfg, int fd, char *err, size_t errlen);
/* Closes the socket, which unbinds the queue: packets still waiting for a
 * verdict are dropped by the kernel, later ones follow the rule (bypass). */
void nfq_release(struct nfq *q);

/* The descriptor to wait on (EPOLLIN). */
int nfq_socket_fd(const struct nfq *q);
/* Reads without blocking until the socket is drained (or a budget of packets
 * is used, so other work gets its turn), calls fn for each packet, sends the
 * verdicts. Returns the packets handled, or -1 on a fatal socket error (err
 * says which; the queue is then unusable). */
int nfq_receive(struct nfq *q, nfq_packet_fn fn, void *ctx);
const struct nfq_stats *nfq_stats(const struct nfq *q);
/* Bytes the kernel granted for the receive buffer (getsockopt SO_RCVBUF). */
uint32_t nfq_rcvbuf(const struct nfq *q);
/* The last fatal or counted error, "" if none. */
const char *nfq_last_error(const struct nfq *q);
const struct nfq_config *nfq_config(const struct nfq *q);

/* The kernel's counters of one queue, /proc/net/netfilter/nfnetlink_queue
 * (per network namespace). */
struct nfq_kernel_stats {
	uint16_t queue_num;
	uint32_t portid;      /* the bound socket */
	uint32_t queue_total; /* packets waiting for a verdict now */
	uint8_t copy_mode;
	uint32_t copy_range;
	uint32_t queue_dropped; /* dropped because the queue was full (without fail-open) */
	uint32_t user_dropped;	/* dropped because our socket was full (without fail-open) */
	uint32_t id_sequence;	/* last packet id */
};

#define NFQ_KERNEL_STATS_PATH "/proc/net/netfilter/nfnetlink_queue"

/* False if the queue is not bound or the file cannot be read. */
bool nfq_kernel_stats(uint16_t queue_num, struct nfq_kernel_stats *out);
/* The parser behind it, for the file's text. */
bool nfq_kernel_stats_parse(const char *text, uint16_t queue_num, struct nfq_kernel_stats *out);

#endif
