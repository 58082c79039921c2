/* Service identification by bytes, on any port (specs/detection.md §C):
 * ssh, rdp, rdpeudp, rfb, telnet, openvpn, ike/ipsec, wireguard, pptp,
 * teamviewer, anydesk, http, ssl/tls. Pure functions over struct content_view. */
#ifndef KG_SERVICE_H
#define KG_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "analyze/content.h"

enum service_id {
	SVC_NONE,
	SVC_SSH,
	SVC_RDP,
	SVC_RDPEUDP,
	SVC_RFB,
	SVC_TELNET,
	SVC_OPENVPN,
	SVC_IKE,       /* IKE/ISAKMP on 500/4500 or IKE over TCP */
	SVC_WIREGUARD,
	SVC_TAILSCALE,
	SVC_PPTP,
	SVC_TEAMVIEWER,
	SVC_ANYDESK,
	SVC_HTTP,
	SVC_SSL,
	SVC_COUNT
};

enum service_confidence { CONF_LOW, CONF_MEDIUM, CONF_HIGH };

enum service_verdict {
	SERVICE_NEED_MORE, /* not decided yet: call again when more bytes arrive */
	SERVICE_MATCH,	   /* *out is filled */
	SERVICE_NO_MATCH,  /* nothing we know; stop trying */
};

#define SERVICE_DETAIL_MAX 384

struct service_match {
	enum service_id id;
	enum service_confidence confidence;
	const char *fingerprint_id; /* static, e.g. "ssh-banner", "rdp-x224-cr" */
	uint16_t match_offset;
	bool both_sides;	    /* confirmed by the reverse direction */
	/* Evidence as the members of a JSON object without braces, e.g.
	 * "\"banner\":{\"client\":\"SSH-2.0-...\"}" (already escaped), or "". */
	char detail[SERVICE_DETAIL_MAX];
};

/* Zeek's name for conn.log `service` ("ssh", "rdp", "rdpeudp", "rfb", "http",
 * "ssl") or ours where Zeek has none ("telnet", "openvpn", "ike", ...). */
const char *service_name(enum service_id id);
/* The service's standard ports: is `port` one of them for this protocol? */
bool service_standard_port(enum service_id id, uint8_t ip_proto, uint16_t port);
/* True for the T1133 remote-access family (everything but http/ssl/none). */
bool service_is_remote_access(enum service_id id);

/* Call after each content_add() that recorded something, until it returns
 * MATCH or NO_MATCH. NEED_MORE means a side that could still confirm (or
 * decide between candidates) has too few bytes and has sent fewer than
 * CONTENT_SEGMENTS segments; a silent side is waited for while the other
 * sends up to CONTENT_SEGMENTS segments. *out is zeroed unless MATCH. */
enum service_verdict service_identify(const struct content_view *v, struct service_match *out);
/* The same when no more bytes will come (the flow ended, or the caller gives
 * up waiting): decides with what is there, never NEED_MORE. One-sided strong
 * evidence gives CONF_MEDIUM, weak or port-assisted evidence CONF_LOW. */
enum service_verdict service_identify_final(const struct content_view *v, struct service_match *out);

/* The name to put in conn.log `service` for a match, or NULL. Zeek only
 * logs a service its analyzer confirmed: with DPD that takes both directions
 * (its signatures require the reverse side), and analyzers attached by port
 * confirm one-sided only for HTTP requests (Zeek's HTTP ports) and TLS
 * ClientHellos (its SSL ports, or after a STARTTLS). One-sided matches of
 * the other Zeek services (ssh, rdp, rdpeudp, rfb) are therefore not logged.
 * AnyDesk is logged as "ssl" (what Zeek sees); ours that Zeek lacks (telnet,
 * openvpn, ike, ...) are logged under our names from CONF_MEDIUM.
 * Zeek also skips analysis of connections it picked up without a handshake;
 * that is the caller's to know. */
const char *service_conn_log_name(const struct service_match *m, uint8_t ip_proto,
				  uint16_t resp_port);

/* Native IPsec (ESP 50 / AH 51) needs no bytes: callers map it by protocol. */

#endif
