/* Pure per-packet features for the knock detector: TCP option fingerprints,
 * SPA payload shape, port classes, labels. */
#include "detect/knock_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

uint64_t knock_fnv64(uint64_t h, const void *data, size_t n)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

uint32_t knock_tcp_options_fp(const uint8_t *opts, size_t len)
{
	uint32_t h = 0x811c9dc5u;
	size_t i = 0, kinds = 0;
	while (i < len) {
		uint8_t kind = opts[i];
		if (kind == 0) /* EOL: the rest is padding */
			break;
		h = (h ^ kind) * 0x01000193u;
		kinds++;
		if (kind == 1) {
			i++;
			continue;
		}
		/* A length that runs past the header ends the walk; the kind seen so
		 * far still counts, as a scanner's malformed options are a feature. */
		if (i + 1 >= len || opts[i + 1] < 2 || i + opts[i + 1] > len) {
			h = (h ^ 0xffu) * 0x01000193u;
			break;
		}
		i += opts[i + 1];
	}
	if (kinds == 0)
		return 0;
	return h ? h : 1;
}

static bool is_b64_std(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '+' || c == '/';
}

void knock_spa_features(const struct knock_config *cfg, const uint8_t *p, uint32_t caplen,
			uint32_t len, struct knock_spa_features *out)
{
	memset(out, 0, sizeof(*out));
	out->len = (uint16_t)(len > UINT16_MAX ? UINT16_MAX : len);
	if (!p || caplen == 0)
		return;
	if (caplen > len)
		caplen = len;
	uint32_t counts[256] = {0};
	uint32_t b64 = 0;
	bool std = false, url = false;
	for (uint32_t i = 0; i < caplen; i++) {
		uint8_t c = p[i];
		counts[c]++;
		if (is_b64_std(c)) {
			b64++;
			std |= c == '+' || c == '/';
		} else if (c == '-' || c == '_') {
			b64++; /* the URL-safe alphabet (fwknop over HTTP) */
			url = true;
		}
	}
	double h = 0;
	for (unsigned c = 0; c < 256; c++) {
		if (!counts[c])
			continue;
		double q = (double)counts[c] / caplen;
		h -= q * log2(q);
	}
	out->entropy_centi = (uint16_t)(h * 100.0 + 0.5);
	out->b64_permille = (uint16_t)((uint64_t)b64 * 1000u / caplen);
	out->shape = len >= cfg->spa_min_len && len <= cfg->spa_max_len &&
		     caplen >= cfg->spa_min_len && b64 == caplen && !(std && url) &&
		     h >= cfg->spa_min_entropy;
}

/* Ports a scan of "common services" covers: roughly nmap's top-100 TCP list
 * plus a few UDP services. Knock ports are usually chosen outside it. */
static const uint16_t common_ports[] = {
	7,    9,    13,	  21,	22,   23,    25,    26,	   37,	  53,	 67,	68,    69,
	79,   80,   81,	  88,	106,  110,   111,   113,   119,	  123,	 135,	137,   138,
	139,  143,  144,  161,	162,  179,   199,   389,   427,	  443,	 444,	445,   465,
	500,  513,  514,  515,	520,  543,   544,   548,   554,	  587,	 631,	646,   873,
	990,  993,  995,  1025, 1026, 1027,  1028,  1029,  1110,  1194,	 1433,	1434,  1701,
	1720, 1723, 1755, 1812, 1813, 1900,  2000,  2001,  2049,  2121,	 2717,	3000,  3128,
	3306, 3389, 3986, 4500, 4899, 5000,  5009,  5051,  5060,  5101,	 5190,	5353,  5357,
	5432, 5631, 5666, 5800, 5900, 6000,  6001,  6646,  7070,  8000,	 8008,	8009,  8080,
	8081, 8443, 8888, 9100, 9999, 10000, 32768, 49152, 49153, 49154, 49155, 49156, 49157,
};

bool knock_port_is_common(uint16_t port)
{
	for (size_t i = 0; i < sizeof(common_ports) / sizeof(common_ports[0]); i++)
		if (common_ports[i] == port)
			return true;
	return false;
}

/* §A.7 step 5: a remote-access or admin port is what a knock usually unlocks. */
bool knock_port_is_admin(uint16_t port)
{
	switch (port) {
	case 22:
	case 23:
	case 443:
	case 2222:
	case 3389:
	case 5800:
	case 5900:
	case 5901:
	case 5902:
	case 5903:
	case 5938:
	case 8443:
		return true;
	default:
		return false;
	}
}

const char *knock_outcome_label(uint8_t outcome, uint8_t icmp_type, uint8_t icmp_code, char buf[16])
{
	switch (outcome) {
	case KNOCK_CLOSED_RST:
		return "REJ";
	case KNOCK_CLOSED_ICMP:
		snprintf(buf, 16, "ICMP%u/%u", icmp_type, icmp_code);
		return buf;
	case KNOCK_FILTERED_SILENT:
		return "S0";
	case KNOCK_OPEN:
		return "OPEN";
	case KNOCK_BLOCKED_BY_GUARD:
		return "BLOCKED";
	default:
		return "pending";
	}
}

enum transport knock_transport(uint8_t ip_proto)
{
	switch (ip_proto) {
	case 6:
		return TRANSPORT_TCP;
	case 17:
		return TRANSPORT_UDP;
	case 1:
	case 58:
		return TRANSPORT_ICMP;
	default:
		return TRANSPORT_UNKNOWN;
	}
}

const char *knock_proto_name(uint8_t ip_proto)
{
	switch (ip_proto) {
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 1:
	case 58:
		return "icmp";
	default:
		return "unknown";
	}
}

/* Multicast and limited broadcast: announcements (mDNS, SSDP, NetBIOS, DHCP)
 * to several ports, never answered in kind, are no knock on anyone's door. */
bool knock_dst_is_group(const struct kg_addr *a)
{
	if (addr_is_v4(a))
		return (a->b[12] & 0xf0) == 0xe0 ||
		       (a->b[12] == 255 && a->b[13] == 255 && a->b[14] == 255 && a->b[15] == 255);
	return a->b[0] == 0xff;
}

/* UDP traceroute (Linux default): one probe per port from 33434 up, 3 per hop,
 * answered by time-exceeded. Looks like a sequential port scan otherwise. */
bool knock_port_is_traceroute(uint8_t ip_proto, uint16_t port)
{
	return ip_proto == 17 && port >= 33434 && port <= 33534;
}
