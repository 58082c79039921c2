#include "out/outputs.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "out/alertlog.h"
#include "out/httplog.h"

struct outputs {
	struct connlog *conn;
	struct httplog *http;
	struct alertlog *alerts;
	struct syslog_client *syslog;
	struct syslog_origin origin;
	uint64_t syslog_format_errors;
	char msg[SYSLOG_MSG_MAX];
};

static void close_all(struct outputs *o, bool commit, char *err, size_t errlen, bool *ok)
{
	char e[512];
	bool good = true;
	if (o->conn && !(commit ? connlog_close(o->conn, e, sizeof(e))
				: connlog_abandon(o->conn, e, sizeof(e)))) {
		good = false;
		snprintf(err, errlen, "%s", e);
	}
	if (o->http && !(commit ? httplog_close(o->http, e, sizeof(e))
				: httplog_abandon(o->http, e, sizeof(e)))) {
		if (good)
			snprintf(err, errlen, "%s", e);
		good = false;
	}
	if (o->alerts && !(commit ? alertlog_close(o->alerts, e, sizeof(e))
				  : alertlog_abandon(o->alerts, e, sizeof(e)))) {
		if (good)
			snprintf(err, errlen, "%s", e);
		good = false;
	}
	syslog_client_destroy(o->syslog);
	free(o);
	if (ok)
		*ok = good;
}

struct outputs *outputs_open(const struct outputs_config *cfg, char *err, size_t errlen)
{
	struct outputs *o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (cfg->syslog) {
		o->syslog = syslog_client_create(&cfg->syslog_client, err, errlen);
		if (!o->syslog) {
			free(o);
			return NULL;
		}
		syslog_origin_init(&o->origin, cfg->syslog_format, cfg->syslog_facility,
				   cfg->syslog_client.transport == SYSLOG_UNIX);
	}
	o->conn = connlog_open(cfg->dir, cfg->format, err, errlen);
	if (o->conn)
		o->http = httplog_open(cfg->dir, cfg->format, err, errlen);
	if (o->http)
		o->alerts = alertlog_open(cfg->dir, err, errlen);
	if (!o->alerts) {
		char ignored[64];
		close_all(o, false, ignored, sizeof(ignored), NULL);
		return NULL;
	}
	return o;
}

static void on_conn(void *ctx, const struct conn_record *r)
{
	struct outputs *o = ctx;
	connlog_write(o->conn, r);
}

static void on_http(void *ctx, const struct http_record *r)
{
	struct outputs *o = ctx;
	httplog_write(o->http, r);
}

static void on_alert(void *ctx, const struct alert *a)
{
	struct outputs *o = ctx;
	alertlog_write(o->alerts, a);
	if (!o->syslog)
		return;
	/* The wall clock stamps the message; the alert keeps packet time. */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	kg_time stamp = (kg_time)now.tv_sec * KG_NSEC_PER_SEC + now.tv_nsec;
	size_t n = syslog_format_alert(&o->origin, a, stamp, o->msg, sizeof(o->msg));
	if (n == 0) {
		o->syslog_format_errors++;
		return;
	}
	syslog_client_enqueue(o->syslog, o->msg, n);
}

void outputs_engine_sink(struct outputs *o, struct engine_sink *sink)
{
	memset(sink, 0, sizeof(*sink));
	sink->ctx = o;
	sink->conn_done = on_conn;
	sink->http_done = on_http;
	sink->alert = on_alert;
}

void outputs_poll(struct outputs *o)
{
	if (o->syslog && syslog_client_pending(o->syslog))
		syslog_client_flush(o->syslog, syslog_client_now());
}

bool outputs_failed(const struct outputs *o)
{
	return connlog_failed(o->conn) || httplog_failed(o->http) || alertlog_failed(o->alerts);
}

bool outputs_commit(struct outputs *o, int timeout_ms, char *err, size_t errlen)
{
	if (o->syslog && !syslog_client_drain(o->syslog, timeout_ms))
		fprintf(stderr, "knockguard: syslog: %zu alerts not delivered: %s\n",
			syslog_client_pending(o->syslog), syslog_client_last_error(o->syslog));
	bool ok;
	close_all(o, true, err, errlen, &ok);
	return ok;
}

void outputs_abandon(struct outputs *o, char *err, size_t errlen)
{
	close_all(o, false, err, errlen, NULL);
}

void outputs_summary(const struct outputs *o, char *buf, size_t len)
{
	int n = snprintf(buf, len, "http records %" PRIu64 ", alerts %" PRIu64,
			 httplog_records(o->http), alertlog_records(o->alerts));
	if (o->syslog && n > 0 && (size_t)n < len) {
		const struct syslog_client_stats *s = syslog_client_stats(o->syslog);
		snprintf(buf + n, len - (size_t)n,
			 ", syslog sent %" PRIu64 " dropped %" PRIu64 " errors %" PRIu64, s->sent,
			 s->dropped, s->errors + o->syslog_format_errors);
	}
}
