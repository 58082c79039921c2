/* nft adapter: what it would send, read back with libnftnl (no root needed):
 * the refresh batch (add + delete + add), element and set encoding, the setup
 * batch (sets, chains, rule order, the native and xt queue encodings), CIDR
 * intervals, the never-block merge, name and config checks, and the kernel's
 * error text for a table that does not exist. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <endian.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>

#include "io/nft.h"
#include "io/nft_rules.h"

#define MAX_MSGS 80

struct parsed {
	size_t n;
	const struct nlmsghdr *m[MAX_MSGS];
};

/* Splits a finished batch into its netlink messages. */
static void split(const struct nft_batch *b, struct parsed *p)
{
	p->n = 0;
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)b->buf;
	int left = (int)b->len;
	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		assert_true(p->n < MAX_MSGS);
		p->m[p->n++] = nlh;
	}
	assert_int_equal(left, 0);
}

static uint16_t nft_type(const struct nlmsghdr *nlh)
{
	assert_int_equal(nlh->nlmsg_type >> 8, NFNL_SUBSYS_NFTABLES);
	return nlh->nlmsg_type & 0xff;
}

static struct kg_addr addr(const char *s)
{
	struct kg_addr a;
	if (!addr_parse(s, &a))
		fail_msg("bad test address %s", s);
	return a;
}

/* The one element of a NEWSETELEM/DELSETELEM message. */
struct elem_view {
	char table[64], set[64];
	uint8_t key[16];
	uint32_t keylen;
	bool has_timeout;
	uint64_t timeout;
	uint32_t flags;
	size_t count;
};

/* Parsed by hand from the wire format (libnftnl's own parser insists on
 * list-element types the kernel ignores). */
static void parse_elem(const struct nlattr *nest, struct elem_view *v)
{
	const struct nlattr *a;
	mnl_attr_for_each_nested(a, nest)
	{
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_KEY: {
			const struct nlattr *d;
			mnl_attr_for_each_nested(d, a)
			{
				if (mnl_attr_get_type(d) != NFTA_DATA_VALUE)
					continue;
				v->keylen = mnl_attr_get_payload_len(d);
				assert_true(v->keylen <= 16);
				memcpy(v->key, mnl_attr_get_payload(d), v->keylen);
			}
			break;
		}
		case NFTA_SET_ELEM_TIMEOUT:
			v->has_timeout = true;
			v->timeout = be64toh(mnl_attr_get_u64(a));
			break;
		case NFTA_SET_ELEM_FLAGS:
			v->flags = ntohl(mnl_attr_get_u32(a));
			break;
		}
	}
}

static void parse_elems(const struct nlmsghdr *nlh, struct elem_view *v, size_t idx)
{
	memset(v, 0, sizeof(*v));
	const struct nlattr *a;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
	{
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_LIST_TABLE:
			snprintf(v->table, sizeof(v->table), "%s", mnl_attr_get_str(a));
			break;
		case NFTA_SET_ELEM_LIST_SET:
			snprintf(v->set, sizeof(v->set), "%s", mnl_attr_get_str(a));
			break;
		case NFTA_SET_ELEM_LIST_ELEMENTS: {
			const struct nlattr *e;
			mnl_attr_for_each_nested(e, a)
			{
				if (v->count++ == idx)
					parse_elem(e, v);
			}
			break;
		}
		}
	}
}

static struct nft_batch *new_batch(uint32_t seq)
{
	struct nft_batch *b = malloc(sizeof(*b));
	assert_non_null(b);
	nft_batch_init(b, seq);
	return b;
}

