#include "pktbuild.h"

#include <string.h>

#include "decode/decode.h"
#include "util/addr.h"

#define PB_MAX_DATAGRAM 65535u
#define PB_SCRATCH (PB_MAX_DATAGRAM + 4096)

/* Scratch space: the transport segment, then the IP datagram around a slice of it. */
static uint8_t pb_segment[PB_SCRATCH];
static uint8_t pb_datagram[PB_SCRATCH];

/* Our own checksum, so that a decoder bug cannot hide behind a shared one. */
static uint32_t pb_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t pb_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void pb_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void pb_put32(uint8_t *p, uint32_t v)
{
	pb_put16(p, v >> 16);
	pb_put16(p + 2, v & 0xffff);
}

void pb_spec_init(struct pb_spec *s, int ip_version)
{
	memset(s, 0, sizeof(*s));
	s->link = PB_LINK_ETHERNET;
	s->ip.version = ip_version;
	s->ip.src = ip_version == 6 ? "2001:db8::1" : "10.0.0.1";
	s->ip.dst = ip_version == 6 ? "2001:db8::2" : "10.0.0.2";
	s->ip.ttl = 64;
	s->ip.id = 0x1234;
	s->ip.ihl = PB_DEFAULT;
	s->ip.total_len = PB_DEFAULT;
	s->ip.version_nibble = PB_DEFAULT;
	s->l4.proto = IPPROTO_NUM_TCP;
	s->l4.sport = 40000;
	s->l4.dport = 80;
	s->l4.tcp_flags = TCPF_ACK;
	s->l4.seq = 1;
	s->l4.ack = 1;
	s->l4.window = 65535;
	s->l4.wscale = PB_DEFAULT;
	s->l4.tcp_doff = PB_DEFAULT;
	s->l4.udp_len = PB_DEFAULT;
}

static int pb_family_of(const char *addr)
{
	return strchr(addr, ':') ? 6 : 4;
}

void pb_spec_tcp(struct pb_spec *s, const char *src, uint16_t sport, const char *dst,
		 uint16_t dport, uint8_t flags)
{
	pb_spec_init(s, pb_family_of(src));
	s->ip.src = src;
	s->ip.dst = dst;
	s->l4.sport = sport;
	s->l4.dport = dport;
	s->l4.tcp_flags = flags;
	if (!(flags & TCPF_ACK))
		s->l4.ack = 0;
}

void pb_spec_udp(struct pb_spec *s, const char *src, uint16_t sport, const char *dst,
		 uint16_t dport)
{
	pb_spec_init(s, pb_family_of(src));
	s->ip.src = src;
	s->ip.dst = dst;
	s->l4.proto = IPPROTO_NUM_UDP;
	s->l4.sport = sport;
	s->l4.dport = dport;
}

void pb_spec_icmp(struct pb_spec *s, const char *src, const char *dst, uint8_t type, uint8_t code)
{
	pb_spec_init(s, pb_family_of(src));
	s->ip.src = src;
	s->ip.dst = dst;
	s->l4.proto = s->ip.version == 6 ? IPPROTO_NUM_ICMPV6 : IPPROTO_NUM_ICMP;
	s->l4.icmp_type = type;
	s->l4.icmp_code = code;
}

void pb_spec_payload(struct pb_spec *s, const void *data, size_t len)
{
	s->l4.payload = data;
	s->l4.payload_len = len;
}

int pb_linktype(const struct pb_spec *s)
{
	switch (s->link) {
	case PB_LINK_SLL:
		return KG_LINK_LINUX_SLL;
	case PB_LINK_SLL2:
		return KG_LINK_LINUX_SLL2;
	case PB_LINK_FDDI:
		return KG_LINK_FDDI;
	case PB_LINK_NULL:
		return KG_LINK_NULL;
	case PB_LINK_LOOP:
		return KG_LINK_LOOP;
	case PB_LINK_RAW:
		return KG_LINK_RAW;
	case PB_LINK_DLT_RAW:
		return KG_LINK_DLT_RAW;
	case PB_LINK_IPV4:
		return KG_LINK_IPV4;
	case PB_LINK_IPV6:
		return KG_LINK_IPV6;
	case PB_LINK_ETHERNET:
	default:
		return KG_LINK_ETHERNET;
	}
}

