#!/usr/bin/env bash
# Syslog end to end: a private rsyslogd (its own config, work directory and
# pid file; UDP and TCP inputs on 127.0.0.1, a unix socket in a temporary
# directory -- never the machine's /dev/log) receives alerts shipped the way
# knockguard ships them (tests/e2e/send_alert: config -> syslog_format ->
# syslog_client), over UDP, TCP (RFC 6587 octet counting) and the unix socket,
# in RFC 5424 and RFC 3164. Each message must arrive byte for byte, parsed by
# rsyslog into the right PRI, APP-NAME, MSGID and structured data, with the
# alert JSON intact. One TCP sender starts before the collector, so it must
# queue, back off and reconnect.
# Usage: tests/e2e/syslog_rsyslog.sh [BUILD_DIR]   (run by `make e2e`)
set -u

NAME=syslog_rsyslog
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SEND=$BUILD/tests/e2e/send_alert

if [ "$(id -u)" -ne 0 ]; then
	echo "$NAME: SKIP: not root (it installs rsyslog if missing and runs a private rsyslogd)"
	exit 0
fi
if [ ! -x "$SEND" ]; then
	echo "$NAME: $SEND is missing (make e2e builds it)" >&2
	exit 1
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/kg-rsyslog.XXXXXX")
RS_PID=
MADE_POLICY=
cleanup() {
	if [ -n "$RS_PID" ]; then
		kill "$RS_PID" 2>/dev/null
		wait "$RS_PID" 2>/dev/null
	fi
	[ -n "$MADE_POLICY" ] && rm -f /usr/sbin/policy-rc.d
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
if [ ! -x "$RSYSLOGD" ]; then
	echo "$NAME: installing rsyslog"
	# Keep the package from starting the machine's own rsyslog (which would
	# take /dev/log): policy-rc.d exit 101 forbids service starts.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		MADE_POLICY=1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends rsyslog >"$T/apt.log" 2>&1 ||
		{ apt-get update -qq >>"$T/apt.log" 2>&1 &&
		  apt-get install -y -qq --no-install-recommends rsyslog >>"$T/apt.log" 2>&1; } ||
		{ echo "$NAME: cannot install rsyslog:"; tail -5 "$T/apt.log"; exit 1; }
	if [ -n "$MADE_POLICY" ]; then
		rm -f /usr/sbin/policy-rc.d
		MADE_POLICY=
	fi
	RSYSLOGD=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
fi

free_port() { # free_port udp|tcp
	python3 -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}
UDP_PORT=$(free_port udp)
TCP_PORT=$(free_port tcp)
SOCK=$T/log.sock
mkdir "$T/work"

# imuxsock's SysSock.Use="off": no /dev/log. UseSpecialParser="off": the
# regular parser chain, which knows RFC 5424, also on the local socket.
cat >"$T/rsyslog.conf" <<EOF
global(workDirectory="$T/work")
module(load="imuxsock" SysSock.Use="off")
module(load="imudp")
module(load="imtcp")
input(type="imuxsock" Socket="$SOCK" UseSpecialParser="off" CreatePath="off")
input(type="imudp" Address="127.0.0.1" Port="$UDP_PORT")
input(type="imtcp" Address="127.0.0.1" Port="$TCP_PORT")
template(name="kgraw" type="string" string="%inputname%|%rawmsg%\n")
template(name="kgparsed" type="string"
	string="%inputname%|%pri%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\n")
if \$app-name == "knockguard" then {
	action(type="omfile" file="$T/raw.log" template="kgraw")
	action(type="omfile" file="$T/parsed.log" template="kgparsed")
}
EOF
if ! "$RSYSLOGD" -N1 -f "$T/rsyslog.conf" >"$T/check.out" 2>&1; then
	echo "$NAME: rsyslogd refuses the test config:"; cat "$T/check.out"; exit 1
fi

conf() { # conf TRANSPORT FORMAT FILE
	local port=$TCP_PORT
	[ "$1" = udp ] && port=$UDP_PORT
	cat >"$3" <<EOF
[syslog]
enabled = yes
transport = $1
host = 127.0.0.1
port = $port
path = $SOCK
format = $2
facility = local3
EOF
}

# A sender that starts before the collector: it must queue and reconnect.
conf tcp rfc5424 "$T/late.conf"
"$SEND" -c "$T/late.conf" -n 3 -t tcplate >"$T/tcplate.sent" 2>"$T/tcplate.err" &
LATE_PID=$!
sleep 0.3

"$RSYSLOGD" -n -f "$T/rsyslog.conf" -i "$T/rsyslogd.pid" >"$T/rsyslogd.out" 2>&1 &
RS_PID=$!
ready=
for _ in $(seq 100); do
	if [ -S "$SOCK" ] && (exec 3<>"/dev/tcp/127.0.0.1/$TCP_PORT") 2>/dev/null; then
		ready=1
		break
	fi
	kill -0 "$RS_PID" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$ready" ]; then
	echo "$NAME: rsyslogd did not come up:"; cat "$T/rsyslogd.out"; exit 1
fi

failed=0
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

if ! wait "$LATE_PID"; then
	fail "tcplate: send_alert did not deliver: $(cat "$T/tcplate.err")"
fi
grep -q 'reconnects=1 ' "$T/tcplate.err" || fail "tcplate: no reconnect: $(cat "$T/tcplate.err")"

CASES="tcplate:imtcp:rfc5424"
for tr in udp tcp unix; do
	for fmt in rfc5424 rfc3164; do
		tag=$tr$fmt
		conf "$tr" "$fmt" "$T/$tag.conf"
		if ! "$SEND" -c "$T/$tag.conf" -n 3 -t "$tag" >"$T/$tag.sent" 2>"$T/$tag.err"; then
			fail "$tag: send_alert failed: $(cat "$T/$tag.err")"
		fi
		case $tr in udp) input=imudp ;; tcp) input=imtcp ;; unix) input=imuxsock ;; esac
		CASES="$CASES $tag:$input:$fmt"
	done
