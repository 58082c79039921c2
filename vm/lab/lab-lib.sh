# shellcheck shell=bash disable=SC2034  # the LAB_* settings are for the sourcing script
# The inline lab (sourced by vm/lab.sh, vm/demo.sh and tests/e2e/inline_*.sh):
# network namespaces around a gateway that knockguard guards, real peers behind
# it, and an rsyslog collector. Built on tests/fixtures/lib.sh (namespaces,
# daemons with PID files, one cleanup trap).
#
#   cli  c0 10.77.1.2 --- gw-c 10.77.1.1 [gw] gw-s 10.77.2.1 --- s0 10.77.2.2  srv
#   cl2  c0 10.77.4.2 --- gw-d 10.77.4.1 [gw] gw-l 10.77.3.1 --- l0 10.77.3.2  log
#
# Names: kg-lab<pid>-{cli,cl2,gw,srv,log}; scratch /tmp/kg-lab<pid>.XXXXXX. Only
# the gw forwards (ip_forward=1 there alone). The server runs what a guarded
# site runs: knockd's stock door (7000,8000,9000 -> iptables ACCEPT for 22, the
# reverse sequence closes it) guarding sshd on 22, sshd on the odd port 2222,
# the BITS-capable HTTP server on 80. Its firewall: INPUT policy DROP (22 is
# silent until knocked: S0), every other closed TCP port answers RST (REJ), 2222
# and 80 open. The collector runs rsyslogd with a private config: imudp and
# imtcp on 514, no /dev/log (SysSock.Use="off"), omfile into $LAB_SYSLOG_DIR.
# cl2 is the second client that the lab config lists as never-block.

LAB_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_ROOT=$(cd "$LAB_HERE/../.." && pwd)
# shellcheck source=../../tests/fixtures/lib.sh
. "$LAB_ROOT/tests/fixtures/lib.sh"

KG_RUN_NAME=kg-lab$$
KG_NS_PREFIX=kg-lab$$
KG_CLI=$KG_NS_PREFIX-cli
KG_GW=$KG_NS_PREFIX-gw
KG_SRV=$KG_NS_PREFIX-srv
LAB_CL2=$KG_NS_PREFIX-cl2
LAB_LOG=$KG_NS_PREFIX-log
KG_CAP_NS=$KG_GW
LAB_CLI=$KG_CLI
LAB_GW=$KG_GW
LAB_SRV=$KG_SRV
LAB_CLI_IP=$KG_CLI_IP
LAB_CL2_IP=10.77.4.2
LAB_GW_CL2_IP=10.77.4.1
LAB_SRV_IP=$KG_SRV_IP
LAB_LOG_IP=10.77.3.2
LAB_GW_LOG_IP=10.77.3.1
LAB_KNOCK_PORTS="7000 8000 9000"
LAB_BITS_UA='Microsoft BITS/7.8'
LAB_PY=/usr/bin/python3
[ -x "$LAB_PY" ] || LAB_PY=$(command -v python3)
LAB_RUN='' LAB_SYSLOG_DIR='' LAB_SYSLOG_FILE='' LAB_SYSLOG_5424='' LAB_UPLOADS='' LAB_WWW=''

# lab_missing: the tools the lab needs that are not installed (empty: none).
lab_missing() {
	local t miss=""
	for t in ip ping ethtool iptables nft ss unshare knockd knock /usr/sbin/sshd ssh ssh-keygen \
		rsyslogd nmap curl python3 timeout; do
		command -v "$t" >/dev/null 2>&1 || miss="$miss ${t##*/}"
	done
	printf '%s' "$miss"
}

