#include "out/connlog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "out/atomic_file.h"
#include "out/connlog_format.h"
#include "out/zeek_ascii.h"

struct connlog {
	struct atomic_file file;
	enum connlog_format fmt;
	uint64_t records;
};

bool connlog_format_parse(const char *s, enum connlog_format *out)
{
	if (strcmp(s, "tsv") == 0)
		*out = CONNLOG_TSV;
	else if (strcmp(s, "json") == 0)
		*out = CONNLOG_JSON;
	else
		return false;
	return true;
}

struct connlog *connlog_open(const char *dir, enum connlog_format fmt, char *err, size_t errlen)
{
	struct connlog *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		snprintf(err, errlen, "conn.log writer: %s", strerror(errno));
		return NULL;
	}
	l->fmt = fmt;
	if (!atomic_file_open(&l->file, dir, CONNLOG_NAME, err, errlen)) {
		free(l);
		return NULL;
	}
	if (fmt == CONNLOG_TSV) {
		char stamp[ZEEK_ASCII_STAMP_MAX], hdr[CONNLOG_HEADER_MAX];
		zeek_ascii_stamp(stamp);
		size_t n = connlog_tsv_header(hdr, sizeof(hdr), stamp);
		atomic_file_write(&l->file, hdr, n);
	}
	return l;
}

void connlog_write(struct connlog *l, const struct conn_record *r)
{
	char line[CONNLOG_LINE_MAX];
	size_t n = l->fmt == CONNLOG_TSV ? connlog_tsv_line(r, line, sizeof(line))
					 : connlog_json_line(r, line, sizeof(line));
	if (n == 0) {
		/* Cannot happen: every record field is bounded well below the line
		 * size. Fail the file rather than drop a record silently. */
		if (!l->file.error)
			l->file.error = EMSGSIZE;
		return;
	}
	atomic_file_write(&l->file, line, n);
	l->records++;
}

bool connlog_failed(const struct connlog *l)
{
	return l->file.error != 0;
}

uint64_t connlog_records(const struct connlog *l)
{
	return l->records;
}

bool connlog_close(struct connlog *l, char *err, size_t errlen)
{
	if (l->fmt == CONNLOG_TSV) {
		char stamp[ZEEK_ASCII_STAMP_MAX], footer[64];
		zeek_ascii_stamp(stamp);
		size_t n = connlog_tsv_footer(footer, sizeof(footer), stamp);
		atomic_file_write(&l->file, footer, n);
	}
	bool ok = atomic_file_commit(&l->file, err, errlen);
	free(l);
	return ok;
}

bool connlog_abandon(struct connlog *l, char *err, size_t errlen)
{
	bool ok = atomic_file_abandon(&l->file, CONNLOG_INCOMPLETE_NAME, err, errlen);
	free(l);
	return ok;
}
