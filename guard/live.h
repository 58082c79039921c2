/* Live inline mode: NFQUEUE -> engine -> verdicts, with the nftables table,
 * the control socket, the logs and syslog. Like main.c, this file wires
 * modules together; it holds no detection logic. */
#ifndef KG_LIVE_H
#define KG_LIVE_H

#include <stdint.h>

struct live_options {
	const char *config_file; /* re-read on reload */
	uint64_t uid_seed;
};

/* Runs until SIGTERM/SIGINT; returns a sysexits code. */
int live_run(const struct live_options *o);

#endif
