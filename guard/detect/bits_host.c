#include "detect/bits_host.h"

#include <stdio.h>
#include <string.h>

#include "util/addr.h"

static char lower_ascii(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* Lower-cased copy of s[0..n) with a trailing dot removed. */
static bool host_copy(const char *s, size_t n, char out[BITS_HOST_MAX])
{
	while (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n >= BITS_HOST_MAX) {
		out[0] = '\0';
		return false;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = lower_ascii(s[i]);
	out[n] = '\0';
	return true;
}

bool bits_host_normalize(const char *host, char out[BITS_HOST_MAX])
{
	size_t n = strlen(host);
	while (n > 0 && is_blank(*host)) {
		host++;
		n--;
	}
	while (n > 0 && is_blank(host[n - 1]))
		n--;
	if (n > 0 && host[0] == '[') {
		const char *close = memchr(host, ']', n);
		if (close == NULL) {
			out[0] = '\0';
			return false;
		}
		return host_copy(host + 1, (size_t)(close - host - 1), out);
	}
	const char *colon = memchr(host, ':', n);
	if (colon != NULL && memchr(colon + 1, ':', n - (size_t)(colon - host) - 1) == NULL)
		n = (size_t)(colon - host); /* "name:port"; several colons are a bare IPv6 */
	return host_copy(host, n, out);
}

bool bits_host_from_uri(const char *uri, char out[BITS_HOST_MAX])
{
	size_t skip;
	if (strncmp(uri, "http://", 7) == 0 || strncmp(uri, "HTTP://", 7) == 0)
		skip = 7;
	else if (strncmp(uri, "https://", 8) == 0 || strncmp(uri, "HTTPS://", 8) == 0)
		skip = 8;
	else {
		out[0] = '\0';
		return false;
	}
	const char *a = uri + skip;
	size_t n = strcspn(a, "/?#");
	const char *at = NULL;
	for (size_t i = 0; i < n; i++)
		if (a[i] == '@')
			at = a + i;
	if (at != NULL) {
		n -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	char tmp[BITS_HOST_MAX];
	if (n == 0 || n >= sizeof(tmp)) {
		out[0] = '\0';
		return false;
	}
	memcpy(tmp, a, n);
	tmp[n] = '\0';
	return bits_host_normalize(tmp, out);
}

static const char *last_label(const char *host)
{
	const char *dot = strrchr(host, '.');
	return dot != NULL ? dot + 1 : host;
}

bool bits_host_is_ip_literal(const char *host)
{
	struct kg_addr a;
	if (host[0] == '\0')
		return false;
	if (addr_parse(host, &a))
		return true;
	const char *l = last_label(host);
	if (l[0] == '0' && (l[1] == 'x' || l[1] == 'X') && l[2] != '\0') {
		for (const char *p = l + 2; *p; p++)
			if (!is_hex(lower_ascii(*p)))
				return false;
		return true;
	}
	if (*l == '\0')
		return false;
	for (const char *p = l; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

const char *bits_host_tld(const char *host)
{
	const char *dot = strrchr(host, '.');
	if (dot == NULL || dot[1] == '\0' || bits_host_is_ip_literal(host))
		return NULL;
	return dot + 1;
}

void bits_suffix_list_clear(struct bits_suffix_list *l)
{
	l->n = 0;
}

static bool host_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
	       c == '_' || c == ':';
}

bool bits_suffix_list_add(struct bits_suffix_list *l, const char *entry, char *err, size_t errlen)
{
	size_t n = strlen(entry);
	while (n > 0 && is_blank(*entry)) {
		entry++;
		n--;
	}
	while (n > 0 && is_blank(entry[n - 1]))
		n--;
	if (n >= 2 && entry[0] == '*' && entry[1] == '.') {
		entry += 2;
		n -= 2;
	} else if (n >= 1 && entry[0] == '.') {
		entry++;
		n--;
	}
	if (n == 0) {
		snprintf(err, errlen, "empty host suffix");
		return false;
	}
	if (n >= BITS_SUFFIX_LEN) {
		snprintf(err, errlen, "entry longer than %d characters", BITS_SUFFIX_LEN - 1);
		return false;
	}
	char e[BITS_SUFFIX_LEN];
	const char *slash = memchr(entry, '/', n);
	size_t hn = slash != NULL ? (size_t)(slash - entry) : n;
	size_t k = 0;
	for (size_t i = 0; i < hn; i++) {
		char c = lower_ascii(entry[i]);
		if (!host_char_ok(c)) {
			snprintf(err, errlen, "invalid character '%c' in host suffix '%.*s'",
				 c >= 0x20 && c < 0x7f ? c : '?', (int)hn, entry);
			return false;
		}
		e[k++] = c;
	}
	while (k > 0 && e[k - 1] == '.')
		k--;
	e[k] = '\0';
	if (k == 0 || e[0] == '.' || strstr(e, "..") != NULL) {
		snprintf(err, errlen, "malformed host suffix '%.*s'", (int)hn, entry);
		return false;
	}
	for (size_t i = hn; i < n; i++) {
		char c = entry[i];
		if (c <= 0x20 || c >= 0x7f) {
			snprintf(err, errlen, "invalid character in path of '%.*s'", (int)n, entry);
			return false;
		}
		e[k++] = c;
	}
	e[k] = '\0';
	for (uint16_t i = 0; i < l->n; i++)
		if (strcmp(l->entry[i], e) == 0)
			return true; /* already there */
	if (l->n >= BITS_SUFFIX_COUNT) {
		snprintf(err, errlen, "more than %d entries", BITS_SUFFIX_COUNT);
		return false;
	}
	memcpy(l->entry[l->n++], e, k + 1);
	return true;
}

bool bits_suffix_list_parse(struct bits_suffix_list *l, const char *text, size_t len, char *err,
			    size_t errlen)
{
	size_t pos = 0;
	unsigned lineno = 0;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += n + (nl != NULL);
		lineno++;
		const char *hash = memchr(line, '#', n);
		if (hash != NULL)
			n = (size_t)(hash - line);
		char buf[BITS_SUFFIX_LEN * 2];
		size_t b = 0, i = 0;
		while (i < n && is_blank(line[i]))
			i++;
		while (n > i && is_blank(line[n - 1]))
			n--;
		if (i == n)
			continue;
		if (n - i >= sizeof(buf)) {
			snprintf(err, errlen, "line %u: entry longer than %d characters", lineno,
				 BITS_SUFFIX_LEN - 1);
			return false;
		}
		if (memchr(line + i, '\0', n - i) != NULL) {
			snprintf(err, errlen, "line %u: NUL byte", lineno);
			return false;
		}
		for (; i < n; i++)
			buf[b++] = line[i];
		buf[b] = '\0';
		char why[200];
		if (!bits_suffix_list_add(l, buf, why, sizeof(why))) {
			snprintf(err, errlen, "line %u: %s", lineno, why);
			return false;
		}
	}
	return true;
}

/* The path of a request URI: after the authority of an absolute URI. */
static const char *uri_path(const char *uri)
{
	const char *p = strstr(uri, "://");
	if (p == NULL || uri[0] == '/')
		return uri;
	p += 3;
	p += strcspn(p, "/?#");
	return *p == '/' ? p : "/";
}

static bool host_matches(const char *host, size_t hn, const char *e, size_t en, bool literal)
{
	if (hn == en)
		return memcmp(host, e, en) == 0;
	if (literal || hn < en + 1)
		return false;
	return host[hn - en - 1] == '.' && memcmp(host + hn - en, e, en) == 0;
}

const char *bits_suffix_list_match(const struct bits_suffix_list *l, const char *host,
				   const char *uri)
{
	size_t hn = strlen(host);
	if (hn == 0)
		return NULL;
	bool literal = bits_host_is_ip_literal(host);
	for (uint16_t i = 0; i < l->n; i++) {
		const char *e = l->entry[i];
		const char *slash = strchr(e, '/');
		size_t en = slash != NULL ? (size_t)(slash - e) : strlen(e);
		char eh[BITS_SUFFIX_LEN];
		memcpy(eh, e, en);
		eh[en] = '\0';
		if (!host_matches(host, hn, eh, en, literal || bits_host_is_ip_literal(eh)))
			continue;
		if (slash != NULL) {
			if (uri == NULL || strncmp(uri_path(uri), slash, strlen(slash)) != 0)
				continue;
		}
		return e;
	}
	return NULL;
}
