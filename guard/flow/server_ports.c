/* Zeek's likely_server_ports in default mode (specs/connlog.md §4.2), and the
 * creation-time role flip they drive. */
#include "flow/flow.h"

static const uint16_t tcp_ports[] = {
	21,   22,   25,	  53,	79,   80,   81,	  88,	135,  139,  143,  389,	443,  445,  465,
	502,  514,  563,  585,	587,  614,  631,  636,	989,  990,  992,  993,	995,  1080, 1434,
	1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 5432, 6379, 6666, 6667, 6668, 6669,
	8000, 8080, 8888, 20000,
};

static const uint16_t udp_ports[] = {
	53,   67,   88,	  123,	137,  161,  162,  389,	443,  514,  1812, 2123,
	2152, 3389, 3544, 4011, 4754, 4789, 5060, 5072, 5353, 5355, 6081, 20000,
};

static bool in_list(const uint16_t *list, size_t n, uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == port)
			return true;
	return false;
}

bool likely_server_port_tcp(uint16_t port)
{
	return in_list(tcp_ports, sizeof(tcp_ports) / sizeof(tcp_ports[0]), port);
}

bool likely_server_port_udp(uint16_t port)
{
	return in_list(udp_ports, sizeof(udp_ports) / sizeof(udp_ports[0]), port);
}

static bool is_limited_broadcast(const struct kg_addr *a)
{
	return addr_is_v4(a) && a->b[12] == 255 && a->b[13] == 255 && a->b[14] == 255 &&
	       a->b[15] == 255;
}

bool flow_flip_at_creation(const struct packet *p)
{
	if (is_limited_broadcast(&p->dst))
		return false;
	if (p->ip_proto == IPPROTO_NUM_TCP) {
		bool syn = p->tcp_flags & TCPF_SYN, ack = p->tcp_flags & TCPF_ACK;
		if (syn && !ack)
			return false; /* a plain SYN names its originator */
		if (!likely_server_port_tcp(p->sport))
			return false; /* a SYN-ACK from a non-server port may be a scan reply */
		if (likely_server_port_tcp(p->dport))
			return !syn && p->sport < p->dport;
		return true;
	}
	if (p->ip_proto == IPPROTO_NUM_UDP)
		return likely_server_port_udp(p->sport) && !likely_server_port_udp(p->dport);
	return false;
}
