/* Builds the nf_tables netlink batches the nft adapter sends: the table, its
 * sets, chains and rules, and element changes. Pure: it only writes into a
 * buffer, so the unit tests read back exactly what would be sent. */
#ifndef KG_NFT_RULES_H
#define KG_NFT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/nft.h"
#include "util/addr.h"
#include "util/netset.h"

#define NFT_BATCH_MSGS_MAX 64
#define NFT_BATCH_BUF (128 * 1024)
/* Room kept free before each message: the largest one is a never-block sync
 * of 2 * NETSET_MAX interval elements (about 25 KiB). */
#define NFT_MSG_ROOM (40 * 1024)
#define NFT_WHAT_MAX 96

/* Chain and set names; nft keywords are avoided ("fwd" is one). */
#define NFT_CHAIN_BLOCK_FORWARD "block_forward"
#define NFT_CHAIN_BLOCK_INPUT "block_input"
#define NFT_CHAIN_QUEUE_FORWARD "queue_forward"
#define NFT_CHAIN_QUEUE_INPUT "queue_input"
#define NFT_PRIO_BLOCK (-10) /* below the queue: blocked sources are never queued */
#define NFT_PRIO_QUEUE 0

/* The xtables NFQUEUE target as iptables-nft sends it (rev 3, info is struct
 * xt_NFQ_info_v3 padded to XT_ALIGN: 8 bytes). */
#define NFT_XT_NFQUEUE_NAME "NFQUEUE"
#define NFT_XT_NFQUEUE_REV 3
#define NFT_XT_NFQUEUE_INFO_LEN 8

enum nft_backend { NFT_BACKEND_NONE, NFT_BACKEND_NATIVE, NFT_BACKEND_XT, NFT_BACKEND_EXTERNAL };

enum nft_set_id {
	NFT_SET_BLOCKED4,
	NFT_SET_BLOCKED6,
	NFT_SET_FLAGGED4,
	NFT_SET_FLAGGED6,
	NFT_SET_NEVERBLOCK4,
	NFT_SET_NEVERBLOCK6,
	NFT_SET_COUNT
};

/* What a message in a batch is, to tell which errors are which. */
enum nft_msg_role {
	NFT_ROLE_OTHER,
	NFT_ROLE_QUEUE_RULE, /* a native `queue` rule: refused where the kernel lacks it */
	NFT_ROLE_DEL_ELEM,   /* an element delete whose ENOENT means "was not there" */
};

struct nft_batch_msg {
	uint32_t seq;
	enum nft_msg_role role;
	char what[NFT_WHAT_MAX]; /* "add rule inet knockguard queue_forward" */
};

/* One batch: BATCH_BEGIN, the messages (each with NLM_F_ACK), BATCH_END. */
struct nft_batch {
	size_t len;
	uint32_t seq_begin;
	uint32_t next_seq;
	unsigned nmsgs;
	bool overflow; /* a message did not fit: the batch must not be sent */
	struct nft_batch_msg msg[NFT_BATCH_MSGS_MAX];
	char buf[NFT_BATCH_BUF];
};

const char *nft_set_name(enum nft_set_id id);
/* Family of a set: 4 or 6. */
int nft_set_family(enum nft_set_id id);

void nft_batch_init(struct nft_batch *b, uint32_t seq);
/* Closes the batch; false if anything overflowed. */
bool nft_batch_finish(struct nft_batch *b);
/* The message with this sequence number, or NULL. */
const struct nft_batch_msg *nft_batch_find(const struct nft_batch *b, uint32_t seq);

/* The whole table for manage = yes: table, six sets, the chains of the enabled
 * hooks (flushed, then filled), the chains of disabled hooks removed (add +
 * flush + delete, so it works whether they exist or not). backend is
 * NFT_BACKEND_NATIVE or NFT_BACKEND_XT. */
void nft_batch_setup(struct nft_batch *b, const struct nft_config *cfg, enum nft_backend backend);
/* Delete the table. */
void nft_batch_delete_table(struct nft_batch *b, const char *table);

/* The key of addr for its family's set: 4 or 16 bytes in network order. */
size_t nft_addr_key(const struct kg_addr *a, uint8_t key[16]);
/* Milliseconds for a kernel timeout (rounded up, at least 1). */
uint64_t nft_timeout_ms(kg_time t);

/* add (no-op when present) + delete + add with the new timeout: the element
 * ends up with timeout_ms whether or not it was there. */
void nft_batch_elem_refresh(struct nft_batch *b, const char *table, enum nft_set_id set,
			    const struct kg_addr *a, uint64_t timeout_ms);
void nft_batch_elem_delete(struct nft_batch *b, const char *table, enum nft_set_id set,
			   const struct kg_addr *a);
/* Removes every element of a set. */
void nft_batch_set_flush(struct nft_batch *b, const char *table, enum nft_set_id set);

/* One prefix as interval elements: start, and end = last address + 1 with
 * the interval-end flag unless the prefix reaches the top of the space. */
struct nft_interval {
	uint8_t start[16];
	uint8_t end[16];
	size_t keylen; /* 4 or 16 */
	bool open;     /* no end element: the prefix runs to the last address */
};

/* net and prefix as in struct netset_entry (IPv4 is ::ffff:a.b.c.d/96+n).
 * False for a prefix out of range. */
bool nft_interval_from_prefix(const struct kg_addr *net, unsigned prefix, struct nft_interval *out);
/* Adds intervals (all of one family) to a never-block set in one message. */
void nft_batch_intervals_add(struct nft_batch *b, const char *table, enum nft_set_id set,
			     const struct nft_interval *iv, size_t n);
/* Sorts the prefixes of s for one family (4 or 6), drops those inside
 * another, and writes at most max intervals; returns how many. An IPv6 prefix
 * covering ::ffff:0:0/96 also yields the IPv4 prefix it covers, as
 * netset_contains() counts IPv4 addresses in it. */
size_t nft_never_block_intervals(const struct netset *s, int family, struct nft_interval *out,
				 size_t max);

/* Non-batch requests (nlmsg headers written to buf, which must hold
 * NFT_REQ_MAX bytes): dump a set's elements; get one set. */
#define NFT_REQ_MAX 512
size_t nft_req_dump_elems(char *buf, const char *table, enum nft_set_id set, uint32_t seq);
size_t nft_req_get_set(char *buf, const char *table, enum nft_set_id set, uint32_t seq);

#endif
