/* Service identification: names, standard ports, and the dispatcher that
 * runs every fingerprint matcher of the transport over a content view and
 * keeps the most confident match (matchers live in fp_*.c). */
#include "analyze/service.h"

#include <string.h>

#include "analyze/fp_internal.h"

const char *service_name(enum service_id id)
{
	switch (id) {
	case SVC_SSH: return "ssh";
	case SVC_RDP: return "rdp";
	case SVC_RDPEUDP: return "rdpeudp";
	case SVC_RFB: return "rfb";
	case SVC_TELNET: return "telnet";
	case SVC_OPENVPN: return "openvpn";
	case SVC_IKE: return "ike";
	case SVC_WIREGUARD: return "wireguard";
	case SVC_TAILSCALE: return "tailscale";
	case SVC_PPTP: return "pptp";
	case SVC_TEAMVIEWER: return "teamviewer";
	case SVC_ANYDESK: return "anydesk";
	case SVC_HTTP: return "http";
	case SVC_SSL: return "ssl";
	case SVC_NONE:
	case SVC_COUNT: break;
	}
	return "";
}

bool service_standard_port(enum service_id id, uint8_t ip_proto, uint16_t port)
{
	bool tcp = ip_proto == 6, udp = ip_proto == 17;
	switch (id) {
	case SVC_SSH: return tcp && port == 22;
	case SVC_RDP: return tcp && port == 3389;
	case SVC_RDPEUDP: return udp && port == 3389;
	case SVC_RFB: return tcp && port >= 5800 && port <= 5999; /* 5900+N, Java viewer 5800+N */
	case SVC_TELNET: return tcp && (port == 23 || port == 2323);
	case SVC_OPENVPN: return (udp && port == 1194) || (tcp && (port == 1194 || port == 443));
	case SVC_IKE: return (udp && (port == 500 || port == 4500)) || (tcp && port == 4500);
	case SVC_WIREGUARD: return udp && port == 51820;
	case SVC_TAILSCALE: return udp && port == 41641;
	case SVC_PPTP: return tcp && port == 1723;
	case SVC_TEAMVIEWER: return port == 5938 || (tcp && (port == 443 || port == 80));
	case SVC_ANYDESK: return tcp && (port == 7070 || port == 6568 || port == 443 || port == 80);
	case SVC_HTTP:
		return tcp && (port == 80 || port == 81 || port == 8000 || port == 8080 ||
			       port == 8888 || port == 3128);
	case SVC_SSL:
		return tcp && (port == 443 || port == 8443 || port == 465 || port == 563 ||
			       port == 636 || port == 853 || port == 989 || port == 990 ||
			       port == 992 || port == 993 || port == 995 || port == 5223);
	case SVC_NONE:
	case SVC_COUNT: break;
	}
	return false;
}

bool service_is_remote_access(enum service_id id)
{
	return id != SVC_NONE && id != SVC_HTTP && id != SVC_SSL && id < SVC_COUNT;
}

/* Ports Zeek attaches these analyzers to without DPD
 * (base/protocols/{http,ssl}/main.zeek likely_server_ports). */
static bool zeek_port(enum service_id id, uint16_t port)
{
	static const uint16_t http[] = {80, 81, 631, 1080, 3128, 8000, 8080, 8888};
	static const uint16_t ssl[] = {443, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223};
	const uint16_t *list = id == SVC_HTTP ? http : ssl;
	size_t n = id == SVC_HTTP ? sizeof(http) / sizeof(http[0]) : sizeof(ssl) / sizeof(ssl[0]);
	for (size_t i = 0; i < n; i++)
		if (list[i] == port)
			return true;
	return false;
}

const char *service_conn_log_name(const struct service_match *m, uint8_t ip_proto,
				  uint16_t resp_port)
{
	if (!m || m->id == SVC_NONE || m->id >= SVC_COUNT)
		return NULL;
	switch (m->id) {
	case SVC_SSH:
	case SVC_RDP:
	case SVC_RDPEUDP:
	case SVC_RFB:
		return m->both_sides ? service_name(m->id) : NULL;
	case SVC_HTTP:
	case SVC_SSL:
	case SVC_ANYDESK: {
		/* AnyDesk is TLS on the wire: Zeek calls it ssl. */
		enum service_id zid = m->id == SVC_ANYDESK ? SVC_SSL : m->id;
		bool starttls = m->fingerprint_id && strncmp(m->fingerprint_id, "tls-starttls", 12) == 0;
		bool request = m->fingerprint_id && strcmp(m->fingerprint_id, "http-response") != 0;
		if (m->both_sides || (ip_proto == 6 && request && (starttls || zeek_port(zid, resp_port))))
			return service_name(zid);
		return NULL;
	}
	default:
		return m->confidence >= CONF_MEDIUM ? service_name(m->id) : NULL;
	}
}

/* Order matters only between equally confident matches: the more specific
 * fingerprint comes first. */
static const fp_matcher tcp_matchers[] = {
	fp_ssh, fp_rdp, fp_rfb, fp_pptp, fp_openvpn_tcp, fp_ike_tcp,
	fp_teamviewer_tcp, fp_tls, fp_http, fp_starttls, fp_telnet,
};

static const fp_matcher udp_matchers[] = {
	fp_rdpeudp, fp_tailscale, fp_wireguard, fp_openvpn_udp, fp_ike_udp, fp_teamviewer_udp,
};

static enum service_verdict identify(const struct content_view *v, bool final,
				     struct service_match *out)
{
	memset(out, 0, sizeof(*out));
	out->id = SVC_NONE;
	const fp_matcher *list;
	size_t n;
	if (v->ip_proto == 6) {
		list = tcp_matchers;
		n = sizeof(tcp_matchers) / sizeof(tcp_matchers[0]);
	} else if (v->ip_proto == 17) {
		list = udp_matchers;
		n = sizeof(udp_matchers) / sizeof(udp_matchers[0]);
	} else {
		return SERVICE_NO_MATCH;
	}
	if (!v->orig || !v->resp)
		return SERVICE_NO_MATCH;

	struct fp_ctx x = {.v = v, .final = final};
	struct service_match best, cand;
	bool have = false, pending = false;
	for (size_t i = 0; i < n; i++) {
		memset(&cand, 0, sizeof(cand));
		switch (list[i](&x, &cand)) {
		case SERVICE_MATCH:
			if (!have || cand.confidence > best.confidence) {
				best = cand;
				have = true;
			}
			break;
		case SERVICE_NEED_MORE:
			pending = true;
			break;
		case SERVICE_NO_MATCH:
			break;
		}
		if (have && best.confidence == CONF_HIGH)
			break;
	}
	/* A weaker match waits while another matcher still hopes for bytes. */
	if (have && (best.confidence == CONF_HIGH || !pending || final)) {
		*out = best;
		return SERVICE_MATCH;
	}
	if (pending && !final)
		return SERVICE_NEED_MORE;
	return SERVICE_NO_MATCH;
}

enum service_verdict service_identify(const struct content_view *v, struct service_match *out)
{
	return identify(v, false, out);
}

enum service_verdict service_identify_final(const struct content_view *v, struct service_match *out)
{
	return identify(v, true, out);
}
