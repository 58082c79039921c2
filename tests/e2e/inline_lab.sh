#!/usr/bin/env bash
# Inline end to end: knockguard on the lab's gateway (vm/lab/lab-lib.sh) with
# NFQUEUE and its own nftables table, real peers behind it (knockd guarding
# sshd on 22, sshd on 2222, a BITS server), an rsyslog collector. Assertions are
# on outcomes (did the door open, did the upload land, which addresses are in
# which kernel set, what conn.log says), not on log wording:
#   monitor   the knock opens 22 (the ssh banner comes back); the alerts reach
#             rsyslog over TCP with RFC 5424 structured data; the knocker is
#             flagged, not blocked; the BITS upload lands
#   never     the never-block client (cl2) scans and is in no set, ever
#   switch    knock 7000 8000 in monitor, `mode enforce`, then 9000: that very
#             packet is dropped (22 stays closed), blocked4 holds the client
#             with a timeout
#   enforce   after `unblock`, a whole knock is blocked before it completes;
#             the BITS upload fails
#   kill -9   under traffic: the download keeps flowing (queue bypass), the
#             kernel sets survive; a restart adopts them (the block holds)
#   reload    a broken config (knockguardctl reload and SIGHUP) is refused,
#             the daemon answers with its mode unchanged; a good one is taken
#   conn.log  the knock attempts REJ or S0, the unlocked ssh session
# Usage: tests/e2e/inline_lab.sh [BUILD_DIR]   (run by `make e2e`; root only)
set -u

NAME=inline_lab
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}

if [ "$(id -u)" -ne 0 ]; then
	echo "$NAME: SKIP: not root (network namespaces, NFQUEUE, nftables)"
	exit 0
fi
# shellcheck source=../../vm/lab/lab-lib.sh
. "$ROOT/vm/lab/lab-lib.sh"
# The peers, rsyslog and nftables, installed when missing (a fresh CI machine).
lab_install >/dev/null || echo "$NAME: installing the lab's packages failed" >&2
miss=$(lab_missing)
if [ -n "$miss" ]; then
	echo "$NAME: SKIP: missing:$miss (tests/fixtures/install-peers.sh; rsyslog, nftables)"
	exit 0
fi
lab_kg_bins "$BUILD" || exit 1

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "  ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "  FAIL $*"; }
# check WHAT CMD...: CMD succeeds. refute WHAT CMD...: CMD fails. The
# command's output is shown only when the assertion fails.
# The command runs in this shell (it may start daemons), its output into a file.
run_quiet() { "$@" >"$KG_RUN/check.out" 2>&1; }
show_out() { head -5 "$KG_RUN/check.out" | sed 's/^/         | /'; }
check() {
	local what=$1; shift
	if run_quiet "$@"; then pass "$what"; else fail "$what"; show_out; fi
}
refute() {
	local what=$1; shift
	if run_quiet "$@"; then fail "$what"; show_out; else pass "$what"; fi
}
# check_in WHAT SET ADDR: ADDR is in SET with a timeout (the element is shown).
check_in() {
	local e
	e=$(lab_set_has "$2" "$3")
	if [ -n "$e" ]; then pass "$1 [$e]"; else fail "$1 [$2: $(lab_set_list "$2")]"; fi
}
finish() {
	echo "$NAME: $PASSED passed, $FAILED failed"
	if [ "$FAILED" -ne 0 ] && [ -n "${KG_RUN:-}" ]; then
		echo "--- knockguard logs (last 20 lines each)"
		tail -n 20 "$KG_RUN/logs/knockguard"*.log 2>/dev/null
	fi
	[ "$FAILED" -eq 0 ]
}

lab_init || exit 1
T0=$SECONDS
if ! lab_up; then
	fail "lab up"
	finish
	exit 1
fi
lab_kg_conf monitor
CLI=$LAB_CLI_IP CL2=$LAB_CL2_IP

# The never-block client must never be in any of the daemon's sets.
CL2_SEEN=0
never_check() {
	local s
	for s in flagged4 blocked4; do
		lab_set_any "$s" "$CL2" && CL2_SEEN=$((CL2_SEEN + 1))
	done
	return 0
}
door_stays_closed() { ! kg_wait_for 2 lab_door_open "$CLI"; }
banner22() { lab_banner "$LAB_CLI" 22 2 >/dev/null; }