# lab_install: as root, the peers (tests/fixtures/install-peers.sh) and what the
# lab adds to them (rsyslog, nftables), when missing. Package scripts may start
# no service while it runs: without a policy-rc.d, a temporary one denying
# every start is in place (no rsyslogd taking /dev/log, no sshd on the host).
lab_install() {
	local p missing="" made=""
	"$LAB_ROOT/tests/fixtures/install-peers.sh" || return 1
	for p in rsyslog nftables iptables procps; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "lab: installing$missing"
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\n# temporary, from knockguard vm/lab/lab-lib.sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made=1
	fi
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends $missing; }
	p=$?
	[ -n "$made" ] && rm -f /usr/sbin/policy-rc.d
	return $p
}

# lab_init: scratch directory and the trap (kg_lib_init), then the lab paths.
lab_init() {
	kg_lib_init || return 1
	LAB_RUN=$KG_RUN
	LAB_SYSLOG_DIR=$KG_RUN/collector
	LAB_SYSLOG_FILE=$LAB_SYSLOG_DIR/knockguard.log
	LAB_SYSLOG_5424=$LAB_SYSLOG_DIR/knockguard-5424.log
	LAB_UPLOADS=$KG_RUN/uploads
	LAB_WWW=$KG_RUN/www
	mkdir -p "$LAB_SYSLOG_DIR/work" "$LAB_UPLOADS" "$LAB_WWW" "$KG_RUN/dl" "$KG_RUN/ul"
}

# Whatever else still runs in our namespaces when the lab goes down (an ssh or
# curl a scenario left behind, a knockguard started outside kg_daemon_start)
# is ended by its PID before the namespace is deleted.
kg_cleanup_hook() {
	local ns pid
	[ -s "$KG_RUN/netns" ] || return 0
	while read -r ns; do
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done <"$KG_RUN/netns"
}

# lab_link NS IF ADDR GWIF GWADDR: one more veth between NS and the gateway.
lab_link() {
	local ns=$1 ifn=$2 addr=$3 gwif=$4 gwaddr=$5
	ip -n "$ns" link add "$ifn" type veth peer name "$gwif" netns "$KG_GW" || return 1
	ip -n "$ns" addr add "$addr/24" dev "$ifn"
	ip -n "$KG_GW" addr add "$gwaddr/24" dev "$gwif"
	ip netns exec "$ns" ethtool -K "$ifn" tso off gso off gro off tx off rx off >/dev/null 2>&1
	ip netns exec "$KG_GW" ethtool -K "$gwif" tso off gso off gro off tx off rx off >/dev/null 2>&1
	ip -n "$ns" link set "$ifn" up
	ip -n "$KG_GW" link set "$gwif" up
	ip -n "$ns" route add default via "$gwaddr"
}

# lab_topo_up: the fixtures' client -- gw -- server, plus cl2 and the collector.
lab_topo_up() {
	kg_topo_up || return 1
	kg_ns_add "$LAB_CL2" && kg_ns_add "$LAB_LOG" || return 1
	lab_link "$LAB_CL2" c0 "$LAB_CL2_IP" gw-d "$LAB_GW_CL2_IP" || return 1
	lab_link "$LAB_LOG" l0 "$LAB_LOG_IP" gw-l "$LAB_GW_LOG_IP" || return 1
	ip netns exec "$LAB_CL2" ping -c1 -W2 "$LAB_SRV_IP" >/dev/null ||
		{ kg_log "lab: cl2 cannot reach the server"; return 1; }
	ip netns exec "$KG_GW" ping -c1 -W2 "$LAB_LOG_IP" >/dev/null ||
		{ kg_log "lab: the gateway cannot reach the collector"; return 1; }
}

# lab_fw_server: the guarded site's firewall (see the top of this file).
lab_fw_server() {
	kg_fw_reset "$KG_SRV"
	kg_in "$KG_SRV" iptables -P INPUT DROP
	kg_in "$KG_SRV" iptables -A INPUT -i lo -j ACCEPT
	kg_in "$KG_SRV" iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
	kg_in "$KG_SRV" iptables -A INPUT -p icmp -j ACCEPT
	kg_in "$KG_SRV" iptables -A INPUT -p tcp -m multiport --dports 80,2222 -j ACCEPT
	kg_in "$KG_SRV" iptables -A INPUT -p tcp ! --dport 22 -j REJECT --reject-with tcp-reset
	# knockd appends its ACCEPT for 22 after these.
}

