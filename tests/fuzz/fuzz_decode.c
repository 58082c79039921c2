/* libFuzzer target for the decoder. Not built by the Makefile; by hand:
 *
 *   mkdir -p build-fuzz
 *   clang -std=c11 -D_DEFAULT_SOURCE -g -O1 -Iguard \
 *         -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *         tests/fuzz/fuzz_decode.c guard/decode/[a-z]*.c guard/util/addr.c \
 *         -o build-fuzz/fuzz_decode
 *   build-fuzz/fuzz_decode -max_total_time=60 -max_len=2048
 *
 * Input: byte 0 picks the link type (and -C), bytes 1..2 advance the clock
 * (so fragments meet the timeout), the rest is the frame. Two decoders with
 * small fragment pools keep their state across inputs, so sequences of
 * fragments are explored too. */
#include <stddef.h>
#include <stdint.h>

#include "decode/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int fuzz_linktypes[] = {
	KG_LINK_ETHERNET,   KG_LINK_NULL, KG_LINK_LOOP,	       KG_LINK_RAW,
	KG_LINK_DLT_RAW,    KG_LINK_IPV4, KG_LINK_IPV6,	       KG_LINK_LINUX_SLL,
	KG_LINK_LINUX_SLL2, KG_LINK_FDDI, KG_LINK_DLT_RAW_BSD, -1 /* decoder_ip */,
};
#define FUZZ_N_LINKTYPES (sizeof(fuzz_linktypes) / sizeof(fuzz_linktypes[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct decoder *decoders[2];
	static kg_time now;
	if (!decoders[0]) {
		struct decoder_config cfg = {.frag_max_datagrams = 4, .frag_timeout = KG_SEC(30)};
		decoders[0] = decoder_create(&cfg);
		cfg.ignore_checksums = true;
		decoders[1] = decoder_create(&cfg);
		if (!decoders[0] || !decoders[1])
			return 0;
	}
	if (size < 3)
		return 0;
	int linktype = fuzz_linktypes[(data[0] & 0x7f) % FUZZ_N_LINKTYPES];
	struct decoder *d = decoders[data[0] >> 7];
	now += (kg_time)(data[1] << 8 | data[2]) * KG_MSEC(10);
	const uint8_t *frame = data + 3;
	uint32_t caplen = (uint32_t)(size - 3);

	struct packet p;
	enum decode_status st = linktype < 0 ? decoder_ip(d, now, frame, caplen, &p)
					     : decoder_frame(d, linktype, now, frame, caplen, &p);
	if (st != DECODE_OK)
		return 0;
	/* Every view the decoder hands out must lie inside what it read from. */
	volatile uint8_t sink = 0;
	for (uint32_t i = 0; i < p.l3_caplen; i++)
		sink ^= p.l3[i];
	if (p.l4_caplen > p.l3_caplen || (p.payload && p.payload_caplen > p.l4_caplen))
		__builtin_trap();
	for (uint32_t i = 0; p.payload && i < p.payload_caplen; i++)
		sink ^= p.payload[i];
	(void)sink;
	return 0;
}
