/* Remote-service policy (T1133, specs/detection.md §C "Authorized list" and
 * "Severity"): internal networks plus an ordered list of authorized rules,
 * evaluated against each identified remote-access session (first match wins,
 * default alert). Pure; the engine keeps one struct remote_verdict per session.
 *
 * Rule syntax, one per line ('#' starts a comment line; blank lines skipped):
 *   service server(CIDR|any) port(n|a-b|any) client(CIDR|any) [action] [comment...]
 * service: ssh rdp rdpeudp rfb|vnc telnet openvpn ike|ipsec wireguard|wg tailscale
 *          pptp teamviewer anydesk any
 * action:  allow | alert | block, optionally written action=allow (default alert).
 * Examples: "ssh 192.0.2.10/32 22 10.0.0.0/8 allow jump host",
 *           "openvpn any any any alert", "rdp any any any action=block". */
#ifndef KG_REMOTE_H
#define KG_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/service.h"
#include "detect/alert.h"
#include "util/addr.h"
#include "util/kgtime.h"
#include "util/netset.h"

#define REMOTE_RULES_MAX 256
#define REMOTE_COMMENT_MAX 64

enum remote_action { REMOTE_ALLOW, REMOTE_ALERT, REMOTE_BLOCK };

struct remote_rule {
	bool any_service;
	enum service_id service;
	bool any_server, any_client;
	struct kg_addr server_net, client_net; /* masked */
	unsigned server_prefix, client_prefix; /* over the 16-byte form */
	uint16_t port_lo, port_hi;	       /* 0..65535 for "any" */
	enum remote_action action;
	char id[ALERT_RULE_MAX]; /* "<source>:<line>", logged as policy_rule */
	char comment[REMOTE_COMMENT_MAX];
};

struct remote_config {
	bool enabled;
	struct netset internal_nets; /* default: Zeek's private space */
	/* Large transfer: orig+resp payload bytes of one session at or above this
	 * raise Remote::Large_Transfer once. 0 disables. Default 100 MiB. */
	uint64_t large_transfer_bytes;
	/* Sessions identified below this confidence are not alerted. Default LOW (all). */
	enum service_confidence min_confidence;
	size_t n_rules;
	struct remote_rule rules[REMOTE_RULES_MAX];
};

void remote_config_defaults(struct remote_config *cfg);
/* Parses rule text (many lines) and appends the rules in order. `source` names
 * the text in rule ids and errors ("remote.rules", a file path). On error
 * nothing is appended and err holds e.g.
 * "remote.rules:3: port 'ssh': expected a port 1-65535, a range a-b, or any". */
bool remote_rules_parse(struct remote_config *cfg, const char *text, const char *source, char *err,
			size_t errlen);
/* One rule, without the line loop (line only names it in id/err). */
bool remote_rule_parse(const char *line, const char *source, unsigned line_no,
		       struct remote_rule *out, char *err, size_t errlen);

const char *remote_action_name(enum remote_action a);

/* One identified session, as the engine knows it when the fingerprint matched. */
struct remote_session {
	kg_time ts;
	const char *uid;
	enum service_id service;
	enum service_confidence confidence;
	const char *fingerprint_id; /* static id from service_match, may be NULL */
	uint16_t match_offset;
	bool both_sides;
	const char *
		detail; /* JSON object members without braces (service_match.detail), may be NULL */
	struct kg_addr client, server;
	uint16_t client_port, server_port;
	enum transport proto;
	bool standard_port;
	uint64_t orig_bytes, resp_bytes; /* payload bytes so far */
	const char *conn_state;		 /* NULL while open */
	const char *history;		 /* may be NULL */
};

/* The policy's decision for one session; the engine keeps it with the flow. */
struct remote_verdict {
	bool checked;
	int rule;		   /* index of the matching rule, -1 = default */
	enum remote_action action; /* the rule's action; default REMOTE_ALERT */
	bool authorized;	   /* action == allow */
	enum alert_direction direction;
	enum alert_severity severity; /* of the session alert (when not authorized) */
	bool large_alerted;	      /* Remote::Large_Transfer already raised */
};

struct remote_policy {
	struct remote_config cfg;
};

void remote_policy_init(struct remote_policy *p, const struct remote_config *cfg);
enum alert_direction remote_direction(const struct remote_policy *p, const struct kg_addr *client,
				      const struct kg_addr *server);

/* Evaluates the session: fills *v, and returns true with *out filled
 * (Remote::Unauthorized_Session) unless the session is authorized, not a
 * remote-access service, below min_confidence or the policy is disabled. Also
 * checks the byte threshold, so a session already large when identified gets
 * its Large_Transfer on the next remote_update_bytes call. alert.blocked is
 * always false here: blocking is the engine's, via remote_rule_action. */
bool remote_check(const struct remote_policy *p, const struct remote_session *s,
		  struct remote_verdict *v, struct alert *out);
/* Called again with updated byte counts: true once per session, with *out =
 * Remote::Large_Transfer, when orig+resp reaches large_transfer_bytes. */
bool remote_update_bytes(const struct remote_policy *p, const struct remote_session *s,
			 struct remote_verdict *v, struct alert *out);
/* REMOTE_ALERT for the default rule (index -1). */
enum remote_action remote_rule_action(const struct remote_policy *p, int rule);

#endif
