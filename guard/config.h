/* knockguard's configuration: an INI file (conf/knockguard.conf documents
 * every key with its default) read with iniparser into struct kg_config.
 *
 * Sections: [engine] [log] [syslog], the detectors' [knock] [bits] [remote],
 * the decide stage's [policy], and the live daemon's [daemon] [nfq] [nft];
 * most map onto their modules' own config structs. An unknown section
 * or key, a key set twice, or an invalid value is an error naming the file,
 * the line, the section, the key, the value and what is allowed, e.g.
 *   knockguard.conf:12: [syslog] transport = 'tcpp': expected one of unix, udp, tcp
 * Files named by keys (bits allowlist_file, remote rules_file) are read at
 * load time; a relative path is taken from the config file's directory. */
#ifndef KG_CONFIG_H
#define KG_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "detect/detect.h"
#include "engine.h"
#include "io/ctl_server.h"
#include "io/nfq.h"
#include "io/nft.h"
#include "io/syslog_client.h"
#include "out/connlog.h"
#include "out/syslog_format.h"
#include "policy.h"
#include "util/netset.h"

#define CONFIG_ERR_MAX 1024
/* Largest file a key may name (allowlists, rule lists). */
#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_MAX_FLOWS_LIMIT 100000000ULL

struct kg_config {
	struct {
		size_t max_flows;
		struct netset local_nets; /* default: Zeek's Site::local_nets */
		bool ignore_checksums;
	} engine;
	struct {
		char dir[PATH_MAX];
		enum connlog_format format;
	} log;
	struct {
		bool enabled;
		enum syslog_format format;
		int facility;			    /* 0..23, default local0 */
		struct syslog_client_config client; /* transport, path, host, port, queue_max */
	} syslog;
	/* [knock] [bits] [remote]: the detectors' own config structs */
	struct knock_config knock;
	struct bits_config bits;
	struct remote_config remote;
	/* [remote] session_table_size, inventory_size (detect_config's) */
	size_t remote_sessions;
	size_t inventory_size;
	/* [policy]: monitor/enforce, never-block list, timeouts, rate limit */
	struct policy_config policy;
	struct {
		/* control_socket, control_group; the other limits at their defaults */
		struct ctl_server_config ctl;
		char pid_file[PATH_MAX]; /* "" = none */
	} daemon;
	/* [nfq]. Its queue_num is also nft.queue_num (one key, [nfq] queue_num). */
	struct nfq_config nfq;
	/* [nft]. Derived, not keys: queue_num (above), and the sets' default
	 * timeouts, used only for elements added without one (the daemon always
	 * gives one): flag_timeout = [policy] flag_timeout, block_timeout = the
	 * longest [policy] block_timeout_*. */
	struct nft_config nft;
};

/* The defaults, equal to what conf/knockguard.conf says. */
void config_defaults(struct kg_config *cfg);
/* Defaults, then the file. On error returns false with one sentence in err
 * (cfg is then partly loaded: do not use it). */
bool config_load(const char *path, struct kg_config *cfg, char *err, size_t errlen);
/* The engine's part: max_flows, ignore_checksums, local_nets and policy
 * (pointing into cfg, which must outlive the engine). Other fields keep their
 * defaults; detect stays NULL: point it at a config_detect() result. */
void config_engine(const struct kg_config *cfg, struct engine_config *out);
/* The detect stage's config (engine_config.detect): [knock] [bits] [remote]
 * and the two table sizes. */
void config_detect(const struct kg_config *cfg, struct detect_config *out);

/* The known keys, for documentation checks: "section.key" for i < count;
 * keys taking any suffix end in ".*" (e.g. "knock.known_sequence.*"). */
size_t config_key_count(void);
void config_key_name(size_t i, char *out, size_t outlen);

#endif
