/* decode: link layers, IPv4/IPv6, fragments, TCP/UDP/ICMP, malformed input,
 * and a replay of the Zeek test traces (when ../shared is there). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <pcap/pcap.h>

#include "decode/decode.h"
#include "../support/pktbuild.h"

/* Frames are big enough for a maximum-size datagram; keep them off the stack. */
static uint8_t frame_buf[PB_MAX_FRAME];
static uint8_t frame_buf2[PB_MAX_FRAME];

static struct decoder *dec_new_with(bool ignore_checksums, size_t frags, kg_time frag_timeout)
{
	struct decoder_config cfg = {
		.ignore_checksums = ignore_checksums,
		.frag_max_datagrams = frags,
		.frag_timeout = frag_timeout,
	};
	struct decoder *d = decoder_create(&cfg);
	assert_non_null(d);
	return d;
}

static struct decoder *dec_new(bool ignore_checksums)
{
	return dec_new_with(ignore_checksums, 16, 0);
}

static size_t build(const struct pb_spec *s)
{
	size_t n = pb_build(s, frame_buf, sizeof(frame_buf));
	assert_true(n > 0);
	return n;
}

/* Builds s, decodes it whole and expects it to decode. */
static void decode_ok(struct decoder *d, const struct pb_spec *s, struct packet *p)
{
	size_t n = build(s);
	assert_int_equal(decoder_frame(d, pb_linktype(s), KG_SEC(1), frame_buf, (uint32_t)n, p),
			 DECODE_OK);
}

static uint64_t reason_sum(const struct decoder_stats *st)
{
	uint64_t sum = 0;
	for (int r = 0; r < DR_COUNT; r++)
		sum += st->reason[r];
	return sum;
}

/* Decodes a frame, expecting DECODE_SKIP counted under exactly `want`. */
static void expect_skip_frame(struct decoder *d, int linktype, const uint8_t *f, uint32_t caplen,
			      enum decode_reason want)
{
	struct decoder_stats before = *decoder_stats(d);
	struct packet p;
	enum decode_status st = decoder_frame(d, linktype, KG_SEC(1), f, caplen, &p);
	const struct decoder_stats *after = decoder_stats(d);
	if (st != DECODE_SKIP || after->reason[want] != before.reason[want] + 1)
		fail_msg("caplen %u: wanted skip for %s (status %d)", caplen,
			 decode_reason_name(want), (int)st);
	assert_int_equal(reason_sum(after), reason_sum(&before) + 1);
	assert_int_equal(after->decoded, before.decoded);
}

static void expect_skip(struct decoder *d, const struct pb_spec *s, enum decode_reason want)
{
	size_t n = build(s);
	expect_skip_frame(d, pb_linktype(s), frame_buf, (uint32_t)n, want);
}

static void assert_addr(const struct kg_addr *a, const char *text)
{
	struct kg_addr want;
	assert_true(addr_parse(text, &want));
	assert_memory_equal(a->b, want.b, 16);
}

/* ---- link layers ---- */

static void test_ethernet_ipv4_tcp_fields(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	static const uint8_t data[5] = "hello";
	pb_spec_tcp(&s, "192.0.2.1", 40001, "198.51.100.7", 443, TCPF_PSH | TCPF_ACK);
	s.l4.seq = 0x01020304;
	s.l4.ack = 0xa0b0c0d0;
	s.l4.window = 1234;
	s.ip.ttl = 61;
	pb_spec_payload(&s, data, sizeof(data));
	struct packet p;
	decode_ok(d, &s, &p);
	assert_int_equal(p.ts, KG_SEC(1));
	assert_int_equal(p.ip_version, 4);
	assert_int_equal(p.ip_proto, IPPROTO_NUM_TCP);
	assert_int_equal(p.ttl, 61);
	assert_addr(&p.src, "192.0.2.1");
	assert_addr(&p.dst, "198.51.100.7");
	assert_int_equal(p.ip_len, 20 + 20 + 5);
	assert_false(p.truncated);
	assert_false(p.reassembled);
	assert_ptr_equal(p.l3, frame_buf + 14);
	assert_int_equal(p.l3_caplen, 45);
	assert_ptr_equal(p.l4, frame_buf + 34);
	assert_int_equal(p.l4_len, 25);
	assert_int_equal(p.l4_caplen, 25);
	assert_int_equal(p.sport, 40001);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.tcp_flags, TCPF_PSH | TCPF_ACK);
	assert_int_equal(p.seq, 0x01020304);
	assert_int_equal(p.ack, 0xa0b0c0d0);
	assert_int_equal(p.window, 1234);
	assert_int_equal(p.wscale, -1);
	assert_false(p.l4_header_bad);
	assert_int_equal(p.payload_len, 5);
	assert_int_equal(p.payload_caplen, 5);
	assert_memory_equal(p.payload, "hello", 5);
	assert_int_equal(p.csum, L4_CSUM_OK);
	const struct decoder_stats *st = decoder_stats(d);
	assert_int_equal(st->packets, 1);
	assert_int_equal(st->decoded, 1);
	assert_int_equal(reason_sum(st), 0);
	decoder_destroy(d);
}

static void test_ethernet_ipv6_udp_fields(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	static const uint8_t data[3] = {1, 2, 3};
	pb_spec_udp(&s, "2001:db8::10", 5353, "ff02::fb", 5353);
	s.ip.ttl = 255;
	pb_spec_payload(&s, data, sizeof(data));
	struct packet p;
	decode_ok(d, &s, &p);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.ip_proto, IPPROTO_NUM_UDP);
	assert_int_equal(p.ttl, 255);
	assert_addr(&p.src, "2001:db8::10");
	assert_addr(&p.dst, "ff02::fb");
	assert_int_equal(p.ip_len, 40 + 8 + 3);
	assert_int_equal(p.udp_len, 11);
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.dport, 5353);
	assert_int_equal(p.payload_len, 3);
	assert_int_equal(p.csum, L4_CSUM_OK);
	decoder_destroy(d);
}

/* Every encapsulation around the same TCP packet gives the same result. */
static void check_encap(const struct pb_encap *encaps, int n, int ip_version)
{
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	if (ip_version == 6)
		pb_spec_tcp(&s, "2001:db8::1", 1111, "2001:db8::2", 22, TCPF_SYN);
	else
		pb_spec_tcp(&s, "10.1.1.1", 1111, "10.2.2.2", 22, TCPF_SYN);
	for (int i = 0; i < n; i++)
		s.encap[s.n_encap++] = encaps[i];
	struct pb_layout lay;
	size_t len = pb_build_layout(&s, frame_buf, sizeof(frame_buf), &lay);
	assert_true(len > 0);
	struct packet p;
	assert_int_equal(decoder_frame(d, KG_LINK_ETHERNET, 0, frame_buf, (uint32_t)len, &p),
			 DECODE_OK);
	assert_ptr_equal(p.l3, frame_buf + lay.l3);
	assert_int_equal(p.ip_version, ip_version);
	assert_int_equal(p.sport, 1111);
	assert_int_equal(p.dport, 22);
	assert_int_equal(p.tcp_flags, TCPF_SYN);
	assert_int_equal(p.csum, L4_CSUM_OK);
	/* Cut anywhere inside the link-layer headers: truncated link. */
	for (size_t cut = 1; cut < lay.l3; cut++)
		expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf, (uint32_t)cut, DR_TRUNCATED_LINK);
	/* Cut right where IP starts: not even a version nibble. */
	expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf, (uint32_t)lay.l3, DR_TRUNCATED_IP);
	decoder_destroy(d);
}

static void test_vlan_and_qinq(void **state)
{
	(void)state;
	const struct pb_encap vlan[] = {{PB_VLAN, 10}};
	const struct pb_encap qinq[] = {{PB_QINQ, 100}, {PB_VLAN, 10}};
	const struct pb_encap qinq_old[] = {{PB_QINQ_9100, 100}, {PB_VLAN, 10}};
	const struct pb_encap triple[] = {{PB_VLAN, 1}, {PB_VLAN, 2}, {PB_VLAN, 3}};
	check_encap(vlan, 1, 4);
	check_encap(vlan, 1, 6);
	check_encap(qinq, 2, 4);
	check_encap(qinq_old, 2, 6);
	check_encap(triple, 3, 4);
}

