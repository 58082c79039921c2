#include "out/syslog_format.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "out/alert_json.h"

/* The facility names syslog(3) and syslog.conf(5) know; codes 12-15 have no
 * portable name. */
static const char *const facility_names[24] = {
	"kern",	  "user",   "mail",	"daemon", "auth",   "syslog", "lpr",	"news",
	"uucp",	  "cron",   "authpriv", "ftp",	  NULL,	    NULL,     NULL,	NULL,
	"local0", "local1", "local2",	"local3", "local4", "local5", "local6", "local7",
};

bool syslog_format_parse(const char *s, enum syslog_format *out)
{
	if (strcmp(s, "rfc5424") == 0)
		*out = SYSLOG_RFC5424;
	else if (strcmp(s, "rfc3164") == 0)
		*out = SYSLOG_RFC3164;
	else
		return false;
	return true;
}

const char *syslog_format_name(enum syslog_format f)
{
	return f == SYSLOG_RFC3164 ? "rfc3164" : "rfc5424";
}

bool syslog_facility_parse(const char *s, int *code)
{
	for (int i = 0; i < 24; i++) {
		if (facility_names[i] && strcmp(s, facility_names[i]) == 0) {
			*code = i;
			return true;
		}
	}
	return false;
}

const char *syslog_facility_name(int code)
{
	return code >= 0 && code < 24 ? facility_names[code] : NULL;
}

const char *syslog_facility_names(void)
{
	return "kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, "
	       "local0, local1, local2, local3, local4, local5, local6, local7";
}

int syslog_severity(enum alert_severity s)
{
	switch (s) {
	case SEV_CRITICAL:
		return 2; /* crit */
	case SEV_HIGH:
		return 3; /* err */
	case SEV_MEDIUM:
		return 4; /* warning */
	case SEV_LOW:
		return 5; /* notice */
	case SEV_INFO:
		break;
	}
	return 6; /* info */
}

void syslog_origin_init(struct syslog_origin *o, enum syslog_format f, int facility,
			bool local_socket)
{
	memset(o, 0, sizeof(*o));
	o->format = f;
	o->facility = facility;
	snprintf(o->app_name, sizeof(o->app_name), SYSLOG_APP_NAME);
	snprintf(o->procid, sizeof(o->procid), "%ld", (long)getpid());
	if (f == SYSLOG_RFC3164 && local_socket)
		return;
	if (gethostname(o->hostname, sizeof(o->hostname) - 1) != 0)
		o->hostname[0] = '\0';
	o->hostname[sizeof(o->hostname) - 1] = '\0';
}

/* A bounded output cursor: once a write does not fit, it stays failed. */
struct sw {
	char *buf;
	size_t cap, len;
	bool overflow;
};

static void sw_bytes(struct sw *w, const char *s, size_t n)
{
	if (w->overflow || w->len + n + 1 > w->cap) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void sw_str(struct sw *w, const char *s)
{
	sw_bytes(w, s, strlen(s));
}

/* An RFC 5424 header field: 1..maxlen PRINTUSASCII characters, or "-".
 * Anything else (space, control, non-ASCII) becomes '_' so the header keeps
 * its shape. */
static void sw_header_field(struct sw *w, const char *s, size_t maxlen)
{
	size_t n = strnlen(s, maxlen);
	if (n == 0) {
		sw_str(w, "-");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i] > 32 && s[i] < 127 ? s[i] : '_';
		sw_bytes(w, &c, 1);
	}
}

/* RFC 5424 §6.3.3 PARAM-VALUE: '"', '\' and ']' are escaped with '\'. Bytes
 * outside printable ASCII become '?' (alert names are ASCII anyway). */
static void sw_param_value(struct sw *w, const char *s, size_t maxlen)
{
	sw_str(w, "\"");
	for (size_t i = 0; i < maxlen && s[i]; i++) {
		char c = s[i];
		if (c == '"' || c == '\\' || c == ']')
			sw_str(w, "\\");
		if ((unsigned char)c < 32 || (unsigned char)c >= 127)
			c = '?';
		sw_bytes(w, &c, 1);
	}
	sw_str(w, "\"");
}

