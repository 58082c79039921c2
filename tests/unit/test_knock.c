/* knock detector: sequences with RST, silent, ICMP and UDP outcomes, scans,
 * try-knock-retry, ordinary failures, SPA, repetition, known sequences,
 * allowlists, bounded tables, knocks in progress. Timings follow the verified captures of
 * specs/detection.md §A.1-A.2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode/packet.h"
#include "detect/knock.h"
#include "../support/jsoncheck.h"

#define T0 KG_SEC(1796390752)
#define MAX_CAPTURED 256

struct captured {
	size_t n;
	struct alert a[MAX_CAPTURED];
};

static void capture(void *ctx, const struct alert *a)
{
	struct captured *c = ctx;
	if (!json_valid(a->evidence))
		fail_msg("invalid evidence JSON for %s: %s", a->name, a->evidence);
	if (getenv("KNOCK_DEBUG"))
		fprintf(stderr, "ALERT %s sev=%d msg=%s ev=%s\n", a->name, a->severity, a->msg,
			a->evidence);
	if (c->n < MAX_CAPTURED)
		c->a[c->n++] = *a;
}

static size_t count(const struct captured *c, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += strcmp(c->a[i].name, name) == 0;
	return n;
}

static const struct alert *find(const struct captured *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->a[i].name, name) == 0)
			return &c->a[i];
	return NULL;
}

static const struct alert *must(const struct captured *c, const char *name)
{
	const struct alert *a = find(c, name);
	if (!a)
		fail_msg("no %s alert", name);
	return a ? a : &c->a[0];
}

static const struct alert *last(const struct captured *c)
{
	assert_true(c->n > 0);
	return &c->a[c->n - 1];
}

static void assert_has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not in: %s", needle, hay);
}

static struct kg_addr ip(const char *s)
{
	struct kg_addr a;
	assert_true(addr_parse(s, &a));
	return a;
}

static struct knock_flow flow(const char *src, uint16_t sport, const char *dst, uint16_t dport,
			      uint8_t proto)
{
	struct knock_flow f = {ip(src), ip(dst), sport, dport, proto};
	return f;
}

/* Linux connect(): MSS, SACK-perm, TS, NOP, WS (what `knock` and ssh send). */
static uint32_t linux_fp(void)
{
	static const uint8_t o[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
				      0, 1, 0,	  0,	0, 0, 1, 3,  3, 10};
	return knock_tcp_options_fp(o, sizeof(o));
}

static uint32_t nmap_fp(void)
{
	static const uint8_t o[4] = {2, 4, 0x05, 0xb4};
	return knock_tcp_options_fp(o, sizeof(o));
}

static unsigned uid_counter;

static void next_uid(char uid[24])
{
	snprintf(uid, 24, "CKnock%u", ++uid_counter);
}

static void syn_opts(struct knock_detector *d, kg_time ts, struct knock_flow f, uint16_t window,
		     uint32_t fp)
{
	char uid[24];
	next_uid(uid);
	struct knock_attempt a = {0};
	a.ts = ts;
	a.flow = f;
	a.tcp_flags = TCPF_SYN;
	a.ttl = 64;
	a.window = window;
	a.syn_fp = fp;
	a.uid = uid;
	knock_attempt(d, &a);
}

static void syn(struct knock_detector *d, kg_time ts, struct knock_flow f)
{
	syn_opts(d, ts, f, 64240, linux_fp());
}

static void udp(struct knock_detector *d, kg_time ts, struct knock_flow f, const uint8_t *payload,
		uint32_t len)
{
	char uid[24];
	next_uid(uid);
	struct knock_attempt a = {0};
	a.ts = ts;
	a.flow = f;
	a.ttl = 64;
	a.payload = payload;
	a.payload_len = a.payload_caplen = len;
	a.uid = uid;
	knock_attempt(d, &a);
}

static void out(struct knock_detector *d, kg_time ts, struct knock_flow f, enum knock_outcome o)
{
	knock_outcome(d, &f, o, o == KNOCK_CLOSED_ICMP ? 3 : 0, o == KNOCK_CLOSED_ICMP ? 3 : 0, ts,
		      NULL);
}

/* The knocker, the target, and a third host that failed on the hidden port. */
#define KNOCKER "10.77.0.1"
#define TARGET "10.77.0.2"
#define OTHER "10.77.0.9"

static struct knock_detector *make(struct knock_config *cfg, struct captured *c)
{
	memset(c, 0, sizeof(*c));
	struct netset local;
	netset_init(&local);
	assert_true(netset_add(&local, "10.77.0.0/16"));
	struct knock_sink sink = {c, capture};
	struct knock_detector *d = knock_create(cfg, &local, 42, &sink);
	assert_non_null(d);
	return d;
}

static struct knock_detector *make_default(struct captured *c)
{
	static struct knock_config cfg;
	knock_config_defaults(&cfg);
	return make(&cfg, c);
}

/* Someone else's SYN to TARGET:22 went unanswered at `ts` (22 is closed to them). */
static void other_fails_on_22(struct knock_detector *d, kg_time ts)
{
	syn(d, ts, flow(OTHER, 50000, TARGET, 22, 6));
}

/* ---------------------------------------------------------------- sequences */

static void test_knock_rst_sequence_then_access(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	other_fails_on_22(d, T0 - KG_SEC(2));
	static const uint16_t ports[] = {7000, 8000, 9000};
	for (int i = 0; i < 3; i++) {
		kg_time t = T0 + KG_MSEC(1) * i / 5; /* 0.2 ms apart, as `knock` without -d */
		struct knock_flow f = flow(KNOCKER, (uint16_t)(41000 + i), TARGET, ports[i], 6);
		syn(d, t, f);
		out(d, t + 30000, f, KNOCK_CLOSED_RST);
	}
	assert_int_equal(c.n, 0);
	struct knock_flow ssh = flow(KNOCKER, 37276, TARGET, 22, 6);
	syn(d, T0 + KG_MSEC(1010), ssh);
	out(d, T0 + KG_MSEC(1010) + 100000, ssh, KNOCK_OPEN);

	assert_int_equal(c.n, 1);
	const struct alert *a = find(&c, "PortKnock::Sequence_Then_Access");
	assert_non_null(a);
	assert_int_equal(a->severity, SEV_HIGH);
	assert_int_equal(a->technique, TECH_PORT_KNOCK);
	assert_int_equal(a->resp_p, 22);
	assert_int_equal(a->orig_p, 37276);
	assert_int_equal(a->direction, DIR_INTERNAL);
	struct kg_addr knocker = ip(KNOCKER);
	assert_true(addr_eq(&a->orig_h, &knocker));
	/* closed before (+3), single packets (+2), same TTL/options (+1), gaps < 5 ms (+1),
	 * ssh is an admin port (+1): the spec's example score. */
	assert_has(a->evidence, "\"score\":8");
	assert_has(a->evidence, "\"n_ports\":3");
	assert_has(a->evidence, "\"port\":7000,\"outcome\":\"REJ\"");
	assert_has(a->evidence, "\"port\":9000,\"outcome\":\"REJ\"");
	assert_has(a->evidence, "\"single_packet_hits\":true");
	assert_has(a->evidence, "\"syn_fp_consistent\":true");
	assert_has(a->evidence, "\"span_ms\":0.400");
	assert_has(a->evidence, "\"delay_after_last_ms\":1009.");
	assert_has(a->evidence, "\"closed_before\":{");
	assert_has(a->evidence, "\"by_src\":false");
	assert_has(a->evidence, "\"scan_like\":false");
	assert_has(a->msg, "7000,8000,9000");

	/* A second connection to the now open port is not a new alert. */
	struct knock_flow ssh2 = flow(KNOCKER, 37280, TARGET, 22, 6);
	syn(d, T0 + KG_SEC(2), ssh2);
	out(d, T0 + KG_SEC(2) + 100000, ssh2, KNOCK_OPEN);
	assert_int_equal(c.n, 1);
	/* Nor does the run come back later as a sequence without success. */
	knock_tick(d, T0 + KG_SEC(100));
	assert_int_equal(c.n, 1);
	knock_destroy(d);
}

