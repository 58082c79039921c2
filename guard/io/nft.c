#include "io/nft.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "io/nft_rules.h"

#define NFT_RECV_BUF (64 * 1024)
/* Only dumps wait on the socket (their later parts are made as they are
 * read); this bounds that wait should the kernel never finish. */
#define NFT_DUMP_TIMEOUT_MS 2000

struct nft {
	struct nft_config cfg;
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	enum nft_backend backend;
	bool probing; /* setup with queue_mode auto tries the native queue first */
	struct nft_stats stats;
	char last_error[NFT_ERR_MAX];
	char fallback_reason[NFT_ERR_MAX];
	struct nft_batch batch; /* reused by every call: nothing is allocated per call */
	struct nft_interval intervals[NETSET_MAX]; /* nft_never_block_sync() */
	char rbuf[NFT_RECV_BUF];
};

/* ---- config ---- */

void nft_config_defaults(struct nft_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->table, sizeof(cfg->table), "knockguard");
	cfg->manage = true;
	cfg->remove_at_exit = true;
	cfg->queue_num = 0;
	cfg->queue_bypass = true;
	cfg->queue_mode = NFT_QUEUE_AUTO;
	cfg->hook_forward = true;
	cfg->hook_input = true;
	cfg->flag_timeout = NFT_FLAG_TIMEOUT_DEFAULT;
	cfg->block_timeout = NFT_BLOCK_TIMEOUT_DEFAULT;
}

bool nft_queue_mode_parse(const char *s, enum nft_queue_mode *out)
{
	if (strcmp(s, "auto") == 0)
		*out = NFT_QUEUE_AUTO;
	else if (strcmp(s, "native") == 0)
		*out = NFT_QUEUE_NATIVE;
	else if (strcmp(s, "xt") == 0)
		*out = NFT_QUEUE_XT;
	else
		return false;
	return true;
}

const char *nft_queue_mode_name(enum nft_queue_mode m)
{
	switch (m) {
	case NFT_QUEUE_AUTO:
		return "auto";
	case NFT_QUEUE_NATIVE:
		return "native";
	case NFT_QUEUE_XT:
		return "xt";
	}
	return "unknown";
}

/* Words nft's parser takes as keywords where a table name goes (a subset of
 * nftables' scanner.l: families, statements, hooks, common selectors). A
 * table so named loads through netlink but breaks `nft list table inet X`. */
static const char *const nft_keywords[] = {
	"accept",      "add",	     "arp",	  "bridge",   "chain",	 "continue", "counter",
	"create",      "ct",	     "delete",	  "describe", "drop",	 "dup",	     "element",
	"export",      "filter",     "flowtable", "flush",    "forward", "fwd",	     "get",
	"goto",	       "hook",	     "icmp",	  "include",  "inet",	 "ingress",  "input",
	"insert",      "ip",	     "ip6",	  "jump",     "limit",	 "list",     "log",
	"map",	       "meta",	     "monitor",	  "nat",      "netdev",	 "output",   "policy",
	"postrouting", "prerouting", "priority",  "queue",    "quota",	 "redirect", "reject",
	"rename",      "replace",    "reset",	  "return",   "route",	 "rule",     "ruleset",
	"set",	       "table",	     "tcp",	  "type",     "udp",	 "vmap",
};

bool nft_name_valid(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len >= NFT_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
		bool digit = c >= '0' && c <= '9';
		if (!alpha && !(digit && i > 0))
			return false;
	}
	for (size_t i = 0; i < sizeof(nft_keywords) / sizeof(nft_keywords[0]); i++)
		if (strcmp(name, nft_keywords[i]) == 0)
			return false;
	return true;
}

bool nft_config_check(const struct nft_config *cfg, char *err, size_t errlen)
{
	if (!nft_name_valid(cfg->table)) {
		snprintf(
			err, errlen,
			"nft table name \"%s\": use letters, digits and _ (at most %d), not an nft "
			"keyword",
			cfg->table, NFT_NAME_MAX - 1);
		return false;
	}
	if (cfg->flag_timeout <= 0 || cfg->flag_timeout > NFT_TIMEOUT_MAX ||
	    cfg->block_timeout <= 0 || cfg->block_timeout > NFT_TIMEOUT_MAX) {
		snprintf(err, errlen, "nft set timeouts must be between 1 ms and 365 days");
		return false;
	}
	if (cfg->manage && !cfg->hook_forward && !cfg->hook_input) {
		snprintf(err, errlen, "nft: at least one of the forward and input hooks is needed");
		return false;
	}
	return true;
}

