/* Drives the nft adapter from the shell for tests/e2e/nft_backend.sh:
 *   nft_tool [options] COMMAND [ARGS]
 * options: -t TABLE, -q auto|native|xt, -n QUEUE_NUM, -B (no bypass),
 *          -F (no forward hook), -I (no input hook), -x (manage = no)
 * commands: setup | teardown | block ADDR SECS | flag ADDR SECS | unblock ADDR |
 *           neverblock CIDR | neversync CIDR... | list blocked|flagged | bench N
 * Prints what happened on stdout; on failure the adapter's error on stderr
 * and exit status 1 (2 for usage). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "io/nft.h"
#include "util/addr.h"
#include "util/netset.h"

_Noreturn static void usage(void)
{
	fprintf(stderr,
		"usage: nft_tool [-t TABLE] [-q auto|native|xt] [-n NUM] [-B] [-F] [-I] [-x] "
		"setup|teardown|block ADDR SECS|flag ADDR SECS|unblock ADDR|"
		"neverblock CIDR|neversync CIDR...|list blocked|flagged|bench N\n");
	exit(2);
}

static void print_element(void *ctx, const struct nft_element *e)
{
	(void)ctx;
	char a[KG_ADDR_STRLEN];
	addr_format(&e->addr, a);
	printf("%s timeout_ms=%lld expires_ms=%lld\n", a, (long long)(e->timeout / 1000000),
	       (long long)(e->expires / 1000000));
}

static bool parse_addr(const char *s, struct kg_addr *a)
{
	if (addr_parse(s, a))
		return true;
	fprintf(stderr, "nft_tool: bad address %s\n", s);
	return false;
}

static int run(struct nft *n, int argc, char **argv)
{
	const char *cmd = argv[0];
	struct kg_addr a;

	if (strcmp(cmd, "setup") == 0 && argc == 1) {
		char err[NFT_ERR_MAX];
		if (!nft_setup(n, err, sizeof(err)))
			return 1; /* err is nft_last_error(), printed by main() */
		printf("backend %s\n", nft_queue_backend(n));
		if (*nft_queue_fallback_reason(n))
			printf("fallback %s\n", nft_queue_fallback_reason(n));
		return 0;
	}
	if (strcmp(cmd, "teardown") == 0 && argc == 1)
		return nft_teardown(n) ? 0 : 1;
	if ((strcmp(cmd, "block") == 0 || strcmp(cmd, "flag") == 0) && argc == 3) {
		if (!parse_addr(argv[1], &a))
			return 2;
		kg_time t = KG_MSEC((long long)(atof(argv[2]) * 1000));
		bool ok = cmd[0] == 'b' ? nft_block(n, &a, t) : nft_flag(n, &a, t);
		return ok ? 0 : 1;
	}
	if (strcmp(cmd, "unblock") == 0 && argc == 2) {
		if (!parse_addr(argv[1], &a))
			return 2;
		int r = nft_unblock(n, &a);
		if (r >= 0)
			printf("%s\n", r ? "removed" : "absent");
		return r < 0 ? 1 : 0;
	}
	if (strcmp(cmd, "neverblock") == 0 && argc == 2)
		return nft_never_block_add(n, argv[1]) ? 0 : 1;
	if (strcmp(cmd, "neversync") == 0) {
		static struct netset s;
		netset_init(&s);
		for (int i = 1; i < argc; i++)
			if (!netset_add(&s, argv[i])) {
				fprintf(stderr, "nft_tool: bad CIDR %s\n", argv[i]);
				return 2;
			}
		return nft_never_block_sync(n, &s) ? 0 : 1;
	}
	if (strcmp(cmd, "bench") == 0 && argc == 2) {
		/* N blocks of distinct addresses (198.18.0.0/15, benchmark space),
		 * then N unblocks: the cost of one call on the daemon's loop. */
		long count = atol(argv[1]);
		if (count <= 0 || count > 100000)
			usage();
		struct timespec t0, t1, t2;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (long i = 0; i < count; i++) {
			uint8_t v4[4] = {198, 18, (uint8_t)(i >> 8), (uint8_t)i};
			addr_from_v4(&a, v4);
			if (!nft_block(n, &a, KG_SEC(60)))
				return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		for (long i = 0; i < count; i++) {
			uint8_t v4[4] = {198, 18, (uint8_t)(i >> 8), (uint8_t)i};
			addr_from_v4(&a, v4);
			if (nft_unblock(n, &a) != 1)
				return 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t2);
		double us_block = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
				   (double)(t1.tv_nsec - t0.tv_nsec)) /
				  1e3 / (double)count;
		double us_unblock = ((double)(t2.tv_sec - t1.tv_sec) * 1e9 +
				     (double)(t2.tv_nsec - t1.tv_nsec)) /
				    1e3 / (double)count;
		printf("block_us %.1f unblock_us %.1f\n", us_block, us_unblock);
		return 0;
	}
	if (strcmp(cmd, "list") == 0 && argc == 2) {
		enum nft_set_kind k;
		if (strcmp(argv[1], "blocked") == 0)
			k = NFT_SET_BLOCKED;
		else if (strcmp(argv[1], "flagged") == 0)
			k = NFT_SET_FLAGGED;
		else
			usage();
		long count = nft_list(n, k, print_element, NULL);
		if (count >= 0)
			printf("count %ld\n", count);
		return count < 0 ? 1 : 0;
	}
	usage();
	return 2;
}

int main(int argc, char **argv)
{
	struct nft_config cfg;
	nft_config_defaults(&cfg);
	int opt;
	while ((opt = getopt(argc, argv, "t:q:n:BFIx")) != -1) {
		switch (opt) {
		case 't':
			snprintf(cfg.table, sizeof(cfg.table), "%s", optarg);
			break;
		case 'q':
			if (!nft_queue_mode_parse(optarg, &cfg.queue_mode))
				usage();
			break;
		case 'n':
			cfg.queue_num = (uint16_t)atoi(optarg);
			break;
		case 'B':
			cfg.queue_bypass = false;
			break;
		case 'F':
			cfg.hook_forward = false;
			break;
		case 'I':
			cfg.hook_input = false;
			break;
		case 'x':
			cfg.manage = false;
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();

	char err[NFT_ERR_MAX];
	struct nft *n = nft_open(&cfg, err, sizeof(err));
	if (!n) {
		fprintf(stderr, "nft_tool: %s\n", err);
		return 1;
	}
	int rc = run(n, argc - optind, argv + optind);
	if (rc == 1)
		fprintf(stderr, "nft_tool: %s\n", nft_last_error(n));
	nft_close(n);
	return rc;
}