static void test_knock_silent_sequence_then_access(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	other_fails_on_22(d, T0 - KG_SEC(30));
	/* DROP policy: no replies; knocks 300 ms apart (knock -d 300). */
	static const uint16_t ports[] = {12345, 54321, 24680, 13579};
	for (int i = 0; i < 4; i++)
		syn(d, T0 + KG_MSEC(300) * i,
		    flow(KNOCKER, (uint16_t)(42000 + i), TARGET, ports[i], 6));
	/* 4 s later every knock has been decided silent (T_OUTCOME 3 s). */
	knock_tick(d, T0 + KG_SEC(4));
	assert_int_equal(knock_stats(d)->outcomes[KNOCK_FILTERED_SILENT], 5);
	struct knock_flow https = flow(KNOCKER, 42100, TARGET, 443, 6);
	syn(d, T0 + KG_MSEC(4100), https);
	out(d, T0 + KG_MSEC(4101), https, KNOCK_OPEN);
	/* 443 never failed here: not "closed before". Score 2+1+1+1+1 = 6 would be HIGH,
	 * but high_requires_closed keeps it MEDIUM. */
	const struct alert *m = find(&c, "PortKnock::Sequence_Then_Access");
	assert_non_null(m);
	assert_int_equal(m->severity, SEV_MEDIUM);
	assert_has(m->evidence, "\"score\":6");
	assert_has(m->evidence, "\"closed_before\":null");
	knock_destroy(d);

	/* The same knock before ssh, which failed for someone else: HIGH. */
	d = make_default(&c);
	other_fails_on_22(d, T0 - KG_SEC(30));
	for (int i = 0; i < 4; i++)
		syn(d, T0 + KG_MSEC(300) * i,
		    flow(KNOCKER, (uint16_t)(42000 + i), TARGET, ports[i], 6));
	knock_tick(d, T0 + KG_SEC(4));
	struct knock_flow ssh = flow(KNOCKER, 42100, TARGET, 22, 6);
	syn(d, T0 + KG_MSEC(4100), ssh);
	out(d, T0 + KG_MSEC(4101), ssh, KNOCK_OPEN);
	const struct alert *a = find(&c, "PortKnock::Sequence_Then_Access");
	assert_non_null(a);
	assert_int_equal(a->severity, SEV_HIGH);
	assert_has(a->evidence, "\"outcome\":\"S0\"");
	assert_has(a->evidence, "\"n_ports\":4");
	/* Non-monotone ports mostly outside the common list: +1; gaps 300 ms: cv 0 -> +1. */
	assert_has(a->evidence, "\"score\":9");
	knock_destroy(d);
}

static void test_knock_access_before_silence_is_decided(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	other_fails_on_22(d, T0 - KG_SEC(10));
	static const uint16_t ports[] = {7000, 8000, 9000};
	for (int i = 0; i < 3; i++)
		syn(d, T0 + 200000 * i, flow(KNOCKER, (uint16_t)(41000 + i), TARGET, ports[i], 6));
	/* The door opens right away; the knocks are still pending. */
	struct knock_flow ssh = flow(KNOCKER, 41010, TARGET, 22, 6);
	syn(d, T0 + KG_MSEC(20), ssh);
	out(d, T0 + KG_MSEC(21), ssh, KNOCK_OPEN);
	const struct alert *a = find(&c, "PortKnock::Sequence_Then_Access");
	assert_non_null(a);
	assert_int_equal(a->severity, SEV_HIGH);
	assert_has(a->evidence, "\"outcome\":\"pending\"");
	knock_destroy(d);
}

static void test_knock_udp_knocks_icmp_unreachable(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	other_fails_on_22(d, T0 - KG_SEC(60));
	static const uint8_t zero[1] = {0};
	static const uint16_t ports[] = {2222, 3333, 4444};
	for (int i = 0; i < 3; i++) {
		kg_time t = T0 + KG_MSEC(5) * i;
		struct knock_flow f = flow(KNOCKER, (uint16_t)(50100 + i), TARGET, ports[i], 17);
		udp(d, t, f, zero, 1);
		out(d, t + 50000, f, KNOCK_CLOSED_ICMP);
	}
	struct knock_flow ssh = flow(KNOCKER, 50200, TARGET, 22, 6);
	syn(d, T0 + KG_SEC(1), ssh);
	out(d, T0 + KG_SEC(1) + 100000, ssh, KNOCK_OPEN);
	const struct alert *a = find(&c, "PortKnock::Sequence_Then_Access");
	assert_non_null(a);
	assert_int_equal(a->severity, SEV_HIGH);
	assert_has(a->evidence, "\"proto\":\"udp\",\"port\":2222,\"outcome\":\"ICMP3/3\"");
	/* closed 3 + single 2 + ttl 1 + cv 0 (gaps 5 ms exactly) 1 + admin 1 + udp <= 4 B 1 */
	assert_has(a->evidence, "\"score\":9");
	knock_destroy(d);
}

static void test_knock_tcp_knocks_rejected_with_icmp(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	static const uint16_t ports[] = {1111, 2222, 3333};
	/* iptables -j REJECT: port-unreachable even for TCP; 22 rejected the same way first. */
	struct knock_flow try22 = flow(KNOCKER, 43000, TARGET, 22, 6);
	syn(d, T0 - KG_SEC(5), try22);
	out(d, T0 - KG_SEC(5) + 40000, try22, KNOCK_CLOSED_ICMP);
	for (int i = 0; i < 3; i++) {
		struct knock_flow f = flow(KNOCKER, (uint16_t)(43001 + i), TARGET, ports[i], 6);
		syn(d, T0 + KG_MSEC(1) * i, f);
		out(d, T0 + KG_MSEC(1) * i + 40000, f, KNOCK_CLOSED_ICMP);
	}
	struct knock_flow ssh = flow(KNOCKER, 43010, TARGET, 22, 6);
	syn(d, T0 + KG_SEC(2), ssh);
	out(d, T0 + KG_SEC(2) + 40000, ssh, KNOCK_OPEN);
	const struct alert *a = find(&c, "PortKnock::Sequence_Then_Access");
	assert_non_null(a);
	assert_has(a->evidence, "\"outcome\":\"ICMP3/3\"");
	assert_has(a->evidence, "\"by_src\":true");
	knock_destroy(d);
}

static void test_knock_fin_knocks(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	other_fails_on_22(d, T0 - KG_SEC(10));
	/* knockd TCPFlags = fin,!ack: bare FINs (hping3-style, no options), silently dropped. */
	static const uint16_t ports[] = {6000, 7000, 8000};
	for (int i = 0; i < 3; i++) {
		char uid[24];
		next_uid(uid);
		struct knock_attempt a = {0};
		a.ts = T0 + KG_MSEC(2) * i;
		a.flow = flow(KNOCKER, (uint16_t)(2000 + i), TARGET, ports[i], 6);
		a.tcp_flags = TCPF_FIN;
		a.ttl = 64;
		a.window = 512;
		a.uid = uid;
		knock_attempt(d, &a);
	}
	knock_tick(d, T0 + KG_SEC(4));
	struct knock_flow ssh = flow(KNOCKER, 52000, TARGET, 22, 6);
	syn(d, T0 + KG_SEC(5), ssh);
	out(d, T0 + KG_SEC(5) + 1000, ssh, KNOCK_OPEN);
	const struct alert *a = must(&c, "PortKnock::Sequence_Then_Access");
	assert_has(a->evidence, "\"non_syn_hits\":3");
	assert_has(a->evidence, "\"syn_fp_consistent\":false"); /* no options vs Linux ssh */
	assert_has(a->evidence, "\"score\":7");
	assert_int_equal(a->severity, SEV_HIGH);
	knock_destroy(d);
}

