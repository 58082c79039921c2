#!/usr/bin/env bash
# NFQUEUE adapter end to end (guard/io/nfq through tests/e2e/nfq_echo, no
# engine). Three private namespaces, client -- gw -- server, veth pairs; the gw
# forwards (ip_forward only in its own namespace) and queues every forwarded
# packet with the xtables NFQUEUE target (iptables-nft, --queue-bypass). The
# consumer accepts everything except UDP to port 9. Asserted:
#  - without a consumer, bypass lets traffic through;
#  - with it, IPv4 and IPv6 ping pass, UDP to port 9 is dropped while port 10
#    gets every datagram, a ping flood (-i 0.002) is answered in full and a
#    burst of UDP is verdicted in batches (fewer batches and sends than
#    packets), a TCP transfer arrives whole as GSO super-packets;
#  - the counters printed at exit match the rule's packet counter and the
#    kernel's queue counters (no queue or socket drops, no id gaps);
#  - kill -9 of the consumer under traffic: traffic keeps flowing, and a new
#    consumer binds the same queue; with GSO off and a copy range of 128 it
#    sees no super-packets and truncated payloads.
# Usage: tests/e2e/nfq_basic.sh [BUILD_DIR]   (run by `make e2e`; needs root)
set -u

NAME=nfq_basic
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
ECHO=$BUILD/tests/e2e/nfq_echo

if [ "$(id -u)" -ne 0 ]; then
	echo "$NAME: SKIP: not root (it creates network namespaces and binds an NFQUEUE)"
	exit 0
fi
if [ ! -x "$ECHO" ]; then
	echo "$NAME: $ECHO is missing (make e2e builds it)" >&2
	exit 1
fi
for tool in ip iptables-nft ip6tables-nft ping python3; do
	if ! command -v "$tool" >/dev/null; then
		echo "$NAME: SKIP: $tool is not installed"
		exit 0
	fi
done

SUFFIX=$$-$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
NS_C=kg-nqc$SUFFIX
NS_G=kg-nqg$SUFFIX
NS_S=kg-nqs$SUFFIX
QNUM=3
T=$(mktemp -d "${TMPDIR:-/tmp}/kg-nfq.XXXXXX")
MADE_NS=
PIDS=

cleanup() {
	local p
	for p in $PIDS; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=
	for p in $MADE_NS; do
		ip netns del "$p" 2>/dev/null
	done
	MADE_NS=
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}
forget_pid() { # forget_pid PID: it was waited for
	local p keep=
	for p in $PIDS; do [ "$p" = "$1" ] || keep="$keep $p"; done
	PIDS=$keep
}

in_c() { ip netns exec "$NS_C" "$@"; }
in_g() { ip netns exec "$NS_G" "$@"; }
in_s() { ip netns exec "$NS_S" "$@"; }

# --- topology -------------------------------------------------------------------
topo_up() {
	local ns
	for ns in "$NS_C" "$NS_G" "$NS_S"; do
		ip netns add "$ns" || return 1
		MADE_NS="$MADE_NS $ns"
		ip -n "$ns" link set lo up
	done
	# Veths made inside the namespaces: nothing appears in the root one.
	ip -n "$NS_C" link add c0 type veth peer name gc netns "$NS_G" || return 1
	ip -n "$NS_S" link add s0 type veth peer name gs netns "$NS_G" || return 1
	ip -n "$NS_C" addr add 10.231.1.2/24 dev c0
	ip -n "$NS_C" addr add fd31:1::2/64 dev c0 nodad
	ip -n "$NS_G" addr add 10.231.1.1/24 dev gc
	ip -n "$NS_G" addr add fd31:1::1/64 dev gc nodad
	ip -n "$NS_G" addr add 10.231.2.1/24 dev gs
	ip -n "$NS_G" addr add fd31:2::1/64 dev gs nodad
	ip -n "$NS_S" addr add 10.231.2.2/24 dev s0
	ip -n "$NS_S" addr add fd31:2::2/64 dev s0 nodad
	ip -n "$NS_C" link set c0 up
	ip -n "$NS_S" link set s0 up
	ip -n "$NS_G" link set gc up
	ip -n "$NS_G" link set gs up
	ip -n "$NS_C" route add default via 10.231.1.1
	ip -n "$NS_C" -6 route add default via fd31:1::1
	ip -n "$NS_S" route add default via 10.231.2.1
	ip -n "$NS_S" -6 route add default via fd31:2::1
	in_g sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	in_g iptables-nft -A FORWARD -j NFQUEUE --queue-num "$QNUM" --queue-bypass || return 1
	in_g ip6tables-nft -A FORWARD -j NFQUEUE --queue-num "$QNUM" --queue-bypass || return 1
}

