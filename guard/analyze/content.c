#include "analyze/content.h"

#include <string.h>

void content_init(struct content *c)
{
	memset(c, 0, sizeof(*c));
}

static void record_segment(struct content_dir *d, uint32_t len)
{
	if (d->nseg < CONTENT_SEGMENTS)
		d->seg_len[d->nseg++] = (uint16_t)(len > UINT16_MAX ? UINT16_MAX : len);
	d->segments_seen++;
}

static void append(struct content_dir *d, const uint8_t *payload, uint32_t n)
{
	uint32_t room = CONTENT_BYTES - d->len;
	if (n > room)
		n = room;
	memcpy(d->data + d->len, payload, n);
	d->len = (uint16_t)(d->len + n);
}

bool content_add(struct content *c, bool from_orig, uint8_t ip_proto, uint32_t seq,
		 const uint8_t *payload, uint32_t caplen, uint32_t len)
{
	if (len == 0)
		return false;
	struct content_dir *d = &c->dir[from_orig ? 0 : 1];
	if (!from_orig && c->dir[0].segments_seen == 0 && d->segments_seen == 0)
		c->resp_spoke_first = true;
	if (caplen > len)
		caplen = len; /* Ethernet padding is not payload */

	if (ip_proto != 6) {
		/* Datagrams: each keeps its own boundary; bytes of the first ones. */
		record_segment(d, len);
		if (d->nseg <= CONTENT_SEGMENTS && d->segments_seen <= CONTENT_SEGMENTS)
			append(d, payload, caplen);
		return true;
	}

	if (d->stalled)
		return false;
	if (!d->have_seq) {
		d->have_seq = true;
		d->next_seq = seq;
	}
	int32_t ahead = (int32_t)(seq - d->next_seq);
	if (ahead > 0) {
		/* A hole: we do not reassemble, so this direction stops here. */
		d->stalled = true;
		return false;
	}
	uint32_t skip = (uint32_t)(-ahead); /* retransmitted prefix */
	if (skip >= len)
		return false; /* pure retransmission */
	record_segment(d, len);
	if (caplen > skip && caplen == len)
		append(d, payload + skip, caplen - skip);
	else
		d->stalled = true; /* truncated capture: the rest is unknown */
	d->next_seq = seq + len;
	return true;
}

void content_view(const struct content *c, uint8_t ip_proto, uint16_t resp_port,
		  struct content_view *v)
{
	v->ip_proto = ip_proto;
	v->resp_port = resp_port;
	v->orig = &c->dir[0];
	v->resp = &c->dir[1];
	v->resp_spoke_first = c->resp_spoke_first;
}
