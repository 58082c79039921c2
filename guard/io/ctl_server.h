/* The control socket knockguardctl talks to: a unix stream socket, owner the
 * daemon (root), group configurable, mode 0660, non-blocking, a bounded number
 * of clients and a bounded request line. The server parses requests and calls
 * the daemon's handlers; it knows nothing of the engine.
 *
 * Protocol, one request line -> one response:
 *   request   one line of printable ASCII ending in "\n" ("\r\n" accepted):
 *               status | mode monitor|enforce | blocked | unblock ADDR |
 *               reload | report remote | help
 *             words separated by spaces or tabs; at most max_line bytes.
 *   response  zero or more body lines, then a final line that is exactly "ok"
 *             or "error: <sentence>". A body line is never "ok" nor starts
 *             with "error:" (such a line is sent with one space in front).
 * A client may send several requests on one connection; each is answered in
 * turn (the next is not read while an answer is being sent). A request line
 * that is too long, or a client that stays idle with an unfinished request
 * longer than idle_timeout, is answered with an error and disconnected. When
 * max_clients are connected, a new client gets "error: ..." and is closed.
 *
 * Event loop: ctl_server_fd() is an epoll fd, readable whenever the server has
 * work; call ctl_server_run() then, and also from a periodic timer (idle
 * clients are closed there). */
#ifndef KG_CTL_SERVER_H
#define KG_CTL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "util/addr.h"

#define CTL_PATH_MAX 108 /* sizeof(sockaddr_un.sun_path) */
#define CTL_GROUP_MAX 64
#define CTL_ERR_MAX 512
#define CTL_DEFAULT_PATH "/run/knockguard/ctl.sock"

struct ctl_server_config {
	char path[CTL_PATH_MAX];   /* default CTL_DEFAULT_PATH */
	char group[CTL_GROUP_MAX]; /* group name or number; "" = the daemon's own group */
	unsigned max_clients;	   /* connected at once, default 8 */
	size_t max_line;	   /* request bytes without the newline, default 1024 */
	size_t max_response;	   /* bytes of one answer, default 16 MiB (then cut) */
	unsigned idle_timeout_ms;  /* unfinished request or unread answer, default 10000 */
};

void ctl_server_config_defaults(struct ctl_server_config *cfg);

/* An answer being written by a handler. */
struct ctl_reply;

/* One body line (printf format, no newline; '\r' and '\n' in it become
 * spaces). Lines beyond max_response are dropped and the answer ends in an
 * error saying it was cut. */
__attribute__((format(printf, 2, 3))) void ctl_reply_line(struct ctl_reply *r, const char *fmt,
							  ...);
/* The same, for callbacks of the shape void (*)(void *ctx, const char *text)
 * such as inventory_report()'s: ctx is the struct ctl_reply. */
void ctl_reply_text(void *reply, const char *text);
/* The request failed: the final line becomes "error: <sentence>" (the first
 * call wins). Body lines written before stay. */
__attribute__((format(printf, 2, 3))) void ctl_reply_fail(struct ctl_reply *r, const char *fmt,
							  ...);

/* What the daemon does for each request; any may be NULL ("not available").
 * Each runs synchronously inside ctl_server_run() and writes its answer into
 * r; the server adds the final "ok" unless ctl_reply_fail was called. */
struct ctl_handlers {
	void *ctx;
	void (*status)(void *ctx, struct ctl_reply *r);
	void (*set_mode)(void *ctx, enum policy_mode m, struct ctl_reply *r);
	void (*blocked)(void *ctx, struct ctl_reply *r);
	void (*unblock)(void *ctx, const struct kg_addr *a, struct ctl_reply *r);
	void (*reload)(void *ctx, struct ctl_reply *r);
	void (*report_remote)(void *ctx, struct ctl_reply *r);
};

struct ctl_server_stats {
	uint64_t accepted;
	uint64_t refused_full; /* max_clients already connected */
	uint64_t requests;     /* answered, good or bad */
	uint64_t bad_requests; /* unknown command, bad arguments, control characters */
	uint64_t too_long;     /* request longer than max_line: disconnected */
	uint64_t idle_closed;  /* idle_timeout: disconnected */
	uint64_t answers_cut;  /* longer than max_response */
	uint64_t io_errors;    /* accept/read/write failures other than EAGAIN */
};

struct ctl_server;

/* Binds cfg->path (a stale socket left by a dead daemon is replaced; a live
 * one, or any other file, is an error; a missing last directory is created,
 * mode 0755), sets the group and mode 0660, listens. NULL with one sentence in
 * err naming the path. The handlers are copied. */
struct ctl_server *ctl_server_create(const struct ctl_server_config *cfg,
				     const struct ctl_handlers *h, char *err, size_t errlen);
/* Closes every client and the socket, and removes the socket file. */
void ctl_server_destroy(struct ctl_server *s);
int ctl_server_fd(const struct ctl_server *s);
/* Does whatever can be done without waiting: accepts, reads, answers, writes,
 * closes idle clients. */
void ctl_server_run(struct ctl_server *s);
unsigned ctl_server_clients(const struct ctl_server *s);
const struct ctl_server_stats *ctl_server_stats(const struct ctl_server *s);

#endif
