#include "io/nft_rules.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/xt_NFQUEUE.h>

/* nft's data types for set keys (nftables src/datatype.h). */
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_IP6ADDR 8

static const struct {
	const char *name;
	int family;
	uint32_t flags;
} set_defs[NFT_SET_COUNT] = {
	[NFT_SET_BLOCKED4] = {"blocked4", 4, NFT_SET_TIMEOUT},
	[NFT_SET_BLOCKED6] = {"blocked6", 6, NFT_SET_TIMEOUT},
	[NFT_SET_FLAGGED4] = {"flagged4", 4, NFT_SET_TIMEOUT},
	[NFT_SET_FLAGGED6] = {"flagged6", 6, NFT_SET_TIMEOUT},
	[NFT_SET_NEVERBLOCK4] = {"neverblock4", 4, NFT_SET_INTERVAL},
	[NFT_SET_NEVERBLOCK6] = {"neverblock6", 6, NFT_SET_INTERVAL},
};

const char *nft_set_name(enum nft_set_id id)
{
	return id < NFT_SET_COUNT ? set_defs[id].name : "?";
}

int nft_set_family(enum nft_set_id id)
{
	return id < NFT_SET_COUNT ? set_defs[id].family : 0;
}

/* ---- the batch ---- */

void nft_batch_init(struct nft_batch *b, uint32_t seq)
{
	b->len = 0;
	b->nmsgs = 0;
	b->overflow = false;
	b->seq_begin = seq;
	nftnl_batch_begin(b->buf, seq);
	b->len = MNL_ALIGN(((struct nlmsghdr *)b->buf)->nlmsg_len);
	b->next_seq = seq + 1;
}

bool nft_batch_finish(struct nft_batch *b)
{
	if (b->overflow || b->len + MNL_NLMSG_HDRLEN + 64 > sizeof(b->buf)) {
		b->overflow = true;
		return false;
	}
	struct nlmsghdr *nlh = nftnl_batch_end(b->buf + b->len, b->next_seq++);
	b->len += MNL_ALIGN(nlh->nlmsg_len);
	return true;
}

const struct nft_batch_msg *nft_batch_find(const struct nft_batch *b, uint32_t seq)
{
	for (unsigned i = 0; i < b->nmsgs; i++)
		if (b->msg[i].seq == seq)
			return &b->msg[i];
	return NULL;
}

/* Starts one message, or NULL (and overflow) when it might not fit. */
__attribute__((format(printf, 5, 6))) static struct nlmsghdr *
batch_msg(struct nft_batch *b, uint16_t type, uint16_t flags, enum nft_msg_role role,
	  const char *fmt, ...)
{
	if (b->overflow || b->nmsgs >= NFT_BATCH_MSGS_MAX ||
	    b->len + NFT_MSG_ROOM > sizeof(b->buf)) {
		b->overflow = true;
		return NULL;
	}
	struct nft_batch_msg *m = &b->msg[b->nmsgs++];
	m->seq = b->next_seq++;
	m->role = role;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m->what, sizeof(m->what), fmt, ap);
	va_end(ap);
	return nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_INET, flags | NLM_F_ACK,
				     m->seq);
}

static void batch_msg_end(struct nft_batch *b, const struct nlmsghdr *nlh)
{
	b->len += MNL_ALIGN(nlh->nlmsg_len);
}

/* ---- expressions ---- */

static void add_expr(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (e)
		nftnl_rule_add_expr(r, e);
}

static struct nftnl_expr *expr_meta(uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");
	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	return e;
}

static struct nftnl_expr *expr_cmp_eq(const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");
	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return e;
}

static struct nftnl_expr *expr_payload_network(uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");
	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	return e;
}

static struct nftnl_expr *expr_lookup(const char *set)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");
	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	return e;
}

static struct nftnl_expr *expr_verdict(int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	if (!e)
		return NULL;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	return e;
}