static void test_knock_try_knock_retry(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	/* ssh to 22: no reply, the kernel retransmits after 1 s, the user gives up. */
	struct knock_flow first = flow(KNOCKER, 44000, TARGET, 22, 6);
	syn(d, T0, first);
	knock_retransmit(d, &first, T0 + KG_MSEC(1020));
	static const uint16_t ports[] = {7000, 8000, 9000};
	for (int i = 0; i < 3; i++) {
		struct knock_flow f = flow(KNOCKER, (uint16_t)(44001 + i), TARGET, ports[i], 6);
		syn(d, T0 + KG_MSEC(1500) + 100000 * i, f);
		out(d, T0 + KG_MSEC(1500) + 100000 * i + 30000, f, KNOCK_CLOSED_RST);
	}
	struct knock_flow retry = flow(KNOCKER, 44010, TARGET, 22, 6);
	syn(d, T0 + KG_MSEC(2500), retry);
	out(d, T0 + KG_MSEC(2501), retry, KNOCK_OPEN);
	const struct alert *a = find(&c, "PortKnock::Sequence_Then_Access");
	assert_non_null(a);
	assert_int_equal(a->severity, SEV_HIGH);
	assert_has(a->evidence, "\"by_src\":true");
	assert_has(a->evidence, "\"outcome\":\"pending\""); /* the first try was not decided yet */
	/* The failed try on 22 is not part of the sequence. */
	assert_has(a->evidence, "\"n_ports\":3");
	assert_null(strstr(a->evidence, "\"port\":22,\"outcome\""));
	assert_int_equal(knock_stats(d)->retransmits, 1);
	knock_destroy(d);
}

static void test_knock_ordinary_failures_no_alert(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	/* A web server restarting: RST, RST, then success on the same port. */
	for (int i = 0; i < 3; i++) {
		struct knock_flow f = flow(KNOCKER, (uint16_t)(45000 + i), TARGET, 80, 6);
		syn(d, T0 + KG_SEC(2) * i, f);
		out(d, T0 + KG_SEC(2) * i + 30000, f, KNOCK_CLOSED_RST);
	}
	struct knock_flow ok = flow(KNOCKER, 45010, TARGET, 80, 6);
	syn(d, T0 + KG_SEC(7), ok);
	out(d, T0 + KG_SEC(7) + 30000, ok, KNOCK_OPEN);
	/* A lost SYN, retransmitted, answered on the retry. */
	struct knock_flow lost = flow(KNOCKER, 45020, TARGET, 443, 6);
	syn(d, T0 + KG_SEC(8), lost);
	knock_retransmit(d, &lost, T0 + KG_SEC(9));
	out(d, T0 + KG_SEC(9) + 30000, lost, KNOCK_OPEN);
	/* A fallback chain over two ports (TeamViewer 5938 -> 443). */
	struct knock_flow tv = flow(KNOCKER, 45030, TARGET, 5938, 6);
	syn(d, T0 + KG_SEC(12), tv);
	out(d, T0 + KG_SEC(12) + 30000, tv, KNOCK_CLOSED_RST);
	struct knock_flow tv2 = flow(KNOCKER, 45031, TARGET, 443, 6);
	syn(d, T0 + KG_SEC(12) + KG_MSEC(5), tv2);
	out(d, T0 + KG_SEC(12) + KG_MSEC(6), tv2, KNOCK_OPEN);
	knock_tick(d, T0 + KG_SEC(3600));
	assert_int_equal(c.n, 0);
	knock_destroy(d);
}

static void test_knock_nmap_scan_then_access(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	/* nmap -sS: one source port, window 1024, MSS only; 22 open during the scan. */
	for (int i = 0; i < 100; i++) {
		uint16_t port = (uint16_t)(1 + i);
		kg_time t = T0 + 100000 * i;
		struct knock_flow f = flow(KNOCKER, 61234, TARGET, port, 6);
		syn_opts(d, t, f, 1024, nmap_fp());
		out(d, t + 30000, f, port == 22 ? KNOCK_OPEN : KNOCK_CLOSED_RST);
	}
	assert_int_equal(count(&c, "PortKnock::Port_Scan"), 1);
	const struct alert *ps = find(&c, "PortKnock::Port_Scan");
	assert_int_equal(ps->severity, SEV_LOW);
	assert_has(ps->evidence, "\"shape\":\"port_scan\"");
	assert_has(ps->evidence, "\"distinct_targets\":25");
	/* Then a real ssh login to the port that was open during the scan. */
	struct knock_flow ssh = flow(KNOCKER, 51000, TARGET, 22, 6);
	syn(d, T0 + KG_SEC(11), ssh);
	out(d, T0 + KG_SEC(11) + 30000, ssh, KNOCK_OPEN);
	assert_int_equal(count(&c, "PortKnock::Sequence_Then_Access"), 0);
	assert_int_equal(count(&c, "PortKnock::Port_Scan"), 1);
	/* Rate-limited: the open port during the scan and the login give one alert. */
	assert_int_equal(count(&c, "PortKnock::Scan_Then_Access"), 1);
	const struct alert *sa = find(&c, "PortKnock::Scan_Then_Access");
	assert_true(sa->severity < SEV_HIGH);
	assert_has(sa->evidence, "\"scan_like\":true");
	knock_tick(d, T0 + KG_SEC(7200));
	assert_int_equal(count(&c, "PortKnock::Repeated_Sequence"), 0);
	knock_destroy(d);
}

static void test_knock_scan_shapes_and_rate_limit(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	/* One port across 60 hosts (address scan), ephemeral ports: one alert per window. */
	for (int i = 0; i < 60; i++) {
		char dst[32];
		snprintf(dst, sizeof(dst), "192.0.2.%d", i + 1);
		struct knock_flow f = flow(KNOCKER, (uint16_t)(30000 + i), dst, 445, 6);
		syn(d, T0 + KG_MSEC(10) * i, f);
		out(d, T0 + KG_MSEC(10) * i + 1000, f, KNOCK_CLOSED_RST);
	}
	assert_int_equal(count(&c, "PortKnock::Port_Scan"), 1);
	assert_has(must(&c, "PortKnock::Port_Scan")->evidence, "\"shape\":\"address_scan\"");
	assert_int_equal(must(&c, "PortKnock::Port_Scan")->direction, DIR_OUTBOUND);
	/* After the window, the next burst alerts again. */
	for (int i = 0; i < 30; i++) {
		char dst[32];
		snprintf(dst, sizeof(dst), "198.51.100.%d", i + 1);
		struct knock_flow f =
			flow(KNOCKER, (uint16_t)(31000 + i), dst, (uint16_t)(1000 + i), 6);
		syn(d, T0 + KG_SEC(400) + KG_MSEC(10) * i, f);
		out(d, T0 + KG_SEC(400) + KG_MSEC(10) * i + 1000, f, KNOCK_CLOSED_RST);
	}
	assert_int_equal(count(&c, "PortKnock::Port_Scan"), 2);
	assert_has(last(&c)->evidence, "\"shape\":\"random_scan\"");
	knock_destroy(d);
}

/* ---------------------------------------------------------------- SPA */

/* 204 bytes of base64 without padding, like fwknop's Rijndael+HMAC payload. */
static void spa_payload(uint8_t out[204])
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t x = 2463534242u;
	for (int i = 0; i < 204; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		out[i] = (uint8_t)b64[x % 64];
	}
}

static void test_knock_spa_then_access(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	uint8_t spa[204];
	spa_payload(spa);
	/* The verified fwknop capture: 22 filtered (retransmit at 1.02 s), SPA at 2.10 s
	 * answered by ICMP 3/3, the same connection's SYN gets through at 3.11 s. */
	struct knock_flow ssh = flow(KNOCKER, 40022, TARGET, 22, 6);
	syn(d, T0, ssh);
	knock_retransmit(d, &ssh, T0 + KG_MSEC(1020));
	struct knock_flow sf = flow(KNOCKER, 54536, TARGET, 62201, 17);
	udp(d, T0 + KG_MSEC(2100), sf, spa, sizeof(spa));
	out(d, T0 + KG_MSEC(2100) + 60000, sf, KNOCK_CLOSED_ICMP);
	assert_int_equal(count(&c, "PortKnock::SPA_Candidate"), 1);
	const struct alert *cand = find(&c, "PortKnock::SPA_Candidate");
	assert_int_equal(cand->severity, SEV_MEDIUM);
	assert_has(cand->evidence, "\"len\":204");
	assert_has(cand->evidence, "\"reply\":\"icmp\"");
	assert_has(cand->evidence, "\"default_port\":true");
	assert_has(cand->evidence, "\"b64_ratio\":1.000");
	knock_retransmit(d, &ssh, T0 + KG_MSEC(3060));
	out(d, T0 + KG_MSEC(3110), ssh, KNOCK_OPEN);
	assert_int_equal(knock_stats(d)->outcomes_late_open, 1);
	const struct alert *a = find(&c, "PortKnock::SPA_Then_Access");
	assert_non_null(a);
	assert_int_equal(a->severity, SEV_HIGH);
	assert_int_equal(a->resp_p, 22);
	assert_has(a->evidence, "\"same_flow\":true");
	assert_has(a->evidence, "\"spa_src_is_access_src\":true");
	assert_int_equal(count(&c, "PortKnock::Sequence_Then_Access"), 0);
	knock_destroy(d);
}