# lab_door_open IP: knockd has opened 22 for IP.
lab_door_open() { kg_in "$KG_SRV" iptables -S INPUT | grep -q -- "-s $1/32 .*--dport 22 .*-j ACCEPT"; }

# lab_door_close: removes every ACCEPT knockd added (a new phase starts closed).
lab_door_close() {
	local rule
	kg_in "$KG_SRV" iptables -S INPUT | grep -- '--dport 22 .*-j ACCEPT' | sed 's/^-A //' |
		while read -r rule; do
			# shellcheck disable=SC2086  # the rule's words, as iptables -S printed them
			kg_in "$KG_SRV" iptables -D $rule
		done
}

lab_knockd_start() {
	local ipt
	ipt=$(command -v iptables)
	cat >"$KG_RUN/knockd.conf" <<-EOF
		[options]
		    LogFile   = $KG_RUN/knockd.file.log
		    Interface = $KG_SRV_IF
		[openSSH]
		    sequence    = 7000,8000,9000
		    seq_timeout = 5
		    command     = $ipt -A INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
		    tcpflags    = syn
		[closeSSH]
		    sequence    = 9000,8000,7000
		    seq_timeout = 5
		    command     = $ipt -D INPUT -s %IP% -p tcp --dport 22 -j ACCEPT
		    tcpflags    = syn
	EOF
	kg_daemon_start knockd "$KG_SRV" knockd -i "$KG_SRV_IF" -c "$KG_RUN/knockd.conf" -v -D -4
	kg_wait_for 5 kg_log_has knockd "listening on" ||
		{ kg_log "lab: knockd did not start"; cat "$KG_RUN/logs/knockd.log" >&2; return 1; }
}

lab_bits_server_start() {
	# A PE-looking file: "MZ" header, then noise (150006 bytes, three ranges).
	{ printf 'MZ\220\000\003\000'; head -c 150000 /dev/urandom; } >"$LAB_WWW/update.exe"
	# A larger one for traffic that lasts (the kill -9 test).
	head -c 4000000 /dev/urandom >"$LAB_WWW/big.bin"
	printf '<html><head><title>lab</title></head><body>hello</body></html>\n' >"$LAB_WWW/index.html"
	kg_daemon_start bits-server "$KG_SRV" "$LAB_PY" "$LAB_ROOT/tests/fixtures/bits_server.py" \
		"$LAB_SRV_IP" 80 "$LAB_WWW" "$LAB_UPLOADS"
	kg_wait_for 5 kg_listening "$KG_SRV" tcp 80 ||
		{ kg_log "lab: bits_server.py did not start"; cat "$KG_RUN/logs/bits-server.log" >&2; return 1; }
}

# The collector: two files, one line a message. knockguard.log is what the
# tests read (fields split by '|': the sender, the input, PRI, APP-NAME,
# PROCID, MSGID, STRUCTURED-DATA, MSG); knockguard-5424.log is the message as
# RFC 5424, for people.
lab_rsyslog_start() {
	local d=$LAB_SYSLOG_DIR rs
	rs=$(command -v rsyslogd || echo /usr/sbin/rsyslogd)
	cat >"$d/rsyslog.conf" <<-EOF
		global(workDirectory="$d/work")
		module(load="imuxsock" SysSock.Use="off")
		module(load="imudp")
		module(load="imtcp")
		input(type="imudp" Address="$LAB_LOG_IP" Port="514" rcvbufSize="8m")
		input(type="imtcp" Address="$LAB_LOG_IP" Port="514")
		template(name="kgfields" type="string"
		    string="%fromhost-ip%|%inputname%|%pri%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\n")
		*.* action(type="omfile" file="$LAB_SYSLOG_FILE" template="kgfields")
		*.* action(type="omfile" file="$LAB_SYSLOG_5424" template="RSYSLOG_SyslogProtocol23Format")
	EOF
	"$rs" -N1 -f "$d/rsyslog.conf" >"$KG_RUN/logs/rsyslog-check.log" 2>&1 ||
		{ kg_log "lab: rsyslogd refuses the collector config"; cat "$KG_RUN/logs/rsyslog-check.log" >&2; return 1; }
	kg_daemon_start rsyslogd "$LAB_LOG" "$rs" -n -f "$d/rsyslog.conf" -i "$d/rsyslogd.pid"
	kg_wait_for 5 kg_listening "$LAB_LOG" tcp 514 ||
		{ kg_log "lab: rsyslogd did not start"; cat "$KG_RUN/logs/rsyslogd.log" >&2; return 1; }
}

