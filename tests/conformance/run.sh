#!/usr/bin/env bash
# `make conformance`: replays Zeek's own test traces through knockguard and
# compares the conn.logs with Zeek's baselines (../shared, beside the project).
#
# usage: tests/conformance/run.sh KNOCKGUARD_BIN
#
# For each case in ../shared/zeek/cases: knockguard -r trace.pcap -w OUT/<case>,
# with -C where the manifest says Zeek ran with ignore_checksums. Then
# ../shared/tools/connlog-compare prints per-field agreement, and gate.py
# applies the gate (non-tunnel cases: >= 99 % per field, <= 1 % records off).
# Fails if knockguard exits non-zero (crash, hang, error) on any case, or if the
# gate fails. Skips, successfully, when ../shared/zeek is absent (a user's clone).
# Outputs are kept on failure (path printed) for `connlog-compare -v`.
#
# KG_SERVICES: service names knockguard identifies; others are ignored in the
# (informational, not gated) service column.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=$root/../shared
services=${KG_SERVICES:-ssh,http,ssl,rdp,rdpeudp,rfb}
case_timeout=120

if [ $# -ne 1 ]; then
	echo "usage: $0 KNOCKGUARD_BIN" >&2
	exit 64
fi
if [ ! -d "$shared/zeek" ]; then
	echo "conformance: skipped: ../shared/zeek not found"
	exit 0
fi
bin=$1
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
if [ ! -x "$bin" ]; then
	echo "conformance: $bin is not an executable" >&2
	exit 66
fi
cases_dir=$shared/zeek/cases
manifest=$shared/zeek/manifest.tsv
compare=$shared/tools/connlog-compare # run through python3: a copied share may lose its x bit

work=$(mktemp -d "${TMPDIR:-/tmp}/kg-conformance.XXXXXX")
keep=0
trap '[ "$keep" = 1 ] && echo "conformance: outputs kept in $work" || rm -rf "$work"' EXIT
mkdir -p "$work/cand" "$work/stderr"

# manifest_field CASE COLUMN: one cell of the manifest, "" if absent.
manifest_field() {
	awk -F'\t' -v c="$1" -v col="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) k = i; next }
		k && $1 == c { print $k; exit }' "$manifest"
}

failed_runs=()
n=0
for dir in "$cases_dir"/*/; do
	dir=${dir%/}
	case_name=$(basename "$dir")
	[ -f "$dir/trace.pcap" ] || continue
	n=$((n + 1))
	args=(-r "$dir/trace.pcap" -w "$work/cand/$case_name")
	[ "$(manifest_field "$case_name" ignore_checksums)" = yes ] && args+=(-C)
	mkdir -p "$work/cand/$case_name"
	rc=0
	timeout "$case_timeout" "$bin" "${args[@]}" 2>"$work/stderr/$case_name" >/dev/null || rc=$?
	if [ "$rc" -ne 0 ]; then
		if [ "$rc" -eq 124 ]; then
			why="timed out after ${case_timeout}s"
		elif [ "$rc" -gt 128 ]; then
			why="killed by signal $((rc - 128)) (crash)"
		else
			why="exit $rc"
		fi
		failed_runs+=("$case_name: $why")
		echo "conformance: $case_name: knockguard ${args[*]}: $why" >&2
		sed 's/^/    /' "$work/stderr/$case_name" | tail -n 10 >&2
	fi
done
echo "conformance: ran $bin on $n cases (-C where the manifest says ignore_checksums=yes)"

python3 "$compare" "$work/cand" "$cases_dir" --manifest "$manifest" --services "$services" \
	--json "$work/results.json"
echo

status=0
python3 "$here/gate.py" "$work/results.json" "$manifest" || status=1
if [ ${#failed_runs[@]} -gt 0 ]; then
	echo "conformance: knockguard failed on ${#failed_runs[@]} case(s):"
	printf '  - %s\n' "${failed_runs[@]}"
	status=1
fi
[ "$status" -eq 0 ] || keep=1
exit "$status"