static void test_refresh_is_add_delete_add(void **state)
{
	(void)state;
	struct nft_batch *b = new_batch(1000);
	struct kg_addr a = addr("10.220.1.2");
	nft_batch_elem_refresh(b, "knockguard", NFT_SET_BLOCKED4, &a, 30000);
	assert_true(nft_batch_finish(b));

	struct parsed p;
	split(b, &p);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.m[0]->nlmsg_type, NFNL_MSG_BATCH_BEGIN);
	assert_int_equal(p.m[4]->nlmsg_type, NFNL_MSG_BATCH_END);
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(p.m[0]);
	assert_int_equal(ntohs(g->res_id), NFNL_SUBSYS_NFTABLES);

	const uint16_t want[3] = {NFT_MSG_NEWSETELEM, NFT_MSG_DELSETELEM, NFT_MSG_NEWSETELEM};
	for (int i = 0; i < 3; i++) {
		const struct nlmsghdr *m = p.m[1 + i];
		assert_int_equal(nft_type(m), want[i]);
		assert_int_equal(m->nlmsg_seq, 1001 + i);
		assert_true(m->nlmsg_flags & NLM_F_ACK);
		/* Never NLM_F_EXCL: the first add must be a no-op when present. */
		assert_false(m->nlmsg_flags & NLM_F_EXCL);
		const struct nfgenmsg *mg = mnl_nlmsg_get_payload(m);
		assert_int_equal(mg->nfgen_family, NFPROTO_INET);

		struct elem_view v;
		parse_elems(m, &v, 0);
		assert_string_equal(v.table, "knockguard");
		assert_string_equal(v.set, "blocked4");
		assert_int_equal(v.count, 1);
		assert_int_equal(v.keylen, 4);
		const uint8_t key[4] = {10, 220, 1, 2};
		assert_memory_equal(v.key, key, 4);
		if (want[i] == NFT_MSG_NEWSETELEM) {
			assert_true(v.has_timeout);
			assert_int_equal(v.timeout, 30000);
		} else {
			assert_false(v.has_timeout);
		}
	}
	assert_string_equal(nft_batch_find(b, 1001)->what, "add element inet knockguard blocked4");
	assert_string_equal(nft_batch_find(b, 1002)->what,
			    "delete element inet knockguard blocked4");
	assert_null(nft_batch_find(b, 1004));
	free(b);
}

static void test_v6_element_goes_to_v6_set(void **state)
{
	(void)state;
	struct nft_batch *b = new_batch(1);
	struct kg_addr a = addr("2001:db8::7");
	nft_batch_elem_refresh(b, "kg", NFT_SET_FLAGGED6, &a, 1500);
	nft_batch_elem_delete(b, "kg", NFT_SET_BLOCKED6, &a);
	assert_true(nft_batch_finish(b));
	struct parsed p;
	split(b, &p);
	assert_int_equal(p.n, 6);
	struct elem_view v;
	parse_elems(p.m[1], &v, 0);
	assert_string_equal(v.set, "flagged6");
	assert_int_equal(v.keylen, 16);
	assert_memory_equal(v.key, a.b, 16);
	assert_int_equal(v.timeout, 1500);
	parse_elems(p.m[4], &v, 0);
	assert_int_equal(nft_type(p.m[4]), NFT_MSG_DELSETELEM);
	assert_string_equal(v.set, "blocked6");
	assert_int_equal(b->msg[3].role, NFT_ROLE_DEL_ELEM);
	assert_int_equal(b->msg[0].role, NFT_ROLE_OTHER);
	free(b);
}

static void test_timeout_ms_rounds_up(void **state)
{
	(void)state;
	assert_int_equal(nft_timeout_ms(KG_SEC(5)), 5000);
	assert_int_equal(nft_timeout_ms(1), 1);
	assert_int_equal(nft_timeout_ms(KG_MSEC(1) + 1), 2);
	assert_int_equal(nft_timeout_ms(0), 1);
	assert_int_equal(nft_timeout_ms(KG_SEC(86400)), 86400000);
}

static void test_addr_key(void **state)
{
	(void)state;
	uint8_t key[16];
	struct kg_addr a = addr("192.0.2.9");
	assert_int_equal(nft_addr_key(&a, key), 4);
	const uint8_t k4[4] = {192, 0, 2, 9};
	assert_memory_equal(key, k4, 4);
	a = addr("fe80::1");
	assert_int_equal(nft_addr_key(&a, key), 16);
	assert_int_equal(key[0], 0xfe);
	assert_int_equal(key[15], 1);
}

static void test_flush_names_set_without_elements(void **state)
{
	(void)state;
	struct nft_batch *b = new_batch(1);
	nft_batch_set_flush(b, "knockguard", NFT_SET_NEVERBLOCK4);
	assert_true(nft_batch_finish(b));
	struct parsed p;
	split(b, &p);
	assert_int_equal(p.n, 3);
	assert_int_equal(nft_type(p.m[1]), NFT_MSG_DELSETELEM);
	bool table = false, set = false, elems = false;
	const struct nlattr *at;
	mnl_attr_for_each(at, p.m[1], sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(at) == NFTA_SET_ELEM_LIST_TABLE)
			table = strcmp(mnl_attr_get_str(at), "knockguard") == 0;
		if (mnl_attr_get_type(at) == NFTA_SET_ELEM_LIST_SET)
			set = strcmp(mnl_attr_get_str(at), "neverblock4") == 0;
		if (mnl_attr_get_type(at) == NFTA_SET_ELEM_LIST_ELEMENTS)
			elems = true;
	}
	assert_true(table);
	assert_true(set);
	assert_false(elems); /* an empty ELEMENTS nest would delete nothing */
	free(b);
}