# lab_up: everything, checked. The lab is torn down by the trap of lab_init.
lab_up() {
	local miss
	miss=$(lab_missing)
	[ -z "$miss" ] || { kg_log "lab: missing:$miss"; return 1; }
	lab_topo_up || return 1
	lab_fw_server
	kg_sshd_start sshd22 22 && kg_sshd_start sshd2222 2222 || return 1
	lab_knockd_start && lab_bits_server_start && lab_rsyslog_start || return 1
}

# lab_env: the lab's description as shell assignments (lab.sh run exports them).
lab_env() {
	local v
	for v in LAB_RUN LAB_CLI LAB_CL2 LAB_GW LAB_SRV LAB_LOG LAB_CLI_IP LAB_CL2_IP LAB_SRV_IP LAB_LOG_IP \
		LAB_SYSLOG_FILE LAB_SYSLOG_5424 LAB_UPLOADS LAB_WWW; do
		printf '%s=%q\n' "$v" "${!v}"
	done
	printf 'LAB_SSH_KEY=%q\n' "$KG_RUN/client_key"
}

# --- the scenarios' client side -------------------------------------------------
# Each returns 0 when the client got what it asked for.

# lab_ssh NS PORT [TIMEOUT] [COMMAND]: one ssh session from NS to the server.
lab_ssh() {
	local ns=$1 port=$2 to=${3:-4} cmd=${4:-true}
	ip netns exec "$ns" timeout $((to + 5)) ssh -F /dev/null -p "$port" -i "$KG_RUN/client_key" \
		-o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout="$to" \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
		root@"$LAB_SRV_IP" "$cmd" </dev/null
}

# lab_banner NS PORT [TIMEOUT]: the server's SSH banner (printed) within TIMEOUT.
lab_banner() {
	local ns=$1 port=$2 to=${3:-3}
	ip netns exec "$ns" timeout "$to" "$LAB_PY" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
b = s.recv(256)
if not b.startswith(b"SSH-"):
    sys.exit(1)
print(b.decode("ascii", "replace").strip())
' "$LAB_SRV_IP" "$port" "$to" 2>/dev/null
}

# lab_knock NS PORT...: knockd's own client, one TCP SYN a port.
lab_knock() { local ns=$1; shift; ip netns exec "$ns" knock -d 50 "$LAB_SRV_IP" "$@"; }

# lab_bits_download NS: HEAD then three ranged GETs of update.exe on one
# keep-alive connection, as a BITS download job does; 0 when the parts
# reassemble to the file.
BITS_HDRS=(-s --max-time 5 -A "$LAB_BITS_UA" -H 'Accept-Encoding: identity' -H 'Connection: Keep-Alive')
lab_bits_download() {
	local ns=$1 url=http://$LAB_SRV_IP/update.exe d=$KG_RUN/dl
	rm -f "$d"/head "$d"/p1 "$d"/p2 "$d"/p3
	ip netns exec "$ns" curl "${BITS_HDRS[@]}" -I -o "$d/head" "$url" \
		--next "${BITS_HDRS[@]}" -r 0-65535 -o "$d/p1" "$url" \
		--next "${BITS_HDRS[@]}" -r 65536-131071 -o "$d/p2" "$url" \
		--next "${BITS_HDRS[@]}" -r 131072-150005 -o "$d/p3" "$url" || return 1
	cat "$d/p1" "$d/p2" "$d/p3" 2>/dev/null | cmp -s - "$LAB_WWW/update.exe"
}

