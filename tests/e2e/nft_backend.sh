#!/usr/bin/env bash
# nftables backend end to end, in private network namespaces (kg-nb*-SUFFIX:
# client -- gateway -- server, removed on exit): tests/e2e/nft_tool drives the
# adapter in the gateway; `nft list` and real pings check what the kernel did.
#   setup: table, six sets, the four chains, the queue rule (native or xt)
#   block with a 5 s timeout, refresh to 30 s, unblock; blocked pings dropped
#   before the queue; never-block wins; flagged counted, not dropped; IPv6
#   a second setup keeps the elements and duplicates no rule; a hook turned off
#   removes its chains; teardown removes the table
#   nft/knockguard.nft loads (without its queue section where the kernel has
#   no native queue) and the adapter uses it with manage = no
# Usage: tests/e2e/nft_backend.sh [BUILD_DIR]   (run by `make e2e`)
set -u

NAME=nft_backend
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
TOOL=$BUILD/tests/e2e/nft_tool

if [ "$(id -u)" -ne 0 ]; then
	echo "$NAME: SKIP: not root (needs network namespaces and nftables)"
	exit 0
fi
if [ ! -x "$TOOL" ]; then
	echo "$NAME: $TOOL is missing (make e2e builds it)" >&2
	exit 1
fi
if ! command -v nft >/dev/null; then
	echo "$NAME: installing nftables"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends nftables >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
		  apt-get install -y -qq --no-install-recommends nftables >/dev/null 2>&1; } ||
		{ echo "$NAME: cannot install nftables"; exit 1; }
fi

SUF=$$$(printf '%04x' $((RANDOM)))
C=kg-nbc$SUF G=kg-nbg$SUF S=kg-nbs$SUF O=kg-nbo$SUF
T=$(mktemp -d "${TMPDIR:-/tmp}/kg-nft.XXXXXX")
cleanup() {
	for ns in "$C" "$G" "$S" "$O"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
has() { grep -qE "$1" <<<"$2"; }
lacks() { ! grep -qE "$1" <<<"$2"; }
quiet() { "$@" >/dev/null; }
check() { # check "what" command...
	local what=$1; shift
	if "$@"; then ok; else fail "$what"; fi
}

gw() { ip netns exec "$G" "$@"; }
tool() { gw "$TOOL" "$@"; }
# The table or one set as nft prints it (nft's own stderr noise dropped:
# with the xt target it warns that the table "is managed by iptables-nft").
table() { gw nft list table inet knockguard 2>/dev/null; }
set_of() { gw nft list set inet knockguard "$1" 2>/dev/null; }
ping_ok() { ip netns exec "$C" ping -c1 -W1 -q "$1" >/dev/null 2>&1; }
# Packets counted by the rule that drops set $1's sources in block_forward.
drop_count() {
	gw nft list chain inet knockguard block_forward 2>/dev/null |
		sed -n "s/.*saddr @$1 counter packets \([0-9]*\) .*/\1/p"
}

# ---- topology: client 10.232.1.2 -- gw -- server 10.232.2.2 (+ IPv6)
for ns in "$C" "$G" "$S"; do
	ip netns add "$ns" || { echo "$NAME: cannot create netns $ns"; exit 1; }
	ip -n "$ns" link set lo up
done
ip -n "$C" link add c0 type veth peer name gc netns "$G"
ip -n "$S" link add s0 type veth peer name gs netns "$G"
ip -n "$C" addr add 10.232.1.2/24 dev c0
ip -n "$G" addr add 10.232.1.1/24 dev gc
ip -n "$S" addr add 10.232.2.2/24 dev s0
ip -n "$G" addr add 10.232.2.1/24 dev gs
ip -n "$C" -6 addr add fd32:1::2/64 dev c0 nodad
ip -n "$G" -6 addr add fd32:1::1/64 dev gc nodad
ip -n "$S" -6 addr add fd32:2::2/64 dev s0 nodad
ip -n "$G" -6 addr add fd32:2::1/64 dev gs nodad
ip -n "$C" link set c0 up
ip -n "$G" link set gc up
ip -n "$G" link set gs up
ip -n "$S" link set s0 up
ip -n "$C" route add default via 10.232.1.1
ip -n "$S" route add default via 10.232.2.1
ip -n "$C" -6 route add default via fd32:1::1
ip -n "$S" -6 route add default via fd32:2::1
gw sysctl -qw net.ipv4.ip_forward=1
gw sysctl -qw net.ipv6.conf.all.forwarding=1
check "ping through the gateway before any rule" ping_ok 10.232.2.2

# ---- setup
if tool setup >"$T/setup.out" 2>"$T/setup.err"; then ok; else fail "setup: $(cat "$T/setup.err")"; fi
BACKEND=$(sed -n 's/^backend //p' "$T/setup.out")
case $BACKEND in native | xt) ok ;; *) fail "setup: backend '$BACKEND'" ;; esac
table >"$T/table1"
for c in block_forward block_input queue_forward queue_input; do
	grep -q "chain $c {" "$T/table1" || fail "chain $c missing"
