/* ctl_server: a real unix socket in a private temporary directory; requests
 * and their answers, bad input, a too long line, many clients, a large
 * answer, idle clients, stale and live sockets, permissions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "io/ctl_server.h"

/* --- a fake daemon --------------------------------------------------------- */

struct fake {
	unsigned status, set_mode, blocked, unblock, reload, report;
	enum policy_mode mode;
	struct kg_addr unblocked;
	bool fail_reload;
	size_t report_lines;
};

static void h_status(void *ctx, struct ctl_reply *r)
{
	struct fake *f = ctx;
	f->status++;
	ctl_reply_line(r, "mode %s", policy_mode_name(f->mode));
	ctl_reply_line(r, "packets %u", 42u);
	ctl_reply_line(r, "ok"); /* a body line that looks final */
	ctl_reply_line(r, "error: not really");
	ctl_reply_line(r, "two\nlines");
}

static void h_set_mode(void *ctx, enum policy_mode m, struct ctl_reply *r)
{
	struct fake *f = ctx;
	f->set_mode++;
	ctl_reply_line(r, "mode %s -> %s", policy_mode_name(f->mode), policy_mode_name(m));
	f->mode = m;
}

static void h_blocked(void *ctx, struct ctl_reply *r)
{
	struct fake *f = ctx;
	f->blocked++;
	ctl_reply_text(r, "198.51.100.7 timeout 3600s");
}

static void h_unblock(void *ctx, const struct kg_addr *a, struct ctl_reply *r)
{
	struct fake *f = ctx;
	f->unblock++;
	f->unblocked = *a;
	(void)r;
}

static void h_reload(void *ctx, struct ctl_reply *r)
{
	struct fake *f = ctx;
	f->reload++;
	ctl_reply_line(r, "reading /etc/knockguard.conf");
	if (f->fail_reload) {
		ctl_reply_fail(r, "knockguard.conf:3: [log] format = 'xml': expected one of tsv, "
				  "json; the old configuration stays");
		ctl_reply_fail(r, "a second failure is ignored");
	}
}

static void h_report(void *ctx, struct ctl_reply *r)
{
	struct fake *f = ctx;
	f->report++;
	for (size_t i = 0; i < f->report_lines; i++)
		ctl_reply_line(r, "%08zu client 10.0.0.1 server 10.0.0.2 port 22 ssh", i);
}

/* --- fixture --------------------------------------------------------------- */

struct fixture {
	char dir[64];
	char path[CTL_PATH_MAX];
	struct ctl_server_config cfg;
	struct ctl_handlers h;
	struct fake fake;
	struct ctl_server *s;
};

static struct fixture *fx_new(void)
{
	struct fixture *x = calloc(1, sizeof(*x));
	assert_non_null(x);
	snprintf(x->dir, sizeof(x->dir), "%s/kg-ctl.XXXXXX",
		 getenv("TMPDIR") && strlen(getenv("TMPDIR")) < 30 ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->path, sizeof(x->path), "%s/run/ctl.sock", x->dir);
	ctl_server_config_defaults(&x->cfg);
	snprintf(x->cfg.path, sizeof(x->cfg.path), "%s", x->path);
	struct ctl_handlers h = {&x->fake,  h_status, h_set_mode, h_blocked,
				 h_unblock, h_reload, h_report};
	x->h = h;
	return x;
}

static void fx_start(struct fixture *x)
{
	char err[CTL_ERR_MAX];
	x->s = ctl_server_create(&x->cfg, &x->h, err, sizeof(err));
	if (x->s == NULL)
		fail_msg("ctl_server_create: %s", err);
}

static void fx_free(struct fixture *x)
{
	char sub[96];
	ctl_server_destroy(x->s);
	unlink(x->path);
	snprintf(sub, sizeof(sub), "%s/run", x->dir);
	rmdir(sub);
	assert_int_equal(rmdir(x->dir), 0);
	free(x);
}

static int setup(void **state)
{
	struct fixture *x = fx_new();
	fx_start(x);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx_free(*state);
	return 0;
}