/* ---- setup batch ---- */

struct rule_view {
	char chain[64];
	size_t nexpr;
	char expr[8][16];
	char lookup_set[32];
	int verdict; /* of an immediate, or 1000 when none */
	uint16_t queue_num, queue_total, queue_flags;
	char tg_name[32];
	uint32_t tg_rev;
	uint8_t tg_info[16];
	uint32_t tg_info_len;
};

static void parse_rule(const struct nlmsghdr *nlh, struct rule_view *v)
{
	memset(v, 0, sizeof(*v));
	v->verdict = 1000;
	struct nftnl_rule *r = nftnl_rule_alloc();
	assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
	snprintf(v->chain, sizeof(v->chain), "%s", nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	while ((e = nftnl_expr_iter_next(it)) != NULL) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
		assert_true(v->nexpr < 8);
		snprintf(v->expr[v->nexpr++], sizeof(v->expr[0]), "%s", name);
		if (strcmp(name, "lookup") == 0)
			snprintf(v->lookup_set, sizeof(v->lookup_set), "%s",
				 nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
		if (strcmp(name, "immediate") == 0)
			v->verdict = (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
		if (strcmp(name, "queue") == 0) {
			v->queue_num = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM);
			v->queue_total = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_TOTAL);
			v->queue_flags = nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_FLAGS);
		}
		if (strcmp(name, "target") == 0) {
			snprintf(v->tg_name, sizeof(v->tg_name), "%s",
				 nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME));
			v->tg_rev = nftnl_expr_get_u32(e, NFTNL_EXPR_TG_REV);
			const void *info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &v->tg_info_len);
			assert_true(v->tg_info_len <= sizeof(v->tg_info));
			memcpy(v->tg_info, info, v->tg_info_len);
		}
	}
	nftnl_expr_iter_destroy(it);
	nftnl_rule_free(r);
}

/* The rules of one chain, in order. */
static size_t rules_of(const struct parsed *p, const char *chain, struct rule_view *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 1; i + 1 < p->n; i++) {
		if (nft_type(p->m[i]) != NFT_MSG_NEWRULE)
			continue;
		struct rule_view v;
		parse_rule(p->m[i], &v);
		if (strcmp(v.chain, chain) == 0 && n < max)
			out[n++] = v;
	}
	return n;
}

static struct nft_batch *setup_batch(const struct nft_config *cfg, enum nft_backend backend,
				     struct parsed *p)
{
	struct nft_batch *b = new_batch(50);
	nft_batch_setup(b, cfg, backend);
	assert_true(nft_batch_finish(b));
	split(b, p);
	return b;
}

