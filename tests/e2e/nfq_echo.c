/* A queue consumer for tests/e2e/nfq_basic.sh: binds one NFQUEUE through
 * guard/io/nfq (no engine), accepts every packet except UDP to one port
 * (dropped), and prints the adapter's counters when SIGTERM or SIGINT ends it.
 *
 * usage: nfq_echo [-q QUEUE] [-d PORT] [-b BATCH] [-r COPY_RANGE] [-G] [-F]
 *                 [-R READY_FILE]
 *   -G  no GSO (the kernel segments and checksums)   -F  no fail-open
 *   -R  created once the queue is bound, so a script can wait for it
 * The counters go to standard output as one line of key=value. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/nfq.h"

#define IPPROTO_UDP_NUM 17

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The UDP destination port of an IPv4 or IPv6 packet (IPv6: UDP right after
 * the fixed header), or -1. */
static int udp_dst_port(const uint8_t *ip, uint32_t len)
{
	uint32_t l4;
	if (len < 1)
		return -1;
	if (ip[0] >> 4 == 4) {
		if (len < 20 || ip[9] != IPPROTO_UDP_NUM)
			return -1;
		l4 = (uint32_t)(ip[0] & 0x0f) * 4;
	} else if (ip[0] >> 4 == 6) {
		if (len < 40 || ip[6] != IPPROTO_UDP_NUM)
			return -1;
		l4 = 40;
	} else {
		return -1;
	}
	if (len < l4 + 4)
		return -1;
	return ip[l4 + 2] << 8 | ip[l4 + 3];
}

static enum nfq_verdict decide(void *ctx, const struct nfq_packet *p)
{
	int drop_port = *(const int *)ctx;
	return udp_dst_port(p->data, p->caplen) == drop_port ? NFQ_DROP : NFQ_ACCEPT;
}

static void print_stats(const struct nfq *q)
{
	const struct nfq_stats *s = nfq_stats(q);
	printf("packets=%" PRIu64 " accepted=%" PRIu64 " dropped=%" PRIu64 " batches=%" PRIu64
	       " verdict_msgs=%" PRIu64 " sends=%" PRIu64 " gso=%" PRIu64
	       " csum_unverified=%" PRIu64 " truncated=%" PRIu64 " kernel_time=%" PRIu64
	       " missed=%" PRIu64 " enobufs=%" PRIu64 " errors=%" PRIu64 " verdict_errors=%" PRIu64
	       " startup_accepted=%" PRIu64 " rcvbuf=%u\n",
	       s->packets, s->accepted, s->dropped, s->batches, s->verdict_msgs, s->sends, s->gso,
	       s->csum_unverified, s->truncated, s->kernel_time, s->missed, s->enobufs, s->errors,
	       s->verdict_errors, s->startup_accepted, nfq_rcvbuf(q));
	fflush(stdout);
	if (nfq_last_error(q)[0])
		fprintf(stderr, "nfq_echo: last error: %s\n", nfq_last_error(q));
}

int main(int argc, char **argv)
{
	struct nfq_config cfg;
	nfq_config_defaults(&cfg);
	int drop_port = 9;
	const char *ready = NULL;
	int opt;
	while ((opt = getopt(argc, argv, "q:d:b:r:GFR:")) != -1) {
		switch (opt) {
		case 'q':
			cfg.queue_num = (uint16_t)atoi(optarg);
			break;
		case 'd':
			drop_port = atoi(optarg);
			break;
		case 'b':
			cfg.batch_max = (unsigned)atoi(optarg);
			break;
		case 'r':
			cfg.copy_range = (uint32_t)atoi(optarg);
			break;
		case 'G':
			cfg.gso = false;
			break;
		case 'F':
			cfg.fail_open = false;
			break;
		case 'R':
			ready = optarg;
			break;
		default:
			fprintf(stderr, "usage: nfq_echo [-q QUEUE] [-d PORT] [-b BATCH] "
					"[-r COPY_RANGE] [-G] [-F] [-R READY_FILE]\n");
			return 2;
		}
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	char err[NFQ_ERR_MAX + 64];
	struct nfq *q = nfq_bind(&cfg, err, sizeof(err));
	if (q == NULL) {
		fprintf(stderr, "nfq_echo: %s\n", err);
		return 1;
	}
	if (ready) {
		int fd = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	}
	int rc = 0;
	while (!stop) {
		struct pollfd pfd = {.fd = nfq_socket_fd(q), .events = POLLIN};
		int r = poll(&pfd, 1, 200);
		if (r < 0 && errno != EINTR) {
			perror("nfq_echo: poll");
			rc = 1;
			break;
		}
		if (r > 0 && nfq_receive(q, decide, &drop_port) < 0) {
			fprintf(stderr, "nfq_echo: %s\n", nfq_last_error(q));
			rc = 1;
			break;
		}
	}
	/* Whatever is already in the socket still gets its verdict. */
	nfq_receive(q, decide, &drop_port);
	print_stats(q);
	nfq_release(q);
	return rc;
}
