/* knockguard's command line and wiring: the only file that knows every module.
 * Offline mode: pcap_source -> engine -> connlog. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "decode/decode.h"
#include "engine.h"
#include "io/pcap_source.h"
#include "out/connlog.h"

#ifndef KG_VERSION
#define KG_VERSION "0.1.0-dev"
#endif

#define PROG "knockguard"
#define MAX_FLOWS_LIMIT 100000000ULL /* catches typos; engine_create() still checks memory */

struct options {
	const char *read_file;
	const char *write_dir;
	enum connlog_format format;
	bool ignore_checksums;
	bool max_flows_set;
	size_t max_flows;
	bool seed_set;
	uint64_t seed;
};

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *out)
{
	struct engine_config defaults;
	engine_config_defaults(&defaults);
	fprintf(out,
		"usage: " PROG " -r FILE [-w DIR] [--log-format tsv|json] [-C] [--max-flows N] [--seed N]\n"
		"       " PROG " -h | -V\n"
		"  -r FILE             read a pcap or pcapng capture (\"-\" reads standard input)\n"
		"  -w DIR              write DIR/conn.log; DIR must exist (default: .)\n"
		"  --log-format FMT    tsv (Zeek's ASCII log, default) or json (one object a line)\n"
		"  -C                  ignore bad checksums, like zeek -C\n"
		"  --max-flows N       connection table size; beyond it the oldest idle flow is\n"
		"                      evicted (default: %zu)\n"
		"  --seed N            uid seed: the same seed gives the same uids (default: random)\n"
		"  -h, --help          show this help\n"
		"  -V, --version       show the version\n",
		defaults.max_flows);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage(stderr);
	return EX_USAGE;
}

/* Strict unsigned decimal: digits only, no sign, no overflow. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

enum { OPT_LOG_FORMAT = 256, OPT_MAX_FLOWS, OPT_SEED };

/* Returns -1 to go on, or an exit code. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"log-format", required_argument, NULL, OPT_LOG_FORMAT},
		{"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
		{"seed", required_argument, NULL, OPT_SEED},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->write_dir = ".";
	o->format = CONNLOG_TSV;
	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":r:w:ChV", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->read_file = optarg;
			break;
		case 'w':
			o->write_dir = optarg;
			break;
		case 'C':
			o->ignore_checksums = true;
			break;
		case OPT_LOG_FORMAT:
			if (!connlog_format_parse(optarg, &o->format))
				return usage_error("--log-format must be tsv or json, not '%s'", optarg);
			break;
		case OPT_MAX_FLOWS:
			if (!parse_u64(optarg, MAX_FLOWS_LIMIT, &v) || v == 0)
				return usage_error("--max-flows takes a count from 1 to 100000000, not '%s'",
						   optarg);
			o->max_flows_set = true;
			o->max_flows = (size_t)v;
			break;
		case OPT_SEED:
			if (!parse_u64(optarg, UINT64_MAX, &v))
				return usage_error("--seed takes an unsigned decimal number, not '%s'", optarg);
			o->seed_set = true;
			o->seed = v;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf(PROG " %s\n", KG_VERSION);
			return EX_OK;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (o->read_file == NULL)
		return usage_error("%s", "nothing to read: give -r FILE");
	return -1;
}

static uint64_t random_seed(void)
{
	uint64_t seed;
	if (getentropy(&seed, sizeof(seed)) == 0)
		return seed;
	return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
}

struct offline_output {
	struct connlog *log;
};

static void sink_conn_done(void *ctx, const struct conn_record *rec)
{
	struct offline_output *out = ctx;
	connlog_write(out->log, rec);
}

static void print_stats(const struct pcap_source *src, const struct engine *e)
{
	const struct engine_stats *st = engine_stats(e);
	const struct decoder_stats *ds = engine_decoder_stats(e);

	fprintf(stderr,
		PROG ": packets read %" PRIu64 ", decoded %" PRIu64 ", flows %" PRIu64
		     ", records %" PRIu64 ", evictions %" PRIu64 "\n",
		pcap_source_packets(src), ds->decoded, st->flows_created, st->records, st->flows_evicted);
	for (int r = 0; r < DR_COUNT; r++)
		if (ds->reason[r])
			fprintf(stderr, PROG ": not decoded: %s %" PRIu64 "\n",
				decode_reason_name((enum decode_reason)r), ds->reason[r]);
}

static bool check_output_dir(const char *dir)
{
	struct stat st;
	int e = stat(dir, &st) != 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
	if (e)
		fprintf(stderr, PROG ": output directory %s: %s\n", dir, strerror(e));
	return e == 0;
}

static struct engine *create_engine(const struct options *o, struct offline_output *out)
{
	struct engine_config cfg;
	engine_config_defaults(&cfg);
	cfg.ignore_checksums = o->ignore_checksums;
	if (o->max_flows_set)
		cfg.max_flows = o->max_flows;
	cfg.uid_seed = o->seed_set ? o->seed : random_seed();
	const struct engine_sink sink = {.ctx = out, .conn_done = sink_conn_done};
	struct engine *e = engine_create(&cfg, &sink);
	if (e == NULL)
		fprintf(stderr, PROG ": cannot create the engine for %zu flows: out of memory\n",
			cfg.max_flows);
	return e;
}

/* Publishes conn.log after a clean run; otherwise keeps the records as
 * conn.log.incomplete and says why. Returns the exit code. */
