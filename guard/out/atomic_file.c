#include "out/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ATOMIC_FILE_BUF (64 * 1024)

static bool atomic_file_fail(char *err, size_t errlen, const char *what, const char *path, int e)
{
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(e));
	return false;
}

static bool atomic_file_path(char *out, const char *dir, const char *name, const char *suffix)
{
	int n = snprintf(out, PATH_MAX, "%s/%s%s", dir, name, suffix);
	return n > 0 && n < PATH_MAX;
}

bool atomic_file_open(struct atomic_file *f, const char *dir, const char *name, char *err,
		      size_t errlen)
{
	memset(f, 0, sizeof(*f));
	if (!atomic_file_path(f->final_path, dir, name, "") ||
	    strlen(dir) >= sizeof(f->dir))
		return atomic_file_fail(err, errlen, "cannot create", dir, ENAMETOOLONG);
	memcpy(f->dir, dir, strlen(dir) + 1);

	/* O_EXCL with a pid-based name instead of mkstemp(): mkstemp forces mode
	 * 0600, and a log should get the usual umask-derived mode. */
	for (unsigned attempt = 0;; attempt++) {
		char suffix[48];
		snprintf(suffix, sizeof(suffix), ".tmp.%ld.%u", (long)getpid(), attempt);
		if (!atomic_file_path(f->tmp_path, dir, name, suffix))
			return atomic_file_fail(err, errlen, "cannot create", dir, ENAMETOOLONG);
		int fd = open(f->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
		if (fd >= 0) {
			f->fp = fdopen(fd, "w");
			if (f->fp == NULL) {
				int e = errno;
				close(fd);
				unlink(f->tmp_path);
				return atomic_file_fail(err, errlen, "cannot open", f->tmp_path, e);
			}
			setvbuf(f->fp, NULL, _IOFBF, ATOMIC_FILE_BUF);
			return true;
		}
		if (errno != EEXIST || attempt >= 100)
			return atomic_file_fail(err, errlen, "cannot create", f->tmp_path, errno);
	}
}

void atomic_file_write(struct atomic_file *f, const void *data, size_t len)
{
	if (f->error || len == 0)
		return;
	if (fwrite(data, 1, len, f->fp) != len)
		f->error = errno ? errno : EIO;
}

/* Flushes and closes; returns 0 or the first errno seen. */
static int atomic_file_close(struct atomic_file *f, bool sync)
{
	int e = f->error;
	if (fflush(f->fp) != 0 && !e)
		e = errno;
	if (sync && !e && fsync(fileno(f->fp)) != 0)
		e = errno;
	if (fclose(f->fp) != 0 && !e)
		e = errno;
	f->fp = NULL;
	return e;
}

bool atomic_file_commit(struct atomic_file *f, char *err, size_t errlen)
{
	int e = atomic_file_close(f, true);
	if (e) {
		unlink(f->tmp_path);
		return atomic_file_fail(err, errlen, "cannot write", f->tmp_path, e);
	}
	if (rename(f->tmp_path, f->final_path) != 0) {
		e = errno;
		unlink(f->tmp_path);
		return atomic_file_fail(err, errlen, "cannot rename to", f->final_path, e);
	}
	/* Make the rename itself durable; not every file system allows it. */
	int dfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return true;
}

bool atomic_file_abandon(struct atomic_file *f, const char *keep_name, char *err, size_t errlen)
{
	int e = atomic_file_close(f, false);
	if (keep_name == NULL) {
		unlink(f->tmp_path);
		return true;
	}
	char keep_path[PATH_MAX];
	if (!atomic_file_path(keep_path, f->dir, keep_name, "")) {
		unlink(f->tmp_path);
		return atomic_file_fail(err, errlen, "cannot keep", f->dir, ENAMETOOLONG);
	}
	if (rename(f->tmp_path, keep_path) != 0) {
		e = errno;
		unlink(f->tmp_path);
		return atomic_file_fail(err, errlen, "cannot rename to", keep_path, e);
	}
	if (e)
		return atomic_file_fail(err, errlen, "cannot write", keep_path, e);
	return true;
}