/* Raw address bytes: 4 for IPv4, 16 for IPv6. */
static bool pb_addr(const char *text, int version, uint8_t *out)
{
	struct kg_addr a;
	if (!text || !addr_parse(text, &a) || (version == 4) != addr_is_v4(&a))
		return false;
	if (version == 4)
		memcpy(out, a.b + 12, 4);
	else
		memcpy(out, a.b, 16);
	return true;
}

struct pb_addrs {
	uint8_t src[16], dst[16];
};

static bool pb_addrs_of(const struct pb_spec *s, struct pb_addrs *a)
{
	if (s->ip.version != 4 && s->ip.version != 6)
		return false;
	return pb_addr(s->ip.src, s->ip.version, a->src) &&
	       pb_addr(s->ip.dst, s->ip.version, a->dst);
}

/* Writes the TCP options (raw ones, then window scale) padded to 4 bytes. */
static size_t pb_tcp_options(const struct pb_l4 *l4, uint8_t *opt)
{
	size_t n = 0;
	if (l4->tcp_options_len) {
		memcpy(opt, l4->tcp_options, l4->tcp_options_len);
		n = l4->tcp_options_len;
	}
	if (l4->wscale >= 0) {
		opt[n++] = 1; /* NOP, so the option ends on a 4-byte boundary */
		opt[n++] = 3;
		opt[n++] = 3;
		opt[n++] = (uint8_t)l4->wscale;
	}
	while (n % 4)
		opt[n++] = 0;
	return n;
}

/* Transport header length, or false if the options do not fit in 40 bytes. */
static bool pb_l4_header_len(const struct pb_l4 *l4, size_t *hlen)
{
	uint8_t opt[64];
	switch (l4->proto) {
	case IPPROTO_NUM_TCP:
		if (l4->tcp_options_len > 40)
			return false;
		*hlen = 20 + pb_tcp_options(l4, opt);
		return *hlen <= 60;
	case IPPROTO_NUM_UDP:
	case IPPROTO_NUM_ICMP:
	case IPPROTO_NUM_ICMPV6:
		*hlen = 8;
		return true;
	default:
		*hlen = 0;
		return true;
	}
}

size_t pb_transport_len(const struct pb_spec *s)
{
	size_t hlen;
	if (!pb_l4_header_len(&s->l4, &hlen))
		return 0;
	return hlen + s->l4.payload_len;
}

static void pb_put_csum(uint8_t *field, uint16_t good, enum pb_csum how)
{
	if (how == PB_CSUM_BAD)
		good ^= 0x5a5a;
	else if (how == PB_CSUM_ZERO)
		good = 0;
	pb_put16(field, good);
}