static int finish_output(struct connlog *log, const struct pcap_source *src,
			 enum pcap_source_status status, const char *dir)
{
	char err[512];
	int rc = EX_OK;

	if (!stop_signal && !connlog_failed(log) && status != PCAP_SOURCE_ERROR) {
		if (connlog_close(log, err, sizeof(err)))
			return EX_OK;
		fprintf(stderr, PROG ": %s\n", err);
		return EX_IOERR;
	}
	if (stop_signal) {
		fprintf(stderr, PROG ": interrupted by signal %d\n", (int)stop_signal);
		rc = 128 + stop_signal;
	} else if (connlog_failed(log)) {
		rc = EX_IOERR; /* connlog_abandon() reports the errno below */
	} else {
		fprintf(stderr, PROG ": %s\n", pcap_source_error(src));
		rc = EX_DATAERR;
	}
	if (connlog_abandon(log, err, sizeof(err)))
		fprintf(stderr, PROG ": the records so far are in %s/" CONNLOG_INCOMPLETE_NAME
			" (unterminated); no " CONNLOG_NAME " was written\n", dir);
	else
		fprintf(stderr, PROG ": %s\n", err);
	return rc;
}

static int run_offline(const struct options *o)
{
	char err[PCAP_SOURCE_ERR_MAX + 256];
	int code;

	if (!check_output_dir(o->write_dir))
		return EX_CANTCREAT;
	/* Input first, then the engine, then the log: a bad capture or a failed
	 * allocation leaves no file behind. */
	struct pcap_source *src = pcap_source_open(o->read_file, &code, err, sizeof(err));
	if (src == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return code;
	}
	struct offline_output out = {NULL};
	struct engine *e = create_engine(o, &out);
	if (e == NULL) {
		pcap_source_close(src);
		return EX_OSERR;
	}
	out.log = connlog_open(o->write_dir, o->format, err, sizeof(err));
	if (out.log == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		engine_destroy(e);
		pcap_source_close(src);
		return EX_CANTCREAT;
	}

	struct pcap_source_packet pkt;
	enum pcap_source_status status = PCAP_SOURCE_END;
	while (!stop_signal && !connlog_failed(out.log) &&
	       (status = pcap_source_next(src, &pkt)) == PCAP_SOURCE_PACKET)
		engine_frame(e, pkt.linktype, pkt.ts, pkt.data, pkt.caplen);
	/* Whatever stopped the loop, the connections seen so far are logged. */
	engine_finish(e);
	print_stats(src, e);
	engine_destroy(e);

	int rc = finish_output(out.log, src, status, o->write_dir);
	pcap_source_close(src);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	int rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		return rc;

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	return run_offline(&o);
}