static void test_mpls(void **state)
{
	(void)state;
	const struct pb_encap one[] = {{PB_MPLS, 29}};
	const struct pb_encap stack[] = {{PB_MPLS, 100}, {PB_MPLS, 200}, {PB_MPLS, 300}};
	const struct pb_encap mcast[] = {{PB_MPLS_MCAST, 7}};
	const struct pb_encap vlan_mpls[] = {{PB_VLAN, 4093}, {PB_MPLS, 29}};
	check_encap(one, 1, 4);
	check_encap(stack, 3, 6);
	check_encap(mcast, 1, 4);
	check_encap(vlan_mpls, 2, 4);
}

static void test_mpls_without_ip(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_init(&s, 4);
	s.encap[s.n_encap++] = (struct pb_encap){PB_MPLS, 29};
	struct pb_layout lay;
	size_t n = pb_build_layout(&s, frame_buf, sizeof(frame_buf), &lay);
	frame_buf[lay.l3] = 0x00; /* an Ethernet pseudowire control word, not IP */
	expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf, (uint32_t)n, DR_UNKNOWN_ETHERTYPE);
	decoder_destroy(d);
}

static void test_pppoe(void **state)
{
	(void)state;
	const struct pb_encap pppoe[] = {{PB_PPPOE, 0x11}};
	const struct pb_encap vlan_pppoe[] = {{PB_VLAN, 7}, {PB_PPPOE, 0x11}};
	check_encap(pppoe, 1, 4);
	check_encap(pppoe, 1, 6);
	check_encap(vlan_pppoe, 2, 4);

	/* LCP and friends are not IP. */
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_init(&s, 4);
	s.encap[s.n_encap++] = (struct pb_encap){PB_PPPOE, 0x11};
	struct pb_layout lay;
	size_t n = pb_build_layout(&s, frame_buf, sizeof(frame_buf), &lay);
	frame_buf[lay.l3 - 2] = 0xc0;
	frame_buf[lay.l3 - 1] = 0x21;
	expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf, (uint32_t)n, DR_UNKNOWN_ETHERTYPE);
	decoder_destroy(d);
}

static void test_pbb_vntag_fabricpath(void **state)
{
	(void)state;
	const struct pb_encap pbb[] = {{PB_VLAN, 4051}, {PB_PBB, 0x1ebb30}};
	const struct pb_encap pbb_vlan[] = {{PB_VLAN, 4051}, {PB_PBB, 0x1ebb30}, {PB_VLAN, 4020}};
	const struct pb_encap vntag[] = {{PB_VLAN, 250}, {PB_VNTAG, 0x33}, {PB_VLAN, 250}};
	const struct pb_encap fabricpath[] = {{PB_FABRICPATH, 0}};
	check_encap(pbb, 2, 4);
	check_encap(pbb_vlan, 3, 6);
	check_encap(vntag, 3, 4);
	check_encap(fabricpath, 1, 4);
	check_encap(fabricpath, 1, 6);
}

static void test_llc_snap(void **state)
{
	(void)state;
	const struct pb_encap snap[] = {{PB_LLC_SNAP, 0}};
	const struct pb_encap vlan_snap[] = {{PB_VLAN, 5}, {PB_LLC_SNAP, 0}};
	check_encap(snap, 1, 4);
	check_encap(vlan_snap, 2, 6);

	/* Spanning tree (SAP 0x42) is 802.2 but not IP. */
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_init(&s, 4);
	s.encap[s.n_encap++] = (struct pb_encap){PB_LLC_SNAP, 0};
	size_t n = build(&s);
	frame_buf[14] = frame_buf[15] = 0x42;
	expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf, (uint32_t)n, DR_UNKNOWN_ETHERTYPE);
	decoder_destroy(d);
}

static void test_non_ip_ethertype(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_init(&s, 4);
	s.ethertype = 0x0806; /* ARP */
	expect_skip(d, &s, DR_UNKNOWN_ETHERTYPE);
	s.ethertype = 0x88cc; /* LLDP, behind a VLAN tag */
	s.encap[s.n_encap++] = (struct pb_encap){PB_VLAN, 3};
	expect_skip(d, &s, DR_UNKNOWN_ETHERTYPE);
	decoder_destroy(d);
}

/* A link type's header alone, cut short, is a truncated link. */
static void check_link(enum pb_link link, int ip_version, size_t hdr_len)
{
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_init(&s, ip_version);
	s.link = link;
	s.l4.sport = 3333;
	struct pb_layout lay;
	size_t n = pb_build_layout(&s, frame_buf, sizeof(frame_buf), &lay);
	assert_true(n > 0);
	assert_int_equal(lay.l3, hdr_len);
	struct packet p;
	assert_int_equal(decoder_frame(d, pb_linktype(&s), 0, frame_buf, (uint32_t)n, &p),
			 DECODE_OK);
	assert_int_equal(p.ip_version, ip_version);
	assert_ptr_equal(p.l3, frame_buf + hdr_len);
	assert_int_equal(p.sport, 3333);
	assert_true(decoder_link_supported(pb_linktype(&s)));
	for (size_t cut = 1; cut < hdr_len; cut++)
		expect_skip_frame(d, pb_linktype(&s), frame_buf, (uint32_t)cut, DR_TRUNCATED_LINK);
	decoder_destroy(d);
}

static void test_cooked_and_fddi(void **state)
{
	(void)state;
	check_link(PB_LINK_SLL, 4, 16);
	check_link(PB_LINK_SLL, 6, 16);
	check_link(PB_LINK_SLL2, 4, 20);
	check_link(PB_LINK_SLL2, 6, 20);
	check_link(PB_LINK_FDDI, 4, 21);
	check_link(PB_LINK_ETHERNET, 6, 14);

	/* SLL with a VLAN tag left in. */
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_init(&s, 4);
	s.link = PB_LINK_SLL;
	s.encap[s.n_encap++] = (struct pb_encap){PB_VLAN, 9};
	struct packet p;
	decode_ok(d, &s, &p);
	assert_ptr_equal(p.l3, frame_buf + 20);
	decoder_destroy(d);
}

static void test_null_and_loop(void **state)
{
	(void)state;
	check_link(PB_LINK_NULL, 4, 4);
	check_link(PB_LINK_NULL, 6, 4);
	check_link(PB_LINK_LOOP, 4, 4);
	check_link(PB_LINK_LOOP, 6, 4);

	struct decoder *d = dec_new(false);
	struct pb_spec s;
	struct packet p;
	static const uint32_t v6_families[] = {24, 28, 30};
	for (size_t i = 0; i < 3; i++) {
		pb_spec_init(&s, 6);
		s.link = PB_LINK_NULL;
		s.null_family = v6_families[i];
		decode_ok(d, &s, &p);
		assert_int_equal(p.ip_version, 6);
		s.null_big_endian = true; /* written on a big-endian host */
		decode_ok(d, &s, &p);
		s.link = PB_LINK_LOOP;
		decode_ok(d, &s, &p);
	}
	pb_spec_init(&s, 4);
	s.link = PB_LINK_NULL;
	s.null_family = 7; /* not an IP family */
	expect_skip(d, &s, DR_UNKNOWN_ETHERTYPE);
	decoder_destroy(d);
}

static void test_raw_links(void **state)
{
	(void)state;
	static const enum pb_link raws[] = {PB_LINK_RAW, PB_LINK_DLT_RAW, PB_LINK_IPV4};
	for (size_t i = 0; i < 3; i++)
		check_link(raws[i], 4, 0);
	check_link(PB_LINK_RAW, 6, 0);
	check_link(PB_LINK_IPV6, 6, 0);

	/* DLT_RAW_BSD (14) is the same raw IP. */
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_init(&s, 4);
	s.link = PB_LINK_RAW;
	size_t n = build(&s);
	struct packet p;
	assert_int_equal(decoder_frame(d, KG_LINK_DLT_RAW_BSD, 0, frame_buf, (uint32_t)n, &p),
			 DECODE_OK);
	/* decoder_ip is raw IP too (NFQUEUE). */
	assert_int_equal(decoder_ip(d, 0, frame_buf, (uint32_t)n, &p), DECODE_OK);
	assert_int_equal(p.sport, 40000);
	decoder_destroy(d);
}

