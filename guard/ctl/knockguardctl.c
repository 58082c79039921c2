/* knockguardctl: the operator's client for the daemon's control socket. Sends
 * one request line, prints the answer's body on stdout, and exits 0 on "ok",
 * 1 on "error: ..." (the sentence on stderr). The protocol is described in
 * guard/io/ctl_server.h. Exit codes (sysexits): 64 usage, 69 the socket cannot
 * be reached or does not answer, 76 the answer breaks the protocol. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/ctl_server.h"
#include "policy.h"
#include "util/addr.h"

#define EX_OK 0
#define EX_FAILED 1
#define EX_USAGE 64
#define EX_UNAVAILABLE 69
#define EX_PROTOCOL 76

#define ANSWER_TIMEOUT_MS 60000 /* a reload of a large config is still quick */
#define LINE_MAX_BYTES (1 << 20)
#define REQUEST_MAX 256

static const char USAGE[] =
	"usage: knockguardctl [-s SOCKET] COMMAND\n"
	"commands:\n"
	"  status                 mode, uptime, queue, packets, verdicts, drops, flows,\n"
	"                         evictions, alerts, syslog, malformed counts\n"
	"  mode monitor|enforce   switch the mode at run time, keeping all state\n"
	"  blocked                the blocked hosts, with their timeouts\n"
	"  unblock ADDR           take ADDR out of the blocked sets\n"
	"  reload                 read the configuration again (a bad one is refused)\n"
	"  report remote          the remote-access inventory\n"
	"options:\n"
	"  -s SOCKET              the control socket (default " CTL_DEFAULT_PATH ")\n"
	"  -h                     this help\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("knockguardctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	fputs(USAGE, stderr);
	return EX_USAGE;
}

/* Checks the command the way the server will, so that a typo is a usage
 * error before any connection, and builds the request line. */
static int build_request(int argc, char **argv, char *req, size_t cap)
{
	if (argc == 0)
		return usage_error("no command given");
	const char *cmd = argv[0];
	int want = -1;
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "blocked") == 0 ||
	    strcmp(cmd, "reload") == 0) {
		want = 0;
	} else if (strcmp(cmd, "mode") == 0) {
		enum policy_mode m;
		if (argc != 2)
			return usage_error("'mode' takes one argument: monitor or enforce");
		if (!policy_mode_parse(argv[1], &m))
			return usage_error("mode '%s': expected monitor or enforce", argv[1]);
		want = 1;
	} else if (strcmp(cmd, "unblock") == 0) {
		struct kg_addr a;
		if (argc != 2)
			return usage_error("'unblock' takes one argument: an IPv4 or IPv6 address");
		if (!addr_parse(argv[1], &a))
			return usage_error("'%s' is not an IPv4 or IPv6 address", argv[1]);
		want = 1;
	} else if (strcmp(cmd, "report") == 0) {
		if (argc != 2 || strcmp(argv[1], "remote") != 0)
			return usage_error("the only report is 'report remote'");
		want = 1;
	} else {
		return usage_error("unknown command '%s'", cmd);
	}
	if (argc - 1 != want)
		return usage_error("'%s' takes no argument", cmd);
	int n = snprintf(req, cap, "%s%s%s\n", cmd, want ? " " : "", want ? argv[1] : "");
	if (n < 0 || (size_t)n >= cap)
		return usage_error("the argument is too long");
	return EX_OK;
}

static int connect_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "knockguardctl: socket: %s\n", strerror(errno));
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1); /* length checked by the caller */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		const char *hint = "";
		if (e == ENOENT || e == ECONNREFUSED)
			hint = " (is knockguard running?)";
		else if (e == EACCES)
			hint = " (are you root, or in the control group?)";
		fprintf(stderr, "knockguardctl: cannot connect to %s: %s%s\n", path, strerror(e),
			hint);
		close(fd);
		return -1;
	}
	return fd;
}

static bool send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

struct reader {
	char *line;
	size_t len, cap;
	int status; /* -1 while no final line was seen */
};

/* One complete line of the answer (without its newline). */
static void on_line(struct reader *r, char *line, size_t len)
{
	line[len] = '\0';
	if (strcmp(line, "ok") == 0) {
		r->status = EX_OK;
	} else if (strncmp(line, "error: ", 7) == 0) {
		fprintf(stderr, "knockguardctl: %s\n", line + 7);
		r->status = EX_FAILED;
	} else {
		/* A body line, as sent (one that looked final came with a space in front). */
		fputs(line, stdout);
		fputc('\n', stdout);
	}
}

static int read_answer(int fd, const char *path)
{
	struct reader r = {.status = -1};
	char buf[65536];
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		int pr = poll(&p, 1, ANSWER_TIMEOUT_MS);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0) {
			fprintf(stderr, "knockguardctl: no answer from %s within %d s\n", path,
				ANSWER_TIMEOUT_MS / 1000);
			free(r.line);
			return EX_UNAVAILABLE;
		}
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "knockguardctl: reading from %s: %s\n", path,
				strerror(errno));
			free(r.line);
			return EX_UNAVAILABLE;
		}
		if (n == 0) {
			free(r.line);
			fprintf(stderr,
				"knockguardctl: %s closed the connection before the answer was "
				"complete\n",
				path);
			return EX_PROTOCOL;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				if (r.len == r.cap) {
					char *l = realloc(r.line, r.cap + 1);
					if (l == NULL)
						goto oom;
					r.line = l;
					r.cap++;
				}
				on_line(&r, r.line, r.len);
				r.len = 0;
				if (r.status >= 0) {
					free(r.line);
					fflush(stdout);
					return r.status;
				}
				continue;
			}
			if (r.len + 1 >= r.cap) {
				if (r.cap >= LINE_MAX_BYTES) {
					free(r.line);
					fprintf(stderr,
						"knockguardctl: %s sent a line longer than %d bytes\n",
						path, LINE_MAX_BYTES);
					return EX_PROTOCOL;
				}
				size_t cap = r.cap ? r.cap * 2 : 256;
				char *l = realloc(r.line, cap);
				if (l == NULL)
					goto oom;
				r.line = l;
				r.cap = cap;
			}
			r.line[r.len++] = buf[i];
		}
	}
oom:
	free(r.line);
	fprintf(stderr, "knockguardctl: %s\n", strerror(ENOMEM));
	return EX_UNAVAILABLE;
}

int main(int argc, char **argv)
{
	const char *path = CTL_DEFAULT_PATH;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(USAGE, stdout);
			return EX_OK;
		}
		if (strcmp(argv[i], "-s") == 0) {
			if (i + 1 >= argc)
				return usage_error("option '-s' needs a socket path");
			path = argv[++i];
			continue;
		}
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		return usage_error("unknown option '%s'", argv[i]);
	}
	size_t plen = strlen(path);
	if (plen == 0 || plen >= CTL_PATH_MAX)
		return usage_error("the socket path must be 1 to %d bytes", CTL_PATH_MAX - 1);
	char req[REQUEST_MAX];
	int rc = build_request(argc - i, argv + i, req, sizeof(req));
	if (rc != EX_OK)
		return rc;

	int fd = connect_socket(path);
	if (fd < 0)
		return EX_UNAVAILABLE;
	if (!send_all(fd, req, strlen(req))) {
		fprintf(stderr, "knockguardctl: sending to %s: %s\n", path, strerror(errno));
		close(fd);
		return EX_UNAVAILABLE;
	}
	/* One request: the server answers it, then sees the end and closes. */
	shutdown(fd, SHUT_WR);
	rc = read_answer(fd, path);
	close(fd);
	return rc;
}