static struct nftnl_expr *expr_queue_native(uint16_t num, bool bypass)
{
	struct nftnl_expr *e = nftnl_expr_alloc("queue");
	if (!e)
		return NULL;
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_NUM, num);
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_TOTAL, 1);
	nftnl_expr_set_u16(e, NFTNL_EXPR_QUEUE_FLAGS, bypass ? NFT_QUEUE_FLAG_BYPASS : 0);
	return e;
}

/* `-j NFQUEUE --queue-num N [--queue-bypass]` through nft_compat. */
static struct nftnl_expr *expr_queue_xt(uint16_t num, bool bypass)
{
	struct xt_NFQ_info_v3 v3 = {
		.queuenum = num,
		.queues_total = 1,
		.flags = bypass ? NFQ_FLAG_BYPASS : 0,
	};
	_Static_assert(sizeof(v3) <= NFT_XT_NFQUEUE_INFO_LEN, "xt_NFQ_info_v3 grew");
	/* libnftnl takes ownership of the info buffer. */
	uint8_t *info = calloc(1, NFT_XT_NFQUEUE_INFO_LEN);
	struct nftnl_expr *e = nftnl_expr_alloc("target");
	if (!info || !e) {
		free(info);
		if (e)
			nftnl_expr_free(e);
		return NULL;
	}
	memcpy(info, &v3, sizeof(v3));
	nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, NFT_XT_NFQUEUE_NAME);
	nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, NFT_XT_NFQUEUE_REV);
	nftnl_expr_set(e, NFTNL_EXPR_TG_INFO, info, NFT_XT_NFQUEUE_INFO_LEN);
	return e;
}

/* ---- table, sets, chains, rules ---- */

static void msg_table(struct nft_batch *b, uint16_t type, uint16_t flags, const char *table,
		      const char *verb)
{
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t) {
		b->overflow = true;
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	struct nlmsghdr *nlh =
		batch_msg(b, type, flags, NFT_ROLE_OTHER, "%s table inet %s", verb, table);
	if (nlh) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		batch_msg_end(b, nlh);
	}
	nftnl_table_free(t);
}

static void msg_set(struct nft_batch *b, const struct nft_config *cfg, enum nft_set_id id)
{
	struct nftnl_set *s = nftnl_set_alloc();
	if (!s) {
		b->overflow = true;
		return;
	}
	bool v4 = set_defs[id].family == 4;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, cfg->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set_defs[id].name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, set_defs[id].flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, v4 ? NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, v4 ? 4 : 16);
	nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)id + 1); /* the kernel requires one */
	if (id == NFT_SET_BLOCKED4 || id == NFT_SET_BLOCKED6)
		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, nft_timeout_ms(cfg->block_timeout));
	else if (id == NFT_SET_FLAGGED4 || id == NFT_SET_FLAGGED6)
		nftnl_set_set_u64(s, NFTNL_SET_TIMEOUT, nft_timeout_ms(cfg->flag_timeout));
	struct nlmsghdr *nlh = batch_msg(b, NFT_MSG_NEWSET, NLM_F_CREATE, NFT_ROLE_OTHER,
					 "add set inet %s %s", cfg->table, set_defs[id].name);
	if (nlh) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		batch_msg_end(b, nlh);
	}
	nftnl_set_free(s);
}

static void msg_chain(struct nft_batch *b, uint16_t type, const char *table, const char *chain,
		      uint32_t hook, int32_t prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	if (!c) {
		b->overflow = true;
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (type == NFT_MSG_NEWCHAIN) {
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	struct nlmsghdr *nlh = batch_msg(b, type, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0,
					 NFT_ROLE_OTHER, "%s chain inet %s %s",
					 type == NFT_MSG_NEWCHAIN ? "add" : "delete", table, chain);
	if (nlh) {
		nftnl_chain_nlmsg_build_payload(nlh, c);
		batch_msg_end(b, nlh);
	}
	nftnl_chain_free(c);
}

static struct nftnl_rule *rule_new(const char *table, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	if (!r)
		return NULL;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

/* Deleting with no handle removes every rule of the chain. */
static void msg_flush_chain(struct nft_batch *b, const char *table, const char *chain)
{
	struct nftnl_rule *r = rule_new(table, chain);
	if (!r) {
		b->overflow = true;
		return;
	}
	struct nlmsghdr *nlh = batch_msg(b, NFT_MSG_DELRULE, 0, NFT_ROLE_OTHER,
					 "flush chain inet %s %s", table, chain);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		batch_msg_end(b, nlh);
	}
	nftnl_rule_free(r);
}

/* Sends the rule and frees it. */
static void msg_rule(struct nft_batch *b, struct nftnl_rule *r, enum nft_msg_role role,
		     const char *table, const char *chain, const char *text)
{
	if (!r) {
		b->overflow = true;
		return;
	}
	struct nlmsghdr *nlh = batch_msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, role,
					 "add rule inet %s %s %s", table, chain, text);
	if (nlh) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		batch_msg_end(b, nlh);
	}
	nftnl_rule_free(r);
}

