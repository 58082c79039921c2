/* ICMP and other IP protocols: no history, always OTH, counted by ConnSize. */
#include "flow/flow.h"

/* Two-way ICMP types map to their counterpart; the rest are one-way. */
static int icmp4_counterpart(uint8_t type)
{
	switch (type) {
	case 8: return 0;
	case 0: return 8;
	case 13: return 14;
	case 14: return 13;
	case 15: return 16;
	case 16: return 15;
	case 10: return 9;
	case 9: return 10;
	case 17: return 18;
	case 18: return 17;
	default: return -1;
	}
}

static int icmp6_counterpart(uint8_t type)
{
	switch (type) {
	case 128: return 129;
	case 129: return 128;
	case 133: return 134;
	case 134: return 133;
	case 135: return 136;
	case 136: return 135;
	case 130: return 131;
	case 131: return 130;
	case 139: return 140;
	case 140: return 139;
	case 144: return 145;
	case 145: return 144;
	default: return -1;
	}
}

void icmp_ports(uint8_t ip_proto, uint8_t type, uint8_t code, uint16_t *sport, uint16_t *dport,
		bool *one_way)
{
	int counterpart = ip_proto == IPPROTO_NUM_ICMPV6 ? icmp6_counterpart(type)
							 : icmp4_counterpart(type);
	*sport = type;
	if (counterpart >= 0) {
		*dport = (uint16_t)counterpart;
		*one_way = false;
	} else {
		*dport = code;
		*one_way = true;
	}
}

void icmp_process(struct conn *c, const struct packet *p, bool is_orig)
{
	if (p->csum == L4_CSUM_BAD)
		return;
	c->last_time = p->ts;
	int64_t len = p->l4_len >= 8 ? (int64_t)p->l4_len - 8 : 0;
	if (is_orig)
		c->orig_size = c->orig_size < 0 ? len : c->orig_size + len;
	else
		c->resp_size = c->resp_size < 0 ? len : c->resp_size + len;
}

void unknown_ip_process(struct conn *c, const struct packet *p, bool is_orig)
{
	(void)is_orig;
	c->last_time = p->ts;
}
