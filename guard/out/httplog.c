#include "out/httplog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out/atomic_file.h"
#include "out/httplog_format.h"
#include "out/zeek_ascii.h"

struct httplog {
	struct atomic_file file;
	enum connlog_format fmt;
	uint64_t records;
	char line[HTTPLOG_LINE_MAX]; /* one line at a time; too big for the stack */
};

struct httplog *httplog_open(const char *dir, enum connlog_format fmt, char *err, size_t errlen)
{
	struct httplog *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		snprintf(err, errlen, "http.log writer: %s", strerror(errno));
		return NULL;
	}
	l->fmt = fmt;
	if (!atomic_file_open(&l->file, dir, HTTPLOG_NAME, err, errlen)) {
		free(l);
		return NULL;
	}
	if (fmt == CONNLOG_TSV) {
		char stamp[ZEEK_ASCII_STAMP_MAX], hdr[HTTPLOG_HEADER_MAX];
		zeek_ascii_stamp(stamp);
		size_t n = httplog_tsv_header(hdr, sizeof(hdr), stamp);
		atomic_file_write(&l->file, hdr, n);
	}
	return l;
}

void httplog_write(struct httplog *l, const struct http_record *r)
{
	size_t n = l->fmt == CONNLOG_TSV ? httplog_tsv_line(r, l->line, sizeof(l->line))
					 : httplog_json_line(r, l->line, sizeof(l->line));
	if (n == 0) {
		/* Cannot happen: every field is bounded well below the line size.
		 * Fail the file rather than drop a record silently. */
		if (!l->file.error)
			l->file.error = EMSGSIZE;
		return;
	}
	atomic_file_write(&l->file, l->line, n);
	l->records++;
}

void httplog_sink(void *ctx, const struct http_record *r)
{
	httplog_write(ctx, r);
}

bool httplog_failed(const struct httplog *l)
{
	return l->file.error != 0;
}

uint64_t httplog_records(const struct httplog *l)
{
	return l->records;
}

bool httplog_close(struct httplog *l, char *err, size_t errlen)
{
	if (l->fmt == CONNLOG_TSV) {
		char stamp[ZEEK_ASCII_STAMP_MAX], footer[64];
		zeek_ascii_stamp(stamp);
		size_t n = httplog_tsv_footer(footer, sizeof(footer), stamp);
		atomic_file_write(&l->file, footer, n);
	}
	bool ok = atomic_file_commit(&l->file, err, errlen);
	free(l);
	return ok;
}

bool httplog_abandon(struct httplog *l, char *err, size_t errlen)
{
	bool ok = atomic_file_abandon(&l->file, HTTPLOG_INCOMPLETE_NAME, err, errlen);
	free(l);
	return ok;
}