static void test_unsupported_link_and_zero_length(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_init(&s, 4);
	size_t n = build(&s);
	assert_false(decoder_link_supported(105)); /* 802.11 */
	assert_false(decoder_link_supported(127)); /* radiotap */
	expect_skip_frame(d, 105, frame_buf, (uint32_t)n, DR_UNSUPPORTED_LINK);
	expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf, 0, DR_ZERO_LENGTH);
	struct packet p;
	assert_int_equal(decoder_ip(d, 0, frame_buf, 0, &p), DECODE_SKIP);
	assert_int_equal(decoder_stats(d)->reason[DR_ZERO_LENGTH], 2);
	assert_int_equal(decoder_stats(d)->packets, 3);
	decoder_destroy(d);
}

static void test_reason_names(void **state)
{
	(void)state;
	assert_string_equal(decode_reason_name(DR_TRUNCATED_LINK), "truncated_link");
	assert_string_equal(decode_reason_name(DR_BAD_IP_CHECKSUM), "bad_ip_checksum");
	assert_string_equal(decode_reason_name(DR_FRAG_PENDING), "frag_pending");
	assert_string_equal(decode_reason_name(DR_FRAG_TIMEOUT), "frag_timeout");
	assert_string_equal(decode_reason_name(DR_COUNT), "unknown");
	/* Every reason has its own snake_case name. */
	for (int r = 0; r < DR_COUNT; r++) {
		const char *name = decode_reason_name((enum decode_reason)r);
		assert_string_not_equal(name, "unknown");
		for (const char *c = name; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
				    *c == '_');
		for (int o = 0; o < r; o++)
			assert_string_not_equal(name, decode_reason_name((enum decode_reason)o));
	}
}

/* ---- IPv4 ---- */

static void test_ipv4_options_and_padding(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	static const uint8_t opts[8] = {0x94, 0x04, 0, 0, 1, 1, 1, 0}; /* router alert, NOPs */
	static const uint8_t data[4] = {9, 9, 9, 9};
	pb_spec_udp(&s, "10.0.0.1", 1000, "10.0.0.2", 2000);
	s.ip.options = opts;
	s.ip.options_len = sizeof(opts);
	pb_spec_payload(&s, data, sizeof(data));
	s.pad = 18; /* Ethernet minimum-frame padding */
	struct packet p;
	decode_ok(d, &s, &p);
	assert_ptr_equal(p.l4, p.l3 + 28);
	assert_int_equal(p.ip_len, 28 + 8 + 4);
	assert_int_equal(p.l3_caplen, 40); /* the padding is not IP */
	assert_int_equal(p.l4_len, 12);
	assert_int_equal(p.l4_caplen, 12);
	assert_int_equal(p.payload_len, 4);
	assert_int_equal(p.payload_caplen, 4);
	assert_int_equal(p.sport, 1000);
	assert_int_equal(p.csum, L4_CSUM_OK);
	decoder_destroy(d);
}

static void test_ipv4_bad_headers(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_init(&s, 4);

	s.ip.ihl = 4; /* below the minimum */
	expect_skip(d, &s, DR_BAD_IHL);
	s.ip.ihl = 15; /* 60 bytes: past the 40 captured */
	s.ip.total_len = 100;
	size_t n = build(&s);
	expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf, 14 + 40, DR_BAD_IHL);
	(void)n;

	pb_spec_init(&s, 4);
	s.ip.total_len = 19; /* less than the header */
	expect_skip(d, &s, DR_BAD_IP_LEN);

	pb_spec_init(&s, 4);
	s.ip.version_nibble = 5;
	expect_skip(d, &s, DR_BAD_IP_VERSION);

	/* Shorter than a minimal header, at every length. */
	pb_spec_init(&s, 4);
	n = build(&s);
	for (uint32_t cut = 1; cut < 20; cut++)
		expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf, 14 + cut, DR_TRUNCATED_IP);
	decoder_destroy(d);
}

static void test_ipv4_header_checksum(void **state)
{
	(void)state;
	struct pb_spec s;
	pb_spec_init(&s, 4);
	s.ip.bad_checksum = true;

	struct decoder *d = dec_new(false);
	expect_skip(d, &s, DR_BAD_IP_CHECKSUM);
	decoder_destroy(d);

	d = dec_new(true); /* -C */
	struct packet p;
	decode_ok(d, &s, &p);
	assert_int_equal(p.csum, L4_CSUM_NOT_CHECKED);
	decoder_destroy(d);
}

static void test_ipv4_truncated_capture(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	static uint8_t data[1000];
	memset(data, 'x', sizeof(data));
	pb_spec_tcp(&s, "10.0.0.1", 5000, "10.0.0.2", 80, TCPF_ACK);
	pb_spec_payload(&s, data, sizeof(data));
	size_t n = build(&s);
	uint32_t caplen = 14 + 20 + 20 + 100; /* a 154-byte snaplen */
	assert_true(n > caplen);
	struct packet p;
	assert_int_equal(decoder_frame(d, KG_LINK_ETHERNET, 0, frame_buf, caplen, &p), DECODE_OK);
	assert_true(p.truncated);
	assert_int_equal(p.ip_len, 1040);
	assert_int_equal(p.l3_caplen, 140);
	assert_int_equal(p.l4_len, 1020);
	assert_int_equal(p.l4_caplen, 120);
	assert_int_equal(p.payload_len, 1000); /* from the IP lengths, not the capture */
	assert_int_equal(p.payload_caplen, 100);
	assert_int_equal(p.csum, L4_CSUM_NOT_CHECKED);
	decoder_destroy(d);
}

static void test_ipv4_zero_total_length(void **state)
{
	(void)state;
	struct pb_spec s;
	static const uint8_t data[100] = {0};
	pb_spec_tcp(&s, "10.0.0.1", 5000, "10.0.0.2", 389, TCPF_ACK | TCPF_PSH);
	pb_spec_payload(&s, data, sizeof(data));
	s.ip.total_len = 0; /* segmentation offload */

	struct decoder *d = dec_new(false);
	expect_skip(d, &s, DR_BAD_IP_LEN);
	decoder_destroy(d);

	/* With -C Zeek takes the captured length, and counts 0 bytes. */
	d = dec_new(true);
	struct packet p;
	decode_ok(d, &s, &p);
	assert_int_equal(p.ip_len, 0);
	assert_int_equal(p.l4_len, 120);
	assert_int_equal(p.payload_len, 100);
	assert_false(p.truncated);
	decoder_destroy(d);
}

static void test_ipv4_other_protocols(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	static const uint8_t gre[12] = {0, 0, 0x08, 0};
	static const uint8_t proto_list[] = {47 /* GRE */, 50 /* ESP */, 132 /* SCTP */, 99};
	for (size_t i = 0; i < sizeof(proto_list); i++) {
		pb_spec_init(&s, 4);
		s.l4.proto = proto_list[i];
		pb_spec_payload(&s, gre, sizeof(gre));
		struct packet p;
		decode_ok(d, &s, &p);
		assert_int_equal(p.ip_proto, proto_list[i]);
		assert_int_equal(p.sport, 0);
		assert_int_equal(p.dport, 0);
		assert_int_equal(p.l4_len, 12);
		assert_ptr_equal(p.payload, p.l4);
		assert_int_equal(p.payload_len, 12);
		assert_int_equal(p.csum, L4_CSUM_NOT_CHECKED);
	}
	decoder_destroy(d);
}

/* ---- IPv6 ---- */

static void test_ipv6_extension_chain(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_tcp(&s, "2001:db8::1", 1234, "2001:db8::2", 80, TCPF_SYN);
	s.ip.ext[s.ip.n_ext++] = (struct pb_ext){0, 8};	  /* hop-by-hop */
	s.ip.ext[s.ip.n_ext++] = (struct pb_ext){43, 24}; /* routing */
	s.ip.ext[s.ip.n_ext++] = (struct pb_ext){51, 12}; /* AH: length in 4-byte units */
	s.ip.ext[s.ip.n_ext++] = (struct pb_ext){60, 16}; /* destination options */
	struct packet p;
	decode_ok(d, &s, &p);
	assert_int_equal(p.ip_proto, IPPROTO_NUM_TCP);
	assert_ptr_equal(p.l4, p.l3 + 40 + 8 + 24 + 12 + 16);
	assert_int_equal(p.ip_len, 40 + 60 + 20);
	assert_int_equal(p.l4_len, 20);
	assert_int_equal(p.sport, 1234);
	assert_int_equal(p.csum, L4_CSUM_OK);

	/* Cut inside any extension header: truncated chain. */
	size_t n = build(&s);
	for (uint32_t cut = 40; cut < 100; cut++)
		expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf, 14 + cut, DR_IPV6_EXT_TRUNCATED);
	(void)n;
	/* A payload length that ends inside the chain. */
	s.ip.total_len = 30;
	expect_skip(d, &s, DR_IPV6_EXT_TRUNCATED);
	decoder_destroy(d);
}

