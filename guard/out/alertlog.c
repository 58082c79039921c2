#include "out/alertlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "out/alert_json.h"
#include "out/atomic_file.h"

struct alertlog {
	struct atomic_file file;
	uint64_t records;
};

struct alertlog *alertlog_open(const char *dir, char *err, size_t errlen)
{
	struct alertlog *l = calloc(1, sizeof(*l));
	if (l == NULL) {
		snprintf(err, errlen, "alert log writer: %s", strerror(errno));
		return NULL;
	}
	if (!atomic_file_open(&l->file, dir, ALERTLOG_NAME, err, errlen)) {
		free(l);
		return NULL;
	}
	return l;
}

void alertlog_write(struct alertlog *l, const struct alert *a)
{
	char line[ALERT_JSON_MAX + 1];
	size_t n = alert_json_format(a, line, sizeof(line) - 1);
	if (n == 0) {
		/* Cannot happen: ALERT_JSON_MAX holds any alert. Fail the file
		 * rather than drop an alert silently. */
		if (!l->file.error)
			l->file.error = EMSGSIZE;
		return;
	}
	line[n++] = '\n';
	atomic_file_write(&l->file, line, n);
	l->records++;
}

bool alertlog_failed(const struct alertlog *l)
{
	return l->file.error != 0;
}

uint64_t alertlog_records(const struct alertlog *l)
{
	return l->records;
}

bool alertlog_close(struct alertlog *l, char *err, size_t errlen)
{
	bool ok = atomic_file_commit(&l->file, err, errlen);
	free(l);
	return ok;
}

bool alertlog_abandon(struct alertlog *l, char *err, size_t errlen)
{
	bool ok = atomic_file_abandon(&l->file, ALERTLOG_INCOMPLETE_NAME, err, errlen);
	free(l);
	return ok;
}
