/* The per-flow content buffer (guard/analyze/content.c): in-order TCP bytes,
 * retransmitted prefixes, holes, UDP datagram boundaries, truncated
 * captures, the size bound and who spoke first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "analyze/content.h"

#define TCP 6
#define UDP 17

static bool add(struct content *c, bool orig, uint8_t proto, uint32_t seq, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);
	return content_add(c, orig, proto, seq, (const uint8_t *)s, n, n);
}

static void expect_bytes(const struct content_dir *d, const char *want)
{
	assert_int_equal(d->len, strlen(want));
	assert_memory_equal(d->data, want, d->len);
}

static void test_tcp_in_order(void **state)
{
	(void)state;
	struct content c;
	content_init(&c);
	assert_true(add(&c, true, TCP, 1000, "GET / HTTP/1.1\r\n"));
	assert_true(add(&c, true, TCP, 1016, "Host: x\r\n\r\n"));
	assert_true(add(&c, false, TCP, 9000, "HTTP/1.1 200 OK\r\n"));
	expect_bytes(&c.dir[0], "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	expect_bytes(&c.dir[1], "HTTP/1.1 200 OK\r\n");
	assert_int_equal(c.dir[0].nseg, 2);
	assert_int_equal(c.dir[0].seg_len[0], 16);
	assert_int_equal(c.dir[0].seg_len[1], 11);
	assert_int_equal(c.dir[0].segments_seen, 2);
	assert_int_equal(c.dir[1].segments_seen, 1);
	assert_false(c.dir[0].stalled);
	assert_false(c.resp_spoke_first);
	/* Zero-length payloads record nothing. */
	assert_false(content_add(&c, true, TCP, 1027, (const uint8_t *)"", 0, 0));
	assert_int_equal(c.dir[0].segments_seen, 2);
}

static void test_tcp_retransmitted_prefix(void **state)
{
	(void)state;
	struct content c;
	content_init(&c);
	assert_true(add(&c, true, TCP, 100, "abcdef"));
	/* The same segment again: nothing new. */
	assert_false(add(&c, true, TCP, 100, "abcdef"));
	assert_false(add(&c, true, TCP, 102, "cd"));
	assert_int_equal(c.dir[0].segments_seen, 1);
	/* Overlapping the stored bytes and going on: only the new part is stored. */
	assert_true(add(&c, true, TCP, 104, "efghij"));
	expect_bytes(&c.dir[0], "abcdefghij");
	assert_int_equal(c.dir[0].nseg, 2);
	assert_int_equal(c.dir[0].seg_len[1], 6); /* the segment's own length */
	assert_false(c.dir[0].stalled);
}

static void test_tcp_hole_stalls(void **state)
{
	(void)state;
	struct content c;
	content_init(&c);
	assert_true(add(&c, true, TCP, 1, "SSH-2.0-"));
	/* A segment past a hole: not reassembled; the direction stops. */
	assert_false(add(&c, true, TCP, 20, "later"));
	assert_true(c.dir[0].stalled);
	/* Not even the missing bytes are taken now. */
	assert_false(add(&c, true, TCP, 9, "OpenSSH"));
	expect_bytes(&c.dir[0], "SSH-2.0-");
	/* The other direction is not affected. */
	assert_true(add(&c, false, TCP, 500, "SSH-2.0-x\r\n"));
	assert_false(c.dir[1].stalled);
}

static void test_tcp_sequence_wraps(void **state)
{
	(void)state;
	struct content c;
	content_init(&c);
	assert_true(add(&c, true, TCP, 0xfffffffcu, "1234"));
	assert_true(add(&c, true, TCP, 0, "5678"));
	expect_bytes(&c.dir[0], "12345678");
	assert_false(c.dir[0].stalled);
}

