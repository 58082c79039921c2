/* Writes a deterministic Ethernet pcap for benchmarking: about a million packets
 * over more than a hundred thousand interleaved flows. The mix imitates a busy
 * gateway: TCP with handshakes, request/response data, FIN or RST closes,
 * rejected and unanswered SYNs, connections left open; DNS-like UDP query and
 * response pairs (some unanswered); ICMP echo; a tenth of flows over IPv6.
 * Every checksum is correct so the replay does not need -C.
 *
 * usage: gen_pcap OUT.pcap [PACKETS]   (PACKETS defaults to 1000000) */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTIVE_FLOWS 4096 /* flows in progress at once: how interleaved the trace is */
#define SERVERS 256
#define CLIENTS 4096
#define MAX_FRAME 1514
#define TCP_MSS 1448
#define PERCENT_TCP 60 /* of flows; then DNS-like UDP, and ICMP echo for the rest */
#define PERCENT_UDP 35

enum flow_kind { KIND_TCP, KIND_UDP, KIND_ICMP };

/* Where a TCP flow is in its script. */
enum tcp_step {
	TS_SYN,
	TS_SYNACK,
	TS_ACK,
	TS_REQUEST,
	TS_RESPONSE,
	TS_CLIENT_ACK,
	TS_FIN_CLIENT,
	TS_FIN_SERVER,
	TS_LAST_ACK,
	TS_RST,
	TS_DONE,
};

/* How a TCP flow ends. */
enum tcp_outcome { OUT_FIN, OUT_RST, OUT_OPEN, OUT_REJECTED, OUT_UNANSWERED };

struct gen_flow {
	uint32_t idx;
	enum flow_kind kind;
	bool v6;
	uint8_t caddr[16], saddr[16];
	uint16_t cport, sport;
	/* TCP */
	enum tcp_step step;
	enum tcp_outcome outcome;
	uint32_t cseq, sseq; /* next sequence number of each side */
	unsigned exchanges_left, segments_left;
	/* UDP / ICMP */
	unsigned packets_left;
	bool answered;
	uint16_t icmp_seq;
};

struct gen_stats {
	uint64_t packets, bytes, flows, tcp, udp, icmp, v6;
};

static uint64_t rng_state = 0x6b6e6f636b677561ULL; /* fixed: the trace is reproducible */

