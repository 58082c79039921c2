#include "out/zeek_ascii.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "out/numfmt.h"

size_t zeek_ascii_header(char *buf, size_t cap, const char *path, const char *open_stamp,
			 const char *fields, const char *types)
{
	struct outbuf o;
	outbuf_init(&o, buf, cap);
	outbuf_str(&o, "#separator \\x09\n");
	outbuf_str(&o, "#set_separator\t,\n");
	outbuf_str(&o, "#empty_field\t" ZEEK_ASCII_EMPTY "\n");
	outbuf_str(&o, "#unset_field\t" ZEEK_ASCII_UNSET "\n");
	outbuf_str(&o, "#path\t");
	outbuf_str(&o, path);
	outbuf_str(&o, "\n#open\t");
	outbuf_str(&o, open_stamp);
	outbuf_str(&o, "\n");
	outbuf_str(&o, fields);
	outbuf_str(&o, types);
	return outbuf_finish(&o);
}

size_t zeek_ascii_footer(char *buf, size_t cap, const char *close_stamp)
{
	struct outbuf o;
	outbuf_init(&o, buf, cap);
	outbuf_str(&o, "#close\t");
	outbuf_str(&o, close_stamp);
	outbuf_str(&o, "\n");
	return outbuf_finish(&o);
}

void zeek_ascii_stamp(char out[ZEEK_ASCII_STAMP_MAX])
{
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(out, ZEEK_ASCII_STAMP_MAX, "%Y-%m-%d-%H-%M-%S", &tm) == 0)
		snprintf(out, ZEEK_ASCII_STAMP_MAX, "0000-00-00-00-00-00");
}

static void zeek_ascii_hex_escape(struct outbuf *o, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
	outbuf_put(o, esc, 4);
}

void zeek_ascii_string(struct outbuf *o, const char *s, size_t n, bool in_set)
{
	if (n == 0) {
		outbuf_str(o, ZEEK_ASCII_EMPTY);
		return;
	}
	size_t i = 0;
	if ((n == 1 && s[0] == '-') || (n == 7 && memcmp(s, ZEEK_ASCII_EMPTY, 7) == 0)) {
		zeek_ascii_hex_escape(o, (unsigned char)s[0]);
		i = 1;
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || c == '\\' || (in_set && c == ','))
			zeek_ascii_hex_escape(o, c);
		else
			outbuf_put(o, (const char *)&c, 1);
	}
}

void zeek_ascii_opt_string(struct outbuf *o, const char *s)
{
	if (s == NULL || s[0] == '\0')
		outbuf_str(o, ZEEK_ASCII_UNSET);
	else
		zeek_ascii_string(o, s, strlen(s), false);
}

void zeek_ascii_addr(struct outbuf *o, const struct kg_addr *a)
{
	char tmp[KG_ADDR_STRLEN];
	addr_format(a, tmp);
	outbuf_str(o, tmp);
}

void zeek_ascii_double(struct outbuf *o, double v)
{
	char tmp[NUMFMT_DOUBLE_MAX * 10]; /* fixed point of a huge double is long */
	size_t n = numfmt_fixed6(v, tmp, sizeof(tmp));
	if (n == 0)
		o->overflow = true;
	outbuf_put(o, tmp, n);
}
