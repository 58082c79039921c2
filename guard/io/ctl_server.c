/* The control socket: accept, read one line, parse, call a handler, write the
 * answer, all without blocking. */
#define _GNU_SOURCE /* accept4 */
#include "io/ctl_server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define CTL_LISTEN_BACKLOG 16
#define CTL_EVENTS_PER_RUN 32
#define CTL_ACCEPTS_PER_RUN 64
#define CTL_REPLY_START 4096
/* Room kept at the end of an answer for its final line. */
#define CTL_FINAL_RESERVE (CTL_ERR_MAX + 16)
#define CTL_WORDS_MAX 3
#define CTL_SHOWN_MAX 40 /* a word quoted in an error is cut to this */
#define LISTEN_TAG UINT32_MAX

struct ctl_reply {
	char *buf;
	size_t len, cap, limit;
	bool cut, oom, failed;
	char err[CTL_ERR_MAX];
};

struct ctl_client {
	int fd; /* -1: free slot */
	char *in;
	size_t in_len;
	char *out; /* the answer being sent, owned */
	size_t out_len, out_off;
	bool close_after; /* close once the answer is sent */
	bool peer_eof;
	uint64_t last_ms;
};

struct ctl_server {
	struct ctl_server_config cfg;
	struct ctl_handlers h;
	int listen_fd, epoll_fd;
	dev_t sock_dev;
	ino_t sock_ino;
	unsigned n_clients;
	struct ctl_client *clients;
	struct ctl_server_stats stats;
};

void ctl_server_config_defaults(struct ctl_server_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->path, sizeof(cfg->path), "%s", CTL_DEFAULT_PATH);
	cfg->max_clients = 8;
	cfg->max_line = 1024;
	cfg->max_response = 16u << 20;
	cfg->idle_timeout_ms = 10000;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* --- answers --------------------------------------------------------------- */

/* Makes room for n more bytes (body lines keep CTL_FINAL_RESERVE free). */
static bool reply_room(struct ctl_reply *r, size_t n, bool body)
{
	size_t need = r->len + n + (body ? CTL_FINAL_RESERVE : 0);
	if (body && need > r->limit) {
		r->cut = true;
		return false;
	}
	if (need <= r->cap)
		return true;
	size_t cap = r->cap ? r->cap : CTL_REPLY_START;
	while (cap < need)
		cap *= 2;
	char *b = realloc(r->buf, cap);
	if (b == NULL) {
		r->oom = true;
		return false;
	}
	r->buf = b;
	r->cap = cap;
	return true;
}

static void flatten_newlines(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n' || s[i] == '\r')
			s[i] = ' ';
}

static void reply_vline(struct ctl_reply *r, const char *fmt, va_list ap)
{
	if (r->cut || r->oom)
		return;
	va_list aq;
	va_copy(aq, ap);
	int n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	/* +1 a leading space if needed, +1 newline, +1 vsnprintf's NUL */
	if (!reply_room(r, (size_t)n + 3, true))
		return;
	char *at = r->buf + r->len;
	vsnprintf(at + 1, (size_t)n + 1, fmt, ap);
	flatten_newlines(at + 1, (size_t)n);
	bool guard = strcmp(at + 1, "ok") == 0 || strncmp(at + 1, "error:", 6) == 0;
	if (guard) {
		at[0] = ' ';
	} else {
		memmove(at, at + 1, (size_t)n);
	}
	size_t len = (size_t)n + (guard ? 1 : 0);
	at[len] = '\n';
	r->len += len + 1;
}

void ctl_reply_line(struct ctl_reply *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_vline(r, fmt, ap);
	va_end(ap);
}

void ctl_reply_text(void *reply, const char *text)
{
	ctl_reply_line(reply, "%s", text);
}

void ctl_reply_fail(struct ctl_reply *r, const char *fmt, ...)
{
	if (r->failed)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	flatten_newlines(r->err, strlen(r->err));
	r->failed = true;
}

/* Appends the final line; the reserve guarantees it fits unless out of memory. */
static bool reply_finish(struct ctl_server *s, struct ctl_reply *r)
{
	char final[CTL_FINAL_RESERVE];
	if (r->failed)
		snprintf(final, sizeof(final), "error: %s\n", r->err);
	else if (r->oom)
		snprintf(final, sizeof(final), "error: out of memory while answering\n");
	else if (r->cut)
		snprintf(final, sizeof(final),
			 "error: the answer is longer than %zu bytes and was cut there\n",
			 s->cfg.max_response);
	else
		snprintf(final, sizeof(final), "ok\n");
	if (r->cut || r->oom)
		s->stats.answers_cut++;
	size_t n = strlen(final);
	if (!reply_room(r, n, false))
		return false;
	memcpy(r->buf + r->len, final, n);
	r->len += n;
	return true;
}