done

# Wait for every message (3 a case) to be written by rsyslog.
want=$(( $(echo "$CASES" | wc -w) * 3 ))
for _ in $(seq 100); do
	[ -f "$T/parsed.log" ] && [ "$(wc -l <"$T/parsed.log")" -ge "$want" ] && break
	sleep 0.1
done

python3 - "$T" "$CASES" <<'EOF' || failed=$((failed + 1))
import json, re, sys

tdir, cases = sys.argv[1], sys.argv[2].split()
raw = open(f"{tdir}/raw.log", encoding="ascii").read().splitlines() if cases else []
parsed = [l.split("|", 6) for l in open(f"{tdir}/parsed.log", encoding="ascii").read().splitlines()]
techniques = {"T1205.001", "T1197", "T1133"}
sev_code = {"critical": 2, "high": 3, "medium": 4, "low": 5, "info": 6}
bad = checks = 0

def check(cond, what):
    global bad, checks
    checks += 1
    if not cond:
        bad += 1
        print(f"FAIL: {what}")

for case in cases:
    tag, inputname, fmt = case.split(":")
    sent = open(f"{tdir}/{tag}.sent", encoding="ascii").read().splitlines()
    check(len(sent) == 3, f"{tag}: {len(sent)} messages sent, want 3")
    for i, msg in enumerate(sent):
        name = f'E2E::{tag}_{i} '
        check(f"{inputname}|{msg}" in raw, f"{tag}#{i}: not received byte for byte via {inputname}")
        rows = [r for r in parsed if len(r) == 7 and r[0] == inputname and
                f'"name":"{name}' in r[6]]
        check(len(rows) == 1, f"{tag}#{i}: {len(rows)} parsed records, want 1")
        if len(rows) != 1:
            continue
        _, pri, app, procid, msgid, sd, body = rows[0]
        sent_json = msg[msg.index("{"):]
        check(body.lstrip(" ") == sent_json, f"{tag}#{i}: MSG differs: {body!r}")
        try:
            alert = json.loads(body)
        except ValueError as e:
            check(False, f"{tag}#{i}: MSG is not JSON: {e}")
            continue
        check(alert["name"] == f'E2E::{tag}_{i} "q" [b] \\', f"{tag}#{i}: name {alert['name']!r}")
        check(alert["msg"].endswith('caf\u00e9 "quoted".'), f"{tag}#{i}: msg {alert['msg']!r}")
        check(alert["evidence"] == {"test": True, "i": i, "tag": tag, "list": [1, 2, 3]},
              f"{tag}#{i}: evidence {alert['evidence']!r}")
        check(alert["technique"] in techniques, f"{tag}#{i}: technique {alert['technique']}")
        check(int(pri) == 19 * 8 + sev_code[alert["severity"]],
              f"{tag}#{i}: PRI {pri} for local3/{alert['severity']}")
        check(app == "knockguard" and procid.isdigit(), f"{tag}#{i}: app {app!r} procid {procid!r}")
        if fmt == "rfc5424":
            want_sd = ('[knockguard@32473 technique="%s" severity="%s" name="%s"]' %
                       (alert["technique"], alert["severity"],
                        re.sub(r'(["\\\]])', r"\\\1", alert["name"])))
            check(sd == want_sd, f"{tag}#{i}: structured data {sd!r}, want {want_sd!r}")
            check(msgid == alert["technique"], f"{tag}#{i}: MSGID {msgid!r}")
        else:
            check(sd == "-" and msgid == "-", f"{tag}#{i}: RFC 3164 with SD {sd!r} MSGID {msgid!r}")

extra = len(parsed) - 3 * len(cases)
check(extra == 0, f"{extra} unexpected records in parsed.log")
print(f"syslog_rsyslog: {checks - bad}/{checks} checks passed over {len(cases)} cases")
sys.exit(1 if bad else 0)
EOF

if [ "$failed" -ne 0 ]; then
	echo "$NAME: FAILED ($failed)"
	echo "--- rsyslogd output"; cat "$T/rsyslogd.out"
	exit 1
fi
echo "$NAME: ok (rsyslogd $("$RSYSLOGD" -v | head -1 | awk '{print $2}' | tr -d ,))"