# lab_bits_upload NS NAME: BITS_POST Ping, Create-Session, two Fragments,
# Close-Session ([MC-BUP]); 0 when the server committed NAME intact.
lab_bits_upload() {
	local ns=$1 name=$2 url=http://$LAB_SRV_IP/upload/$2 d=$KG_RUN/ul sid
	rm -f "$LAB_UPLOADS/$name" "$d/create"
	{ printf 'PK\003\004'; head -c 99996 /dev/urandom; } >"$d/$name"
	head -c 65536 "$d/$name" >"$d/f1"
	tail -c +65537 "$d/$name" >"$d/f2"
	ip netns exec "$ns" curl "${BITS_HDRS[@]}" -X BITS_POST -H 'BITS-Packet-Type: Ping' \
		-H 'Content-Length: 0' -o /dev/null "$url" \
		--next "${BITS_HDRS[@]}" -X BITS_POST -H 'BITS-Packet-Type: Create-Session' \
		-H 'BITS-Supported-Protocols: {7df0354d-249b-430f-820d-3d2a9bef4931}' \
		-H "Content-Name: $name" -H 'Content-Length: 0' -D "$d/create" -o /dev/null "$url" || return 1
	sid=$(tr -d '\r' <"$d/create" | sed -n 's/^BITS-Session-Id: *//Ip')
	[ -n "$sid" ] || return 1
	ip netns exec "$ns" curl "${BITS_HDRS[@]}" -X BITS_POST -H 'BITS-Packet-Type: Fragment' \
		-H "BITS-Session-Id: $sid" -H "Content-Name: $name" -H 'Content-Type:' -H 'Expect:' \
		-H 'Content-Range: bytes 0-65535/100000' --data-binary @"$d/f1" -o /dev/null "$url" \
		--next "${BITS_HDRS[@]}" -X BITS_POST -H 'BITS-Packet-Type: Fragment' \
		-H "BITS-Session-Id: $sid" -H 'Content-Type:' -H 'Expect:' \
		-H 'Content-Range: bytes 65536-99999/100000' --data-binary @"$d/f2" -o /dev/null "$url" \
		--next "${BITS_HDRS[@]}" -X BITS_POST -H 'BITS-Packet-Type: Close-Session' \
		-H "BITS-Session-Id: $sid" -H 'Content-Length: 0' -o /dev/null "$url" || return 1
	cmp -s "$d/$name" "$LAB_UPLOADS/$name"
}

# lab_scan NS [OUT]: an nmap SYN scan of ports 1-30 (22 silent, the rest RST);
# 0 when nmap ran. Its report goes to OUT (default: the logs directory).
lab_scan() {
	local ns=$1 out=${2:-$KG_RUN/logs/nmap-$1.out}
	ip netns exec "$ns" nmap -n -Pn -sS -T4 --max-retries 1 --host-timeout 20s -p 1-30 "$LAB_SRV_IP" \
		>"$out" 2>&1
}

# --- knockguard on the gateway ---------------------------------------------------
LAB_KG='' LAB_CTL='' LAB_KG_CONF='' LAB_KG_SOCK='' LAB_KG_LOGDIR=''
LAB_NFT_TABLE=knockguard