/* --- requests -------------------------------------------------------------- */

static const char COMMANDS[] = "status, mode, blocked, unblock, reload, report or help";

static void bad_request(struct ctl_server *s, struct ctl_reply *r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad_request(struct ctl_server *s, struct ctl_reply *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->failed = true;
	s->stats.bad_requests++;
}

static bool want_args(struct ctl_server *s, struct ctl_reply *r, char **w, size_t n, size_t want,
		      const char *usage)
{
	if (n == want)
		return true;
	if (n < want)
		bad_request(s, r, "'%s' needs an argument: %s", w[0], usage);
	else
		bad_request(s, r, "'%s' takes %s: %s", w[0],
			    want == 1 ? "no argument" : "one argument", usage);
	return false;
}

static bool available(struct ctl_reply *r, const void *handler, const char *name)
{
	if (handler)
		return true;
	ctl_reply_fail(r, "'%s' is not available in this daemon", name);
	return false;
}

static void dispatch(struct ctl_server *s, char *line, struct ctl_reply *r)
{
	for (const char *c = line; *c; c++) {
		if ((*c < 0x20 || *c > 0x7e) && *c != '\t') {
			bad_request(s, r, "the request holds a byte that is not printable ASCII");
			return;
		}
	}
	char *w[CTL_WORDS_MAX + 1];
	size_t n = 0;
	for (char *save = NULL, *t = strtok_r(line, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save)) {
		if (n == CTL_WORDS_MAX + 1) {
			n++;
			break;
		}
		w[n++] = t;
	}
	if (n == 0) {
		bad_request(s, r, "empty request; expected %s", COMMANDS);
		return;
	}
	const struct ctl_handlers *h = &s->h;
	if (strcmp(w[0], "status") == 0) {
		if (want_args(s, r, w, n, 1, "status") && available(r, h->status, w[0]))
			h->status(h->ctx, r);
	} else if (strcmp(w[0], "mode") == 0) {
		enum policy_mode m;
		if (!want_args(s, r, w, n, 2, "mode monitor|enforce"))
			return;
		if (!policy_mode_parse(w[1], &m)) {
			bad_request(s, r, "mode '%.*s': expected monitor or enforce", CTL_SHOWN_MAX,
				    w[1]);
			return;
		}
		if (available(r, h->set_mode, w[0]))
			h->set_mode(h->ctx, m, r);
	} else if (strcmp(w[0], "blocked") == 0) {
		if (want_args(s, r, w, n, 1, "blocked") && available(r, h->blocked, w[0]))
			h->blocked(h->ctx, r);
	} else if (strcmp(w[0], "unblock") == 0) {
		struct kg_addr a;
		if (!want_args(s, r, w, n, 2, "unblock ADDR"))
			return;
		if (!addr_parse(w[1], &a)) {
			bad_request(s, r, "'%.*s' is not an IPv4 or IPv6 address", CTL_SHOWN_MAX,
				    w[1]);
			return;
		}
		if (available(r, h->unblock, w[0]))
			h->unblock(h->ctx, &a, r);
	} else if (strcmp(w[0], "reload") == 0) {
		if (want_args(s, r, w, n, 1, "reload") && available(r, h->reload, w[0]))
			h->reload(h->ctx, r);
	} else if (strcmp(w[0], "report") == 0) {
		if (!want_args(s, r, w, n, 2, "report remote"))
			return;
		if (strcmp(w[1], "remote") != 0) {
			bad_request(s, r, "report '%.*s': the only report is 'remote'",
				    CTL_SHOWN_MAX, w[1]);
			return;
		}
		if (available(r, h->report_remote, "report remote"))
			h->report_remote(h->ctx, r);
	} else if (strcmp(w[0], "help") == 0) {
		if (!want_args(s, r, w, n, 1, "help"))
			return;
		ctl_reply_line(r, "status                 counters: mode, uptime, queue, packets, "
				  "verdicts, flows, alerts, syslog");
		ctl_reply_line(r, "mode monitor|enforce   switch the mode, keeping all state");
		ctl_reply_line(r, "blocked                the blocked hosts and their timeouts");
		ctl_reply_line(r, "unblock ADDR           take ADDR out of the blocked sets");
		ctl_reply_line(r, "reload                 read the configuration again");
		ctl_reply_line(r, "report remote          the remote-access inventory");
	} else {
		bad_request(s, r, "unknown command '%.*s'; expected %s", CTL_SHOWN_MAX, w[0],
			    COMMANDS);
	}
}

/* --- clients --------------------------------------------------------------- */

static void client_watch(struct ctl_server *s, uint32_t slot, uint32_t events, int op)
{
	struct epoll_event ev = {.events = events, .data.u32 = slot};
	if (epoll_ctl(s->epoll_fd, op, s->clients[slot].fd, &ev) != 0)
		s->stats.io_errors++;
}

static void client_close(struct ctl_server *s, uint32_t slot)
{
	struct ctl_client *c = &s->clients[slot];
	if (c->fd < 0)
		return;
	epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	c->in_len = 0;
	c->fd = -1;
	c->close_after = c->peer_eof = false;
	s->n_clients--;
}

/* Sends what the socket takes. False if the client was closed. */
static bool client_flush(struct ctl_server *s, uint32_t slot)
{
	struct ctl_client *c = &s->clients[slot];
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n <= 0) {
			s->stats.io_errors++;
			client_close(s, slot);
			return false;
		}
		c->out_off += (size_t)n;
		c->last_ms = now_ms();
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (c->close_after) {
		client_close(s, slot);
		return false;
	}
	return true;
}

