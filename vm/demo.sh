#!/usr/bin/env bash
# `make demo`: knockguard inline on a gateway, in the lab of vm/lab/lab-lib.sh
# (network namespaces: client -- gateway -- server, a second client on the
# never-block list, an rsyslog collector). Installs what it needs (root, Debian
# 12), builds, brings the lab up, runs knockguard on the gateway in monitor
# mode, plays the scenarios, switches to enforce with knockguardctl while it
# runs, plays them again, then shows what the collector received, a conn.log
# excerpt and knockguardctl status. Everything is torn down at the end (trap).
# BUILD=dir picks the build directory (default build).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
T0=$SECONDS

if [ -t 1 ]; then B=$(printf '\033[1m') N=$(printf '\033[0m'); else B='' N=''; fi
section() { printf '\n%s==== %s%s\n' "$B" "$*" "$N"; }
say() { printf '  %s\n' "$*"; }
# outcome WHAT CMD...: runs CMD, says what happened.
outcome() {
	local what=$1; shift
	if "$@" >/dev/null 2>&1; then say "$(printf '%-44s -> %s' "$what" "${OK_WORD:-ok}")"; return 0; fi
	say "$(printf '%-44s -> %s' "$what" "${FAIL_WORD:-FAILED}")"
	return 1
}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces, NFQUEUE, nftables): sudo make demo" >&2
	exit 1
fi

# shellcheck source=lab/lab-lib.sh
. "$ROOT/vm/lab/lab-lib.sh"

section "Installing what the demo needs"
"$ROOT/vm/install-deps.sh" || exit 1
lab_install || { echo "demo: package installation failed" >&2; exit 1; }
say "build deps, peers (knockd, sshd, nmap, curl), rsyslog, nftables: present"

section "Building knockguard ($BUILD)"
if ! make -C "$ROOT" -s BUILD="$BUILD" all >"${TMPDIR:-/tmp}/kg-demo-build.$$" 2>&1; then
	tail -30 "${TMPDIR:-/tmp}/kg-demo-build.$$"
	rm -f "${TMPDIR:-/tmp}/kg-demo-build.$$"
	echo "demo: the build failed" >&2
	exit 1
fi
rm -f "${TMPDIR:-/tmp}/kg-demo-build.$$"
lab_kg_bins "$BUILD" || exit 1
say "$LAB_KG, $LAB_CTL"

section "Lab"
lab_init || exit 1
lab_up || { echo "demo: the lab did not come up" >&2; exit 1; }
cat <<EOF
  client      $LAB_CLI_IP   ($LAB_CLI)
  client 2    $LAB_CL2_IP   ($LAB_CL2, on knockguard's never-block list)
  gateway     $KG_GW_CLI_IP / $KG_GW_SRV_IP / $LAB_GW_LOG_IP   ($LAB_GW, ip_forward=1, knockguard here)
  server      $LAB_SRV_IP   ($LAB_SRV): sshd :22 behind knockd (door 7000,8000,9000),
                            sshd :2222, BITS-capable HTTP :80; other closed ports answer RST
  collector   $LAB_LOG_IP   ($LAB_LOG): rsyslogd, imtcp/imudp :514 -> files
EOF

section "knockguard on the gateway, monitor mode"
lab_kg_conf monitor
say "knockguard -c $LAB_KG_CONF -f    (syslog: tcp $LAB_LOG_IP:514, RFC 5424)"
lab_kg_start knockguard || { echo "demo: knockguard did not start" >&2; exit 1; }
lab_ctl status 2>&1 | sed -n '1,6p' | sed 's/^/  | /'
say "its table in the gateway:"
kg_in "$LAB_GW" nft list table inet "$LAB_NFT_TABLE" 2>&1 | grep -E 'set |chain |queue|NFQUEUE|drop' |
	sed 's/^[[:space:]]*/  | /'

CLI=$LAB_CLI_IP
# blocked_note: in enforce mode, what the kernel set says about the client;
# then the client is unblocked, so the next scenario starts clean.
# blocked_note keep: the same, without the unblock.
blocked_note() {
	local e
	[ "$PHASE" = enforce ] || { e=$(lab_set_has flagged4 "$CLI"); [ -n "$e" ] && say "    flagged4: $e"; return 0; }
	e=$(lab_set_has blocked4 "$CLI")
	[ -n "$e" ] || return 0
	if [ "${1:-}" = keep ]; then
		say "    blocked4: $e"
	else
		say "    blocked4: $e   -> knockguardctl unblock $CLI"
		lab_ctl unblock "$CLI" >/dev/null 2>&1
	fi
}

scenarios() {
	local banner
	lab_door_close
	say "(a) port knock, then ssh to 22"
	OK_WORD="open (unexpected)" FAIL_WORD="closed" outcome "    ssh 22 before the knock" lab_banner "$LAB_CLI" 22 2
	lab_knock "$LAB_CLI" 7000 8000 9000
	OK_WORD="OPENED by knockd" FAIL_WORD="stayed closed" outcome "    knock 7000,8000,9000" kg_wait_for 2 lab_door_open "$CLI"
	if banner=$(lab_banner "$LAB_CLI" 22 2); then
		say "$(printf '%-44s -> %s' "    ssh 22 after the knock" "banner: $banner")"
		lab_ssh "$LAB_CLI" 22 4 true >/dev/null 2>&1
	else
		say "$(printf '%-44s -> %s' "    ssh 22 after the knock" "no banner")"
	fi
	blocked_note
	say "(b) BITS download of update.exe from a non-vendor server"
	FAIL_WORD="cut" outcome "    HEAD + 3 ranged GETs, Microsoft BITS/7.8" lab_bits_download "$LAB_CLI"
	blocked_note
	say "(c) BITS upload (Create-Session, 2 Fragments, Close-Session)"
	OK_WORD="committed on the server" FAIL_WORD="FAILED, nothing committed" \
		outcome "    BITS_POST /upload/$PHASE.zip" lab_bits_upload "$LAB_CLI" "$PHASE.zip"
	blocked_note
	say "(d) ssh to the odd port 2222"
	FAIL_WORD="cut" outcome "    ssh -p 2222" lab_ssh "$LAB_CLI" 2222 3 true
	blocked_note
	say "(e) nmap SYN scan of ports 1-30"
	lab_scan "$LAB_CLI" "$KG_RUN/logs/nmap-$PHASE.out"
	say "    nmap: $(grep -E '^(Not shown|[0-9]+/tcp)|All [0-9]+ scanned' "$KG_RUN/logs/nmap-$PHASE.out" |
		tr -s ' ' | paste -sd ';' -)"
	blocked_note keep
	say "(never-block) client 2 scans too"
	lab_scan "$LAB_CL2" "$KG_RUN/logs/nmap-cl2-$PHASE.out"
	FAIL_WORD="cut (it should not be)" outcome "    client 2 ssh -p 2222 after its scan" lab_ssh "$LAB_CL2" 2222 3 true
	if lab_set_any flagged4 "$LAB_CL2_IP" || lab_set_any blocked4 "$LAB_CL2_IP"; then
		say "    client 2 is in a set (it should not be)"
	else
		say "    client 2 is in no set"
	fi
}

