/* Decoded packets for engine tests: build a struct packet by hand (no frame,
 * no decoder) and hand it to engine_decoded(). */
#ifndef KG_PKTFEED_H
#define KG_PKTFEED_H

#include <stdint.h>

#include "engine.h"

/* A checksum-valid IPv4 packet; t in seconds. */
struct packet pf_base(const char *src, const char *dst, uint8_t proto, uint16_t sp, uint16_t dp,
		      double t);
/* A TCP segment of `len` payload bytes (window 1024); returns the engine's verdict. */
enum verdict pf_tcp(struct engine *e, const char *src, const char *dst, uint16_t sp, uint16_t dp,
		    double t, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len);

#endif