/* ---- socket ---- */

__attribute__((format(printf, 2, 3))) static void set_error(struct nft *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(n->last_error, sizeof(n->last_error), fmt, ap);
	va_end(ap);
}

struct nft *nft_open(const struct nft_config *cfg, char *err, size_t errlen)
{
	if (!nft_config_check(cfg, err, errlen))
		return NULL;
	struct nft *n = calloc(1, sizeof(*n));
	if (!n) {
		snprintf(err, errlen, "nft: out of memory");
		return NULL;
	}
	n->cfg = *cfg;
	n->backend = NFT_BACKEND_NONE;
	n->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!n->nl) {
		snprintf(err, errlen, "nft: netlink socket: %s", strerror(errno));
		free(n);
		return NULL;
	}
	if (mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "nft: netlink bind: %s", strerror(errno));
		mnl_socket_close(n->nl);
		free(n);
		return NULL;
	}
	/* Errors without the request echoed back, with the kernel's text. */
	int one = 1;
	mnl_socket_setsockopt(n->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(n->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	struct timeval tv = {.tv_sec = NFT_DUMP_TIMEOUT_MS / 1000,
			     .tv_usec = (NFT_DUMP_TIMEOUT_MS % 1000) * 1000};
	setsockopt(mnl_socket_get_fd(n->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n->portid = mnl_socket_get_portid(n->nl);
	n->seq = (uint32_t)time(NULL);
	return n;
}

void nft_close(struct nft *n)
{
	if (!n)
		return;
	mnl_socket_close(n->nl);
	free(n);
}

/* The kernel's text for an error reply: strerror, plus the extended ack
 * message when there is one. */
static void error_text(const struct nlmsghdr *nlh, int error, char *out, size_t outlen)
{
	const char *ext = NULL;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
		size_t off = sizeof(*e); /* NETLINK_CAP_ACK: no echoed request */
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(e->msg);
		size_t plen = mnl_nlmsg_get_payload_len(nlh);
		const struct nlattr *a = (const struct nlattr *)((const char *)e + off);
		int left = off < plen ? (int)(plen - off) : 0;
		for (; mnl_attr_ok(a, left); a = mnl_attr_next(a)) {
			left -= (int)MNL_ALIGN(a->nla_len);
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
			    mnl_attr_validate((struct nlattr *)a, MNL_TYPE_NUL_STRING) == 0)
				ext = mnl_attr_get_str(a);
		}
	}
	if (ext && *ext)
		snprintf(out, outlen, "%s (%s)", strerror(error), ext);
	else
		snprintf(out, outlen, "%s", strerror(error));
}

struct batch_result {
	unsigned acked;
	unsigned errors;
	/* The first error, and whether every error was one a fallback covers. */
	const struct nft_batch_msg *first_msg;
	char first_text[NFT_ERR_MAX];
	bool only_queue_refused; /* every error: ENOENT/EOPNOTSUPP on a native queue rule */
	bool only_missing_elem;	 /* every error: ENOENT on an element delete */
};

/* Sends the built batch and reads every reply. The kernel handles a batch
 * inside sendmsg, so its replies are already queued when it returns. */
static bool batch_talk(struct nft *n, struct batch_result *res)
{
	struct nft_batch *b = &n->batch;
	memset(res, 0, sizeof(*res));
	res->only_queue_refused = res->only_missing_elem = true;
	n->stats.batches++;
	if (!nft_batch_finish(b)) {
		n->stats.errors++;
		set_error(n, "nft: batch too large");
		return false;
	}
	if (mnl_socket_sendto(n->nl, b->buf, b->len) < 0) {
		n->stats.errors++;
		set_error(n, "nft: netlink send: %s", strerror(errno));
		return false;
	}
	int fd = mnl_socket_get_fd(n->nl);
	for (;;) {
		ssize_t len = recv(fd, n->rbuf, sizeof(n->rbuf), MSG_DONTWAIT);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			n->stats.errors++;
			set_error(n, "nft: netlink receive: %s", strerror(errno));
			return false;
		}
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)n->rbuf;
		int left = (int)len;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			/* The whole batch refused (e.g. EPERM without CAP_NET_ADMIN) is
			 * answered on BATCH_BEGIN's sequence number. */
			static const struct nft_batch_msg whole = {.what = "nft batch"};
			const struct nft_batch_msg *m = nlh->nlmsg_seq == b->seq_begin
								? &whole
								: nft_batch_find(b, nlh->nlmsg_seq);
			if (!m)
				continue; /* not ours (a late reply to an earlier call) */
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (e->error == 0) {
				res->acked++;
				continue;
			}
			int error = -e->error;
			res->errors++;
			if (!(m->role == NFT_ROLE_QUEUE_RULE &&
			      (error == ENOENT || error == EOPNOTSUPP)))
				res->only_queue_refused = false;
			if (!(m->role == NFT_ROLE_DEL_ELEM && error == ENOENT))
				res->only_missing_elem = false;
			if (!res->first_msg) {
				res->first_msg = m;
				error_text(nlh, error, res->first_text, sizeof(res->first_text));
			}
		}
	}
	if (res->errors) {
		/* An expected refusal (see the callers) is not counted as an error. */
		if (!res->only_missing_elem && !(res->only_queue_refused && n->probing))
			n->stats.errors++;
		set_error(n, "%s: %s", res->first_msg->what, res->first_text);
		return false;
	}
	if (res->acked != b->nmsgs) {
		n->stats.errors++;
		set_error(n, "nft: %u of %u messages acknowledged", res->acked, b->nmsgs);
		return false;
	}
	return true;
}

