#include "util/netset.h"

#include <stdlib.h>
#include <string.h>

/* Site::private_address_space in Zeek's scripts/base/utils/site.zeek, which
 * private_address_space_is_local=T copies into Site::local_nets. Includes the
 * multicast control blocks and fec0::/10 added by zeek/zeek#4164. Each IPv4
 * block is followed by its 6to4 (2002::/16) form, as in Zeek. */
static const char *const zeek_private_space[] = {
	"0.0.0.0/8",	     "2002::/24",	   /* "this network" */
	"10.0.0.0/8",	     "2002:a00::/24",	   /* RFC 1918 */
	"100.64.0.0/10",     "2002:6440::/26",	   /* shared address space (CGNAT) */
	"127.0.0.0/8",	     "2002:7f00::/24",	   /* loopback */
	"169.254.0.0/16",    "2002:a9fe::/32",	   /* link local */
	"172.16.0.0/12",     "2002:ac10::/28",	   /* RFC 1918 */
	"192.0.0.0/24",	     "2002:c000::/40",	   /* IETF protocol assignments */
	"192.0.2.0/24",	     "2002:c000:200::/40", /* TEST-NET-1 */
	"192.168.0.0/16",    "2002:c0a8::/32",	   /* RFC 1918 */
	"198.18.0.0/15",     "2002:c612::/31",	   /* benchmarking */
	"198.51.100.0/24",   "2002:c633:6400::/40", /* TEST-NET-2 */
	"203.0.113.0/24",    "2002:cb00:7100::/40", /* TEST-NET-3 */
	"224.0.0.0/24",	     "2002:e000::/40",	   /* multicast local network control */
	"239.0.0.0/8",	     "2002:ef00::/24",	   /* administratively scoped multicast */
	"240.0.0.0/4",	     "2002:f000::/20",	   /* reserved */
	"255.255.255.255/32", "2002:ffff:ffff::/48", /* limited broadcast */
	"::/128",			/* unspecified */
	"::1/128",			/* loopback */
	"64:ff9b:1::/48",		/* IPv4-IPv6 translation */
	"100::/64",			/* discard-only */
	"2001::/23",			/* IETF protocol assignments */
	"2001:2::/48",			/* benchmarking */
	"2001:db8::/32",		/* documentation */
	"fc00::/7",			/* unique local */
	"fe80::/10",			/* link-local unicast */
	"fec0::/10",			/* deprecated site local */
};

void netset_init(struct netset *s)
{
	s->n = 0;
}

static void netset_mask(struct kg_addr *a, unsigned prefix)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned bits = prefix > i * 8 ? prefix - i * 8 : 0;
		if (bits >= 8)
			continue;
		a->b[i] &= (uint8_t)(0xff00u >> bits);
	}
}

static bool netset_prefix_eq(const struct kg_addr *a, const struct kg_addr *net, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;
	if (memcmp(a->b, net->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t m = (uint8_t)(0xff00u >> rest);
	return (a->b[full] & m) == net->b[full];
}

/* Strict decimal: 1-3 digits, nothing else. */
static bool netset_parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t n = 0;
	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 3)
			return false;
		v = v * 10 + (unsigned)(s[n] - '0');
	}
	if (n == 0 || v > max)
		return false;
	*out = v;
	return true;
}

bool netset_add(struct netset *s, const char *cidr)
{
	char host[KG_ADDR_STRLEN];
	const char *slash = strchr(cidr, '/');
	size_t hlen = slash ? (size_t)(slash - cidr) : strlen(cidr);
	struct netset_entry e;

	if (hlen == 0 || hlen >= sizeof(host))
		return false;
	memcpy(host, cidr, hlen);
	host[hlen] = '\0';
	if (!addr_parse(host, &e.net))
		return false;

	/* An IPv4 literal is stored v4-mapped, so its /n covers bits 96+n. */
	bool v4 = strchr(host, ':') == NULL;
	unsigned max = v4 ? 32 : 128, prefix = max;
	if (slash && !netset_parse_prefix(slash + 1, max, &prefix))
		return false;
	e.prefix = v4 ? 96 + prefix : prefix;
	netset_mask(&e.net, e.prefix);

	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].prefix == e.prefix && addr_eq(&s->e[i].net, &e.net))
			return true;
	if (s->n >= NETSET_MAX)
		return false;
	s->e[s->n++] = e;
	return true;
}

bool netset_contains(const struct netset *s, const struct kg_addr *a)
{
	for (size_t i = 0; i < s->n; i++)
		if (netset_prefix_eq(a, &s->e[i].net, s->e[i].prefix))
			return true;
	return false;
}

void netset_zeek_local_default(struct netset *s)
{
	netset_init(s);
	for (size_t i = 0; i < sizeof(zeek_private_space) / sizeof(zeek_private_space[0]); i++)
		if (!netset_add(s, zeek_private_space[i]))
			abort(); /* a typo in the table above; test_netset catches it first */
}
