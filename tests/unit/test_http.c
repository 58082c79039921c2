/* http: the streaming HTTP/1.x parser. Edge cases by construction, the MC-BUP
 * upload sequence and a BITS download, then a replay of Zeek's HTTP sample
 * captures (when ../shared is there). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "analyze/http.h"
#include "decode/decode.h"
#include "io/pcap_source.h"

#define MAX_RECS 64

struct collect {
	int n;
	struct http_record rec[MAX_RECS];
};

static void collect_fn(void *ctx, const struct http_record *r)
{
	struct collect *c = ctx;
	if (c->n < MAX_RECS)
		c->rec[c->n] = *r;
	c->n++;
}

/* A connection under test: the state is large, so it lives on the heap. */
struct conn {
	struct http_state st;
	struct collect out;
	struct http_sink sink;
};

static struct conn *conn_new(void)
{
	struct conn *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	struct kg_addr o, r;
	assert_true(addr_parse("10.0.0.5", &o));
	assert_true(addr_parse("192.0.2.80", &r));
	char uid[KG_UID_LEN] = "CtestUid0000000001";
	http_init(&c->st, uid, &o, 49152, &r, 80);
	c->sink = (struct http_sink){collect_fn, &c->out};
	return c;
}

static void feed(struct conn *c, bool orig, const char *s)
{
	http_feed(&c->st, orig, (const uint8_t *)s, strlen(s), KG_SEC(100), &c->sink);
}

static void feed_n(struct conn *c, bool orig, const void *p, size_t n)
{
	http_feed(&c->st, orig, p, n, KG_SEC(100), &c->sink);
}

static void finish(struct conn *c)
{
	http_finish(&c->st, KG_SEC(200), &c->sink);
}

static const char simple_req[] = "GET /index.html?q=1 HTTP/1.1\r\n"
				 "Host: www.example.com:8080\r\n"
				 "User-Agent: curl/8.0\r\n"
				 "Referer: http://ref.example/\r\n"
				 "Origin: http://o.example\r\n"
				 "\r\n";
static const char simple_resp[] = "HTTP/1.1 200 OK\r\n"
				  "Content-Type: text/html\r\n"
				  "Content-Length: 11\r\n"
				  "\r\n"
				  "hello world";

static void test_http_simple_transaction(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true, simple_req);
	assert_int_equal(c->out.n, 0);
	feed(c, false, simple_resp);
	assert_int_equal(c->out.n, 1); /* emitted when the body ends, not at finish */
	const struct http_record *r = &c->out.rec[0];
	assert_string_equal(r->uid, "CtestUid0000000001");
	assert_int_equal(r->trans_depth, 1);
	assert_string_equal(r->method, "GET");
	assert_string_equal(r->host, "www.example.com:8080");
	assert_string_equal(r->uri, "/index.html?q=1");
	assert_string_equal(r->referrer, "http://ref.example/");
	assert_string_equal(r->origin, "http://o.example");
	assert_string_equal(r->user_agent, "curl/8.0");
	assert_string_equal(r->version, "1.1");
	assert_int_equal(r->status_code, 200);
	assert_string_equal(r->status_msg, "OK");
	assert_int_equal(r->request_body_len, 0);
	assert_int_equal(r->response_body_len, 11);
	assert_string_equal(r->resp_content_type, "text/html");
	assert_true(r->response_complete);
	assert_int_equal(r->body_magic_len, 2);
	assert_memory_equal(r->body_magic, "he", 2);
	assert_int_equal(r->body_offset, 0);
	assert_int_equal(r->orig_p, 49152);
	assert_int_equal(r->resp_p, 80);
	assert_int_equal(r->ts, KG_SEC(100));
	finish(c);
	assert_int_equal(c->out.n, 1);
	assert_int_equal(c->st.stats.transactions, 1);
	assert_int_equal(c->st.stats.unanswered, 0);
	free(c);
}

/* Every split point of the request and of the response gives the record
 * of the unsplit stream; so does feeding one byte at a time. */
static void test_http_split_every_byte(void **state)
{
	(void)state;
	struct conn *ref = conn_new();
	feed(ref, true, simple_req);
	feed(ref, false, simple_resp);
	assert_int_equal(ref->out.n, 1);

	size_t qn = strlen(simple_req), sn = strlen(simple_resp);
	for (size_t k = 0; k <= qn; k++) {
		struct conn *c = conn_new();
		feed_n(c, true, simple_req, k);
		feed_n(c, true, simple_req + k, qn - k);
		feed(c, false, simple_resp);
		assert_int_equal(c->out.n, 1);
		assert_memory_equal(&c->out.rec[0], &ref->out.rec[0], sizeof(struct http_record));
		free(c);
	}
	for (size_t k = 0; k <= sn; k++) {
		struct conn *c = conn_new();
		feed(c, true, simple_req);
		feed_n(c, false, simple_resp, k);
		feed_n(c, false, simple_resp + k, sn - k);
		assert_int_equal(c->out.n, 1);
		assert_memory_equal(&c->out.rec[0], &ref->out.rec[0], sizeof(struct http_record));
		free(c);
	}
	struct conn *c = conn_new();
	for (size_t k = 0; k < qn; k++)
		feed_n(c, true, simple_req + k, 1);
	for (size_t k = 0; k < sn; k++)
		feed_n(c, false, simple_resp + k, 1);
	assert_int_equal(c->out.n, 1);
	assert_memory_equal(&c->out.rec[0], &ref->out.rec[0], sizeof(struct http_record));
	free(c);
	free(ref);
}

