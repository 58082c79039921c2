/* Service fingerprints (specs/detection.md §C): per protocol a positive built
 * from bytes in the test and near misses that must not match; the waiting
 * rules (NEED_MORE / final); details; then a replay of the real captures in
 * ../shared/samples through the decoder and content buffers, one flow per
 * 5-tuple, asserting the service each capture holds.
 * KG_SERVICE_VERBOSE=1 prints every replayed flow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyze/content.h"
#include "analyze/service.h"
#include "decode/decode.h"
#include "util/addr.h"
#include "../support/jsoncheck.h"

/* ---- building flows from bytes ---- */

struct flow {
	struct content c;
	uint8_t proto;
	uint16_t resp_port;
	uint32_t seq[2];
};

static void flow_init(struct flow *f, uint8_t proto, uint16_t resp_port)
{
	memset(f, 0, sizeof(*f));
	content_init(&f->c);
	f->proto = proto;
	f->resp_port = resp_port;
	f->seq[0] = 1000;
	f->seq[1] = 5000;
}

/* One segment / datagram from the originator (orig) or the responder. */
static void flow_add(struct flow *f, bool orig, const void *data, size_t len)
{
	int d = orig ? 0 : 1;
	content_add(&f->c, orig, f->proto, f->seq[d], data, (uint32_t)len, (uint32_t)len);
	f->seq[d] += (uint32_t)len;
}

static enum service_verdict flow_identify(const struct flow *f, bool final, struct service_match *m)
{
	struct content_view v;
	content_view(&f->c, f->proto, f->resp_port, &v);
	return final ? service_identify_final(&v, m) : service_identify(&v, m);
}

/* Asserts a match of `id` with `conf` (now, or only once final). */
static void expect_match(const struct flow *f, bool final, enum service_id id,
			 enum service_confidence conf, struct service_match *m)
{
	enum service_verdict r = flow_identify(f, final, m);
	if (r != SERVICE_MATCH || m->id != id || m->confidence != conf)
		fail_msg("want %s/%d got verdict %d %s/%d (%s)", service_name(id), conf, r,
			 service_name(m->id), m->confidence,
			 m->fingerprint_id ? m->fingerprint_id : "-");
}

static void expect_verdict(const struct flow *f, bool final, enum service_verdict want)
{
	struct service_match m;
	enum service_verdict r = flow_identify(f, final, &m);
	if (r != want)
		fail_msg("want verdict %d got %d (%s %s)", want, r, service_name(m.id),
			 m.fingerprint_id ? m.fingerprint_id : "-");
}

/* Neither now nor at the end: the bytes are not `id`. */
static void expect_not(const struct flow *f, enum service_id id)
{
	struct service_match m;
	for (int final = 0; final < 2; final++) {
		enum service_verdict r = flow_identify(f, final, &m);
		if (r == SERVICE_MATCH && m.id == id)
			fail_msg("matched %s (%s) and should not", service_name(id), m.fingerprint_id);
	}
}

/* ---- the capture replay ---- */

#define SAMPLES "../shared/samples"
#define MAX_FLOWS 512

struct rflow {
	uint8_t proto;
	struct kg_addr addr[2]; /* [0] originator */
	uint16_t port[2];
	struct content c;
	bool decided;
	enum service_verdict verdict;
	struct service_match m;
	bool have_seq[2];
};

struct replay {
	size_t n;
	size_t dropped;
	struct rflow f[MAX_FLOWS];
};

static struct replay rp;

static struct rflow *replay_flow(struct replay *r, const struct packet *p)
{
	for (size_t i = 0; i < r->n; i++) {
		struct rflow *f = &r->f[i];
		if (f->proto != p->ip_proto)
			continue;
		if (addr_eq(&f->addr[0], &p->src) && addr_eq(&f->addr[1], &p->dst) &&
		    f->port[0] == p->sport && f->port[1] == p->dport)
			return f;
		if (addr_eq(&f->addr[1], &p->src) && addr_eq(&f->addr[0], &p->dst) &&
		    f->port[1] == p->sport && f->port[0] == p->dport)
			return f;
	}
	if (r->n >= MAX_FLOWS) {
		r->dropped++;
		return NULL;
	}
	struct rflow *f = &r->f[r->n++];
	memset(f, 0, sizeof(*f));
	f->proto = p->ip_proto;
	content_init(&f->c);
	/* The originator: the SYN's sender, the SYN-ACK's receiver, else the first
	 * sender unless it talks from a well-known port to an ephemeral one. */
	bool flip = false;
	if (p->ip_proto == 6 && (p->tcp_flags & TCPF_SYN))
		flip = (p->tcp_flags & TCPF_ACK) != 0;
	else
		flip = p->sport < 1024 && p->dport >= 1024;
	f->addr[0] = flip ? p->dst : p->src;
	f->addr[1] = flip ? p->src : p->dst;
	f->port[0] = flip ? p->dport : p->sport;
	f->port[1] = flip ? p->sport : p->dport;
	return f;
}

static void replay_packet(struct replay *r, const struct packet *p)
{
	if (p->ip_proto != 6 && p->ip_proto != 17)
		return;
	struct rflow *f = replay_flow(r, p);
	if (!f || p->payload_len == 0 || f->decided)
		return;
	bool orig = addr_eq(&f->addr[0], &p->src) && f->port[0] == p->sport;
	uint32_t seq = p->seq + ((p->tcp_flags & TCPF_SYN) ? 1 : 0);
	if (!content_add(&f->c, orig, p->ip_proto, seq, p->payload, p->payload_caplen,
			 p->payload_len))
		return;
	struct content_view v;
	content_view(&f->c, f->proto, f->port[1], &v);
	enum service_verdict res = service_identify(&v, &f->m);
	if (res != SERVICE_NEED_MORE) {
		f->decided = true;
		f->verdict = res;
	}
}

static bool replay_file(const char *path, struct replay *r)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);
	if (!pc) {
		print_message("%s: %s\n", path, err);
		return false;
	}
	struct decoder_config dc = {.ignore_checksums = true, .frag_max_datagrams = 64};
	struct decoder *d = decoder_create(&dc);
	assert_non_null(d);
	memset(r, 0, sizeof(*r));
	int linktype = pcap_datalink(pc);
	struct pcap_pkthdr *h;
	const u_char *data;
	while (pcap_next_ex(pc, &h, &data) == 1) {
		struct packet p;
		kg_time ts = (kg_time)h->ts.tv_sec * KG_NSEC_PER_SEC + (kg_time)h->ts.tv_usec * 1000;
		if (decoder_frame(d, linktype, ts, data, h->caplen, &p) == DECODE_OK &&
		    !p.l4_header_bad)
			replay_packet(r, &p);
	}
	pcap_close(pc);
	decoder_destroy(d);
	for (size_t i = 0; i < r->n; i++) {
		struct rflow *f = &r->f[i];
		if (f->decided)
			continue;
		struct content_view v;
		content_view(&f->c, f->proto, f->port[1], &v);
		f->verdict = service_identify_final(&v, &f->m);
		f->decided = true;
	}
	return true;
}

static const char *conf_name(enum service_confidence c)
{
	return c == CONF_HIGH ? "high" : c == CONF_MEDIUM ? "medium" : "low";
}

static void replay_print(const char *name, const struct replay *r)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct rflow *f = &r->f[i];
		char a[KG_ADDR_STRLEN], b[KG_ADDR_STRLEN];
		addr_format(&f->addr[0], a);
		addr_format(&f->addr[1], b);
		bool match = f->verdict == SERVICE_MATCH;
		const char *log = match ? service_conn_log_name(&f->m, f->proto, f->port[1]) : NULL;
		print_message("%s: %s %s:%u > %s:%u bytes %u/%u -> %s %s %s {%s} log=%s\n", name,
			      f->proto == 6 ? "tcp" : "udp", a, f->port[0], b, f->port[1],
			      f->c.dir[0].len, f->c.dir[1].len, match ? service_name(f->m.id) : "-",
			      match ? conf_name(f->m.confidence) : "",
			      match ? f->m.fingerprint_id : "", match ? f->m.detail : "",
			      log ? log : "-");
	}
}


/* ---- helpers for the byte builders ---- */

static size_t put(uint8_t *out, size_t at, const void *src, size_t n)
{
	memcpy(out + at, src, n);
	return at + n;
}

static size_t put16(uint8_t *out, size_t at, unsigned v)
{
	out[at] = (uint8_t)(v >> 8);
	out[at + 1] = (uint8_t)v;
	return at + 2;
}

static size_t put32(uint8_t *out, size_t at, uint32_t v)
{
	at = put16(out, at, v >> 16);
	return put16(out, at, v & 0xffff);
}

/* The detail as a JSON object must be well formed (and contain `needle`). */
static void expect_detail(const struct service_match *m, const char *needle)
{
	char obj[SERVICE_DETAIL_MAX + 4];
	snprintf(obj, sizeof(obj), "{%s}", m->detail);
	if (!json_valid(obj))
		fail_msg("detail is not JSON: %s", obj);
	if (needle && !strstr(m->detail, needle))
		fail_msg("detail %s lacks %s", m->detail, needle);
}

/* ---- names, ports, families ---- */

