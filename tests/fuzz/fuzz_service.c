/* libFuzzer target for the content buffers and the service fingerprints.
 * Not built by the Makefile; by hand:
 *
 *   mkdir -p build-fuzz
 *   clang -std=c11 -D_DEFAULT_SOURCE -g -O1 -Iguard \
 *         -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
 *         tests/fuzz/fuzz_service.c guard/analyze/content.c guard/analyze/service.c \
 *         guard/analyze/fp_*.c -o build-fuzz/fuzz_service
 *   build-fuzz/fuzz_service -max_total_time=60 -max_len=4096
 *
 * Input: byte 0 picks TCP or UDP (bit 0) and the responder port from a list
 * of the standard ones (bits 1..4); then segments, each a header of 3 bytes
 * (bit 7: from the responder; bit 6: skip sequence space to make a hole;
 * bits 0..5 and the next byte: length; third byte: bytes lost to
 * truncation) followed by its payload. After every segment both
 * service_identify() and service_identify_final() run; a match must carry a
 * valid id and a NUL-terminated detail. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/content.h"
#include "analyze/service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint16_t fuzz_ports[] = {22, 23, 80, 443, 500, 1194, 1723, 3389,
				      4500, 5900, 5938, 7070, 41641, 51820, 2323, 8080};

static void fuzz_check(const struct content_view *v)
{
	struct service_match m;
	for (int final = 0; final < 2; final++) {
		enum service_verdict r = final ? service_identify_final(v, &m) : service_identify(v, &m);
		if (final && r == SERVICE_NEED_MORE)
			abort();
		if (r != SERVICE_MATCH)
			continue;
		if (m.id <= SVC_NONE || m.id >= SVC_COUNT || !m.fingerprint_id ||
		    memchr(m.detail, '\0', sizeof(m.detail)) == NULL)
			abort();
		(void)service_conn_log_name(&m, v->ip_proto, v->resp_port);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t proto = (data[0] & 1) ? 6 : 17;
	uint16_t port = fuzz_ports[(data[0] >> 1) & 15];
	struct content c;
	content_init(&c);
	uint32_t seq[2] = {1000, 77777};
	size_t i = 1;
	while (i + 3 <= size) {
		bool resp = (data[i] & 0x80) != 0, hole = (data[i] & 0x40) != 0;
		size_t len = ((size_t)(data[i] & 0x3f) << 8) | data[i + 1];
		size_t lost = data[i + 2];
		i += 3;
		if (len > size - i)
			len = size - i;
		size_t cap = lost < len ? len - lost : 0;
		int d = resp ? 1 : 0;
		if (hole)
			seq[d] += 100;
		content_add(&c, !resp, proto, seq[d], data + i, (uint32_t)cap, (uint32_t)len);
		seq[d] += (uint32_t)len;
		i += len;
		struct content_view v;
		content_view(&c, proto, port, &v);
		fuzz_check(&v);
	}
	return 0;
}
