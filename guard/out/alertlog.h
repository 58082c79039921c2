/* The alert log writer: DIR/alerts.log, one JSON object a line (alert_json).
 *
 * Like conn.log, DIR/alerts.log appears only when alertlog_close() succeeds;
 * until then the lines go to a temporary file beside it, and an abandoned run
 * keeps them as DIR/alerts.log.incomplete. A run without alerts still
 * publishes an empty alerts.log, so "no alerts" is distinguishable from "no
 * alert log". */
#ifndef KG_ALERTLOG_H
#define KG_ALERTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/alert.h"

#define ALERTLOG_NAME "alerts.log"
#define ALERTLOG_INCOMPLETE_NAME "alerts.log.incomplete"

struct alertlog;

/* NULL on failure, with the path and the errno text in err. */
struct alertlog *alertlog_open(const char *dir, char *err, size_t errlen);
/* A write error is remembered (alertlog_failed) and reported by close. */
void alertlog_write(struct alertlog *l, const struct alert *a);
bool alertlog_failed(const struct alertlog *l);
uint64_t alertlog_records(const struct alertlog *l);
/* Publishes DIR/alerts.log. Frees l. */
bool alertlog_close(struct alertlog *l, char *err, size_t errlen);
/* Keeps what was written as DIR/alerts.log.incomplete. Frees l. */
bool alertlog_abandon(struct alertlog *l, char *err, size_t errlen);

#endif