/* Hands an answer to the client and starts sending it. False if closed. */
static bool client_answer(struct ctl_server *s, uint32_t slot, struct ctl_reply *r)
{
	struct ctl_client *c = &s->clients[slot];
	s->stats.requests++;
	if (!reply_finish(s, r)) {
		free(r->buf);
		static const char oom[] = "error: out of memory while answering\n";
		r->buf = malloc(sizeof(oom));
		if (r->buf == NULL) {
			client_close(s, slot);
			return false;
		}
		memcpy(r->buf, oom, sizeof(oom) - 1);
		r->len = sizeof(oom) - 1;
	}
	c->out = r->buf;
	c->out_len = r->len;
	c->out_off = 0;
	r->buf = NULL;
	if (!client_flush(s, slot))
		return false;
	if (c->out)
		client_watch(s, slot, EPOLLOUT, EPOLL_CTL_MOD);
	return true;
}

static bool client_error(struct ctl_server *s, uint32_t slot, const char *msg)
{
	struct ctl_reply r = {0};
	r.limit = s->cfg.max_response;
	ctl_reply_fail(&r, "%s", msg);
	s->clients[slot].close_after = true;
	return client_answer(s, slot, &r);
}

/* Answers the complete lines in the buffer, one at a time: stops while an
 * answer is still being sent. False if the client was closed. */
static bool client_process(struct ctl_server *s, uint32_t slot)
{
	struct ctl_client *c = &s->clients[slot];
	while (c->fd >= 0 && c->out == NULL) {
		char *nl = memchr(c->in, '\n', c->in_len);
		if (nl == NULL && !(c->peer_eof && c->in_len > 0)) {
			if (c->in_len > s->cfg.max_line + 1) {
				char msg[128];
				s->stats.too_long++;
				snprintf(msg, sizeof(msg),
					 "the request is longer than %zu bytes; it was ignored",
					 s->cfg.max_line);
				return client_error(s, slot, msg);
			}
			if (c->peer_eof)
				client_close(s, slot);
			return c->fd >= 0;
		}
		/* A last line without a newline before EOF is still a request. */
		size_t used = nl ? (size_t)(nl - c->in) + 1 : c->in_len;
		size_t len = nl ? (size_t)(nl - c->in) : c->in_len;
		if (len > 0 && c->in[len - 1] == '\r')
			len--;
		if (len > s->cfg.max_line) {
			char msg[128];
			s->stats.too_long++;
			snprintf(msg, sizeof(msg),
				 "the request is longer than %zu bytes; it was ignored",
				 s->cfg.max_line);
			return client_error(s, slot, msg);
		}
		/* The buffer has a byte to spare past max_line + 2 for this NUL. */
		char *line = c->in;
		line[len] = '\0';
		struct ctl_reply r = {0};
		r.limit = s->cfg.max_response;
		if (memchr(line, '\0', len))
			bad_request(s, &r, "the request holds a byte that is not printable ASCII");
		else
			dispatch(s, line, &r);
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
		if (c->peer_eof && c->in_len == 0)
			c->close_after = true;
		if (!client_answer(s, slot, &r))
			return false;
	}
	return c->fd >= 0;
}

static void client_readable(struct ctl_server *s, uint32_t slot)
{
	struct ctl_client *c = &s->clients[slot];
	size_t cap = s->cfg.max_line + 2;
	if (c->in_len < cap) {
		ssize_t n = recv(c->fd, c->in + c->in_len, cap - c->in_len, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			s->stats.io_errors++;
			client_close(s, slot);
			return;
		}
		if (n == 0)
			c->peer_eof = true;
		c->in_len += (size_t)n;
		c->last_ms = now_ms();
	}
	client_process(s, slot);
}