static uint64_t rng_next(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned rng_range(unsigned lo, unsigned hi)
{
	return lo + (unsigned)(rng_next() % (uint64_t)(hi - lo + 1));
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* One's-complement checksum of an L4 segment with the IPv4/IPv6 pseudo-header. */
static uint16_t l4_checksum(const struct gen_flow *f, bool from_client, uint8_t proto,
			    const uint8_t *l4, size_t len)
{
	const uint8_t *src = from_client ? f->caddr : f->saddr;
	const uint8_t *dst = from_client ? f->saddr : f->caddr;
	uint32_t sum = 0;
	if (f->v6) {
		sum = csum_add(sum, src, 16);
		sum = csum_add(sum, dst, 16);
	} else {
		sum = csum_add(sum, src + 12, 4);
		sum = csum_add(sum, dst + 12, 4);
	}
	sum += proto;
	sum += (uint32_t)len;
	sum = csum_add(sum, l4, len);
	uint16_t c = csum_fold(sum);
	return c == 0 && proto == 17 ? 0xffff : c;
}

static void fill_payload(uint8_t *p, size_t len)
{
	size_t i = 0;
	while (i < len) {
		uint64_t r = rng_next();
		for (int b = 0; b < 8 && i < len; b++, i++)
			p[i] = (uint8_t)(r >> (8 * b));
	}
}

static void pcap_write_header(FILE *out)
{
	uint8_t h[24] = {0};
	uint32_t magic = 0xa1b2c3d4, snaplen = 65535, linktype = 1;
	uint16_t major = 2, minor = 4;
	/* host byte order, as libpcap itself writes it */
	memcpy(h, &magic, 4);
	memcpy(h + 4, &major, 2);
	memcpy(h + 6, &minor, 2);
	memcpy(h + 16, &snaplen, 4);
	memcpy(h + 20, &linktype, 4);
	fwrite(h, 1, sizeof(h), out);
}

static uint64_t clock_usec = 1700000000ULL * 1000000ULL;

/* Frames one L4 segment (already built at l4) into Ethernet + IP and writes it. */
static void emit(FILE *out, struct gen_stats *st, const struct gen_flow *f, bool from_client,
		 uint8_t proto, uint8_t *frame, size_t l4_len)
{
	static const uint8_t mac_client[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
	static const uint8_t mac_server[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
	const uint8_t *src = from_client ? f->caddr : f->saddr;
	const uint8_t *dst = from_client ? f->saddr : f->caddr;
	size_t ip_hlen = f->v6 ? 40 : 20;
	uint8_t *ip = frame + 14;
	size_t frame_len = 14 + ip_hlen + l4_len;

	memcpy(frame, from_client ? mac_server : mac_client, 6);
	memcpy(frame + 6, from_client ? mac_client : mac_server, 6);
	put16(frame + 12, f->v6 ? 0x86dd : 0x0800);
	if (f->v6) {
		put32(ip, 0x60000000);
		put16(ip + 4, (uint16_t)l4_len);
		ip[6] = proto;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	} else {
		ip[0] = 0x45;
		ip[1] = 0;
		put16(ip + 2, (uint16_t)(20 + l4_len));
		put16(ip + 4, (uint16_t)st->packets);
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = proto;
		put16(ip + 10, 0);
		memcpy(ip + 12, src + 12, 4);
		memcpy(ip + 16, dst + 12, 4);
		put16(ip + 10, csum_fold(csum_add(0, ip, 20)));
	}

	clock_usec += rng_range(1, 19);
	uint32_t rec[4] = {(uint32_t)(clock_usec / 1000000), (uint32_t)(clock_usec % 1000000),
			   (uint32_t)frame_len, (uint32_t)frame_len};
	fwrite(rec, sizeof(uint32_t), 4, out);
	fwrite(frame, 1, frame_len, out);
	st->packets++;
	st->bytes += frame_len;
}

static void emit_tcp(FILE *out, struct gen_stats *st, struct gen_flow *f, bool from_client,
		     uint8_t flags, size_t payload_len)
{
	static uint8_t frame[MAX_FRAME];
	uint8_t *tcp = frame + 14 + (f->v6 ? 40 : 20);
	uint32_t *seq = from_client ? &f->cseq : &f->sseq;
	uint32_t ack = from_client ? f->sseq : f->cseq;

	put16(tcp, from_client ? f->cport : f->sport);
	put16(tcp + 2, from_client ? f->sport : f->cport);
	put32(tcp + 4, *seq);
	put32(tcp + 8, (flags & 0x10) ? ack : 0);
	tcp[12] = 5 << 4;
	tcp[13] = flags;
	put16(tcp + 14, 64240);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);
	fill_payload(tcp + 20, payload_len);
	put16(tcp + 16, l4_checksum(f, from_client, 6, tcp, 20 + payload_len));
	emit(out, st, f, from_client, 6, frame, 20 + payload_len);
	*seq += (uint32_t)payload_len + ((flags & 0x03) ? 1 : 0); /* SYN and FIN take one */
}

static void emit_udp(FILE *out, struct gen_stats *st, struct gen_flow *f, bool from_client,
		     const uint8_t *payload, size_t payload_len)
{
	static uint8_t frame[MAX_FRAME];
	uint8_t *udp = frame + 14 + (f->v6 ? 40 : 20);
	put16(udp, from_client ? f->cport : f->sport);
	put16(udp + 2, from_client ? f->sport : f->cport);
	put16(udp + 4, (uint16_t)(8 + payload_len));
	put16(udp + 6, 0);
	memcpy(udp + 8, payload, payload_len);
	put16(udp + 6, l4_checksum(f, from_client, 17, udp, 8 + payload_len));
	emit(out, st, f, from_client, 17, frame, 8 + payload_len);
}

/* A well-formed DNS query for h<idx>.example.com (A or AAAA), or its answer. */
static size_t dns_message(const struct gen_flow *f, bool response, uint8_t *m)
{
	bool aaaa = f->idx % 3 == 0;
	size_t n = 12;
	int label;

	put16(m, (uint16_t)f->idx);
	put16(m + 2, response ? 0x8180 : 0x0100);
	put16(m + 4, 1);
	put16(m + 6, response ? 1 : 0);
	put16(m + 8, 0);
	put16(m + 10, 0);
	label = snprintf((char *)m + n + 1, 16, "h%u", (unsigned)f->idx);
	m[n] = (uint8_t)label;
	n += 1 + (size_t)label;
	memcpy(m + n, "\007example\003com", 13); /* with its final NUL label */
	n += 13;
	put16(m + n, aaaa ? 28 : 1);
	put16(m + n + 2, 1);
	n += 4;
	if (response) {
		put16(m + n, 0xc00c); /* name: pointer to the question */
		put16(m + n + 2, aaaa ? 28 : 1);
		put16(m + n + 4, 1);
		put32(m + n + 6, 300);
		put16(m + n + 10, aaaa ? 16 : 4);
		n += 12;
		memcpy(m + n, f->saddr + (aaaa ? 0 : 12), aaaa ? 16 : 4);
		n += aaaa ? 16 : 4;
	}
	return n;
}

static void emit_icmp_echo(FILE *out, struct gen_stats *st, struct gen_flow *f, bool request)
{
	static uint8_t frame[MAX_FRAME];
	uint8_t *icmp = frame + 14 + (f->v6 ? 40 : 20);
	uint8_t proto = f->v6 ? 58 : 1;
	size_t len = 8 + 56;
	icmp[0] = f->v6 ? (request ? 128 : 129) : (request ? 8 : 0);
	icmp[1] = 0;
	put16(icmp + 2, 0);
	put16(icmp + 4, (uint16_t)f->idx);
	put16(icmp + 6, f->icmp_seq);
	fill_payload(icmp + 8, len - 8);
	uint16_t c = f->v6 ? l4_checksum(f, request, proto, icmp, len)
			   : csum_fold(csum_add(0, icmp, len));
	put16(icmp + 2, c);
	emit(out, st, f, request, proto, frame, len);
}

static void flow_start(struct gen_flow *f, uint32_t idx, struct gen_stats *st)
{
	static const uint16_t tcp_ports[] = {443, 443, 443, 80, 80, 22, 25, 993, 3389, 8080};
	unsigned r = rng_range(0, 99);
	unsigned client = idx % CLIENTS, server = (unsigned)(rng_next() % SERVERS);

	/* Zeek keys ICMP flows by addresses and type/code, not by echo id: each echo
	 * flow gets a (client, server) pair of its own, so it stays one flow. */
	if (r >= PERCENT_TCP + PERCENT_UDP)
		server = (idx / CLIENTS) % SERVERS;

	memset(f, 0, sizeof(*f));
	f->idx = idx;
	f->v6 = rng_range(0, 9) == 0;
	if (f->v6) {
		const uint8_t c6[16] = {0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
		const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
		memcpy(f->caddr, c6, 16);
		memcpy(f->saddr, s6, 16);
		put16(f->caddr + 14, (uint16_t)(client + 1));
		put16(f->saddr + 14, (uint16_t)(server + 1));
		st->v6++;
	} else {
		const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
		memcpy(f->caddr, v4_mapped, 12);
		memcpy(f->saddr, v4_mapped, 12);
		f->caddr[12] = 10;
		f->caddr[13] = 1;
		put16(f->caddr + 14, (uint16_t)(client + 1));
		f->saddr[12] = 198;
		f->saddr[13] = 51;
		f->saddr[14] = 100;
		f->saddr[15] = (uint8_t)server;
	}
	/* a new source port per flow from this client: 5-tuples never repeat */
	f->cport = (uint16_t)(1024 + (idx / CLIENTS) % 64000);

	if (r < PERCENT_TCP) {
		unsigned o = rng_range(0, 99);
		f->kind = KIND_TCP;
		f->sport = tcp_ports[rng_next() % (sizeof(tcp_ports) / sizeof(tcp_ports[0]))];
		f->step = TS_SYN;
		f->outcome = o < 78   ? OUT_FIN
			     : o < 88 ? OUT_RST
			     : o < 93 ? OUT_OPEN
			     : o < 97 ? OUT_REJECTED
				      : OUT_UNANSWERED;
		f->cseq = (uint32_t)rng_next();
		f->sseq = (uint32_t)rng_next();
		f->exchanges_left = rng_range(1, 3);
		st->tcp++;
	} else if (r < PERCENT_TCP + PERCENT_UDP) {
		f->kind = KIND_UDP;
		f->sport = 53;
		f->answered = rng_range(0, 19) != 0;
		f->packets_left = f->answered ? 2 : 1;
		st->udp++;
	} else {
		f->kind = KIND_ICMP;
		f->packets_left = 2 * rng_range(1, 3);
		f->answered = true;
		st->icmp++;
	}
	st->flows++;
}

/* Emits the flow's next packet; returns false once the flow has nothing left to send. */
static bool flow_step(FILE *out, struct gen_stats *st, struct gen_flow *f)
{
	if (f->kind == KIND_UDP) {
		uint8_t msg[128];
		bool query = (f->answered ? f->packets_left == 2 : true);
		emit_udp(out, st, f, query, msg, dns_message(f, !query, msg));
		return --f->packets_left > 0;
	}
	if (f->kind == KIND_ICMP) {
		bool request = (f->packets_left % 2) == 0;
		if (request)
			f->icmp_seq++;
		emit_icmp_echo(out, st, f, request);
		return --f->packets_left > 0;
	}

	switch (f->step) {
	case TS_SYN:
		emit_tcp(out, st, f, true, 0x02, 0);
		f->step = f->outcome == OUT_UNANSWERED ? TS_DONE : TS_SYNACK;
		break;
	case TS_SYNACK:
		if (f->outcome == OUT_REJECTED) {
			f->sseq = 0;
			emit_tcp(out, st, f, false, 0x14, 0); /* RST|ACK */
			f->step = TS_DONE;
		} else {
			emit_tcp(out, st, f, false, 0x12, 0);
			f->step = TS_ACK;
		}
		break;
	case TS_ACK:
		emit_tcp(out, st, f, true, 0x10, 0);
		f->step = TS_REQUEST;
		break;
	case TS_REQUEST:
		emit_tcp(out, st, f, true, 0x18, rng_range(40, 500));
		f->segments_left = rng_range(1, 3);
		f->step = TS_RESPONSE;
		break;
	case TS_RESPONSE:
		emit_tcp(out, st, f, false, f->segments_left == 1 ? 0x18 : 0x10,
			 rng_range(200, TCP_MSS));
		if (--f->segments_left == 0)
			f->step = TS_CLIENT_ACK;
		break;
	case TS_CLIENT_ACK:
		emit_tcp(out, st, f, true, 0x10, 0);
		if (--f->exchanges_left > 0)
			f->step = TS_REQUEST;
		else if (f->outcome == OUT_FIN)
			f->step = TS_FIN_CLIENT;
		else if (f->outcome == OUT_RST)
			f->step = TS_RST;
		else
			f->step = TS_DONE; /* left open: flushed at end of input */
		break;
	case TS_FIN_CLIENT:
		emit_tcp(out, st, f, true, 0x11, 0);
		f->step = TS_FIN_SERVER;
		break;
	case TS_FIN_SERVER:
		emit_tcp(out, st, f, false, 0x11, 0);
		f->step = TS_LAST_ACK;
		break;
	case TS_LAST_ACK:
		emit_tcp(out, st, f, true, 0x10, 0);
		f->step = TS_DONE;
		break;
	case TS_RST:
		emit_tcp(out, st, f, true, 0x14, 0);
		f->step = TS_DONE;
		break;
	case TS_DONE:
		break;
	}
	return f->step != TS_DONE;
}

int main(int argc, char **argv)
{
	static struct gen_flow active[ACTIVE_FLOWS];
	struct gen_stats st = {0};
	uint64_t target = 1000000;
	size_t n_active = 0;
	uint32_t next_idx = 0;
	FILE *out;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: gen_pcap OUT.pcap [PACKETS]\n");
		return 64;
	}
	if (argc == 3) {
		char *end;
		target = strtoull(argv[2], &end, 10);
		if (*end || target == 0) {
			fprintf(stderr, "gen_pcap: bad packet count '%s'\n", argv[2]);
			return 64;
		}
	}
	out = fopen(argv[1], "wb");
	if (!out) {
		fprintf(stderr, "gen_pcap: %s: %s\n", argv[1], strerror(errno));
		return 73;
	}
	setvbuf(out, NULL, _IOFBF, 1 << 20);
	pcap_write_header(out);

	while (n_active < ACTIVE_FLOWS)
		flow_start(&active[n_active++], next_idx++, &st);
	/* Pick a random flow in progress for each packet; replace finished flows
	 * until the packet budget is spent, then let the rest finish. */
	while (n_active > 0) {
		size_t i = (size_t)(rng_next() % n_active);
		if (flow_step(out, &st, &active[i]))
			continue;
		if (st.packets < target)
			flow_start(&active[i], next_idx++, &st);
		else
			active[i] = active[--n_active];
	}

	if (fclose(out) != 0) {
		fprintf(stderr, "gen_pcap: %s: write failed\n", argv[1]);
		return 74;
	}
	fprintf(stderr,
		"gen_pcap: %llu packets, %llu bytes, %llu flows (tcp %llu, udp %llu, icmp %llu; "
		"ipv6 %llu)\n",
		(unsigned long long)st.packets, (unsigned long long)st.bytes,
		(unsigned long long)st.flows, (unsigned long long)st.tcp,
		(unsigned long long)st.udp, (unsigned long long)st.icmp, (unsigned long long)st.v6);
	return 0;
}