echo "== monitor"
if ! lab_kg_start knockguard; then
	fail "knockguard starts and answers on its control socket"
	finish
	exit 1
fi
pass "knockguard starts, answers, owns table inet $LAB_NFT_TABLE in the gw"
check "status says monitor" test "$(lab_ctl_mode)" = monitor
refute "22 is closed before the knock" banner22
lab_knock "$LAB_CLI" 7000 8000 9000
check "the knock opens the door (knockd's ACCEPT for 22)" kg_wait_for 3 lab_door_open "$CLI"
check "the ssh banner comes back on 22" banner22
check "an ssh session through the door" lab_ssh "$LAB_CLI" 22 4 true
kg_wait_for 3 lab_set_has flagged4 "$CLI"
check_in "the knocker is in flagged4 with a timeout" flagged4 "$CLI"
refute "the knocker is not in blocked4" lab_set_any blocked4 "$CLI"
check "BITS upload lands in monitor mode" lab_bits_upload "$LAB_CLI" mon.zip
lab_scan "$LAB_CL2"
never_check

# syslog_has TECHNIQUE ACTION: the collector's file (sender|input|PRI|APP|
# PROCID|MSGID|SD|MSG) holds an alert about the client with that technique
# and action ("alert" or "blocked"), sent by the gateway over TCP, with the
# technique as MSGID and in the RFC 5424 structured data.
syslog_has() {
	python3 - "$LAB_SYSLOG_FILE" "$CLI" "$LAB_GW_LOG_IP" "$1" "$2" <<'EOF'
import json, sys
path, cli, gw, tech, action = sys.argv[1:]
ok = False
for line in open(path, encoding="utf-8", errors="replace"):
    f = line.rstrip("\n").split("|", 7)
    if len(f) != 8 or f[3] != "knockguard":
        continue
    sender, inp, pri, app, pid, msgid, sd, msg = f
    try:
        a = json.loads(msg.strip())
    except ValueError:
        continue
    if (sender == gw and inp == "imtcp" and msgid == tech and a.get("technique") == tech
            and a.get("action") == action and a.get("id.orig_h") == cli
            and '[knockguard@32473 ' in sd and 'technique="%s"' % tech in sd
            and 'severity="%s"' % a.get("severity") in sd):
        ok = True
sys.exit(0 if ok else 1)
EOF
}
check "the knock alert reaches rsyslog over TCP with structured data" kg_wait_for 5 syslog_has T1205.001 alert

echo "== mode switch at run time"
lab_door_close
lab_knock "$LAB_CLI" 7000 8000
check "knockguardctl mode enforce" lab_ctl mode enforce
lab_knock "$LAB_CLI" 9000
check "status says enforce" test "$(lab_ctl_mode)" = enforce
check "the next packet (the last knock) is dropped: the door stays closed" door_stays_closed
check_in "blocked4 holds the knocker with a timeout" blocked4 "$CLI"
refute "the blocked knocker gets no ssh banner" banner22
check "the block is an alert with action blocked at the collector" kg_wait_for 5 syslog_has T1205.001 blocked

echo "== enforce"
check "knockguardctl unblock" lab_ctl unblock "$CLI"
refute "unblock takes the knocker out of blocked4" lab_set_any blocked4 "$CLI"
lab_knock "$LAB_CLI" 7000 8000 9000
check "a whole knock in enforce mode: the door stays closed" door_stays_closed
check_in "blocked4 holds the knocker with a timeout" blocked4 "$CLI"
lab_ctl unblock "$CLI" >/dev/null 2>&1
refute "unblocked again" lab_set_any blocked4 "$CLI"
refute "BITS upload fails in enforce mode" lab_bits_upload "$LAB_CLI" enf.zip
refute "the server committed no part of it" test -e "$LAB_UPLOADS/enf.zip"
check_in "the uploader is blocked" blocked4 "$CLI"
lab_scan "$LAB_CL2"
never_check
check "the never-block client still gets through after its scan" lab_ssh "$LAB_CL2" 2222 4 true
check "the never-block client was in no set" test "$CL2_SEEN" -eq 0
check "the never-block client is in neverblock4" lab_set_any neverblock4 "$CL2"