enum src_action { SRC_ACCEPT, SRC_COUNT_DROP, SRC_COUNT };

/* `ip saddr @set accept`, `ip6 saddr @set counter drop`, `ip saddr @set counter`. */
static void rule_saddr_in_set(struct nft_batch *b, const char *table, const char *chain,
			      enum nft_set_id set, enum src_action act)
{
	struct nftnl_rule *r = rule_new(table, chain);
	if (r) {
		bool v4 = set_defs[set].family == 4;
		uint8_t proto = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
		add_expr(r, expr_meta(NFT_META_NFPROTO));
		add_expr(r, expr_cmp_eq(&proto, sizeof(proto)));
		/* IPv4 source at offset 12, IPv6 source at offset 8. */
		add_expr(r, expr_payload_network(v4 ? 12 : 8, v4 ? 4 : 16));
		add_expr(r, expr_lookup(set_defs[set].name));
		if (act != SRC_ACCEPT)
			add_expr(r, nftnl_expr_alloc("counter"));
		if (act == SRC_ACCEPT)
			add_expr(r, expr_verdict(NF_ACCEPT));
		else if (act == SRC_COUNT_DROP)
			add_expr(r, expr_verdict(NF_DROP));
	}
	char text[64];
	snprintf(text, sizeof(text), "%s saddr @%s%s", set_defs[set].family == 4 ? "ip" : "ip6",
		 set_defs[set].name,
		 act == SRC_ACCEPT	 ? " accept"
		 : act == SRC_COUNT_DROP ? " counter drop"
					 : " counter");
	msg_rule(b, r, NFT_ROLE_OTHER, table, chain, text);
}

static void rules_block_chain(struct nft_batch *b, const char *table, const char *chain)
{
	/* Never-block first: those sources are never dropped here. */
	rule_saddr_in_set(b, table, chain, NFT_SET_NEVERBLOCK4, SRC_ACCEPT);
	rule_saddr_in_set(b, table, chain, NFT_SET_NEVERBLOCK6, SRC_ACCEPT);
	rule_saddr_in_set(b, table, chain, NFT_SET_BLOCKED4, SRC_COUNT_DROP);
	rule_saddr_in_set(b, table, chain, NFT_SET_BLOCKED6, SRC_COUNT_DROP);
	/* Monitor mode's offenders: counted, so an operator sees them in nft. */
	rule_saddr_in_set(b, table, chain, NFT_SET_FLAGGED4, SRC_COUNT);
	rule_saddr_in_set(b, table, chain, NFT_SET_FLAGGED6, SRC_COUNT);
}