static void test_setup_table_and_sets(void **state)
{
	(void)state;
	struct nft_config cfg;
	nft_config_defaults(&cfg);
	cfg.block_timeout = KG_SEC(120);
	struct parsed p;
	struct nft_batch *b = setup_batch(&cfg, NFT_BACKEND_NATIVE, &p);

	assert_int_equal(nft_type(p.m[1]), NFT_MSG_NEWTABLE);
	struct nftnl_table *t = nftnl_table_alloc();
	assert_int_equal(nftnl_table_nlmsg_parse(p.m[1], t), 0);
	assert_string_equal(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "knockguard");
	assert_int_equal(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY), NFPROTO_INET);
	/* No owner flag: the table must outlive a killed daemon. */
	assert_int_equal(nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS), 0);
	nftnl_table_free(t);

	static const struct {
		const char *name;
		uint32_t flags, keylen;
		uint64_t timeout;
	} want[NFT_SET_COUNT] = {
		{"blocked4", NFT_SET_TIMEOUT, 4, 120000},
		{"blocked6", NFT_SET_TIMEOUT, 16, 120000},
		{"flagged4", NFT_SET_TIMEOUT, 4, 3600000},
		{"flagged6", NFT_SET_TIMEOUT, 16, 3600000},
		{"neverblock4", NFT_SET_INTERVAL, 4, 0},
		{"neverblock6", NFT_SET_INTERVAL, 16, 0},
	};
	for (int i = 0; i < NFT_SET_COUNT; i++) {
		const struct nlmsghdr *m = p.m[2 + i];
		assert_int_equal(nft_type(m), NFT_MSG_NEWSET);
		assert_false(m->nlmsg_flags & NLM_F_EXCL); /* an existing set is kept */
		struct nftnl_set *s = nftnl_set_alloc();
		assert_int_equal(nftnl_set_nlmsg_parse(m, s), 0);
		assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_NAME), want[i].name);
		assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), want[i].flags);
		assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), want[i].keylen);
		assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE),
				 want[i].keylen == 4 ? 7 : 8);
		assert_true(nftnl_set_is_set(s, NFTNL_SET_ID));
		if (want[i].timeout)
			assert_int_equal(nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT), want[i].timeout);
		else
			assert_false(nftnl_set_is_set(s, NFTNL_SET_TIMEOUT));
		nftnl_set_free(s);
	}
	/* No set element in a setup: a restart keeps what the sets hold. */
	for (size_t i = 1; i + 1 < p.n; i++) {
		assert_int_not_equal(nft_type(p.m[i]), NFT_MSG_NEWSETELEM);
		assert_int_not_equal(nft_type(p.m[i]), NFT_MSG_DELSETELEM);
		assert_int_not_equal(nft_type(p.m[i]), NFT_MSG_DELTABLE);
		assert_int_not_equal(nft_type(p.m[i]), NFT_MSG_DELSET);
	}
	free(b);
}

static void test_setup_chains_hooks_priorities(void **state)
{
	(void)state;
	struct nft_config cfg;
	nft_config_defaults(&cfg);
	struct parsed p;
	struct nft_batch *b = setup_batch(&cfg, NFT_BACKEND_NATIVE, &p);
	static const struct {
		const char *name;
		uint32_t hook;
		int32_t prio;
	} want[] = {
		{NFT_CHAIN_BLOCK_FORWARD, NF_INET_FORWARD, -10},
		{NFT_CHAIN_QUEUE_FORWARD, NF_INET_FORWARD, 0},
		{NFT_CHAIN_BLOCK_INPUT, NF_INET_LOCAL_IN, -10},
		{NFT_CHAIN_QUEUE_INPUT, NF_INET_LOCAL_IN, 0},
	};
	size_t found = 0;
	for (size_t i = 1; i + 1 < p.n; i++) {
		if (nft_type(p.m[i]) == NFT_MSG_DELCHAIN)
			fail_msg("a chain deleted with both hooks on");
		if (nft_type(p.m[i]) != NFT_MSG_NEWCHAIN)
			continue;
		struct nftnl_chain *c = nftnl_chain_alloc();
		assert_int_equal(nftnl_chain_nlmsg_parse(p.m[i], c), 0);
		const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
		assert_true(found < 4);
		assert_string_equal(name, want[found].name);
		assert_int_equal(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), want[found].hook);
		assert_int_equal(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO), want[found].prio);
		assert_string_equal(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "filter");
		assert_int_equal(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY), NF_ACCEPT);
		/* The chain names must not be nft keywords. */
		assert_true(nft_name_valid(name));
		nftnl_chain_free(c);
		found++;
	}
	assert_int_equal(found, 4);

	/* Each chain is flushed before its rules are added (no duplicates on a
	 * restart): a DELRULE naming the chain precedes its first NEWRULE. */
	for (size_t k = 0; k < 4; k++) {
		size_t flush_at = 0, first_rule = 0;
		for (size_t i = 1; i + 1 < p.n; i++) {
			uint16_t t = nft_type(p.m[i]);
			if (t != NFT_MSG_DELRULE && t != NFT_MSG_NEWRULE)
				continue;
			struct nftnl_rule *r = nftnl_rule_alloc();
			assert_int_equal(nftnl_rule_nlmsg_parse(p.m[i], r), 0);
			bool same =
				strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), want[k].name) == 0;
			if (same && t == NFT_MSG_DELRULE) {
				assert_false(nftnl_rule_is_set(r, NFTNL_RULE_HANDLE));
				flush_at = i;
			}
			if (same && t == NFT_MSG_NEWRULE && !first_rule)
				first_rule = i;
			nftnl_rule_free(r);
		}
		assert_true(flush_at > 0);
		assert_true(first_rule > flush_at);
	}
	free(b);
}

