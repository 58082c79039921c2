/* The http.log file writer, an adapter like connlog: file I/O and
 * wall-clock time live here, the line layout in httplog_format.c.
 *
 * DIR/http.log appears only when httplog_close() succeeds; an abandoned run
 * keeps its records as DIR/http.log.incomplete, without the #close line. */
#ifndef KG_HTTPLOG_H
#define KG_HTTPLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/http.h"
#include "out/connlog.h" /* enum connlog_format: the same tsv/json choice */

#define HTTPLOG_NAME "http.log"
#define HTTPLOG_INCOMPLETE_NAME "http.log.incomplete"

struct httplog;

/* NULL on failure, with the path and the errno text in err. */
struct httplog *httplog_open(const char *dir, enum connlog_format fmt, char *err, size_t errlen);
/* A write error is remembered (httplog_failed) and reported by close. */
void httplog_write(struct httplog *l, const struct http_record *r);
/* An http_sink callback: ctx is the struct httplog. */
void httplog_sink(void *ctx, const struct http_record *r);
bool httplog_failed(const struct httplog *l);
uint64_t httplog_records(const struct httplog *l);
/* Writes #close (TSV) and publishes DIR/http.log. Frees l. */
bool httplog_close(struct httplog *l, char *err, size_t errlen);
/* Keeps what was written as DIR/http.log.incomplete. Frees l. */
bool httplog_abandon(struct httplog *l, char *err, size_t errlen);

#endif
