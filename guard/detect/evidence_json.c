#include "detect/evidence_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ejson_init(struct ejson *j, char *buf, size_t cap)
{
	j->buf = buf;
	j->cap = cap;
	j->len = 0;
	j->overflow = cap == 0;
	if (cap)
		buf[0] = '\0';
}

static void put(struct ejson *j, const char *s, size_t n)
{
	if (j->overflow)
		return;
	if (j->len + n + 1 > j->cap) {
		j->overflow = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

void ejson_raw(struct ejson *j, const char *text)
{
	put(j, text, strlen(text));
}

void ejson_printf(struct ejson *j, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		j->overflow = true;
		return;
	}
	put(j, tmp, (size_t)n);
}

void ejson_str(struct ejson *j, const char *s)
{
	if (!s) {
		ejson_raw(j, "null");
		return;
	}
	put(j, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[8];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(j, esc, 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p);
			put(j, esc, 6);
		} else {
			put(j, (const char *)p, 1);
		}
	}
	put(j, "\"", 1);
}

void ejson_key(struct ejson *j, bool first, const char *key)
{
	if (!first)
		put(j, ",", 1);
	ejson_str(j, key);
	put(j, ":", 1);
}

void ejson_addr(struct ejson *j, const struct kg_addr *a)
{
	char s[KG_ADDR_STRLEN];
	addr_format(a, s);
	ejson_str(j, s);
}

void ejson_time(struct ejson *j, kg_time t)
{
	const char *sign = t < 0 ? "-" : "";
	uint64_t u = t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t;
	ejson_printf(j, "%s%llu.%06llu", sign, (unsigned long long)(u / 1000000000u),
		     (unsigned long long)(u % 1000000000u / 1000u));
}

void ejson_ms(struct ejson *j, kg_time d)
{
	const char *sign = d < 0 ? "-" : "";
	uint64_t u = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d;
	ejson_printf(j, "%s%llu.%03llu", sign, (unsigned long long)(u / 1000000u),
		     (unsigned long long)(u % 1000000u / 1000u));
}

void ejson_bool(struct ejson *j, bool b)
{
	ejson_raw(j, b ? "true" : "false");
}
