/* Everything a run writes, behind one engine sink: conn.log, http.log,
 * alerts.log, and alerts shipped to syslog. All logs are published together
 * (renamed into place) at the end of a clean run, or kept as *.incomplete. */
#ifndef KG_OUTPUTS_H
#define KG_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>

#include "engine.h"
#include "io/syslog_client.h"
#include "out/connlog.h"
#include "out/syslog_format.h"

struct outputs_config {
	const char *dir;
	enum connlog_format format;
	bool syslog;			/* also ship alerts to syslog */
	struct syslog_client_config syslog_client;
	enum syslog_format syslog_format;
	int syslog_facility;
};

struct outputs;

/* Opens every log; NULL with err set (nothing left behind) on failure. */
struct outputs *outputs_open(const struct outputs_config *cfg, char *err, size_t errlen);
/* The sink to give engine_create(). */
void outputs_engine_sink(struct outputs *o, struct engine_sink *sink);
/* Lets the syslog client send what it can (never blocks). */
void outputs_poll(struct outputs *o);
bool outputs_failed(const struct outputs *o);
/* Clean end: drains syslog (up to timeout_ms), publishes the logs. False and err on failure. */
bool outputs_commit(struct outputs *o, int timeout_ms, char *err, size_t errlen);
/* Failed run: keeps what was written as *.incomplete. */
void outputs_abandon(struct outputs *o, char *err, size_t errlen);
/* One line of counters for the end-of-run summary. */
void outputs_summary(const struct outputs *o, char *buf, size_t len);

#endif