static int dial(const char *path)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		fail_msg("connect %s: %s", path, strerror(errno));
	return fd;
}

static void send_all(int fd, const char *text, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, text, n, MSG_NOSIGNAL);
		if (w < 0)
			fail_msg("send: %s", strerror(errno));
		text += w;
		n -= (size_t)w;
	}
}

/* Whether text ends in a complete final line ("ok" or "error: ..."). */
static bool has_final(const char *text, size_t n)
{
	if (n == 0 || text[n - 1] != '\n')
		return false;
	size_t start = n - 1;
	while (start > 0 && text[start - 1] != '\n')
		start--;
	const char *l = text + start;
	return strncmp(l, "ok\n", 3) == 0 || strncmp(l, "error: ", 7) == 0;
}

struct answer {
	char *text;
	size_t len;
	bool eof;
};

/* Runs the server and reads until `finals` final lines arrived or the peer
 * closed; fails after 5 s. */
static void read_answers(struct ctl_server *s, int fd, struct answer *a, unsigned finals)
{
	size_t cap = 1 << 16;
	a->text = malloc(cap);
	a->len = 0;
	a->eof = false;
	assert_non_null(a->text);
	unsigned seen = 0;
	for (int spins = 0; spins < 50000; spins++) {
		ctl_server_run(s);
		for (;;) {
			if (a->len + 4096 > cap) {
				cap *= 2;
				a->text = realloc(a->text, cap);
				assert_non_null(a->text);
			}
			ssize_t n = recv(fd, a->text + a->len, cap - a->len - 1, MSG_DONTWAIT);
			if (n == 0) {
				a->eof = true;
				break;
			}
			if (n < 0)
				break;
			/* count final lines in the new bytes */
			size_t old = a->len;
			a->len += (size_t)n;
			for (size_t i = old; i < a->len; i++)
				if (a->text[i] == '\n' && has_final(a->text, i + 1))
					seen++;
		}
		a->text[a->len] = '\0';
		if (a->eof || seen >= finals)
			return;
		struct pollfd p[2] = {{ctl_server_fd(s), POLLIN, 0}, {fd, POLLIN, 0}};
		poll(p, 2, 1);
	}
	fail_msg("no answer; got so far: %.*s", (int)a->len, a->text);
}

/* One request, its answer; the connection stays open. */
static char *ask_on(struct ctl_server *s, int fd, const char *req)
{
	struct answer a;
	send_all(fd, req, strlen(req));
	read_answers(s, fd, &a, 1);
	return a.text;
}

static char *ask(struct fixture *x, const char *req)
{
	int fd = dial(x->path);
	char *t = ask_on(x->s, fd, req);
	close(fd);
	ctl_server_run(x->s);
	return t;
}

static void assert_answer(struct fixture *x, const char *req, const char *want)
{
	char *got = ask(x, req);
	if (strcmp(got, want) != 0)
		fail_msg("request %s\ngot:\n%s\nwant:\n%s", req, got, want);
	free(got);
}

/* --- tests ----------------------------------------------------------------- */

