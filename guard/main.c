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

#include "config.h"
#include "decode/decode.h"
#include "detect/detect.h"
#include "engine.h"
#include "io/pcap_source.h"
#include "live.h"
#include "out/connlog.h"
#include "out/outputs.h"
#include "util/decimal.h"

#ifndef KG_VERSION
#define KG_VERSION "0.1.0-dev"
#endif

#define PROG "knockguard"
#define MAX_FLOWS_LIMIT 100000000ULL /* catches typos; engine_create() still checks memory */

struct options {
	const char *read_file;
	const char *write_dir;
	const char *config_file;
	bool test_config;
	bool report_remote;
	bool format_set;
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
		"usage: " PROG " -r FILE [-c CONFIG] [-w DIR] [--log-format tsv|json] [-C]\n"
		"                  [--max-flows N] [--seed N] [--report remote]\n"
		"       " PROG " -c CONFIG [-f]      inline on a gateway (NFQUEUE, nftables)\n"
		"       " PROG " -t -c CONFIG\n"
		"       " PROG " -h | -V\n"
		"  -r FILE             read a pcap or pcapng capture (\"-\" reads standard input)\n"
		"  -c CONFIG           settings (INI; see conf/knockguard.conf); [syslog] enabled\n"
		"                      ships the alerts of a replay too\n"
		"  -t                  check CONFIG and exit (0 valid, 78 invalid)\n"
		"  -w DIR              write DIR/conn.log, http.log, alerts.log; DIR must exist\n"
		"                      (default: [log] dir of CONFIG, else .)\n"
		"  --report remote     print the remote-access inventory after the replay\n"
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

enum { OPT_LOG_FORMAT = 256, OPT_MAX_FLOWS, OPT_SEED, OPT_REPORT };

/* Returns -1 to go on, or an exit code. */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"log-format", required_argument, NULL, OPT_LOG_FORMAT},
		{"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
		{"seed", required_argument, NULL, OPT_SEED},
		{"report", required_argument, NULL, OPT_REPORT},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->format = CONNLOG_TSV;
	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":r:w:c:tfChV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			break; /* knockguard never forks: foreground is the only way it runs */
		case 'r':
			o->read_file = optarg;
			break;
		case 'c':
			o->config_file = optarg;
			break;
		case 't':
			o->test_config = true;
			break;
		case OPT_REPORT:
			if (strcmp(optarg, "remote") != 0)
				return usage_error("--report knows only 'remote', not '%s'", optarg);
			o->report_remote = true;
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
			o->format_set = true;
			break;
		case OPT_MAX_FLOWS:
			if (!decimal_parse_u64(optarg, MAX_FLOWS_LIMIT, &v) || v == 0)
				return usage_error("--max-flows takes a count from 1 to 100000000, not '%s'",
						   optarg);
			o->max_flows_set = true;
			o->max_flows = (size_t)v;
			break;
		case OPT_SEED:
			if (!decimal_parse_u64(optarg, UINT64_MAX, &v))
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
	if (o->test_config && o->config_file == NULL)
		return usage_error("%s", "-t checks a configuration: give -c CONFIG");
	if (o->read_file == NULL && !o->test_config && o->config_file == NULL)
		return usage_error("%s", "nothing to do: give -r FILE (replay) or -c CONFIG (inline)");
	return -1;
}

