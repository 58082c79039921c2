/* Link layer: walks the encapsulation headers in front of an IP packet. Like
 * Zeek, once a header says "IP" the IP version nibble decides the rest. */
#include "decode/decode_internal.h"

#define ETH_HDR_LEN 14
#define ETHERTYPE_MIN 0x0600 /* below: an 802.3 length field, LLC follows */
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_MPLS_MCAST 0x8848
#define ETHERTYPE_PPPOE_SESSION 0x8864
#define ETHERTYPE_PBB 0x88e7
#define ETHERTYPE_VNTAG 0x8926
#define ETHERTYPE_FABRICPATH 0x8903

#define PPP_IPV4 0x0021
#define PPP_IPV6 0x0057

#define LLC_SAP_SNAP 0xaa
#define LLC_SAP_IP 0x06
#define LLC_UI 0x03

#define SLL_HDR_LEN 16
#define SLL2_HDR_LEN 20
#define SLL_PROTO_LLC 0x0004 /* 802.2 frames without an Ethernet type */
#define FDDI_HDR_LEN 13
#define FABRICPATH_HDR_LEN 16 /* outer MACs, 0x8903, FTag/TTL; the inner frame follows */

#define NULL_AF_INET 2
#define NULL_AF_INET6_BSD 24
#define NULL_AF_INET6_FREEBSD 28
#define NULL_AF_INET6_DARWIN 30

/* Bounds the tag walk; each step also consumes at least 4 bytes. */
#define LINK_MAX_TAGS 16

/* Where an encapsulation walk stands: at `off`, a payload of type `type`. */
struct link_walk {
	const uint8_t *frame;
	uint32_t caplen;
	uint32_t off;
};

static bool link_have(const struct link_walk *w, uint32_t n)
{
	return w->off <= w->caplen && w->caplen - w->off >= n;
}

static bool link_fail(enum decode_reason r, enum decode_reason *why)
{
	*why = r;
	return false;
}

/* MPLS: labels to the bottom of the stack, then IP by its version nibble. */
static bool link_mpls(struct link_walk *w, enum decode_reason *why)
{
	for (int i = 0; i < LINK_MAX_TAGS; i++) {
		if (!link_have(w, 4))
			return link_fail(DR_TRUNCATED_LINK, why);
		bool bottom = w->frame[w->off + 2] & 0x01;
		w->off += 4;
		if (!bottom)
			continue;
		if (!link_have(w, 1))
			return true; /* nothing after the labels: the IP stage says so */
		uint8_t version = w->frame[w->off] >> 4;
		if (version == 4 || version == 6)
			return true;
		/* e.g. an Ethernet pseudowire: not decoded, as in Zeek */
		return link_fail(DR_UNKNOWN_ETHERTYPE, why);
	}
	return link_fail(DR_UNKNOWN_ETHERTYPE, why);
}

/* 802.2 LLC at w->off: SNAP continues with an Ethernet type, SAP 6 is IPv4. */
static bool link_llc(struct link_walk *w, uint16_t *type, enum decode_reason *why)
{
	if (!link_have(w, 3))
		return link_fail(DR_TRUNCATED_LINK, why);
	const uint8_t *llc = w->frame + w->off;
	if (llc[0] == LLC_SAP_SNAP && llc[1] == LLC_SAP_SNAP && llc[2] == LLC_UI) {
		if (!link_have(w, 8))
			return link_fail(DR_TRUNCATED_LINK, why);
		*type = decode_be16(llc + 6); /* after the 3-byte OUI */
		w->off += 8;
		return true;
	}
	if (llc[0] == LLC_SAP_IP && llc[1] == LLC_SAP_IP && llc[2] == LLC_UI) {
		*type = ETHERTYPE_IPV4;
		w->off += 3;
		return true;
	}
	return link_fail(DR_UNKNOWN_ETHERTYPE, why);
}

/* Follows Ethernet types from w->off until IP starts there. */
static bool link_ethertype(struct link_walk *w, uint16_t type, enum decode_reason *why)
{
	for (int i = 0; i < LINK_MAX_TAGS; i++) {
		switch (type) {
		case ETHERTYPE_IPV4:
		case ETHERTYPE_IPV6:
			return true;
		case ETHERTYPE_VLAN:
		case ETHERTYPE_QINQ:
		case ETHERTYPE_QINQ_OLD:
			if (!link_have(w, 4))
				return link_fail(DR_TRUNCATED_LINK, why);
			type = decode_be16(w->frame + w->off + 2);
			w->off += 4;
			break;
		case ETHERTYPE_VNTAG:
			if (!link_have(w, 6))
				return link_fail(DR_TRUNCATED_LINK, why);
			type = decode_be16(w->frame + w->off + 4);
			w->off += 6;
			break;
		case ETHERTYPE_PBB:
			/* 4-byte I-TAG, then the customer's whole Ethernet header */
			if (!link_have(w, 4 + ETH_HDR_LEN))
				return link_fail(DR_TRUNCATED_LINK, why);
			type = decode_be16(w->frame + w->off + 4 + 12);
			w->off += 4 + ETH_HDR_LEN;
			break;
		case ETHERTYPE_FABRICPATH:
			/* FTag/TTL, then the inner Ethernet header */
			if (!link_have(w, 2 + ETH_HDR_LEN))
				return link_fail(DR_TRUNCATED_LINK, why);
			type = decode_be16(w->frame + w->off + 2 + 12);
			w->off += 2 + ETH_HDR_LEN;
			break;
		case ETHERTYPE_MPLS:
		case ETHERTYPE_MPLS_MCAST:
			return link_mpls(w, why);
		case ETHERTYPE_PPPOE_SESSION: {
			/* ver/type, code, session, length, then the PPP protocol */
			if (!link_have(w, 8))
				return link_fail(DR_TRUNCATED_LINK, why);
			uint16_t ppp = decode_be16(w->frame + w->off + 6);
			w->off += 8;
			if (ppp == PPP_IPV4 || ppp == PPP_IPV6)
				return true;
			return link_fail(DR_UNKNOWN_ETHERTYPE, why); /* LCP, IPCP, ... */
		}
		default:
			if (type >= ETHERTYPE_MIN)
				return link_fail(DR_UNKNOWN_ETHERTYPE, why); /* ARP, LLDP, ... */
			if (!link_llc(w, &type, why))
				return false;
			break;
		}
	}
	return link_fail(DR_UNKNOWN_ETHERTYPE, why);
}