done
for s in blocked4 blocked6 flagged4 flagged6 neverblock4 neverblock6; do
	grep -q "set $s {" "$T/table1" || fail "set $s missing"
done
check "block chains at priority -10" \
	test "$(grep -c 'priority filter - 10; policy accept' "$T/table1")" -eq 2
check "queue chains at priority 0" \
	test "$(grep -c 'priority filter; policy accept' "$T/table1")" -eq 2
# nft prints the xt target as `queue num 0 bypass` when libxtables can
# translate it, else as `xt target "NFQUEUE"`.
check "queue rule on both hooks" \
	test "$(grep -cE 'queue num 0 bypass|xt target "?NFQUEUE' "$T/table1")" -eq 2
check "never-block accepted before blocked is dropped" \
	awk '/chain block_forward/ {f=1} f && /@neverblock4 accept/ {nb=NR}
	     f && /@blocked4 counter/ {bl=NR; exit} END {exit !(nb && bl && nb < bl)}' "$T/table1"
check "sets typed and with timeouts" \
	grep -Pzq 'set blocked4 \{\s+type ipv4_addr\s+timeout 10m' "$T/table1"
check "never-block sets are intervals" \
	grep -Pzq 'set neverblock6 \{\s+type ipv6_addr\s+flags interval' "$T/table1"
check "ping passes the queue while no daemon is bound (bypass)" ping_ok 10.232.2.2
if [ "$BACKEND" = xt ]; then
	check "the fallback says why" grep -q '^fallback add rule inet knockguard queue_forward' "$T/setup.out"
	# This kernel lacks the native expression: asking for it only must fail
	# and say where.
	if tool -q native setup 2>"$T/native.err"; then
		fail "-q native accepted on a kernel that fell back to xt"
	else
		check "native refusal names the queue rule" grep -q 'queue_forward.*queue num 0' "$T/native.err"
	fi
fi

# ---- block, refresh, unblock
check "block 10.232.1.2 5s" tool block 10.232.1.2 5
set_of blocked4 >"$T/b1"
check "blocked4 lists it with timeout 5s" grep -qE '10\.232\.1\.2 timeout 5s expires [0-9]' "$T/b1"
before=$(drop_count blocked4)
if ping_ok 10.232.2.2; then fail "blocked client still pings through"; else ok; fi
after=$(drop_count blocked4)
check "the blocked4 drop counter rose (${before:-?} -> ${after:-?})" test "${after:-0}" -gt "${before:-0}"
# A plain re-add leaves the expiry alone when the timeout is the same (and
# on older kernels even when it differs): the refresh must restart it.
sleep 1.5
check "refresh with the same 5s" tool block 10.232.1.2 5
check "the expiry restarted (>= 4.5s left)" \
	grep -qE '^10\.232\.1\.2 timeout_ms=5000 expires_ms=(4[5-9][0-9]{2}|5000)$' <(tool list blocked)