static void test_block_chain_rule_order(void **state)
{
	(void)state;
	struct nft_config cfg;
	nft_config_defaults(&cfg);
	struct parsed p;
	struct nft_batch *b = setup_batch(&cfg, NFT_BACKEND_NATIVE, &p);
	struct rule_view r[8];
	const char *chains[2] = {NFT_CHAIN_BLOCK_FORWARD, NFT_CHAIN_BLOCK_INPUT};
	for (int c = 0; c < 2; c++) {
		assert_int_equal(rules_of(&p, chains[c], r, 8), 6);
		static const struct {
			const char *set;
			int verdict;
			bool counter;
		} want[6] = {
			{"neverblock4", NF_ACCEPT, false}, {"neverblock6", NF_ACCEPT, false},
			{"blocked4", NF_DROP, true},	   {"blocked6", NF_DROP, true},
			{"flagged4", 1000, true},	   {"flagged6", 1000, true},
		};
		for (int i = 0; i < 6; i++) {
			assert_string_equal(r[i].lookup_set, want[i].set);
			assert_int_equal(r[i].verdict, want[i].verdict);
			/* meta nfproto, cmp, payload, lookup [, counter] [, immediate] */
			assert_string_equal(r[i].expr[0], "meta");
			assert_string_equal(r[i].expr[1], "cmp");
			assert_string_equal(r[i].expr[2], "payload");
			assert_string_equal(r[i].expr[3], "lookup");
			bool has_counter = false;
			for (size_t e = 0; e < r[i].nexpr; e++)
				has_counter |= strcmp(r[i].expr[e], "counter") == 0;
			assert_int_equal(has_counter, want[i].counter);
		}
	}
	free(b);
}

static void test_queue_rule_native(void **state)
{
	(void)state;
	struct nft_config cfg;
	nft_config_defaults(&cfg);
	cfg.queue_num = 7;
	struct parsed p;
	struct nft_batch *b = setup_batch(&cfg, NFT_BACKEND_NATIVE, &p);
	struct rule_view r[4];
	assert_int_equal(rules_of(&p, NFT_CHAIN_QUEUE_FORWARD, r, 4), 1);
	assert_string_equal(r[0].expr[r[0].nexpr - 1], "queue");
	assert_int_equal(r[0].queue_num, 7);
	assert_int_equal(r[0].queue_total, 1);
	assert_int_equal(r[0].queue_flags, NFT_QUEUE_FLAG_BYPASS);
	/* input: lo skips the queue first */
	assert_int_equal(rules_of(&p, NFT_CHAIN_QUEUE_INPUT, r, 4), 2);
	assert_string_equal(r[0].expr[0], "meta");
	assert_int_equal(r[0].verdict, NF_ACCEPT);
	assert_string_equal(r[1].expr[r[1].nexpr - 1], "queue");
	/* The native queue rules are the ones whose refusal means "use xt". */
	unsigned queue_roles = 0;
	for (unsigned i = 0; i < b->nmsgs; i++)
		queue_roles += b->msg[i].role == NFT_ROLE_QUEUE_RULE;
	assert_int_equal(queue_roles, 2);
	free(b);

	cfg.queue_bypass = false;
	b = setup_batch(&cfg, NFT_BACKEND_NATIVE, &p);
	assert_int_equal(rules_of(&p, NFT_CHAIN_QUEUE_FORWARD, r, 4), 1);
	assert_int_equal(r[0].queue_flags, 0);
	free(b);
}

static void test_queue_rule_xt_matches_iptables_nft(void **state)
{
	(void)state;
	struct nft_config cfg;
	nft_config_defaults(&cfg);
	cfg.queue_num = 3;
	struct parsed p;
	struct nft_batch *b = setup_batch(&cfg, NFT_BACKEND_XT, &p);
	struct rule_view r[4];
	assert_int_equal(rules_of(&p, NFT_CHAIN_QUEUE_FORWARD, r, 4), 1);
	assert_string_equal(r[0].expr[r[0].nexpr - 1], "target");
	assert_string_equal(r[0].tg_name, "NFQUEUE");
	assert_int_equal(r[0].tg_rev, 3);
	/* The bytes `iptables-nft -A FORWARD -j NFQUEUE --queue-num 3
	 * --queue-bypass` sends: queuenum 3, queues_total 1, flags BYPASS, pad. */
	const uint8_t info[8] = {0x03, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00};
	assert_int_equal(r[0].tg_info_len, 8);
	assert_memory_equal(r[0].tg_info, info, 8);
	for (unsigned i = 0; i < b->nmsgs; i++)
		assert_int_not_equal(b->msg[i].role, NFT_ROLE_QUEUE_RULE);
	free(b);
}

