/* Strict unsigned decimal numbers, for command-line and configuration
 * values: digits only, no sign, no blanks, no overflow. */
#ifndef KG_DECIMAL_H
#define KG_DECIMAL_H

#include <stdbool.h>
#include <stdint.h>

/* True with the value in *out when s is a non-empty run of digits whose
 * value is at most max; *out is untouched otherwise. */
bool decimal_parse_u64(const char *s, uint64_t max, uint64_t *out);

#endif