static void test_names_and_ports(void **state)
{
	(void)state;
	assert_string_equal(service_name(SVC_SSH), "ssh");
	assert_string_equal(service_name(SVC_RDPEUDP), "rdpeudp");
	assert_string_equal(service_name(SVC_RFB), "rfb");
	assert_string_equal(service_name(SVC_SSL), "ssl");
	assert_string_equal(service_name(SVC_NONE), "");
	for (int id = SVC_SSH; id < SVC_COUNT; id++)
		assert_true(service_name((enum service_id)id)[0] != '\0');
	assert_true(service_standard_port(SVC_SSH, 6, 22));
	assert_false(service_standard_port(SVC_SSH, 6, 80));
	assert_false(service_standard_port(SVC_SSH, 17, 22));
	assert_true(service_standard_port(SVC_RDPEUDP, 17, 3389));
	assert_false(service_standard_port(SVC_RDPEUDP, 6, 3389));
	assert_true(service_standard_port(SVC_RFB, 6, 5901));
	assert_true(service_standard_port(SVC_IKE, 17, 4500));
	assert_true(service_standard_port(SVC_WIREGUARD, 17, 51820));
	assert_true(service_standard_port(SVC_TELNET, 6, 2323));
	assert_false(service_standard_port(SVC_NONE, 6, 22));
	assert_true(service_is_remote_access(SVC_TEAMVIEWER));
	assert_true(service_is_remote_access(SVC_OPENVPN));
	assert_false(service_is_remote_access(SVC_HTTP));
	assert_false(service_is_remote_access(SVC_SSL));
	assert_false(service_is_remote_access(SVC_NONE));
}

/* ---- SSH ---- */

