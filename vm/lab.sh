#!/usr/bin/env bash
# The inline lab: client -- gateway -- server (+ a second client and a syslog
# collector) in network namespaces named kg-lab<pid>-*, with real peers
# (knockd guarding sshd on 22, sshd on 2222, a BITS-capable HTTP server on 80,
# rsyslogd). See vm/lab/lab-lib.sh for the topology. Needs root.
#
#   vm/lab.sh up           bring the lab up; an interactive shell with the LAB_*
#                          variables (or, without a terminal, wait for a signal);
#                          everything is torn down when it ends
#   vm/lab.sh run CMD...   bring the lab up, run CMD with the LAB_* variables in
#                          its environment, tear down; exits with CMD's status
#   vm/lab.sh down [PID]   remove the leftovers of labs whose owner died (kill -9):
#                          their namespaces, what runs inside them, their scratch
#                          directories; with PID only that lab's
#
# The lab is always torn down by the owner's trap (EXIT INT TERM HUP).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)

usage() {
	sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 64
}

# owner_alive PID: a live process (a zombie is not: kill -0 succeeds on one).
owner_alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $st in Z*) return 1 ;; esac
}

lab_down_stale() {
	local want=${1:-} ns pid owner n=0 d
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^kg-lab[0-9]+-'); do
		owner=${ns#kg-lab}
		owner=${owner%%-*}
		if [ -n "$want" ]; then
			[ "$owner" = "$want" ] || continue
		elif owner_alive "$owner"; then
			continue # its owner is alive and will tear it down
		fi
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" && n=$((n + 1))
		for d in "${TMPDIR:-/tmp}"/kg-lab"$owner".*; do
			[ -d "$d" ] && rm -rf "$d"
		done
	done
	echo "lab: removed $n namespace(s)"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in up | run | down) ;; *) usage ;; esac
if [ "$(id -u)" -ne 0 ]; then
	echo "lab: needs root (network namespaces)" >&2
	exit 1
fi
if [ "$cmd" = down ]; then
	lab_down_stale "${1:-}"
	exit 0
fi
[ "$cmd" = run ] && [ $# -eq 0 ] && usage

# shellcheck source=lab/lab-lib.sh
. "$HERE/lab/lab-lib.sh"
lab_init || exit 1
start=$(date +%s%N)
if ! lab_up; then
	echo "lab: could not bring the lab up" >&2
	exit 1
fi
echo "lab: up in $((($(date +%s%N) - start) / 1000000)) ms" >&2
lab_env >"$LAB_RUN/env"

if [ "$cmd" = run ]; then
	set -a
	# shellcheck disable=SC1091
	. "$LAB_RUN/env"
	set +a
	"$@"
	exit $?
fi

cat >&2 <<EOF
lab: namespaces $LAB_CLI (client $LAB_CLI_IP), $LAB_CL2 ($LAB_CL2_IP), $LAB_GW,
     $LAB_SRV (server $LAB_SRV_IP: 22 behind knockd 7000,8000,9000; 2222; http 80), $LAB_LOG (syslog $LAB_LOG_IP:514)
lab: variables in $LAB_RUN/env; collector file $LAB_SYSLOG_FILE
EOF
if [ -t 0 ]; then
	echo "lab: a shell with the LAB_* variables; exit it to tear the lab down" >&2
	(
		set -a
		# shellcheck disable=SC1091
		. "$LAB_RUN/env"
		set +a
		PS1="[kg-lab] \\w# " bash --norc -i
	)
else
	echo "lab: running until signalled (TERM/INT/HUP)" >&2
	while :; do sleep 1; done
fi
