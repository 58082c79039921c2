/* pktbuild: builds test frames from a description, for unit tests of the
 * decoder, the flow table and everything after them.
 *
 * Include it as "../support/pktbuild.h" from tests/unit.
 *
 * A struct pb_spec describes one frame from the outside in: the link type and
 * any encapsulation tags, the IP header (IPv4 options, IPv6 extension headers,
 * fragment fields), and the transport header with its payload. Every length
 * and checksum comes out correct unless the spec asks for a wrong one, so a
 * test states only what it is about:
 *
 *	struct pb_spec s;
 *	pb_spec_tcp(&s, "10.0.0.1", 40000, "10.0.0.2", 22, TCPF_SYN);
 *	s.l4.seq = 1000;
 *	s.l4.wscale = 7;
 *	uint8_t frame[PB_MAX_FRAME];
 *	size_t n = pb_build(&s, frame, sizeof(frame));
 *	decoder_frame(dec, pb_linktype(&s), KG_SEC(1), frame, (uint32_t)n, &pkt);
 *
 * Encapsulations (Ethernet, SLL and SLL2, FDDI) are listed outer first:
 *
 *	s.encap[s.n_encap++] = (struct pb_encap){PB_QINQ, 100};
 *	s.encap[s.n_encap++] = (struct pb_encap){PB_VLAN, 10};
 *
 * Fragments: pb_build_fragment() builds the whole datagram described by the
 * spec (transport checksum over all of it) and emits only one slice of the
 * fragmentable part, with the fragment offset and MF set. IPv6 extension
 * headers in the spec stay in front of the fragment header (unfragmentable).
 *
 * Truncated captures: build the frame, then pass a smaller caplen.
 * Not thread-safe (it uses static scratch buffers); fine for unit tests. */
#ifndef KG_TEST_PKTBUILD_H
#define KG_TEST_PKTBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PB_MAX_FRAME 70000 /* any frame pb_build can make fits */
#define PB_MAX_ENCAP 16
#define PB_MAX_EXT 16
#define PB_DEFAULT -1 /* for the int overrides below: "write the correct value" */

enum pb_link {
	PB_LINK_ETHERNET, /* KG_LINK_ETHERNET (the default) */
	PB_LINK_SLL,	  /* Linux cooked v1 */
	PB_LINK_SLL2,	  /* Linux cooked v2 */
	PB_LINK_FDDI,	  /* FDDI + LLC/SNAP */
	PB_LINK_NULL,	  /* BSD loopback, family in little-endian (unless null_big_endian) */
	PB_LINK_LOOP,	  /* OpenBSD loopback, family in network order */
	PB_LINK_RAW,	  /* LINKTYPE_RAW (101) */
	PB_LINK_DLT_RAW,  /* DLT_RAW (12) */
	PB_LINK_IPV4,	  /* LINKTYPE_IPV4 (228) */
	PB_LINK_IPV6,	  /* LINKTYPE_IPV6 (229) */
};

enum pb_encap_kind {
	PB_VLAN,       /* 802.1Q tag, TPID 0x8100; value = VLAN id */
	PB_QINQ,       /* 802.1ad service tag, TPID 0x88a8; value = VLAN id */
	PB_QINQ_9100,  /* pre-standard service tag, TPID 0x9100 */
	PB_MPLS,       /* one label (0x8847); value = label. Consecutive entries form
			* a stack; the last gets bottom-of-stack; IP follows */
	PB_MPLS_MCAST, /* the same with ethertype 0x8848 */
	PB_PPPOE,      /* PPPoE session (0x8864) + PPP protocol; value = session id;
			* must be the innermost */
	PB_PBB,	       /* 802.1ah: I-TAG + the customer Ethernet header; value = I-SID */
	PB_VNTAG,      /* VN-Tag (0x8926); value = the 32-bit tag */
	PB_FABRICPATH, /* Cisco FabricPath (0x8903): FTag/TTL + inner Ethernet header */
	PB_LLC_SNAP,   /* 802.3 length in place of the type, then LLC AA AA 03 + SNAP */
};

struct pb_encap {
	enum pb_encap_kind kind;
	uint32_t value;
};

/* An IPv6 extension header, zero-filled apart from next header and length. */
struct pb_ext {
	uint8_t type; /* 0 hop-by-hop, 43 routing, 60 dest opts, 51 AH, 135 ... */
	uint16_t len; /* total bytes: a multiple of 8 (AH: of 4), at least 8 */
};