static const char ssh_c[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n";
static const char ssh_s[] = "SSH-2.0-OpenSSH_5.8p1 Debian-1ubuntu3\r\n";

static void test_ssh_both_banners(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	flow_init(&f, 6, 2222);
	flow_add(&f, false, ssh_s, strlen(ssh_s)); /* the server speaks first */
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	flow_add(&f, true, ssh_c, strlen(ssh_c));
	expect_match(&f, false, SVC_SSH, CONF_HIGH, &m);
	assert_true(m.both_sides);
	assert_string_equal(m.fingerprint_id, "ssh-banner");
	expect_detail(&m, "\"banner\":{\"client\":\"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\","
			  "\"server\":\"SSH-2.0-OpenSSH_5.8p1 Debian-1ubuntu3\"}");
	assert_string_equal(service_conn_log_name(&m, 6, 2222), "ssh");
}

static void test_ssh_one_side_waits_then_medium(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	flow_init(&f, 6, 22);
	flow_add(&f, true, ssh_c, strlen(ssh_c));
	expect_verdict(&f, false, SERVICE_NEED_MORE); /* the server may still confirm */
	expect_match(&f, true, SVC_SSH, CONF_MEDIUM, &m);
	assert_false(m.both_sides);
	expect_detail(&m, "\"client\":");
	assert_null(strstr(m.detail, "server"));
	/* Zeek does not confirm a one-sided SSH session. */
	assert_null(service_conn_log_name(&m, 6, 22));
	/* Patience: a silent server is given up after the client's 8th segment. */
	for (int i = 0; i < 7; i++)
		flow_add(&f, true, "\0\0\0\x0c\x0a\x14xxxxxxxx", 12);
	expect_match(&f, false, SVC_SSH, CONF_MEDIUM, &m);
}

static void test_ssh_server_pre_banner_lines(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	static const char pre[] = "Welcome to the bastion\r\nAuthorized use only\r\n";
	flow_init(&f, 6, 22);
	flow_add(&f, false, pre, strlen(pre));
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	flow_add(&f, false, ssh_s, strlen(ssh_s));
	expect_match(&f, true, SVC_SSH, CONF_MEDIUM, &m);
	assert_int_equal(m.match_offset, strlen(pre));
	flow_add(&f, true, ssh_c, strlen(ssh_c));
	expect_match(&f, false, SVC_SSH, CONF_HIGH, &m);
}

static void test_ssh_versions_and_near_misses(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	static const char *const good[] = {"SSH-1.99-Cisco-1.25\r\n", "ssh-2.0-lowercase\n",
					   "SSH-1.5-old\r\n"};
	for (size_t i = 0; i < 3; i++) {
		flow_init(&f, 6, 22);
		flow_add(&f, true, good[i], strlen(good[i]));
		flow_add(&f, false, ssh_s, strlen(ssh_s));
		expect_match(&f, false, SVC_SSH, CONF_HIGH, &m);
	}
	static const char *const bad[] = {"SSH-3.0-future\r\n", "SSH-2.0x\r\n", "SSH-2.-\r\n",
					  "SSH-2.0-a\x01\x02\r\n", "XSSH-2.0-x\r\n"};
	for (size_t i = 0; i < 5; i++) {
		flow_init(&f, 6, 22);
		flow_add(&f, true, bad[i], strlen(bad[i]));
		flow_add(&f, false, ssh_s, strlen(ssh_s));
		expect_not(&f, SVC_SSH);
	}
	/* A prefix keeps it open. */
	flow_init(&f, 6, 22);
	flow_add(&f, true, "SS", 2);
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	/* An HTTP request to an SSH server is neither (Zeek logs no service). */
	static const char get[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	flow_init(&f, 6, 22);
	flow_add(&f, true, get, strlen(get));
	flow_add(&f, false, ssh_s, strlen(ssh_s));
	expect_verdict(&f, false, SERVICE_NO_MATCH);
	expect_verdict(&f, true, SERVICE_NO_MATCH);
	/* A client banner answered with binary is not SSH either. */
	flow_init(&f, 6, 22);
	flow_add(&f, true, ssh_c, strlen(ssh_c));
	flow_add(&f, false, "\x00\x01\x02\x03", 4);
	expect_not(&f, SVC_SSH);
}

static void test_ssh_detail_escaped_and_bounded(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	char banner[300];
	/* Quotes, backslashes and a long software version: still valid JSON. */
	int n = snprintf(banner, sizeof(banner), "SSH-2.0-\"evil\\%0200d\r\n", 7);
	flow_init(&f, 6, 22);
	flow_add(&f, true, banner, (size_t)n);
	flow_add(&f, false, banner, (size_t)n);
	expect_match(&f, false, SVC_SSH, CONF_HIGH, &m);
	expect_detail(&m, "SSH-2.0-\\\"evil\\\\000");
	assert_true(strlen(m.detail) < SERVICE_DETAIL_MAX);
}

/* ---- RDP ---- */

/* MS-RDPBCGR 4.1.1-style CR: cookie, then RDP_NEG_REQ asking for protocols. */
static size_t rdp_cr(uint8_t *out, const char *cookie, int neg_req, uint32_t protocols)
{
	size_t n = 11;
	memcpy(out, "\x03\x00\x00\x00\x00\xe0\x00\x00\x12\x34\x00", 11);
	if (cookie)
		n = put(out, n, cookie, strlen(cookie));
	if (neg_req) {
		out[n++] = 0x01;
		out[n++] = 0x00;
		out[n++] = 0x08;
		out[n++] = 0x00;
		for (int i = 0; i < 4; i++)
			out[n++] = (uint8_t)(protocols >> (8 * i));
	}
	out[3] = (uint8_t)n;
	out[4] = (uint8_t)(n - 5);
	return n;
}

static size_t rdp_cc(uint8_t *out, uint16_t dst_ref, uint8_t neg_type)
{
	static const uint8_t cc[] = {0x03, 0x00, 0x00, 0x13, 0x0e, 0xd0, 0, 0, 0xab, 0xcd, 0x00,
				     0x02, 0x1f, 0x08, 0x00, 0x02, 0x00, 0x00, 0x00};
	memcpy(out, cc, sizeof(cc));
	out[6] = (uint8_t)(dst_ref >> 8);
	out[7] = (uint8_t)dst_ref;
	out[11] = neg_type;
	return sizeof(cc);
}

static void test_rdp_cookie_and_negotiation(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t cr[128], cc[32];
	size_t n = rdp_cr(cr, "Cookie: mstshash=eltons\r\n", 1, 3);
	flow_init(&f, 6, 3390);
	flow_add(&f, true, cr, n);
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	expect_match(&f, true, SVC_RDP, CONF_MEDIUM, &m);
	flow_add(&f, false, cc, rdp_cc(cc, 0x1234, 0x02));
	expect_match(&f, false, SVC_RDP, CONF_HIGH, &m);
	assert_string_equal(m.fingerprint_id, "rdp-x224-cr");
	expect_detail(&m, "\"rdp\":{\"cookie_user\":\"eltons\",\"requested_protocols\":3}");
	/* Negotiation only, and a routing token (no user). */
	flow_init(&f, 6, 3389);
	flow_add(&f, true, cr, rdp_cr(cr, NULL, 1, 11));
	flow_add(&f, false, cc, rdp_cc(cc, 0x1234, 0x03)); /* RDP_NEG_FAILURE */
	expect_match(&f, false, SVC_RDP, CONF_HIGH, &m);
	expect_detail(&m, "\"requested_protocols\":11");
	flow_init(&f, 6, 3389);
	flow_add(&f, true, cr, rdp_cr(cr, "Cookie: msts=3640205228.15629.0000\r\n", 0, 0));
	expect_match(&f, true, SVC_RDP, CONF_MEDIUM, &m);
	assert_null(strstr(m.detail, "cookie_user"));
}

static void test_rdp_traps(void **state)
{
	(void)state;
	struct flow f;
	uint8_t cr[128], cc[32];
	/* S7comm / ISO-on-TCP CR: COTP parameters C1/C2/C0 after the class byte. */
	static const uint8_t s7[] = {0x03, 0x00, 0x00, 0x16, 0x11, 0xe0, 0x00, 0x00,
				     0x00, 0x01, 0x00, 0xc1, 0x02, 0x01, 0x00, 0xc2,
				     0x02, 0x01, 0x02, 0xc0, 0x01, 0x0a};
	flow_init(&f, 6, 102);
	flow_add(&f, true, s7, sizeof(s7));
	expect_not(&f, SVC_RDP);
	expect_verdict(&f, true, SERVICE_NO_MATCH);
	/* LI that disagrees with the TPKT length. */
	size_t n = rdp_cr(cr, NULL, 1, 1);
	cr[4]++;
	flow_init(&f, 6, 3389);
	flow_add(&f, true, cr, n);
	expect_not(&f, SVC_RDP);
	/* Not a CR (E0) but a DT TPDU. */
	n = rdp_cr(cr, NULL, 1, 1);
	cr[5] = 0xf0;
	flow_init(&f, 6, 3389);
	flow_add(&f, true, cr, n);
	expect_not(&f, SVC_RDP);
	/* A CC whose destination reference does not echo the client's source reference. */
	flow_init(&f, 6, 3389);
	flow_add(&f, true, cr, rdp_cr(cr, NULL, 1, 1));
	flow_add(&f, false, cc, rdp_cc(cc, 0x9999, 0x02));
	expect_not(&f, SVC_RDP);
	/* The server alone: a CC with RDP_NEG_RSP is enough, a bare CC is not. */
	flow_init(&f, 6, 3389);
	flow_add(&f, false, cc, rdp_cc(cc, 0, 0x02));
	struct service_match m;
	expect_match(&f, true, SVC_RDP, CONF_MEDIUM, &m);
	assert_string_equal(m.fingerprint_id, "rdp-x224-cc");
	static const uint8_t bare_cc[] = {0x03, 0x00, 0x00, 0x0b, 0x06, 0xd0, 0, 0, 0, 1, 0};
	flow_init(&f, 6, 102);
	flow_add(&f, false, bare_cc, sizeof(bare_cc));
	expect_not(&f, SVC_RDP);
}

/* ---- RDPEUDP ---- */

static size_t rdpeudp_syn(uint8_t *out, size_t len, uint16_t mtu)
{
	memset(out, 0, len);
	size_t n = put32(out, 0, 0xffffffffu);
	n = put16(out, n, 64);
	n = put16(out, n, 0x1801); /* SYN | CORRELATION_ID | SYNEX */
	n = put32(out, n, 0x0b127f15);
	n = put16(out, n, mtu);
	put16(out, n, mtu);
	return len;
}

static void test_rdpeudp(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t syn[1232], ack[1232];
	flow_init(&f, 17, 3389);
	flow_add(&f, true, syn, rdpeudp_syn(syn, 1232, 1232));
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	expect_match(&f, true, SVC_RDPEUDP, CONF_MEDIUM, &m);
	memset(ack, 0, sizeof(ack));
	put32(ack, 0, 0x0b127f15); /* snSourceAck = the client's initial sequence number */
	put16(ack, 4, 64);
	put16(ack, 6, 0x1005); /* SYN | ACK | SYNEX */
	flow_add(&f, false, ack, sizeof(ack));
	expect_match(&f, false, SVC_RDPEUDP, CONF_HIGH, &m);
	assert_true(m.both_sides);
	/* Near misses: size, header, MTU, no echo. */
	flow_init(&f, 17, 3389);
	flow_add(&f, true, syn, rdpeudp_syn(syn, 1100, 1232));
	expect_not(&f, SVC_RDPEUDP);
	flow_init(&f, 17, 3389);
	rdpeudp_syn(syn, 1232, 1232);
	syn[2] = 0xfe;
	flow_add(&f, true, syn, 1232);
	expect_not(&f, SVC_RDPEUDP);
	flow_init(&f, 17, 3389);
	flow_add(&f, true, syn, rdpeudp_syn(syn, 1232, 1500));
	expect_not(&f, SVC_RDPEUDP);
	flow_init(&f, 17, 3389);
	flow_add(&f, true, syn, rdpeudp_syn(syn, 1232, 1232));
	put32(ack, 0, 0x11111111);
	flow_add(&f, false, ack, sizeof(ack));
	expect_not(&f, SVC_RDPEUDP);
}

/* ---- RFB ---- */

static void test_rfb(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	flow_init(&f, 6, 5901);
	flow_add(&f, false, "RFB 003.008\n", 12);
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	expect_match(&f, true, SVC_RFB, CONF_MEDIUM, &m);
	flow_add(&f, true, "RFB 003.003\n", 12);
	expect_match(&f, false, SVC_RFB, CONF_HIGH, &m);
	expect_detail(&m, "\"banner\":{\"client\":\"RFB 003.003\",\"server\":\"RFB 003.008\"}");
	/* Not zero-padded, no newline, or a client that answers something else. */
	flow_init(&f, 6, 5900);
	flow_add(&f, false, "RFB 3.8\n", 8);
	expect_not(&f, SVC_RFB);
	flow_init(&f, 6, 5900);
	flow_add(&f, false, "RFB 003.008X", 12);
	expect_not(&f, SVC_RFB);
	flow_init(&f, 6, 5900);
	flow_add(&f, false, "RFB 003.008\n", 12);
	flow_add(&f, true, "GET / HTTP/1.0\r\n\r\n", 18);
	expect_not(&f, SVC_RFB);
}

/* ---- Telnet ---- */

static void test_telnet(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	static const uint8_t cli[] = {0xff, 0xfd, 0x03, 0xff, 0xfb, 0x18, 0xff, 0xfb, 0x1f};
	static const uint8_t srv[] = {0xff, 0xfd, 0x25};
	static const uint8_t sb[] = {0xff, 0xfa, 0x18, 0x01, 0xff, 0xf0, 0xff, 0xfb, 0x01};
	flow_init(&f, 6, 2300);
	flow_add(&f, true, cli, sizeof(cli));
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	expect_match(&f, true, SVC_TELNET, CONF_MEDIUM, &m); /* three negotiations */
	flow_add(&f, false, srv, sizeof(srv));
	expect_match(&f, false, SVC_TELNET, CONF_HIGH, &m);
	/* Subnegotiation, and IAC on one side with a text prompt on the other. */
	flow_init(&f, 6, 8023);
	flow_add(&f, false, sb, sizeof(sb));
	flow_add(&f, true, "root\r\n", 6);
	expect_match(&f, false, SVC_TELNET, CONF_MEDIUM, &m);
	/* A lone negotiation on an odd port is weak. */
	flow_init(&f, 6, 8023);
	flow_add(&f, false, srv, sizeof(srv));
	expect_match(&f, true, SVC_TELNET, CONF_LOW, &m);
	/* Options we do not accept, an IAC with a bad command, binary on the other side. */
	static const uint8_t bad_opt[] = {0xff, 0xfb, 0x80, 0xff, 0xfd, 0x90};
	static const uint8_t bad_cmd[] = {0xff, 0x10, 0x01};
	flow_init(&f, 6, 23);
	flow_add(&f, true, bad_opt, sizeof(bad_opt));
	expect_not(&f, SVC_TELNET);
	flow_init(&f, 6, 23);
	flow_add(&f, true, bad_cmd, sizeof(bad_cmd));
	expect_not(&f, SVC_TELNET);
	flow_init(&f, 6, 23);
	flow_add(&f, true, cli, sizeof(cli));
	flow_add(&f, false, "\x01\x02\x03\x04\x05", 5);
	expect_not(&f, SVC_TELNET);
	/* No IAC: a printable banner on 23/2323 only, and only at low confidence. */
	flow_init(&f, 6, 23);
	flow_add(&f, false, "\r\nBusyBox login: ", 17);
	expect_verdict(&f, false, SERVICE_NEED_MORE); /* the client may still negotiate */
	flow_add(&f, true, "admin\r\n", 7);
	/* A weak match waits while a stronger one (STARTTLS) is still possible. */
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	expect_match(&f, true, SVC_TELNET, CONF_LOW, &m);
	assert_string_equal(m.fingerprint_id, "telnet-port-banner");
	flow_init(&f, 6, 2222);
	flow_add(&f, false, "\r\nBusyBox login: ", 17);
	flow_add(&f, true, "admin\r\n", 7);
	expect_not(&f, SVC_TELNET);
}

/* ---- OpenVPN ---- */

static const uint8_t ovpn_sid[8] = {0x33, 0x48, 0x57, 0x70, 0x3d, 0x96, 0xdb, 0x39};

/* The client's hard reset: plain (hmac 0) or tls-auth with an HMAC of `hmac` bytes. */
static size_t ovpn_client(uint8_t *out, unsigned hmac, uint32_t msgpid, bool tlv)
{
	size_t n = 0;
	out[n++] = 0x38;
	n = put(out, n, ovpn_sid, 8);
	if (hmac) {
		memset(out + n, 0xa5, hmac);
		n += hmac;
		n = put32(out, n, 1);		 /* replay packet id */
		n = put32(out, n, 0x625a9e97u); /* net time */
	}
	out[n++] = 0; /* no acks */
	n = put32(out, n, msgpid);
	if (tlv) {
		n = put16(out, n, 0x0001); /* EARLY_NEG_FLAGS */
		n = put16(out, n, 2);
		n = put16(out, n, 0x0001);
	}
	return n;
}

/* The server's reset: its own sid, one ack, the client's sid echoed. */
static size_t ovpn_server(uint8_t *out, unsigned hmac, const uint8_t echo[8])
{
	static const uint8_t ssid[8] = {0xd3, 0x1c, 0x3a, 0x69, 0x64, 0x60, 0x2f, 0xa0};
	size_t n = 0;
	out[n++] = 0x40;
	n = put(out, n, ssid, 8);
	if (hmac) {
		memset(out + n, 0x5a, hmac);
		n += hmac;
		n = put32(out, n, 1);
		n = put32(out, n, 0x625a9e98u);
	}
	out[n++] = 1;
	n = put32(out, n, 0);
	n = put(out, n, echo, 8);
	return put32(out, n, 0);
}

static void test_openvpn_udp_modes(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t c[128], s[128];
	static const unsigned hmacs[] = {0, 16, 20, 32, 64};
	for (size_t i = 0; i < 5; i++) {
		size_t n = ovpn_client(c, hmacs[i], 0, false);
		assert_int_equal(n, 14 + (hmacs[i] ? hmacs[i] + 8 : 0));
		flow_init(&f, 17, 1194);
		flow_add(&f, true, c, n);
		expect_verdict(&f, false, SERVICE_NEED_MORE);
		expect_match(&f, true, SVC_OPENVPN, CONF_MEDIUM, &m);
		flow_add(&f, false, s, ovpn_server(s, hmacs[i], ovpn_sid));
		expect_match(&f, false, SVC_OPENVPN, CONF_HIGH, &m);
		char want[64];
		snprintf(want, sizeof(want), "\"hmac_len\":%u,\"mode\":\"%s\"", hmacs[i],
			 hmacs[i] ? "tls-auth" : "plain");
		expect_detail(&m, want);
	}
	/* Early negotiation: EARLY_NEG_START and a TLV, not a zero packet id. */
	flow_init(&f, 17, 4000);
	flow_add(&f, true, c, ovpn_client(c, 0, 0x0f000000u, true));
	expect_match(&f, true, SVC_OPENVPN, CONF_MEDIUM, &m);
}

static void test_openvpn_udp_near_misses(void **state)
{
	(void)state;
	struct flow f;
	uint8_t c[128], s[128];
	size_t n = ovpn_client(c, 0, 0, false);
	/* One byte more, an ack count, a key id, another opcode. */
	uint8_t longer[15];
	memcpy(longer, c, 14);
	longer[14] = 0;
	flow_init(&f, 17, 1194);
	flow_add(&f, true, longer, 15);
	expect_not(&f, SVC_OPENVPN);
	static const size_t at[] = {9, 0, 0};
	static const uint8_t val[] = {1, 0x39, 0x30};
	for (size_t i = 0; i < 3; i++) {
		ovpn_client(c, 0, 0, false);
		c[at[i]] = val[i];
		flow_init(&f, 17, 1194);
		flow_add(&f, true, c, n);
		expect_not(&f, SVC_OPENVPN);
	}
	/* A non-zero, non-early packet id. */
	flow_init(&f, 17, 1194);
	flow_add(&f, true, c, ovpn_client(c, 0, 7, false));
	expect_not(&f, SVC_OPENVPN);
	/* The server does not echo our session id. */
	static const uint8_t other[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	flow_init(&f, 17, 1194);
	flow_add(&f, true, c, ovpn_client(c, 20, 0, false));
	flow_add(&f, false, s, ovpn_server(s, 20, other));
	expect_not(&f, SVC_OPENVPN);
	/* 0x38 and 54 random-looking bytes: tls-crypt-like, weak alone. */
	uint8_t r[54];
	for (size_t i = 0; i < sizeof(r); i++)
		r[i] = (uint8_t)(i * 37 + 11);
	r[0] = 0x38;
	flow_init(&f, 17, 7777);
	flow_add(&f, true, r, sizeof(r));
	expect_not(&f, SVC_OPENVPN);
	flow_init(&f, 17, 1194); /* on the standard port: low */
	flow_add(&f, true, r, sizeof(r));
	struct service_match m;
	expect_match(&f, true, SVC_OPENVPN, CONF_LOW, &m);
}

static void test_openvpn_tls_crypt(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	/* tls-crypt-v2: 0x50, sid, pid, time, tag, ciphertext, WKc ending in its length. */
	uint8_t c[353], s[72];
	for (size_t i = 0; i < sizeof(c); i++)
		c[i] = (uint8_t)(i * 101 + 7);
	c[0] = 0x50;
	put32(c, 9, 0x0a010001);
	put32(c, 13, 0x625a9e97u);
	put16(c, sizeof(c) - 2, 299);
	flow_init(&f, 17, 1194);
	flow_add(&f, true, c, sizeof(c));
	expect_match(&f, true, SVC_OPENVPN, CONF_MEDIUM, &m);
	expect_detail(&m, "\"mode\":\"tls-crypt-v2\"");
	/* The server: opcode 8, packet id 1, a clock within a day of the client's. */
	memset(s, 0x77, sizeof(s));
	s[0] = 0x40;
	put32(s, 9, 1);
	put32(s, 13, 0x625a9e97u + 30);
	flow_add(&f, false, s, sizeof(s));
	expect_match(&f, false, SVC_OPENVPN, CONF_HIGH, &m);
	/* A WKc length that cannot be. */
	put16(c, sizeof(c) - 2, 340);
	flow_init(&f, 17, 5555);
	flow_add(&f, true, c, sizeof(c));
	expect_not(&f, SVC_OPENVPN);
	/* A clock two days off does not confirm. */
	put16(c, sizeof(c) - 2, 299);
	put32(s, 13, 0x625a9e97u + 2 * 86400);
	flow_init(&f, 17, 5555);
	flow_add(&f, true, c, sizeof(c));
	flow_add(&f, false, s, sizeof(s));
	expect_not(&f, SVC_OPENVPN);
}

static void test_openvpn_tcp(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t c[160], s[160];
	size_t n = ovpn_client(c + 2, 20, 0, false);
	put16(c, 0, (unsigned)n);
	flow_init(&f, 6, 443);
	flow_add(&f, true, c, 2 + n);
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	size_t k = ovpn_server(s + 2, 20, ovpn_sid);
	put16(s, 0, (unsigned)k);
	flow_add(&f, false, s, 2 + k);
	expect_match(&f, false, SVC_OPENVPN, CONF_HIGH, &m);
	assert_string_equal(m.fingerprint_id, "openvpn-tcp-reset");
	/* The packet split over two segments. */
	flow_init(&f, 6, 1194);
	flow_add(&f, true, c, 10);
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	flow_add(&f, true, c + 10, 2 + n - 10);
	expect_match(&f, true, SVC_OPENVPN, CONF_MEDIUM, &m);
	/* A length prefix that does not fit the packet. */
	put16(c, 0, (unsigned)n + 1);
	flow_init(&f, 6, 1194);
	flow_add(&f, true, c, 2 + n);
	expect_not(&f, SVC_OPENVPN);
}

/* ---- IKE / IPsec ---- */

static const uint8_t ike_spi[8] = {0xb6, 0x4e, 0xf3, 0x21, 0x31, 0xa4, 0x89, 0x52};

static size_t ike_msg(uint8_t *out, uint8_t version, uint8_t exch, uint8_t flags, bool spir,
		      uint32_t msgid, size_t len)
{
	memset(out, 0, len);
	put(out, 0, ike_spi, 8);
	if (spir)
		memset(out + 8, 0x42, 8);
	out[16] = version == 0x20 ? 0x21 : 0x01;
	out[17] = version;
	out[18] = exch;
	out[19] = flags;
	put32(out, 20, msgid);
	put32(out, 24, (uint32_t)len);
	return len;
}

static void test_ike_v2_and_v1(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t c[400], s[400];
	flow_init(&f, 17, 500);
	flow_add(&f, true, c, ike_msg(c, 0x20, 34, 0x08, false, 0, 300));
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	flow_add(&f, false, s, ike_msg(s, 0x20, 34, 0x20, true, 0, 200));
	expect_match(&f, false, SVC_IKE, CONF_HIGH, &m);
	assert_string_equal(m.fingerprint_id, "ike-header");
	expect_detail(&m, "\"ike\":{\"version\":2,\"exch_type\":34,\"spi_i\":\"b64ef32131a48952\"}");
	/* IKEv1 main mode, on any port. */
	flow_init(&f, 17, 10500);
	flow_add(&f, true, c, ike_msg(c, 0x10, 2, 0, false, 0, 168));
	expect_match(&f, true, SVC_IKE, CONF_MEDIUM, &m);
	expect_detail(&m, "\"version\":1,\"exch_type\":2");
	/* The response carries another initiator SPI: not the same exchange. */
	flow_init(&f, 17, 500);
	flow_add(&f, true, c, ike_msg(c, 0x20, 34, 0x08, false, 0, 300));
	ike_msg(s, 0x20, 34, 0x20, true, 0, 200);
	s[0] ^= 1;
	flow_add(&f, false, s, 200);
	expect_not(&f, SVC_IKE);
}

static void test_ike_near_misses(void **state)
{
	(void)state;
	struct flow f;
	uint8_t c[400];
	/* Length field off by one, unknown version, zero SPIi, SA_INIT request with
	 * a responder SPI, SA_INIT with a message id, unknown exchange. */
	ike_msg(c, 0x20, 34, 0x08, false, 0, 300);
	put32(c, 24, 301);
	flow_init(&f, 17, 500);
	flow_add(&f, true, c, 300);
	expect_not(&f, SVC_IKE);
	flow_init(&f, 17, 500);
	flow_add(&f, true, c, ike_msg(c, 0x30, 34, 0x08, false, 0, 300));
	expect_not(&f, SVC_IKE);
	ike_msg(c, 0x20, 34, 0x08, false, 0, 300);
	memset(c, 0, 8);
	flow_init(&f, 17, 500);
	flow_add(&f, true, c, 300);
	expect_not(&f, SVC_IKE);
	flow_init(&f, 17, 500);
	flow_add(&f, true, c, ike_msg(c, 0x20, 34, 0x08, true, 0, 300));
	expect_not(&f, SVC_IKE);
	flow_init(&f, 17, 500);
	flow_add(&f, true, c, ike_msg(c, 0x20, 34, 0x08, false, 5, 300));
	expect_not(&f, SVC_IKE);
	flow_init(&f, 17, 500);
	flow_add(&f, true, c, ike_msg(c, 0x20, 99, 0x08, false, 0, 300));
	expect_not(&f, SVC_IKE);
}

static void test_ike_natt(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t c[400], s[400];
	/* 4500: a keepalive, then the non-ESP marker and IKE_AUTH. */
	flow_init(&f, 17, 4500);
	flow_add(&f, true, "\xff", 1);
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	memset(c, 0, 4);
	ike_msg(c + 4, 0x20, 35, 0x08, true, 1, 200);
	flow_add(&f, true, c, 204);
	memset(s, 0, 4);
	ike_msg(s + 4, 0x20, 35, 0x20, true, 1, 100);
	flow_add(&f, false, s, 104);
	expect_match(&f, false, SVC_IKE, CONF_HIGH, &m);
	assert_string_equal(m.fingerprint_id, "ike-natt-marker");
	assert_int_equal(m.match_offset, 4);
	/* Keepalives only: low, at the end. */
	flow_init(&f, 17, 4500);
	flow_add(&f, true, "\xff", 1);
	expect_match(&f, true, SVC_IKE, CONF_LOW, &m);
	assert_string_equal(m.fingerprint_id, "ike-natt-keepalive");
	/* ESP in UDP both ways on 4500: medium; on another port: nothing. */
	uint8_t esp[100];
	memset(esp, 0x33, sizeof(esp));
	put32(esp, 0, 0x04888fe4);
	put32(esp, 4, 1);
	flow_init(&f, 17, 4500);
	flow_add(&f, true, esp, sizeof(esp));
	put32(esp, 0, 0xcbb7a0c6);
	flow_add(&f, false, esp, sizeof(esp));
	expect_match(&f, false, SVC_IKE, CONF_MEDIUM, &m);
	assert_string_equal(m.fingerprint_id, "ipsec-natt-esp");
	flow_init(&f, 17, 4501);
	flow_add(&f, true, esp, sizeof(esp));
	flow_add(&f, false, esp, sizeof(esp));
	expect_not(&f, SVC_IKE);
}

static void test_ike_tcp(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t c[300], s[300];
	memcpy(c, "IKETCP", 6);
	put16(c, 6, 2 + 4 + 200);
	memset(c + 8, 0, 4);
	ike_msg(c + 12, 0x20, 34, 0x08, false, 0, 200);
	flow_init(&f, 6, 4500);
	flow_add(&f, true, c, 212);
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	expect_match(&f, true, SVC_IKE, CONF_MEDIUM, &m);
	put16(s, 0, 2 + 4 + 100);
	memset(s + 2, 0, 4);
	ike_msg(s + 6, 0x20, 34, 0x20, true, 0, 100);
	flow_add(&f, false, s, 106);
	expect_match(&f, false, SVC_IKE, CONF_HIGH, &m);
	assert_string_equal(m.fingerprint_id, "ike-tcp");
	flow_init(&f, 6, 4500);
	flow_add(&f, true, "IKETCQ", 6);
	expect_not(&f, SVC_IKE);
}

/* ---- WireGuard and Tailscale ---- */

static size_t wg_msg(uint8_t *out, uint8_t type, size_t len, uint32_t a, uint32_t b)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(i * 13 + type);
	out[0] = type;
	out[1] = out[2] = out[3] = 0;
	put32(out, 4, a);
	if (type == 2)
		put32(out, 8, b);
	if (type == 4) { /* counter, little-endian 64 */
		memset(out + 8, 0, 8);
		out[8] = (uint8_t)b;
	}
	return len;
}

static void test_wireguard_handshake(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t c[200], s[200];
	flow_init(&f, 17, 51820);
	flow_add(&f, true, c, wg_msg(c, 1, 148, 0xd837d030, 0));
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	expect_match(&f, true, SVC_WIREGUARD, CONF_MEDIUM, &m);
	flow_add(&f, false, s, wg_msg(s, 2, 92, 0x06f47dab, 0xd837d030));
	expect_match(&f, false, SVC_WIREGUARD, CONF_HIGH, &m);
	expect_detail(&m, "\"wg\":{\"sender_index\":\"d837d030\"}");
	/* Exact sizes and reserved zeros. */
	flow_init(&f, 17, 51820);
	flow_add(&f, true, c, wg_msg(c, 1, 147, 1, 0));
	expect_not(&f, SVC_WIREGUARD);
	flow_init(&f, 17, 51820);
	wg_msg(c, 1, 148, 1, 0);
	c[2] = 1;
	flow_add(&f, true, c, 148);
	expect_not(&f, SVC_WIREGUARD);
	/* A response to someone else's initiation is no confirmation. */
	flow_init(&f, 17, 51820);
	flow_add(&f, true, c, wg_msg(c, 1, 148, 0xd837d030, 0));
	flow_add(&f, false, s, wg_msg(s, 2, 92, 0x06f47dab, 0x12345678));
	expect_match(&f, true, SVC_WIREGUARD, CONF_MEDIUM, &m);
	/* Anything else in the flow is not WireGuard. */
	flow_init(&f, 17, 51820);
	flow_add(&f, true, c, wg_msg(c, 1, 148, 0xd837d030, 0));
	flow_add(&f, false, "\x05\x00\x00\x00hello", 9);
	expect_not(&f, SVC_WIREGUARD);
}

static void test_wireguard_data_only(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t d[128];
	/* Mid-session: transport data both ways, one receiver each, rising counters. */
	flow_init(&f, 17, 5060);
	for (uint32_t i = 0; i < 3; i++) {
		flow_add(&f, true, d, wg_msg(d, 4, 96, 0x15764979, 19 + i));
		flow_add(&f, false, d, wg_msg(d, 4, 80, 0xb048101c, 15 + i));
	}
	expect_match(&f, false, SVC_WIREGUARD, CONF_HIGH, &m);
	assert_string_equal(m.fingerprint_id, "wireguard-data");
	/* Counters that go back, or a size off the 16-byte grid. */
	flow_init(&f, 17, 5060);
	flow_add(&f, true, d, wg_msg(d, 4, 96, 7, 5));
	flow_add(&f, true, d, wg_msg(d, 4, 96, 7, 4));
	expect_not(&f, SVC_WIREGUARD);
	flow_init(&f, 17, 5060);
	flow_add(&f, true, d, wg_msg(d, 4, 100, 7, 1));
	expect_not(&f, SVC_WIREGUARD);
	/* One data datagram: only on the standard port, low. */
	flow_init(&f, 17, 51820);
	flow_add(&f, true, d, wg_msg(d, 4, 96, 7, 1));
	expect_match(&f, true, SVC_WIREGUARD, CONF_LOW, &m);
}

static void test_tailscale_disco(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t p[110];
	memset(p, 0x5c, sizeof(p));
	memcpy(p, "TS\xf0\x9f\x92\xac", 6);
	flow_init(&f, 17, 41641);
	flow_add(&f, true, p, 92);
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	flow_add(&f, false, p, 110);
	expect_match(&f, false, SVC_TAILSCALE, CONF_HIGH, &m);
	/* Too short to carry a key, a nonce and a box. */
	flow_init(&f, 17, 41641);
	flow_add(&f, true, p, 40);
	expect_not(&f, SVC_TAILSCALE);
}

/* ---- PPTP ---- */

static size_t pptp_msg(uint8_t *out, uint16_t type, const char *host)
{
	memset(out, 0, 156);
	size_t n = put16(out, 0, 156);
	n = put16(out, n, 1);
	n = put32(out, n, 0x1a2b3c4d);
	n = put16(out, n, type);
	n = put16(out, n, 0);
	put16(out, n, 0x0100);
	out[14] = type == 2 ? 1 : 0; /* SCCRP result: success */
	put32(out, 16, 3);
	put32(out, 20, 3);
	if (host)
		memcpy(out + 28, host, strlen(host));
	memcpy(out + 92, "cananian", 8);
	return 156;
}

static void test_pptp(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t c[156], s[156];
	flow_init(&f, 6, 1723);
	flow_add(&f, true, c, pptp_msg(c, 1, "local"));
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	expect_match(&f, true, SVC_PPTP, CONF_MEDIUM, &m);
	flow_add(&f, false, s, pptp_msg(s, 2, NULL));
	expect_match(&f, false, SVC_PPTP, CONF_HIGH, &m);
	expect_detail(&m, "\"pptp\":{\"hostname\":\"local\",\"vendor\":\"cananian\"}");
	/* Wrong cookie, wrong SCCRQ length, wrong version. */
	pptp_msg(c, 1, "x");
	c[7] = 0x4e;
	flow_init(&f, 6, 1723);
	flow_add(&f, true, c, 156);
	expect_not(&f, SVC_PPTP);
	pptp_msg(c, 1, "x");
	put16(c, 0, 157);
	flow_init(&f, 6, 1723);
	flow_add(&f, true, c, 156);
	expect_not(&f, SVC_PPTP);
	pptp_msg(c, 1, "x");
	put16(c, 12, 0x0200);
	flow_init(&f, 6, 1723);
	flow_add(&f, true, c, 156);
	expect_not(&f, SVC_PPTP);
}

/* ---- TeamViewer ---- */

static size_t tv_client_frame(uint8_t *out, uint8_t cmd, uint16_t len)
{
	out[0] = 0x17;
	out[1] = 0x24;
	out[2] = cmd;
	out[3] = (uint8_t)len;
	out[4] = (uint8_t)(len >> 8);
	memset(out + 5, 0, len);
	return 5 + (size_t)len;
}

static size_t tv_server_frame(uint8_t *out, uint8_t cmd, uint32_t len)
{
	memset(out, 0, 24 + len);
	out[0] = 0x11;
	out[1] = 0x30;
	out[2] = cmd;
	out[4] = (uint8_t)len;
	out[5] = (uint8_t)(len >> 8);
	return 24 + (size_t)len;
}

static void test_teamviewer_tcp(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t c[200], s[200];
	size_t n = tv_client_frame(c, 0x0a, 32);
	n += tv_client_frame(c + n, 0x28, 24);
	n += tv_client_frame(c + n, 0x3c, 32);
	flow_init(&f, 6, 443);
	flow_add(&f, true, c, n);
	expect_verdict(&f, false, SERVICE_NEED_MORE); /* three frames: waits for the server */
	flow_add(&f, false, s, tv_server_frame(s, 0x36, 24));
	expect_match(&f, false, SVC_TEAMVIEWER, CONF_HIGH, &m);
	/* A single frame on another port: too little; on 5938: medium. */
	flow_init(&f, 6, 8000);
	flow_add(&f, true, c, 37);
	expect_not(&f, SVC_TEAMVIEWER);
	flow_init(&f, 6, 5938);
	flow_add(&f, true, c, 37);
	expect_match(&f, true, SVC_TEAMVIEWER, CONF_MEDIUM, &m);
	/* Magic whose lengths do not chain counts once. */
	tv_client_frame(c, 0x0a, 32);
	c[3] = 40;
	flow_init(&f, 6, 8000);
	flow_add(&f, true, c, n);
	expect_not(&f, SVC_TEAMVIEWER);
	/* The client's first bytes must be the magic. */
	flow_init(&f, 6, 5938);
	flow_add(&f, true, "\x17\x25zzzz", 6);
	expect_not(&f, SVC_TEAMVIEWER);
}

static void test_teamviewer_udp(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t d[96];
	memset(d, 0, sizeof(d));
	d[10] = 0x03;
	d[11] = 0x17;
	d[12] = 0x24;
	flow_init(&f, 17, 36037);
	flow_add(&f, true, d, sizeof(d));
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	for (int i = 0; i < 3; i++)
		flow_add(&f, false, d, sizeof(d));
	expect_match(&f, false, SVC_TEAMVIEWER, CONF_HIGH, &m);
	/* One datagram on an odd port is not enough. */
	flow_init(&f, 17, 36037);
	flow_add(&f, true, d, sizeof(d));
	expect_not(&f, SVC_TEAMVIEWER);
	d[12] = 0x25;
	flow_init(&f, 17, 5938);
	flow_add(&f, true, d, sizeof(d));
	expect_not(&f, SVC_TEAMVIEWER);
}

/* ---- TLS, AnyDesk ---- */

/* A TLS 1.2-style ClientHello record with optional SNI and one ALPN protocol. */
static size_t tls_client_hello(uint8_t *out, const char *sni, const char *alpn)
{
	size_t n = 0;
	out[n++] = 0x16;
	out[n++] = 0x03;
	out[n++] = 0x01;
	n += 2; /* record length */
	out[n++] = 0x01;
	n += 3; /* handshake length */
	out[n++] = 0x03;
	out[n++] = 0x03;
	memset(out + n, 0x42, 32);
	n += 32;
	out[n++] = 0; /* session id */
	n = put16(out, n, 4);
	n = put16(out, n, 0x1301);
	n = put16(out, n, 0xc02f);
	out[n++] = 1;
	out[n++] = 0;
	size_t ext = n;
	n += 2;
	if (sni) {
		size_t k = strlen(sni);
		n = put16(out, n, 0);
		n = put16(out, n, (unsigned)k + 5);
		n = put16(out, n, (unsigned)k + 3);
		out[n++] = 0;
		n = put16(out, n, (unsigned)k);
		n = put(out, n, sni, k);
	}
	if (alpn) {
		size_t k = strlen(alpn);
		n = put16(out, n, 16);
		n = put16(out, n, (unsigned)k + 3);
		n = put16(out, n, (unsigned)k + 1);
		out[n++] = (uint8_t)k;
		n = put(out, n, alpn, k);
	}
	put16(out, ext, (unsigned)(n - ext - 2));
	put16(out, 3, (unsigned)(n - 5));
	out[6] = 0;
	put16(out, 7, (unsigned)(n - 9));
	return n;
}

/* ServerHello (TLS 1.3 if asked: supported_versions 0x0304), then optionally
 * a handshake record holding `cert` bytes and a ServerHelloDone. */
static size_t tls_server_flight(uint8_t *out, bool tls13, const uint8_t *cert, size_t cert_len,
				bool done)
{
	size_t n = 0;
	out[n++] = 0x16;
	out[n++] = 0x03;
	out[n++] = 0x03;
	n += 2;
	out[n++] = 0x02;
	n += 3;
	out[n++] = 0x03;
	out[n++] = 0x03;
	memset(out + n, 0x24, 32);
	n += 32;
	out[n++] = 0;
	n = put16(out, n, 0x1301);
	out[n++] = 0;
	size_t ext = n;
	n += 2;
	if (tls13) {
		n = put16(out, n, 43);
		n = put16(out, n, 2);
		n = put16(out, n, 0x0304);
	}
	put16(out, ext, (unsigned)(n - ext - 2));
	put16(out, 3, (unsigned)(n - 5));
	out[6] = 0;
	put16(out, 7, (unsigned)(n - 9));
	if (cert) {
		out[n++] = 0x16;
		out[n++] = 0x03;
		out[n++] = 0x03;
		n = put16(out, n, (unsigned)cert_len + 4);
		out[n++] = 0x0b;
		out[n++] = 0;
		n = put16(out, n, (unsigned)cert_len);
		n = put(out, n, cert, cert_len);
	}
	if (done)
		n = put(out, n, "\x16\x03\x03\x00\x04\x0e\x00\x00\x00", 9);
	return n;
}

static void test_tls_sni_alpn(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t c[512], s[512];
	flow_init(&f, 6, 8443);
	flow_add(&f, true, c, tls_client_hello(c, "www.example.org", "h2"));
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	expect_match(&f, true, SVC_SSL, CONF_MEDIUM, &m);
	expect_detail(&m, "\"tls\":{\"sni\":\"www.example.org\",\"alpn\":\"h2\"}");
	/* A TLS 1.2 ServerHello alone: the certificate may follow, so wait. */
	size_t k = tls_server_flight(s, false, NULL, 0, false);
	flow_add(&f, false, s, k);
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	flow_add(&f, false, "\x16\x03\x03\x00\x04\x0e\x00\x00\x00", 9);
	expect_match(&f, false, SVC_SSL, CONF_HIGH, &m);
	assert_true(m.both_sides);
	/* TLS 1.3: the certificate is encrypted, decide at once. */
	flow_init(&f, 6, 443);
	flow_add(&f, true, c, tls_client_hello(c, NULL, NULL));
	flow_add(&f, false, s, tls_server_flight(s, true, NULL, 0, false));
	expect_match(&f, false, SVC_SSL, CONF_HIGH, &m);
	assert_string_equal(m.detail, "");
	/* A server alert is a TLS server too. */
	flow_init(&f, 6, 443);
	flow_add(&f, true, c, tls_client_hello(c, NULL, NULL));
	flow_add(&f, false, "\x15\x03\x03\x00\x02\x02\x28", 7);
	expect_match(&f, false, SVC_SSL, CONF_HIGH, &m);
}

static void test_tls_near_misses(void **state)
{
	(void)state;
	struct flow f;
	uint8_t c[512], s[512];
	size_t n = tls_client_hello(c, "x", NULL);
	static const size_t at[] = {1, 2, 5, 9, 10};
	static const uint8_t val[] = {0x02, 0x05, 0x02, 0x02, 0x07};
	for (size_t i = 0; i < 5; i++) {
		tls_client_hello(c, "x", NULL);
		c[at[i]] = val[i];
		flow_init(&f, 6, 443);
		flow_add(&f, true, c, n);
		flow_add(&f, false, s, tls_server_flight(s, true, NULL, 0, false));
		expect_not(&f, SVC_SSL);
	}
	/* An HTTP server answering a ClientHello: not a TLS session. */
	tls_client_hello(c, "x", NULL);
	flow_init(&f, 6, 80);
	flow_add(&f, true, c, n);
	flow_add(&f, false, "HTTP/1.1 400 Bad Request\r\n\r\n", 28);
	expect_not(&f, SVC_SSL);
	/* Truncated SNI and ALPN lengths are not followed past the record. */
	n = tls_client_hello(c, "abcdef", "h2");
	c[n - 3] = 0xff; /* ALPN protocol length past the end */
	flow_init(&f, 6, 443);
	flow_add(&f, true, c, n);
	struct service_match m;
	expect_match(&f, true, SVC_SSL, CONF_MEDIUM, &m);
	expect_detail(&m, "\"sni\":\"abcdef\"");
	assert_null(strstr(m.detail, "alpn"));
}

static void test_anydesk(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t c[512], s[512];
	/* Newer clients say so in ALPN. */
	flow_init(&f, 6, 443);
	flow_add(&f, true, c, tls_client_hello(c, NULL, "anydesk/6.2.0/linux"));
	expect_match(&f, true, SVC_ANYDESK, CONF_MEDIUM, &m);
	flow_add(&f, false, s, tls_server_flight(s, false, NULL, 0, false));
	expect_match(&f, false, SVC_ANYDESK, CONF_HIGH, &m);
	assert_string_equal(m.fingerprint_id, "anydesk-alpn");
	expect_detail(&m, "\"alpn\":\"anydesk/6.2.0/linux\"");
	/* Older ones: only the self-signed "AnyDesk Client" certificate. */
	static const uint8_t cert[] = "\x30\x19\x31\x17\x30\x15\x06\x03\x55\x04\x03\x0c\x0e"
				      "AnyDesk Client";
	flow_init(&f, 6, 7070);
	flow_add(&f, true, c, tls_client_hello(c, NULL, NULL));
	flow_add(&f, false, s, tls_server_flight(s, false, cert, sizeof(cert) - 1, true));
	expect_match(&f, false, SVC_ANYDESK, CONF_HIGH, &m);
	assert_string_equal(m.fingerprint_id, "anydesk-cert");
	expect_detail(&m, "\"cert_cn\":\"AnyDesk Client\"");
	/* The same certificate layout with another name is plain TLS. */
	uint8_t other[sizeof(cert)];
	memcpy(other, cert, sizeof(cert));
	memcpy(other + 13, "AnyDesk Clienz", 14);
	flow_init(&f, 6, 7070);
	flow_add(&f, true, c, tls_client_hello(c, NULL, NULL));
	flow_add(&f, false, s, tls_server_flight(s, false, other, sizeof(other) - 1, true));
	expect_match(&f, false, SVC_SSL, CONF_HIGH, &m);
	expect_detail(&m, "\"cert_cn\":\"AnyDesk Clienz\"");
}

/* ---- HTTP ---- */

static void test_http(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	static const char req[] = "BITS_POST /upload/x.bin HTTP/1.1\r\nBITS-Packet-Type: Ping\r\n\r\n";
	flow_init(&f, 6, 8081);
	flow_add(&f, true, req, strlen(req));
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	expect_match(&f, true, SVC_HTTP, CONF_MEDIUM, &m);
	assert_null(service_conn_log_name(&m, 6, 8081)); /* Zeek's DPD wants a reply */
	assert_string_equal(service_conn_log_name(&m, 6, 80), "http");
	flow_add(&f, false, "HTTP/1.1 200 OK\r\n", 17);
	expect_match(&f, false, SVC_HTTP, CONF_HIGH, &m);
	expect_detail(&m, "\"http\":{\"method\":\"BITS_POST\"}");
	/* A request line across segments. */
	flow_init(&f, 6, 80);
	flow_add(&f, true, "GE", 2);
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	flow_add(&f, true, "T /index.html HT", 16);
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	flow_add(&f, true, "TP/1.0\r\n\r\n", 10);
	expect_match(&f, true, SVC_HTTP, CONF_MEDIUM, &m);
	/* HTTP/0.9: GET target CRLF, answered with the bare body. */
	flow_init(&f, 6, 80);
	flow_add(&f, true, "GET /\r\n\r\n", 9);
	flow_add(&f, false, "<!DOCTYPE HTML>", 15);
	expect_match(&f, false, SVC_HTTP, CONF_MEDIUM, &m);
	/* Near misses: unknown method, lower case, no version, a server that is not HTTP. */
	static const char *const bad[] = {"GETX / HTTP/1.1\r\n", "get / HTTP/1.1\r\n",
					  "POST / FTP/1.1\r\n", "GET  / HTTP/1.1\r\n",
					  "GET / HTTP/1.1 junk\r\n"};
	for (size_t i = 0; i < 5; i++) {
		flow_init(&f, 6, 80);
		flow_add(&f, true, bad[i], strlen(bad[i]));
		expect_not(&f, SVC_HTTP);
	}
	flow_init(&f, 6, 80);
	flow_add(&f, true, req, strlen(req));
	flow_add(&f, false, ssh_s, strlen(ssh_s));
	expect_not(&f, SVC_HTTP);
}

/* ---- STARTTLS ---- */

static void test_starttls(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	uint8_t c[512], s[512];
	flow_init(&f, 6, 25);
	flow_add(&f, false, "220 mx ESMTP\r\n", 14);
	flow_add(&f, true, "EHLO me\r\n", 9);
	flow_add(&f, false, "250-mx\r\n250 STARTTLS\r\n", 22);
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	flow_add(&f, true, "STARTTLS\r\n", 10);
	flow_add(&f, false, "220 Go ahead\r\n", 14);
	flow_add(&f, true, c, tls_client_hello(c, "mx.example", NULL));
	flow_add(&f, false, s, tls_server_flight(s, true, NULL, 0, false));
	expect_match(&f, false, SVC_SSL, CONF_HIGH, &m);
	assert_string_equal(m.fingerprint_id, "tls-starttls");
	assert_int_equal(m.match_offset, 19);
	assert_string_equal(service_conn_log_name(&m, 6, 25), "ssl");
	/* TLS after text without the upgrade verb is not it. */
	flow_init(&f, 6, 25);
	flow_add(&f, true, "EHLO me\r\n", 9);
	flow_add(&f, true, c, tls_client_hello(c, "mx.example", NULL));
	expect_not(&f, SVC_SSL);
}

/* ---- conn.log names ---- */

static void test_conn_log_names(void **state)
{
	(void)state;
	struct service_match m;
	memset(&m, 0, sizeof(m));
	assert_null(service_conn_log_name(&m, 6, 22)); /* SVC_NONE */
	m.id = SVC_RFB;
	m.confidence = CONF_HIGH;
	m.both_sides = true;
	m.fingerprint_id = "rfb-version";
	assert_string_equal(service_conn_log_name(&m, 6, 5900), "rfb");
	m.both_sides = false;
	m.confidence = CONF_MEDIUM;
	assert_null(service_conn_log_name(&m, 6, 5900));
	/* A ClientHello alone: on Zeek's SSL ports or after STARTTLS only. */
	m.id = SVC_SSL;
	m.fingerprint_id = "tls-client-hello";
	assert_string_equal(service_conn_log_name(&m, 6, 993), "ssl");
	assert_null(service_conn_log_name(&m, 6, 4433));
	m.fingerprint_id = "tls-starttls";
	assert_string_equal(service_conn_log_name(&m, 6, 25), "ssl");
	/* AnyDesk is TLS to Zeek. */
	m.id = SVC_ANYDESK;
	m.fingerprint_id = "anydesk-alpn";
	m.both_sides = true;
	assert_string_equal(service_conn_log_name(&m, 6, 80), "ssl");
	/* An HTTP response alone is not a request Zeek would have confirmed. */
	m.id = SVC_HTTP;
	m.both_sides = false;
	m.fingerprint_id = "http-response";
	assert_null(service_conn_log_name(&m, 6, 80));
	/* Ours: from medium confidence. */
	m.id = SVC_OPENVPN;
	m.fingerprint_id = "openvpn-udp-reset";
	assert_string_equal(service_conn_log_name(&m, 17, 1194), "openvpn");
	m.id = SVC_TELNET;
	m.confidence = CONF_LOW;
	m.fingerprint_id = "telnet-port-banner";
	assert_null(service_conn_log_name(&m, 6, 23));
}

/* ---- the dispatcher ---- */

static void test_waiting_and_giving_up(void **state)
{
	(void)state;
	struct flow f;
	struct service_match m;
	/* Nothing yet: wait; at the end: nothing. */
	flow_init(&f, 6, 22);
	expect_verdict(&f, false, SERVICE_NEED_MORE);
	expect_verdict(&f, true, SERVICE_NO_MATCH);
	/* A DNS query matches nothing, at once. */
	static const uint8_t dns[] = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
				      0x00, 0x00, 0x00, 0x03, 'w',  'w',  'w',  0x00, 0x00,
				      0x01, 0x00, 0x01};
	flow_init(&f, 17, 53);
	flow_add(&f, true, dns, sizeof(dns));
	expect_verdict(&f, false, SERVICE_NO_MATCH);
	/* Binary TCP: nothing, at once. */
	flow_init(&f, 6, 9999);
	flow_add(&f, true, "\x8f\x01\x02\x03\x04\x05\x06\x07", 8);
	expect_verdict(&f, false, SERVICE_NO_MATCH);
	/* Unknown text both ways: decided once both sides had their say. */
	flow_init(&f, 6, 9999);
	flow_add(&f, true, "HELLO there\r\n", 13);
	for (int i = 0; i < 4; i++)
		flow_add(&f, false, "+OK something\r\n", 15);
	for (int i = 0; i < 3; i++)
		flow_add(&f, true, "MORE\r\n", 6);
	expect_verdict(&f, false, SERVICE_NO_MATCH);
	/* Neither TCP nor UDP. */
	struct content c;
	content_init(&c);
	struct content_view v;
	content_view(&c, 47, 0, &v);
	assert_int_equal(service_identify(&v, &m), SERVICE_NO_MATCH);
	assert_int_equal(m.id, SVC_NONE);
}

/* Random bytes in every shape: no reads past the buffers (ASan), no match
 * whose detail is not JSON. */
static void test_random_bytes(void **state)
{
	(void)state;
	uint32_t x = 2463534242u;
	uint8_t buf[1400];
	struct flow f;
	struct service_match m;
	unsigned matched = 0, by_id[SVC_COUNT] = {0};
	for (int iter = 0; iter < 20000; iter++) {
		flow_init(&f, (iter & 1) ? 6 : 17, (uint16_t)(iter % 7 == 0 ? 22 : 1024 + iter));
		int segs = 1 + iter % 6;
		for (int sgm = 0; sgm < segs; sgm++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			size_t len = 1 + x % sizeof(buf);
			for (size_t i = 0; i < len; i++) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				buf[i] = (uint8_t)x;
			}
			/* Seed some magic so the matchers go deeper. */
			static const char *const magic[] = {"SSH-2.0-", "\x16\x03\x01\x00\x80\x01",
							    "\x03\x00\x00\x2c\x27\xe0", "RFB 003.",
							    "\x38", "\x01\x00\x00\x00", "GET / ",
							    "\xff\xfd", "\x17\x24", "IKETCP"};
			const char *mg = magic[x % 10];
			size_t ml = strlen(mg);
			if (ml && ml <= len && (x & 0x100))
				memcpy(buf, mg, ml);
			flow_add(&f, (x & 0x200) != 0, buf, len);
			for (int final = 0; final < 2; final++) {
				if (flow_identify(&f, final, &m) == SERVICE_MATCH) {
					matched++;
					by_id[m.id]++;
					expect_detail(&m, NULL);
					assert_true(m.id > SVC_NONE && m.id < SVC_COUNT);
				}
			}
		}
	}
	print_message("random flows: %u matches (weak fingerprints on noise)\n", matched);
	for (int i = 0; i < SVC_COUNT; i++)
		if (by_id[i])
			print_message("  %s: %u\n", service_name((enum service_id)i), by_id[i]);
}