static void test_knock_spa_spoofed_source_and_silent(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	uint8_t spa[204];
	spa_payload(spa);
	other_fails_on_22(d, T0 - KG_SEC(20));
	/* fwknop -Q: the SPA packet comes from a spoofed source, to a random port, dropped
	 * silently; the access comes from the real client before silence is decided. */
	struct knock_flow sf = flow("203.0.113.7", 33333, TARGET, 40404, 17);
	udp(d, T0, sf, spa, sizeof(spa));
	struct knock_flow ssh = flow(KNOCKER, 40023, TARGET, 22, 6);
	syn(d, T0 + KG_SEC(1), ssh);
	out(d, T0 + KG_SEC(1) + 100000, ssh, KNOCK_OPEN);
	const struct alert *a = find(&c, "PortKnock::SPA_Then_Access");
	assert_non_null(a);
	assert_has(a->evidence, "\"spa_src_is_access_src\":false");
	assert_has(a->evidence, "\"reply\":\"pending\"");
	assert_has(a->evidence, "\"default_port\":false");
	assert_int_equal(a->direction, DIR_INTERNAL);
	/* Silence confirms the candidate later, but the escalation already told it. */
	knock_tick(d, T0 + KG_SEC(5));
	assert_int_equal(count(&c, "PortKnock::SPA_Candidate"), 0);
	assert_int_equal(knock_stats(d)->spa_candidates, 1);
	knock_destroy(d);
}

static void test_knock_spa_negatives(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	uint8_t spa[204];
	spa_payload(spa);
	/* Answered by the application: not SPA. */
	struct knock_flow f1 = flow(KNOCKER, 33000, TARGET, 62201, 17);
	udp(d, T0, f1, spa, sizeof(spa));
	out(d, T0 + 1000, f1, KNOCK_OPEN);
	/* Low entropy text. */
	uint8_t text[200];
	memset(text, 'A', sizeof(text));
	struct knock_flow f2 = flow(KNOCKER, 33001, TARGET, 62201, 17);
	udp(d, T0 + KG_SEC(1), f2, text, sizeof(text));
	/* Too short (139 bytes < MIN_SPA_DATA_SIZE 140). */
	struct knock_flow f3 = flow(KNOCKER, 33002, TARGET, 62201, 17);
	udp(d, T0 + KG_SEC(2), f3, spa, 139);
	/* Not base64 (one binary byte). */
	uint8_t bin[204];
	memcpy(bin, spa, sizeof(bin));
	bin[100] = 0x01;
	struct knock_flow f4 = flow(KNOCKER, 33003, TARGET, 62201, 17);
	udp(d, T0 + KG_SEC(3), f4, bin, sizeof(bin));
	knock_tick(d, T0 + KG_SEC(10));
	assert_int_equal(count(&c, "PortKnock::SPA_Candidate"), 0);
	assert_int_equal(knock_stats(d)->spa_candidates, 0);
	knock_destroy(d);
}

/* ---------------------------------------------------------------- repetition */

static void knock_three_rst(struct knock_detector *d, kg_time t, uint16_t sport_base)
{
	static const uint16_t ports[] = {7000, 8000, 9000};
	for (int i = 0; i < 3; i++) {
		struct knock_flow f =
			flow(KNOCKER, (uint16_t)(sport_base + i), TARGET, ports[i], 6);
		syn(d, t + 200000 * i, f);
		out(d, t + 200000 * i + 30000, f, KNOCK_CLOSED_RST);
	}
}

static void test_knock_repeated_sequence(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	knock_three_rst(d, T0, 46000);
	knock_tick(d, T0 + KG_SEC(20));
	assert_int_equal(c.n, 0);
	knock_three_rst(d, T0 + KG_SEC(600), 46100);
	assert_int_equal(c.n, 0); /* the run is still open */
	knock_tick(d, T0 + KG_SEC(620));
	assert_int_equal(count(&c, "PortKnock::Repeated_Sequence"), 1);
	const struct alert *a = find(&c, "PortKnock::Repeated_Sequence");
	assert_int_equal(a->severity, SEV_LOW);
	assert_has(a->evidence, "\"seen_before\":{\"count\":2");
	/* The reverse order (closeSSH) is a different tuple. */
	static const uint16_t rev[] = {9000, 8000, 7000};
	for (int i = 0; i < 3; i++) {
		struct knock_flow f = flow(KNOCKER, (uint16_t)(46200 + i), TARGET, rev[i], 6);
		syn(d, T0 + KG_SEC(700) + 200000 * i, f);
		out(d, T0 + KG_SEC(700) + 200000 * i + 30000, f, KNOCK_CLOSED_RST);
	}
	knock_tick(d, T0 + KG_SEC(720));
	assert_int_equal(count(&c, "PortKnock::Repeated_Sequence"), 1);
	/* A third time is not a new alert within 24 h. */
	knock_three_rst(d, T0 + KG_SEC(800), 46300);
	knock_tick(d, T0 + KG_SEC(820));
	assert_int_equal(count(&c, "PortKnock::Repeated_Sequence"), 1);
	knock_destroy(d);
}

static void test_knock_slow_access_after_run_ended(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	other_fails_on_22(d, T0 - KG_SEC(5));
	knock_three_rst(d, T0, 46500);
	/* The run ends (max_gap) and is remembered before the access comes, 25 s later. */
	knock_tick(d, T0 + KG_SEC(15));
	struct knock_flow ssh = flow(KNOCKER, 46550, TARGET, 22, 6);
	syn(d, T0 + KG_SEC(25), ssh);
	out(d, T0 + KG_SEC(25) + 1000, ssh, KNOCK_OPEN);
	const struct alert *a = must(&c, "PortKnock::Sequence_Then_Access");
	assert_has(a->evidence, "\"seen_before\":null");
	assert_has(a->evidence, "\"score\":8");
	/* Past d_post the knocks no longer explain an access. */
	knock_three_rst(d, T0 + KG_SEC(100), 46600);
	struct knock_flow late = flow(KNOCKER, 46650, TARGET, 22, 6);
	other_fails_on_22(d, T0 + KG_SEC(90));
	syn(d, T0 + KG_SEC(131), late);
	out(d, T0 + KG_SEC(131) + 1000, late, KNOCK_OPEN);
	assert_int_equal(count(&c, "PortKnock::Sequence_Then_Access"), 1);
	knock_tick(d, T0 + KG_SEC(200));
	/* The second, unanswered run repeats the first: one Repeated_Sequence. */
	assert_int_equal(count(&c, "PortKnock::Repeated_Sequence"), 1);
	knock_destroy(d);
}

static void test_knock_repeated_with_access_scores_seen_before(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	for (int round = 0; round < 2; round++) {
		kg_time t = T0 + KG_SEC(1000) * round;
		other_fails_on_22(d, t - KG_SEC(5));
		knock_three_rst(d, t, (uint16_t)(47000 + 100 * round));
		struct knock_flow ssh =
			flow(KNOCKER, (uint16_t)(47050 + 100 * round), TARGET, 22, 6);
		syn(d, t + KG_SEC(1), ssh);
		out(d, t + KG_SEC(1) + 100000, ssh, KNOCK_OPEN);
	}
	assert_int_equal(count(&c, "PortKnock::Sequence_Then_Access"), 2);
	assert_has(c.a[0].evidence, "\"seen_before\":null");
	assert_has(c.a[0].evidence, "\"score\":8");
	assert_has(c.a[1].evidence, "\"seen_before\":{\"count\":1");
	assert_has(c.a[1].evidence, "\"score\":10");
	knock_destroy(d);
}

/* ---------------------------------------------------------------- known, allowlists */