/* A type 0 routing header with segments left: the last address is where the
 * packet is going, for Zeek's key and for the checksum's pseudo header. */
static void test_ipv6_routing_final_destination(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_tcp(&s, "2001:db8::1", 1234, "2001:db8::99", 80, TCPF_SYN);
	s.ip.ext[s.ip.n_ext++] = (struct pb_ext){43, 24}; /* one address */
	struct pb_layout lay;
	size_t n = pb_build_layout(&s, frame_buf, sizeof(frame_buf), &lay);
	uint8_t *ip = frame_buf + lay.l3;
	uint8_t *rh = ip + 40;
	memcpy(rh + 8, ip + 24, 16); /* the final destination goes into the header */
	ip[24 + 15] = 0x05;	     /* and the first hop into the fixed header */
	rh[2] = 0;		     /* type 0 */
	rh[3] = 1;		     /* one segment left */
	struct packet p;
	assert_int_equal(decoder_frame(d, KG_LINK_ETHERNET, 0, frame_buf, (uint32_t)n, &p),
			 DECODE_OK);
	assert_addr(&p.dst, "2001:db8::99");
	assert_int_equal(p.csum, L4_CSUM_OK);

	/* No segments left: the fixed header's destination stands. */
	rh[3] = 0;
	assert_int_equal(decoder_frame(d, KG_LINK_ETHERNET, 0, frame_buf, (uint32_t)n, &p),
			 DECODE_OK);
	assert_addr(&p.dst, "2001:db8::5");
	assert_int_equal(p.csum, L4_CSUM_BAD);
	decoder_destroy(d);
}

static void test_ipv6_extension_loop(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_init(&s, 6);
	for (int i = 0; i < 10; i++)
		s.ip.ext[s.ip.n_ext++] = (struct pb_ext){60, 8};
	struct packet p;
	decode_ok(d, &s, &p); /* ten is allowed */
	s.ip.ext[s.ip.n_ext++] = (struct pb_ext){60, 8};
	expect_skip(d, &s, DR_IPV6_EXT_LOOP);
	decoder_destroy(d);
}

static void test_ipv6_no_transport(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	static const uint8_t esp[16] = {0, 0, 0, 1, 0, 0, 0, 1};
	pb_spec_init(&s, 6);
	s.l4.proto = 50; /* ESP */
	pb_spec_payload(&s, esp, sizeof(esp));
	expect_skip(d, &s, DR_IPV6_NO_TRANSPORT);
	s.l4.proto = 59; /* no next header */
	s.ip.ext[s.ip.n_ext++] = (struct pb_ext){0, 8};
	expect_skip(d, &s, DR_IPV6_NO_TRANSPORT);

	/* Mobility (135) is an upper layer for Zeek's default build. */
	s.l4.proto = 135;
	struct packet p;
	decode_ok(d, &s, &p);
	assert_int_equal(p.ip_proto, 135);
	assert_int_equal(p.sport, 0);
	decoder_destroy(d);
}

static void test_ipv6_truncated_and_version(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_init(&s, 6);
	build(&s);
	for (uint32_t cut = 1; cut < 40; cut++)
		expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf, 14 + cut, DR_TRUNCATED_IP);
	s.ip.version_nibble = 7;
	expect_skip(d, &s, DR_BAD_IP_VERSION);
	decoder_destroy(d);
}

/* ---- TCP ---- */

static void test_tcp_window_scale(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	struct packet p;
	/* MSS, SACK permitted, timestamps, then NOP + window scale 7. */
	static const uint8_t opts[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0};
	pb_spec_tcp(&s, "10.0.0.1", 1, "10.0.0.2", 2, TCPF_SYN);
	s.l4.tcp_options = opts;
	s.l4.tcp_options_len = sizeof(opts);
	s.l4.wscale = 7;
	decode_ok(d, &s, &p);
	assert_int_equal(p.wscale, 7);
	assert_int_equal(p.payload_len, 0);
	assert_ptr_equal(p.payload, p.l4 + 40);

	s.l4.tcp_flags = TCPF_SYN | TCPF_ACK;
	s.l4.wscale = 0;
	decode_ok(d, &s, &p);
	assert_int_equal(p.wscale, 0);

	s.l4.tcp_flags = TCPF_ACK; /* only meaningful on a SYN */
	s.l4.wscale = 7;
	decode_ok(d, &s, &p);
	assert_int_equal(p.wscale, -1);

	s.l4.tcp_flags = TCPF_SYN;
	s.l4.wscale = 30; /* RFC 7323: more than 14 means 14 */
	decode_ok(d, &s, &p);
	assert_int_equal(p.wscale, 14);

	s.l4.tcp_options = NULL;
	s.l4.tcp_options_len = 0;
	s.l4.wscale = PB_DEFAULT;
	decode_ok(d, &s, &p);
	assert_int_equal(p.wscale, -1);
	decoder_destroy(d);
}

static void test_tcp_malformed_options(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	struct packet p;
	/* A zero option length stops the walk before the window scale. */
	static const uint8_t zero_len[] = {2, 0, 1, 1, 3, 3, 5, 0};
	/* A length running past the header. */
	static const uint8_t past_end[] = {1, 1, 3, 9, 5, 0, 0, 0};
	/* Window scale with a short length field. */
	static const uint8_t short_ws[] = {3, 2, 1, 1};
	const uint8_t *cases[] = {zero_len, past_end, short_ws};
	size_t lens[] = {sizeof(zero_len), sizeof(past_end), sizeof(short_ws)};
	for (size_t i = 0; i < 3; i++) {
		pb_spec_tcp(&s, "10.0.0.1", 1, "10.0.0.2", 2, TCPF_SYN);
		s.l4.tcp_options = cases[i];
		s.l4.tcp_options_len = lens[i];
		decode_ok(d, &s, &p);
		assert_int_equal(p.wscale, -1);
	}
	/* EOL ends the list. */
	static const uint8_t eol_first[] = {0, 3, 3, 5};
	s.l4.tcp_options = eol_first;
	s.l4.tcp_options_len = sizeof(eol_first);
	decode_ok(d, &s, &p);
	assert_int_equal(p.wscale, -1);
	decoder_destroy(d);
}

/* Zeek makes the connection before it checks the data offset. */
static void expect_bad_header(struct decoder *d, const struct pb_spec *s, uint32_t caplen,
			      enum decode_reason weird)
{
	build(s);
	struct decoder_stats before = *decoder_stats(d);
	struct packet p;
	assert_int_equal(decoder_frame(d, KG_LINK_ETHERNET, 0, frame_buf, caplen, &p), DECODE_OK);
	assert_true(p.l4_header_bad);
	assert_int_equal(p.sport, s->l4.sport);
	assert_int_equal(p.dport, s->l4.dport);
	/* The flags are in the fixed header: the creation-time flip needs them. */
	assert_int_equal(p.tcp_flags, s->l4.tcp_flags);
	assert_null(p.payload);
	assert_int_equal(p.csum, L4_CSUM_NOT_CHECKED);
	assert_int_equal(decoder_stats(d)->reason[weird], before.reason[weird] + 1);
	assert_int_equal(decoder_stats(d)->decoded, before.decoded + 1);
}

static void test_tcp_data_offset(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_tcp(&s, "10.0.0.1", 7, "10.0.0.2", 8, TCPF_SYN);
	size_t n = build(&s);
	s.l4.tcp_doff = 4; /* below 5 */
	expect_bad_header(d, &s, (uint32_t)n, DR_BAD_TCP_OFFSET);
	s.l4.tcp_doff = 6; /* 24 bytes in a 20-byte segment */
	expect_bad_header(d, &s, (uint32_t)n, DR_BAD_TCP_OFFSET);

	/* Options cut off by the snaplen (core.vntag-in-vlan): a truncated header. */
	static const uint8_t opts[20] = {1, 1, 1, 1};
	s.l4.tcp_doff = PB_DEFAULT;
	s.l4.tcp_options = opts;
	s.l4.tcp_options_len = sizeof(opts);
	expect_bad_header(d, &s, 14 + 20 + 24, DR_TRUNCATED_TCP);
	decoder_destroy(d);
}