static void rules_queue_chain(struct nft_batch *b, const struct nft_config *cfg, const char *chain,
			      bool input, enum nft_backend backend)
{
	if (input) {
		/* The gateway talking to itself (a local collector, the resolver) is
		 * not inspected. lo is always ifindex 1. */
		struct nftnl_rule *r = rule_new(cfg->table, chain);
		if (r) {
			uint32_t lo = 1;
			add_expr(r, expr_meta(NFT_META_IIF));
			add_expr(r, expr_cmp_eq(&lo, sizeof(lo)));
			add_expr(r, expr_verdict(NF_ACCEPT));
		}
		msg_rule(b, r, NFT_ROLE_OTHER, cfg->table, chain, "iif lo accept");
	}
	struct nftnl_rule *r = rule_new(cfg->table, chain);
	if (r) {
		add_expr(r, nftnl_expr_alloc("counter"));
		add_expr(r, backend == NFT_BACKEND_XT
				    ? expr_queue_xt(cfg->queue_num, cfg->queue_bypass)
				    : expr_queue_native(cfg->queue_num, cfg->queue_bypass));
	}
	char text[64];
	snprintf(text, sizeof(text), "counter %squeue num %u%s",
		 backend == NFT_BACKEND_XT ? "xt " : "", (unsigned)cfg->queue_num,
		 cfg->queue_bypass ? " bypass" : "");
	msg_rule(b, r, backend == NFT_BACKEND_NATIVE ? NFT_ROLE_QUEUE_RULE : NFT_ROLE_OTHER,
		 cfg->table, chain, text);
}

static void chains_for_hook(struct nft_batch *b, const struct nft_config *cfg, bool enabled,
			    bool input, enum nft_backend backend)
{
	uint32_t hook = input ? NF_INET_LOCAL_IN : NF_INET_FORWARD;
	const char *block = input ? NFT_CHAIN_BLOCK_INPUT : NFT_CHAIN_BLOCK_FORWARD;
	const char *queue = input ? NFT_CHAIN_QUEUE_INPUT : NFT_CHAIN_QUEUE_FORWARD;

	/* Add (or keep) the chains, then replace their rules: on a restart the
	 * table is reused and nothing is duplicated. */
	msg_chain(b, NFT_MSG_NEWCHAIN, cfg->table, block, hook, NFT_PRIO_BLOCK);
	msg_chain(b, NFT_MSG_NEWCHAIN, cfg->table, queue, hook, NFT_PRIO_QUEUE);
	msg_flush_chain(b, cfg->table, block);
	msg_flush_chain(b, cfg->table, queue);
	if (!enabled) {
		/* A hook turned off since the last run: its chains go. */
		msg_chain(b, NFT_MSG_DELCHAIN, cfg->table, block, hook, 0);
		msg_chain(b, NFT_MSG_DELCHAIN, cfg->table, queue, hook, 0);
		return;
	}
	rules_block_chain(b, cfg->table, block);
	rules_queue_chain(b, cfg, queue, input, backend);
}

void nft_batch_setup(struct nft_batch *b, const struct nft_config *cfg, enum nft_backend backend)
{
	msg_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, cfg->table, "add");
	for (int id = 0; id < NFT_SET_COUNT; id++)
		msg_set(b, cfg, (enum nft_set_id)id);
	chains_for_hook(b, cfg, cfg->hook_forward, false, backend);
	chains_for_hook(b, cfg, cfg->hook_input, true, backend);
}

void nft_batch_delete_table(struct nft_batch *b, const char *table)
{
	msg_table(b, NFT_MSG_DELTABLE, 0, table, "delete");
}

/* ---- elements ---- */

size_t nft_addr_key(const struct kg_addr *a, uint8_t key[16])
{
	if (addr_is_v4(a)) {
		memcpy(key, a->b + 12, 4);
		return 4;
	}
	memcpy(key, a->b, 16);
	return 16;
}

uint64_t nft_timeout_ms(kg_time t)
{
	if (t <= 0)
		return 1;
	uint64_t ms = ((uint64_t)t + 999999u) / 1000000u;
	return ms ? ms : 1;
}

/* An element list message for one set; elements are added by the caller. */
static struct nftnl_set *elem_set(const char *table, enum nft_set_id set)
{
	struct nftnl_set *s = nftnl_set_alloc();
	if (!s)
		return NULL;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set_defs[set].name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	return s;
}

static void msg_elems(struct nft_batch *b, uint16_t type, enum nft_msg_role role,
		      struct nftnl_set *s, const char *table, enum nft_set_id set)
{
	if (!s) {
		b->overflow = true;
		return;
	}
	struct nlmsghdr *nlh =
		batch_msg(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, role,
			  "%s element inet %s %s", type == NFT_MSG_NEWSETELEM ? "add" : "delete",
			  table, set_defs[set].name);
	if (nlh) {
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		batch_msg_end(b, nlh);
	}
	nftnl_set_free(s);
}