static void test_disabled_hook_chains_are_removed(void **state)
{
	(void)state;
	struct nft_config cfg;
	nft_config_defaults(&cfg);
	cfg.hook_input = false;
	struct parsed p;
	struct nft_batch *b = setup_batch(&cfg, NFT_BACKEND_NATIVE, &p);
	struct rule_view r[8];
	assert_int_equal(rules_of(&p, NFT_CHAIN_BLOCK_INPUT, r, 8), 0);
	assert_int_equal(rules_of(&p, NFT_CHAIN_QUEUE_INPUT, r, 8), 0);
	assert_int_equal(rules_of(&p, NFT_CHAIN_BLOCK_FORWARD, r, 8), 6);
	/* add (so the delete cannot fail on a missing chain), flush, delete */
	size_t adds = 0, dels = 0, last_add = 0, first_del = 0;
	for (size_t i = 1; i + 1 < p.n; i++) {
		uint16_t t = nft_type(p.m[i]);
		if (t != NFT_MSG_NEWCHAIN && t != NFT_MSG_DELCHAIN)
			continue;
		struct nftnl_chain *c = nftnl_chain_alloc();
		assert_int_equal(nftnl_chain_nlmsg_parse(p.m[i], c), 0);
		const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
		bool input = strcmp(name, NFT_CHAIN_BLOCK_INPUT) == 0 ||
			     strcmp(name, NFT_CHAIN_QUEUE_INPUT) == 0;
		if (t == NFT_MSG_DELCHAIN) {
			assert_true(input);
			dels++;
			if (!first_del)
				first_del = i;
		} else if (input) {
			adds++;
			last_add = i;
		}
		nftnl_chain_free(c);
	}
	assert_int_equal(adds, 2);
	assert_int_equal(dels, 2);
	assert_true(first_del > last_add);
	free(b);
}

/* ---- intervals ---- */

static void check_interval(const char *cidr, const char *start, const char *end, bool open)
{
	struct netset s;
	netset_init(&s);
	if (!netset_add(&s, cidr))
		fail_msg("bad CIDR %s", cidr);
	struct nft_interval iv;
	assert_true(nft_interval_from_prefix(&s.e[0].net, s.e[0].prefix, &iv));
	struct kg_addr a = addr(start);
	uint8_t key[16];
	size_t klen = nft_addr_key(&a, key);
	assert_int_equal(iv.keylen, klen);
	assert_memory_equal(iv.start, key, klen);
	assert_int_equal(iv.open, open);
	if (!open) {
		a = addr(end);
		nft_addr_key(&a, key);
		assert_memory_equal(iv.end, key, klen);
	}
}

static void test_interval_from_prefix(void **state)
{
	(void)state;
	check_interval("10.0.0.0/8", "10.0.0.0", "11.0.0.0", false);
	check_interval("192.0.2.1", "192.0.2.1", "192.0.2.2", false);
	check_interval("192.168.1.0/23", "192.168.0.0", "192.168.2.0", false);
	check_interval("10.0.0.255/31", "10.0.0.254", "10.0.1.0", false);
	check_interval("255.255.255.0/24", "255.255.255.0", NULL, true);
	check_interval("0.0.0.0/0", "0.0.0.0", NULL, true);
	check_interval("fe80::/10", "fe80::", "fec0::", false);
	check_interval("2001:db8::ffff/128", "2001:db8::ffff", "2001:db8::1:0", false);
	check_interval("::/0", "::", NULL, true);
	struct kg_addr a = addr("::1");
	struct nft_interval iv;
	assert_false(nft_interval_from_prefix(&a, 129, &iv));
}

