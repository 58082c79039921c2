#!/usr/bin/env bash
# Drives the knockguard binary with generated good and bad captures and checks
# exit codes, messages and what is left in the output directory.
# Usage: tests/cli/run.sh path/to/knockguard
set -u

KG=${1:?usage: tests/cli/run.sh path/to/knockguard}
case $KG in /*) ;; *) KG=$PWD/$KG ;; esac
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SHARED=$ROOT/../shared
T=$(mktemp -d "${TMPDIR:-/tmp}/kg-cli.XXXXXX")
trap 'rm -rf "$T"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION TEST-COMMAND...
	local what=$1; shift
	if "$@"; then ok; else bad "$what"; fi
}

# run NAME ARGS...: runs knockguard, keeps rc, stdout and stderr.
run() {
	local name=$1; shift
	"$KG" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
	RC=$?
	OUT=$T/$name.out
	ERR=$T/$name.err
}
expect_rc() { # expect_rc NAME WANT
	if [ "$RC" -eq "$2" ]; then ok; else
		bad "$1: exit $RC, want $2"; sed 's/^/    | /' "$ERR"; fi
}
err_has() { # err_has NAME FIXED-STRING
	if grep -qF -- "$2" "$ERR"; then ok; else
		bad "$1: stderr lacks '$2'"; sed 's/^/    | /' "$ERR"; fi
}
no_complete_log() { # no_complete_log NAME DIR
	if [ -e "$2/conn.log" ]; then bad "$1: left $2/conn.log"; else ok; fi
	if ls "$2" | grep -q '^conn\.log\.tmp\.'; then bad "$1: left a temporary file"; else ok; fi
}
data_lines() { grep -vc '^#' "$1"; }

command -v python3 >/dev/null || { echo "cli: python3 is needed to generate captures"; exit 1; }

# --- capture generator (python3, struct only) -------------------------------
cat >"$T/gen.py" <<'PY'
import struct, sys

def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def udp4(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + udp

def ether(ip):
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip

A, B = (10, 0, 0, 1), (1, 1, 1, 1)
QUERY = udp4(A, B, 40000, 53, b"q" * 20)
ANSWER = udp4(B, A, 53, 40000, b"a" * 60)
OTHER = udp4(A, (192, 168, 1, 1), 40001, 123, b"n" * 48)
# (seconds, nanoseconds, ip packet): one DNS-like exchange, one lone packet.
PKTS = [(1700000000, 123456789, QUERY), (1700000000, 223456789, ANSWER),
        (1700000001, 500000000, OTHER)]

def pcap(linktype=1, nano=False, frames=None):
    magic = 0xa1b23c4d if nano else 0xa1b2c3d4
    out = struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 65535, linktype)
    offsets = []
    for sec, ns, ip in PKTS:
        frame = ether(ip) if linktype == 1 else ip
        offsets.append(len(out))
        out += struct.pack("<IIII", sec, ns if nano else ns // 1000, len(frame), len(frame)) + frame
    return out, offsets

def pcapng_block(btype, body):
    body += b"\0" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

def pcapng(linktypes, tsresol):
    out = pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for lt, res in zip(linktypes, tsresol):
        opts = struct.pack("<HHB3x", 9, 1, res) + struct.pack("<HH", 0, 0)
        out += pcapng_block(1, struct.pack("<HHI", lt, 0, 65535) + opts)
    for i, (sec, ns, ip) in enumerate(PKTS):
        iface = i % len(linktypes)
        frame = ether(ip) if linktypes[iface] == 1 else ip
        t = sec * 10**9 + ns if tsresol[iface] == 9 else sec * 10**6 + ns // 1000
        out += pcapng_block(6, struct.pack("<IIIII", iface, t >> 32, t & 0xffffffff,
                                            len(frame), len(frame)) + frame)
    return out

kind, path = sys.argv[1], sys.argv[2]
data, info = b"", ""
if kind == "valid":
    data, _ = pcap()
elif kind == "nano":
    data, _ = pcap(nano=True)
elif kind == "raw":
    data, _ = pcap(linktype=101)
elif kind == "user0":
    data, _ = pcap(linktype=147)
elif kind == "header10":
    data = pcap()[0][:10]
elif kind == "cut-last":
    full, offsets = pcap()
    last = offsets[-1]
    data = full[:last + (len(full) - last) // 2]
    info = str(last)
elif kind == "random":
    data = bytes((i * 197 + 89) % 251 for i in range(1000))
elif kind == "pcapng":
    data = pcapng([1, 1], [9, 6])
elif kind == "pcapng-mixed":
    data = pcapng([1, 101], [6, 6])
open(path, "wb").write(data)
if info:
    print(info)
PY
gen() { python3 "$T/gen.py" "$@"; }

# --- usage ------------------------------------------------------------------
run help -h
expect_rc "-h" 0
check "-h prints usage on stdout" grep -q '^usage: knockguard -r FILE' "$OUT"
run version -V
expect_rc "-V" 0
check "-V prints the version" grep -Eq '^knockguard [0-9]' "$OUT"

usage_case() { # usage_case NAME MESSAGE ARGS...
	local name=$1 msg=$2; shift 2
	run "$name" "$@"
	expect_rc "$name" 64
	err_has "$name" "$msg"
	err_has "$name" "usage: knockguard"
	check "$name: one-line message first" test "$(head -1 "$ERR" | grep -c '^knockguard: ')" = 1
}
gen valid "$T/valid.pcap"
usage_case bad-option "unknown option '--bogus'" --bogus -r "$T/valid.pcap"
usage_case bad-short-option "unknown option '-x'" -x
usage_case no-input "give -r FILE"
usage_case missing-value "option '-r' needs a value" -r
usage_case bad-format "--log-format must be tsv or json, not 'xml'" -r "$T/valid.pcap" --log-format xml
usage_case zero-flows "--max-flows takes a count" -r "$T/valid.pcap" --max-flows 0
usage_case junk-flows "not '12k'" -r "$T/valid.pcap" --max-flows 12k
usage_case bad-seed "--seed takes an unsigned decimal number, not '-1'" -r "$T/valid.pcap" --seed -1
usage_case extra-arg "unexpected argument 'extra'" -r "$T/valid.pcap" extra

# --- output directory ---------------------------------------------------------
run missing-dir -r "$T/valid.pcap" -w "$T/no/such/dir"
expect_rc missing-dir 73
err_has missing-dir "$T/no/such/dir"
err_has missing-dir "No such file or directory"
run file-as-dir -r "$T/valid.pcap" -w "$T/valid.pcap"
expect_rc file-as-dir 73
err_has file-as-dir "Not a directory"

# --- bad inputs: exit code, message naming the file, no complete conn.log ---
bad_input() { # bad_input NAME WANT-RC FILE MESSAGE...
	local name=$1 want=$2 file=$3; shift 3
	mkdir -p "$T/out-$name"
	run "$name" -r "$file" -w "$T/out-$name" --seed 1
	expect_rc "$name" "$want"
	err_has "$name" "$file"
	local m
	for m in "$@"; do err_has "$name" "$m"; done
	no_complete_log "$name" "$T/out-$name"
}
bad_input missing 66 "$T/does-not-exist.pcap" "cannot open" "No such file or directory"
bad_input directory 66 "$T" "Is a directory"
: >"$T/empty.pcap"
bad_input empty 65 "$T/empty.pcap" "empty file" "expected a pcap or pcapng"
gen random "$T/random.bin"
bad_input random 65 "$T/random.bin" "expected a pcap or pcapng file header" "libpcap:"
gen header10 "$T/header10.pcap"
bad_input header10 65 "$T/header10.pcap" "byte offset 0" "truncated"
gen user0 "$T/user0.pcap"
bad_input user0 65 "$T/user0.pcap" "unsupported link type 147" "USER0"
check "user0: nothing written" test -z "$(ls "$T/out-user0")"

# A capture cut in the middle of its last record: the packets before it are
# logged, but only as conn.log.incomplete, without #close.
off=$(gen cut-last "$T/cut.pcap")
bad_input cut-last 65 "$T/cut.pcap" "byte offset $off" "after 2 packets" "libpcap: truncated"
check "cut-last: earlier packets logged" test "$(data_lines "$T/out-cut-last/conn.log.incomplete" 2>/dev/null)" = 1
check "cut-last: unterminated" test -z "$(grep '^#close' "$T/out-cut-last/conn.log.incomplete")"
err_has cut-last "conn.log.incomplete"
err_has cut-last "packets read 2"

# pcapng with two interfaces of different link types: libpcap refuses the
# second interface, and we say so.
gen pcapng-mixed "$T/mixed.pcapng"
bad_input pcapng-mixed 65 "$T/mixed.pcapng" "different from the type of the first interface"

# --- good inputs --------------------------------------------------------------
good_input() { # good_input NAME FILE ARGS...
	local name=$1 file=$2; shift 2
	mkdir -p "$T/out-$name"
	run "$name" -r "$file" -w "$T/out-$name" --seed 7 "$@"
	expect_rc "$name" 0
	LOG=$T/out-$name/conn.log
	check "$name: conn.log written" test -f "$LOG"
	check "$name: nothing else left" test "$(ls "$T/out-$name" | tr '\n' ' ')" = "alerts.log conn.log http.log "
}
good_input valid "$T/valid.pcap"
check "valid: 2 records" test "$(data_lines "$LOG")" = 2
check "valid: TSV header" test "$(head -1 "$LOG")" = '#separator \x09'
check "valid: #close last" grep -Eq '^#close	[0-9]{4}(-[0-9]{2}){5}$' <(tail -1 "$LOG")
check "valid: DNS record" grep -Eq $'^1700000000\\.123456\tC[0-9A-Za-z]{2,17}\t10\\.0\\.0\\.1\t40000\t1\\.1\\.1\\.1\t53\tudp\t[^\t]+\t0\\.100000\t20\t60\tSF\tT\tF\t0\tDd\t1\t48\t1\t88\t-\t17$' "$LOG"
check "valid: lone packet, unset duration" grep -Eq $'^1700000001\\.500000\tC[0-9A-Za-z]{2,17}\t10\\.0\\.0\\.1\t40001\t192\\.168\\.1\\.1\t123\tudp\t[^\t]+\t-\t-\t-\tS0\tT\tT\t0\tD\t1\t76\t0\t0\t-\t17$' "$LOG"
err_has valid "packets read 3, decoded 3, flows 2, records 2, evictions 0"

# Same seed, same uids; another seed, other uids.
mkdir -p "$T/out-again" "$T/out-seed8"
"$KG" -r "$T/valid.pcap" -w "$T/out-again" --seed 7 2>/dev/null
"$KG" -r "$T/valid.pcap" -w "$T/out-seed8" --seed 8 2>/dev/null
check "seed: deterministic uids" cmp -s <(grep -v '^#' "$LOG") <(grep -v '^#' "$T/out-again/conn.log")
check "seed: other seed, other uids" test "$(grep -v '^#' "$LOG" | cut -f2)" != "$(grep -v '^#' "$T/out-seed8/conn.log" | cut -f2)"

good_input json "$T/valid.pcap" --log-format json
check "json: 2 lines, no header" test "$(wc -l <"$LOG")" = 2 -a -z "$(grep '^#' "$LOG")"
check "json: parses" python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$LOG"
check "json: DNS record" grep -q '^{"ts":1700000000.123456,"uid":"C[0-9A-Za-z]*","id.orig_h":"10.0.0.1","id.orig_p":40000,"id.resp_h":"1.1.1.1","id.resp_p":53,"proto":"udp",.*"duration":0.09999990463256836,"orig_bytes":20,"resp_bytes":60,"conn_state":"SF","local_orig":true,"local_resp":false,' "$LOG"

gen nano "$T/nano.pcap"
good_input nano "$T/nano.pcap"
check "nano: ts truncated to the microsecond, as Zeek reads it" grep -q $'^1700000000\\.123456\t' "$LOG"

gen raw "$T/raw.pcap"
good_input raw "$T/raw.pcap"
check "raw IP: 2 records" test "$(data_lines "$LOG")" = 2

gen pcapng "$T/two-if.pcapng"
good_input pcapng "$T/two-if.pcapng"
check "pcapng: 2 records" test "$(data_lines "$LOG")" = 2
check "pcapng: ns and us interfaces give one flow" grep -Eq $'\t0\\.100000\t20\t60\tSF\t' "$LOG"

mkdir -p "$T/out-stdin"
"$KG" -r - -w "$T/out-stdin" --seed 7 <"$T/valid.pcap" 2>"$T/stdin.err"
check "stdin: read with -r -" cmp -s <(grep -v '^#' "$T/out-stdin/conn.log") <(grep -v '^#' "$T/out-valid/conn.log")

(cd "$T/out-stdin" && rm -f conn.log && "$KG" -r "$T/valid.pcap" --seed 7 2>/dev/null)
check "-w defaults to ." test -f "$T/out-stdin/conn.log"

# An interrupted run (SIGTERM while waiting for more input) keeps what it has
# as conn.log.incomplete and never publishes conn.log.
mkdir -p "$T/out-term"
mkfifo "$T/fifo"
(cat "$T/valid.pcap"; exec sleep 10) >"$T/fifo" &
feeder=$!
"$KG" -r - -w "$T/out-term" --seed 7 <"$T/fifo" 2>"$T/term.err" &
kg=$!
for _ in $(seq 100); do ls "$T/out-term" | grep -q '^conn\.log\.tmp\.' && break; sleep 0.05; done
sleep 0.2
kill -TERM "$kg"
wait "$kg"
RC=$?
kill "$feeder" 2>/dev/null
wait "$feeder" 2>/dev/null
ERR=$T/term.err
expect_rc sigterm 143
err_has sigterm "interrupted by signal 15"
no_complete_log sigterm "$T/out-term"
check "sigterm: records kept, unterminated" test "$(data_lines "$T/out-term/conn.log.incomplete" 2>/dev/null)" = 2 -a -z "$(grep '^#close' "$T/out-term/conn.log.incomplete" 2>/dev/null)"

# --- configuration files: -t, and refusal before anything starts ----------
run conf-shipped -t -c "$ROOT/conf/knockguard.conf"
expect_rc conf-shipped 0
printf '[syslog]\ntransport = tcpp\n' >"$T/bad-value.conf"
run conf-bad-value -t -c "$T/bad-value.conf"
expect_rc conf-bad-value 78
check "conf-bad-value: names file, line, section, key, value, choices" \
	grep -q "bad-value.conf:2: \[syslog\] transport = 'tcpp': expected one of unix, udp, tcp" "$ERR"
printf '[knock]\nfoo = 1\n' >"$T/bad-key.conf"
run conf-bad-key -t -c "$T/bad-key.conf"
expect_rc conf-bad-key 78
check "conf-bad-key: unknown key named" grep -q "unknown key 'foo'" "$ERR"
run conf-missing -t -c "$T/no-such.conf"
expect_rc conf-missing 78
check "conf-missing: names the file" grep -q "no-such.conf" "$ERR"
# Inline mode with a broken file stops before touching nftables or the queue.
run live-bad-conf -c "$T/bad-value.conf"
expect_rc live-bad-conf 78
check "live-bad-conf: says why" grep -q "transport = 'tcpp'" "$ERR"
# A replay refuses a broken file too, and writes nothing.
mkdir -p "$T/out-replay-bad-conf"
run replay-bad-conf -r "$T/valid.pcap" -c "$T/bad-value.conf" -w "$T/out-replay-bad-conf"
expect_rc replay-bad-conf 78
check "replay-bad-conf: no log written" test -z "$(ls "$T/out-replay-bad-conf")"
run t-without-c -t
expect_rc t-without-c 64
run report-unknown -r "$T/valid.pcap" --report nosuch
expect_rc report-unknown 64

# --- the Zeek trace with several pcapng interfaces, when ../shared is there --
case_dir=$SHARED/zeek/cases/pcapng-multi-interface
if [ -f "$case_dir/trace.pcap" ]; then
	good_input multi-if "$case_dir/trace.pcap" -C
	# Every column but ts, uid and service (which the analyzers decide).
	check "multi-if: same records as Zeek" cmp -s \
		<(grep -v '^#' "$case_dir/conn.log" | cut -f3-7,9-22 | sort) \
		<(grep -v '^#' "$LOG" | cut -f3-7,9-22 | sort)
else
	echo "cli: $case_dir not found (no ../shared): skipping the Zeek multi-interface trace"
fi

echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
