/* An alert as one JSON object (specs/detection.md §D.2), the line of the alert
 * log and the MSG of a syslog message. Pure: buffer in, length out.
 *
 * The output is ASCII only: every string is escaped (control bytes and
 * non-ASCII code points as \uXXXX, a byte that is not UTF-8 as the text \xNN,
 * as Zeek does), so it is safe in any syslog transport. The evidence, a JSON
 * object text the detector wrote, is checked and copied compacted under the
 * same escaping; evidence that is not one JSON object becomes
 * {"invalid":true}. Empty strings (uid, service, history) and a NULL
 * conn_state are omitted, as Zeek's JSON logs omit unset fields. */
#ifndef KG_ALERT_JSON_H
#define KG_ALERT_JSON_H

#include <stddef.h>

#include "detect/alert.h"

/* Enough for any alert in full: a byte escapes to at most 6 bytes, and the
 * struct's strings (evidence included) total under 2.2 KB. */
#define ALERT_JSON_MAX 16384
/* The syslog bound: RFC 5426's SHOULD size for a whole message is 2048. */
#define ALERT_JSON_SYSLOG_MAX 2048
/* Smallest cap for which alert_json_format() always succeeds. */
#define ALERT_JSON_MIN 1024

/* Writes the object (no newline) and a NUL; returns its length, or 0 if cap
 * is too small. When the whole alert does not fit in cap, the evidence is
 * replaced by {"truncated":true,"bytes":N} and then msg is shortened, so any
 * cap >= ALERT_JSON_MIN gives a complete, valid object. */
size_t alert_json_format(const struct alert *a, char *buf, size_t cap);

#endif
