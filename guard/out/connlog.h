/* The conn.log file writer (an adapter: file I/O and wall-clock time live
 * here, the line layout in connlog_format.c).
 *
 * DIR/conn.log appears only when connlog_close() succeeds. Until then the
 * lines go to a temporary file beside it; an abandoned run keeps its records
 * as DIR/conn.log.incomplete, without the TSV #close line, which is how Zeek
 * marks a log that was not terminated. */
#ifndef KG_CONNLOG_H
#define KG_CONNLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow/conn_record.h"

#define CONNLOG_NAME "conn.log"
#define CONNLOG_INCOMPLETE_NAME "conn.log.incomplete"

enum connlog_format { CONNLOG_TSV, CONNLOG_JSON };

/* "tsv" or "json". */
bool connlog_format_parse(const char *s, enum connlog_format *out);

struct connlog;

/* NULL on failure, with the path and the errno text in err. */
struct connlog *connlog_open(const char *dir, enum connlog_format fmt, char *err, size_t errlen);
/* A write error is remembered (connlog_failed) and reported by close. */
void connlog_write(struct connlog *l, const struct conn_record *r);
bool connlog_failed(const struct connlog *l);
uint64_t connlog_records(const struct connlog *l);
/* Writes #close (TSV) and publishes DIR/conn.log. Frees l. */
bool connlog_close(struct connlog *l, char *err, size_t errlen);
/* Keeps what was written as DIR/conn.log.incomplete, unterminated. Frees l. */
bool connlog_abandon(struct connlog *l, char *err, size_t errlen);

#endif