static void test_never_block_merge(void **state)
{
	(void)state;
	struct netset s;
	netset_init(&s);
	const char *cidrs[] = {"192.168.1.0/24", "192.168.0.0/16", "10.0.0.1",	   "10.0.0.1",
			       "fe80::/10",	 "fe80::1",	   "2001:db8::/32"};
	for (size_t i = 0; i < sizeof(cidrs) / sizeof(cidrs[0]); i++)
		assert_true(netset_add(&s, cidrs[i]));
	struct nft_interval iv[NETSET_MAX];
	assert_int_equal(nft_never_block_intervals(&s, 4, iv, NETSET_MAX), 2);
	const uint8_t a0[4] = {10, 0, 0, 1}, a1[4] = {192, 168, 0, 0}, e1[4] = {192, 169, 0, 0};
	assert_memory_equal(iv[0].start, a0, 4);
	assert_memory_equal(iv[1].start, a1, 4);
	assert_memory_equal(iv[1].end, e1, 4);
	assert_int_equal(nft_never_block_intervals(&s, 6, iv, NETSET_MAX), 2);
	assert_int_equal(iv[0].keylen, 16);
	assert_int_equal(iv[0].start[0], 0x20); /* 2001:db8::/32 sorts first */
	assert_int_equal(iv[1].start[0], 0xfe);
	/* max bounds the output */
	assert_int_equal(nft_never_block_intervals(&s, 4, iv, 1), 1);

	/* ::/0 holds every IPv4 address too (as netset_contains() says). */
	netset_init(&s);
	assert_true(netset_add(&s, "::/0"));
	assert_int_equal(nft_never_block_intervals(&s, 4, iv, NETSET_MAX), 1);
	assert_int_equal(iv[0].keylen, 4);
	assert_true(iv[0].open);
	assert_int_equal(nft_never_block_intervals(&s, 6, iv, NETSET_MAX), 1);
	netset_init(&s);
	assert_true(netset_add(&s, "2001:db8::/32"));
	assert_int_equal(nft_never_block_intervals(&s, 4, iv, NETSET_MAX), 0);
}

static void test_intervals_message(void **state)
{
	(void)state;
	struct netset s;
	netset_init(&s);
	assert_true(netset_add(&s, "10.0.0.0/8"));
	assert_true(netset_add(&s, "255.255.255.0/24"));
	struct nft_interval iv[4];
	size_t n = nft_never_block_intervals(&s, 4, iv, 4);
	assert_int_equal(n, 2);
	struct nft_batch *b = new_batch(1);
	nft_batch_intervals_add(b, "knockguard", NFT_SET_NEVERBLOCK4, iv, n);
	assert_true(nft_batch_finish(b));
	struct parsed p;
	split(b, &p);
	assert_int_equal(p.n, 3);
	struct elem_view v;
	/* 10.0.0.0 (start), 11.0.0.0 (end), 255.255.255.0 (start, open) */
	parse_elems(p.m[1], &v, 0);
	assert_int_equal(v.count, 3);
	assert_string_equal(v.set, "neverblock4");
	assert_int_equal(v.key[0], 10);
	assert_int_equal(v.flags, 0);
	parse_elems(p.m[1], &v, 1);
	assert_int_equal(v.key[0], 11);
	assert_int_equal(v.flags, NFT_SET_ELEM_INTERVAL_END);
	parse_elems(p.m[1], &v, 2);
	assert_int_equal(v.key[0], 255);
	assert_int_equal(v.flags, 0);
	free(b);
}

static void test_full_never_block_sync_fits(void **state)
{
	(void)state;
	/* NETSET_MAX disjoint IPv6 prefixes: the largest message there is. */
	static struct netset s;
	netset_init(&s);
	for (unsigned i = 0; i < NETSET_MAX; i++) {
		char cidr[64];
		snprintf(cidr, sizeof(cidr), "2001:db8:%x::/48", i);
		assert_true(netset_add(&s, cidr));
	}
	static struct nft_interval iv[NETSET_MAX];
	size_t n = nft_never_block_intervals(&s, 6, iv, NETSET_MAX);
	assert_int_equal(n, NETSET_MAX);
	struct nft_batch *b = new_batch(1);
	nft_batch_set_flush(b, "knockguard", NFT_SET_NEVERBLOCK6);
	nft_batch_intervals_add(b, "knockguard", NFT_SET_NEVERBLOCK6, iv, n);
	assert_true(nft_batch_finish(b));
	assert_true(b->len < NFT_BATCH_BUF);
	struct parsed p;
	split(b, &p);
	struct elem_view v;
	parse_elems(p.m[2], &v, 0);
	assert_int_equal(v.count, 2 * NETSET_MAX);
	free(b);
}

static void test_batch_overflow_is_refused(void **state)
{
	(void)state;
	struct nft_batch *b = new_batch(1);
	struct kg_addr a = addr("10.0.0.1");
	for (int i = 0; i < 100; i++)
		nft_batch_elem_refresh(b, "knockguard", NFT_SET_BLOCKED4, &a, 1000);
	assert_true(b->overflow);
	assert_false(nft_batch_finish(b));
	assert_true(b->nmsgs <= NFT_BATCH_MSGS_MAX);
	free(b);
}

