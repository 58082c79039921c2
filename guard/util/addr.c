#include "util/addr.h"

#include <arpa/inet.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void addr_from_v4(struct kg_addr *a, const uint8_t v4[4])
{
	memcpy(a->b, v4_mapped_prefix, 12);
	memcpy(a->b + 12, v4, 4);
}

void addr_from_v6(struct kg_addr *a, const uint8_t v6[16])
{
	memcpy(a->b, v6, 16);
}

bool addr_is_v4(const struct kg_addr *a)
{
	return memcmp(a->b, v4_mapped_prefix, 12) == 0;
}

int addr_cmp(const struct kg_addr *a, const struct kg_addr *b)
{
	return memcmp(a->b, b->b, 16);
}

bool addr_eq(const struct kg_addr *a, const struct kg_addr *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

void addr_format(const struct kg_addr *a, char out[KG_ADDR_STRLEN])
{
	if (addr_is_v4(a))
		inet_ntop(AF_INET, a->b + 12, out, KG_ADDR_STRLEN);
	else
		inet_ntop(AF_INET6, a->b, out, KG_ADDR_STRLEN);
}

bool addr_parse(const char *s, struct kg_addr *a)
{
	uint8_t buf[16];
	if (inet_pton(AF_INET, s, buf) == 1) {
		addr_from_v4(a, buf);
		return true;
	}
	if (inet_pton(AF_INET6, s, buf) == 1) {
		addr_from_v6(a, buf);
		return true;
	}
	return false;
}
