/* Host names as the BITS detector judges them (specs/detection.md §B.5):
 * normalisation of a Host header, suffix lists matched on a dot boundary,
 * IP literals, top-level domains. Pure. */
#ifndef KG_BITS_HOST_H
#define KG_BITS_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BITS_HOST_MAX 256     /* a normalised host name, with the NUL */
#define BITS_SUFFIX_LEN 160   /* one list entry: suffix, optionally "/path-prefix" */
#define BITS_SUFFIX_COUNT 256 /* entries per list */

/* An entry matches a host equal to `suffix` or ending in "." + suffix. With
 * a path ("storage.googleapis.com/corp-bucket/") the request URI path must
 * also start with it. An IP-literal entry matches that address only. */
struct bits_suffix_list {
	uint16_t n;
	char entry[BITS_SUFFIX_COUNT][BITS_SUFFIX_LEN];
};

/* Lower-cases, strips a ":port", the brackets of "[v6]:port" and a trailing
 * dot. Returns false (out = "") for an empty or over-long host. */
bool bits_host_normalize(const char *host, char out[BITS_HOST_MAX]);
/* The host of an absolute-form URI ("http://user@h:p/x", as sent to a
 * proxy), normalised; false if the URI is not absolute. */
bool bits_host_from_uri(const char *uri, char out[BITS_HOST_MAX]);
/* An address rather than a name: IPv4 or IPv6 text, or a last label that is
 * all digits or 0x-hex (integer and short IPv4 forms; no TLD is numeric). */
bool bits_host_is_ip_literal(const char *host);
/* The last label ("com"), or NULL for a single-label host or an IP literal. */
const char *bits_host_tld(const char *host);

void bits_suffix_list_clear(struct bits_suffix_list *l);
/* Adds one entry: trims blanks, lower-cases, drops a leading "*." or ".".
 * False with a reason in err when the entry is empty, malformed, too long,
 * or the list is full. */
bool bits_suffix_list_add(struct bits_suffix_list *l, const char *entry, char *err, size_t errlen);
/* Adds every line of a list file's text: one entry per line, '#' starts a
 * comment, blank lines are ignored. On error err names the line number;
 * entries before it stay added. */
bool bits_suffix_list_parse(struct bits_suffix_list *l, const char *text, size_t len, char *err,
			    size_t errlen);
/* The matching entry for a normalised host (and the request URI, for path
 * entries; NULL is allowed), or NULL. */
const char *bits_suffix_list_match(const struct bits_suffix_list *l, const char *host,
				   const char *uri);

#endif
