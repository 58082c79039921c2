#include "decode/checksum.h"

uint64_t checksum_add(uint64_t sum, const uint8_t *data, size_t len)
{
	size_t i = 0;
	for (; i + 1 < len; i += 2)
		sum += (uint32_t)data[i] << 8 | data[i + 1];
	if (i < len)
		sum += (uint32_t)data[i] << 8; /* odd trailing byte, padded with zero */
	return sum;
}

uint16_t checksum_finish(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

bool checksum_ipv4_header_ok(const uint8_t *hdr, size_t hlen)
{
	return checksum_finish(checksum_add(0, hdr, hlen)) == 0;
}

uint64_t checksum_pseudo_header(const struct kg_addr *src, const struct kg_addr *dst,
				uint8_t ip_version, uint8_t proto, uint32_t l4_len)
{
	size_t skip = ip_version == 4 ? 12 : 0; /* IPv4 sits in the last 4 bytes */
	uint64_t sum = checksum_add(0, src->b + skip, 16 - skip);
	sum = checksum_add(sum, dst->b + skip, 16 - skip);
	sum += proto;
	sum += l4_len >> 16;
	sum += l4_len & 0xffff;
	return sum;
}
