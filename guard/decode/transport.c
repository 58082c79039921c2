/* Transport: TCP, UDP, ICMP/ICMPv6 headers and checksums. Header checks follow
 * Zeek's: a header shorter than the fixed part, by the IP length or by the
 * capture, makes no connection (IPBasedAnalyzer::CheckHeaderTrunc); a bad TCP
 * data offset is only found after the connection exists (ExtractTCP_Header). */
#include "decode/checksum.h"
#include "decode/decode_internal.h"

#define TCP_MIN_HDR 20
#define UDP_HDR_LEN 8
#define ICMP_MIN_HDR 8

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_WSCALE 3
#define TCP_MAX_WSCALE 14 /* RFC 7323 2.3: larger shifts are treated as 14 */

static bool transport_fail(enum decode_reason r, enum decode_reason *why)
{
	*why = r;
	return false;
}

/* Whole segment captured and checksums wanted (Zeek: not -C, caplen >= len). */
static bool transport_should_verify(const struct decoder *d, const struct packet *p)
{
	return !d->cfg.ignore_checksums && !d->l4_csum_unset && !p->truncated &&
	       p->l4_caplen >= p->l4_len;
}

static enum l4_checksum transport_verify(const struct packet *p, bool pseudo_header)
{
	uint64_t sum = 0;
	if (pseudo_header)
		sum = checksum_pseudo_header(&p->src, &p->dst, p->ip_version, p->ip_proto,
					     p->l4_len);
	sum = checksum_add(sum, p->l4, p->l4_len);
	return checksum_finish(sum) == 0 ? L4_CSUM_OK : L4_CSUM_BAD;
}

/* The window scale option of a SYN; every option length is checked against
 * the header (a malformed list just ends the walk, as in Zeek). */
static int8_t tcp_window_scale(const uint8_t *opt, uint32_t len)
{
	uint32_t i = 0;
	while (i < len) {
		uint8_t kind = opt[i];
		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (len - i < 2)
			break;
		uint8_t olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			break;
		if (kind == TCPOPT_WSCALE && olen >= 3)
			return (int8_t)(opt[i + 2] > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : opt[i + 2]);
		i += olen;
	}
	return -1;
}

static bool transport_tcp(const struct decoder *d, struct packet *p, enum decode_reason *why)
{
	if (p->l4_len < TCP_MIN_HDR || p->l4_caplen < TCP_MIN_HDR)
		return transport_fail(DR_TRUNCATED_TCP, why);
	const uint8_t *t = p->l4;
	p->sport = decode_be16(t);
	p->dport = decode_be16(t + 2);
	uint32_t hlen = (uint32_t)(t[12] >> 4) * 4;
	/* The fixed header is here: Zeek's creation-time flip reads these flags
	 * even when the options are cut off. */
	p->tcp_flags = t[13];
	if (hlen < TCP_MIN_HDR || hlen > p->l4_len || hlen > p->l4_caplen) {
		/* Zeek has made the connection by now: hand the ports on, flagged. */
		p->l4_header_bad = true;
		*why = hlen > p->l4_caplen && hlen >= TCP_MIN_HDR && hlen <= p->l4_len
			       ? DR_TRUNCATED_TCP
			       : DR_BAD_TCP_OFFSET;
		return true;
	}
	p->seq = decode_be32(t + 4);
	p->ack = decode_be32(t + 8);
	p->tcp_flags = t[13];
	p->window = decode_be16(t + 14);
	p->wscale = (p->tcp_flags & TCPF_SYN)
			    ? tcp_window_scale(t + TCP_MIN_HDR, hlen - TCP_MIN_HDR)
			    : -1;
	p->payload = t + hlen;
	p->payload_len = p->l4_len - hlen;
	p->payload_caplen = p->l4_caplen - hlen;
	if (transport_should_verify(d, p))
		p->csum = transport_verify(p, true);
	return true;
}

static bool transport_udp(const struct decoder *d, struct packet *p, enum decode_reason *why)
{
	if (p->l4_len < UDP_HDR_LEN || p->l4_caplen < UDP_HDR_LEN)
		return transport_fail(DR_TRUNCATED_UDP, why);
	const uint8_t *u = p->l4;
	uint16_t udp_len = decode_be16(u + 4);
	if (udp_len < UDP_HDR_LEN)
		return transport_fail(DR_BAD_UDP_LEN, why);

	p->sport = decode_be16(u);
	p->dport = decode_be16(u + 2);
	p->udp_len = udp_len;
	p->payload = u + UDP_HDR_LEN;
	/* Zeek counts the length field's bytes, even when the IP length differs
	 * (UDP.cc: only a weird); what can be read is bounded by the capture. */
	p->payload_len = udp_len - UDP_HDR_LEN;
	uint32_t captured = p->l4_caplen - UDP_HDR_LEN;
	p->payload_caplen = captured < p->payload_len ? captured : p->payload_len;
	if (transport_should_verify(d, p)) {
		uint16_t field = decode_be16(u + 6);
		if (field != 0)
			p->csum = transport_verify(p, true);
		else if (p->ip_version == 6)
			p->csum = L4_CSUM_BAD; /* mandatory for IPv6 (RFC 8200 8.1) */
	}
	return true;
}

static bool transport_icmp(const struct decoder *d, struct packet *p, enum decode_reason *why)
{
	if (p->l4_len < ICMP_MIN_HDR || p->l4_caplen < ICMP_MIN_HDR)
		return transport_fail(DR_TRUNCATED_ICMP, why);
	p->icmp_type = p->l4[0];
	p->icmp_code = p->l4[1];
	p->sport = p->icmp_type;
	p->dport = p->icmp_code;
	p->payload = p->l4 + ICMP_MIN_HDR;
	p->payload_len = p->l4_len - ICMP_MIN_HDR;
	p->payload_caplen = p->l4_caplen - ICMP_MIN_HDR;
	if (transport_should_verify(d, p))
		p->csum = transport_verify(p, p->ip_proto == IPPROTO_NUM_ICMPV6);
	return true;
}

bool transport_decode(const struct decoder *d, struct packet *p, enum decode_reason *why)
{
	p->csum = L4_CSUM_NOT_CHECKED;
	p->wscale = -1;
	switch (p->ip_proto) {
	case IPPROTO_NUM_TCP:
		return transport_tcp(d, p, why);
	case IPPROTO_NUM_UDP:
		return transport_udp(d, p, why);
	case IPPROTO_NUM_ICMP:
	case IPPROTO_NUM_ICMPV6:
		return transport_icmp(d, p, why);
	default:
		/* Zeek's unknown_transport: ports 0, the rest is payload. */
		p->payload = p->l4;
		p->payload_len = p->l4_len;
		p->payload_caplen = p->l4_caplen;
		return true;
	}
}
