#!/usr/bin/env bash
# `make bench`: replay throughput of knockguard against a bare libpcap read loop.
#
# usage: tests/bench/run.sh [BUILD]      (BUILD defaults to "build")
#
# Generates a deterministic trace (tests/bench/gen_pcap: ~1M packets, >100k flows)
# in a temporary directory, then times, best of 3 wall-clock runs each:
#   baseline    tests/bench/pcap_loop FILE     (pcap_next_ex + touch every byte)
#   knockguard  BUILD/knockguard -r FILE -w DIR
# and prints packets/s of each and their ratio. Timing is reported, never
# asserted (machines differ); a knockguard failure on the trace is an error.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
runs=3

make -s -C "$root" BUILD="$build" bench-tools
gen=$build/bench/gen_pcap
loop=$build/bench/pcap_loop
kg=$build/knockguard

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kg-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trace=$tmp/bench.pcap

echo "bench: generating $trace"
"$gen" "$trace"
packets=$("$loop" "$trace" | awk '{print $2}')
size=$(wc -c <"$trace")
echo "bench: $packets packets, $((size / 1000000)) MB (page cache warmed by the first read)"

now_ns() { date +%s%N; }

# best_of CMD...: runs CMD $runs times, prints the fastest wall time in seconds.
best_of() {
	local best="" t0 t1 s i
	for ((i = 0; i < runs; i++)); do
		t0=$(now_ns)
		"$@" >"$tmp/last.out" 2>"$tmp/last.err" || return $?
		t1=$(now_ns)
		s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (b - a) / 1e9 }')
		if [ -z "$best" ] || awk -v s="$s" -v b="$best" 'BEGIN { exit !(s < b) }'; then
			best=$s
		fi
	done
	echo "$best"
}

base_s=$(best_of "$loop" "$trace")
echo "baseline   pcap_loop: best of $runs: ${base_s} s  (in-process, last run: $(awk '{print $8 " s"}' "$tmp/last.out"))"

if [ ! -x "$kg" ]; then
	echo "bench: $kg is not built; only the baseline was measured" >&2
	exit 1
fi
kg_replay() {
	rm -rf "$tmp/out"
	mkdir -p "$tmp/out"
	"$kg" -r "$trace" -w "$tmp/out"
}
kg_s=$(best_of kg_replay) || {
	rc=$?
	echo "bench: knockguard failed on the bench trace (exit $rc); its stderr:" >&2
	tail -n 20 "$tmp/last.err" >&2
	exit 1
}
records=$(grep -vc '^#' "$tmp/out/conn.log" 2>/dev/null || true)
echo "knockguard -r -w   : best of $runs: ${kg_s} s  (conn.log records: ${records:-none})"
if [ -s "$tmp/last.err" ]; then
	echo "knockguard stderr (last run):"
	sed 's/^/  /' "$tmp/last.err" | head -n 30
fi

awk -v n="$packets" -v b="$base_s" -v k="$kg_s" 'BEGIN {
	bp = n / b; kp = n / k
	printf "\n%-22s %14s\n", "", "packets/s"
	printf "%-22s %14.0f\n", "baseline (pcap_loop)", bp
	printf "%-22s %14.0f\n", "knockguard", kp
	printf "ratio knockguard/baseline: %.3f\n", kp / bp
}'
