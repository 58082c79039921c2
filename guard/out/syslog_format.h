/* Syslog messages for alerts. Pure: the caller passes the time stamp, host
 * name and process id (syslog_origin_init() gathers the last two).
 *
 * RFC 5424 (default):
 *   <PRI>1 TIMESTAMP HOSTNAME knockguard PROCID MSGID [knockguard@32473
 *   technique="T1197" severity="high" name="..."] {alert JSON}
 * with MSGID = the technique id and MSG = alert_json (ASCII, so no BOM).
 * RFC 3164: <PRI>Mmm dd hh:mm:ss HOSTNAME knockguard[PROCID]: {alert JSON},
 * local time; HOSTNAME is left out when origin.hostname is "" (what syslog(3)
 * sends to /dev/log, where the daemon adds it).
 * PRI = facility * 8 + severity, with CRITICAL->crit(2), HIGH->err(3),
 * MEDIUM->warning(4), LOW->notice(5), INFO->info(6).
 * A message is at most SYSLOG_MSG_MAX bytes (RFC 5426's SHOULD size); the
 * alert JSON degrades (evidence, then msg) to fit. */
#ifndef KG_SYSLOG_FORMAT_H
#define KG_SYSLOG_FORMAT_H

#include <stdbool.h>
#include <stddef.h>

#include "detect/alert.h"
#include "util/kgtime.h"

#define SYSLOG_MSG_MAX 2048
/* RFC 6587 octet counting adds "LEN " in front. */
#define SYSLOG_FRAME_MAX (SYSLOG_MSG_MAX + 8)
/* The SD-ID: "knockguard" under the private enterprise number 32473, the one
 * RFC 5612 reserves for documentation and examples. */
#define SYSLOG_SD_ID "knockguard@32473"
#define SYSLOG_APP_NAME "knockguard"

#define SYSLOG_FACILITY_LOCAL0 16

enum syslog_format { SYSLOG_RFC5424, SYSLOG_RFC3164 };

struct syslog_origin {
	enum syslog_format format;
	int facility;	    /* 0..23 */
	char hostname[256]; /* "" = none: "-" in RFC 5424, left out in RFC 3164 */
	char app_name[49];
	char procid[129];
};

/* "rfc5424" or "rfc3164". */
bool syslog_format_parse(const char *s, enum syslog_format *out);
const char *syslog_format_name(enum syslog_format f);
/* "kern".."local7" (the names of syslog.conf(5)) to 0..23. */
bool syslog_facility_parse(const char *s, int *code);
/* NULL if out of range. */
const char *syslog_facility_name(int code);
/* The comma-separated list of facility names, for error messages. */
const char *syslog_facility_names(void);
/* Syslog severity 2..6 for an alert severity. */
int syslog_severity(enum alert_severity s);

/* App-name knockguard, this host's name and pid. For RFC 3164 over the local
 * socket (local_socket) the host name is left out, as syslog(3) does. */
void syslog_origin_init(struct syslog_origin *o, enum syslog_format f, int facility,
			bool local_socket);

/* One message for a, stamped with stamp (UTC for RFC 5424, local time for RFC
 * 3164), NUL-terminated, no newline. Returns its length, or 0 if cap is too
 * small (cap >= SYSLOG_MSG_MAX + 1 always suffices); nothing is written past
 * cap and the length never exceeds SYSLOG_MSG_MAX. */
size_t syslog_format_alert(const struct syslog_origin *o, const struct alert *a, kg_time stamp,
			   char *buf, size_t cap);

/* RFC 6587 §3.4.1 octet counting: "LEN SP MSG". Returns the framed length, or
 * 0 if cap is too small. */
size_t syslog_frame_octet_count(const char *msg, size_t len, char *buf, size_t cap);

#endif