/* ---- real captures ---- */

struct capture_expect {
	const char *file;	 /* under ../shared/samples */
	enum service_id id;	 /* SVC_NONE: no flow may match anything */
	unsigned flows;		 /* flows identified as `id` */
	enum service_confidence min_conf; /* the least confident of them */
	const char *detail;	 /* found in one of their details, or NULL */
};

static const struct capture_expect captures[] = {
	{"zeek/http_206_example_a.pcap", SVC_HTTP, 2, CONF_HIGH, "\"method\":\"GET\""},
	{"zeek/http_byteranges.pcap", SVC_HTTP, 1, CONF_HIGH, NULL},
	{"zeek/http_concurrent-range-requests.pcap", SVC_HTTP, 3, CONF_HIGH, NULL},
	{"zeek/http_get-to-ssh-server.pcap", SVC_NONE, 0, CONF_LOW, NULL}, /* neither side's protocol */
	{"zeek/http_m57-long-49583-80.pcap", SVC_HTTP, 1, CONF_HIGH, NULL},
	{"zeek/http_m57-long-49600-80.pcap", SVC_HTTP, 1, CONF_HIGH, NULL},
	{"zeek/http_vnd.ms-cab-compressed-multi-conn.pcap", SVC_HTTP, 5, CONF_HIGH, NULL},
	{"zeek/icmp_icmp-destunreach-udp.pcap", SVC_NONE, 0, CONF_LOW, NULL},
	{"zeek/ip6_esp.pcap", SVC_NONE, 0, CONF_LOW, NULL}, /* native ESP: by IP protocol */
	{"zeek/nmap-vsn.pcap", SVC_NONE, 0, CONF_LOW, NULL}, /* version probes: no false match */
	{"zeek/rdp_rdp-no-cookie-mstshash.pcap", SVC_RDP, 1, CONF_HIGH, "\"requested_protocols\":11"},
	{"zeek/rdp_rdp-x509.pcap", SVC_RDP, 1, CONF_HIGH, "\"cookie_user\":\"JOHN-PC  \""},
	{"zeek/rdp_rdpeudp-handshake-success.pcap", SVC_RDPEUDP, 1, CONF_HIGH, NULL},
	{"zeek/rfb_vnc-mac-to-linux.pcap", SVC_RFB, 3, CONF_HIGH, "\"server\":\"RFB 003.008\""},
	{"zeek/rfb_vncmac.pcap", SVC_RFB, 3, CONF_HIGH, "\"client\":\"RFB 003.889\""},
	{"zeek/ssh_single-conn.pcap", SVC_SSH, 1, CONF_HIGH, "\"server\":\"SSH-1.99-OpenSSH_3.9p1\""},
	{"zeek/ssh_ssh-on-port-80.pcap", SVC_SSH, 1, CONF_HIGH, "OpenSSH_5.8p1 Debian-1ubuntu3"},
	{"zeek/ssl-and-ssh-using-sslh.pcap", SVC_SSH, 1, CONF_HIGH, NULL},
	{"zeek/ssl-and-ssh-using-sslh.pcap", SVC_SSL, 1, CONF_HIGH, NULL},
	{"zeek/tcp_syn-then-rst.pcap", SVC_NONE, 0, CONF_LOW, NULL},
	{"zeek/tunnels_gre-pptp.pcap", SVC_NONE, 0, CONF_LOW, NULL}, /* GRE only */
	{"ndpi/anydesk.pcapng", SVC_ANYDESK, 4, CONF_HIGH, "\"alpn\":\"anydesk/6.2.0/linux\""},
	{"ndpi/ipsec_isakmp_esp.pcap", SVC_IKE, 24, CONF_HIGH, "\"version\":2"},
	{"ndpi/mullvad_wireguard.pcap", SVC_WIREGUARD, 1, CONF_HIGH, NULL},
	{"ndpi/openvpn-tlscrypt.pcap", SVC_OPENVPN, 1, CONF_HIGH, "\"mode\":\"tls-crypt-v2\""},
	/* One flow is split by NAT in the capture: its server side is another 5-tuple. */
	{"ndpi/openvpn.pcap", SVC_OPENVPN, 9, CONF_MEDIUM, "\"hmac_len\":64"},
	{"ndpi/openvpn_nohmac_tcp.pcapng", SVC_OPENVPN, 1, CONF_HIGH, "\"mode\":\"plain\""},
	{"ndpi/pptp.pcap", SVC_PPTP, 1, CONF_HIGH, "\"hostname\":\"local\""},
	{"ndpi/rdp.pcap", SVC_RDP, 1, CONF_HIGH, NULL},
	{"ndpi/ssh.pcap", SVC_SSH, 2, CONF_HIGH, "APACHE-SSHD"},
	{"ndpi/teamviewer.pcap", SVC_TEAMVIEWER, 2, CONF_HIGH, NULL},
	{"ndpi/telnet.pcap", SVC_TELNET, 1, CONF_HIGH, NULL},
	{"ndpi/vnc.pcap", SVC_RFB, 2, CONF_HIGH, "RFB 004.001"},
	{"ndpi/wireguard.pcap", SVC_WIREGUARD, 2, CONF_HIGH, "\"sender_index\":\"d837d030\""},
	{"corelight/ipsec-ikev1-isakmp-aggressive-mode.pcap", SVC_IKE, 1, CONF_HIGH, "\"exch_type\":4"},
	{"corelight/ipsec-ikev1-isakmp-main-mode.pcap", SVC_IKE, 1, CONF_HIGH,
	 "\"spi_i\":\"e47a591fd057587f\""},
	{"corelight/ipsec.cap", SVC_IKE, 1, CONF_HIGH, NULL},
	{"corelight/openvpn-tcp-tls-auth.pcap", SVC_OPENVPN, 2, CONF_HIGH, "\"hmac_len\":20"},
	{"corelight/openvpn.pcap", SVC_OPENVPN, 1, CONF_HIGH, NULL},
	{"corelight/openvpn_udp_tls-auth.pcap", SVC_OPENVPN, 2, CONF_HIGH, "\"mode\":\"tls-auth\""},
	{"corelight/tailscale_linux.pcap", SVC_TAILSCALE, 1, CONF_HIGH, NULL},
	{"corelight/wireguard.pcap", SVC_WIREGUARD, 1, CONF_HIGH, NULL},
};
#define N_CAPTURES (sizeof(captures) / sizeof(captures[0]))

