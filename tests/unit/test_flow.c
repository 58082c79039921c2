/* Connection semantics through the engine, fed decoded packets: conn_state,
 * history letters and scaling, sequence-space byte counts, flips, timers,
 * reuse and eviction (specs/connlog.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "engine.h"
#include "../support/pktfeed.h"

#define MAX_RECS 64

struct capture {
	size_t n;
	struct conn_record rec[MAX_RECS];
};

static void capture_conn(void *ctx, const struct conn_record *r)
{
	struct capture *cap = ctx;
	assert_true(cap->n < MAX_RECS);
	cap->rec[cap->n++] = *r;
}

static struct capture cap;

static struct engine *new_engine(size_t max_flows)
{
	struct engine_config cfg;
	engine_config_defaults(&cfg);
	if (max_flows)
		cfg.max_flows = max_flows;
	struct engine_sink sink = {.ctx = &cap, .conn_done = capture_conn};
	memset(&cap, 0, sizeof(cap));
	struct engine *e = engine_create(&cfg, &sink);
	assert_non_null(e);
	return e;
}

#define CLIENT "10.0.0.1"
#define SERVER "93.184.216.34" /* public: not in Zeek's local nets */

/* Client 10.0.0.1:40000 -> server 93.184.216.34:80, ISNs 1000 and 5000. */
#define C2S(e, t, fl, seq, ack, len) pf_tcp(e, CLIENT, SERVER, 40000, 80, t, fl, seq, ack, len)
#define S2C(e, t, fl, seq, ack, len) pf_tcp(e, SERVER, CLIENT, 80, 40000, t, fl, seq, ack, len)
#define A TCPF_ACK
#define SYN TCPF_SYN
#define FIN TCPF_FIN
#define RST TCPF_RST

static void handshake(struct engine *e)
{
	C2S(e, 1.0, SYN, 1000, 0, 0);
	S2C(e, 1.1, SYN | A, 5000, 1001, 0);
	C2S(e, 1.2, A, 1001, 5001, 0);
}

static void test_syn_only_is_s0(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	C2S(e, 1.0, SYN, 1000, 0, 0);
	engine_finish(e);
	assert_int_equal(cap.n, 1);
	assert_string_equal(cap.rec[0].conn_state, "S0");
	assert_string_equal(cap.rec[0].history, "S");
	assert_int_equal(cap.rec[0].duration, 0);
	assert_int_equal(cap.rec[0].orig_pkts, 1);
	assert_int_equal(cap.rec[0].orig_ip_bytes, 40);
	assert_int_equal(cap.rec[0].resp_pkts, 0);
	engine_destroy(e);
}

static void test_full_session_sf(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	handshake(e);
	C2S(e, 1.3, A, 1001, 5001, 100);
	S2C(e, 1.4, A, 5001, 1101, 300);
	C2S(e, 1.5, A | FIN, 1101, 5301, 0);
	S2C(e, 1.6, A | FIN, 5301, 1102, 0);
	C2S(e, 1.7, A, 1102, 5302, 0);
	engine_finish(e);
	assert_int_equal(cap.n, 1);
	const struct conn_record *r = &cap.rec[0];
	assert_string_equal(r->conn_state, "SF");
	assert_string_equal(r->history, "ShADdFf"); /* no pure ACK from the server */
	assert_int_equal(r->orig_bytes, 100);
	assert_int_equal(r->resp_bytes, 300);
	assert_int_equal(r->orig_pkts, 5);
	assert_int_equal(r->resp_pkts, 3);
	/* The last ACK comes after both FINs: it does not extend the duration. */
	assert_int_equal(r->duration, KG_MSEC(600));
	assert_int_equal(r->local_orig, TRI_TRUE);
	assert_int_equal(r->local_resp, TRI_FALSE);
	engine_destroy(e);
}

static void test_rejected_syn(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	C2S(e, 1.0, SYN, 1000, 0, 0);
	S2C(e, 1.1, RST | A, 0, 1001, 0);
	engine_finish(e);
	assert_string_equal(cap.rec[0].conn_state, "REJ");
	assert_string_equal(cap.rec[0].history, "Sr");
	engine_destroy(e);
}