section "Scenarios, monitor mode (everything passes; offenders are flagged)"
PHASE=monitor
scenarios

section "knockguardctl mode enforce (while running)"
lab_ctl mode enforce 2>&1 | sed 's/^/  | /'
say "mode now: $(lab_ctl_mode)"

section "Scenarios, enforce mode (offending packets dropped, offenders blocked)"
PHASE=enforce
scenarios

section "Alerts as the collector received them ($LAB_SYSLOG_5424)"
sleep 0.5
python3 - "$LAB_SYSLOG_FILE" <<'EOF'
import json, sys
n = 0
inputs = set()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    f = line.rstrip("\n").split("|", 7)
    if len(f) != 8 or f[3] != "knockguard":
        continue
    try:
        a = json.loads(f[7].strip())
    except ValueError:
        continue
    n += 1
    inputs.add(f[1])
    print("  %-9s %-8s %-7s %-34s %s:%s -> %s:%s" % (f[5], a.get("severity", "?"), a.get("action", "?"),
          a.get("name", "?"), a.get("id.orig_h"), a.get("id.orig_p"), a.get("id.resp_h"), a.get("id.resp_p")))
print("  (%d messages, received via %s)" % (n, ", ".join(sorted(inputs)) or "-"))
EOF
say "raw RFC 5424, first lines (cut at 200 columns):"
grep -a ' knockguard ' "$LAB_SYSLOG_5424" | head -6 | cut -c1-200 | sed 's/^/  | /'

section "knockguardctl status"
lab_ctl status 2>&1 | sed 's/^/  | /'
say "blocked hosts (knockguardctl blocked):"
blocked=$(lab_ctl blocked 2>&1)
printf '%s\n' "${blocked:-(none)}" | sed 's/^/  | /'

section "conn.log excerpt (client $CLI: knock attempts, ssh sessions)"
kg_daemon_stop knockguard # conn.log is complete once the daemon has flushed
python3 - "$LAB_KG_LOGDIR" "$CLI" <<'EOF'
import glob, json, os, sys
d, cli = sys.argv[1:]
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
import time
cols = [("ts", 15), ("uid", 19), ("id.orig_h", 10), ("id.resp_p", 9), ("proto", 5), ("service", 7),
        ("conn_state", 10), ("history", 9), ("orig_bytes", 10), ("resp_bytes", 10)]
keep = [r for r in rows if r.get("id.orig_h") == cli and str(r.get("id.resp_p")) in ("22", "2222", "7000", "8000", "9000")]
keep.sort(key=lambda r: float(r.get("ts") or 0))
def cell(r, c):
    v = r.get(c, "-")
    if c == "ts":
        t = float(v)
        return time.strftime("%H:%M:%S", time.localtime(t)) + ".%03d" % int((t % 1) * 1000)
    return str(v)
print("  " + " ".join("%-*s" % (w, c) for c, w in cols))
for r in keep[:24]:
    print("  " + " ".join("%-*s" % (w, cell(r, c)[:w + 4]) for c, w in cols))
print("  (%d of %d conn.log records)" % (min(len(keep), 24), len(rows)))
EOF

section "Teardown"
say "demo took $((SECONDS - T0)) s; the lab goes down now"