static void test_tcp_truncated_header(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	pb_spec_init(&s, 4);
	build(&s);
	for (uint32_t cut = 0; cut < 20; cut++)
		expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf, 14 + 20 + cut, DR_TRUNCATED_TCP);
	/* The IP length leaves less than a TCP header. */
	s.ip.total_len = 20 + 12;
	expect_skip(d, &s, DR_TRUNCATED_TCP);
	pb_spec_init(&s, 6);
	s.ip.total_len = 19;
	expect_skip(d, &s, DR_TRUNCATED_TCP);
	decoder_destroy(d);
}

static void test_tcp_checksums(void **state)
{
	(void)state;
	struct pb_spec s;
	struct packet p;
	static const uint8_t data[7] = "GET / ";
	for (int v = 4; v <= 6; v += 2) {
		if (v == 4)
			pb_spec_tcp(&s, "10.0.0.1", 1, "10.0.0.2", 2, TCPF_ACK);
		else
			pb_spec_tcp(&s, "2001:db8::1", 1, "2001:db8::2", 2, TCPF_ACK);
		pb_spec_payload(&s, data, sizeof(data)); /* odd length */
		struct decoder *d = dec_new(false);
		decode_ok(d, &s, &p);
		assert_int_equal(p.csum, L4_CSUM_OK);
		s.l4.csum = PB_CSUM_BAD;
		decode_ok(d, &s, &p); /* a bad checksum is still passed on: Zeek adds 'C' */
		assert_int_equal(p.csum, L4_CSUM_BAD);
		decoder_destroy(d);

		d = dec_new(true);
		decode_ok(d, &s, &p);
		assert_int_equal(p.csum, L4_CSUM_NOT_CHECKED);
		decoder_destroy(d);

		/* NFQUEUE with GSO hands up packets whose checksum is not filled
		 * in yet: the caller says so, and only that packet is spared. */
		s.link = PB_LINK_RAW;
		size_t n = build(&s);
		d = dec_new(false);
		assert_int_equal(decoder_ip_flags(d, 0, frame_buf, (uint32_t)n,
						  DECODE_F_L4_CSUM_UNSET, &p),
				 DECODE_OK);
		assert_int_equal(p.csum, L4_CSUM_NOT_CHECKED);
		assert_int_equal(decoder_ip(d, 0, frame_buf, (uint32_t)n, &p), DECODE_OK);
		assert_int_equal(p.csum, L4_CSUM_BAD);
		decoder_destroy(d);
	}
}

/* ---- UDP ---- */

static void test_udp_lengths(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	struct packet p;
	static const uint8_t data[40] = {0};
	pb_spec_udp(&s, "10.0.0.1", 53, "10.0.0.2", 5353);
	pb_spec_payload(&s, data, sizeof(data));

	s.l4.udp_len = 7;
	expect_skip(d, &s, DR_BAD_UDP_LEN);

	/* A length field larger than the IP payload: Zeek counts the field. */
	s.l4.udp_len = 100;
	s.l4.csum = PB_CSUM_ZERO;
	decode_ok(d, &s, &p);
	assert_int_equal(p.udp_len, 100);
	assert_int_equal(p.payload_len, 92);
	assert_int_equal(p.payload_caplen, 40); /* never more than is there */
	assert_int_equal(p.l4_len, 48);

	/* Smaller than the IP payload. */
	s.l4.udp_len = 20;
	decode_ok(d, &s, &p);
	assert_int_equal(p.payload_len, 12);
	assert_int_equal(p.payload_caplen, 12);

	/* Truncated header, by capture and by IP length. */
	pb_spec_udp(&s, "10.0.0.1", 53, "10.0.0.2", 5353);
	build(&s);
	for (uint32_t cut = 0; cut < 8; cut++)
		expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf, 14 + 20 + cut, DR_TRUNCATED_UDP);
	s.ip.total_len = 27;
	expect_skip(d, &s, DR_TRUNCATED_UDP);
	decoder_destroy(d);
}

static void test_udp_checksums(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	struct packet p;
	static const uint8_t data[5] = {1, 2, 3, 4, 5};

	pb_spec_udp(&s, "10.0.0.1", 53, "10.0.0.2", 5353);
	pb_spec_payload(&s, data, sizeof(data));
	decode_ok(d, &s, &p);
	assert_int_equal(p.csum, L4_CSUM_OK);
	s.l4.csum = PB_CSUM_BAD;
	decode_ok(d, &s, &p);
	assert_int_equal(p.csum, L4_CSUM_BAD);
	s.l4.csum = PB_CSUM_ZERO; /* "none" for IPv4 */
	decode_ok(d, &s, &p);
	assert_int_equal(p.csum, L4_CSUM_NOT_CHECKED);

	pb_spec_udp(&s, "2001:db8::1", 53, "2001:db8::2", 5353);
	pb_spec_payload(&s, data, sizeof(data));
	decode_ok(d, &s, &p);
	assert_int_equal(p.csum, L4_CSUM_OK);
	s.l4.csum = PB_CSUM_ZERO; /* mandatory for IPv6 */
	decode_ok(d, &s, &p);
	assert_int_equal(p.csum, L4_CSUM_BAD);
	decoder_destroy(d);

	d = dec_new(true);
	decode_ok(d, &s, &p);
	assert_int_equal(p.csum, L4_CSUM_NOT_CHECKED);
	decoder_destroy(d);
}

/* ---- ICMP ---- */

static void test_icmp(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	struct packet p;
	static const uint8_t data[32] = {0xab};

	pb_spec_icmp(&s, "10.0.0.1", "10.0.0.2", 8, 0); /* echo request */
	s.l4.icmp_rest = 0x00010002;
	pb_spec_payload(&s, data, sizeof(data));
	decode_ok(d, &s, &p);
	assert_int_equal(p.ip_proto, IPPROTO_NUM_ICMP);
	assert_int_equal(p.icmp_type, 8);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(p.sport, 8);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.payload_len, 32);
	assert_int_equal(p.csum, L4_CSUM_OK);
	s.l4.icmp_type = 3;
	s.l4.icmp_code = 3;
	s.l4.csum = PB_CSUM_BAD;
	decode_ok(d, &s, &p);
	assert_int_equal(p.sport, 3);
	assert_int_equal(p.dport, 3);
	assert_int_equal(p.csum, L4_CSUM_BAD);

	pb_spec_icmp(&s, "fe80::1", "ff02::16", 143, 0); /* MLDv2 report */
	s.ip.ext[s.ip.n_ext++] = (struct pb_ext){0, 8};
	pb_spec_payload(&s, data, sizeof(data));
	decode_ok(d, &s, &p);
	assert_int_equal(p.ip_proto, IPPROTO_NUM_ICMPV6);
	assert_int_equal(p.icmp_type, 143);
	assert_int_equal(p.csum, L4_CSUM_OK); /* with the pseudo header */
	s.l4.csum = PB_CSUM_BAD;
	decode_ok(d, &s, &p);
	assert_int_equal(p.csum, L4_CSUM_BAD);

	/* ICMPv6 checksum without the pseudo header is wrong: change an address. */
	s.l4.csum = PB_CSUM_OK;
	size_t n = build(&s);
	frame_buf[14 + 8 + 15] ^= 1; /* last byte of the source address */
	assert_int_equal(decoder_frame(d, KG_LINK_ETHERNET, 0, frame_buf, (uint32_t)n, &p),
			 DECODE_OK);
	assert_int_equal(p.csum, L4_CSUM_BAD);

	/* Truncated: fewer than 8 bytes. */
	pb_spec_icmp(&s, "10.0.0.1", "10.0.0.2", 0, 0);
	build(&s);
	for (uint32_t cut = 0; cut < 8; cut++)
		expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf, 14 + 20 + cut, DR_TRUNCATED_ICMP);
	s.ip.total_len = 24;
	expect_skip(d, &s, DR_TRUNCATED_ICMP);
	decoder_destroy(d);
}

/* ---- fragments ---- */