static void client_writable(struct ctl_server *s, uint32_t slot)
{
	struct ctl_client *c = &s->clients[slot];
	if (!client_flush(s, slot) || c->out)
		return;
	client_watch(s, slot, EPOLLIN, EPOLL_CTL_MOD);
	client_process(s, slot); /* requests that came while answering */
}

static void accept_clients(struct ctl_server *s)
{
	for (int i = 0; i < CTL_ACCEPTS_PER_RUN; i++) {
		int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				s->stats.io_errors++;
			return;
		}
		if (s->n_clients >= s->cfg.max_clients) {
			char msg[128];
			int n = snprintf(
				msg, sizeof(msg),
				"error: too many control clients (at most %u); try again\n",
				s->cfg.max_clients);
			if (send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				s->stats.io_errors++;
			close(fd);
			s->stats.refused_full++;
			continue;
		}
		uint32_t slot = 0;
		while (s->clients[slot].fd >= 0)
			slot++;
		struct ctl_client *c = &s->clients[slot];
		c->fd = fd;
		c->in_len = 0;
		c->last_ms = now_ms();
		s->n_clients++;
		s->stats.accepted++;
		client_watch(s, slot, EPOLLIN, EPOLL_CTL_ADD);
	}
}

static void expire_idle(struct ctl_server *s)
{
	uint64_t now = now_ms();
	for (uint32_t i = 0; i < s->cfg.max_clients; i++) {
		struct ctl_client *c = &s->clients[i];
		if (c->fd < 0 || now - c->last_ms < s->cfg.idle_timeout_ms)
			continue;
		s->stats.idle_closed++;
		if (c->out == NULL) {
			char msg[96];
			int n = snprintf(msg, sizeof(msg),
					 "error: no complete request within %u ms; closing\n",
					 s->cfg.idle_timeout_ms);
			if (send(c->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
				s->stats.io_errors++;
		}
		client_close(s, i);
	}
}

void ctl_server_run(struct ctl_server *s)
{
	struct epoll_event ev[CTL_EVENTS_PER_RUN];
	int n = epoll_wait(s->epoll_fd, ev, CTL_EVENTS_PER_RUN, 0);
	for (int i = 0; i < n; i++) {
		uint32_t slot = ev[i].data.u32;
		if (slot == LISTEN_TAG) {
			accept_clients(s);
			continue;
		}
		if (slot >= s->cfg.max_clients || s->clients[slot].fd < 0)
			continue; /* closed earlier in this batch */
		if (ev[i].events & EPOLLOUT)
			client_writable(s, slot);
		else if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			client_readable(s, slot);
	}
	expire_idle(s);
}

/* --- setup ----------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
							  ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool resolve_group(const char *name, gid_t *out, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(name, &end, 10);
	if (name[0] >= '0' && name[0] <= '9' && *end == '\0' && errno == 0 && v < (gid_t)-1) {
		*out = (gid_t)v;
		return true;
	}
	struct group gr, *found = NULL;
	char buf[16384];
	int e = getgrnam_r(name, &gr, buf, sizeof(buf), &found);
	if (found == NULL) {
		set_err(err, errlen, "control group '%s' %s", name,
			e ? strerror(e) : "does not exist");
		return false;
	}
	*out = gr.gr_gid;
	return true;
}

/* A socket file left behind: replaced if nobody listens there any more. */
static bool clear_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return true;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return false;
	}
	if (!S_ISSOCK(st.st_mode)) {
		set_err(err, errlen, "%s exists and is not a socket; not replacing it", path);
		return false;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		set_err(err, errlen, "socket: %s", strerror(errno));
		return false;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	close(fd);
	if (rc == 0) {
		set_err(err, errlen,
			"%s: another process is listening there (is knockguard already running?)",
			path);
		return false;
	}
	if (e != ECONNREFUSED) {
		set_err(err, errlen, "%s: cannot tell whether it is in use: %s", path, strerror(e));
		return false;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		set_err(err, errlen, "%s: cannot remove the stale socket: %s", path,
			strerror(errno));
		return false;
	}
	return true;
}

/* The socket's directory; only its last component is created. */
static bool ensure_parent(const char *path, char *err, size_t errlen)
{
	char dir[CTL_PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (slash == NULL || slash == path)
		return true;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return true;
		set_err(err, errlen, "%s: %s is not a directory", path, dir);
		return false;
	}
	if (errno == ENOENT && mkdir(dir, 0755) == 0)
		return true;
	set_err(err, errlen, "%s: cannot create the directory %s: %s", path, dir, strerror(errno));
	return false;
}

static bool bind_socket(struct ctl_server *s, char *err, size_t errlen)
{
	const char *path = s->cfg.path;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	gid_t gid = 0;
	if (s->cfg.group[0] && !resolve_group(s->cfg.group, &gid, err, errlen))
		return false;
	if (!ensure_parent(path, err, errlen) || !clear_stale(path, err, errlen))
		return false;
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0) {
		set_err(err, errlen, "%s: socket: %s", path, strerror(errno));
		return false;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* Nobody but the owner may connect before the group and mode are set. */
	mode_t old = umask(0177);
	int rc = bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (rc != 0) {
		set_err(err, errlen, "%s: bind: %s", path, strerror(e));
		return false;
	}
	struct stat st;
	if (s->cfg.group[0] && chown(path, (uid_t)-1, gid) != 0) {
		set_err(err, errlen, "%s: cannot give it to group '%s': %s", path, s->cfg.group,
			strerror(errno));
		unlink(path);
		return false;
	}
	if (chmod(path, 0660) != 0 || stat(path, &st) != 0) {
		set_err(err, errlen, "%s: chmod: %s", path, strerror(errno));
		unlink(path);
		return false;
	}
	s->sock_dev = st.st_dev;
	s->sock_ino = st.st_ino;
	if (listen(s->listen_fd, CTL_LISTEN_BACKLOG) != 0) {
		set_err(err, errlen, "%s: listen: %s", path, strerror(errno));
		unlink(path);
		return false;
	}
	return true;
}

struct ctl_server *ctl_server_create(const struct ctl_server_config *cfg,
				     const struct ctl_handlers *h, char *err, size_t errlen)
{
	size_t plen = strnlen(cfg->path, sizeof(cfg->path));
	if (plen == 0 || plen >= sizeof(cfg->path)) {
		set_err(err, errlen, "control socket path must be 1 to %zu bytes",
			sizeof(cfg->path) - 1);
		return NULL;
	}
	if (cfg->max_clients == 0 || cfg->max_clients > 1024 || cfg->max_line < 16 ||
	    cfg->max_line > 65536 || cfg->max_response < 4096 || cfg->idle_timeout_ms == 0) {
		set_err(err, errlen,
			"control socket limits out of range (clients 1-1024, line 16-65536, "
			"answer >= 4096, idle timeout > 0)");
		return NULL;
	}
	struct ctl_server *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		set_err(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	s->cfg = *cfg;
	if (h)
		s->h = *h;
	s->listen_fd = s->epoll_fd = -1;
	s->clients = calloc(cfg->max_clients, sizeof(*s->clients));
	bool ok = s->clients != NULL;
	for (unsigned i = 0; ok && i < cfg->max_clients; i++) {
		s->clients[i].fd = -1;
		s->clients[i].in = malloc(cfg->max_line + 3);
		ok = s->clients[i].in != NULL;
	}
	if (!ok) {
		set_err(err, errlen, "%s", strerror(ENOMEM));
		ctl_server_destroy(s);
		return NULL;
	}
	if (!bind_socket(s, err, errlen)) {
		if (s->listen_fd >= 0)
			close(s->listen_fd);
		s->listen_fd = -1; /* nothing of ours to unlink */
		ctl_server_destroy(s);
		return NULL;
	}
	s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = LISTEN_TAG};
	if (s->epoll_fd < 0 || epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, s->listen_fd, &ev) != 0) {
		set_err(err, errlen, "%s: epoll: %s", cfg->path, strerror(errno));
		ctl_server_destroy(s);
		return NULL;
	}
	return s;
}

void ctl_server_destroy(struct ctl_server *s)
{
	if (s == NULL)
		return;
	for (unsigned i = 0; s->clients && i < s->cfg.max_clients; i++) {
		client_close(s, i);
		free(s->clients[i].in);
	}
	free(s->clients);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		/* Only our own socket: a newer daemon may have replaced it. */
		struct stat st;
		if (lstat(s->cfg.path, &st) == 0 && st.st_dev == s->sock_dev &&
		    st.st_ino == s->sock_ino)
			unlink(s->cfg.path);
	}
	if (s->epoll_fd >= 0)
		close(s->epoll_fd);
	free(s);
}

int ctl_server_fd(const struct ctl_server *s)
{
	return s->epoll_fd;
}

unsigned ctl_server_clients(const struct ctl_server *s)
{
	return s->n_clients;
}

const struct ctl_server_stats *ctl_server_stats(const struct ctl_server *s)
{
	return &s->stats;
}
