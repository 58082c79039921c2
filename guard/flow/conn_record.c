#include "flow/conn_record.h"

/* Zeek's transport_proto enum names, as conn.log's proto column prints them. */
const char *transport_name(enum transport t)
{
	switch (t) {
	case TRANSPORT_TCP:
		return "tcp";
	case TRANSPORT_UDP:
		return "udp";
	case TRANSPORT_ICMP:
		return "icmp";
	case TRANSPORT_UNKNOWN:
		break;
	}
	return "unknown_transport";
}
