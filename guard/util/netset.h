/* A bounded set of CIDR prefixes (IPv4 and IPv6), e.g. Zeek's Site::local_nets. */
#ifndef KG_NETSET_H
#define KG_NETSET_H

#include <stdbool.h>
#include <stddef.h>

#include "util/addr.h"

#define NETSET_MAX 256

struct netset_entry {
	struct kg_addr net; /* masked */
	unsigned prefix;    /* 0..128, over the 16-byte form (IPv4 /n is 96+n) */
};

struct netset {
	size_t n;
	struct netset_entry e[NETSET_MAX];
};

void netset_init(struct netset *s);
/* "10.0.0.0/8", "fe80::/10", "192.0.2.1" (host). False on a bad string or when full. */
bool netset_add(struct netset *s, const char *cidr);
bool netset_contains(const struct netset *s, const struct kg_addr *a);
/* Zeek's default Site::local_nets with private_address_space_is_local=T. */
void netset_zeek_local_default(struct netset *s);

#endif