static bool link_ethernet(struct link_walk *w, enum decode_reason *why)
{
	if (!link_have(w, ETH_HDR_LEN))
		return link_fail(DR_TRUNCATED_LINK, why);
	uint16_t type = decode_be16(w->frame + 12);
	w->off = ETH_HDR_LEN;
	return link_ethertype(w, type, why);
}

static bool link_sll(struct link_walk *w, uint32_t hdr_len, uint32_t proto_at,
		     enum decode_reason *why)
{
	if (!link_have(w, hdr_len))
		return link_fail(DR_TRUNCATED_LINK, why);
	uint16_t proto = decode_be16(w->frame + proto_at);
	w->off = hdr_len;
	if (proto == SLL_PROTO_LLC)
		return link_ethertype(w, 0, why); /* a type below 0x600 means LLC */
	if (proto < ETHERTYPE_MIN)
		return link_fail(DR_UNKNOWN_ETHERTYPE, why);
	return link_ethertype(w, proto, why);
}

/* BSD loopback: a 4-byte address family, in the writer's byte order for
 * LINKTYPE_NULL, in network order for LINKTYPE_LOOP. */
static bool link_null(struct link_walk *w, bool network_order, enum decode_reason *why)
{
	if (!link_have(w, 4))
		return link_fail(DR_TRUNCATED_LINK, why);
	const uint8_t *f = w->frame;
	uint32_t family = network_order ? decode_be32(f)
					: (uint32_t)f[3] << 24 | (uint32_t)f[2] << 16 |
						  (uint32_t)f[1] << 8 | f[0];
	/* A NULL capture written on a big-endian host: families are small numbers. */
	if (!network_order && family > 0xffff)
		family = decode_be32(f);
	w->off = 4;
	switch (family) {
	case NULL_AF_INET:
	case NULL_AF_INET6_BSD:
	case NULL_AF_INET6_FREEBSD:
	case NULL_AF_INET6_DARWIN:
		return true;
	default:
		return link_fail(DR_UNKNOWN_ETHERTYPE, why);
	}
}

bool decoder_link_supported(int linktype)
{
	switch (linktype) {
	case KG_LINK_NULL:
	case KG_LINK_ETHERNET:
	case KG_LINK_FDDI:
	case KG_LINK_DLT_RAW:
	case KG_LINK_DLT_RAW_BSD:
	case KG_LINK_RAW:
	case KG_LINK_LOOP:
	case KG_LINK_LINUX_SLL:
	case KG_LINK_IPV4:
	case KG_LINK_IPV6:
	case KG_LINK_LINUX_SLL2:
		return true;
	default:
		return false;
	}
}

bool link_locate_ip(int linktype, const uint8_t *frame, uint32_t caplen, uint32_t *l3_offset,
		    enum decode_reason *why)
{
	struct link_walk w = {.frame = frame, .caplen = caplen, .off = 0};
	bool ok;
	switch (linktype) {
	case KG_LINK_ETHERNET:
		ok = link_ethernet(&w, why);
		break;
	case KG_LINK_FDDI:
		/* frame control, destination, source; then always LLC */
		if (!link_have(&w, FDDI_HDR_LEN))
			return link_fail(DR_TRUNCATED_LINK, why);
		w.off = FDDI_HDR_LEN;
		ok = link_ethertype(&w, 0, why);
		break;
	case KG_LINK_LINUX_SLL:
		ok = link_sll(&w, SLL_HDR_LEN, 14, why);
		break;
	case KG_LINK_LINUX_SLL2:
		ok = link_sll(&w, SLL2_HDR_LEN, 0, why);
		break;
	case KG_LINK_NULL:
		ok = link_null(&w, false, why);
		break;
	case KG_LINK_LOOP:
		ok = link_null(&w, true, why);
		break;
	case KG_LINK_RAW:
	case KG_LINK_DLT_RAW:
	case KG_LINK_DLT_RAW_BSD:
	case KG_LINK_IPV4:
	case KG_LINK_IPV6:
		ok = true;
		break;
	default:
		return link_fail(DR_UNSUPPORTED_LINK, why);
	}
	if (!ok)
		return false;
	*l3_offset = w.off;
	return true;
}