check "refresh to 30s" tool block 10.232.1.2 30
set_of blocked4 >"$T/b2"
check "blocked4 shows the new timeout 30s" grep -qE '10\.232\.1\.2 timeout 30s expires (2[5-9]|30)s' "$T/b2"
check "refresh left one element" test "$(grep -o '10\.232\.1\.2' "$T/b2" | wc -l)" -eq 1
tool list blocked >"$T/l1"
check "list reports timeout and expiry" grep -qE '^10\.232\.1\.2 timeout_ms=30000 expires_ms=(2[5-9]|30)[0-9]{3}$' "$T/l1"
check "unblock removes it" test "$(tool unblock 10.232.1.2)" = removed
check "blocked4 empty after unblock" lacks '10\.232\.1\.2' "$(set_of blocked4)"
check "ping works after unblock" ping_ok 10.232.2.2
check "unblock again: absent" test "$(tool unblock 10.232.1.2)" = absent

# ---- expiry
check "block 2s" tool block 10.232.1.2 2
if ping_ok 10.232.2.2; then fail "client pings while blocked for 2s"; else ok; fi
sleep 2.5
check "element expired" lacks '10\.232\.1\.2' "$(set_of blocked4)"
check "ping works after expiry" ping_ok 10.232.2.2

# ---- never-block wins, flagged counted
check "never-block 10.232.1.0/24" tool neverblock 10.232.1.0/24
check "neverblock4 lists the prefix" has 'elements = \{ 10\.232\.1\.0/24 \}' "$(set_of neverblock4)"
if tool neverblock 10.232.1.7 2>"$T/nb.err"; then
	fail "an overlapping never-block prefix was accepted"
else
	check "overlap refused with the kernel's text" grep -q 'add element inet knockguard neverblock4: File exists' "$T/nb.err"
fi
check "block a never-block host" tool block 10.232.1.2 30
check "never-block host still pings" ping_ok 10.232.2.2
check "unblock" test "$(tool unblock 10.232.1.2)" = removed
check "never-block sync replaces the sets" tool neversync 192.0.2.53 10.0.0.0/8 10.1.0.0/16 fd00::/8
check "neverblock4 after sync" has 'elements = \{ 10\.0\.0\.0/8, 192\.0\.2\.53 \}' "$(set_of neverblock4)"
check "neverblock6 after sync" has 'elements = \{ fd00::/8 \}' "$(set_of neverblock6)"
check "never-block sync to empty" tool neversync
check "neverblock4 empty" lacks elements "$(set_of neverblock4)"
check "flag 10.232.1.2 60s" tool flag 10.232.1.2 60
check "flagged4 lists it" has '10\.232\.1\.2 timeout 1m expires' "$(set_of flagged4)"
check "a flagged host is not dropped" ping_ok 10.232.2.2
check "the flagged4 counter counts it" has '@flagged4 counter packets [1-9]' \
	"$(gw nft list chain inet knockguard block_forward 2>/dev/null)"

# ---- IPv6
check "ping6 through the gateway" sh -c "ip netns exec $C ping -6 -c1 -W1 -q fd32:2::2 >/dev/null 2>&1"
check "block fd32:1::2" tool block fd32:1::2 30
check "blocked6 lists it" has 'fd32:1::2 timeout 30s expires' "$(set_of blocked6)"
if ip netns exec "$C" ping -6 -c1 -W1 -q fd32:2::2 >/dev/null 2>&1; then
	fail "blocked IPv6 client still pings"
else
	ok
fi

# ---- a second setup (a restart) keeps the elements and duplicates nothing
check "block 10.232.1.9 300s" tool block 10.232.1.9 300
rules1=$(table | grep -cE 'saddr @|queue num|xt target|iif "lo"')
check "setup again" quiet tool setup
table >"$T/table2"
rules2=$(grep -cE 'saddr @|queue num|xt target|iif "lo"' "$T/table2")
check "same rules after the second setup ($rules1 -> $rules2)" test "$rules1" -eq "$rules2" -a "$rules2" -eq 15
check "blocked4 element kept" grep -qE '10\.232\.1\.9 timeout 5m expires' "$T/table2"
check "blocked6 element kept" grep -qE 'fd32:1::2 timeout 30s' "$T/table2"
check "flagged4 element kept" grep -qE '10\.232\.1\.2 timeout 1m' "$T/table2"

