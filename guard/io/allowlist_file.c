#include "io/allowlist_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool bits_allowlist_load_file(struct bits_config *c, const char *path, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	char *text = malloc(ALLOWLIST_FILE_MAX + 1);
	if (text == NULL) {
		fclose(fp);
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return false;
	}
	size_t n = fread(text, 1, ALLOWLIST_FILE_MAX + 1, fp);
	bool read_error = ferror(fp) != 0;
	int e = errno;
	fclose(fp);
	bool ok = false;
	if (read_error) {
		snprintf(err, errlen, "%s: %s", path, strerror(e ? e : EIO));
	} else if (n > ALLOWLIST_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, ALLOWLIST_FILE_MAX);
	} else {
		char why[256];
		ok = bits_allowlist_parse(c, text, n, why, sizeof(why));
		if (!ok)
			snprintf(err, errlen, "%s: %s", path, why);
	}
	free(text);
	return ok;
}
