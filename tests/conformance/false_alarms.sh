#!/usr/bin/env bash
# No false alarm on Zeek's own traces: replays every case in ../shared/zeek/cases
# and fails if any raises a port-knock alert (T1205.001) or a BITS upload alert,
# unless tests/conformance/true-alarms.tsv lists it as checked by hand.
# Remote-service alerts are expected (those traces are SSH/RDP/VNC sessions)
# and only reported.
# usage: tests/conformance/false_alarms.sh KNOCKGUARD_BIN
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=$root/../shared
bin=$1
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
if [ ! -d "$shared/zeek/cases" ]; then
	echo "false-alarms: skipped: ../shared/zeek not found"
	exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/kg-falsealarm.XXXXXX")
trap 'rm -rf "$work"' EXIT

allowed=$here/true-alarms.tsv
pass=0
fail=0
for dir in "$shared"/zeek/cases/*/; do
	c=$(basename "$dir")
	mkdir -p "$work/$c"
	flags=()
	if awk -F'\t' -v c="$c" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "ignore_checksums") col = i }
		$1 == c && $col == "yes" { found = 1 } END { exit !found }' "$shared/zeek/manifest.tsv"; then
		flags=(-C)
	fi
	if ! "$bin" -r "$dir/trace.pcap" -w "$work/$c" "${flags[@]}" --seed 1 >/dev/null 2>"$work/$c.err"; then
		echo "false-alarms: FAIL $c: knockguard failed: $(tail -1 "$work/$c.err")"
		fail=$((fail + 1))
		continue
	fi
	names=$( (grep -o '"name":"[^"]*"' "$work/$c/alerts.log" || true) | cut -d'"' -f4 | sort | uniq -c |
		awk '{printf "%s%s x%s", sep, $2, $1; sep=", "}' || true)
	bad=$( (grep -o '"name":"\(PortKnock::[^"]*\|BITS::Upload[^"]*\)"' "$work/$c/alerts.log" || true) |
		cut -d'"' -f4 | sort -u)
	unexpected=""
	for n in $bad; do
		awk -F'\t' -v c="$c" -v n="$n" '$1 == c && $2 == n { found = 1 } END { exit !found }' \
			"$allowed" 2>/dev/null || unexpected="$unexpected $n"
	done
	if [ -n "$unexpected" ]; then
		echo "false-alarms: FAIL $c: unexpected$unexpected"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
		[ -n "$names" ] && echo "false-alarms: ok $c: $names"
	fi
done
echo "false-alarms: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