static void test_udp_datagram_boundaries(void **state)
{
	(void)state;
	struct content c;
	content_init(&c);
	static const char *const dg[] = {"one", "two!", "three", "four44", "five5"};
	for (int i = 0; i < 5; i++)
		assert_true(add(&c, true, UDP, 0, dg[i]));
	/* The first CONTENT_SEGMENTS datagrams are kept back to back with their sizes;
	 * later ones are only counted. */
	assert_int_equal(CONTENT_SEGMENTS, 4);
	expect_bytes(&c.dir[0], "onetwo!threefour44");
	assert_int_equal(c.dir[0].nseg, 4);
	assert_int_equal(c.dir[0].seg_len[0], 3);
	assert_int_equal(c.dir[0].seg_len[1], 4);
	assert_int_equal(c.dir[0].seg_len[2], 5);
	assert_int_equal(c.dir[0].seg_len[3], 6);
	assert_int_equal(c.dir[0].segments_seen, 5);
	/* The same datagram twice is two datagrams (no sequence numbers). */
	assert_true(add(&c, false, UDP, 0, "x"));
	assert_true(add(&c, false, UDP, 0, "x"));
	assert_int_equal(c.dir[1].nseg, 2);
}

static void test_truncated_capture(void **state)
{
	(void)state;
	struct content c;
	uint8_t big[200];
	memset(big, 'a', sizeof(big));
	/* TCP: a segment captured short stops the direction; what came before stays. */
	content_init(&c);
	assert_true(add(&c, true, TCP, 1, "hello"));
	assert_true(content_add(&c, true, TCP, 6, big, 60, 200));
	assert_true(c.dir[0].stalled);
	expect_bytes(&c.dir[0], "hello");
	assert_int_equal(c.dir[0].seg_len[1], 200);
	assert_false(add(&c, true, TCP, 206, "more"));
	/* UDP: the captured part is stored, the wire length recorded. */
	content_init(&c);
	assert_true(content_add(&c, true, UDP, 0, big, 60, 200));
	assert_int_equal(c.dir[0].len, 60);
	assert_int_equal(c.dir[0].seg_len[0], 200);
	/* Ethernet padding (caplen > len) is not payload. */
	content_init(&c);
	assert_true(content_add(&c, true, UDP, 0, big, 64, 10));
	assert_int_equal(c.dir[0].len, 10);
}

static void test_bounded(void **state)
{
	(void)state;
	struct content c;
	uint8_t chunk[700];
	content_init(&c);
	memset(chunk, 'x', sizeof(chunk));
	uint32_t seq = 1;
	for (int i = 0; i < 6; i++) {
		assert_true(content_add(&c, true, TCP, seq, chunk, sizeof(chunk), sizeof(chunk)));
		seq += sizeof(chunk);
	}
	assert_int_equal(c.dir[0].len, CONTENT_BYTES);
	assert_int_equal(c.dir[0].nseg, CONTENT_SEGMENTS);
	assert_int_equal(c.dir[0].segments_seen, 6);
	/* UDP datagrams past the buffer: counted, not stored. */
	content_init(&c);
	assert_true(content_add(&c, false, UDP, 0, chunk, sizeof(chunk), sizeof(chunk)));
	assert_true(content_add(&c, false, UDP, 0, chunk, sizeof(chunk), sizeof(chunk)));
	assert_int_equal(c.dir[1].len, CONTENT_BYTES);
	assert_int_equal(c.dir[1].seg_len[1], sizeof(chunk));
}

static void test_who_spoke_first_and_view(void **state)
{
	(void)state;
	struct content c;
	content_init(&c);
	assert_true(add(&c, false, TCP, 77, "RFB 003.008\n"));
	assert_true(add(&c, true, TCP, 5, "RFB 003.008\n"));
	assert_true(c.resp_spoke_first);
	struct content_view v;
	content_view(&c, TCP, 5901, &v);
	assert_int_equal(v.ip_proto, TCP);
	assert_int_equal(v.resp_port, 5901);
	assert_ptr_equal(v.orig, &c.dir[0]);
	assert_ptr_equal(v.resp, &c.dir[1]);
	assert_true(v.resp_spoke_first);
	content_init(&c);
	assert_true(add(&c, true, TCP, 5, "x"));
	assert_true(add(&c, false, TCP, 77, "y"));
	assert_false(c.resp_spoke_first);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_in_order),
		cmocka_unit_test(test_tcp_retransmitted_prefix),
		cmocka_unit_test(test_tcp_hole_stalls),
		cmocka_unit_test(test_tcp_sequence_wraps),
		cmocka_unit_test(test_udp_datagram_boundaries),
		cmocka_unit_test(test_truncated_capture),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_who_spoke_first_and_view),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
