/* jsoncheck: is this text exactly one well-formed JSON value (RFC 8259)?
 * For unit tests of evidence and alert writers. */
#ifndef KG_TEST_JSONCHECK_H
#define KG_TEST_JSONCHECK_H

#include <stdbool.h>

bool json_valid(const char *text);

#endif
