#include "io/pcap_source.h"

#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "decode/decode.h"

struct pcap_source {
	pcap_t *pcap;
	FILE *fp; /* owned by pcap once it is open */
	char name[256];
	int linktype;
	bool pcapng;
	/* pcap: where the next record starts (counted, so no ftell() syscall
	 * per packet); -1 if unknown. */
	long next_offset;
	uint64_t packets;
	char err[PCAP_SOURCE_ERR_MAX];
};

static struct pcap_source *pcap_source_fail(struct pcap_source *s, int code, int *exit_code)
{
	*exit_code = code;
	if (s->pcap)
		pcap_close(s->pcap);
	else if (s->fp && s->fp != stdin)
		fclose(s->fp);
	free(s);
	return NULL;
}

/* The link type must be one the decoder knows. pcap_datalink() gives DLT_
 * values (LINKTYPE_RAW 101 reads as DLT_RAW); decode.h accepts both. */
static bool pcap_source_check_link(struct pcap_source *s, char *err, size_t errlen)
{
	s->linktype = pcap_datalink(s->pcap);
	if (decoder_link_supported(s->linktype))
		return true;
	const char *name = pcap_datalink_val_to_name(s->linktype);
	const char *desc = pcap_datalink_val_to_description(s->linktype);
	char user[16];
	/* libpcap has no names for the private-use DLT_USER0..15 (147..162). */
	if (name == NULL && s->linktype >= 147 && s->linktype <= 162) {
		snprintf(user, sizeof(user), "USER%d", s->linktype - 147);
		name = user;
		desc = "private use";
	}
	snprintf(err, errlen,
		 "%s: unsupported link type %d (%s%s%s); supported: Ethernet, raw IP, "
		 "Linux cooked (SLL, SLL2), BSD/OpenBSD loopback",
		 s->name, s->linktype, name ? name : "no name known to libpcap", desc ? ", " : "",
		 desc ? desc : "");
	return false;
}

struct pcap_source *pcap_source_open(const char *path, int *exit_code, char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct stat st;
	struct pcap_source *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		*exit_code = PCAP_SOURCE_EX_NOINPUT;
		return NULL;
	}
	bool is_stdin = strcmp(path, "-") == 0;
	snprintf(s->name, sizeof(s->name), "%s", is_stdin ? "standard input" : path);

	/* Opening the file ourselves tells "cannot open" (EX_NOINPUT) from "not a
	 * capture" (EX_DATAERR), which pcap_open_offline() mixes in one string. */
	s->fp = is_stdin ? stdin : fopen(path, "rb");
	if (s->fp == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", s->name, strerror(errno));
		return pcap_source_fail(s, PCAP_SOURCE_EX_NOINPUT, exit_code);
	}
	if (fstat(fileno(s->fp), &st) != 0)
		memset(&st, 0, sizeof(st)); /* unknown: neither a directory nor a file */
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot read %s: %s", s->name, strerror(EISDIR));
		return pcap_source_fail(s, PCAP_SOURCE_EX_NOINPUT, exit_code);
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0) {
		snprintf(err, errlen, "%s: empty file (0 bytes); expected a pcap or pcapng capture",
			 s->name);
		return pcap_source_fail(s, PCAP_SOURCE_EX_DATAERR, exit_code);
	}

	s->pcap = pcap_fopen_offline_with_tstamp_precision(s->fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (s->pcap == NULL) {
		char size[48] = "";
		if (S_ISREG(st.st_mode))
			snprintf(size, sizeof(size), "; the file has %lld bytes", (long long)st.st_size);
		snprintf(err, errlen,
			 "%s: not a readable capture: expected a pcap or pcapng file header at byte "
			 "offset 0%s (libpcap: %s)",
			 s->name, size, errbuf);
		return pcap_source_fail(s, PCAP_SOURCE_EX_DATAERR, exit_code);
	}
	if (!pcap_source_check_link(s, err, errlen))
		return pcap_source_fail(s, PCAP_SOURCE_EX_DATAERR, exit_code);
	s->pcapng = pcap_major_version(s->pcap) == 1; /* pcap is 2.x, pcapng 1.x */
	s->next_offset = ftell(s->fp);
	*exit_code = 0;
	return s;
}

enum pcap_source_status pcap_source_next(struct pcap_source *s, struct pcap_source_packet *pkt)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int rc = pcap_next_ex(s->pcap, &hdr, &data);

	if (rc == 1) {
		s->packets++;
		if (s->next_offset >= 0)
			s->next_offset += 16 + (long)hdr->caplen; /* record header + data */
		pkt->ts = (kg_time)hdr->ts.tv_sec * KG_NSEC_PER_SEC + (kg_time)hdr->ts.tv_usec;
		pkt->linktype = s->linktype;
		pkt->data = data;
		pkt->caplen = hdr->caplen;
		pkt->wirelen = hdr->len;
		return PCAP_SOURCE_PACKET;
	}
	if (rc == PCAP_ERROR_BREAK)
		return PCAP_SOURCE_END;

	const char *why = pcap_geterr(s->pcap);
	char where[64] = "";
	/* pcapng blocks are not counted here; say where libpcap stopped reading. */
	long stopped = s->pcapng ? ftell(s->fp) : s->next_offset;
	if (stopped >= 0)
		snprintf(where, sizeof(where), " %s byte offset %ld", s->pcapng ? "near" : "at",
			 stopped);
	/* libpcap reads one link type per file; a pcapng whose interfaces differ
	 * stops at the first interface block that disagrees. */
	const char *what = strstr(why, "different from the type of the first interface")
				   ? "interfaces with different link types are not supported"
				   : "capture cut short or damaged";
	snprintf(s->err, sizeof(s->err), "%s: %s%s, after %" PRIu64 " packets (libpcap: %s)",
		 s->name, what, where, s->packets, why);
	return PCAP_SOURCE_ERROR;
}

const char *pcap_source_error(const struct pcap_source *s)
{
	return s->err;
}

int pcap_source_linktype(const struct pcap_source *s)
{
	return s->linktype;
}

uint64_t pcap_source_packets(const struct pcap_source *s)
{
	return s->packets;
}

void pcap_source_close(struct pcap_source *s)
{
	if (s == NULL)
		return;
	pcap_close(s->pcap);
	free(s);
}