static uint8_t big_payload[3000];

static void fill_payload(void)
{
	for (size_t i = 0; i < sizeof(big_payload); i++)
		big_payload[i] = (uint8_t)(i * 7 + 3);
}

/* A UDP datagram of 8 + 3000 bytes to cut into pieces. */
static void frag_spec(struct pb_spec *s, int version, uint32_t id)
{
	fill_payload();
	if (version == 4)
		pb_spec_udp(s, "192.0.2.10", 2152, "192.0.2.20", 2152);
	else
		pb_spec_udp(s, "2001:db8::10", 2152, "2001:db8::20", 2152);
	s->ip.id = id;
	pb_spec_payload(s, big_payload, sizeof(big_payload));
}

static enum decode_status send_frag(struct decoder *d, const struct pb_spec *s, kg_time ts,
				    uint32_t off, uint32_t len, bool more, struct packet *p)
{
	size_t n = pb_build_fragment(s, off, len, more, frame_buf2, sizeof(frame_buf2));
	assert_true(n > 0);
	return decoder_frame(d, pb_linktype(s), ts, frame_buf2, (uint32_t)n, p);
}

static void expect_whole_datagram(const struct packet *p, int version)
{
	assert_true(p->reassembled);
	assert_int_equal(p->ip_version, version);
	assert_int_equal(p->ip_proto, IPPROTO_NUM_UDP);
	assert_int_equal(p->ip_len, (version == 4 ? 20 : 40) + 8 + 3000);
	assert_int_equal(p->udp_len, 3008);
	assert_int_equal(p->sport, 2152);
	assert_int_equal(p->payload_len, 3000);
	assert_int_equal(p->payload_caplen, 3000);
	assert_memory_equal(p->payload, big_payload, 3000);
	assert_int_equal(p->csum, L4_CSUM_OK); /* the checksum covers the whole datagram */
	assert_false(p->truncated);
}

static void test_fragments_in_order(void **state)
{
	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		struct decoder *d = dec_new(false);
		struct pb_spec s;
		struct packet p;
		frag_spec(&s, v, 77);
		assert_int_equal(send_frag(d, &s, 0, 0, 1480, true, &p), DECODE_SKIP);
		assert_int_equal(send_frag(d, &s, 1, 1480, 1480, true, &p), DECODE_SKIP);
		assert_int_equal(send_frag(d, &s, 2, 2960, 48, false, &p), DECODE_OK);
		expect_whole_datagram(&p, v);
		const struct decoder_stats *st = decoder_stats(d);
		assert_int_equal(st->reason[DR_FRAG_PENDING], 2);
		assert_int_equal(st->decoded, 1);
		assert_int_equal(st->packets, 3);
		decoder_destroy(d);
	}
}

static void test_fragments_out_of_order_and_duplicate(void **state)
{
	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		struct decoder *d = dec_new(false);
		struct pb_spec s;
		struct packet p;
		frag_spec(&s, v, 78);
		assert_int_equal(send_frag(d, &s, 0, 2960, 48, false, &p), DECODE_SKIP);
		assert_int_equal(send_frag(d, &s, 0, 1480, 1480, true, &p), DECODE_SKIP);
		assert_int_equal(send_frag(d, &s, 0, 1480, 1480, true, &p), DECODE_SKIP); /* dup */
		assert_int_equal(send_frag(d, &s, 0, 0, 1480, true, &p), DECODE_OK);
		expect_whole_datagram(&p, v);
		assert_int_equal(decoder_stats(d)->reason[DR_FRAG_PENDING], 3);
		assert_int_equal(decoder_stats(d)->reason[DR_FRAG_INVALID], 0);
		decoder_destroy(d);
	}
}

static void test_fragments_overlap(void **state)
{
	(void)state;
	for (int v = 4; v <= 6; v += 2) {
		struct decoder *d = dec_new(false);
		struct pb_spec s;
		struct packet p;
		frag_spec(&s, v, 79);
		assert_int_equal(send_frag(d, &s, 0, 0, 1480, true, &p), DECODE_SKIP);
		/* Starts inside the first one: two readings could differ. */
		assert_int_equal(send_frag(d, &s, 0, 1000, 1480, true, &p), DECODE_SKIP);
		assert_int_equal(decoder_stats(d)->reason[DR_FRAG_INVALID], 1);
		/* The datagram stays refused, even with the right pieces. */
		assert_int_equal(send_frag(d, &s, 0, 1480, 1480, true, &p), DECODE_SKIP);
		assert_int_equal(send_frag(d, &s, 0, 2960, 48, false, &p), DECODE_SKIP);
		assert_int_equal(decoder_stats(d)->reason[DR_FRAG_INVALID], 3);
		assert_int_equal(decoder_stats(d)->decoded, 0);

		/* Same range, different bytes. */
		frag_spec(&s, v, 80);
		assert_int_equal(send_frag(d, &s, 0, 0, 1480, true, &p), DECODE_SKIP);
		big_payload[100] ^= 0xff;
		assert_int_equal(send_frag(d, &s, 0, 0, 1480, true, &p), DECODE_SKIP);
		assert_int_equal(decoder_stats(d)->reason[DR_FRAG_INVALID], 4);

		/* A second last fragment with another end. */
		frag_spec(&s, v, 81);
		assert_int_equal(send_frag(d, &s, 0, 1480, 1528, false, &p), DECODE_SKIP);
		assert_int_equal(send_frag(d, &s, 0, 1480, 1480, false, &p), DECODE_SKIP);
		assert_int_equal(decoder_stats(d)->reason[DR_FRAG_INVALID], 5);
		decoder_destroy(d);
	}
}

static void test_fragments_malformed(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	struct packet p;
	frag_spec(&s, 4, 90);
	/* A non-last fragment whose length is not a multiple of 8. */
	assert_int_equal(send_frag(d, &s, 0, 0, 1001, true, &p), DECODE_SKIP);
	assert_int_equal(decoder_stats(d)->reason[DR_FRAG_INVALID], 1);

	/* Past 65535 bytes: offset 65528 + 16 bytes of data. */
	frag_spec(&s, 4, 91);
	size_t n = pb_build_fragment(&s, 0, 16, false, frame_buf2, sizeof(frame_buf2));
	frame_buf2[14 + 6] = 0x1f; /* offset 8191 * 8 = 65528 */
	frame_buf2[14 + 7] = 0xff;
	frame_buf2[14 + 10] = frame_buf2[14 + 11] = 0;
	struct decoder *dc = dec_new(true); /* the header checksum no longer matches */
	assert_int_equal(decoder_frame(dc, KG_LINK_ETHERNET, 0, frame_buf2, (uint32_t)n, &p),
			 DECODE_SKIP);
	assert_int_equal(decoder_stats(dc)->reason[DR_FRAG_INVALID], 1);
	decoder_destroy(dc);

	/* A non-first fragment cut short by the snaplen cannot be used; the
	 * first one is passed on as it is (Zeek keeps it for its headers). */
	frag_spec(&s, 4, 92);
	n = pb_build_fragment(&s, 1480, 1480, true, frame_buf2, sizeof(frame_buf2));
	expect_skip_frame(d, KG_LINK_ETHERNET, frame_buf2, (uint32_t)n - 100, DR_FRAG_INVALID);
	n = pb_build_fragment(&s, 0, 1480, true, frame_buf2, sizeof(frame_buf2));
	assert_int_equal(decoder_frame(d, KG_LINK_ETHERNET, 0, frame_buf2, 200, &p), DECODE_OK);
	assert_true(p.truncated);
	assert_false(p.reassembled);
	assert_int_equal(p.ip_len, 1500);
	assert_int_equal(p.sport, 2152);
	assert_int_equal(p.udp_len, 3008);
	assert_int_equal(p.csum, L4_CSUM_NOT_CHECKED);
	(void)n;
	decoder_destroy(d);
}