struct pb_ip {
	int version;	 /* 4 or 6 */
	const char *src; /* dotted or IPv6 text */
	const char *dst;
	uint8_t ttl; /* TTL or hop limit */
	uint8_t tos;
	uint32_t id; /* IPv4 identification, IPv6 fragment identification */
	bool df;
	const uint8_t *options; /* IPv4 options, padded with EOL to 4 bytes */
	size_t options_len;
	struct pb_ext ext[PB_MAX_EXT]; /* IPv6 extension headers, in order */
	int n_ext;
	/* Deliberate errors. */
	int ihl;	    /* raw 4-bit IHL to write, or PB_DEFAULT */
	int total_len;	    /* IPv4 total length / IPv6 payload length to write, or PB_DEFAULT */
	int version_nibble; /* written instead of `version`, or PB_DEFAULT */
	bool bad_checksum;  /* IPv4 header checksum wrong */
};

enum pb_csum {
	PB_CSUM_OK,   /* correct (the default) */
	PB_CSUM_BAD,  /* deliberately wrong */
	PB_CSUM_ZERO, /* 0: "no checksum" for IPv4 UDP */
};

struct pb_l4 {
	uint8_t proto;	/* IPPROTO_NUM_TCP/UDP/ICMP/ICMPV6; any other number: payload only */
	uint16_t sport; /* TCP/UDP */
	uint16_t dport;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint32_t icmp_rest; /* ICMP bytes 4..7 (identifier/sequence, ...) */
	uint8_t tcp_flags;  /* TCPF_* */
	uint32_t seq;
	uint32_t ack;
	uint16_t window;
	int wscale;		    /* window-scale option value, or PB_DEFAULT for none */
	const uint8_t *tcp_options; /* raw options put before the window scale */
	size_t tcp_options_len;	    /* options are padded with EOL to 4 bytes */
	int tcp_doff;		    /* raw 4-bit data offset to write, or PB_DEFAULT */
	int udp_len;		    /* UDP length field to write, or PB_DEFAULT */
	enum pb_csum csum;
	const uint8_t *payload;
	size_t payload_len;
};

struct pb_spec {
	enum pb_link link;
	struct pb_encap encap[PB_MAX_ENCAP]; /* outer first */
	int n_encap;
	uint16_t ethertype;   /* 0: IPv4/IPv6 by version; else the innermost type (ARP...) */
	uint32_t null_family; /* NULL/LOOP family; 0: 2 for IPv4, 30 (Darwin) for IPv6 */
	bool null_big_endian; /* a NULL capture written on a big-endian host */
	struct pb_ip ip;
	struct pb_l4 l4;
	size_t pad; /* zero bytes after the IP datagram (Ethernet padding) */
};

/* Where the parts of a built frame start. */
struct pb_layout {
	size_t l3;	/* IP header */
	size_t l4;	/* transport header (for a fragment: its share of the data) */
	size_t payload; /* transport payload */
	size_t len;	/* whole frame */
};

/* Ethernet, IPv4 10.0.0.1 -> 10.0.0.2 (IPv6 2001:db8::1 -> 2001:db8::2), TTL 64,
 * TCP 40000 -> 80 with ACK, seq 1, ack 1, window 65535, no options. */
void pb_spec_init(struct pb_spec *s, int ip_version);
/* pb_spec_init for the family of src (text containing ':' is IPv6), then the
 * addresses, ports and flags. */
void pb_spec_tcp(struct pb_spec *s, const char *src, uint16_t sport, const char *dst,
		 uint16_t dport, uint8_t flags);
void pb_spec_udp(struct pb_spec *s, const char *src, uint16_t sport, const char *dst,
		 uint16_t dport);
/* ICMP for IPv4 addresses, ICMPv6 for IPv6 ones. */
void pb_spec_icmp(struct pb_spec *s, const char *src, const char *dst, uint8_t type, uint8_t code);
/* Sets the transport payload (not copied: it must outlive pb_build). */
void pb_spec_payload(struct pb_spec *s, const void *data, size_t len);

/* The KG_LINK_* value for s->link. */
int pb_linktype(const struct pb_spec *s);

/* Writes the frame into out; returns its length, or 0 if it does not fit in
 * cap or the spec is invalid (bad address text, unknown version...). */
size_t pb_build(const struct pb_spec *s, uint8_t *out, size_t cap);
/* The same, also telling where each layer starts (layout may be NULL). */
size_t pb_build_layout(const struct pb_spec *s, uint8_t *out, size_t cap, struct pb_layout *layout);
/* One fragment of the datagram s describes: bytes [offset, offset + len) of its
 * fragmentable part (transport header + payload), MF = more. offset is in
 * bytes and should be a multiple of 8. */
size_t pb_build_fragment(const struct pb_spec *s, uint32_t offset, uint32_t len, bool more,
			 uint8_t *out, size_t cap);
/* Length of the fragmentable part (transport header + payload) s describes. */
size_t pb_transport_len(const struct pb_spec *s);

#endif