/* The whole transport segment into pb_segment. */
static bool pb_build_segment(const struct pb_spec *s, const struct pb_addrs *a, size_t *seg_len)
{
	const struct pb_l4 *l4 = &s->l4;
	size_t hlen;
	if (!pb_l4_header_len(l4, &hlen))
		return false;
	size_t len = hlen + l4->payload_len;
	if (len > PB_MAX_DATAGRAM)
		return false;
	*seg_len = len;
	uint8_t *seg = pb_segment;
	memset(seg, 0, hlen);
	if (l4->payload_len)
		memcpy(seg + hlen, l4->payload, l4->payload_len);

	size_t csum_at = 0;
	bool pseudo = true;
	switch (l4->proto) {
	case IPPROTO_NUM_TCP:
		pb_put16(seg, l4->sport);
		pb_put16(seg + 2, l4->dport);
		pb_put32(seg + 4, l4->seq);
		pb_put32(seg + 8, l4->ack);
		seg[12] = (uint8_t)((l4->tcp_doff >= 0 ? (unsigned)l4->tcp_doff : hlen / 4) << 4);
		seg[13] = l4->tcp_flags;
		pb_put16(seg + 14, l4->window);
		pb_tcp_options(l4, seg + 20);
		csum_at = 16;
		break;
	case IPPROTO_NUM_UDP:
		pb_put16(seg, l4->sport);
		pb_put16(seg + 2, l4->dport);
		pb_put16(seg + 4, l4->udp_len >= 0 ? (uint32_t)l4->udp_len : (uint32_t)len);
		csum_at = 6;
		break;
	case IPPROTO_NUM_ICMP:
	case IPPROTO_NUM_ICMPV6:
		seg[0] = l4->icmp_type;
		seg[1] = l4->icmp_code;
		pb_put32(seg + 4, l4->icmp_rest);
		csum_at = 2;
		pseudo = l4->proto == IPPROTO_NUM_ICMPV6;
		break;
	default:
		return true;
	}

	uint32_t sum = 0;
	if (pseudo) {
		size_t alen = s->ip.version == 4 ? 4 : 16;
		sum = pb_sum(sum, a->src, alen);
		sum = pb_sum(sum, a->dst, alen);
		sum += l4->proto;
		sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff);
	}
	sum = pb_sum(sum, seg, len);
	uint16_t good = pb_fold(sum);
	if (l4->proto == IPPROTO_NUM_UDP && good == 0)
		good = 0xffff; /* 0 means "none" for UDP */
	pb_put_csum(seg + csum_at, good, l4->csum);
	return true;
}

/* The IP datagram around bytes [off, off + len) of the segment. */
static size_t pb_build_ip(const struct pb_spec *s, const struct pb_addrs *a, uint32_t off,
			  uint32_t len, bool fragment, bool more)
{
	const struct pb_ip *ip = &s->ip;
	uint8_t *d = pb_datagram;
	size_t hlen;
	int version = ip->version_nibble >= 0 ? ip->version_nibble : ip->version;
	if (ip->version == 4) {
		size_t opt_len = (ip->options_len + 3) / 4 * 4;
		if (opt_len > 40)
			return 0;
		hlen = 20 + opt_len;
		memset(d, 0, hlen);
		if (ip->options_len)
			memcpy(d + 20, ip->options, ip->options_len);
		d[0] = (uint8_t)((version & 0x0f) << 4 |
				 ((ip->ihl >= 0 ? ip->ihl : (int)(hlen / 4)) & 0x0f));
		d[1] = ip->tos;
		size_t total = hlen + len;
		if (total > PB_MAX_DATAGRAM)
			return 0;
		pb_put16(d + 2, ip->total_len >= 0 ? (uint32_t)ip->total_len : (uint32_t)total);
		pb_put16(d + 4, ip->id & 0xffff);
		uint32_t frag = ip->df ? 0x4000 : 0;
		if (fragment)
			frag |= (more ? 0x2000 : 0) | ((off / 8) & 0x1fff);
		pb_put16(d + 6, frag);
		d[8] = ip->ttl;
		d[9] = s->l4.proto;
		memcpy(d + 12, a->src, 4);
		memcpy(d + 16, a->dst, 4);
		uint16_t c = pb_fold(pb_sum(0, d, hlen));
		pb_put16(d + 10, ip->bad_checksum ? c ^ 0x5a5a : c);
	} else {
		hlen = 40;
		for (int i = 0; i < ip->n_ext; i++)
			hlen += ip->ext[i].len;
		if (fragment)
			hlen += 8;
		if (hlen + len > PB_MAX_DATAGRAM + 40)
			return 0;
		memset(d, 0, hlen);
		d[0] = (uint8_t)((version & 0x0f) << 4 | ip->tos >> 4);
		d[1] = (uint8_t)(ip->tos << 4);
		size_t plen = hlen - 40 + len;
		pb_put16(d + 4, ip->total_len >= 0 ? (uint32_t)ip->total_len : (uint32_t)plen);
		d[7] = ip->ttl;
		memcpy(d + 8, a->src, 16);
		memcpy(d + 24, a->dst, 16);
		/* Chain the next-header fields: ext headers, fragment, transport. */
		uint8_t *next = d + 6;
		size_t pos = 40;
		for (int i = 0; i < ip->n_ext; i++) {
			const struct pb_ext *e = &ip->ext[i];
			if (e->len < 8)
				return 0;
			*next = e->type;
			next = d + pos;
			d[pos + 1] = (uint8_t)(e->type == 51 ? e->len / 4 - 2 : e->len / 8 - 1);
			pos += e->len;
		}
		if (fragment) {
			*next = 44;
			next = d + pos;
			pb_put16(d + pos + 2, (off & 0xfff8) | (more ? 1 : 0));
			pb_put32(d + pos + 4, ip->id);
			pos += 8;
		}
		*next = s->l4.proto;
	}
	memcpy(d + hlen, pb_segment + off, len);
	return hlen + len;
}