static void test_fragments_ipv6_unfragmentable_part(void **state)
{
	(void)state;
	struct decoder *d = dec_new(false);
	struct pb_spec s;
	struct packet p;
	frag_spec(&s, 6, 0xdeadbeef);
	s.ip.ext[s.ip.n_ext++] = (struct pb_ext){0, 8}; /* hop-by-hop, before the fragment */
	assert_int_equal(send_frag(d, &s, 0, 1488, 1520, false, &p), DECODE_SKIP);
	assert_int_equal(send_frag(d, &s, 0, 0, 1488, true, &p), DECODE_OK);
	assert_true(p.reassembled);
	assert_int_equal(p.ip_proto, IPPROTO_NUM_UDP);
	assert_ptr_equal(p.l4, p.l3 + 48);
	assert_int_equal(p.ip_len, 40 + 8 + 3008);
	assert_int_equal(p.payload_len, 3000);
	assert_memory_equal(p.payload, big_payload, 3000);
	assert_int_equal(p.csum, L4_CSUM_OK);

	/* An atomic fragment (offset 0, no more) is whole at once. */
	pb_spec_udp(&s, "2001:db8::1", 1, "2001:db8::2", 2);
	assert_int_equal(send_frag(d, &s, 0, 0, 8, false, &p), DECODE_OK);
	assert_true(p.reassembled);
	assert_int_equal(p.ip_len, 48);
	assert_int_equal(p.csum, L4_CSUM_OK);
	decoder_destroy(d);
}

static void test_fragments_pool_eviction(void **state)
{
	(void)state;
	struct decoder *d = dec_new_with(false, 2, 0);
	struct pb_spec a, b, c;
	struct packet p;
	frag_spec(&a, 4, 1);
	frag_spec(&b, 4, 2);
	frag_spec(&c, 4, 3);
	assert_int_equal(send_frag(d, &a, 0, 0, 1480, true, &p), DECODE_SKIP);
	assert_int_equal(send_frag(d, &b, 1, 0, 1480, true, &p), DECODE_SKIP);
	assert_int_equal(send_frag(d, &c, 2, 0, 1480, true, &p), DECODE_SKIP); /* evicts a */
	assert_int_equal(decoder_stats(d)->reason[DR_FRAG_EVICTED], 1);
	/* b and c still complete. */
	assert_int_equal(send_frag(d, &b, 3, 1480, 1528, false, &p), DECODE_OK);
	assert_int_equal(send_frag(d, &c, 4, 1480, 1528, false, &p), DECODE_OK);
	/* a's first piece is gone: its rest stays pending. */
	assert_int_equal(send_frag(d, &a, 5, 1480, 1528, false, &p), DECODE_SKIP);
	const struct decoder_stats *st = decoder_stats(d);
	assert_int_equal(st->decoded, 2);
	assert_int_equal(st->reason[DR_FRAG_PENDING], 4);
	decoder_destroy(d);
}

static void test_fragments_timeout(void **state)
{
	(void)state;
	struct decoder *d = dec_new_with(false, 8, KG_SEC(30));
	struct pb_spec s;
	struct packet p;
	frag_spec(&s, 4, 5);
	assert_int_equal(send_frag(d, &s, KG_SEC(0), 0, 1480, true, &p), DECODE_SKIP);
	assert_int_equal(send_frag(d, &s, KG_SEC(10), 1480, 1480, true, &p), DECODE_SKIP);
	/* 31 s after the first piece: the datagram expired before this one. */
	assert_int_equal(send_frag(d, &s, KG_SEC(31), 2960, 48, false, &p), DECODE_SKIP);
	assert_int_equal(decoder_stats(d)->reason[DR_FRAG_TIMEOUT], 1);
	assert_int_equal(decoder_stats(d)->decoded, 0);

	/* Within the timeout it completes. */
	frag_spec(&s, 4, 6);
	assert_int_equal(send_frag(d, &s, KG_SEC(40), 0, 1480, true, &p), DECODE_SKIP);
	assert_int_equal(send_frag(d, &s, KG_SEC(50), 1480, 1480, true, &p), DECODE_SKIP);
	assert_int_equal(send_frag(d, &s, KG_SEC(70), 2960, 48, false, &p), DECODE_OK);
	expect_whole_datagram(&p, 4);
	decoder_destroy(d);
}

static void test_fragments_keys_apart(void **state)
{
	(void)state;
	/* Same id, different source: two datagrams, interleaved. */
	struct decoder *d = dec_new(false);
	struct pb_spec a, b;
	struct packet p;
	frag_spec(&a, 4, 9);
	frag_spec(&b, 4, 9);
	b.ip.src = "192.0.2.11";
	assert_int_equal(send_frag(d, &a, 0, 0, 1480, true, &p), DECODE_SKIP);
	assert_int_equal(send_frag(d, &b, 0, 0, 1480, true, &p), DECODE_SKIP);
	assert_int_equal(send_frag(d, &b, 0, 1480, 1528, false, &p), DECODE_OK);
	assert_addr(&p.src, "192.0.2.11");
	assert_int_equal(send_frag(d, &a, 0, 1480, 1528, false, &p), DECODE_OK);
	assert_addr(&p.src, "192.0.2.10");
	assert_int_equal(p.csum, L4_CSUM_OK);
	decoder_destroy(d);
}

static void test_create_limits(void **state)
{
	(void)state;
	struct decoder_config cfg = {.frag_max_datagrams = 100000};
	assert_null(decoder_create(&cfg));
	cfg.frag_max_datagrams = 0; /* the default pool */
	struct decoder *d = decoder_create(&cfg);
	assert_non_null(d);
	decoder_destroy(d);
	decoder_destroy(NULL);
}

/* ---- the Zeek test traces ---- */

/* Expected counts, each established by hand with tcpdump -nn -e (-xx for the
 * encapsulations tcpdump does not decode: FabricPath, PBB, VN-Tag):
 *   frames      = frames in the trace;
 *   non_ip      = ARP, STP, LLDP-like, PPPoE discovery/LCP/IPCP, inner 0x9999 or 0x8102;
 *   frag_pieces = IPv4 fragments (ip[6:2] & 0x3fff != 0), datagrams = complete ones;
 *   bad_l4      = TCP/UDP/ICMP checksum failures without -C.
 * decoded = frames - non_ip - frag_pieces + datagrams. */
struct trace_expect {
	const char *name;
	bool ignore_checksums; /* as the manifest ran Zeek */
	uint32_t frames, non_ip, frag_pieces, datagrams, bad_l4, bad_tcp_header;
};

static const struct trace_expect trace_expects[] = {
	{"aux-rdp-no-cookie", false, 20, 0, 0, 0, 0, 0},
	{"aux-rdp-to-ssl", false, 658, 0, 0, 0, 0, 0},
	{"aux-rdp-x509", false, 15, 0, 0, 0, 0, 0},
	{"aux-rfb-vnc-mac-to-linux", true, 372, 0, 0, 0, 0, 0},
	{"aux-rfb-vncmac", true, 58, 0, 0, 0, 0, 0},
	{"ayiya", false, 35, 0, 0, 0, 0, 0},
	{"cisco-fabric-path", false, 130, 2, 0, 0, 0, 0},
	{"dhcp-all-msg-types", false, 9, 0, 0, 0, 0, 0},
	{"ftp-auth-tls", false, 84, 0, 0, 0, 0, 0},
	{"ftp-bigtransfer", false, 83, 0, 0, 0, 0, 0},
	{"ftp-ipv4", false, 95, 0, 0, 0, 0, 0},
	{"ftp-ipv6", false, 136, 0, 0, 0, 0, 0},
	{"geneve-ipv6", false, 2, 0, 0, 0, 0, 0},
	{"gtp-different-dl-ul", true, 120, 0, 84, 42, 0, 0},
	{"gtp-not-user-plane", false, 3, 0, 0, 0, 0, 0},
	{"gtp-outer-ip-frag", true, 108, 0, 76, 36, 0, 0},
	{"http-concurrent-range", false, 57, 0, 0, 0, 0, 0},
	{"http-get-no-first-reassembly", false, 14, 0, 0, 0, 0, 0},
	{"http-on-port-22", false, 28, 0, 0, 0, 0, 0},
	{"http-to-ssh-rstr", false, 13, 0, 0, 0, 0, 0},
	{"imap-starttls", true, 32, 0, 0, 0, 0, 0},
	{"irc-dcc-send", false, 1184, 0, 0, 0, 0, 0},
	{"ldap-add", false, 17, 0, 0, 0, 0, 0},
	{"ldap-missing-krbtgt", true, 82, 0, 0, 0, 0, 0},
	{"ldap-sasl-ntlm", false, 27, 0, 0, 0, 0, 0},
	{"ldap-sasl-srp", false, 15, 0, 0, 0, 0, 0},
	{"ldap-simpleauth-diff-port", true, 12, 0, 0, 0, 0, 0},
	{"ldap-starttls", false, 28, 0, 0, 0, 0, 0},
	{"llc-rst-backscatter", true, 1333, 0, 0, 0, 0, 0},
	{"modbus-eit-midstream", false, 4, 0, 0, 0, 0, 0},
	{"modbus-p502-mixed", false, 86, 0, 0, 0, 0, 0},
	{"pbb", false, 12, 2, 0, 0, 0, 0},
	{"pcapng-multi-interface", true, 6, 0, 0, 0, 0, 0},
	{"pop3-basic-rej", false, 125, 0, 0, 0, 0, 0},
	{"pop3-starttls", true, 33, 0, 0, 0, 0, 0},
	{"pppoe", false, 65, 40, 0, 0, 0, 0},
	{"q-in-q", false, 5, 1, 0, 0, 0, 0},
	{"rdpeudp-handshake-success", false, 10, 0, 0, 0, 0, 0},
	{"redis-django-cloud", false, 474, 0, 0, 0, 0, 0},
	{"ssh-basic", false, 1797, 0, 0, 0, 0, 0},
	{"ssh-half-duplex-client", false, 838, 0, 0, 0, 0, 0},
	{"tcp-bad-checksum-ignored", true, 10, 0, 0, 0, 0, 0},
	{"tcp-bad-checksum-syn", false, 1, 0, 0, 0, 1, 0},
	{"tcp-ctu-64702-888", true, 16, 0, 0, 0, 0, 0},
	{"tcp-late-flip-1080-8000", true, 19, 0, 0, 0, 0, 0},
	{"tcp-one-sided-2745", true, 6, 0, 0, 0, 0, 0},
	{"tcp-rxmit-fast009", true, 39, 0, 0, 0, 0, 0},
	{"udp-broadcast-no-flip", false, 1, 0, 0, 0, 0, 0},
	{"vlan-mpls", true, 47, 0, 0, 0, 0, 0},
	{"vntag-in-vlan", true, 1, 0, 0, 0, 0, 1},
	{"vxlan", false, 10, 0, 0, 0, 0, 0},
	{"wikipedia", true, 136, 10, 0, 0, 0, 0},
};