static uint64_t random_seed(void)
{
	uint64_t seed;
	if (getentropy(&seed, sizeof(seed)) == 0)
		return seed;
	return (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
}

static void print_stats(const struct pcap_source *src, const struct engine *e,
			const struct outputs *out)
{
	const struct engine_stats *st = engine_stats(e);
	const struct decoder_stats *ds = engine_decoder_stats(e);
	const struct analysis_stats *as = engine_analysis_stats(e);
	char extra[256];

	outputs_summary(out, extra, sizeof(extra));
	fprintf(stderr,
		PROG ": packets read %" PRIu64 ", decoded %" PRIu64 ", flows %" PRIu64
		     ", records %" PRIu64 ", evictions %" PRIu64 ", %s\n",
		pcap_source_packets(src), ds->decoded, st->flows_created, st->records, st->flows_evicted,
		extra);
	for (int r = 0; r < DR_COUNT; r++)
		if (ds->reason[r])
			fprintf(stderr, PROG ": not decoded: %s %" PRIu64 "\n",
				decode_reason_name((enum decode_reason)r), ds->reason[r]);
	if (as->content_pool_exhausted || as->http_pool_exhausted)
		fprintf(stderr,
			PROG ": not analysed (pool full): content %" PRIu64 ", http %" PRIu64 "\n",
			as->content_pool_exhausted, as->http_pool_exhausted);
}

static bool check_output_dir(const char *dir)
{
	struct stat st;
	int e = stat(dir, &st) != 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
	if (e)
		fprintf(stderr, PROG ": output directory %s: %s\n", dir, strerror(e));
	return e == 0;
}

/* The settings of a run: the config file's, then the command line's. Static:
 * the detector settings are large. */
static struct kg_config config;
static struct detect_config detect_cfg;

static int load_config(const struct options *o)
{
	char err[CONFIG_ERR_MAX];
	if (o->config_file == NULL) {
		config_defaults(&config);
	} else if (!config_load(o->config_file, &config, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		return EX_CONFIG;
	}
	config_detect(&config, &detect_cfg);
	return -1;
}

static struct engine *create_engine(const struct options *o, const struct engine_sink *sink)
{
	struct engine_config cfg;
	config_engine(&config, &cfg);
	if (o->ignore_checksums)
		cfg.ignore_checksums = true;
	if (o->max_flows_set)
		cfg.max_flows = o->max_flows;
	cfg.uid_seed = o->seed_set ? o->seed : random_seed();
	cfg.detect = &detect_cfg;
	cfg.policy = NULL; /* a replay blocks nothing: monitor */
	struct engine *e = engine_create(&cfg, sink);
	if (e == NULL)
		fprintf(stderr, PROG ": cannot create the engine for %zu flows: out of memory\n",
			cfg.max_flows);
	return e;
}

/* Publishes the logs after a clean run; otherwise keeps them as *.incomplete
 * and says why. Returns the exit code. */
static int finish_output(struct outputs *out, const struct pcap_source *src,
			 enum pcap_source_status status, const char *dir)
{
	char err[512];
	int rc = EX_OK;

	if (!stop_signal && !outputs_failed(out) && status != PCAP_SOURCE_ERROR) {
		if (outputs_commit(out, 2000, err, sizeof(err)))
			return EX_OK;
		fprintf(stderr, PROG ": %s\n", err);
		return EX_IOERR;
	}
	if (stop_signal) {
		fprintf(stderr, PROG ": interrupted by signal %d\n", (int)stop_signal);
		rc = 128 + stop_signal;
	} else if (outputs_failed(out)) {
		rc = EX_IOERR;
	} else {
		fprintf(stderr, PROG ": %s\n", pcap_source_error(src));
		rc = EX_DATAERR;
	}
	err[0] = '\0';
	outputs_abandon(out, err, sizeof(err));
	if (err[0])
		fprintf(stderr, PROG ": %s\n", err);
	fprintf(stderr, PROG ": the records so far are in %s/" CONNLOG_INCOMPLETE_NAME
		" (unterminated); no " CONNLOG_NAME " was written\n", dir);
	return rc;
}

static void print_line(void *ctx, const char *text)
{
	fprintf(ctx, "%s\n", text);
}

static int run_offline(const struct options *o)
{
	char err[PCAP_SOURCE_ERR_MAX + 256];
	int code;

	struct outputs_config oc = {
		.dir = o->write_dir ? o->write_dir : config.log.dir[0] ? config.log.dir : ".",
		.format = o->format_set ? o->format : config.log.format,
		.syslog = config.syslog.enabled,
		.syslog_client = config.syslog.client,
		.syslog_format = config.syslog.format,
		.syslog_facility = config.syslog.facility,
	};
	if (!check_output_dir(oc.dir))
		return EX_CANTCREAT;
	/* Input first, then the engine, then the logs: a bad capture or a failed
	 * allocation leaves no file behind. */
	struct pcap_source *src = pcap_source_open(o->read_file, &code, err, sizeof(err));
	if (src == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return code;
	}
	struct outputs *out = outputs_open(&oc, err, sizeof(err));
	if (out == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		pcap_source_close(src);
		return EX_CANTCREAT;
	}
	struct engine_sink sink;
	outputs_engine_sink(out, &sink);
	struct engine *e = create_engine(o, &sink);
	if (e == NULL) {
		outputs_abandon(out, err, sizeof(err));
		pcap_source_close(src);
		return EX_OSERR;
	}

	struct pcap_source_packet pkt;
	enum pcap_source_status status = PCAP_SOURCE_END;
	uint64_t n = 0;
	while (!stop_signal && !outputs_failed(out) &&
	       (status = pcap_source_next(src, &pkt)) == PCAP_SOURCE_PACKET) {
		engine_frame(e, pkt.linktype, pkt.ts, pkt.data, pkt.caplen);
		if ((++n & 1023) == 0)
			outputs_poll(out);
	}
	/* Whatever stopped the loop, the connections seen so far are logged. */
	engine_finish(e);
	print_stats(src, e, out);
	if (o->report_remote)
		inventory_report(detect_inventory(engine_detect(e)), print_line, stdout);
	engine_destroy(e);

	int rc = finish_output(out, src, status, oc.dir);
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

	rc = load_config(&o);
	if (rc >= 0)
		return rc;
	if (o.test_config) {
		printf(PROG ": %s: configuration is valid\n", o.config_file);
		return EX_OK;
	}
	if (o.read_file == NULL) {
		struct live_options lo = {.config_file = o.config_file,
					  .uid_seed = o.seed_set ? o.seed : random_seed()};
		return live_run(&lo);
	}
	return run_offline(&o);
}
