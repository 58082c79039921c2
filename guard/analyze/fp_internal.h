/* Shared by the service fingerprint matchers (service.c, fp_*.c): bounded
 * byte readers, the two-sided decision rule, UDP datagram slices, and the
 * JSON detail writer. Every reader takes the stored length and checks it;
 * nothing here reads past content_dir.len. */
#ifndef KG_FP_INTERNAL_H
#define KG_FP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/content.h"
#include "analyze/service.h"

/* Segments (or datagrams) a side may send before we decide without waiting
 * for more of it. */
#define FP_PATIENCE CONTENT_SEGMENTS
/* A silent side is waited for while the other side has sent fewer than this
 * (a TeamViewer client sends four frames before the server answers). */
#define FP_SILENT_PATIENCE (2 * CONTENT_SEGMENTS)

/* Escaped strings in details stay under this many bytes each (quotes
 * included), so two of them and the keys always fit SERVICE_DETAIL_MAX. */
#define FP_JSON_STR_MAX 160

struct fp_ctx {
	const struct content_view *v;
	bool final; /* the flow is over: decide with what is there */
};

/* What one side's bytes say about a protocol. */
enum fp_side {
	FP_PENDING, /* too few bytes yet, and more may come */
	FP_YES,	    /* the side speaks it */
	FP_NO,	    /* the side has bytes that contradict it */
	FP_ABSENT,  /* no (or too few) bytes, and no more will be waited for */
};

/* A parse of a prefix: it does not fit, it fits so far (more bytes would
 * tell), or it fits. */
enum fp_partial { FP_PART_NO, FP_PART_MORE, FP_PART_YES };

typedef enum service_verdict (*fp_matcher)(const struct fp_ctx *x, struct service_match *m);

/* TCP matchers (fp_remote.c, fp_vpn.c, fp_web.c). */
enum service_verdict fp_ssh(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_rdp(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_rfb(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_telnet(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_teamviewer_tcp(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_pptp(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_openvpn_tcp(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_ike_tcp(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_http(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_tls(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_starttls(const struct fp_ctx *x, struct service_match *m);
/* UDP matchers. */
enum service_verdict fp_rdpeudp(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_teamviewer_udp(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_openvpn_udp(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_ike_udp(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_wireguard(const struct fp_ctx *x, struct service_match *m);
enum service_verdict fp_tailscale(const struct fp_ctx *x, struct service_match *m);

static inline uint16_t fp_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t fp_be24(const uint8_t *p)
{
	return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

static inline uint32_t fp_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline bool fp_printable(uint8_t c) /* 0x20..0x7e */
{
	return c >= 0x20 && c <= 0x7e;
}

static inline uint32_t fp_le32(const uint8_t *p)
{
	return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[1] << 8) | p[0];
}

/* May direction d still bring `want` bytes? Not when it is stalled, full,
 * has `want` already, has sent FP_PATIENCE segments, or stayed silent while
 * `other` sent FP_SILENT_PATIENCE segments. Always false when x->final. */
bool fp_dir_open(const struct fp_ctx *x, const struct content_dir *d,
		 const struct content_dir *other, size_t want);
/* FP_PENDING if d may still grow (as fp_dir_open), FP_ABSENT otherwise. */
enum fp_side fp_wait(const struct fp_ctx *x, const struct content_dir *d,
		     const struct content_dir *other, size_t want);
/* One side judged by a prefix parser's verdict on its bytes: YES, NO, or wait
 * for `want` bytes when the parser needs more. */
enum fp_side fp_side_of(const struct fp_ctx *x, const struct content_dir *d,
			const struct content_dir *other, enum fp_partial part, size_t want);

/* The usual two-sided rule. Any FP_NO: NO_MATCH (neither side can be
 * speaking it with the other). Both FP_YES: MATCH, CONF_HIGH, both_sides.
 * One FP_YES and the other FP_PENDING: NEED_MORE. One FP_YES and the other
 * FP_ABSENT: MATCH, CONF_MEDIUM. No FP_YES: NEED_MORE while one is pending,
 * else NO_MATCH. *conf and *both are set on MATCH. */
enum service_verdict fp_combine(enum fp_side a, enum fp_side b, enum service_confidence *conf,
				bool *both);

/* Fills the identity fields of m (detail is left as it is). */
void fp_set(struct service_match *m, enum service_id id, enum service_confidence conf,
	    const char *fingerprint_id, size_t offset, bool both_sides);

/* One UDP datagram of a direction, as stored. */
struct fp_slice {
	const uint8_t *p;
	size_t stored; /* bytes of it in the buffer (<= wire) */
	size_t wire;   /* its length on the wire */
};
/* Datagram i (< d->nseg). False if it is not recorded or its place in the
 * buffer is unknown (a truncated capture before it). */
bool fp_datagram(const struct content_dir *d, unsigned i, struct fp_slice *out);

/* First occurrence of needle in hay[0..n), or -1. */
long fp_find(const uint8_t *hay, size_t n, const void *needle, size_t k);
/* Case-insensitive ASCII prefix compare of p[0..n) with lit; *full says
 * whether all of lit was there. Returns false on the first mismatch. */
bool fp_prefix(const uint8_t *p, size_t n, const char *lit, bool nocase, bool *full);

/* Writes src as a JSON string (quotes included) into dst[0..cap), escaping
 * quotes, backslashes, control and non-ASCII bytes (\u00XX, so the output is
 * ASCII), truncated at an escape boundary to fit. Returns the length. */
size_t fp_json_string(char *dst, size_t cap, const uint8_t *src, size_t n);
/* Lower-case hex of src into dst as a JSON string ("0a1b..."). */
size_t fp_json_hex(char *dst, size_t cap, const uint8_t *src, size_t n);

/* One member of a detail object: key and its JSON value text (NULL: omit). */
struct fp_member {
	const char *key;
	const char *json;
};
/* Writes "name":{"k":v,...} into m->detail, or leaves it "" if it would not
 * fit (values come from fp_json_* with their bounds, so it fits in practice). */
void fp_detail_object(struct service_match *m, const char *name, const struct fp_member *mem,
		      size_t n);

#endif