#define SHARED_CASES "../shared/zeek/cases"

static const struct trace_expect *trace_expect_for(const char *name)
{
	for (size_t i = 0; i < sizeof(trace_expects) / sizeof(trace_expects[0]); i++)
		if (strcmp(trace_expects[i].name, name) == 0)
			return &trace_expects[i];
	return NULL;
}

static void replay_case(const char *name, const struct trace_expect *want)
{
	char path[512], err[PCAP_ERRBUF_SIZE];
	snprintf(path, sizeof(path), SHARED_CASES "/%s/trace.pcap", name);
	pcap_t *pc = pcap_open_offline(path, err);
	if (!pc)
		fail_msg("%s: %s", path, err);
	struct decoder *d = dec_new_with(want ? want->ignore_checksums : true, 64, 0);
	int linktype = pcap_datalink(pc);
	struct pcap_pkthdr *h;
	const u_char *data;
	uint32_t bad_l4 = 0, bad_header = 0;
	while (pcap_next_ex(pc, &h, &data) == 1) {
		struct packet p;
		kg_time ts =
			(kg_time)h->ts.tv_sec * KG_NSEC_PER_SEC + (kg_time)h->ts.tv_usec * 1000;
		if (decoder_frame(d, linktype, ts, data, h->caplen, &p) == DECODE_OK) {
			bad_l4 += p.csum == L4_CSUM_BAD;
			bad_header += p.l4_header_bad;
		}
	}
	pcap_close(pc);
	const struct decoder_stats *st = decoder_stats(d);
	if (st->reason[DR_UNSUPPORTED_LINK] || st->reason[DR_TRUNCATED_LINK])
		fail_msg("%s: link type %d not decoded", name, linktype);
	if (want) {
		uint64_t want_decoded =
			want->frames - want->non_ip - want->frag_pieces + want->datagrams;
		if (st->packets != want->frames || st->decoded != want_decoded ||
		    st->reason[DR_UNKNOWN_ETHERTYPE] != want->non_ip ||
		    st->reason[DR_FRAG_PENDING] != want->frag_pieces - want->datagrams ||
		    bad_l4 != want->bad_l4 || bad_header != want->bad_tcp_header)
			fail_msg("%s: frames %llu/%u decoded %llu/%llu non-IP %llu/%u pending "
				 "%llu/%u bad-l4 %u/%u bad-header %u/%u",
				 name, (unsigned long long)st->packets, want->frames,
				 (unsigned long long)st->decoded, (unsigned long long)want_decoded,
				 (unsigned long long)st->reason[DR_UNKNOWN_ETHERTYPE], want->non_ip,
				 (unsigned long long)st->reason[DR_FRAG_PENDING],
				 want->frag_pieces - want->datagrams, bad_l4, want->bad_l4,
				 bad_header, want->bad_tcp_header);
		/* Nothing else went missing. */
		assert_int_equal(st->packets, st->decoded + reason_sum(st) - bad_header);
	}
	decoder_destroy(d);
}

static void test_replay_zeek_cases(void **state)
{
	(void)state;
	DIR *dir = opendir(SHARED_CASES);
	if (!dir) {
		print_message("[  SKIP    ] " SHARED_CASES " is absent: no trace replay\n");
		skip();
	}
	size_t seen = 0;
	struct dirent *e;
	while ((e = readdir(dir)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		const struct trace_expect *want = trace_expect_for(e->d_name);
		if (!want)
			print_message("note: %s has no expected counts; checking links only\n",
				      e->d_name);
		replay_case(e->d_name, want);
		seen += want != NULL;
	}
	closedir(dir);
	assert_int_equal(seen, sizeof(trace_expects) / sizeof(trace_expects[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_ipv4_tcp_fields),
		cmocka_unit_test(test_ethernet_ipv6_udp_fields),
		cmocka_unit_test(test_vlan_and_qinq),
		cmocka_unit_test(test_mpls),
		cmocka_unit_test(test_mpls_without_ip),
		cmocka_unit_test(test_pppoe),
		cmocka_unit_test(test_pbb_vntag_fabricpath),
		cmocka_unit_test(test_llc_snap),
		cmocka_unit_test(test_non_ip_ethertype),
		cmocka_unit_test(test_cooked_and_fddi),
		cmocka_unit_test(test_null_and_loop),
		cmocka_unit_test(test_raw_links),
		cmocka_unit_test(test_unsupported_link_and_zero_length),
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_ipv4_options_and_padding),
		cmocka_unit_test(test_ipv4_bad_headers),
		cmocka_unit_test(test_ipv4_header_checksum),
		cmocka_unit_test(test_ipv4_truncated_capture),
		cmocka_unit_test(test_ipv4_zero_total_length),
		cmocka_unit_test(test_ipv4_other_protocols),
		cmocka_unit_test(test_ipv6_extension_chain),
		cmocka_unit_test(test_ipv6_routing_final_destination),
		cmocka_unit_test(test_ipv6_extension_loop),
		cmocka_unit_test(test_ipv6_no_transport),
		cmocka_unit_test(test_ipv6_truncated_and_version),
		cmocka_unit_test(test_tcp_window_scale),
		cmocka_unit_test(test_tcp_malformed_options),
		cmocka_unit_test(test_tcp_data_offset),
		cmocka_unit_test(test_tcp_truncated_header),
		cmocka_unit_test(test_tcp_checksums),
		cmocka_unit_test(test_udp_lengths),
		cmocka_unit_test(test_udp_checksums),
		cmocka_unit_test(test_icmp),
		cmocka_unit_test(test_fragments_in_order),
		cmocka_unit_test(test_fragments_out_of_order_and_duplicate),
		cmocka_unit_test(test_fragments_overlap),
		cmocka_unit_test(test_fragments_malformed),
		cmocka_unit_test(test_fragments_ipv6_unfragmentable_part),
		cmocka_unit_test(test_fragments_pool_eviction),
		cmocka_unit_test(test_fragments_timeout),
		cmocka_unit_test(test_fragments_keys_apart),
		cmocka_unit_test(test_create_limits),
		cmocka_unit_test(test_replay_zeek_cases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