/* Services a file is expected to hold (its rows in the table). */
static bool capture_allows(const char *file, enum service_id id)
{
	for (size_t i = 0; i < N_CAPTURES; i++)
		if (strcmp(captures[i].file, file) == 0 && captures[i].id == id)
			return true;
	return false;
}

static void test_real_captures(void **state)
{
	(void)state;
	struct stat st;
	if (stat(SAMPLES, &st) != 0) {
		print_message("[  SKIP    ] " SAMPLES " is absent (no ../shared): no capture replay\n");
		skip();
	}
	bool verbose = getenv("KG_SERVICE_VERBOSE") != NULL;
	const char *last = NULL;
	for (size_t i = 0; i < N_CAPTURES; i++) {
		const struct capture_expect *e = &captures[i];
		char path[512];
		snprintf(path, sizeof(path), SAMPLES "/%s", e->file);
		if (!last || strcmp(last, e->file) != 0) {
			if (!replay_file(path, &rp))
				fail_msg("%s: cannot read", path);
			assert_int_equal(rp.dropped, 0);
			if (verbose)
				replay_print(e->file, &rp);
			last = e->file;
		}
		unsigned n = 0;
		bool detail_seen = e->detail == NULL;
		for (size_t k = 0; k < rp.n; k++) {
			const struct rflow *f = &rp.f[k];
			if (f->verdict != SERVICE_MATCH)
				continue;
			expect_detail(&f->m, NULL);
			if (!capture_allows(e->file, f->m.id))
				fail_msg("%s: a flow to port %u matched %s (%s), not expected here",
					 e->file, f->port[1], service_name(f->m.id),
					 f->m.fingerprint_id);
			if (f->m.id != e->id)
				continue;
			n++;
			if (f->m.confidence < e->min_conf)
				fail_msg("%s: %s at %s, want at least %s", e->file, service_name(e->id),
					 conf_name(f->m.confidence), conf_name(e->min_conf));
			if (e->detail && strstr(f->m.detail, e->detail))
				detail_seen = true;
		}
		if (n != e->flows)
			fail_msg("%s: %u flows identified as %s, want %u", e->file, n,
				 e->id == SVC_NONE ? "-" : service_name(e->id), e->flows);
		if (!detail_seen)
			fail_msg("%s: no %s detail has %s", e->file, service_name(e->id), e->detail);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_and_ports),
		cmocka_unit_test(test_ssh_both_banners),
		cmocka_unit_test(test_ssh_one_side_waits_then_medium),
		cmocka_unit_test(test_ssh_server_pre_banner_lines),
		cmocka_unit_test(test_ssh_versions_and_near_misses),
		cmocka_unit_test(test_ssh_detail_escaped_and_bounded),
		cmocka_unit_test(test_rdp_cookie_and_negotiation),
		cmocka_unit_test(test_rdp_traps),
		cmocka_unit_test(test_rdpeudp),
		cmocka_unit_test(test_rfb),
		cmocka_unit_test(test_telnet),
		cmocka_unit_test(test_openvpn_udp_modes),
		cmocka_unit_test(test_openvpn_udp_near_misses),
		cmocka_unit_test(test_openvpn_tls_crypt),
		cmocka_unit_test(test_openvpn_tcp),
		cmocka_unit_test(test_ike_v2_and_v1),
		cmocka_unit_test(test_ike_near_misses),
		cmocka_unit_test(test_ike_natt),
		cmocka_unit_test(test_ike_tcp),
		cmocka_unit_test(test_wireguard_handshake),
		cmocka_unit_test(test_wireguard_data_only),
		cmocka_unit_test(test_tailscale_disco),
		cmocka_unit_test(test_pptp),
		cmocka_unit_test(test_teamviewer_tcp),
		cmocka_unit_test(test_teamviewer_udp),
		cmocka_unit_test(test_tls_sni_alpn),
		cmocka_unit_test(test_tls_near_misses),
		cmocka_unit_test(test_anydesk),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_starttls),
		cmocka_unit_test(test_conn_log_names),
		cmocka_unit_test(test_waiting_and_giving_up),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_real_captures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
