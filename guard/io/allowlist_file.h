/* Reads a BITS allowlist file (conf/bits-allowlist.conf) into a config: the
 * file adapter around bits_allowlist_parse(). */
#ifndef KG_ALLOWLIST_FILE_H
#define KG_ALLOWLIST_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "detect/bits.h"

/* Larger files are refused: a list this long is a mistake. */
#define ALLOWLIST_FILE_MAX (1024 * 1024)

/* Replaces c->allowlist with the file's entries. On failure c is unchanged
 * and err says "PATH: why" (errno text, or "line N: ..."). */
bool bits_allowlist_load_file(struct bits_config *c, const char *path, char *err, size_t errlen);

#endif