static uint16_t pb_ip_ethertype(const struct pb_spec *s)
{
	if (s->ethertype)
		return s->ethertype;
	return s->ip.version == 6 ? 0x86dd : 0x0800;
}

static uint16_t pb_encap_ethertype(const struct pb_encap *e)
{
	switch (e->kind) {
	case PB_VLAN:
		return 0x8100;
	case PB_QINQ:
		return 0x88a8;
	case PB_QINQ_9100:
		return 0x9100;
	case PB_MPLS:
		return 0x8847;
	case PB_MPLS_MCAST:
		return 0x8848;
	case PB_PPPOE:
		return 0x8864;
	case PB_PBB:
		return 0x88e7;
	case PB_VNTAG:
		return 0x8926;
	case PB_FABRICPATH:
		return 0x8903;
	case PB_LLC_SNAP:
	default:
		return 0; /* a length, filled in by the caller */
	}
}

static size_t pb_encap_len(const struct pb_encap *e)
{
	switch (e->kind) {
	case PB_VLAN:
	case PB_QINQ:
	case PB_QINQ_9100:
	case PB_MPLS:
	case PB_MPLS_MCAST:
		return 4;
	case PB_PPPOE:
		return 8;
	case PB_PBB:
		return 4 + 14;
	case PB_VNTAG:
		return 6;
	case PB_FABRICPATH:
		return 2 + 14;
	case PB_LLC_SNAP:
	default:
		return 8;
	}
}

static bool pb_is_mpls(const struct pb_encap *e)
{
	return e->kind == PB_MPLS || e->kind == PB_MPLS_MCAST;
}

/* The type field in front of encap[i] (or of IP when i == n_encap); an 802.3
 * length when encap[i] is LLC/SNAP. `after` is the byte count from there on. */
static uint16_t pb_type_for(const struct pb_spec *s, int i, size_t after)
{
	if (i >= s->n_encap)
		return pb_ip_ethertype(s);
	if (s->encap[i].kind == PB_LLC_SNAP)
		return (uint16_t)(after > 1500 ? 1500 : after);
	return pb_encap_ethertype(&s->encap[i]);
}

