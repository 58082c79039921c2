/* Connection uids in Zeek's format: "C" + base62(32-bit) + base62(64-bit),
 * least significant digit first. Deterministic for a given seed. */
#ifndef KG_UID_H
#define KG_UID_H

#include <stdint.h>

#include "flow/conn_record.h" /* KG_UID_LEN */

struct uid_gen {
	uint64_t state;
};

void uid_gen_init(struct uid_gen *g, uint64_t seed);
/* Writes a NUL-terminated uid (at most 1 + 6 + 11 characters). */
void uid_next(struct uid_gen *g, char out[KG_UID_LEN]);

#endif