/* One element with an optional timeout (0: none) in a fresh element list. */
static struct nftnl_set *elem_one(const char *table, enum nft_set_id set, const struct kg_addr *a,
				  uint64_t timeout_ms)
{
	struct nftnl_set *s = elem_set(table, set);
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	if (!s || !e) {
		if (s)
			nftnl_set_free(s);
		if (e)
			nftnl_set_elem_free(e);
		return NULL;
	}
	uint8_t key[16];
	size_t klen = nft_addr_key(a, key);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)klen);
	if (timeout_ms)
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
	nftnl_set_elem_add(s, e);
	return s;
}

void nft_batch_elem_refresh(struct nft_batch *b, const char *table, enum nft_set_id set,
			    const struct kg_addr *a, uint64_t timeout_ms)
{
	msg_elems(b, NFT_MSG_NEWSETELEM, NFT_ROLE_OTHER, elem_one(table, set, a, timeout_ms), table,
		  set);
	msg_elems(b, NFT_MSG_DELSETELEM, NFT_ROLE_OTHER, elem_one(table, set, a, 0), table, set);
	msg_elems(b, NFT_MSG_NEWSETELEM, NFT_ROLE_OTHER, elem_one(table, set, a, timeout_ms), table,
		  set);
}

void nft_batch_elem_delete(struct nft_batch *b, const char *table, enum nft_set_id set,
			   const struct kg_addr *a)
{
	msg_elems(b, NFT_MSG_DELSETELEM, NFT_ROLE_DEL_ELEM, elem_one(table, set, a, 0), table, set);
}

void nft_batch_set_flush(struct nft_batch *b, const char *table, enum nft_set_id set)
{
	/* A delete naming the set but no elements flushes it. Built by hand: an
	 * empty ELEMENTS nest would delete nothing. */
	struct nlmsghdr *nlh = batch_msg(b, NFT_MSG_DELSETELEM, 0, NFT_ROLE_OTHER,
					 "flush set inet %s %s", table, set_defs[set].name);
	if (nlh) {
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set_defs[set].name);
		batch_msg_end(b, nlh);
	}
}

/* ---- intervals ---- */

bool nft_interval_from_prefix(const struct kg_addr *net, unsigned prefix, struct nft_interval *out)
{
	if (prefix > 128)
		return false;
	memset(out, 0, sizeof(*out));
	unsigned plen;
	if (addr_is_v4(net) && prefix >= 96) {
		out->keylen = 4;
		plen = prefix - 96;
		memcpy(out->start, net->b + 12, 4);
	} else {
		out->keylen = 16;
		plen = prefix;
		memcpy(out->start, net->b, 16);
	}
	/* Mask the start, end = start with every host bit set, plus one. */
	for (size_t i = 0; i < out->keylen; i++) {
		unsigned bit0 = (unsigned)i * 8;
		uint8_t mask = plen >= bit0 + 8 ? 0xff
			       : plen <= bit0	? 0x00
						: (uint8_t)(0xff << (8 - (plen - bit0)));
		out->start[i] &= mask;
		out->end[i] = out->start[i] | (uint8_t)~mask;
	}
	bool carry = true;
	for (size_t i = out->keylen; i-- > 0 && carry;) {
		out->end[i]++;
		carry = out->end[i] == 0;
	}
	out->open = carry; /* wrapped: the prefix runs to the last address */
	return true;
}

