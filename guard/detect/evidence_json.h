/* A bounded JSON text writer for alert evidence: appends into a fixed buffer,
 * never past it, and remembers that it ran out so the caller can retry with
 * less (e.g. a shorter sequence). Separators are the caller's job ("," ...). */
#ifndef KG_EVIDENCE_JSON_H
#define KG_EVIDENCE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/addr.h"
#include "util/kgtime.h"

struct ejson {
	char *buf;
	size_t cap, len;
	bool overflow;
};

void ejson_init(struct ejson *j, char *buf, size_t cap);
void ejson_raw(struct ejson *j, const char *text);
void ejson_printf(struct ejson *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A quoted, escaped JSON string ("null" for NULL). */
void ejson_str(struct ejson *j, const char *s);
/* "key": (with a leading comma unless first) */
void ejson_key(struct ejson *j, bool first, const char *key);
void ejson_addr(struct ejson *j, const struct kg_addr *a);
/* Seconds with microseconds, as Zeek prints ts: 1796390752.101234 */
void ejson_time(struct ejson *j, kg_time t);
/* Milliseconds with 3 decimals. */
void ejson_ms(struct ejson *j, kg_time d);
void ejson_bool(struct ejson *j, bool b);

#endif
