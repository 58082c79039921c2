/* The nftables adapter: owns `table inet knockguard` (name configurable) through
 * libnftnl + libmnl, and puts hosts into its sets.
 *
 * The table holds
 *   sets     blocked4/6 (timeout), flagged4/6 (timeout), neverblock4/6 (interval: CIDRs);
 *   chains   block_forward / block_input: filter, priority -10: never-block sources
 *            accepted, blocked sources counted and dropped, flagged sources counted,
 *            all before anything is queued;
 *            queue_forward / queue_input: filter, priority 0: `queue num N bypass`,
 *            the native expression, or the xtables NFQUEUE target through nft_compat
 *            where the kernel lacks it (nft_queue_backend() says which).
 * nft/knockguard.nft is the same ruleset for operators who load it themselves.
 *
 * Every call is one sendmsg of one atomic batch, then the acks are read: the
 * kernel answers during sendmsg, so nothing waits on the packet path. A batch
 * the kernel refuses changes nothing, and the kernel's error text (with the
 * message it belongs to) is kept for nft_last_error().
 *
 * The table has no owner flag: it outlives the daemon (kill -9 leaves the
 * sets and the `bypass` queue rule in place, so traffic keeps flowing), and
 * nft_setup() on an existing table keeps every element. */
#ifndef KG_NFT_H
#define KG_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"
#include "util/kgtime.h"
#include "util/netset.h"

#define NFT_NAME_MAX 32 /* table name, with its NUL */
#define NFT_ERR_MAX 256
#define NFT_FLAG_TIMEOUT_DEFAULT KG_SEC(3600)
#define NFT_BLOCK_TIMEOUT_DEFAULT KG_SEC(600)
#define NFT_TIMEOUT_MAX KG_SEC(365LL * 86400) /* longer timeouts are refused */

enum nft_queue_mode {
	NFT_QUEUE_AUTO,	  /* native `queue`, the xt target if the kernel refuses it */
	NFT_QUEUE_NATIVE, /* native only: setup fails without it */
	NFT_QUEUE_XT,	  /* xtables NFQUEUE target (nft_compat) only */
};

struct nft_config {
	char table[NFT_NAME_MAX];	/* family inet; default "knockguard" */
	bool manage;			/* create the table at start (default yes); no: the operator
					   loaded nft/knockguard.nft, only its sets are used */
	bool remove_at_exit;		/* delete the table at exit (default yes; with manage) */
	uint16_t queue_num;		/* default 0 */
	bool queue_bypass;		/* accept while no daemon is bound (default yes) */
	enum nft_queue_mode queue_mode; /* default auto */
	bool hook_forward;		/* default yes */
	bool hook_input;		/* default yes */
	/* Set defaults, used when an element is added with timeout <= 0. */
	kg_time flag_timeout;  /* default NFT_FLAG_TIMEOUT_DEFAULT */
	kg_time block_timeout; /* default NFT_BLOCK_TIMEOUT_DEFAULT */
};

void nft_config_defaults(struct nft_config *cfg);
/* "auto", "native", "xt". */
bool nft_queue_mode_parse(const char *s, enum nft_queue_mode *out);
const char *nft_queue_mode_name(enum nft_queue_mode m);
/* A name nft can read back unquoted: [A-Za-z_][A-Za-z0-9_]*, shorter than
 * NFT_NAME_MAX, and not an nft keyword ("fwd", "filter", "inet", ...). */
bool nft_name_valid(const char *name);
/* Checks a config (name, timeouts, at least one hook); false with why in err. */
bool nft_config_check(const struct nft_config *cfg, char *err, size_t errlen);

struct nft;

/* Opens the NETLINK_NETFILTER socket; changes nothing in the kernel. NULL
 * with why in err on failure. */
struct nft *nft_open(const struct nft_config *cfg, char *err, size_t errlen);
/* Closes the socket; the table stays (see nft_teardown()). NULL is fine. */
void nft_close(struct nft *n);

/* manage = yes: creates or completes the table in one batch: missing sets and
 * chains are made, the chains' rules are replaced, elements already in the
 * sets are kept. The never-block sets are left alone (nft_never_block_sync()).
 * manage = no: checks that the table and its six sets exist. */
bool nft_setup(struct nft *n, char *err, size_t errlen);
/* Deletes the table (when manage and remove_at_exit; otherwise does nothing
 * and returns true). */
bool nft_teardown(struct nft *n);
/* "native" or "xt" after setup; "external" with manage = no; "none" before. */
const char *nft_queue_backend(const struct nft *n);
/* With queue_mode auto and the xt backend in use: why the kernel refused the
 * native queue rule (for the log); "" otherwise. */
const char *nft_queue_fallback_reason(const struct nft *n);

/* Puts addr into flagged4/6 or blocked4/6 for timeout (<= 0: the set's
 * default), or refreshes its timeout when it is already there: one batch of
 * add + delete + add, because re-adding alone keeps the old timeout. */
bool nft_flag(struct nft *n, const struct kg_addr *addr, kg_time timeout);
bool nft_block(struct nft *n, const struct kg_addr *addr, kg_time timeout);
/* Removes addr from blocked4/6: 1 removed, 0 it was not there, -1 error. */
int nft_unblock(struct nft *n, const struct kg_addr *addr);
/* Adds one CIDR ("10.0.0.0/8", "2001:db8::/32", "192.0.2.1") to neverblock4/6.
 * The kernel refuses a prefix overlapping one already in the set. */
bool nft_never_block_add(struct nft *n, const char *cidr);
/* Replaces neverblock4/6 with the prefixes of s in one batch (flush + add);
 * nested and duplicate prefixes are merged first. It writes the sets with
 * manage = no too (they are then the operator's: the caller decides). */
bool nft_never_block_sync(struct nft *n, const struct netset *s);

enum nft_set_kind { NFT_SET_BLOCKED, NFT_SET_FLAGGED };

struct nft_element {
	struct kg_addr addr;
	kg_time timeout; /* as added; 0 when it is the set's default (the kernel omits it) */
	kg_time expires; /* time left; 0 if the element has no timeout */
};

/* Calls cb for every element of blocked4 then blocked6 (or flagged4/6).
 * Returns the number of elements, -1 on error. A dump: it reads until the
 * kernel is done (for knockguardctl, not the packet path). */
long nft_list(struct nft *n, enum nft_set_kind kind,
	      void (*cb)(void *ctx, const struct nft_element *e), void *ctx);
long nft_list_blocked(struct nft *n, void (*cb)(void *ctx, const struct nft_element *e), void *ctx);

struct nft_stats {
	uint64_t batches; /* batches sent */
	uint64_t errors;  /* batches the kernel refused (or that could not be sent) */
	uint64_t flags, blocks, unblocks;
};

const struct nft_stats *nft_stats(const struct nft *n);
/* The last error, e.g. "add element inet knockguard blocked4: No such file or
 * directory"; "" if none yet. */
const char *nft_last_error(const struct nft *n);
const struct nft_config *nft_config(const struct nft *n);

#endif