echo "== conn.log"
check "SIGTERM stops the daemon" kg_daemon_stop knockguard
refute "the table is removed at exit" kg_in "$KG_GW" nft list table inet "$LAB_NFT_TABLE"
connlog() {
	python3 - "$LAB_KG_LOGDIR" "$CLI" "$1" <<'EOF'
import glob, json, os, sys
d, cli, what = sys.argv[1:]
rows = []
for path in sorted(glob.glob(os.path.join(d, "conn*.log"))):
    fields = None
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        if line.startswith("{"):
            rows.append(json.loads(line))
        elif line.startswith("#fields"):
            fields = line.split("\t")[1:]
        elif fields and line and not line.startswith("#"):
            rows.append(dict(zip(fields, line.split("\t"))))
mine = [r for r in rows if r.get("id.orig_h") == cli and r.get("proto") == "tcp"]
if what == "knocks":
    n = {p: sum(1 for r in mine if str(r.get("id.resp_p")) == p and r.get("conn_state") in ("REJ", "S0"))
         for p in ("7000", "8000", "9000")}
    ok = all(v >= 1 for v in n.values())
    print("knock attempts REJ/S0 by port:", n)
else:
    sess = [r for r in mine if str(r.get("id.resp_p")) == "22" and r.get("conn_state") == "SF"
            and str(r.get("history", "")).startswith("ShAD")
            and int(r.get("orig_bytes") or 0) > 0 and int(r.get("resp_bytes") or 0) > 0]
    ok = len(sess) >= 1
sys.exit(0 if ok else 1)
EOF
}
check "conn.log has the knock attempts (REJ or S0)" connlog knocks
check "conn.log has the unlocked ssh session (SF, ShAD..)" connlog session
cp "$LAB_KG_LOGDIR/conn.log" "$KG_RUN/conn-first-run.log" 2>/dev/null

echo "== kill -9 under traffic"
check "a second daemon starts" lab_kg_start knockguard2
lab_ctl mode enforce >/dev/null 2>&1
lab_knock "$LAB_CLI" 7000 8000 9000
check_in "the knocker is blocked again" blocked4 "$CLI"
dl=$KG_RUN/dl/big.bin
rm -f "$dl"
ip netns exec "$LAB_CL2" curl -s --max-time 20 --limit-rate 1500k -o "$dl" "http://$LAB_SRV_IP/big.bin" &
curl_pid=$!
sleep 1
pid=$(kg_daemon_pid knockguard2)
kill -KILL "$pid"
wait "$pid" 2>/dev/null
rm -f "$KG_RUN/pids/knockguard2.pid"
if wait "$curl_pid" && cmp -s "$dl" "$LAB_WWW/big.bin"; then
	pass "the download running across kill -9 completes intact"
else
	fail "the download running across kill -9 completes intact"
fi
check "a new connection passes without the daemon (queue bypass)" lab_ssh "$LAB_CL2" 2222 4 true
check_in "the kernel set kept the block" blocked4 "$CLI"
refute "the block holds without the daemon" lab_ssh "$LAB_CLI" 2222 2 true

echo "== restart"
check "a restart over the surviving table works" lab_kg_start knockguard3
check_in "the block survived the restart" blocked4 "$CLI"
refute "and still holds (the blocked client gets no answer)" lab_ssh "$LAB_CLI" 2222 2 true
check "traffic flows through the new daemon" lab_ssh "$LAB_CL2" 2222 4 true

echo "== reload"
check "knockguardctl mode enforce" lab_ctl mode enforce
cp "$LAB_KG_CONF" "$KG_RUN/good.conf"
printf '\n[engine]\nmax_flows = lots\n' >>"$LAB_KG_CONF"
refute "knockguardctl reload refuses a broken config" lab_ctl reload
check "status still answers, mode unchanged (enforce)" test "$(lab_ctl_mode)" = enforce
kill -HUP "$(kg_daemon_pid knockguard3)"
sleep 0.5
check "SIGHUP with the broken config: still running" kill -0 "$(kg_daemon_pid knockguard3)"
check "SIGHUP with the broken config: mode unchanged (enforce)" test "$(lab_ctl_mode)" = enforce
cp "$KG_RUN/good.conf" "$LAB_KG_CONF"
check "knockguardctl reload takes the good config" lab_ctl reload
check "SIGTERM stops the restarted daemon" kg_daemon_stop knockguard3

echo "$NAME: $((SECONDS - T0)) s"
finish