static struct nft_batch *batch_start(struct nft *n)
{
	nft_batch_init(&n->batch, n->seq);
	n->seq += NFT_BATCH_MSGS_MAX + 2;
	return &n->batch;
}

/* ---- setup ---- */

static bool setup_managed(struct nft *n)
{
	struct batch_result res;
	enum nft_backend backend =
		n->cfg.queue_mode == NFT_QUEUE_XT ? NFT_BACKEND_XT : NFT_BACKEND_NATIVE;
	nft_batch_setup(batch_start(n), &n->cfg, backend);
	n->probing = n->cfg.queue_mode == NFT_QUEUE_AUTO;
	bool ok = batch_talk(n, &res);
	n->probing = false;
	if (ok) {
		n->backend = backend;
		return true;
	}
	/* The refused batch changed nothing: try it again with the xt target. */
	if (n->cfg.queue_mode != NFT_QUEUE_AUTO || res.errors == 0 || !res.only_queue_refused)
		return false;
	char native_err[NFT_ERR_MAX];
	snprintf(native_err, sizeof(native_err), "%s", n->last_error);
	nft_batch_setup(batch_start(n), &n->cfg, NFT_BACKEND_XT);
	if (!batch_talk(n, &res)) {
		char xt_err[NFT_ERR_MAX];
		snprintf(xt_err, sizeof(xt_err), "%s", n->last_error);
		set_error(n, "native queue refused (%.100s); xt NFQUEUE target: %.120s", native_err,
			  xt_err);
		return false;
	}
	n->backend = NFT_BACKEND_XT;
	snprintf(n->fallback_reason, sizeof(n->fallback_reason), "%s", native_err);
	n->last_error[0] = '\0';
	return true;
}

/* Reads replies to one non-batch request until its ack, error or NLMSG_DONE.
 * cb (may be NULL) sees every data message. Returns 0, or the errno. */
static int request_talk(struct nft *n, const char *req, size_t len, uint32_t seq,
			int (*cb)(const struct nlmsghdr *nlh, void *data), void *data,
			char *errtext, size_t errlen)
{
	if (mnl_socket_sendto(n->nl, req, len) < 0) {
		snprintf(errtext, errlen, "netlink send: %s", strerror(errno));
		return errno ? errno : EIO;
	}
	for (;;) {
		ssize_t got = mnl_socket_recvfrom(n->nl, n->rbuf, sizeof(n->rbuf));
		if (got < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			snprintf(errtext, errlen, "netlink receive: %s", strerror(e));
			return e;
		}
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)n->rbuf;
		int left = (int)got;
		for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_seq != seq || nlh->nlmsg_pid != n->portid)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE) {
				/* A dump that failed part way says so here. */
				int derr = 0;
				if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int))
					memcpy(&derr, mnl_nlmsg_get_payload(nlh), sizeof(int));
				if (derr < 0) {
					snprintf(errtext, errlen, "%s", strerror(-derr));
					return -derr;
				}
				return 0;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
				if (e->error == 0)
					return 0;
				error_text(nlh, -e->error, errtext, errlen);
				return -e->error;
			}
			if (cb && cb(nlh, data) < 0) {
				snprintf(errtext, errlen, "cannot parse the kernel's reply");
				return EPROTO;
			}
		}
	}
}

