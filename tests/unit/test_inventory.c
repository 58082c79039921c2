/* inventory: aggregation by (client, server, port, service), the authorized
 * column, bounded eviction, and the report text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "detect/inventory.h"

static struct inventory_key key(const char *client, const char *server, uint16_t port,
				enum transport proto, enum service_id svc)
{
	struct inventory_key k;
	memset(&k, 0, sizeof(k));
	assert_true(addr_parse(client, &k.client));
	assert_true(addr_parse(server, &k.server));
	k.server_port = port;
	k.proto = proto;
	k.service = svc;
	return k;
}

static void test_inventory_aggregates(void **state)
{
	(void)state;
	struct inventory *inv = inventory_create(16, 7);
	assert_non_null(inv);
	struct inventory_key ssh = key("10.0.0.5", "198.51.100.7", 22, TRANSPORT_TCP, SVC_SSH);
	inventory_add(inv, &ssh, 100, 1000, false, KG_SEC(10));
	inventory_add(inv, &ssh, 50, 500, false, KG_SEC(5));
	inventory_add(inv, &ssh, 1, 2, true, KG_SEC(20));
	/* Same pair, other port or service: separate rows. */
	struct inventory_key ssh2 = key("10.0.0.5", "198.51.100.7", 2222, TRANSPORT_TCP, SVC_SSH);
	inventory_add(inv, &ssh2, 10, 10, false, KG_SEC(30));
	struct inventory_key vpn =
		key("10.0.0.5", "198.51.100.7", 1194, TRANSPORT_UDP, SVC_OPENVPN);
	inventory_add(inv, &vpn, 3, 4, true, KG_SEC(40));
	assert_int_equal(inventory_count(inv), 3);
	const struct inventory_entry *e = NULL;
	for (size_t s = 0; s < inventory_capacity(inv); s++) {
		const struct inventory_entry *x = inventory_at(inv, s);
		if (x && x->key.server_port == 22)
			e = x;
	}
	assert_non_null(e);
	assert_int_equal(e->sessions, 3);
	assert_int_equal(e->orig_bytes, 151);
	assert_int_equal(e->resp_bytes, 1502);
	assert_int_equal(e->authorized_sessions, 1);
	assert_string_equal(inventory_authorized_name(e), "partly");
	assert_int_equal(e->first_ts, KG_SEC(5));
	assert_int_equal(e->last_ts, KG_SEC(20));
	inventory_destroy(inv);
}

static void test_inventory_report_text(void **state)
{
	(void)state;
	struct inventory *inv = inventory_create(16, 7);
	struct inventory_key a = key("10.0.0.5", "198.51.100.7", 22, TRANSPORT_TCP, SVC_SSH);
	struct inventory_key b = key("10.0.0.10", "203.0.113.9", 3389, TRANSPORT_TCP, SVC_RDP);
	struct inventory_key c = key("10.0.0.5", "198.51.100.7", 1194, TRANSPORT_UDP, SVC_OPENVPN);
	struct inventory_key d6 =
		key("fd00::1", "2001:db8::22", 443, TRANSPORT_TCP, SVC_TEAMVIEWER);
	inventory_add(inv, &b, 10, 20, false, KG_SEC(1));
	inventory_add(inv, &a, 1000, 2000, true, KG_SEC(2));
	inventory_add(inv, &a, 1, 1, true, KG_SEC(3));
	inventory_add(inv, &c, 5, 5, false, KG_SEC(4));
	inventory_add(inv, &d6, 123456789, 1, false, KG_SEC(5));
	char buf[2048];
	size_t need = inventory_report_buf(inv, buf, sizeof(buf));
	assert_int_equal(need, strlen(buf));
	/* Sorted by client (as 16-byte addresses: v4-mapped before fd00::), server, port. */
	static const char expect[] =
		"client     server        port      service     sessions      bytes  authorized\n"
		"10.0.0.5   198.51.100.7  22/tcp    ssh                2       3002  yes\n"
		"10.0.0.5   198.51.100.7  1194/udp  openvpn            1         10  no\n"
		"10.0.0.10  203.0.113.9   3389/tcp  rdp                1         30  no\n"
		"fd00::1    2001:db8::22  443/tcp   teamviewer         1  123456790  no\n";
	assert_string_equal(buf, expect);
	/* A short buffer is cut, NUL-terminated, and the needed length still reported. */
	char small[40];
	assert_int_equal(inventory_report_buf(inv, small, sizeof(small)), need);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, expect, sizeof(small) - 1);
	inventory_destroy(inv);
}

static void test_inventory_bounded(void **state)
{
	(void)state;
	struct inventory *inv = inventory_create(4, 7);
	for (int i = 0; i < 10; i++) {
		char server[32];
		snprintf(server, sizeof(server), "198.51.100.%d", i + 1);
		struct inventory_key k = key("10.0.0.5", server, 22, TRANSPORT_TCP, SVC_SSH);
		inventory_add(inv, &k, 1, 1, false, KG_SEC(i));
	}
	assert_int_equal(inventory_count(inv), 4);
	assert_int_equal(inventory_evicted(inv), 6);
	/* The most recent ones are kept, and the report says what was dropped. */
	char buf[1024];
	inventory_report_buf(inv, buf, sizeof(buf));
	assert_non_null(strstr(buf, "198.51.100.10 "));
	assert_null(strstr(buf, "198.51.100.1 "));
	assert_non_null(strstr(buf, "# 6 entries dropped: the inventory was full (4)\n"));
	inventory_destroy(inv);
	/* Empty: just the header. */
	inv = inventory_create(4, 7);
	inventory_report_buf(inv, buf, sizeof(buf));
	assert_string_equal(buf, "client  server  port  service  sessions  bytes  authorized\n");
	inventory_destroy(inv);
	assert_null(inventory_create(0, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inventory_aggregates),
		cmocka_unit_test(test_inventory_report_text),
		cmocka_unit_test(test_inventory_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