static void test_knock_known_sequence(void **state)
{
	(void)state;
	static struct knock_config cfg;
	knock_config_defaults(&cfg);
	char err[160];
	assert_true(knock_known_sequence_parse("10.77.0.0/24 7000,8000,9000 openSSH", &cfg.known[0],
					       err, sizeof(err)));
	assert_true(knock_known_sequence_parse("any 2222:udp,3333:tcp,4444:udp", &cfg.known[1], err,
					       sizeof(err)));
	cfg.n_known = 2;
	struct captured c;
	struct knock_detector *d = make(&cfg, &c);
	/* Wrong order: nothing. */
	static const uint16_t wrong[] = {8000, 7000, 9000};
	for (int i = 0; i < 3; i++)
		syn(d, T0 + KG_MSEC(1) * i,
		    flow(KNOCKER, (uint16_t)(48000 + i), TARGET, wrong[i], 6));
	assert_int_equal(count(&c, "PortKnock::Known_Sequence"), 0);
	/* Right order with an unrelated port in between (knockd does not see it). */
	syn(d, T0 + KG_SEC(40), flow(KNOCKER, 48010, TARGET, 7000, 6));
	syn(d, T0 + KG_SEC(40) + KG_MSEC(1), flow(KNOCKER, 48011, TARGET, 80, 6));
	syn(d, T0 + KG_SEC(40) + KG_MSEC(2), flow(KNOCKER, 48012, TARGET, 8000, 6));
	assert_int_equal(count(&c, "PortKnock::Known_Sequence"), 0);
	syn(d, T0 + KG_SEC(40) + KG_MSEC(3), flow(KNOCKER, 48013, TARGET, 9000, 6));
	assert_int_equal(count(&c, "PortKnock::Known_Sequence"), 1);
	const struct alert *a = find(&c, "PortKnock::Known_Sequence");
	assert_int_equal(a->severity, SEV_MEDIUM);
	assert_string_equal(a->policy_rule, "known:openSSH");
	assert_has(a->evidence, "\"ports\":[\"7000/tcp\",\"8000/tcp\",\"9000/tcp\"]");
	/* Mixed protocols; the destination net of the first does not matter for "any". */
	static const uint8_t zero[1] = {0};
	udp(d, T0 + KG_SEC(100), flow(KNOCKER, 48100, "192.0.2.50", 2222, 17), zero, 1);
	syn(d, T0 + KG_SEC(100) + KG_MSEC(1), flow(KNOCKER, 48101, "192.0.2.50", 3333, 6));
	udp(d, T0 + KG_SEC(100) + KG_MSEC(2), flow(KNOCKER, 48102, "192.0.2.50", 4444, 17), zero,
	    1);
	assert_int_equal(count(&c, "PortKnock::Known_Sequence"), 2);
	assert_string_equal(last(&c)->policy_rule, "known:known-2");
	/* Too slow: the span from the first hit exceeds w_seq. */
	syn(d, T0 + KG_SEC(200), flow(KNOCKER, 48200, TARGET, 7000, 6));
	syn(d, T0 + KG_SEC(210), flow(KNOCKER, 48201, TARGET, 8000, 6));
	syn(d, T0 + KG_SEC(231), flow(KNOCKER, 48202, TARGET, 9000, 6));
	assert_int_equal(count(&c, "PortKnock::Known_Sequence"), 2);
	knock_destroy(d);
}

static void test_knock_known_sequence_parse_errors(void **state)
{
	(void)state;
	struct knock_known_sequence k;
	char err[160];
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"", "expected '<dst CIDR|any>"},
		{"10.0.0.1", "expected '<dst CIDR|any>"},
		{"10.0.0.300 7000", "destination '10.0.0.300'"},
		{"any 7000,,8000", "port ''"},
		{"any 7000,", "empty port"},
		{"any 70000", "port '70000'"},
		{"any 7000:sctp", "protocol must be tcp or udp"},
		{"any 7000 name extra", "unexpected 'extra'"},
		{"any 7000 bad/name", "name 'bad/name'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (knock_known_sequence_parse(bad[i].text, &k, err, sizeof(err)))
			fail_msg("accepted '%s'", bad[i].text);
		assert_has(err, bad[i].msg);
	}
	assert_true(
		knock_known_sequence_parse("  fe80::/10   1:udp,65535  ", &k, err, sizeof(err)));
	assert_int_equal(k.n_ports, 2);
	assert_int_equal(k.ports[0].ip_proto, 17);
	assert_int_equal(k.ports[1].port, 65535);
	assert_int_equal(k.dst_prefix, 10);
}

static void test_knock_allowlists(void **state)
{
	(void)state;
	static struct knock_config cfg;
	knock_config_defaults(&cfg);
	assert_true(netset_add(&cfg.knock_allowlist, KNOCKER));
	assert_true(netset_add(&cfg.scanner_allowlist, "10.77.5.0/24"));
	struct captured c;
	struct knock_detector *d = make(&cfg, &c);
	other_fails_on_22(d, T0 - KG_SEC(5));
	knock_three_rst(d, T0, 49000);
	struct knock_flow ssh = flow(KNOCKER, 49050, TARGET, 22, 6);
	syn(d, T0 + KG_SEC(1), ssh);
	out(d, T0 + KG_SEC(1) + 1000, ssh, KNOCK_OPEN);
	const struct alert *a = find(&c, "PortKnock::Sequence_Then_Access");
	assert_non_null(a);
	assert_int_equal(a->severity, SEV_INFO);
	assert_string_equal(a->policy_rule, "knock_allowlist");
	assert_has(a->evidence, "\"score\":5"); /* 8 - 3 */
	assert_int_equal(knock_stats(d)->alerts_allowlisted, 1);
	/* The approved scanner: no Port_Scan. */
	for (int i = 0; i < 40; i++) {
		struct knock_flow f = flow("10.77.5.5", 5555, TARGET, (uint16_t)(100 + i), 6);
		syn_opts(d, T0 + KG_SEC(10) + 10000 * i, f, 1024, nmap_fp());
		out(d, T0 + KG_SEC(10) + 10000 * i + 1000, f, KNOCK_CLOSED_RST);
	}
	assert_int_equal(count(&c, "PortKnock::Port_Scan"), 0);
	assert_true(knock_stats(d)->alerts_suppressed >= 1);
	knock_destroy(d);
}

/* ---------------------------------------------------------------- tables */

static void test_knock_table_bounds(void **state)
{
	(void)state;
	static struct knock_config cfg;
	knock_config_defaults(&cfg);
	cfg.pair_table_size = 4;
	cfg.attempt_pool_size = 32;
	cfg.closed_table_size = 8;
	cfg.ring_size = 8;
	cfg.k_max = 7;
	struct captured c;
	struct knock_detector *d = make(&cfg, &c);
	/* 10 destinations: 6 pairs evicted. */
	for (int i = 0; i < 10; i++) {
		char dst[32];
		snprintf(dst, sizeof(dst), "192.0.2.%d", i + 1);
		struct knock_flow f = flow(KNOCKER, (uint16_t)(20000 + i), dst, 80, 6);
		syn(d, T0 + KG_MSEC(1) * i, f);
		out(d, T0 + KG_MSEC(1) * i + 1000, f, KNOCK_CLOSED_RST);
	}
	const struct knock_stats *st = knock_stats(d);
	assert_int_equal(st->pairs_evicted, 6);
	assert_int_equal(st->closed_evicted, 2);
	/* An outcome for an evicted pair's flow is counted, not crashed on. */
	struct knock_flow gone = flow(KNOCKER, 20000, "192.0.2.1", 80, 6);
	knock_outcome(d, &gone, KNOCK_OPEN, 0, 0, T0 + KG_SEC(1), NULL);
	assert_int_equal(st->outcomes_unmatched, 1);
	/* 20 attempts on one pair: the ring keeps 8. */
	for (int i = 0; i < 20; i++)
		syn(d, T0 + KG_SEC(2) + KG_MSEC(1) * i,
		    flow(KNOCKER, (uint16_t)(21000 + i), TARGET, (uint16_t)(3000 + i), 6));
	assert_int_equal(st->attempts_ring_dropped, 12);
	/* Pool of 32 shared by 4 pairs of 8: filling 4 more pairs takes the pool from
	 * the oldest pairs (counted), never beyond. */
	for (int p = 0; p < 4; p++)
		for (int i = 0; i < 8; i++) {
			char dst[32];
			snprintf(dst, sizeof(dst), "198.51.100.%d", p + 1);
			syn(d, T0 + KG_SEC(3) + KG_MSEC(10) * p + 1000 * i,
			    flow(KNOCKER, (uint16_t)(22000 + 10 * p + i), dst, (uint16_t)(4000 + i),
				 6));
		}
	assert_true(st->pairs_evicted + st->attempts_evicted_pool >= 7);
	/* Everything ages out. */
	knock_tick(d, T0 + KG_SEC(3600));
	assert_true(st->pairs_expired >= 1);
	assert_int_equal(st->attempts, 10 + 20 + 32);
	knock_destroy(d);
}