# lab_kg_bins BUILD_DIR: where knockguard and knockguardctl are (LAB_KG, LAB_CTL).
lab_kg_bins() {
	local b=$1
	case $b in /*) ;; *) b=$LAB_ROOT/$b ;; esac
	LAB_KG=$b/knockguard
	LAB_CTL=$b/knockguardctl
	[ -x "$LAB_KG" ] || { kg_log "lab: $LAB_KG is missing (make BUILD=... all)"; return 1; }
	[ -x "$LAB_CTL" ] || { kg_log "lab: $LAB_CTL is missing (make BUILD=... all)"; return 1; }
}

# lab_kg_conf MODE [FILE]: the lab config (knockguard-lab.conf, or the template
# $LAB_KG_TEMPLATE, filled in) into FILE (default $KG_RUN/knockguard.conf,
# which becomes LAB_KG_CONF).
lab_kg_conf() {
	local mode=$1 out=${2:-$KG_RUN/knockguard.conf}
	LAB_KG_SOCK=$KG_RUN/knockguard.sock
	LAB_KG_LOGDIR=$KG_RUN/kglog
	mkdir -p "$LAB_KG_LOGDIR"
	sed -e "s|@RUN@|$KG_RUN|g" -e "s|@MODE@|$mode|g" -e "s|@LOG_IP@|$LAB_LOG_IP|g" \
		-e "s|@SRV_IP@|$LAB_SRV_IP|g" -e "s|@CL2_IP@|$LAB_CL2_IP|g" \
		"${LAB_KG_TEMPLATE:-$LAB_HERE/knockguard-lab.conf}" >"$out" || return 1
	[ -n "${2:-}" ] || LAB_KG_CONF=$out
}

lab_ctl() { "$LAB_CTL" -s "$LAB_KG_SOCK" "$@"; }

# lab_kg_up: the control socket answers and the daemon's table is in the gw.
lab_kg_up() {
	lab_ctl status >/dev/null 2>&1 &&
		kg_in "$KG_GW" nft list table inet "$LAB_NFT_TABLE" >/dev/null 2>&1
}

# lab_kg_start [NAME]: knockguard -c LAB_KG_CONF -f in the gw, as daemon NAME
# (default knockguard); waits until it answers.
lab_kg_start() {
	local name=${1:-knockguard} pid
	kg_daemon_start "$name" "$KG_GW" "$LAB_KG" -c "$LAB_KG_CONF" -f
	pid=$(kg_daemon_pid "$name")
	if ! kg_wait_for 10 lab_kg_up; then
		kg_log "lab: knockguard did not come up:"
		tail -20 "$KG_RUN/logs/$name.log" >&2
		return 1
	fi
	kill -0 "$pid" 2>/dev/null
}

# lab_set_has SET ADDR: ADDR is an element of SET (blocked4, flagged4, ...)
# that expires. The element is printed. nft shows "ADDR timeout T expires E",
# or "ADDR expires E" when T is the set's own default timeout.
lab_set_has() {
	kg_in "$KG_GW" nft list set inet "$LAB_NFT_TABLE" "$1" 2>/dev/null |
		grep -oE "(^|[ {,])$(printf '%s' "$2" | sed 's/\./\\./g') (timeout [0-9][^ ,}]* )?expires [0-9][^,}]*" |
		sed 's/^[ {,]//'
}
# lab_set_list SET: the elements of SET, on one line.
lab_set_list() {
	kg_in "$KG_GW" nft list set inet "$LAB_NFT_TABLE" "$1" 2>/dev/null | tr -s ' \t\n' ' ' |
		sed -n 's/.*elements = {\([^}]*\)}.*/\1/p'
}
# lab_set_any SET ADDR: ADDR is an element of SET, with or without a timeout.
lab_set_any() {
	kg_in "$KG_GW" nft list set inet "$LAB_NFT_TABLE" "$1" 2>/dev/null |
		grep -qE "(^|[ {,])$(printf '%s' "$2" | sed 's/\./\\./g')([ ,}]|$)"
}

# lab_ctl_mode: the mode knockguardctl status reports (monitor or enforce).
lab_ctl_mode() {
	lab_ctl status 2>/dev/null | grep -ioE '"?mode"?[[:space:]]*[:=]?[[:space:]]*"?(monitor|enforce)' |
		head -1 | grep -ioE '(monitor|enforce)$'
}
