/* Zeek's connection history string: once-only letters guarded by a bitmask,
 * repeatable letters, and scaled letters (1st, 10th, 100th... event). */
#ifndef KG_HISTORY_H
#define KG_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "flow/conn.h"

/* Bits of conn.hist_seen for the originator; the responder's are << 16. */
#define HIST_SYN_PKT 0x1
#define HIST_FIN_PKT 0x2
#define HIST_RST_PKT 0x4
#define HIST_FIN_RST_PKT 0x8
#define HIST_DATA_PKT 0x10
#define HIST_ACK_PKT 0x20
#define HIST_MULTI_FLAG_PKT 0x40
/* UDP uses its own two bits. */
#define HIST_UDP_ORIG_DATA 0x1
#define HIST_UDP_RESP_DATA 0x2

void history_add(struct conn *c, char code);
/* Adds `code` the first time `mask` is seen; returns true if it was seen before. */
bool history_check(struct conn *c, uint32_t mask, char code);
/* Counts one event; adds `code` when the count reaches the threshold, which
 * then grows tenfold. Returns true when a letter was added. */
bool history_scaled(struct conn *c, struct scaled_counter *sc, char code);
void scaled_counter_init(struct scaled_counter *sc);

#endif