static void test_knock_pool_exhaustion_keeps_working(void **state)
{
	(void)state;
	static struct knock_config cfg;
	knock_config_defaults(&cfg);
	cfg.pair_table_size = 1024;
	cfg.attempt_pool_size = 16;
	cfg.ring_size = 16;
	cfg.k_max = 8;
	struct captured c;
	struct knock_detector *d = make(&cfg, &c);
	for (int i = 0; i < 200; i++) {
		char dst[32];
		snprintf(dst, sizeof(dst), "192.0.2.%d", i % 250 + 1);
		syn(d, T0 + KG_MSEC(1) * i, flow("10.77.0.50", (uint16_t)(20000 + i), dst, 80, 6));
	}
	assert_int_equal(knock_stats(d)->attempts_evicted_pool, 200 - 16);
	/* A knock still works after the churn (its pair is the newest). */
	other_fails_on_22(d, T0 + KG_SEC(1));
	knock_three_rst(d, T0 + KG_SEC(5), 23000);
	struct knock_flow ssh = flow(KNOCKER, 23050, TARGET, 22, 6);
	syn(d, T0 + KG_SEC(6), ssh);
	out(d, T0 + KG_SEC(6) + 1000, ssh, KNOCK_OPEN);
	assert_int_equal(count(&c, "PortKnock::Sequence_Then_Access"), 1);
	assert_int_equal(must(&c, "PortKnock::Sequence_Then_Access")->severity, SEV_HIGH);
	knock_destroy(d);
}

/* ---------------------------------------------------------------- features, config */

static void test_knock_tcp_options_fp(void **state)
{
	(void)state;
	assert_int_equal(knock_tcp_options_fp(NULL, 0), 0);
	static const uint8_t eol[4] = {0, 0, 0, 0};
	assert_int_equal(knock_tcp_options_fp(eol, 4), 0);
	assert_int_not_equal(linux_fp(), 0);
	assert_int_not_equal(linux_fp(), nmap_fp());
	/* Values do not matter, only kinds in order. */
	static const uint8_t mss2[4] = {2, 4, 0x02, 0x18};
	assert_int_equal(knock_tcp_options_fp(mss2, 4), nmap_fp());
	/* A length past the end is a malformed option, still fingerprinted, not read past. */
	static const uint8_t bad[3] = {2, 40, 5};
	assert_int_not_equal(knock_tcp_options_fp(bad, 3), 0);
	assert_int_not_equal(knock_tcp_options_fp(bad, 3), nmap_fp());
	static const uint8_t zero_len[2] = {8, 0};
	assert_int_not_equal(knock_tcp_options_fp(zero_len, 2), 0);
}

static void test_knock_config_check(void **state)
{
	(void)state;
	static struct knock_config cfg;
	char err[128];
	knock_config_defaults(&cfg);
	assert_true(knock_config_check(&cfg, err, sizeof(err)));
	/* About 39 MB with the defaults, under the spec's 40 MB budget. */
	size_t mem = knock_memory_bytes(&cfg);
	assert_true(mem > 20u * 1024 * 1024 && mem < 40u * 1024 * 1024);
	cfg.k_min = 5;
	cfg.k_max = 4;
	assert_false(knock_config_check(&cfg, err, sizeof(err)));
	assert_has(err, "k_min");
	knock_config_defaults(&cfg);
	cfg.ring_size = 33;
	assert_false(knock_config_check(&cfg, err, sizeof(err)));
	knock_config_defaults(&cfg);
	cfg.attempt_pool_size = 0;
	assert_false(knock_config_check(&cfg, err, sizeof(err)));
	assert_has(err, "table sizes");
	assert_null(knock_create(&cfg, NULL, 1, NULL));
	knock_config_defaults(&cfg);
	cfg.t_outcome_udp = 0;
	assert_false(knock_config_check(&cfg, err, sizeof(err)));
}

static void test_knock_late_answers_and_disabled(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	struct knock_flow f = flow(KNOCKER, 24000, TARGET, 7000, 6);
	syn(d, T0, f);
	knock_tick(d, T0 + KG_SEC(3));
	assert_int_equal(knock_stats(d)->outcomes[KNOCK_FILTERED_SILENT], 1);
	out(d, T0 + KG_SEC(4), f, KNOCK_CLOSED_RST); /* a late RST names the kind */
	assert_int_equal(knock_stats(d)->outcomes[KNOCK_FILTERED_SILENT], 0);
	assert_int_equal(knock_stats(d)->outcomes[KNOCK_CLOSED_RST], 1);
	out(d, T0 + KG_SEC(5), f, KNOCK_CLOSED_ICMP); /* decided: ignored */
	assert_int_equal(knock_stats(d)->outcomes[KNOCK_CLOSED_ICMP], 0);
	/* A duplicate first packet of a pending flow counts as a retransmission. */
	struct knock_flow g = flow(KNOCKER, 24001, TARGET, 7001, 6);
	syn(d, T0 + KG_SEC(6), g);
	syn(d, T0 + KG_SEC(6) + 1000, g);
	assert_int_equal(knock_stats(d)->retransmits, 1);
	/* Not attempts: a stray RST (backscatter), a SYN-ACK whose SYN we missed, data
	 * picked up mid-stream. A bare FIN probe is one. */
	uint64_t before = knock_stats(d)->attempts;
	static const uint8_t data[4] = "GET ";
	struct knock_attempt x = {0};
	x.ts = T0 + KG_SEC(7);
	x.flow = flow(KNOCKER, 24002, TARGET, 80, 6);
	x.tcp_flags = TCPF_RST;
	knock_attempt(d, &x);
	x.flow.sport = 24003;
	x.tcp_flags = TCPF_SYN | TCPF_ACK;
	knock_attempt(d, &x);
	x.flow.sport = 24004;
	x.tcp_flags = TCPF_ACK | TCPF_PSH;
	x.payload = data;
	x.payload_len = x.payload_caplen = 4;
	knock_attempt(d, &x);
	/* Nor announcements to a group, nor traceroute probes. */
	static const uint8_t one[1] = {0};
	udp(d, T0 + KG_SEC(7), flow(KNOCKER, 5353, "224.0.0.251", 5353, 17), one, 1);
	udp(d, T0 + KG_SEC(7), flow(KNOCKER, 68, "255.255.255.255", 67, 17), one, 1);
	udp(d, T0 + KG_SEC(7), flow("fe80::1", 1900, "ff02::c", 1900, 17), one, 1);
	udp(d, T0 + KG_SEC(7), flow(KNOCKER, 40000, TARGET, 33434, 17), one, 1);
	assert_int_equal(knock_stats(d)->attempts_ignored, 7);
	assert_int_equal(knock_stats(d)->attempts, before);
	x.flow.sport = 24005;
	x.tcp_flags = TCPF_FIN;
	x.payload = NULL;
	x.payload_len = x.payload_caplen = 0;
	knock_attempt(d, &x);
	assert_int_equal(knock_stats(d)->attempts, before + 1);
	knock_destroy(d);

	static struct knock_config cfg;
	knock_config_defaults(&cfg);
	cfg.enabled = false;
	d = make(&cfg, &c);
	knock_three_rst(d, T0, 25000);
	assert_int_equal(knock_stats(d)->attempts, 0);
	knock_destroy(d);
}

