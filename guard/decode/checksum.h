/* Internet checksum (RFC 1071) for the IPv4 header and TCP/UDP/ICMP/ICMPv6. */
#ifndef KG_DECODE_CHECKSUM_H
#define KG_DECODE_CHECKSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"

/* Adds `len` bytes to a running one's-complement sum. Only the last chunk
 * added may have an odd length. */
uint64_t checksum_add(uint64_t sum, const uint8_t *data, size_t len);
/* Folds a running sum to 16 bits and complements it: the value a sender puts in
 * the checksum field, and 0 when verifying data that includes a correct one. */
uint16_t checksum_finish(uint64_t sum);

/* True if the IPv4 header (hlen bytes, checksum field included) is correct. */
bool checksum_ipv4_header_ok(const uint8_t *hdr, size_t hlen);
/* Sum of the TCP/UDP/ICMPv6 pseudo header. For IPv6 dst is the final
 * destination when a routing header names one (RFC 8200 8.1). */
uint64_t checksum_pseudo_header(const struct kg_addr *src, const struct kg_addr *dst,
				uint8_t ip_version, uint8_t proto, uint32_t l4_len);

#endif
