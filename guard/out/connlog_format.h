/* conn.log lines, byte for byte as Zeek's ASCII writer prints them (TSV, or
 * JSON with LogAscii::use_json=T). Pure: buffer in, length out, no I/O.
 * See ../shared/specs/connlog.md §1-2.
 *
 * Times: ts and duration are rendered from the doubles Zeek would hold
 * (numfmt_zeek_time(): microsecond-truncated packet times), and duration is
 * end - start of those doubles, so ns-stamped traces print as under Zeek. */
#ifndef KG_CONNLOG_FORMAT_H
#define KG_CONNLOG_FORMAT_H

#include <stddef.h>

#include "flow/conn_record.h"

/* Enough for any record: the escaped strings are at most 4x their size. */
#define CONNLOG_LINE_MAX 2048
/* Enough for the TSV header. */
#define CONNLOG_HEADER_MAX 1024

/* Each returns the number of bytes written (a complete line or lines, each
 * ending in '\n', then a NUL not counted), or 0 if cap is too small; nothing
 * is ever written past cap. */

/* The 8 header lines; open_stamp is "%Y-%m-%d-%H-%M-%S" wall-clock time. */
size_t connlog_tsv_header(char *buf, size_t cap, const char *open_stamp);
size_t connlog_tsv_footer(char *buf, size_t cap, const char *close_stamp);
size_t connlog_tsv_line(const struct conn_record *r, char *buf, size_t cap);
/* One JSON object; unset fields are omitted. No header or footer. */
size_t connlog_json_line(const struct conn_record *r, char *buf, size_t cap);

#endif
