/* The per-protocol connection logic behind the flow table: how each packet
 * changes a connection, when its timers remove it, and its final record. */
#ifndef KG_FLOW_H
#define KG_FLOW_H

#include <stdbool.h>

#include "decode/packet.h"
#include "flow/conn.h"
#include "util/netset.h"

/* Zeek's defaults (init-bare.zeek), as written in specs/connlog.md §10. */
struct flow_timeouts {
	kg_time tcp_inactivity;	    /* 5 min, after the handshake */
	kg_time udp_inactivity;	    /* 1 min; also TCP during the handshake */
	kg_time icmp_inactivity;    /* 1 min */
	kg_time unknown_inactivity; /* 1 min */
	kg_time long_inactivity;    /* 1 h for ssh/ftp/telnet/rlogin ports */
	kg_time attempt_delay;	    /* 5 s */
	kg_time syn_timeout;	    /* 5 s: first TCP expire check */
	kg_time session_timer;	    /* 6 s: TCP expire re-check period */
	kg_time connection_linger;  /* 5 s */
	kg_time close_delay;	    /* 5 s */
	kg_time dns_session;	    /* 10 s */
};

void flow_timeouts_default(struct flow_timeouts *t);

/* --- conn.c: protocol-independent parts --- */
void conn_init(struct conn *c, const struct packet *p, bool flip, kg_time ts,
	       const struct flow_timeouts *t);
/* Swaps originator and responder (Zeek's FlipRoles) and appends '^'. */
void conn_flip_roles(struct conn *c);
bool conn_packet_is_orig(const struct conn *c, const struct packet *p);
void conn_count_packet(struct conn *c, bool is_orig, uint32_t ip_len);
/* Fills the conn.log record; `local` decides local_orig/local_resp. */
void conn_fill_record(const struct conn *c, const struct netset *local, struct conn_record *r);
/* Earliest time at which a timer of this connection may remove it. */
kg_time conn_next_deadline(const struct conn *c);
/* Runs the timers due at `now`; true if the connection is to be removed. */
bool conn_expire(struct conn *c, kg_time now, const struct flow_timeouts *t);

/* --- server_ports.c: Zeek's likely_server_ports in default mode --- */
bool likely_server_port_tcp(uint16_t port);
bool likely_server_port_udp(uint16_t port);
/* Would Zeek flip the roles of a new connection started by this packet? */
bool flow_flip_at_creation(const struct packet *p);

/* --- tcp.c --- */
void tcp_conn_init(struct conn *c);
/* Connection reuse: this SYN starts a new connection on the same 5-tuple. */
bool tcp_is_reuse(const struct conn *c, const struct packet *p);
void tcp_process(struct conn *c, const struct packet *p, bool is_orig, const struct flow_timeouts *t);
kg_time tcp_next_deadline(const struct conn *c);
bool tcp_expire(struct conn *c, kg_time now, const struct flow_timeouts *t);
const char *tcp_conn_state(const struct conn *c);
uint64_t tcp_endpoint_size(const struct conn *c, bool orig);
uint64_t tcp_missed_bytes(const struct conn *c);

/* --- udp.c / icmp.c --- */
void udp_process(struct conn *c, const struct packet *p, bool is_orig, const struct flow_timeouts *t);
bool udp_dns_expire(struct conn *c, kg_time now, const struct flow_timeouts *t);
const char *udp_conn_state(const struct conn *c);
void icmp_process(struct conn *c, const struct packet *p, bool is_orig);
void unknown_ip_process(struct conn *c, const struct packet *p, bool is_orig);
/* ICMP "port" fields: type and the counterpart type or code; one-way types keep direction. */
void icmp_ports(uint8_t ip_proto, uint8_t type, uint8_t code, uint16_t *sport, uint16_t *dport,
		bool *one_way);

#endif