static void test_syn_then_orig_rst_is_rstos0(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	C2S(e, 1.0, SYN, 1000, 0, 0);
	C2S(e, 1.1, RST, 1001, 0, 0);
	engine_finish(e);
	assert_string_equal(cap.rec[0].conn_state, "RSTOS0");
	assert_string_equal(cap.rec[0].history, "SR");
	engine_destroy(e);
}

static void test_established_then_rst(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	handshake(e);
	C2S(e, 1.3, A, 1001, 5001, 10);
	S2C(e, 1.4, RST, 5001, 0, 0);
	engine_finish(e);
	assert_string_equal(cap.rec[0].conn_state, "RSTR");
	assert_string_equal(cap.rec[0].history, "ShADr");
	engine_destroy(e);
}

static void test_half_close_states(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	handshake(e);
	C2S(e, 1.5, A | FIN, 1001, 5001, 0);
	engine_finish(e);
	assert_string_equal(cap.rec[0].conn_state, "S2");
	engine_destroy(e);

	e = new_engine(0);
	handshake(e);
	S2C(e, 1.5, A | FIN, 5001, 1001, 0);
	engine_finish(e);
	assert_string_equal(cap.rec[0].conn_state, "S3");
	engine_destroy(e);

	e = new_engine(0);
	handshake(e);
	engine_finish(e);
	assert_string_equal(cap.rec[0].conn_state, "S1");
	assert_string_equal(cap.rec[0].history, "ShA");
	engine_destroy(e);
}

static void test_retransmissions_scale(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	handshake(e);
	C2S(e, 1.3, A, 1001, 5001, 100);
	for (int i = 0; i < 10; i++)
		C2S(e, 1.4 + i * 0.01, A, 1001, 5001, 100);
	engine_finish(e);
	/* 1st retransmission -> T, 10th -> TT. */
	assert_string_equal(cap.rec[0].history, "ShADTT");
	assert_int_equal(cap.rec[0].orig_bytes, 100);
	engine_destroy(e);
}

static void test_bytes_across_seq_wrap(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	uint32_t isn = 0xFFFFFF00u;
	C2S(e, 1.0, SYN, isn, 0, 0);
	S2C(e, 1.1, SYN | A, 5000, isn + 1, 0);
	C2S(e, 1.2, A, isn + 1, 5001, 0);
	uint32_t seq = isn + 1;
	for (int i = 0; i < 4; i++) {
		C2S(e, 1.3 + i * 0.01, A, seq, 5001, 1000);
		seq += 1000;
		S2C(e, 1.305 + i * 0.01, A, 5001, seq, 0);
	}
	engine_finish(e);
	assert_int_equal(cap.rec[0].orig_bytes, 4000);
	assert_int_equal(cap.rec[0].missed_bytes, 0);
	engine_destroy(e);
}

static void test_content_gap(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	handshake(e);
	C2S(e, 1.3, A, 1001, 5001, 100);
	/* bytes 1101..1200 never captured */
	C2S(e, 1.4, A, 1201, 5001, 100);
	S2C(e, 1.5, A, 5001, 1301, 0);
	engine_finish(e);
	assert_int_equal(cap.rec[0].missed_bytes, 100);
	assert_int_equal(cap.rec[0].orig_bytes, 300);
	assert_string_equal(cap.rec[0].history, "ShADaG");
	engine_destroy(e);
}

static void test_zero_window(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	handshake(e);
	struct packet p = pf_base(SERVER, CLIENT, IPPROTO_NUM_TCP, 80, 40000, 1.3);
	p.tcp_flags = A;
	p.seq = 5001;
	p.ack = 1001;
	p.window = 0;
	p.ip_len = 40;
	engine_decoded(e, &p);
	engine_finish(e);
	assert_string_equal(cap.rec[0].history, "ShAaw");
	engine_destroy(e);
}

static void test_synack_from_server_port_flips_at_creation(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	S2C(e, 1.0, SYN | A, 5000, 1001, 0);
	engine_finish(e);
	char buf[KG_ADDR_STRLEN];
	addr_format(&cap.rec[0].orig_h, buf);
	assert_string_equal(buf, CLIENT);
	assert_int_equal(cap.rec[0].resp_p, 80);
	assert_string_equal(cap.rec[0].history, "^h");
	assert_int_equal(cap.rec[0].resp_pkts, 1);
	engine_destroy(e);
}

