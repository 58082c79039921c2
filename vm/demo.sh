#!/bin/sh
# `make demo`: the appliance in its lab (a netns gateway with NFQUEUE + nftables).
# The inline mode does not exist yet, so this says so instead of pretending.
set -eu
cat <<'MSG'
knockguard demo: the inline lab (NFQUEUE + nftables) is not implemented yet; see the open issue.
Meanwhile: make check / knockguard -r
  make check                                     build, unit tests (plain + ASan/UBSan), conformance
  make && ./knockguard -r trace.pcap -w outdir   replay a capture into conn.log
MSG
exit 0