void nft_batch_intervals_add(struct nft_batch *b, const char *table, enum nft_set_id set,
			     const struct nft_interval *iv, size_t n)
{
	struct nftnl_set *s = elem_set(table, set);
	for (size_t i = 0; s && i < n; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		if (!e)
			break;
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, iv[i].start, (uint32_t)iv[i].keylen);
		if (iv[i].open) {
			/* As nft marks it, so `nft list` prints the prefix, not a range. */
			uint8_t ud[8];
			struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(sizeof(ud));
			if (u) {
				nftnl_udata_put_u32(u, NFTNL_UDATA_SET_ELEM_FLAGS,
						    NFTNL_SET_ELEM_F_INTERVAL_OPEN);
				nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA,
						   nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
				nftnl_udata_buf_free(u);
			}
		}
		nftnl_set_elem_add(s, e);
		if (iv[i].open)
			continue;
		e = nftnl_set_elem_alloc();
		if (!e)
			break;
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, iv[i].end, (uint32_t)iv[i].keylen);
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
		nftnl_set_elem_add(s, e);
	}
	msg_elems(b, NFT_MSG_NEWSETELEM, NFT_ROLE_OTHER, s, table, set);
}

struct prefix_key {
	uint8_t key[16];
	size_t keylen;
	unsigned plen;
};

static int prefix_key_cmp(const void *pa, const void *pb)
{
	const struct prefix_key *a = pa, *b = pb;
	int c = memcmp(a->key, b->key, a->keylen);
	if (c)
		return c;
	return (a->plen > b->plen) - (a->plen < b->plen);
}

static bool prefix_covers(const struct prefix_key *outer, const struct prefix_key *inner)
{
	if (outer->plen > inner->plen)
		return false;
	unsigned full = outer->plen / 8, rest = outer->plen % 8;
	if (memcmp(outer->key, inner->key, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (outer->key[full] & mask) == (inner->key[full] & mask);
}

size_t nft_never_block_intervals(const struct netset *s, int family, struct nft_interval *out,
				 size_t max)
{
	static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	struct prefix_key keys[NETSET_MAX];
	size_t n = 0;

	for (size_t i = 0; i < s->n && i < NETSET_MAX; i++) {
		const struct netset_entry *e = &s->e[i];
		struct nft_interval iv;
		if (!nft_interval_from_prefix(&e->net, e->prefix, &iv))
			continue;
		struct prefix_key k = {.keylen = iv.keylen};
		memcpy(k.key, iv.start, iv.keylen);
		k.plen = iv.keylen == 4 ? e->prefix - 96 : e->prefix;
		if (family == 4 && iv.keylen == 16) {
			/* An IPv6 prefix that holds ::ffff:0:0/96 holds all of IPv4. */
			struct prefix_key outer = k, mapped = {.keylen = 16, .plen = 96};
			memcpy(mapped.key, v4mapped, sizeof(v4mapped));
			if (!prefix_covers(&outer, &mapped))
				continue;
			memset(&k, 0, sizeof(k));
			k.keylen = 4;
		} else if ((family == 4) != (iv.keylen == 4)) {
			continue;
		}
		keys[n++] = k;
	}
	if (n > 1)
		qsort(keys, n, sizeof(keys[0]), prefix_key_cmp);

	/* Sorted by start, shorter first: a prefix inside another follows it. */
	size_t w = 0;
	const struct prefix_key *last = NULL;
	for (size_t i = 0; i < n && w < max; i++) {
		if (last && prefix_covers(last, &keys[i]))
			continue;
		last = &keys[i];
		struct kg_addr net;
		unsigned prefix;
		if (keys[i].keylen == 4) {
			memcpy(net.b, v4mapped, sizeof(v4mapped));
			memcpy(net.b + 12, keys[i].key, 4);
			prefix = keys[i].plen + 96;
		} else {
			memcpy(net.b, keys[i].key, 16);
			prefix = keys[i].plen;
		}
		nft_interval_from_prefix(&net, prefix, &out[w++]);
	}
	return w;
}

/* ---- requests outside a batch ---- */

size_t nft_req_dump_elems(char *buf, const char *table, enum nft_set_id set, uint32_t seq)
{
	struct nlmsghdr *nlh =
		nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP, seq);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set_defs[set].name);
	return nlh->nlmsg_len;
}

size_t nft_req_get_set(char *buf, const char *table, enum nft_set_id set, uint32_t seq)
{
	struct nlmsghdr *nlh =
		nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET, NLM_F_ACK, seq);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, table);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, set_defs[set].name);
	return nlh->nlmsg_len;
}