static void test_synack_then_ack_flips_late(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	/* Neither port is a likely server port: no flip at creation. */
	pf_tcp(e, SERVER, CLIENT, 7000, 40000, 1.0, SYN | A, 5000, 1001, 0);
	pf_tcp(e, CLIENT, SERVER, 40000, 7000, 1.1, A, 1001, 5001, 0);
	engine_finish(e);
	assert_string_equal(cap.rec[0].history, "^hA");
	assert_int_equal(cap.rec[0].resp_p, 7000);
	engine_destroy(e);
}

static void test_bad_checksum_only(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	struct packet p = pf_base(CLIENT, SERVER, IPPROTO_NUM_TCP, 40000, 80, 1.0);
	p.tcp_flags = SYN;
	p.ip_len = 40;
	p.csum = L4_CSUM_BAD;
	engine_decoded(e, &p);
	engine_finish(e);
	assert_string_equal(cap.rec[0].history, "C");
	assert_string_equal(cap.rec[0].conn_state, "OTH");
	assert_int_equal(cap.rec[0].orig_pkts, 0);
	engine_destroy(e);
}

static void test_attempt_timer_splits(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	C2S(e, 1.0, SYN, 1000, 0, 0);
	C2S(e, 1.5, A, 1001, 0, 20);
	/* Another flow's packet at t=6.1 moves time past SYN + 5 s. */
	pf_tcp(e, "10.0.0.9", SERVER, 1234, 443, 6.1, SYN, 1, 0, 0);
	assert_int_equal(cap.n, 1);
	assert_string_equal(cap.rec[0].conn_state, "S0");
	assert_string_equal(cap.rec[0].history, "SD");
	/* The same 5-tuple continues as a new, partial connection. */
	C2S(e, 6.2, A | FIN, 1021, 0, 0);
	engine_finish(e);
	assert_int_equal(cap.n, 3);
	assert_string_not_equal(cap.rec[0].uid, cap.rec[2].uid);
	engine_destroy(e);
}

static void test_reuse_after_close(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	C2S(e, 1.0, SYN, 1000, 0, 0);
	S2C(e, 1.1, RST | A, 0, 1001, 0);
	C2S(e, 2.0, SYN, 1000, 0, 0);
	S2C(e, 2.1, RST | A, 0, 1001, 0);
	engine_finish(e);
	assert_int_equal(cap.n, 2);
	assert_string_equal(cap.rec[0].conn_state, "REJ");
	assert_string_equal(cap.rec[1].conn_state, "REJ");
	engine_destroy(e);
}

static void udp(struct engine *e, const char *src, const char *dst, uint16_t sp, uint16_t dp,
		double t, uint16_t plen, enum l4_checksum cs)
{
	struct packet p = pf_base(src, dst, IPPROTO_NUM_UDP, sp, dp, t);
	p.udp_len = (uint16_t)(8 + plen);
	p.payload_len = p.payload_caplen = plen;
	p.l4_len = p.udp_len;
	p.ip_len = 20u + p.udp_len;
	p.csum = cs;
	engine_decoded(e, &p);
}

static void test_udp_states_and_inactivity(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	udp(e, CLIENT, SERVER, 5000, 6000, 1.0, 10, L4_CSUM_OK);
	udp(e, SERVER, CLIENT, 6000, 5000, 1.5, 30, L4_CSUM_OK);
	/* 61 s of silence: the next packet is a new connection. */
	udp(e, CLIENT, SERVER, 5000, 6000, 62.5, 7, L4_CSUM_OK);
	engine_finish(e);
	assert_int_equal(cap.n, 2);
	assert_string_equal(cap.rec[0].conn_state, "SF");
	assert_string_equal(cap.rec[0].history, "Dd");
	assert_int_equal(cap.rec[0].orig_bytes, 10);
	assert_int_equal(cap.rec[0].resp_bytes, 30);
	assert_string_equal(cap.rec[1].conn_state, "S0");
	engine_destroy(e);

	e = new_engine(0);
	udp(e, CLIENT, SERVER, 5000, 6000, 1.0, 10, L4_CSUM_BAD);
	engine_finish(e);
	assert_string_equal(cap.rec[0].conn_state, "OTH");
	assert_string_equal(cap.rec[0].history, "C");
	assert_int_equal(cap.rec[0].orig_pkts, 0);
	engine_destroy(e);
}

