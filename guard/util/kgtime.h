/* Time in the engine: signed nanoseconds since the epoch, taken from packets. */
#ifndef KG_TIME_H
#define KG_TIME_H

#include <stdint.h>

typedef int64_t kg_time;

#define KG_NSEC_PER_SEC 1000000000LL
#define KG_SEC(s) ((kg_time)(s) * KG_NSEC_PER_SEC)
#define KG_MSEC(ms) ((kg_time)(ms) * 1000000LL)

#endif