static void test_http_pipelined(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true,
	     "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
	     "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nabcde"
	     "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
	assert_int_equal(c->out.n, 0);
	assert_int_equal(c->st.npending, 3);
	feed(c, false,
	     "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz"
	     "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n0\r\n\r\n"
	     "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c->out.n, 3);
	assert_string_equal(c->out.rec[0].uri, "/a");
	assert_int_equal(c->out.rec[0].status_code, 200);
	assert_int_equal(c->out.rec[0].response_body_len, 3);
	assert_int_equal(c->out.rec[0].trans_depth, 1);
	assert_string_equal(c->out.rec[1].method, "POST");
	assert_int_equal(c->out.rec[1].request_body_len, 5);
	assert_int_equal(c->out.rec[1].status_code, 201);
	assert_int_equal(c->out.rec[1].response_body_len, 4);
	assert_int_equal(c->out.rec[1].trans_depth, 2);
	assert_string_equal(c->out.rec[2].uri, "/c");
	assert_int_equal(c->out.rec[2].status_code, 404);
	assert_string_equal(c->out.rec[2].status_msg, "Not Found");
	assert_int_equal(c->out.rec[2].trans_depth, 3);
	finish(c);
	assert_int_equal(c->out.n, 3);
	free(c);
}

static void test_http_chunked_both_ways(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true,
	     "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
	     "3;ext=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-Trailer: t\r\n\r\n");
	feed(c, false,
	     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	     "1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n");
	assert_int_equal(c->out.n, 1);
	assert_int_equal(c->out.rec[0].request_body_len, 19);
	assert_int_equal(c->out.rec[0].response_body_len, 26);
	assert_true(c->out.rec[0].response_complete);
	/* The connection is still in step: another transaction parses. */
	feed(c, true, "GET /next HTTP/1.1\r\nHost: h\r\n\r\n");
	feed(c, false, "HTTP/1.1 204 No Content\r\n\r\n");
	assert_int_equal(c->out.n, 2);
	assert_string_equal(c->out.rec[1].uri, "/next");
	assert_int_equal(c->out.rec[1].status_code, 204);
	assert_int_equal(c->st.stats.bad_framing, 0);
	free(c);
}

static void test_http_bad_chunk_size(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true, "GET / HTTP/1.1\r\n\r\n");
	feed(c, false, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
	assert_int_equal(c->st.stats.bad_framing, 1);
	assert_int_equal(c->out.n, 1); /* ended, incomplete */
	assert_false(c->out.rec[0].response_complete);
	free(c);
}

static void test_http_missing_response(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true, "GET /only HTTP/1.1\r\nHost: h\r\n\r\nHEAD /two HTTP/1.1\r\n\r\n");
	assert_int_equal(c->out.n, 0);
	finish(c);
	assert_int_equal(c->out.n, 2);
	assert_string_equal(c->out.rec[0].uri, "/only");
	assert_string_equal(c->out.rec[1].method, "HEAD");
	assert_false(c->out.rec[0].response_seen);
	assert_int_equal(c->out.rec[0].status_code, 0);
	assert_int_equal(c->st.stats.unanswered, 2);
	/* A second finish emits nothing more. */
	finish(c);
	assert_int_equal(c->out.n, 2);
	free(c);
}

