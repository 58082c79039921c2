/* An IPv4 or IPv6 address, stored as 16 bytes (IPv4 as ::ffff:a.b.c.d) so that
 * both families compare, hash and sort the same way. */
#ifndef KG_ADDR_H
#define KG_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kg_addr {
	uint8_t b[16];
};

#define KG_ADDR_STRLEN 46 /* INET6_ADDRSTRLEN */

void addr_from_v4(struct kg_addr *a, const uint8_t v4[4]);
void addr_from_v6(struct kg_addr *a, const uint8_t v6[16]);
bool addr_is_v4(const struct kg_addr *a);
/* <0, 0, >0 like memcmp. */
int addr_cmp(const struct kg_addr *a, const struct kg_addr *b);
bool addr_eq(const struct kg_addr *a, const struct kg_addr *b);
/* Dotted IPv4 or canonical compressed lower-case IPv6 (as Zeek prints). */
void addr_format(const struct kg_addr *a, char out[KG_ADDR_STRLEN]);
/* Parses either family; false on error. */
bool addr_parse(const char *s, struct kg_addr *a);

#endif