/* 2024-02-26T10:05:52.101000Z: UTC with microseconds (RFC 5424 allows up to
 * 6 fractional digits). */
static void sw_rfc5424_time(struct sw *w, kg_time stamp)
{
	if (stamp < 0)
		stamp = 0;
	time_t sec = (time_t)(stamp / KG_NSEC_PER_SEC);
	long usec = (long)((stamp % KG_NSEC_PER_SEC) / 1000);
	struct tm tm;
	char out[96];
	if (gmtime_r(&sec, &tm) == NULL || tm.tm_year + 1900 > 9999) {
		sw_str(w, "-");
		return;
	}
	snprintf(out, sizeof(out), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
	sw_str(w, out);
}

/* "Feb  6 10:05:52": RFC 3164 §4.1.2, local time, day padded with a space. */
static void sw_rfc3164_time(struct sw *w, kg_time stamp)
{
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	if (stamp < 0)
		stamp = 0;
	time_t sec = (time_t)(stamp / KG_NSEC_PER_SEC);
	struct tm tm;
	char out[112];
	if (localtime_r(&sec, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(out, sizeof(out), "%s %2d %02d:%02d:%02d", months[tm.tm_mon % 12], tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
	sw_str(w, out);
}

static void sw_header(struct sw *w, const struct syslog_origin *o, const struct alert *a,
		      kg_time stamp)
{
	char pri[16];
	int facility = o->facility >= 0 && o->facility < 24 ? o->facility : SYSLOG_FACILITY_LOCAL0;
	snprintf(pri, sizeof(pri), "<%d>", facility * 8 + syslog_severity(a->severity));
	sw_str(w, pri);
	if (o->format == SYSLOG_RFC3164) {
		sw_rfc3164_time(w, stamp);
		sw_str(w, " ");
		if (o->hostname[0]) {
			sw_header_field(w, o->hostname, 255);
			sw_str(w, " ");
		}
		/* TAG: at most 32 characters, then [pid]. */
		sw_header_field(w, o->app_name, 32);
		sw_str(w, "[");
		sw_header_field(w, o->procid, 10);
		sw_str(w, "]: ");
		return;
	}
	sw_str(w, "1 ");
	sw_rfc5424_time(w, stamp);
	sw_str(w, " ");
	sw_header_field(w, o->hostname, 255);
	sw_str(w, " ");
	sw_header_field(w, o->app_name, 48);
	sw_str(w, " ");
	sw_header_field(w, o->procid, 128);
	sw_str(w, " ");
	sw_header_field(w, alert_technique_id(a->technique), 32);
	sw_str(w, " [" SYSLOG_SD_ID " technique=");
	sw_param_value(w, alert_technique_id(a->technique), 16);
	sw_str(w, " severity=");
	sw_param_value(w, alert_severity_name(a->severity), 16);
	sw_str(w, " name=");
	sw_param_value(w, a->name, sizeof(a->name));
	sw_str(w, "] ");
}

size_t syslog_format_alert(const struct syslog_origin *o, const struct alert *a, kg_time stamp,
			   char *buf, size_t cap)
{
	struct sw w = {buf, cap < SYSLOG_MSG_MAX + 1 ? cap : SYSLOG_MSG_MAX + 1, 0, false};
	if (cap == 0)
		return 0;
	sw_header(&w, o, a, stamp);
	if (w.overflow) {
		buf[0] = '\0';
		return 0;
	}
	size_t n = alert_json_format(a, buf + w.len, w.cap - w.len);
	if (n == 0) {
		buf[0] = '\0';
		return 0;
	}
	return w.len + n;
}

size_t syslog_frame_octet_count(const char *msg, size_t len, char *buf, size_t cap)
{
	char prefix[24];
	int p = snprintf(prefix, sizeof(prefix), "%zu ", len);
	if ((size_t)p + len > cap)
		return 0;
	memmove(buf + p, msg, len); /* msg may be buf itself */
	memcpy(buf, prefix, (size_t)p);
	return (size_t)p + len;
}