static bool setup_external(struct nft *n)
{
	char req[NFT_REQ_MAX], why[NFT_ERR_MAX];
	for (int id = 0; id < NFT_SET_COUNT; id++) {
		uint32_t seq = n->seq++;
		size_t len = nft_req_get_set(req, n->cfg.table, (enum nft_set_id)id, seq);
		if (request_talk(n, req, len, seq, NULL, NULL, why, sizeof(why)) != 0) {
			n->stats.errors++;
			set_error(n,
				  "set inet %s %s: %s (manage = no: load nft/knockguard.nft first)",
				  n->cfg.table, nft_set_name((enum nft_set_id)id), why);
			return false;
		}
	}
	n->backend = NFT_BACKEND_EXTERNAL;
	return true;
}

bool nft_setup(struct nft *n, char *err, size_t errlen)
{
	bool ok = n->cfg.manage ? setup_managed(n) : setup_external(n);
	if (!ok)
		snprintf(err, errlen, "%s", n->last_error);
	return ok;
}

bool nft_teardown(struct nft *n)
{
	if (!n->cfg.manage || !n->cfg.remove_at_exit)
		return true;
	struct batch_result res;
	nft_batch_delete_table(batch_start(n), n->cfg.table);
	if (!batch_talk(n, &res))
		return false;
	n->backend = NFT_BACKEND_NONE;
	return true;
}

const char *nft_queue_fallback_reason(const struct nft *n)
{
	return n->backend == NFT_BACKEND_XT ? n->fallback_reason : "";
}

const char *nft_queue_backend(const struct nft *n)
{
	switch (n->backend) {
	case NFT_BACKEND_NATIVE:
		return "native";
	case NFT_BACKEND_XT:
		return "xt";
	case NFT_BACKEND_EXTERNAL:
		return "external";
	case NFT_BACKEND_NONE:
		break;
	}
	return "none";
}

/* ---- elements ---- */

static bool timeout_ok(struct nft *n, kg_time timeout)
{
	if (timeout > NFT_TIMEOUT_MAX) {
		n->stats.errors++;
		set_error(n, "nft: timeout of %lld s is longer than 365 days",
			  (long long)(timeout / KG_NSEC_PER_SEC));
		return false;
	}
	return true;
}

static bool elem_refresh(struct nft *n, enum nft_set_id v4set, enum nft_set_id v6set,
			 const struct kg_addr *addr, kg_time timeout, kg_time dflt)
{
	if (!timeout_ok(n, timeout))
		return false;
	struct batch_result res;
	enum nft_set_id set = addr_is_v4(addr) ? v4set : v6set;
	nft_batch_elem_refresh(batch_start(n), n->cfg.table, set, addr,
			       nft_timeout_ms(timeout > 0 ? timeout : dflt));
	return batch_talk(n, &res);
}

bool nft_flag(struct nft *n, const struct kg_addr *addr, kg_time timeout)
{
	bool ok = elem_refresh(n, NFT_SET_FLAGGED4, NFT_SET_FLAGGED6, addr, timeout,
			       n->cfg.flag_timeout);
	n->stats.flags += ok;
	return ok;
}

bool nft_block(struct nft *n, const struct kg_addr *addr, kg_time timeout)
{
	bool ok = elem_refresh(n, NFT_SET_BLOCKED4, NFT_SET_BLOCKED6, addr, timeout,
			       n->cfg.block_timeout);
	n->stats.blocks += ok;
	return ok;
}

int nft_unblock(struct nft *n, const struct kg_addr *addr)
{
	struct batch_result res;
	enum nft_set_id set = addr_is_v4(addr) ? NFT_SET_BLOCKED4 : NFT_SET_BLOCKED6;
	nft_batch_elem_delete(batch_start(n), n->cfg.table, set, addr);
	if (batch_talk(n, &res)) {
		n->stats.unblocks++;
		return 1;
	}
	if (!res.errors || !res.only_missing_elem)
		return -1;
	/* ENOENT: no such element, or no such set or table. Ask for the set. */
	char req[NFT_REQ_MAX], why[NFT_ERR_MAX];
	uint32_t seq = n->seq++;
	size_t len = nft_req_get_set(req, n->cfg.table, set, seq);
	if (request_talk(n, req, len, seq, NULL, NULL, why, sizeof(why)) != 0) {
		n->stats.errors++;
		set_error(n, "set inet %s %s: %s", n->cfg.table, nft_set_name(set), why);
		return -1;
	}
	n->last_error[0] = '\0';
	return 0; /* it had expired, or was never there */
}