static void test_socket_file(void **state)
{
	struct fixture *x = *state;
	struct stat st;
	assert_int_equal(lstat(x->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(st.st_uid, geteuid());
	char dir[96];
	snprintf(dir, sizeof(dir), "%s/run", x->dir);
	assert_int_equal(stat(dir, &st), 0); /* created for us */
	assert_int_equal(st.st_mode & 0777, 0755);
	assert_true(ctl_server_fd(x->s) >= 0);
	assert_int_equal(ctl_server_clients(x->s), 0);
}

static void test_requests_and_answers(void **state)
{
	struct fixture *x = *state;
	assert_answer(x, "status\n",
		      "mode monitor\npackets 42\n ok\n error: not really\ntwo lines\nok\n");
	assert_int_equal(x->fake.status, 1);
	assert_answer(x, "mode enforce\n", "mode monitor -> enforce\nok\n");
	assert_int_equal(x->fake.mode, POLICY_ENFORCE);
	assert_answer(x, "  mode\tmonitor \r\n", "mode enforce -> monitor\nok\n");
	assert_int_equal(x->fake.set_mode, 2);
	assert_answer(x, "blocked\n", "198.51.100.7 timeout 3600s\nok\n");
	assert_answer(x, "unblock 2001:db8::7\n", "ok\n");
	struct kg_addr want;
	assert_true(addr_parse("2001:db8::7", &want));
	assert_true(addr_eq(&x->fake.unblocked, &want));
	assert_answer(x, "unblock 198.51.100.7\n", "ok\n");
	assert_int_equal(x->fake.unblock, 2);
	assert_answer(x, "reload\n", "reading /etc/knockguard.conf\nok\n");
	x->fake.fail_reload = true;
	assert_answer(x, "reload\n",
		      "reading /etc/knockguard.conf\nerror: knockguard.conf:3: [log] format = "
		      "'xml': expected one of tsv, json; the old configuration stays\n");
	x->fake.report_lines = 2;
	assert_answer(x, "report remote\n",
		      "00000000 client 10.0.0.1 server 10.0.0.2 port 22 ssh\n"
		      "00000001 client 10.0.0.1 server 10.0.0.2 port 22 ssh\nok\n");
	char *help = ask(x, "help\n");
	assert_non_null(strstr(help, "mode monitor|enforce"));
	assert_non_null(strstr(help, "report remote"));
	assert_true(has_final(help, strlen(help)) && strstr(help, "\nok\n"));
	free(help);
	assert_int_equal(ctl_server_stats(x->s)->requests, 10);
	assert_int_equal(ctl_server_stats(x->s)->bad_requests, 0);
}

static void test_bad_requests(void **state)
{
	struct fixture *x = *state;
	static const struct {
		const char *req, *want;
	} cases[] = {
		{"\n", "error: empty request; expected status, mode, blocked, unblock, reload, "
		       "report or help\n"},
		{"   \t\r\n", "error: empty request; expected status, mode, blocked, unblock, "
			      "reload, report or help\n"},
		{"stat\n", "error: unknown command 'stat'; expected status, mode, blocked, "
			   "unblock, reload, report or help\n"},
		{"STATUS\n", "error: unknown command 'STATUS'; expected status, mode, blocked, "
			     "unblock, reload, report or help\n"},
		{"status now\n", "error: 'status' takes no argument: status\n"},
		{"mode\n", "error: 'mode' needs an argument: mode monitor|enforce\n"},
		{"mode enforce now\n", "error: 'mode' takes one argument: mode monitor|enforce\n"},
		{"mode enforcing\n", "error: mode 'enforcing': expected monitor or enforce\n"},
		{"unblock\n", "error: 'unblock' needs an argument: unblock ADDR\n"},
		{"unblock 10.0.0.0/8\n", "error: '10.0.0.0/8' is not an IPv4 or IPv6 address\n"},
		{"unblock 1.2.3.4 5.6.7.8\n",
		 "error: 'unblock' takes one argument: unblock ADDR\n"},
		{"report\n", "error: 'report' needs an argument: report remote\n"},
		{"report bits\n", "error: report 'bits': the only report is 'remote'\n"},
		{"reload please\n", "error: 'reload' takes no argument: reload\n"},
		{"status\x01\n", "error: the request holds a byte that is not printable ASCII\n"},
		{"st\xc3\xa4tus\n",
		 "error: the request holds a byte that is not printable ASCII\n"},
		{"mode aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		 "error: mode 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa': expected monitor or "
		 "enforce\n"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_answer(x, cases[i].req, cases[i].want);
	/* A NUL in the line. */
	int fd = dial(x->path);
	send_all(fd, "sta\0tus\n", 8);
	struct answer a;
	read_answers(x->s, fd, &a, 1);
	assert_string_equal(a.text,
			    "error: the request holds a byte that is not printable ASCII\n");
	free(a.text);
	close(fd);
	/* None of them reached a handler. */
	assert_int_equal(x->fake.status + x->fake.set_mode + x->fake.unblock + x->fake.report +
				 x->fake.reload,
			 0);
	assert_int_equal(ctl_server_stats(x->s)->bad_requests,
			 sizeof(cases) / sizeof(cases[0]) + 1);
}

static void test_missing_handlers(void **state)
{
	(void)state;
	struct fixture *x = fx_new();
	x->h.reload = NULL;
	x->h.report_remote = NULL;
	fx_start(x);
	assert_answer(x, "reload\n", "error: 'reload' is not available in this daemon\n");
	assert_answer(x, "report remote\n",
		      "error: 'report remote' is not available in this daemon\n");
	assert_answer(x, "blocked\n", "198.51.100.7 timeout 3600s\nok\n");
	fx_free(x);
}

static void test_several_requests_one_connection(void **state)
{
	struct fixture *x = *state;
	int fd = dial(x->path);
	/* Three requests in one write: answered in turn, in order. */
	send_all(fd, "mode enforce\nbogus\nblocked\n", 27);
	struct answer a;
	read_answers(x->s, fd, &a, 3);
	assert_string_equal(a.text,
			    "mode monitor -> enforce\nok\n"
			    "error: unknown command 'bogus'; expected status, mode, blocked, "
			    "unblock, reload, report or help\n"
			    "198.51.100.7 timeout 3600s\nok\n");
	assert_false(a.eof);
	free(a.text);
	/* A request split over several writes. */
	send_all(fd, "mo", 2);
	ctl_server_run(x->s);
	send_all(fd, "de mon", 6);
	ctl_server_run(x->s);
	char *t = ask_on(x->s, fd, "itor\n");
	assert_string_equal(t, "mode enforce -> monitor\nok\n");
	free(t);
	assert_int_equal(ctl_server_clients(x->s), 1);
	close(fd);
	ctl_server_run(x->s);
	assert_int_equal(ctl_server_clients(x->s), 0);
}

static void test_last_line_without_newline(void **state)
{
	struct fixture *x = *state;
	int fd = dial(x->path);
	send_all(fd, "blocked", 7);
	shutdown(fd, SHUT_WR);
	struct answer a;
	read_answers(x->s, fd, &a, 1);
	assert_string_equal(a.text, "198.51.100.7 timeout 3600s\nok\n");
	free(a.text);
	/* then the server closes */
	read_answers(x->s, fd, &a, 1);
	assert_true(a.eof);
	assert_int_equal(a.len, 0);
	free(a.text);
	close(fd);
	assert_int_equal(ctl_server_clients(x->s), 0);
}

static void test_too_long_line(void **state)
{
	(void)state;
	struct fixture *x = fx_new();
	x->cfg.max_line = 64;
	fx_start(x);
	/* Exactly max_line bytes is fine (an unknown command here). */
	char line[256];
	memset(line, 'a', 64);
	snprintf(line + 64, sizeof(line) - 64, "\r\n");
	char *t = ask(x, line);
	assert_non_null(strstr(t, "error: unknown command 'aaaa"));
	free(t);
	/* One more byte is not, with or without the newline yet. */
	memset(line, 'a', 65);
	snprintf(line + 65, sizeof(line) - 65, "\n");
	int fd = dial(x->path);
	send_all(fd, line, strlen(line));
	struct answer a;
	read_answers(x->s, fd, &a, 1);
	assert_string_equal(a.text, "error: the request is longer than 64 bytes; it was ignored\n");
	free(a.text);
	read_answers(x->s, fd, &a, 1);
	assert_true(a.eof); /* disconnected */
	free(a.text);
	close(fd);

	fd = dial(x->path);
	memset(line, 'b', 200);
	send_all(fd, line, 200); /* no newline at all */
	read_answers(x->s, fd, &a, 1);
	assert_string_equal(a.text, "error: the request is longer than 64 bytes; it was ignored\n");
	free(a.text);
	close(fd);
	ctl_server_run(x->s);
	assert_int_equal(ctl_server_stats(x->s)->too_long, 2);
	assert_int_equal(ctl_server_clients(x->s), 0);
	/* The server still answers others. */
	assert_answer(x, "blocked\n", "198.51.100.7 timeout 3600s\nok\n");
	fx_free(x);
}

static void test_many_clients(void **state)
{
	(void)state;
	struct fixture *x = fx_new();
	x->cfg.max_clients = 4;
	fx_start(x);
	int fds[10];
	for (int i = 0; i < 10; i++) {
		fds[i] = dial(x->path);
		ctl_server_run(x->s);
	}
	assert_int_equal(ctl_server_clients(x->s), 4);
	assert_int_equal(ctl_server_stats(x->s)->refused_full, 6);
	/* The refused ones are told why and closed. */
	for (int i = 4; i < 10; i++) {
		struct answer a;
		read_answers(x->s, fds[i], &a, 1);
		assert_string_equal(a.text, "error: too many control clients (at most 4); try "
					    "again\n");
		free(a.text);
		read_answers(x->s, fds[i], &a, 1);
		assert_true(a.eof);
		free(a.text);
		close(fds[i]);
	}
	/* The first four are all served, answered in any order of asking. */
	for (int i = 3; i >= 0; i--) {
		char req[32];
		snprintf(req, sizeof(req), "mode %s\n", i % 2 ? "enforce" : "monitor");
		char *t = ask_on(x->s, fds[i], req);
		assert_non_null(strstr(t, "\nok\n"));
		free(t);
	}
	assert_int_equal(x->fake.set_mode, 4);
	/* A slot freed is a slot for the next client. */
	close(fds[0]);
	ctl_server_run(x->s);
	assert_int_equal(ctl_server_clients(x->s), 3);
	int again = dial(x->path);
	char *t = ask_on(x->s, again, "blocked\n");
	assert_string_equal(t, "198.51.100.7 timeout 3600s\nok\n");
	free(t);
	assert_int_equal(ctl_server_clients(x->s), 4);
	close(again);
	for (int i = 1; i < 4; i++)
		close(fds[i]);
	ctl_server_run(x->s);
	assert_int_equal(ctl_server_clients(x->s), 0);
	fx_free(x);
}

static void test_large_answer_and_cut(void **state)
{
	(void)state;
	struct fixture *x = fx_new();
	x->cfg.max_response = 1 << 20;
	fx_start(x);
	/* 10000 lines of 53 bytes: larger than any socket buffer, sent in pieces. */
	x->fake.report_lines = 10000;
	char *t = ask(x, "report remote\n");
	size_t n = strlen(t);
	assert_int_equal(n, 10000 * 53 + 3);
	assert_string_equal(t + n - 56,
			    "00009999 client 10.0.0.1 server 10.0.0.2 port 22 ssh\nok\n");
	free(t);
	/* Beyond max_response: cut at a line, and said so. */
	x->fake.report_lines = 100000;
	t = ask(x, "report remote\n");
	n = strlen(t);
	assert_true(n <= (1u << 20));
	assert_true(n > (1u << 20) - 2048);
	const char *tail = strrchr(t, '\n');
	while (tail > t && tail[-1] != '\n')
		tail--;
	assert_string_equal(tail, "error: the answer is longer than 1048576 bytes and was cut "
				  "there\n");
	/* every line before it complete */
	assert_int_equal((size_t)(tail - t) % 53, 0);
	free(t);
	assert_int_equal(ctl_server_stats(x->s)->answers_cut, 1);
	fx_free(x);
}

static void test_idle_client_closed(void **state)
{
	(void)state;
	struct fixture *x = fx_new();
	x->cfg.idle_timeout_ms = 300;
	fx_start(x);
	int quiet = dial(x->path);
	int half = dial(x->path);
	ctl_server_run(x->s);
	send_all(half, "stat", 4);
	ctl_server_run(x->s);
	assert_int_equal(ctl_server_clients(x->s), 2);
	struct timespec ts = {0, 600 * 1000000L};
	nanosleep(&ts, NULL);
	ctl_server_run(x->s);
	assert_int_equal(ctl_server_clients(x->s), 0);
	assert_int_equal(ctl_server_stats(x->s)->idle_closed, 2);
	int both[2] = {quiet, half};
	for (int i = 0; i < 2; i++) {
		struct answer a;
		read_answers(x->s, both[i], &a, 1);
		assert_string_equal(a.text, "error: no complete request within 300 ms; closing\n");
		free(a.text);
		close(both[i]);
	}
	fx_free(x);
}

static void test_stale_live_and_foreign_files(void **state)
{
	struct fixture *x = *state;
	char err[CTL_ERR_MAX];
	/* A second daemon on the same path: refused, the first keeps working. */
	struct ctl_server *two = ctl_server_create(&x->cfg, &x->h, err, sizeof(err));
	assert_null(two);
	assert_non_null(strstr(err, x->path));
	assert_non_null(strstr(err, "another process is listening there"));
	assert_answer(x, "blocked\n", "198.51.100.7 timeout 3600s\nok\n");

	/* Destroy removes the socket file. */
	ctl_server_destroy(x->s);
	x->s = NULL;
	struct stat st;
	assert_int_equal(lstat(x->path, &st), -1);

	/* A socket left by a killed daemon (bound, nobody listening): replaced. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", x->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(lstat(x->path, &st), 0);
	fx_start(x);
	assert_answer(x, "blocked\n", "198.51.100.7 timeout 3600s\nok\n");
	ctl_server_destroy(x->s);
	x->s = NULL;

	/* Anything else at the path is left alone. */
	FILE *f = fopen(x->path, "w");
	assert_non_null(f);
	fclose(f);
	assert_null(ctl_server_create(&x->cfg, &x->h, err, sizeof(err)));
	assert_non_null(strstr(err, "exists and is not a socket; not replacing it"));
	assert_int_equal(lstat(x->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	unlink(x->path);

	/* A path that does not fit in sun_path. */
	struct ctl_server_config c = x->cfg;
	memset(c.path, 'p', sizeof(c.path));
	assert_null(ctl_server_create(&c, &x->h, err, sizeof(err)));
	assert_non_null(strstr(err, "control socket path must be 1 to 107 bytes"));
	/* A directory that cannot be made. */
	snprintf(c.path, sizeof(c.path), "%s/no/such/ctl.sock", x->dir);
	assert_null(ctl_server_create(&c, &x->h, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create the directory"));
	assert_non_null(strstr(err, "No such file or directory"));
	fx_start(x); /* for teardown */
}

static void test_group(void **state)
{
	(void)state;
	struct fixture *x = fx_new();
	char err[CTL_ERR_MAX];
	snprintf(x->cfg.group, sizeof(x->cfg.group), "no-such-group-kg");
	assert_null(ctl_server_create(&x->cfg, &x->h, err, sizeof(err)));
	assert_non_null(strstr(err, "control group 'no-such-group-kg' does not exist"));

	/* A group we may give files to: our own, by name and by number. */
	struct group *g = getgrgid(getegid());
	if (g) {
		snprintf(x->cfg.group, sizeof(x->cfg.group), "%s", g->gr_name);
		fx_start(x);
		struct stat st;
		assert_int_equal(lstat(x->path, &st), 0);
		assert_int_equal(st.st_gid, getegid());
		assert_int_equal(st.st_mode & 0777, 0660);
		ctl_server_destroy(x->s);
		x->s = NULL;
	}
	if (geteuid() == 0) {
		/* root may hand it to any group: a number that names none */
		snprintf(x->cfg.group, sizeof(x->cfg.group), "54321");
		fx_start(x);
		struct stat st;
		assert_int_equal(lstat(x->path, &st), 0);
		assert_int_equal(st.st_gid, 54321);
		assert_int_equal(st.st_uid, 0);
	} else {
		print_message("not root: skipping the foreign group check\n");
	}
	fx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_requests_and_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test(test_missing_handlers),
		cmocka_unit_test_setup_teardown(test_several_requests_one_connection, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_last_line_without_newline, setup, teardown),
		cmocka_unit_test(test_too_long_line),
		cmocka_unit_test(test_many_clients),
		cmocka_unit_test(test_large_answer_and_cut),
		cmocka_unit_test(test_idle_client_closed),
		cmocka_unit_test_setup_teardown(test_stale_live_and_foreign_files, setup, teardown),
		cmocka_unit_test(test_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