# --- helpers --------------------------------------------------------------------
cat >"$T/udp_sink.py" <<'EOF'
# udp_sink.py READY_FILE STOP_FILE OUT_FILE PORT...: counts datagrams per port
# (IPv4 and IPv6) until STOP_FILE appears, then writes "port=count" lines.
import os, select, socket, sys
ready, stop, out, ports = sys.argv[1], sys.argv[2], sys.argv[3], [int(p) for p in sys.argv[4:]]
socks = {}
for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    for p in ports:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE: no loss here
        s.bind((addr, p))
        s.setblocking(False)
        socks[s] = p
counts = {p: 0 for p in ports}
open(ready, "w").close()
while not os.path.exists(stop):
    r, _, _ = select.select(list(socks), [], [], 0.05)
    for s in r:
        while True:
            try:
                s.recv(65536)
            except BlockingIOError:
                break
            counts[socks[s]] += 1
with open(out, "w") as f:
    for p in ports:
        f.write(f"{p}={counts[p]}\n")
EOF
cat >"$T/udp_send.py" <<'EOF'
# udp_send.py ADDR PORT COUNT [SIZE]: COUNT datagrams, back to back.
import socket, sys
addr, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size = int(sys.argv[4]) if len(sys.argv) > 4 else 32
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
for i in range(count):
    s.sendto(i.to_bytes(4, "big") * (size // 4), (addr, port))
EOF
cat >"$T/tcp_sink.py" <<'EOF'
# tcp_sink.py READY_FILE PORT: accepts one connection, answers with the number
# of bytes it received once the client is done sending.
import socket, sys
ready, port = sys.argv[1], int(sys.argv[2])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", port))
ls.listen(1)
open(ready, "w").close()
ls.settimeout(20)
c, _ = ls.accept()
c.settimeout(20)
n = 0
while True:
    b = c.recv(1 << 16)
    if not b:
        break
    n += len(b)
c.sendall(str(n).encode())
c.close()
EOF
cat >"$T/tcp_send.py" <<'EOF'
# tcp_send.py ADDR PORT BYTES: sends BYTES, prints what the sink says it got.
import socket, sys
addr, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((addr, port), timeout=20)
chunk = b"x" * (1 << 16)
left = total
while left > 0:
    n = min(left, len(chunk))
    s.sendall(chunk[:n])
    left -= n
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = s.recv(64)
    if not b:
        break
    got += b
print(got.decode())
EOF

wait_file() { # wait_file PATH PID: up to 5 s, while PID lives
	local _
	for _ in $(seq 100); do
		[ -e "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

start_echo() { # start_echo TAG ARGS...: sets ECHO_PID once the queue is bound
	local tag=$1
	shift
	rm -f "$T/$tag.ready"
	ip netns exec "$NS_G" "$ECHO" -q "$QNUM" -R "$T/$tag.ready" "$@" >"$T/$tag.out" 2>"$T/$tag.err" &
	ECHO_PID=$!
	PIDS="$PIDS $ECHO_PID"
	wait_file "$T/$tag.ready" "$ECHO_PID"
}

stop_echo() { # stop_echo TAG: SIGTERM, wait, then the counters are in $T/TAG.out
	kill -TERM "$ECHO_PID" 2>/dev/null
	wait "$ECHO_PID"
	local rc=$?
	forget_pid "$ECHO_PID"
	return $rc
}

stat_of() { # stat_of TAG KEY: one counter from the consumer's exit line
	tr ' ' '\n' <"$T/$1.out" | sed -n "s/^$2=//p"
}

rule_packets() { # packets the NFQUEUE rules (v4 + v6) have seen
	local v4 v6
	v4=$(in_g iptables-nft -L FORWARD -v -x -n 2>/dev/null | awk '/NFQUEUE/ {print $1; exit}')
	v6=$(in_g ip6tables-nft -L FORWARD -v -x -n 2>/dev/null | awk '/NFQUEUE/ {print $1; exit}')
	echo $((${v4:-0} + ${v6:-0}))
}

kernel_queue() { # kernel_queue FIELD: from the gw's /proc/net/netfilter/nfnetlink_queue
	# fields: 1 queue 2 portid 3 total 4 copy_mode 5 copy_range 6 queue_dropped
	# 7 user_dropped 8 id_sequence
	in_g cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null |
		awk -v q="$QNUM" -v f="$1" '$1 == q {print $f; found = 1} END {if (!found) print "none"}'
}

ping_ok() { # ping_ok NS ADDR COUNT [ARGS]: every echo answered
	local ns=$1 addr=$2 count=$3
	shift 3
	local out
	out=$(ip netns exec "$ns" ping -n -q -c "$count" -W 2 "$@" "$addr" 2>&1)
	echo "$out" | grep -q " $count received"
}

eq() { # eq WHAT GOT WANT
	if [ "$2" = "$3" ]; then pass "$1 ($2)"; else fail "$1: got '$2', want '$3'"; fi
}
lt() { # lt WHAT A B: A < B
	if [ -n "$2" ] && [ -n "$3" ] && [ "$2" -lt "$3" ]; then pass "$1 ($2 < $3)"
	else fail "$1: got '$2', want < '$3'"; fi
}

# --- the run ---------------------------------------------------------------------
if ! topo_up; then
	echo "$NAME: cannot build the namespaces"
	exit 1
fi

check "no consumer: --queue-bypass lets ping through" ping_ok "$NS_C" 10.231.2.2 2

in_g iptables-nft -Z FORWARD
in_g ip6tables-nft -Z FORWARD
if ! start_echo echo1; then
	fail "consumer did not bind: $(cat "$T/echo1.err")"
	echo "$NAME: $passed passed, $failed failed"
	exit 1
fi
pass "consumer bound queue $QNUM"
eq "kernel: queue in copy-packet mode" "$(kernel_queue 4)" 2

check "IPv4 ping through the queue" ping_ok "$NS_C" 10.231.2.2 3
check "IPv6 ping through the queue" ping_ok "$NS_C" fd31:2::2 3

ip netns exec "$NS_S" python3 "$T/udp_sink.py" "$T/sink.ready" "$T/sink.stop" "$T/sink.out" 9 10 &
SINK_PID=$!
PIDS="$PIDS $SINK_PID"
wait_file "$T/sink.ready" "$SINK_PID" || fail "UDP sink did not start"
in_c python3 "$T/udp_send.py" 10.231.2.2 9 5
in_c python3 "$T/udp_send.py" fd31:2::2 9 5
in_c python3 "$T/udp_send.py" 10.231.2.2 10 5
in_c python3 "$T/udp_send.py" fd31:2::2 10 5
# A burst: many packets wait in the queue at once, so verdicts go in batches.
BURST=1000
in_c python3 "$T/udp_send.py" 10.231.2.2 10 "$BURST"

check "ping flood (300 at -i 0.002) all answered" ping_ok "$NS_C" 10.231.2.2 300 -i 0.002

ip netns exec "$NS_S" python3 "$T/tcp_sink.py" "$T/tcp.ready" 5001 &
TCP_PID=$!
PIDS="$PIDS $TCP_PID"
wait_file "$T/tcp.ready" "$TCP_PID" || fail "TCP sink did not start"
TCP_BYTES=$((16 << 20))
eq "TCP transfer through the queue arrives whole" \
	"$(in_c python3 "$T/tcp_send.py" 10.231.2.2 5001 "$TCP_BYTES")" "$TCP_BYTES"
wait "$TCP_PID"
forget_pid "$TCP_PID"

sleep 0.3 # the last UDP datagrams reach the sink
touch "$T/sink.stop"
wait "$SINK_PID"
forget_pid "$SINK_PID"
eq "UDP to port 9 dropped (IPv4 and IPv6)" "$(sed -n 's/^9=//p' "$T/sink.out")" 0
eq "UDP to port 10 all delivered" "$(sed -n 's/^10=//p' "$T/sink.out")" $((10 + BURST))

KQ_SEQ=$(kernel_queue 8)
KQ_QDROP=$(kernel_queue 6)
KQ_UDROP=$(kernel_queue 7)
KQ_TOTAL=$(kernel_queue 3)
if stop_echo echo1; then pass "consumer exits cleanly on SIGTERM"
else fail "consumer exit status: $(cat "$T/echo1.err")"; fi
echo "   consumer: $(cat "$T/echo1.out") $(cat "$T/echo1.err")"
RULE=$(rule_packets)
PKTS=$(stat_of echo1 packets)
eq "consumer saw every packet the rule queued" "$PKTS" "$RULE"
eq "kernel id_sequence equals packets seen" "$KQ_SEQ" "$PKTS"
eq "accepted + dropped = packets" $(($(stat_of echo1 accepted) + $(stat_of echo1 dropped))) "$PKTS"
eq "dropped = the UDP datagrams to port 9" "$(stat_of echo1 dropped)" 10
eq "kernel: no queue drops, no socket drops, none waiting" "$KQ_QDROP/$KQ_UDROP/$KQ_TOTAL" 0/0/0
eq "no id gaps, overruns or errors" \
	"$(stat_of echo1 missed)/$(stat_of echo1 enobufs)/$(stat_of echo1 errors)/$(stat_of echo1 verdict_errors)" \
	0/0/0/0
lt "accepts went in batches" "$(stat_of echo1 batches)" "$(stat_of echo1 accepted)"
lt "several verdicts per send" "$(stat_of echo1 sends)" "$PKTS"
lt "GSO super-packets were queued whole" 0 "$(stat_of echo1 gso)"
lt "their checksums were flagged as not ready" 0 "$(stat_of echo1 csum_unverified)"

# kill -9 under traffic: the kernel unbinds the queue, the rule's bypass takes over.
start_echo echo2 || fail "second consumer did not bind: $(cat "$T/echo2.err")"
ip netns exec "$NS_C" ping -n -q -c 400 -i 0.005 -W 1 10.231.2.2 >"$T/bg_ping.out" 2>&1 &
BG_PID=$!
PIDS="$PIDS $BG_PID"
sleep 0.5
kill -9 "$ECHO_PID"
wait "$ECHO_PID" 2>/dev/null
forget_pid "$ECHO_PID"
eq "kernel: queue unbound after kill -9" "$(kernel_queue 1)" none
check "after kill -9: ping still passes (bypass)" ping_ok "$NS_C" 10.231.2.2 5
wait "$BG_PID"
forget_pid "$BG_PID"
BG_RECV=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T/bg_ping.out")
# Only what sat in the dead socket is lost.
lt "ping running across the kill: at most a few lost" 390 "$((${BG_RECV:-0} + 1))"

# A new consumer binds the same queue; GSO off, copy range 128.
in_g iptables-nft -Z FORWARD
in_g ip6tables-nft -Z FORWARD
if start_echo echo3 -G -r 128; then pass "a new consumer binds after kill -9"
else fail "a new consumer binds after kill -9: $(cat "$T/echo3.err")"; fi
eq "kernel: copy range 128" "$(kernel_queue 5)" 128
check "big pings through the queue, truncated to 128 bytes" ping_ok "$NS_C" 10.231.2.2 3 -s 1000
ip netns exec "$NS_S" python3 "$T/tcp_sink.py" "$T/tcp2.ready" 5002 &
TCP_PID=$!
PIDS="$PIDS $TCP_PID"
wait_file "$T/tcp2.ready" "$TCP_PID" || fail "TCP sink did not start"
eq "TCP transfer without GSO arrives whole" \
	"$(in_c python3 "$T/tcp_send.py" 10.231.2.2 5002 $((4 << 20)))" $((4 << 20))
wait "$TCP_PID"
forget_pid "$TCP_PID"
sleep 0.2
# Without GSO the kernel segments before queueing: the rule counts a
# super-packet once, the queue numbers each segment.
KQ_SEQ=$(kernel_queue 8)
stop_echo echo3 || fail "third consumer exit status: $(cat "$T/echo3.err")"
echo "   consumer: $(cat "$T/echo3.out") $(cat "$T/echo3.err")"
eq "third consumer saw every packet the kernel queued" "$(stat_of echo3 packets)" "$KQ_SEQ"
eq "third consumer: no id gaps, overruns or errors" \
	"$(stat_of echo3 missed)/$(stat_of echo3 enobufs)/$(stat_of echo3 errors)/$(stat_of echo3 verdict_errors)" \
	0/0/0/0
eq "without GSO: no super-packets, checksums all computed" \
	"$(stat_of echo3 gso)/$(stat_of echo3 csum_unverified)" 0/0
lt "big pings and TCP segments were truncated" 5 "$(stat_of echo3 truncated)"

echo "$NAME: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