static void test_http_garbage(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	static const uint8_t junk[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, '\n', 'G', 'E', 'T'};
	feed_n(c, true, junk, sizeof(junk));
	assert_int_equal(c->st.stats.violations, 1);
	feed(c, true, "GET / HTTP/1.1\r\n\r\n"); /* the direction stays stopped */
	finish(c);
	assert_int_equal(c->out.n, 0);

	/* Text that is not a request line: one word, unknown method. */
	struct conn *d = conn_new();
	feed(d, true, "hello\r\n");
	assert_int_equal(d->st.stats.violations, 1);
	free(d);

	/* An SSH server answering an HTTP request. */
	struct conn *e = conn_new();
	feed(e, true, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	feed(e, false, "SSH-2.0-OpenSSH_9.2p1\r\n");
	assert_int_equal(e->st.stats.violations, 1);
	finish(e);
	assert_int_equal(e->out.n, 1);
	assert_false(e->out.rec[0].response_seen);
	free(e);
	free(c);
}

static void test_http_overlong_lines(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	char *big = malloc(8192);
	assert_non_null(big);
	int n = snprintf(big, 8192, "GET /x HTTP/1.1\r\nCookie: ");
	memset(big + n, 'c', 5000);
	n += 5000;
	n += snprintf(big + n, 8192 - (size_t)n, "\r\nUser-Agent: after-cookie\r\n\r\n");
	feed_n(c, true, big, (size_t)n);
	feed(c, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c->out.n, 1);
	assert_int_equal(c->st.stats.lines_truncated, 1);
	assert_string_equal(c->out.rec[0].user_agent, "after-cookie");
	assert_true(c->out.rec[0].truncated);

	/* A URI longer than the line buffer: kept as a prefix, counted. */
	n = snprintf(big, 8192, "GET /");
	memset(big + n, 'u', 3000);
	n += 3000;
	n += snprintf(big + n, 8192 - (size_t)n, " HTTP/1.1\r\n\r\n");
	feed_n(c, true, big, (size_t)n);
	/* The version was cut off with the line: an unknown-version one-word
	 * request with a known method is taken as HTTP/0.9. */
	finish(c);
	assert_int_equal(c->out.n, 2);
	assert_int_equal(c->st.stats.lines_truncated, 2);
	assert_true(strlen(c->out.rec[1].uri) >= HTTP_URI_MAX - 1);
	assert_true(c->out.rec[1].truncated);
	assert_true(c->st.stats.fields_truncated >= 1);
	free(big);
	free(c);
}

static void test_http_head_304_204_no_body(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true, "HEAD /f HTTP/1.1\r\n\r\nGET /g HTTP/1.1\r\n\r\nGET /h HTTP/1.1\r\n\r\n");
	feed(c, false,
	     "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
	     "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"
	     "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	assert_int_equal(c->out.n, 3);
	assert_int_equal(c->out.rec[0].response_body_len, 0);
	assert_int_equal(c->out.rec[1].status_code, 304);
	assert_int_equal(c->out.rec[1].response_body_len, 0);
	assert_int_equal(c->out.rec[2].response_body_len, 2);
	free(c);
}

static void test_http_informational(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true, "POST /p HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
	feed(c, false, "HTTP/1.1 100 Continue\r\n\r\n");
	assert_int_equal(c->out.n, 0);
	feed(c, true, "data");
	feed(c, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c->out.n, 1);
	assert_int_equal(c->out.rec[0].info_code, 100);
	assert_string_equal(c->out.rec[0].info_msg, "Continue");
	assert_int_equal(c->out.rec[0].status_code, 200);
	assert_int_equal(c->out.rec[0].request_body_len, 4);
	free(c);
}

static void test_http_upgrade_and_connect_tunnel(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	feed(c, false,
	     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello");
	assert_int_equal(c->out.n, 1);
	assert_int_equal(c->out.rec[0].status_code, 101);
	assert_int_equal(c->out.rec[0].info_code, 101);
	assert_true(c->st.tunnel);
	feed(c, true, "GET /not-http-any-more HTTP/1.1\r\n\r\n");
	finish(c);
	assert_int_equal(c->out.n, 1);
	assert_int_equal(c->st.stats.violations, 0);
	free(c);

	c = conn_new();
	feed(c, true,
	     "CONNECT upd.example.com:443 HTTP/1.1\r\nHost: upd.example.com:443\r\n"
	     "User-Agent: Microsoft BITS/7.8\r\n\r\n\x16\x03\x01");
	feed(c, false, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03");
	finish(c);
	assert_int_equal(c->out.n, 1);
	assert_string_equal(c->out.rec[0].method, "CONNECT");
	assert_string_equal(c->out.rec[0].uri, "upd.example.com:443");
	assert_string_equal(c->out.rec[0].user_agent, "Microsoft BITS/7.8");
	assert_true(c->st.tunnel);
	assert_int_equal(c->st.stats.violations, 0);
	free(c);
}

/* MC-BUP 4.1 byte for byte, then a Fragment and Close-Session. */
static void test_http_bits_upload_sequence(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true,
	     "BITS_POST /upload/2000mb-rfc2119.txt HTTP/1.1\r\n"
	     "Accept: */*\r\n"
	     "BITS-Packet-Type: Create-Session\r\n"
	     "BITS-Supported-Protocols: {7df0354d-249b-430f-820d-3d2a9bef4931}\r\n"
	     "Content-Name: rfc2119.txt\r\n"
	     "User-Agent: Microsoft BITS/6.7\r\n"
	     "Host: frankcao8\r\n"
	     "Content-Length: 0\r\n"
	     "Connection: Keep-Alive\r\n"
	     "\r\n");
	feed(c, false,
	     "HTTP/1.1 200 OK\r\n"
	     "BITS-Packet-Type: Ack\r\n"
	     "BITS-Protocol: {7df0354d-249b-430f-820d-3d2a9bef4931}\r\n"
	     "BITS-Session-Id: {1A2B3C4D-0000-1111-2222-333344445555}\r\n"
	     "Accept-Encoding: Identity\r\n"
	     "Content-Length: 0\r\n\r\n");
	assert_int_equal(c->out.n, 1);
	const struct http_record *r = &c->out.rec[0];
	assert_string_equal(r->method, "BITS_POST");
	assert_string_equal(r->bits_packet_type, "Create-Session");
	assert_string_equal(r->bits_supported_protocols, "{7df0354d-249b-430f-820d-3d2a9bef4931}");
	assert_string_equal(r->content_name, "rfc2119.txt");
	assert_string_equal(r->host, "frankcao8");
	assert_string_equal(r->resp_bits_packet_type, "Ack");
	assert_string_equal(r->resp_bits_protocol, "{7df0354d-249b-430f-820d-3d2a9bef4931}");
	assert_string_equal(r->resp_bits_session_id, "{1A2B3C4D-0000-1111-2222-333344445555}");

	char frag[512];
	int n = snprintf(frag, sizeof(frag),
			 "BITS_POST /upload/2000mb-rfc2119.txt HTTP/1.1\r\n"
			 "BITS-Packet-Type: Fragment\r\n"
			 "BITS-Session-Id: {1A2B3C4D-0000-1111-2222-333344445555}\r\n"
			 "Content-Name: rfc2119.txt\r\n"
			 "Content-Range: bytes 0-99/100\r\n"
			 "Content-Length: 100\r\n"
			 "User-Agent: Microsoft BITS/6.7\r\nHost: frankcao8\r\n\r\n");
	feed_n(c, true, frag, (size_t)n);
	char body[100];
	memset(body, 'B', sizeof(body));
	feed_n(c, true, body, sizeof(body));
	feed(c, true,
	     "BITS_POST /upload/2000mb-rfc2119.txt HTTP/1.1\r\n"
	     "BITS-Packet-Type: Close-Session\r\n"
	     "BITS-Session-Id: {1A2B3C4D-0000-1111-2222-333344445555}\r\n"
	     "Content-Length: 0\r\nUser-Agent: Microsoft BITS/6.7\r\nHost: frankcao8\r\n\r\n");
	feed(c, false,
	     "HTTP/1.1 200 OK\r\nBITS-Packet-Type: Ack\r\n"
	     "BITS-Session-Id: {1A2B3C4D-0000-1111-2222-333344445555}\r\n"
	     "BITS-Received-Content-Range: 100\r\nContent-Length: 0\r\n\r\n"
	     "HTTP/1.1 200 OK\r\nBITS-Packet-Type: Ack\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c->out.n, 3);
	r = &c->out.rec[1];
	assert_string_equal(r->bits_packet_type, "Fragment");
	assert_string_equal(r->bits_session_id, "{1A2B3C4D-0000-1111-2222-333344445555}");
	assert_int_equal(r->req_content_range.first, 0);
	assert_int_equal(r->req_content_range.last, 99);
	assert_int_equal(r->req_content_range.total, 100);
	assert_int_equal(r->request_body_len, 100);
	assert_string_equal(r->bits_received_range, "100");
	assert_string_equal(c->out.rec[2].bits_packet_type, "Close-Session");
	assert_int_equal(c->out.rec[2].trans_depth, 3);

	/* An error Ack, both header spellings. */
	feed(c, true,
	     "BITS_POST /upload/x HTTP/1.1\r\nBITS-Packet-Type: Ping\r\n"
	     "Content-Length: 0\r\n\r\n");
	feed(c, false,
	     "HTTP/1.1 404 Not Found\r\nBITS-Packet-Type: Ack\r\n"
	     "BITS-Error: 0x80070002\r\nBITS-Error-Context: 0x5\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c->out.n, 4);
	assert_string_equal(c->out.rec[3].bits_error_code, "0x80070002");
	assert_string_equal(c->out.rec[3].bits_error_context, "0x5");
	free(c);
}

/* What bitsadmin does: HEAD for the size, then ranged GETs on one
 * keep-alive connection. */
static void test_http_bits_download_ranges(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	const char *hdrs = "Connection: Keep-Alive\r\nAccept: */*\r\nAccept-Encoding: identity\r\n"
			   "User-Agent: Microsoft BITS/7.8\r\nHost: files.example.net\r\n";
	char req[1024];
	snprintf(req, sizeof(req), "HEAD /payload.exe HTTP/1.1\r\n%s\r\n", hdrs);
	feed(c, true, req);
	feed(c, false,
	     "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nAccept-Ranges: bytes\r\n"
	     "Content-Type: application/x-msdownload\r\n\r\n");
	snprintf(req, sizeof(req), "GET /payload.exe HTTP/1.1\r\nRange: bytes=0-499\r\n%s\r\n",
		 hdrs);
	feed(c, true, req);
	char resp[2048];
	int n = snprintf(resp, sizeof(resp),
			 "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-499/1000\r\n"
			 "Content-Length: 500\r\n\r\nMZ");
	memset(resp + n, 0x90, 498);
	feed_n(c, false, resp, (size_t)n + 498);
	snprintf(req, sizeof(req), "GET /payload.exe HTTP/1.1\r\nRange: bytes=500-999\r\n%s\r\n",
		 hdrs);
	feed(c, true, req);
	n = snprintf(resp, sizeof(resp),
		     "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 500-999/1000\r\n"
		     "Content-Length: 500\r\n\r\n");
	memset(resp + n, 'M', 1);
	memset(resp + n + 1, 'Z', 499);
	feed_n(c, false, resp, (size_t)n + 500);
	assert_int_equal(c->out.n, 3);
	assert_string_equal(c->out.rec[0].method, "HEAD");
	assert_int_equal(c->out.rec[0].response_body_len, 0);
	assert_int_equal(c->out.rec[0].body_magic_len, 0);
	assert_string_equal(c->out.rec[0].resp_content_type, "application/x-msdownload");
	assert_string_equal(c->out.rec[1].range, "bytes=0-499");
	assert_int_equal(c->out.rec[1].status_code, 206);
	assert_int_equal(c->out.rec[1].resp_content_range.first, 0);
	assert_int_equal(c->out.rec[1].resp_content_range.total, 1000);
	assert_memory_equal(c->out.rec[1].body_magic, "MZ", 2);
	assert_int_equal(c->out.rec[1].body_offset, 0);
	assert_int_equal(c->out.rec[1].response_body_len, 500);
	/* "MZ" at offset 500 is not a file header. */
	assert_memory_equal(c->out.rec[2].body_magic, "MZ", 2);
	assert_int_equal(c->out.rec[2].body_offset, 500);
	assert_string_equal(c->out.rec[2].user_agent, "Microsoft BITS/7.8");
	free(c);
}

static void test_http_multipart_byteranges_magic(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true, "GET /f.cab HTTP/1.1\r\nRange: bytes=0-1,10-11\r\n\r\n");
	const char *body = "\r\n--THIS_STRING_SEPARATES\r\n"
			   "Content-Type: application/octet-stream\r\n"
			   "Content-Range: bytes 0-1/2048\r\n\r\n"
			   "MZ\r\n--THIS_STRING_SEPARATES\r\n"
			   "Content-Range: bytes 10-11/2048\r\n\r\n"
			   "ab\r\n--THIS_STRING_SEPARATES--\r\n";
	char resp[1024];
	int n = snprintf(resp, sizeof(resp),
			 "HTTP/1.1 206 Partial Content\r\n"
			 "Content-Type: multipart/byteranges; boundary=THIS_STRING_SEPARATES\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 strlen(body), body);
	feed_n(c, false, resp, (size_t)n);
	assert_int_equal(c->out.n, 1);
	assert_int_equal(c->out.rec[0].body_magic_len, 2);
	assert_memory_equal(c->out.rec[0].body_magic, "MZ", 2);
	assert_int_equal(c->out.rec[0].body_offset, 0);
	assert_int_equal(c->out.rec[0].response_body_len, strlen(body));
	free(c);
}

static void test_http_gap_in_body_stays_in_sync(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true, "GET /big HTTP/1.1\r\n\r\n");
	feed(c, false, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789");
	http_gap(&c->st, false, 900, KG_SEC(101), &c->sink);
	char tail[90];
	memset(tail, 't', sizeof(tail));
	feed_n(c, false, tail, sizeof(tail));
	assert_int_equal(c->out.n, 1);
	assert_int_equal(c->out.rec[0].response_body_len, 100); /* the lost bytes are not counted */
	assert_true(c->out.rec[0].response_complete);
	assert_int_equal(c->st.stats.gap_skipped, 1);
	feed(c, true, "GET /next HTTP/1.1\r\n\r\n");
	feed(c, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c->out.n, 2);
	assert_string_equal(c->out.rec[1].uri, "/next");
	free(c);
}

static void test_http_gap_in_headers_resyncs(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true, "GET /a HTTP/1.1\r\nHost: h");
	http_gap(&c->st, true, 50, KG_SEC(101), &c->sink);
	/* Lines after the hole are skipped until a request line. */
	feed(c, true, "ost-line-rest\r\nX: y\r\n\r\nGET /b HTTP/1.1\r\nHost: h2\r\n\r\n");
	assert_int_equal(c->st.stats.gap_resyncs, 1);
	assert_int_equal(c->st.stats.violations, 0);
	feed(c, false,
	     "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n"
	     "Content-Length: 0\r\n\r\n");
	assert_int_equal(c->out.n, 2);
	assert_string_equal(c->out.rec[0].uri, "/a");
	assert_string_equal(c->out.rec[1].uri, "/b");
	assert_string_equal(c->out.rec[1].host, "h2");

	/* A hole in a response's headers ends that response. */
	feed(c, true, "GET /c HTTP/1.1\r\n\r\n");
	feed(c, false, "HTTP/1.1 200 OK\r\nContent-Le");
	http_gap(&c->st, false, 1000, KG_SEC(102), &c->sink);
	assert_int_equal(c->out.n, 3);
	assert_false(c->out.rec[2].response_complete);
	finish(c);
	assert_int_equal(c->st.stats.gaps, 2);
	assert_int_equal(c->st.stats.gap_abandoned, 1); /* the response side never resynced */
	free(c);
}

static void test_http_pending_overflow(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	for (int i = 0; i < HTTP_PENDING_MAX + 2; i++) {
		char req[64];
		snprintf(req, sizeof(req), "GET /%d HTTP/1.1\r\n\r\n", i);
		feed(c, true, req);
	}
	assert_int_equal(c->st.stats.pending_overflow, 2);
	assert_int_equal(c->out.n, 2); /* the two oldest, flushed unanswered */
	assert_string_equal(c->out.rec[0].uri, "/0");
	assert_string_equal(c->out.rec[1].uri, "/1");
	feed(c, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(c->out.n, 3);
	assert_string_equal(c->out.rec[2].uri, "/2");
	assert_int_equal(c->out.rec[2].status_code, 200);
	finish(c);
	assert_int_equal(c->out.n, HTTP_PENDING_MAX + 2);
	assert_int_equal(c->out.rec[HTTP_PENDING_MAX + 1].trans_depth, HTTP_PENDING_MAX + 2);
	free(c);
}

static void test_http_orphan_response(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, false, "HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad");
	assert_int_equal(c->out.n, 1);
	assert_int_equal(c->st.stats.orphan_responses, 1);
	assert_false(c->out.rec[0].request_seen);
	assert_string_equal(c->out.rec[0].method, "");
	assert_int_equal(c->out.rec[0].status_code, 400);
	assert_int_equal(c->out.rec[0].response_body_len, 3);
	free(c);
}

static void test_http_until_close_and_http09(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true, "GET /old HTTP/1.0\r\n\r\n");
	feed(c, false, "HTTP/1.0 200 OK\r\n\r\n12345");
	feed(c, false, "67890");
	assert_int_equal(c->out.n, 0);
	finish(c);
	assert_int_equal(c->out.n, 1);
	assert_int_equal(c->out.rec[0].response_body_len, 10);
	assert_true(c->out.rec[0].response_complete);
	assert_string_equal(c->out.rec[0].version, "1.0");
	free(c);

	c = conn_new();
	feed(c, true, "GET /\r\n");
	feed(c, false, "<html>\nbody\n");
	finish(c);
	assert_int_equal(c->out.n, 1);
	assert_string_equal(c->out.rec[0].request_version, "0.9");
	assert_true(c->out.rec[0].response_seen);
	assert_int_equal(c->out.rec[0].response_body_len, 12);
	assert_int_equal(c->out.rec[0].status_code, 0);
	free(c);
}

static void test_http_uri_unescape_auth_proxied(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true,
	     "GET /a%20b%zz%41%u0041%%42/%7 HTTP/1.1\r\n"
	     "Authorization: Basic dXNlcjpzZWNyZXQ=\r\n" /* user:secret */
	     "Via: 1.1 proxy\r\nX-Forwarded-For: 10.1.1.1, 10.2.2.2\r\n"
	     "Proxy-Connection: Keep-Alive\r\n\r\n");
	finish(c);
	assert_int_equal(c->out.n, 1);
	assert_string_equal(c->out.rec[0].uri, "/a b%zzAAB/%7");
	assert_string_equal(c->out.rec[0].username, "user");
	assert_string_equal(c->out.rec[0].proxied,
			    "VIA -> 1.1 proxy\nX-FORWARDED-FOR -> 10.1.1.1, 10.2.2.2\n"
			    "PROXY-CONNECTION -> Keep-Alive");
	free(c);

	c = conn_new();
	feed(c, true, "GET / HTTP/1.1\r\nAuthorization: Basic bm9jb2xvbg==\r\n\r\n"); /* nocolon */
	finish(c);
	assert_string_equal(c->out.rec[0].username, "<problem-decoding> (Basic bm9jb2xvbg==)");
	free(c);
}

static void test_http_bad_content_length(void **state)
{
	(void)state;
	struct conn *c = conn_new();
	feed(c, true, "GET / HTTP/1.1\r\nContent-Length: 12abc\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
	assert_int_equal(c->st.stats.bad_framing, 1);
	assert_int_equal(c->st.npending, 2); /* no body assumed: the next request parses */
	free(c);
}

static void test_http_probe(void **state)
{
	(void)state;
	assert_int_equal(http_probe_request((const uint8_t *)"GET / HTTP/1.1", 14), HTTP_PROBE_YES);
	assert_int_equal(http_probe_request((const uint8_t *)"BITS_POST /u", 12), HTTP_PROBE_YES);
	assert_int_equal(http_probe_request((const uint8_t *)"BITS_P", 6), HTTP_PROBE_MORE);
	assert_int_equal(http_probe_request((const uint8_t *)"GET", 3), HTTP_PROBE_MORE);
	assert_int_equal(http_probe_request((const uint8_t *)"GETX /", 6), HTTP_PROBE_NO);
	assert_int_equal(http_probe_request((const uint8_t *)"SSH-2.0-x", 9), HTTP_PROBE_NO);
	assert_int_equal(http_probe_request((const uint8_t *)"\x16\x03\x01", 3), HTTP_PROBE_NO);
	assert_int_equal(http_probe_request((const uint8_t *)"", 0), HTTP_PROBE_MORE);
}

/* Hostile input: random mixes of HTTP pieces and noise, random splits and
 * gaps, both directions. Run under ASan; the invariants must hold. */
static uint32_t rng_next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_http_random_input(void **state)
{
	(void)state;
	static const char *const pieces[] = {
		"GET / HTTP/1.1\r\n",
		"HTTP/1.1 200 OK\r\n",
		"Content-Length: 5\r\n",
		"Transfer-Encoding: chunked\r\n",
		"\r\n",
		"5\r\nabcde\r\n",
		"0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\n",
		"BITS_POST /u HTTP/1.1\r\n",
		"Content-Range: bytes 0-4/5\r\n",
		"HEAD /h HTTP/1.0\r\n",
		"HTTP/1.1 304 NM\r\n",
		"Content-Length: 99999999999999999999\r\n",
		"ffffffffffffffffff\r\n",
		"Content-Type: multipart/byteranges\r\n",
		"--b\r\nContent-Range: bytes 7-8/9\r\n\r\nMZ",
		"Authorization: Basic ////\r\n",
		"Via: x\r\n",
		" folded\r\n",
		"GET /%u12%zz%",
	};
	uint32_t seed = 0x12345678u;
	uint64_t emitted = 0;
	uint8_t *buf = malloc(8192);
	assert_non_null(buf);
	for (int iter = 0; iter < 3000; iter++) {
		struct conn *c = conn_new();
		/* Start like HTTP so the noise hits deeper states too. */
		feed(c, true, "GET /start HTTP/1.1\r\n");
		int steps = (int)(rng_next(&seed) % 40);
		for (int k = 0; k < steps; k++) {
			bool orig = rng_next(&seed) & 1;
			uint32_t what = rng_next(&seed) % 10;
			size_t n = 0;
			if (what < 6) {
				const char *p = pieces[rng_next(&seed) %
						       (sizeof(pieces) / sizeof(pieces[0]))];
				n = strlen(p);
				memcpy(buf, p, n);
			} else if (what < 8) {
				n = rng_next(&seed) % 3000;
				for (size_t i = 0; i < n; i++)
					buf[i] = (uint8_t)rng_next(&seed);
			} else if (what == 8) {
				n = rng_next(&seed) % 2500 + 1; /* a long line */
				memset(buf, 'A', n);
			} else {
				http_gap(&c->st, orig, rng_next(&seed) % 5000, KG_SEC(1), &c->sink);
				continue;
			}
			size_t cut = n ? rng_next(&seed) % (n + 1) : 0;
			feed_n(c, orig, buf, cut);
			feed_n(c, orig, buf + cut, n - cut);
			assert_true(c->st.npending <= HTTP_PENDING_MAX);
		}
		finish(c);
		assert_int_equal(c->st.npending, 0);
		assert_int_equal((uint64_t)c->out.n, c->st.stats.transactions);
		for (int i = 0; i < c->out.n && i < MAX_RECS; i++) {
			const struct http_record *r = &c->out.rec[i];
			assert_true(strlen(r->uri) < HTTP_URI_MAX);
			assert_true(r->body_magic_len <= 2);
			assert_true(r->trans_depth >= 1);
		}
		emitted += c->st.stats.transactions;
		free(c);
	}
	if (emitted < 3000) /* every iteration starts a request */
		fail_msg("only %llu transactions", (unsigned long long)emitted);
	free(buf);
}

/* ---- replay of real captures ------------------------------------------- */

#define REPLAY_FLOWS 64
#define REPLAY_STASH 64

/* Minimal in-order delivery for the test: per direction the next sequence
 * number, retransmissions trimmed, out-of-order segments stashed. */
struct stash_seg {
	uint32_t seq;
	uint32_t len;
	uint8_t *data;
};

struct replay_dir {
	bool have_seq;
	uint32_t next;
	int nstash;
	struct stash_seg stash[REPLAY_STASH];
};

struct replay_flow {
	bool used;
	struct kg_addr a, b; /* a = originator (sent the first SYN or packet) */
	uint16_t ap, bp;
	struct replay_dir dir[2];
	struct http_state *st;
};

struct replay {
	struct replay_flow flow[REPLAY_FLOWS];
	struct collect out;
	struct http_sink sink;
	int nflows;
	uint64_t gaps;
};

static void replay_deliver(struct replay *rp, struct replay_flow *f, int d, uint32_t seq,
			   const uint8_t *p, uint32_t n, kg_time ts)
{
	struct replay_dir *rd = &f->dir[d];
	int32_t off = (int32_t)(rd->next - seq);
	if (off > 0) { /* already delivered, in part or whole */
		if ((uint32_t)off >= n)
			return;
		p += off;
		n -= (uint32_t)off;
		seq = rd->next;
	}
	if (seq != rd->next) {
		if (rd->nstash < REPLAY_STASH) {
			struct stash_seg *s = &rd->stash[rd->nstash++];
			s->seq = seq;
			s->len = n;
			s->data = malloc(n);
			assert_non_null(s->data);
			memcpy(s->data, p, n);
		}
		return;
	}
	http_feed(f->st, d == 0, p, n, ts, &rp->sink);
	rd->next = seq + n;
	for (bool again = true; again;) {
		again = false;
		for (int i = 0; i < rd->nstash; i++) {
			struct stash_seg s = rd->stash[i];
			if ((int32_t)(s.seq - rd->next) > 0)
				continue;
			rd->stash[i] = rd->stash[--rd->nstash];
			replay_deliver(rp, f, d, s.seq, s.data, s.len, ts);
			free(s.data);
			again = true;
			break;
		}
	}
}

static void replay_packet(struct replay *rp, const struct packet *pkt)
{
	if (pkt->ip_proto != IPPROTO_NUM_TCP || pkt->l4_header_bad)
		return;
	struct replay_flow *f = NULL;
	int d = 0;
	for (int i = 0; i < rp->nflows; i++) {
		struct replay_flow *x = &rp->flow[i];
		if (addr_eq(&x->a, &pkt->src) && x->ap == pkt->sport && addr_eq(&x->b, &pkt->dst) &&
		    x->bp == pkt->dport) {
			f = x;
			d = 0;
		} else if (addr_eq(&x->b, &pkt->src) && x->bp == pkt->sport &&
			   addr_eq(&x->a, &pkt->dst) && x->ap == pkt->dport) {
			f = x;
			d = 1;
		}
		if (f)
			break;
	}
	if (f == NULL) {
		assert_true(rp->nflows < REPLAY_FLOWS);
		f = &rp->flow[rp->nflows++];
		f->used = true;
		/* A SYN-ACK first means the reverse is the originator. */
		bool rev = (pkt->tcp_flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK);
		f->a = rev ? pkt->dst : pkt->src;
		f->b = rev ? pkt->src : pkt->dst;
		f->ap = rev ? pkt->dport : pkt->sport;
		f->bp = rev ? pkt->sport : pkt->dport;
		d = rev ? 1 : 0;
		f->st = malloc(sizeof(*f->st));
		assert_non_null(f->st);
		char uid[KG_UID_LEN];
		snprintf(uid, sizeof(uid), "Creplay%d", rp->nflows);
		http_init(f->st, uid, &f->a, f->ap, &f->b, f->bp);
	}
	struct replay_dir *rd = &f->dir[d];
	uint32_t seq = pkt->seq;
	if (pkt->tcp_flags & TCPF_SYN) {
		rd->have_seq = true;
		rd->next = seq + 1;
		return;
	}
	if (pkt->payload_caplen == 0)
		return;
	if (!rd->have_seq) {
		rd->have_seq = true;
		rd->next = seq;
	}
	replay_deliver(rp, f, d, seq, pkt->payload, pkt->payload_caplen, pkt->ts);
}

static void replay_finish(struct replay *rp)
{
	for (int i = 0; i < rp->nflows; i++) {
		struct replay_flow *f = &rp->flow[i];
		for (int d = 0; d < 2; d++) {
			struct replay_dir *rd = &f->dir[d];
			/* What is left is past a hole that never filled. */
			while (rd->nstash > 0) {
				int lo = 0;
				for (int k = 1; k < rd->nstash; k++)
					if ((int32_t)(rd->stash[k].seq - rd->stash[lo].seq) < 0)
						lo = k;
				struct stash_seg s = rd->stash[lo];
				rd->stash[lo] = rd->stash[--rd->nstash];
				if ((int32_t)(s.seq - rd->next) > 0) {
					http_gap(f->st, d == 0, s.seq - rd->next, 0, &rp->sink);
					rp->gaps++;
					rd->next = s.seq;
				}
				replay_deliver(rp, f, d, s.seq, s.data, s.len, 0);
				free(s.data);
			}
		}
		http_finish(f->st, 0, &rp->sink);
		free(f->st);
	}
}

/* Runs one capture; returns false (skipped) when it is absent. */
static bool replay_file(const char *path, struct replay *rp)
{
	int code;
	char err[PCAP_SOURCE_ERR_MAX];
	struct pcap_source *src = pcap_source_open(path, &code, err, sizeof(err));
	if (src == NULL)
		return false;
	struct decoder_config dc = {.ignore_checksums = true};
	struct decoder *dec = decoder_create(&dc);
	assert_non_null(dec);
	memset(rp, 0, sizeof(*rp));
	rp->sink = (struct http_sink){collect_fn, &rp->out};
	struct pcap_source_packet pp;
	while (pcap_source_next(src, &pp) == PCAP_SOURCE_PACKET) {
		struct packet pkt;
		if (decoder_frame(dec, pp.linktype, pp.ts, pp.data, pp.caplen, &pkt) == DECODE_OK)
			replay_packet(rp, &pkt);
	}
	replay_finish(rp);
	decoder_destroy(dec);
	pcap_source_close(src);
	return true;
}

#define SAMPLES "../shared/samples/zeek/"

struct capture_expect {
	const char *file;
	int transactions;
	int bits_ua; /* records with a "Microsoft BITS/" user agent */
	int answered;
	int status_206;
};

/* Counts from reading each capture with tcpdump -A (one request per
 * connection except m57-long-49583, three on one keep-alive connection;
 * get-to-ssh-server's server speaks SSH, not HTTP). */
static const struct capture_expect captures[] = {
	{"http_206_example_a.pcap", 2, 0, 2, 2},
	{"http_byteranges.pcap", 1, 1, 1, 1},
	{"http_concurrent-range-requests.pcap", 3, 0, 3, 3},
	{"http_get-to-ssh-server.pcap", 1, 0, 0, 0},
	{"http_m57-long-49583-80.pcap", 3, 3, 3, 3},
	{"http_m57-long-49600-80.pcap", 1, 1, 1, 1},
	{"http_vnd.ms-cab-compressed-multi-conn.pcap", 5, 5, 5, 5},
};

static void test_http_replay_zeek_samples(void **state)
{
	(void)state;
	DIR *dir = opendir(SAMPLES);
	if (dir == NULL) {
		print_message("SKIP: %s not present (no ../shared)\n", SAMPLES);
		skip();
	}
	closedir(dir);
	struct replay *rp = malloc(sizeof(*rp));
	assert_non_null(rp);
	int files = 0;
	for (size_t i = 0; i < sizeof(captures) / sizeof(captures[0]); i++) {
		char path[256];
		snprintf(path, sizeof(path), SAMPLES "%s", captures[i].file);
		if (!replay_file(path, rp)) {
			print_message("SKIP: %s absent\n", path);
			continue;
		}
		files++;
		int bits = 0, answered = 0, s206 = 0;
		for (int k = 0; k < rp->out.n && k < MAX_RECS; k++) {
			const struct http_record *r = &rp->out.rec[k];
			bits += strncmp(r->user_agent, "Microsoft BITS/", 15) == 0;
			answered += r->response_seen;
			s206 += r->status_code == 206;
			assert_string_equal(r->method, "GET");
			assert_true(r->request_seen);
		}
		if (rp->out.n != captures[i].transactions || bits != captures[i].bits_ua ||
		    answered != captures[i].answered || s206 != captures[i].status_206)
			fail_msg(
				"%s: %d transactions (%d BITS, %d answered, %d x 206), wanted %d (%d, %d, %d)",
				captures[i].file, rp->out.n, bits, answered, s206,
				captures[i].transactions, captures[i].bits_ua, captures[i].answered,
				captures[i].status_206);
		if (captures[i].bits_ua > 0) {
			/* Windows Update over BITS: the host and the multi-range GETs. */
			const struct http_record *r = &rp->out.rec[0];
			assert_string_equal(r->user_agent, "Microsoft BITS/7.0");
			assert_non_null(strstr(r->host, "windowsupdate.com"));
			assert_non_null(strstr(r->uri, "/msdownload/update/software/"));
			assert_true(strncmp(r->range, "bytes=", 6) == 0);
		}
	}
	free(rp);
	if (files == 0) {
		print_message("SKIP: no http_*.pcap under %s\n", SAMPLES);
		skip();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_simple_transaction),
		cmocka_unit_test(test_http_split_every_byte),
		cmocka_unit_test(test_http_pipelined),
		cmocka_unit_test(test_http_chunked_both_ways),
		cmocka_unit_test(test_http_bad_chunk_size),
		cmocka_unit_test(test_http_missing_response),
		cmocka_unit_test(test_http_garbage),
		cmocka_unit_test(test_http_overlong_lines),
		cmocka_unit_test(test_http_head_304_204_no_body),
		cmocka_unit_test(test_http_informational),
		cmocka_unit_test(test_http_upgrade_and_connect_tunnel),
		cmocka_unit_test(test_http_bits_upload_sequence),
		cmocka_unit_test(test_http_bits_download_ranges),
		cmocka_unit_test(test_http_multipart_byteranges_magic),
		cmocka_unit_test(test_http_gap_in_body_stays_in_sync),
		cmocka_unit_test(test_http_gap_in_headers_resyncs),
		cmocka_unit_test(test_http_pending_overflow),
		cmocka_unit_test(test_http_orphan_response),
		cmocka_unit_test(test_http_until_close_and_http09),
		cmocka_unit_test(test_http_uri_unescape_auth_proxied),
		cmocka_unit_test(test_http_bad_content_length),
		cmocka_unit_test(test_http_probe),
		cmocka_unit_test(test_http_random_input),
		cmocka_unit_test(test_http_replay_zeek_samples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
