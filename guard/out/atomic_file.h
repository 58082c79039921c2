/* A file that appears under its final name only when it is complete: it is
 * written under a temporary name in the same directory and renamed at commit,
 * so a crash or an error never leaves a complete-looking file behind. */
#ifndef KG_ATOMIC_FILE_H
#define KG_ATOMIC_FILE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct atomic_file {
	FILE *fp;
	char dir[PATH_MAX];
	char tmp_path[PATH_MAX];
	char final_path[PATH_MAX];
	int error; /* first write errno, 0 if none */
};

/* Creates DIR/NAME.tmp.<pid>.<n> (mode 0666 minus umask). On failure returns
 * false with a message naming the path and the errno text in err. */
bool atomic_file_open(struct atomic_file *f, const char *dir, const char *name, char *err,
		      size_t errlen);
/* Buffered write; an error is remembered and reported by commit. */
void atomic_file_write(struct atomic_file *f, const void *data, size_t len);
/* Flush, fsync, close, then rename to DIR/NAME. On failure the temporary file
 * is removed and err says why. Either way f is closed. */
bool atomic_file_commit(struct atomic_file *f, char *err, size_t errlen);
/* Close without committing: the data so far is kept as DIR/keep_name (e.g.
 * "conn.log.incomplete"), or removed if keep_name is NULL. */
bool atomic_file_abandon(struct atomic_file *f, const char *keep_name, char *err, size_t errlen);

#endif