static const uint8_t pb_mac_dst[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t pb_mac_src[6] = {0x02, 0, 0, 0, 0, 0x01};

/* Writes encap[first..] at out; `rest` = bytes of IP datagram that follow. */
static size_t pb_write_encaps(const struct pb_spec *s, int first, uint8_t *out, size_t rest,
			      size_t *sizes_after)
{
	size_t n = 0;
	for (int i = first; i < s->n_encap; i++) {
		const struct pb_encap *e = &s->encap[i];
		uint8_t *p = out + n;
		size_t after_next = sizes_after[i + 1] + rest; /* bytes after this encap */
		uint16_t next_type = pb_type_for(s, i + 1, after_next);
		switch (e->kind) {
		case PB_VLAN:
		case PB_QINQ:
		case PB_QINQ_9100:
			pb_put16(p, e->value & 0x0fff);
			pb_put16(p + 2, next_type);
			break;
		case PB_MPLS:
		case PB_MPLS_MCAST: {
			bool bottom = i + 1 >= s->n_encap || !pb_is_mpls(&s->encap[i + 1]);
			pb_put32(p, (e->value & 0xfffff) << 12 | (bottom ? 0x100u : 0) | 64);
			break;
		}
		case PB_PPPOE:
			p[0] = 0x11;
			p[1] = 0x00;
			pb_put16(p + 2, e->value & 0xffff);
			pb_put16(p + 4, (uint32_t)(2 + rest));
			pb_put16(p + 6, s->ip.version == 6 ? 0x0057 : 0x0021);
			break;
		case PB_PBB:
			pb_put32(p, e->value & 0x00ffffff);
			memcpy(p + 4, pb_mac_dst, 6);
			memcpy(p + 10, pb_mac_src, 6);
			pb_put16(p + 16, next_type);
			break;
		case PB_VNTAG:
			pb_put32(p, e->value);
			pb_put16(p + 4, next_type);
			break;
		case PB_FABRICPATH:
			pb_put16(p, 0x0020); /* FTag 0, TTL 32 */
			memcpy(p + 2, pb_mac_dst, 6);
			memcpy(p + 8, pb_mac_src, 6);
			pb_put16(p + 14, next_type);
			break;
		case PB_LLC_SNAP:
			p[0] = 0xaa;
			p[1] = 0xaa;
			p[2] = 0x03;
			p[3] = p[4] = p[5] = 0; /* OUI 00-00-00: an Ethernet type follows */
			pb_put16(p + 6, next_type);
			break;
		}
		n += pb_encap_len(e);
	}
	return n;
}

/* Link layer + datagram (in pb_datagram, dlen bytes) + padding into out. */
static size_t pb_frame(const struct pb_spec *s, size_t dlen, uint8_t *out, size_t cap,
		       struct pb_layout *layout)
{
	if (s->n_encap < 0 || s->n_encap > PB_MAX_ENCAP)
		return 0;
	/* sizes_after[i]: bytes of encap[i..] */
	size_t sizes_after[PB_MAX_ENCAP + 1];
	sizes_after[s->n_encap] = 0;
	for (int i = s->n_encap - 1; i >= 0; i--)
		sizes_after[i] = sizes_after[i + 1] + pb_encap_len(&s->encap[i]);

	uint8_t hdr[64 + PB_MAX_ENCAP * 18];
	size_t n = 0;
	bool typed = true; /* link types whose header carries an Ethernet type */
	switch (s->link) {
	case PB_LINK_ETHERNET:
		memcpy(hdr, pb_mac_dst, 6);
		memcpy(hdr + 6, pb_mac_src, 6);
		pb_put16(hdr + 12, pb_type_for(s, 0, sizes_after[0] + dlen));
		n = 14;
		break;
	case PB_LINK_SLL:
		memset(hdr, 0, 16);
		pb_put16(hdr + 2, 1); /* ARPHRD_ETHER */
		pb_put16(hdr + 4, 6);
		memcpy(hdr + 6, pb_mac_src, 6);
		pb_put16(hdr + 14, pb_type_for(s, 0, sizes_after[0] + dlen));
		n = 16;
		break;
	case PB_LINK_SLL2:
		memset(hdr, 0, 20);
		pb_put16(hdr, pb_type_for(s, 0, sizes_after[0] + dlen));
		pb_put32(hdr + 4, 1); /* interface index */
		pb_put16(hdr + 8, 1); /* ARPHRD_ETHER */
		hdr[11] = 6;
		memcpy(hdr + 12, pb_mac_src, 6);
		n = 20;
		break;
	case PB_LINK_FDDI:
		hdr[0] = 0x50; /* frame control: LLC, async */
		memcpy(hdr + 1, pb_mac_dst, 6);
		memcpy(hdr + 7, pb_mac_src, 6);
		hdr[13] = 0xaa;
		hdr[14] = 0xaa;
		hdr[15] = 0x03;
		hdr[16] = hdr[17] = hdr[18] = 0;
		pb_put16(hdr + 19, pb_type_for(s, 0, sizes_after[0] + dlen));
		n = 21;
		break;
	case PB_LINK_NULL:
	case PB_LINK_LOOP: {
		uint32_t fam = s->null_family ? s->null_family : (s->ip.version == 6 ? 30u : 2u);
		bool big = s->link == PB_LINK_LOOP || s->null_big_endian;
		if (big) {
			pb_put32(hdr, fam);
		} else {
			hdr[0] = (uint8_t)fam;
			hdr[1] = (uint8_t)(fam >> 8);
			hdr[2] = (uint8_t)(fam >> 16);
			hdr[3] = (uint8_t)(fam >> 24);
		}
		n = 4;
		typed = false;
		break;
	}
	default:
		typed = false;
		break;
	}
	if (!typed && s->n_encap > 0)
		return 0;
	n += pb_write_encaps(s, 0, hdr + n, dlen, sizes_after);

	size_t total = n + dlen + s->pad;
	if (total > cap)
		return 0;
	memcpy(out, hdr, n);
	memcpy(out + n, pb_datagram, dlen);
	memset(out + n + dlen, 0, s->pad);
	if (layout) {
		layout->l3 = n;
		layout->len = total;
	}
	return total;
}

static size_t pb_ip_header_len(const struct pb_spec *s, bool fragment)
{
	if (s->ip.version == 4)
		return 20 + (s->ip.options_len + 3) / 4 * 4;
	size_t h = 40 + (fragment ? 8 : 0);
	for (int i = 0; i < s->ip.n_ext; i++)
		h += s->ip.ext[i].len;
	return h;
}

size_t pb_build_layout(const struct pb_spec *s, uint8_t *out, size_t cap, struct pb_layout *layout)
{
	struct pb_addrs a;
	if (!pb_addrs_of(s, &a) || s->ip.n_ext < 0 || s->ip.n_ext > PB_MAX_EXT)
		return 0;
	size_t seg_len;
	if (!pb_build_segment(s, &a, &seg_len))
		return 0;
	size_t dlen = pb_build_ip(s, &a, 0, (uint32_t)seg_len, false, false);
	if (dlen == 0)
		return 0;
	size_t n = pb_frame(s, dlen, out, cap, layout);
	if (n && layout) {
		layout->l4 = layout->l3 + pb_ip_header_len(s, false);
		size_t hlen = 0;
		pb_l4_header_len(&s->l4, &hlen);
		layout->payload = layout->l4 + hlen;
	}
	return n;
}

size_t pb_build(const struct pb_spec *s, uint8_t *out, size_t cap)
{
	return pb_build_layout(s, out, cap, NULL);
}

size_t pb_build_fragment(const struct pb_spec *s, uint32_t offset, uint32_t len, bool more,
			 uint8_t *out, size_t cap)
{
	struct pb_addrs a;
	if (!pb_addrs_of(s, &a) || s->ip.n_ext < 0 || s->ip.n_ext > PB_MAX_EXT)
		return 0;
	size_t seg_len;
	if (!pb_build_segment(s, &a, &seg_len) || offset > seg_len || len > seg_len - offset)
		return 0;
	size_t dlen = pb_build_ip(s, &a, offset, len, true, more);
	if (dlen == 0)
		return 0;
	return pb_frame(s, dlen, out, cap, NULL);
}
