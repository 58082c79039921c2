/* http.log lines in the layout of Zeek's HTTP::Info (TSV, or JSON with
 * LogAscii::use_json=T). Pure: buffer in, length out, no I/O.
 *
 * Filled: ts uid id.* trans_depth method host uri referrer version
 * user_agent origin request_body_len response_body_len status_code
 * status_msg info_code info_msg username proxied; tags is always the empty
 * set. password (Zeek keeps none by default) and the file-analysis columns
 * (orig_/resp_ fuids, filenames, mime_types) are left unset. */
#ifndef KG_HTTPLOG_FORMAT_H
#define KG_HTTPLOG_FORMAT_H

#include <stddef.h>

#include "analyze/http.h"

/* Enough for any record: the strings total under 2.2 KB and escape to at
 * most 4x (TSV \xNN) or 6x (JSON \u00XX). */
#define HTTPLOG_LINE_MAX 16384
#define HTTPLOG_HEADER_MAX 1536

/* Each returns the bytes written (lines ending in '\n', then a NUL not
 * counted), or 0 if cap is too small; nothing is written past cap. */
size_t httplog_tsv_header(char *buf, size_t cap, const char *open_stamp);
size_t httplog_tsv_footer(char *buf, size_t cap, const char *close_stamp);
size_t httplog_tsv_line(const struct http_record *r, char *buf, size_t cap);
/* One JSON object; unset fields are omitted, as Zeek does. */
size_t httplog_json_line(const struct http_record *r, char *buf, size_t cap);

#endif