static void test_dump_request(void **state)
{
	(void)state;
	char buf[NFT_REQ_MAX];
	size_t len = nft_req_dump_elems(buf, "knockguard", NFT_SET_BLOCKED6, 77);
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	assert_int_equal(len, nlh->nlmsg_len);
	assert_int_equal(nft_type(nlh), NFT_MSG_GETSETELEM);
	assert_true(nlh->nlmsg_flags & NLM_F_DUMP);
	assert_int_equal(nlh->nlmsg_seq, 77);
	struct elem_view v;
	parse_elems(nlh, &v, 0);
	assert_string_equal(v.set, "blocked6");
	assert_int_equal(v.count, 0);
}

/* ---- names and config ---- */

static void test_name_valid(void **state)
{
	(void)state;
	const char *good[] = {"knockguard", "kg_1",    "_x",
			      "KG",	    "filter2", "a234567890123456789012345678901"};
	const char *bad[] = {"",
			     "fwd",
			     "filter",
			     "inet",
			     "table",
			     "1kg",
			     "a-b",
			     "a b",
			     "kg\"x",
			     "queue",
			     "a2345678901234567890123456789012"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!nft_name_valid(good[i]))
			fail_msg("rejected %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (nft_name_valid(bad[i]))
			fail_msg("accepted \"%s\"", bad[i]);
	assert_true(nft_name_valid(nft_set_name(NFT_SET_NEVERBLOCK6)));
}

static void test_config_defaults_and_check(void **state)
{
	(void)state;
	struct nft_config cfg;
	char err[NFT_ERR_MAX];
	nft_config_defaults(&cfg);
	assert_string_equal(cfg.table, "knockguard");
	assert_true(cfg.manage && cfg.remove_at_exit && cfg.queue_bypass);
	assert_true(cfg.hook_forward && cfg.hook_input);
	assert_int_equal(cfg.queue_num, 0);
	assert_int_equal(cfg.queue_mode, NFT_QUEUE_AUTO);
	assert_true(nft_config_check(&cfg, err, sizeof(err)));

	struct nft_config c = cfg;
	c.hook_forward = c.hook_input = false;
	assert_false(nft_config_check(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "hook"));
	c = cfg;
	c.block_timeout = 0;
	assert_false(nft_config_check(&c, err, sizeof(err)));
	c = cfg;
	c.flag_timeout = NFT_TIMEOUT_MAX + 1;
	assert_false(nft_config_check(&c, err, sizeof(err)));
	c = cfg;
	snprintf(c.table, sizeof(c.table), "fwd");
	assert_false(nft_config_check(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "fwd"));
	assert_null(nft_open(&c, err, sizeof(err)));

	enum nft_queue_mode m;
	const char *names[] = {"auto", "native", "xt"};
	for (int i = 0; i < 3; i++) {
		assert_true(nft_queue_mode_parse(names[i], &m));
		assert_string_equal(nft_queue_mode_name(m), names[i]);
	}
	assert_false(nft_queue_mode_parse("nfqueue", &m));
}

/* Read-only against the kernel: every request names a table that does not
 * exist, so it is refused and nothing changes (as root: ENOENT; otherwise
 * EPERM). The error must carry the message it belongs to and the errno text. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refresh_is_add_delete_add),
		cmocka_unit_test(test_v6_element_goes_to_v6_set),
		cmocka_unit_test(test_timeout_ms_rounds_up),
		cmocka_unit_test(test_addr_key),
		cmocka_unit_test(test_flush_names_set_without_elements),
		cmocka_unit_test(test_setup_table_and_sets),
		cmocka_unit_test(test_setup_chains_hooks_priorities),
		cmocka_unit_test(test_block_chain_rule_order),
		cmocka_unit_test(test_queue_rule_native),
		cmocka_unit_test(test_queue_rule_xt_matches_iptables_nft),
		cmocka_unit_test(test_disabled_hook_chains_are_removed),
		cmocka_unit_test(test_interval_from_prefix),
		cmocka_unit_test(test_never_block_merge),
		cmocka_unit_test(test_intervals_message),
		cmocka_unit_test(test_full_never_block_sync_fits),
		cmocka_unit_test(test_batch_overflow_is_refused),
		cmocka_unit_test(test_dump_request),
		cmocka_unit_test(test_name_valid),
		cmocka_unit_test(test_config_defaults_and_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