static void test_udp_server_port_flips(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	udp(e, SERVER, CLIENT, 123, 40000, 1.0, 48, L4_CSUM_OK);
	engine_finish(e);
	assert_int_equal(cap.rec[0].resp_p, 123);
	assert_string_equal(cap.rec[0].history, "^d");
	assert_string_equal(cap.rec[0].conn_state, "SHR");
	engine_destroy(e);
}

static void test_icmp_echo(void **state)
{
	(void)state;
	struct engine *e = new_engine(0);
	for (int i = 0; i < 2; i++) {
		struct packet p = pf_base(CLIENT, SERVER, IPPROTO_NUM_ICMP, 8, 0, 1.0 + i);
		p.icmp_type = 8;
		p.l4_len = 64;
		p.ip_len = 84;
		engine_decoded(e, &p);
		p = pf_base(SERVER, CLIENT, IPPROTO_NUM_ICMP, 0, 0, 1.1 + i);
		p.icmp_type = 0;
		p.l4_len = 64;
		p.ip_len = 84;
		engine_decoded(e, &p);
	}
	engine_finish(e);
	assert_int_equal(cap.n, 1);
	assert_int_equal(cap.rec[0].orig_p, 8);
	assert_int_equal(cap.rec[0].resp_p, 0);
	assert_string_equal(cap.rec[0].conn_state, "OTH");
	assert_string_equal(cap.rec[0].history, "");
	assert_int_equal(cap.rec[0].orig_bytes, 112);
	assert_int_equal(cap.rec[0].resp_pkts, 2);
	engine_destroy(e);
}

static void test_eviction_oldest_idle(void **state)
{
	(void)state;
	struct engine *e = new_engine(2);
	udp(e, CLIENT, SERVER, 1, 9999, 1.0, 1, L4_CSUM_OK);
	udp(e, CLIENT, SERVER, 2, 9999, 1.1, 1, L4_CSUM_OK);
	udp(e, CLIENT, SERVER, 1, 9999, 1.2, 1, L4_CSUM_OK); /* flow 1 is fresh again */
	udp(e, CLIENT, SERVER, 3, 9999, 1.3, 1, L4_CSUM_OK); /* evicts flow 2 */
	assert_int_equal(engine_stats(e)->flows_evicted, 1);
	assert_int_equal(cap.n, 1);
	assert_int_equal(cap.rec[0].orig_p, 2);
	engine_finish(e);
	assert_int_equal(cap.n, 3);
	engine_destroy(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_only_is_s0),
		cmocka_unit_test(test_full_session_sf),
		cmocka_unit_test(test_rejected_syn),
		cmocka_unit_test(test_syn_then_orig_rst_is_rstos0),
		cmocka_unit_test(test_established_then_rst),
		cmocka_unit_test(test_half_close_states),
		cmocka_unit_test(test_retransmissions_scale),
		cmocka_unit_test(test_bytes_across_seq_wrap),
		cmocka_unit_test(test_content_gap),
		cmocka_unit_test(test_zero_window),
		cmocka_unit_test(test_synack_from_server_port_flips_at_creation),
		cmocka_unit_test(test_synack_then_ack_flips_late),
		cmocka_unit_test(test_bad_checksum_only),
		cmocka_unit_test(test_attempt_timer_splits),
		cmocka_unit_test(test_reuse_after_close),
		cmocka_unit_test(test_udp_states_and_inactivity),
		cmocka_unit_test(test_udp_server_port_flips),
		cmocka_unit_test(test_icmp_echo),
		cmocka_unit_test(test_eviction_oldest_idle),
	};
	return cmocka_run_group_tests_name("flow", tests, NULL, NULL);
}
