/* Number rendering exactly as Zeek's log writers do it. Pure; bounded. */
#ifndef KG_NUMFMT_H
#define KG_NUMFMT_H

#include <stddef.h>

#include "util/kgtime.h"

/* Longest output of the functions below, with the NUL. */
#define NUMFMT_DOUBLE_MAX 40

/* The double Zeek holds for a packet time: it reads pcaps at microsecond
 * precision (libpcap truncates finer stamps) and computes sec + usec / 1e6.
 * Rebuilding that exact double keeps both the 6-decimal TSV and the
 * shortest-round-trip JSON identical to Zeek's, and makes a ts/duration
 * made from nanosecond stamps print as Zeek would print it. */
double numfmt_zeek_time(kg_time t);

/* TSV time/interval: fixed point, exactly 6 decimals (std::to_chars fixed 6).
 * Returns the length, or 0 if cap is too small. */
size_t numfmt_fixed6(double v, char *buf, size_t cap);

/* JSON double as rapidjson's Writer::Double prints it: the shortest digits
 * that read back to the same double, then rapidjson's layout ("5.0",
 * "0.001234", "1e-7", "1.5e30"). NaN and infinities give "null" as Zeek's
 * NullDoubleWriter does. Returns the length, or 0 if cap is too small. */
size_t numfmt_shortest(double v, char *buf, size_t cap);

#endif
