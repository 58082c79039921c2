#include "flow/history.h"

void history_add(struct conn *c, char code)
{
	if (c->history_len + 1 >= KG_HISTORY_MAX) {
		c->history_truncated++;
		return;
	}
	c->history[c->history_len++] = code;
	c->history[c->history_len] = '\0';
}

bool history_check(struct conn *c, uint32_t mask, char code)
{
	if (c->hist_seen & mask)
		return true;
	c->hist_seen |= mask;
	history_add(c, code);
	return false;
}

void scaled_counter_init(struct scaled_counter *sc)
{
	sc->count = 0;
	sc->threshold = 1;
}

bool history_scaled(struct conn *c, struct scaled_counter *sc, char code)
{
	if (++sc->count != sc->threshold)
		return false;
	history_add(c, code);
	uint64_t next = (uint64_t)sc->threshold * 10;
	if (next > UINT32_MAX)
		sc->count = 0; /* Zeek resets the counter when the threshold would overflow */
	else
		sc->threshold = (uint32_t)next;
	return true;
}
