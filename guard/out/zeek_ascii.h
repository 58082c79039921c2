/* What every log in Zeek's ASCII format shares (conn.log, http.log): the TSV
 * header and footer lines, the unset and empty markers, and how a value is
 * written in a TSV column. Pure, on a struct outbuf; only zeek_ascii_stamp()
 * reads the clock. */
#ifndef KG_ZEEK_ASCII_H
#define KG_ZEEK_ASCII_H

#include <stdbool.h>
#include <stddef.h>

#include "util/addr.h"
#include "util/outbuf.h"

#define ZEEK_ASCII_UNSET "-"
#define ZEEK_ASCII_EMPTY "(empty)"
/* A #open/#close stamp with its NUL. */
#define ZEEK_ASCII_STAMP_MAX 32

/* The 8 header lines of log `path`: fields and types are the whole
 * "#fields\t..." and "#types\t..." lines, each ending in '\n'. The footer is
 * the #close line. Both return the length (a NUL follows), or 0 if cap is too
 * small; open_stamp and close_stamp come from zeek_ascii_stamp(). */
size_t zeek_ascii_header(char *buf, size_t cap, const char *path, const char *open_stamp,
			 const char *fields, const char *types);
size_t zeek_ascii_footer(char *buf, size_t cap, const char *close_stamp);
/* Wall-clock local time now, "%Y-%m-%d-%H-%M-%S", as Zeek's Ascii writer
 * puts it in #open and #close. */
void zeek_ascii_stamp(char out[ZEEK_ASCII_STAMP_MAX]);

/* A string value s[0..n) as Zeek's ODesc escapes it: non-printable and
 * non-ASCII bytes and '\' as \xNN (the separator, a tab, is one of them),
 * inside a set also the set separator ','. "" is the empty marker, and a
 * value equal to a marker gets its first byte escaped so it reads back as a
 * string. */
void zeek_ascii_string(struct outbuf *o, const char *s, size_t n, bool in_set);
/* NULL or "" is unset ("-"); anything else as zeek_ascii_string(). */
void zeek_ascii_opt_string(struct outbuf *o, const char *s);
void zeek_ascii_addr(struct outbuf *o, const struct kg_addr *a);
/* A time or interval: fixed point with 6 decimals (numfmt_fixed6). */
void zeek_ascii_double(struct outbuf *o, double v);

#endif
