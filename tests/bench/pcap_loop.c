/* The benchmark's floor: a bare libpcap read loop that touches every captured
 * byte (sums them, so the reads cannot be optimised away). knockguard replaying
 * the same file can only be slower; the ratio says by how much.
 *
 * usage: pcap_loop FILE.pcap
 * prints: packets, bytes, byte sum, seconds, packets/s (timed with CLOCK_MONOTONIC
 * from open to close, the same span an offline replay pays for). */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	uint64_t packets = 0, bytes = 0, sum = 0;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: pcap_loop FILE.pcap\n");
		return 64;
	}
	double start = now_seconds();
	pcap_t *p = pcap_open_offline(argv[1], err);
	if (!p) {
		fprintf(stderr, "pcap_loop: %s\n", err);
		return 66;
	}
	while ((rc = pcap_next_ex(p, &hdr, &data)) == 1) {
		for (uint32_t i = 0; i < hdr->caplen; i++)
			sum += data[i];
		bytes += hdr->caplen;
		packets++;
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcap_loop: %s\n", pcap_geterr(p));
		pcap_close(p);
		return 65;
	}
	pcap_close(p);
	double secs = now_seconds() - start;
	printf("packets %llu bytes %llu sum %llu seconds %.6f pps %.0f\n",
	       (unsigned long long)packets, (unsigned long long)bytes, (unsigned long long)sum,
	       secs, secs > 0 ? (double)packets / secs : 0.0);
	return 0;
}