static void test_knock_evidence_truncated_to_16(void **state)
{
	(void)state;
	static struct knock_config cfg;
	knock_config_defaults(&cfg);
	cfg.k_max = 24;
	cfg.scan_rate_min_k = 30;
	cfg.scan_threshold = 100;
	struct captured c;
	struct knock_detector *d = make(&cfg, &c);
	other_fails_on_22(d, T0 - KG_SEC(5));
	for (int i = 0; i < 20; i++) {
		struct knock_flow f =
			flow(KNOCKER, (uint16_t)(26000 + i), TARGET, (uint16_t)(10000 + 7 * i), 6);
		syn(d, T0 + KG_MSEC(100) * i, f);
		out(d, T0 + KG_MSEC(100) * i + 1000, f, KNOCK_CLOSED_RST);
	}
	struct knock_flow ssh = flow(KNOCKER, 26100, TARGET, 22, 6);
	syn(d, T0 + KG_SEC(3), ssh);
	out(d, T0 + KG_SEC(3) + 1000, ssh, KNOCK_OPEN);
	const struct alert *a = find(&c, "PortKnock::Sequence_Then_Access");
	assert_non_null(a);
	assert_has(a->evidence, "\"n_ports\":20");
	assert_has(a->evidence, "\"sequence_truncated\":");
	assert_true(strlen(a->evidence) < ALERT_EVIDENCE_MAX);
	/* the last hit is shown, the first is not */
	assert_has(a->evidence, "\"port\":10133");
	assert_null(strstr(a->evidence, "\"port\":10000,"));
	knock_destroy(d);
}

/* ---------------------------------------------------------------- in progress */

#define IN_PROGRESS "PortKnock::Sequence_In_Progress"

static struct knock_config *door_config(void)
{
	static struct knock_config cfg;
	char err[160];
	knock_config_defaults(&cfg);
	assert_true(knock_known_sequence_parse(TARGET "/32 7000,8000,9000 door", &cfg.known[0], err,
					       sizeof(err)));
	cfg.n_known = 1;
	return &cfg;
}

/* knockd's door, `knock` without delay: raised on the second knock, while
 * every knock is still unanswered, so the third can be stopped. */
static void test_knock_in_progress_known_prefix(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make(door_config(), &c);
	static const uint16_t ports[] = {7000, 8000, 9000};
	syn(d, T0, flow(KNOCKER, 41000, TARGET, ports[0], 6));
	assert_int_equal(c.n, 0);
	syn(d, T0 + 200000, flow(KNOCKER, 41001, TARGET, ports[1], 6));
	assert_int_equal(c.n, 1);
	const struct alert *a = must(&c, IN_PROGRESS);
	assert_int_equal(a->severity, SEV_MEDIUM);
	assert_int_equal(a->technique, TECH_PORT_KNOCK);
	assert_string_equal(a->policy_rule, "known:door");
	struct kg_addr knocker = ip(KNOCKER), target = ip(TARGET);
	assert_true(addr_eq(&a->orig_h, &knocker));
	assert_true(addr_eq(&a->resp_h, &target));
	assert_int_equal(a->resp_p, 8000);
	assert_int_equal(a->orig_p, 41001);
	assert_int_equal(a->ts, T0 + 200000);
	assert_has(a->evidence,
		   "\"hits\":[{\"proto\":\"tcp\",\"port\":7000,\"outcome\":\"pending\"");
	assert_has(a->evidence, "{\"proto\":\"tcp\",\"port\":8000,\"outcome\":\"pending\"");
	assert_has(a->evidence, "\"match\":\"known_prefix\"");
	assert_has(a->evidence, "\"known_sequence\":\"door\"");
	assert_has(a->evidence, "\"known_ports\":3");
	assert_has(a->evidence, "\"span_ms\":0.200");
	assert_has(a->msg, "first 2 knocks (7000,8000) of the known sequence door");
	/* The third knock completes it: Known_Sequence, but no second In_Progress. */
	syn(d, T0 + 400000, flow(KNOCKER, 41002, TARGET, ports[2], 6));
	assert_int_equal(count(&c, IN_PROGRESS), 1);
	assert_int_equal(count(&c, "PortKnock::Known_Sequence"), 1);
	knock_destroy(d);

	/* The same ports without the known sequence: 8000 is a common service
	 * port (http-alt), so nothing is raised before the access. */
	d = make_default(&c);
	for (int i = 0; i < 3; i++)
		syn(d, T0 + 200000 * i, flow(KNOCKER, (uint16_t)(41000 + i), TARGET, ports[i], 6));
	assert_int_equal(count(&c, IN_PROGRESS), 0);
	knock_destroy(d);

	/* The door's ports out of order, or to another host: no prefix. */
	d = make(door_config(), &c);
	syn(d, T0, flow(KNOCKER, 41000, TARGET, 8000, 6));
	syn(d, T0 + 1000, flow(KNOCKER, 41001, TARGET, 7000, 6));
	syn(d, T0 + 2000, flow(KNOCKER, 41002, OTHER, 7000, 6));
	syn(d, T0 + 3000, flow(KNOCKER, 41003, OTHER, 8000, 6));
	assert_int_equal(count(&c, IN_PROGRESS), 0);
	/* Now in order, after an unrelated common port in between (knockd ignores
	 * it): the prefix is found, and only the door's ports are shown. */
	syn(d, T0 + 4000, flow(KNOCKER, 41004, TARGET, 80, 6));
	syn(d, T0 + 5000, flow(KNOCKER, 41005, TARGET, 8000, 6));
	assert_int_equal(count(&c, IN_PROGRESS), 1);
	a = must(&c, IN_PROGRESS);
	assert_has(a->msg, "(7000,8000)");
	assert_has(a->evidence, "\"n_ports\":2");
	knock_destroy(d);
}

static void test_knock_in_progress_uncommon_ports(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	/* A DROP-policy knock, 300 ms apart: both still unanswered. */
	syn(d, T0, flow(KNOCKER, 42000, TARGET, 12345, 6));
	syn(d, T0 + KG_MSEC(300), flow(KNOCKER, 42001, TARGET, 54321, 6));
	assert_int_equal(c.n, 1);
	const struct alert *a = must(&c, IN_PROGRESS);
	assert_int_equal(a->severity, SEV_MEDIUM);
	assert_string_equal(a->policy_rule, "default");
	assert_has(a->evidence, "\"match\":\"uncommon_ports\"");
	assert_has(a->evidence, "\"known_sequence\":null");
	assert_has(a->evidence, "\"n_ports\":2,\"min_ports\":2");
	assert_has(a->msg, "(12345,54321)");
	/* Once per (src, dst) per sequence_window. */
	syn(d, T0 + KG_MSEC(600), flow(KNOCKER, 42002, TARGET, 24680, 6));
	syn(d, T0 + KG_SEC(20), flow(KNOCKER, 42003, TARGET, 13579, 6));
	syn(d, T0 + KG_SEC(29), flow(KNOCKER, 42004, TARGET, 13578, 6));
	assert_int_equal(count(&c, IN_PROGRESS), 1);
	/* Another destination is another pair. */
	syn(d, T0 + KG_SEC(29), flow(KNOCKER, 42005, OTHER, 13579, 6));
	syn(d, T0 + KG_SEC(29) + 1000, flow(KNOCKER, 42006, OTHER, 13578, 6));
	assert_int_equal(count(&c, IN_PROGRESS), 2);
	/* After the window, the same pair alerts again. */
	syn(d, T0 + KG_SEC(31), flow(KNOCKER, 42007, TARGET, 11111, 6));
	assert_int_equal(count(&c, IN_PROGRESS), 3);
	knock_destroy(d);

	/* UDP knocks answered by ICMP unreachable count as closed. */
	d = make_default(&c);
	static const uint8_t zero[1] = {0};
	struct knock_flow u1 = flow(KNOCKER, 50100, TARGET, 2222, 17);
	udp(d, T0, u1, zero, 1);
	out(d, T0 + 50000, u1, KNOCK_CLOSED_ICMP);
	udp(d, T0 + KG_MSEC(5), flow(KNOCKER, 50101, TARGET, 3333, 17), zero, 1);
	a = must(&c, IN_PROGRESS);
	assert_has(a->evidence, "\"proto\":\"udp\",\"port\":2222,\"outcome\":\"ICMP3/3\"");
	assert_int_equal(a->proto, TRANSPORT_UDP);
	knock_destroy(d);
}

