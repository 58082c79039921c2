/* Offline packet source: pcap (microsecond or nanosecond) and pcapng files
 * read with libpcap, time stamps at nanosecond precision. An adapter: the only
 * place that knows libpcap. */
#ifndef KG_PCAP_SOURCE_H
#define KG_PCAP_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "util/kgtime.h"

/* sysexits.h values, so callers can exit with them directly. */
#define PCAP_SOURCE_EX_DATAERR 65 /* not a capture, truncated, unsupported link type */
#define PCAP_SOURCE_EX_NOINPUT 66 /* cannot open the file */

#define PCAP_SOURCE_ERR_MAX 512

struct pcap_source;

struct pcap_source_packet {
	kg_time ts;
	int linktype;
	const uint8_t *data; /* valid until the next pcap_source_next() */
	uint32_t caplen;
	uint32_t wirelen;
};

enum pcap_source_status {
	PCAP_SOURCE_PACKET,
	PCAP_SOURCE_END,
	PCAP_SOURCE_ERROR, /* pcap_source_error() says what; exit EX_DATAERR */
};

/* "-" reads standard input. On failure returns NULL, sets *exit_code to
 * PCAP_SOURCE_EX_NOINPUT or PCAP_SOURCE_EX_DATAERR and writes a message that
 * names the file (and the byte offset where known) into err. The link type
 * must be one decoder_link_supported() accepts. */
struct pcap_source *pcap_source_open(const char *path, int *exit_code, char *err, size_t errlen);
enum pcap_source_status pcap_source_next(struct pcap_source *s, struct pcap_source_packet *pkt);
/* After PCAP_SOURCE_ERROR: names the file, the offset and libpcap's reason. */
const char *pcap_source_error(const struct pcap_source *s);
int pcap_source_linktype(const struct pcap_source *s);
uint64_t pcap_source_packets(const struct pcap_source *s);
void pcap_source_close(struct pcap_source *s);

#endif
