/* send_alert: ships test alerts to syslog exactly as knockguard does (config
 * [syslog] section -> syslog_format -> syslog_client), for the end-to-end
 * test against a real collector.
 *
 * usage: send_alert -c CONF [-n COUNT] [-t TAG]
 * Each alert's name is "E2E::<TAG>_<i>" plus characters that structured data
 * must escape; technique and severity cycle. Every message sent is printed on
 * stdout, one a line, so the caller can compare it with what arrived. Exit 0
 * when all were handed to the socket within 5 s, 1 otherwise, 2 on usage or
 * configuration errors. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "io/syslog_client.h"
#include "out/syslog_format.h"

static struct kg_config cfg;

static void make_alert(struct alert *a, const char *tag, int i)
{
	static const enum alert_technique techniques[] = {TECH_PORT_KNOCK, TECH_BITS,
							  TECH_REMOTE_SERVICE};
	memset(a, 0, sizeof(*a));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	a->ts = (kg_time)now.tv_sec * KG_NSEC_PER_SEC + now.tv_nsec;
	snprintf(a->name, sizeof(a->name), "E2E::%s_%d \"q\" [b] \\", tag, i);
	a->technique = techniques[i % 3];
	a->severity = (enum alert_severity)(4 - i % 5);
	snprintf(a->uid, sizeof(a->uid), "CE2E%08d", i);
	addr_parse("192.0.2.10", &a->orig_h);
	addr_parse("2001:db8::20", &a->resp_h);
	a->orig_p = (uint16_t)(40000 + i);
	a->resp_p = 22;
	a->proto = TRANSPORT_TCP;
	snprintf(a->service, sizeof(a->service), "ssh");
	a->conn_state = "SF";
	snprintf(a->history, sizeof(a->history), "ShADadFf");
	a->orig_bytes = 1000u + (unsigned)i;
	a->resp_bytes = 2000;
	a->direction = DIR_INBOUND;
	snprintf(a->policy_rule, sizeof(a->policy_rule), "default");
	snprintf(a->msg, sizeof(a->msg), "End-to-end test alert %d (%s), caf\xc3\xa9 \"quoted\".",
		 i, tag);
	snprintf(a->evidence, sizeof(a->evidence),
		 "{\"test\":true,\"i\":%d,\"tag\":\"%s\",\"list\":[1,2,3]}", i, tag);
}

int main(int argc, char **argv)
{
	const char *conf = NULL, *tag = "e2e";
	int count = 3, opt;
	char err[CONFIG_ERR_MAX];
	while ((opt = getopt(argc, argv, "c:n:t:")) != -1) {
		switch (opt) {
		case 'c':
			conf = optarg;
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 't':
			tag = optarg;
			break;
		default:
			conf = NULL;
			optind = argc + 1;
		}
	}
	if (conf == NULL || count < 1 || count > 1000 || optind != argc) {
		fprintf(stderr, "usage: send_alert -c CONF [-n COUNT] [-t TAG]\n");
		return 2;
	}
	if (!config_load(conf, &cfg, err, sizeof(err))) {
		fprintf(stderr, "send_alert: %s\n", err);
		return 2;
	}
	if (!cfg.syslog.enabled) {
		fprintf(stderr, "send_alert: %s: [syslog] enabled is no\n", conf);
		return 2;
	}
	struct syslog_origin origin;
	syslog_origin_init(&origin, cfg.syslog.format, cfg.syslog.facility,
			   cfg.syslog.client.transport == SYSLOG_UNIX);
	struct syslog_client *c = syslog_client_create(&cfg.syslog.client, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "send_alert: %s\n", err);
		return 2;
	}
	for (int i = 0; i < count; i++) {
		struct alert a;
		char msg[SYSLOG_MSG_MAX + 1];
		make_alert(&a, tag, i);
		size_t n = syslog_format_alert(&origin, &a, a.ts, msg, sizeof(msg));
		if (n == 0 || !syslog_client_enqueue(c, msg, n)) {
			fprintf(stderr, "send_alert: cannot format or queue alert %d\n", i);
			return 1;
		}
		printf("%s\n", msg);
	}
	bool ok = syslog_client_drain(c, 5000);
	const struct syslog_client_stats *s = syslog_client_stats(c);
	fprintf(stderr,
		"send_alert: %s sent=%" PRIu64 " queued=%" PRIu64 " dropped=%" PRIu64
		" reconnects=%" PRIu64 " errors=%" PRIu64 "%s%s\n",
		syslog_transport_name(cfg.syslog.client.transport), s->sent, s->queued, s->dropped,
		s->reconnects, s->errors, s->errors ? " last error: " : "",
		syslog_client_last_error(c));
	syslog_client_destroy(c);
	return ok ? 0 : 1;
}