# ---- a hook turned off removes its chains; turned on again they return
check "setup without the input hook" quiet tool -I setup
check "input chains removed" lacks 'chain (block|queue)_input' "$(table)"
check "forward chains kept" test "$(table | grep -cE 'chain (block|queue)_forward')" -eq 2
check "setup with both hooks" quiet tool setup
check "input chains back" test "$(table | grep -cE 'chain (block|queue)_input')" -eq 2

# ---- cost of one call (the daemon's loop makes these)
if tool bench 500 >"$T/bench" 2>&1; then
	ok
	echo "$NAME: $(cat "$T/bench") (500 calls each)"
else
	fail "bench: $(cat "$T/bench")"
fi

# ---- teardown
check "teardown" tool teardown
check "table gone" lacks knockguard "$(gw nft list tables 2>/dev/null)"
if tool teardown 2>"$T/td.err"; then
	fail "teardown of a missing table reported success"
else
	check "teardown of a missing table says why" grep -q 'delete table inet knockguard: No such file' "$T/td.err"
fi

# ---- the reference ruleset, and manage = no on top of it
ip netns add "$O" && ip -n "$O" link set lo up
NFT=$ROOT/nft/knockguard.nft
sed '/^# --- queue: begin/,/^# --- queue: end/d' "$NFT" >"$T/noqueue.nft"
qbegin=$(grep -n '^# --- queue: begin' "$NFT" | cut -d: -f1)
qend=$(grep -n '^# --- queue: end' "$NFT" | cut -d: -f1)
check "the queue section is marked" test -n "$qbegin" -a -n "$qend"
if ip netns exec "$O" nft -f "$NFT" 2>"$T/full.err"; then
	ok # a kernel with the native queue expression loads all of it
	check "the full file has the queue rules" test "$(ip netns exec "$O" nft list table inet knockguard | grep -c 'queue num 0 bypass')" -eq 2
else
	# Each error must point into the queue section, nowhere else.
	lines=$(grep -oE 'knockguard\.nft:[0-9]+' "$T/full.err" | cut -d: -f2)
	bad=0
	for l in $lines; do
		[ "$l" -gt "$qbegin" ] && [ "$l" -lt "$qend" ] || bad=1
	done
	if [ -n "$lines" ] && [ $bad -eq 0 ]; then ok; else fail "nft -f knockguard.nft: $(cat "$T/full.err")"; fi
	check "without its queue section it loads" ip netns exec "$O" nft -f "$T/noqueue.nft"
fi
check "loading it again keeps working" ip netns exec "$O" nft -f "$T/noqueue.nft"
check "12 block/flag rules, not duplicated" \
	test "$(ip netns exec "$O" nft list table inet knockguard | grep -c 'saddr @')" -eq 12
check "manage = no: setup finds the sets" has 'backend external' "$(ip netns exec "$O" "$TOOL" -x setup)"
check "manage = no: block" ip netns exec "$O" "$TOOL" -x block 10.232.1.2 20
check "manage = no: element in the operator's set" \
	has '10\.232\.1\.2 timeout 20s' "$(ip netns exec "$O" nft list set inet knockguard blocked4)"
check "manage = no: teardown leaves the table" ip netns exec "$O" "$TOOL" -x teardown
check "manage = no: table still there" has 'inet knockguard' "$(ip netns exec "$O" nft list tables)"
if gw "$TOOL" -x setup 2>"$T/x.err"; then
	fail "manage = no without the table: setup succeeded"
else
	check "manage = no without the table: says what is missing" grep -q 'knockguard.nft first' "$T/x.err"
fi

echo "$NAME: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
