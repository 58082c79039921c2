/* Decoder object, statistics, reason names and the two entry points. */
#include <stdlib.h>
#include <string.h>

#include "decode/decode_internal.h"

static const char *const decode_reason_names[DR_COUNT] = {
	[DR_TRUNCATED_LINK] = "truncated_link",
	[DR_UNKNOWN_ETHERTYPE] = "unknown_ethertype",
	[DR_TRUNCATED_IP] = "truncated_ip",
	[DR_BAD_IP_VERSION] = "bad_ip_version",
	[DR_BAD_IHL] = "bad_ihl",
	[DR_BAD_IP_LEN] = "bad_ip_len",
	[DR_BAD_IP_CHECKSUM] = "bad_ip_checksum",
	[DR_IPV6_EXT_TRUNCATED] = "ipv6_ext_truncated",
	[DR_IPV6_EXT_LOOP] = "ipv6_ext_loop",
	[DR_FRAG_INVALID] = "frag_invalid",
	[DR_FRAG_PENDING] = "frag_pending",
	[DR_FRAG_EVICTED] = "frag_evicted",
	[DR_TRUNCATED_TCP] = "truncated_tcp",
	[DR_BAD_TCP_OFFSET] = "bad_tcp_offset",
	[DR_TRUNCATED_UDP] = "truncated_udp",
	[DR_BAD_UDP_LEN] = "bad_udp_len",
	[DR_TRUNCATED_ICMP] = "truncated_icmp",
	[DR_UNSUPPORTED_LINK] = "unsupported_link",
	[DR_ZERO_LENGTH] = "zero_length",
	[DR_IPV6_NO_TRANSPORT] = "ipv6_no_transport",
	[DR_FRAG_TIMEOUT] = "frag_timeout",
};

const char *decode_reason_name(enum decode_reason r)
{
	if ((unsigned)r >= DR_COUNT || !decode_reason_names[r])
		return "unknown";
	return decode_reason_names[r];
}

struct decoder *decoder_create(const struct decoder_config *cfg)
{
	struct decoder *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->cfg = *cfg;
	d->frags = frag_pool_create(cfg->frag_max_datagrams, cfg->frag_timeout);
	if (!d->frags) {
		free(d);
		return NULL;
	}
	return d;
}

void decoder_destroy(struct decoder *d)
{
	if (!d)
		return;
	frag_pool_destroy(d->frags);
	free(d);
}

const struct decoder_stats *decoder_stats(const struct decoder *d)
{
	return &d->stats;
}

bool ip_decode(struct decoder *d, const uint8_t *ip, uint32_t caplen, struct packet *out,
	       enum decode_reason *why)
{
	if (caplen == 0) {
		*why = DR_TRUNCATED_IP;
		return false;
	}
	switch (ip[0] >> 4) {
	case 4:
		return ipv4_decode(d, ip, caplen, false, out, why);
	case 6:
		return ipv6_decode(d, ip, caplen, false, out, why);
	default:
		*why = DR_BAD_IP_VERSION;
		return false;
	}
}

static enum decode_status decoder_finish(struct decoder *d, bool ok, enum decode_reason why,
					 const struct packet *out)
{
	if (ok) {
		d->stats.decoded++;
		if (out->l4_header_bad && (unsigned)why < DR_COUNT)
			d->stats.reason[why]++; /* a weird on a packet that still counts */
		return DECODE_OK;
	}
	if ((unsigned)why < DR_COUNT) /* every failing path sets it */
		d->stats.reason[why]++;
	return DECODE_SKIP;
}

static void decoder_start(struct decoder *d, kg_time ts, struct packet *out)
{
	d->stats.packets++;
	memset(out, 0, sizeof(*out));
	out->ts = ts;
	out->wscale = -1;
	out->csum = L4_CSUM_NOT_CHECKED;
}

enum decode_status decoder_frame(struct decoder *d, int linktype, kg_time ts, const uint8_t *frame,
				 uint32_t caplen, struct packet *out)
{
	decoder_start(d, ts, out);
	enum decode_reason why = DR_COUNT;
	if (caplen == 0)
		return decoder_finish(d, false, DR_ZERO_LENGTH, out);
	uint32_t l3_offset;
	bool ok = link_locate_ip(linktype, frame, caplen, &l3_offset, &why) &&
		  ip_decode(d, frame + l3_offset, caplen - l3_offset, out, &why);
	return decoder_finish(d, ok, why, out);
}

enum decode_status decoder_ip_flags(struct decoder *d, kg_time ts, const uint8_t *ip,
				    uint32_t caplen, unsigned flags, struct packet *out)
{
	decoder_start(d, ts, out);
	enum decode_reason why = DR_COUNT;
	if (caplen == 0)
		return decoder_finish(d, false, DR_ZERO_LENGTH, out);
	d->l4_csum_unset = (flags & DECODE_F_L4_CSUM_UNSET) != 0;
	bool ok = ip_decode(d, ip, caplen, out, &why);
	d->l4_csum_unset = false;
	return decoder_finish(d, ok, why, out);
}

enum decode_status decoder_ip(struct decoder *d, kg_time ts, const uint8_t *ip, uint32_t caplen,
			      struct packet *out)
{
	return decoder_ip_flags(d, ts, ip, caplen, 0, out);
}