static bool parse_cidr(const char *cidr, struct kg_addr *net, unsigned *prefix)
{
	char buf[KG_ADDR_STRLEN + 8];
	if (strlen(cidr) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", cidr);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (!addr_parse(buf, net))
		return false;
	unsigned max = addr_is_v4(net) ? 32 : 128, plen = max;
	if (slash) {
		char *end;
		unsigned long v = strtoul(slash + 1, &end, 10);
		if (end == slash + 1 || *end || v > max)
			return false;
		plen = (unsigned)v;
	}
	*prefix = addr_is_v4(net) ? plen + 96 : plen;
	return true;
}

bool nft_never_block_add(struct nft *n, const char *cidr)
{
	struct kg_addr net;
	unsigned prefix;
	struct nft_interval iv;
	if (!parse_cidr(cidr, &net, &prefix) || !nft_interval_from_prefix(&net, prefix, &iv)) {
		n->stats.errors++;
		set_error(n, "nft: never-block \"%s\": not an address or CIDR", cidr);
		return false;
	}
	struct batch_result res;
	enum nft_set_id set = iv.keylen == 4 ? NFT_SET_NEVERBLOCK4 : NFT_SET_NEVERBLOCK6;
	nft_batch_intervals_add(batch_start(n), n->cfg.table, set, &iv, 1);
	return batch_talk(n, &res);
}

bool nft_never_block_sync(struct nft *n, const struct netset *s)
{
	struct nft_interval *iv = n->intervals;
	struct batch_result res;
	struct nft_batch *b = batch_start(n);
	for (int family = 4; family <= 6; family += 2) {
		enum nft_set_id set = family == 4 ? NFT_SET_NEVERBLOCK4 : NFT_SET_NEVERBLOCK6;
		size_t count = nft_never_block_intervals(s, family, iv, NETSET_MAX);
		nft_batch_set_flush(b, n->cfg.table, set);
		if (count)
			nft_batch_intervals_add(b, n->cfg.table, set, iv, count);
	}
	return batch_talk(n, &res);
}

/* ---- listing ---- */

struct list_ctx {
	void (*cb)(void *ctx, const struct nft_element *e);
	void *ctx;
	long count;
};

static int list_elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct list_ctx *lc = data;
	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWSETELEM)
		return 0;
	struct nftnl_set *s = nftnl_set_alloc();
	if (!s)
		return -1;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return -1;
	}
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	/* _next() returns the current element, then moves on. */
	struct nftnl_set_elem *e;
	while (it && (e = nftnl_set_elems_iter_next(it)) != NULL) {
		uint32_t klen = 0;
		const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
		struct nft_element el = {0};
		if (key && klen == 4)
			addr_from_v4(&el.addr, key);
		else if (key && klen == 16)
			addr_from_v6(&el.addr, key);
		else
			continue;
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
			el.timeout = KG_MSEC(nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT));
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
			el.expires = KG_MSEC(nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION));
		lc->count++;
		if (lc->cb)
			lc->cb(lc->ctx, &el);
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	return 0;
}

long nft_list(struct nft *n, enum nft_set_kind kind,
	      void (*cb)(void *ctx, const struct nft_element *e), void *ctx)
{
	enum nft_set_id sets[2] = {NFT_SET_BLOCKED4, NFT_SET_BLOCKED6};
	if (kind == NFT_SET_FLAGGED) {
		sets[0] = NFT_SET_FLAGGED4;
		sets[1] = NFT_SET_FLAGGED6;
	}
	struct list_ctx lc = {.cb = cb, .ctx = ctx};
	char req[NFT_REQ_MAX], why[NFT_ERR_MAX];
	for (int i = 0; i < 2; i++) {
		uint32_t seq = n->seq++;
		size_t len = nft_req_dump_elems(req, n->cfg.table, sets[i], seq);
		if (request_talk(n, req, len, seq, list_elems_cb, &lc, why, sizeof(why)) != 0) {
			n->stats.errors++;
			set_error(n, "list set inet %s %s: %s", n->cfg.table, nft_set_name(sets[i]),
				  why);
			return -1;
		}
	}
	return lc.count;
}

long nft_list_blocked(struct nft *n, void (*cb)(void *ctx, const struct nft_element *e), void *ctx)
{
	return nft_list(n, NFT_SET_BLOCKED, cb, ctx);
}

const struct nft_stats *nft_stats(const struct nft *n)
{
	return &n->stats;
}

const char *nft_last_error(const struct nft *n)
{
	return n->last_error;
}

const struct nft_config *nft_config(const struct nft *n)
{
	return &n->cfg;
}
