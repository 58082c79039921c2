/* BITS jobs (T1197) seen in HTTP transactions: specs/detection.md §B.6.
 *
 * The engine hands every struct http_record to bits_observe(). Uploads are
 * BITS_POST (or any request with a BITS-Packet-Type header); downloads are
 * HEAD/GET with a "Microsoft BITS/x.y" User-Agent. Hosts are judged against a
 * vendor allowlist matched on a dot boundary. Per (source, host) state keeps
 * upload totals, pending Pings and alert suppression, in a table of fixed
 * size with LRU eviction (counted). Pure: no syscalls, no allocation after
 * bits_create(). */
#ifndef KG_BITS_H
#define KG_BITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/http.h"
#include "detect/alert.h"
#include "detect/bits_host.h"
#include "util/kgtime.h"

enum bits_rule {
	BITS_UPLOAD_SESSION,	   /* HIGH */
	BITS_UPLOAD_LARGE,	   /* CRITICAL */
	BITS_UPLOAD_ALLOWLISTED,   /* LOW */
	BITS_PING_ONLY,		   /* MEDIUM */
	BITS_DOWNLOAD_UNTRUSTED,   /* MEDIUM */
	BITS_DOWNLOAD_IP_LITERAL,  /* HIGH */
	BITS_DOWNLOAD_RARE_TLD,	   /* HIGH */
	BITS_DOWNLOAD_FILESHARING, /* HIGH */
	BITS_DOWNLOAD_EXECUTABLE,  /* HIGH, CRITICAL with an IP literal */
	BITS_DOWNLOAD_ALLOWLISTED, /* INFO */
	BITS_RULE_COUNT
};

struct bits_config {
	bool enabled;
	struct bits_suffix_list allowlist;    /* vendor hosts; conf/bits-allowlist.conf */
	struct bits_suffix_list file_sharing; /* Sigma's file-sharing hosts */
	struct bits_suffix_list common_tlds;  /* TLDs that are not "rare" (add your ccTLDs) */
	uint64_t upload_large_bytes;	      /* Content-Range total that is large: 10 MiB */
	uint64_t upload_daily_bytes;	      /* Fragment bytes per source in 24 h: 50 MiB */
	kg_time ping_wait;    /* a Ping with no session after this is Ping_Only: 60 s */
	kg_time suppress;     /* one alert per rule and (source, host) in this time: 1 h; 0 = all */
	bool log_allowlisted; /* raise Upload_Allowlisted / Download_Allowlisted */
	uint32_t max_pairs;   /* (source, host) entries: 4096 (at least 2) */
};

/* Defaults of §B.5/B.6; the allowlist equals conf/bits-allowlist.conf. */
void bits_config_defaults(struct bits_config *c);
/* Replaces c->allowlist with the entries of a list file's text. */
bool bits_allowlist_parse(struct bits_config *c, const char *text, size_t len, char *err,
			  size_t errlen);

struct bits_stats {
	uint64_t records;   /* http records observed */
	uint64_t uploads;   /* BITS upload requests */
	uint64_t downloads; /* BITS-UA HEAD/GET requests */
	uint64_t alerts[BITS_RULE_COUNT];
	uint64_t suppressed;	/* alerts not raised: same rule and pair within `suppress` */
	uint64_t pairs_evicted; /* LRU evictions from the (source, host) table */
	uint64_t pings_evicted; /* pending Pings decided early: their pair was evicted */
	uint32_t pairs_in_use;
};

typedef void (*bits_alert_fn)(void *ctx, const struct alert *a);

struct bits_detector;

/* NULL on allocation failure. The config is copied. */
struct bits_detector *bits_create(const struct bits_config *cfg);
void bits_destroy(struct bits_detector *d);
/* One finished HTTP transaction; raises zero or more alerts. */
void bits_observe(struct bits_detector *d, const struct http_record *r, bits_alert_fn fn,
		  void *ctx);
/* Time passed (packet time): Pings older than ping_wait with no session
 * become Ping_Only alerts. bits_observe() also does this with r->ts. */
void bits_expire(struct bits_detector *d, kg_time now, bits_alert_fn fn, void *ctx);
/* End of input: every pending Ping is decided now. */
void bits_flush(struct bits_detector *d, bits_alert_fn fn, void *ctx);
const struct bits_stats *bits_stats(const struct bits_detector *d);

const char *bits_rule_name(enum bits_rule r); /* "BITS::Upload_Session" ... */
/* "Microsoft BITS/7.8" -> true, with "7.8" in ver (ver may be NULL). */
bool bits_is_user_agent(const char *ua, char *ver, size_t verlen);

#endif
