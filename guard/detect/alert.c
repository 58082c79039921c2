#include "detect/alert.h"

const char *alert_severity_name(enum alert_severity s)
{
	switch (s) {
	case SEV_INFO:
		return "info";
	case SEV_LOW:
		return "low";
	case SEV_MEDIUM:
		return "medium";
	case SEV_HIGH:
		return "high";
	case SEV_CRITICAL:
		return "critical";
	}
	return "unknown";
}

/* MITRE ATT&CK ids: Traffic Signaling: Port Knocking, BITS Jobs, External
 * Remote Services. */
const char *alert_technique_id(enum alert_technique t)
{
	switch (t) {
	case TECH_PORT_KNOCK:
		return "T1205.001";
	case TECH_BITS:
		return "T1197";
	case TECH_REMOTE_SERVICE:
		return "T1133";
	case TECH_AUDIT:
		return "audit";
	}
	return "unknown";
}

const char *alert_direction_name(enum alert_direction d)
{
	switch (d) {
	case DIR_UNKNOWN:
		return "unknown";
	case DIR_INBOUND:
		return "inbound";
	case DIR_OUTBOUND:
		return "outbound";
	case DIR_INTERNAL:
		return "internal";
	case DIR_EXTERNAL:
		return "external";
	}
	return "unknown";
}