/* What is not a knock in progress. */
static void test_knock_in_progress_negatives(void **state)
{
	(void)state;
	struct captured c;
	struct knock_detector *d = make_default(&c);
	/* One uncommon port twice (a retry with a new source port). */
	syn(d, T0, flow(KNOCKER, 43000, TARGET, 12345, 6));
	syn(d, T0 + KG_SEC(1), flow(KNOCKER, 43001, TARGET, 12345, 6));
	/* An application that retransmits its SYN, then tries a second port. */
	struct knock_flow r = flow(KNOCKER, 43010, OTHER, 40000, 6);
	syn(d, T0, r);
	knock_retransmit(d, &r, T0 + KG_SEC(1));
	syn(d, T0 + KG_SEC(2), flow(KNOCKER, 43011, OTHER, 40001, 6));
	assert_int_equal(count(&c, IN_PROGRESS), 0);
	knock_destroy(d);

	/* More than max_gap (10 s) between two hits. */
	d = make_default(&c);
	syn(d, T0, flow(KNOCKER, 43020, TARGET, 12345, 6));
	syn(d, T0 + KG_SEC(11), flow(KNOCKER, 43021, TARGET, 54321, 6));
	assert_int_equal(count(&c, IN_PROGRESS), 0);
	/* ... but the next one is close enough to the second. */
	syn(d, T0 + KG_SEC(12), flow(KNOCKER, 43022, TARGET, 24680, 6));
	assert_int_equal(count(&c, IN_PROGRESS), 1);
	assert_has(last(&c)->msg, "(54321,24680)");
	knock_destroy(d);

	/* An open port is no knock: a client of TARGET:40000 then one failure. */
	d = make_default(&c);
	struct knock_flow o = flow(KNOCKER, 43030, TARGET, 40000, 6);
	syn(d, T0, o);
	out(d, T0 + 1000, o, KNOCK_OPEN);
	syn(d, T0 + KG_MSEC(10), flow(KNOCKER, 43031, TARGET, 40001, 6));
	/* A common port among the hits. */
	syn(d, T0 + KG_SEC(1), flow(KNOCKER, 43032, OTHER, 3306, 6));
	syn(d, T0 + KG_SEC(1) + 1000, flow(KNOCKER, 43033, OTHER, 40002, 6));
	/* ICMP echo does not count. */
	struct knock_attempt e = {0};
	e.ts = T0 + KG_SEC(2);
	e.flow = flow(KNOCKER, 8, "10.77.0.3", 0, 1);
	e.uid = "CEcho";
	knock_attempt(d, &e);
	syn(d, T0 + KG_SEC(2) + 1000, flow(KNOCKER, 43034, "10.77.0.3", 40003, 6));
	assert_int_equal(count(&c, IN_PROGRESS), 0);
	knock_destroy(d);
}

static void test_knock_in_progress_config(void **state)
{
	(void)state;
	static struct knock_config cfg;
	struct captured c;
	char err[128];
	/* Off. */
	knock_config_defaults(&cfg);
	assert_true(cfg.in_progress_enabled);
	assert_int_equal(cfg.in_progress_min_ports, 2);
	cfg.in_progress_enabled = false;
	struct knock_detector *d = make(&cfg, &c);
	for (int i = 0; i < 5; i++)
		syn(d, T0 + KG_MSEC(10) * i,
		    flow(KNOCKER, (uint16_t)(44000 + i), TARGET, (uint16_t)(12340 + i), 6));
	assert_int_equal(count(&c, IN_PROGRESS), 0);
	knock_destroy(d);
	/* Three ports needed. */
	knock_config_defaults(&cfg);
	cfg.in_progress_min_ports = 3;
	d = make(&cfg, &c);
	syn(d, T0, flow(KNOCKER, 44010, TARGET, 12345, 6));
	syn(d, T0 + 1000, flow(KNOCKER, 44011, TARGET, 54321, 6));
	assert_int_equal(count(&c, IN_PROGRESS), 0);
	syn(d, T0 + 2000, flow(KNOCKER, 44012, TARGET, 24680, 6));
	assert_int_equal(count(&c, IN_PROGRESS), 1);
	assert_has(last(&c)->evidence, "\"n_ports\":3,\"min_ports\":3");
	knock_destroy(d);
	/* A known prefix shorter than min_ports is not enough. */
	memcpy(&cfg, door_config(), sizeof(cfg));
	cfg.in_progress_min_ports = 3;
	d = make(&cfg, &c);
	syn(d, T0, flow(KNOCKER, 44020, TARGET, 7000, 6));
	syn(d, T0 + 1000, flow(KNOCKER, 44021, TARGET, 8000, 6));
	assert_int_equal(count(&c, IN_PROGRESS), 0);
	syn(d, T0 + 2000, flow(KNOCKER, 44022, TARGET, 9000, 6));
	assert_int_equal(count(&c, IN_PROGRESS), 1);
	knock_destroy(d);

	knock_config_defaults(&cfg);
	cfg.in_progress_min_ports = 1;
	assert_false(knock_config_check(&cfg, err, sizeof(err)));
	assert_has(err, "in_progress_min_ports");
	cfg.in_progress_min_ports = 32;
	assert_false(knock_config_check(&cfg, err, sizeof(err)));
	cfg.in_progress_min_ports = 31;
	assert_true(knock_config_check(&cfg, err, sizeof(err)));
}

static void test_knock_in_progress_allowlists(void **state)
{
	(void)state;
	static struct knock_config cfg;
	knock_config_defaults(&cfg);
	assert_true(netset_add(&cfg.knock_allowlist, KNOCKER));
	assert_true(netset_add(&cfg.scanner_allowlist, "10.77.5.0/24"));
	struct captured c;
	struct knock_detector *d = make(&cfg, &c);
	/* An approved knocker: INFO (which enforce mode does not act on). */
	syn(d, T0, flow(KNOCKER, 45000, TARGET, 12345, 6));
	syn(d, T0 + 1000, flow(KNOCKER, 45001, TARGET, 54321, 6));
	const struct alert *a = must(&c, IN_PROGRESS);
	assert_int_equal(a->severity, SEV_INFO);
	assert_string_equal(a->policy_rule, "knock_allowlist");
	assert_has(a->evidence, "\"allowlisted\":true");
	/* An approved scanner: nothing, counted. */
	uint64_t suppressed = knock_stats(d)->alerts_suppressed;
	for (int i = 0; i < 5; i++)
		syn(d, T0 + 1000 * i,
		    flow("10.77.5.5", (uint16_t)(45100 + i), TARGET, (uint16_t)(20000 + i), 6));
	assert_int_equal(count(&c, IN_PROGRESS), 1);
	assert_int_equal(knock_stats(d)->alerts_suppressed, suppressed + 1);
	knock_destroy(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_knock_rst_sequence_then_access),
		cmocka_unit_test(test_knock_silent_sequence_then_access),
		cmocka_unit_test(test_knock_access_before_silence_is_decided),
		cmocka_unit_test(test_knock_udp_knocks_icmp_unreachable),
		cmocka_unit_test(test_knock_tcp_knocks_rejected_with_icmp),
		cmocka_unit_test(test_knock_fin_knocks),
		cmocka_unit_test(test_knock_try_knock_retry),
		cmocka_unit_test(test_knock_ordinary_failures_no_alert),
		cmocka_unit_test(test_knock_nmap_scan_then_access),
		cmocka_unit_test(test_knock_scan_shapes_and_rate_limit),
		cmocka_unit_test(test_knock_spa_then_access),
		cmocka_unit_test(test_knock_spa_spoofed_source_and_silent),
		cmocka_unit_test(test_knock_spa_negatives),
		cmocka_unit_test(test_knock_repeated_sequence),
		cmocka_unit_test(test_knock_slow_access_after_run_ended),
		cmocka_unit_test(test_knock_repeated_with_access_scores_seen_before),
		cmocka_unit_test(test_knock_known_sequence),
		cmocka_unit_test(test_knock_known_sequence_parse_errors),
		cmocka_unit_test(test_knock_allowlists),
		cmocka_unit_test(test_knock_table_bounds),
		cmocka_unit_test(test_knock_pool_exhaustion_keeps_working),
		cmocka_unit_test(test_knock_tcp_options_fp),
		cmocka_unit_test(test_knock_config_check),
		cmocka_unit_test(test_knock_late_answers_and_disabled),
		cmocka_unit_test(test_knock_evidence_truncated_to_16),
		cmocka_unit_test(test_knock_in_progress_known_prefix),
		cmocka_unit_test(test_knock_in_progress_uncommon_ports),
		cmocka_unit_test(test_knock_in_progress_negatives),
		cmocka_unit_test(test_knock_in_progress_config),
		cmocka_unit_test(test_knock_in_progress_allowlists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
