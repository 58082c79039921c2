#include "pktfeed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct packet pf_base(const char *src, const char *dst, uint8_t proto, uint16_t sp, uint16_t dp,
		      double t)
{
	struct packet p;
	memset(&p, 0, sizeof(p));
	if (!addr_parse(src, &p.src) || !addr_parse(dst, &p.dst)) {
		fprintf(stderr, "pktfeed: bad address %s or %s\n", src, dst);
		abort();
	}
	p.ip_version = 4;
	p.ip_proto = proto;
	p.sport = sp;
	p.dport = dp;
	p.ts = (kg_time)(t * 1e9);
	p.ttl = 64;
	p.csum = L4_CSUM_OK;
	return p;
}

enum verdict pf_tcp(struct engine *e, const char *src, const char *dst, uint16_t sp, uint16_t dp,
		    double t, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct packet p = pf_base(src, dst, IPPROTO_NUM_TCP, sp, dp, t);
	p.tcp_flags = flags;
	p.seq = seq;
	p.ack = ack;
	p.window = 1024;
	p.payload_len = p.payload_caplen = len;
	p.l4_len = 20 + len;
	p.ip_len = 40 + len;
	return engine_decoded(e, &p);
}
