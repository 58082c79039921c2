#!/usr/bin/env bash
# Drives knockguardctl against a fake control server (python3, a real unix
# socket in a temporary directory) and checks the requests it sends, what it
# prints, and its exit codes: 0 ok, 1 an error answer, 64 usage, 69 the socket
# cannot be reached, 76 a broken answer.
# Usage: tests/cli/ctl.sh path/to/knockguardctl
set -u

CTL=${1:?usage: tests/cli/ctl.sh path/to/knockguardctl}
case $CTL in /*) ;; *) CTL=$PWD/$CTL ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/kg-ctl.XXXXXX")
SERVER_PID=
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM HUP

passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { # check DESCRIPTION TEST-COMMAND...
	local what=$1; shift
	if "$@"; then ok; else bad "$what"; fi
}

run() { # run NAME ARGS...: keeps rc, stdout and stderr
	local name=$1; shift
	"$CTL" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null
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

command -v python3 >/dev/null || { echo "ctl: python3 is needed for the fake server"; exit 1; }

# --- usage errors: exit 64, a one-line reason, then the usage -------------------
run help -h
expect_rc help 0
check "-h: usage on stdout" grep -q '^usage: knockguardctl \[-s SOCKET\] COMMAND' "$OUT"
check "-h: lists report remote" grep -q 'report remote' "$OUT"

usage_case() { # usage_case NAME MESSAGE ARGS...
	local name=$1 msg=$2; shift 2
	run "$name" -s "$T/nothing-listens-here.sock" "$@"
	expect_rc "$name" 64
	err_has "$name" "$msg"
	err_has "$name" "usage: knockguardctl"
	check "$name: reason first" test "$(head -1 "$ERR" | grep -c '^knockguardctl: ')" = 1
	check "$name: nothing on stdout" test ! -s "$OUT"
}
usage_case no-command "no command given"
usage_case unknown-command "unknown command 'frob'" frob
usage_case status-arg "'status' takes no argument" status now
usage_case mode-missing "'mode' takes one argument: monitor or enforce" mode
usage_case mode-bad "mode 'enforcing': expected monitor or enforce" mode enforcing
usage_case unblock-missing "'unblock' takes one argument" unblock
usage_case unblock-cidr "'10.0.0.0/8' is not an IPv4 or IPv6 address" unblock 10.0.0.0/8
usage_case report-bits "the only report is 'report remote'" report bits
usage_case report-none "the only report is 'report remote'" report
usage_case bad-option "unknown option '-x'" -x status
run s-missing -s
expect_rc s-missing 64
err_has s-missing "option '-s' needs a socket path"
long=$(printf 'p%.0s' $(seq 120))
run s-long -s "/tmp/$long" status
expect_rc s-long 64
err_has s-long "the socket path must be 1 to 107 bytes"

# --- the socket cannot be reached: exit 69, the path named -----------------------
run no-socket -s "$T/missing/ctl.sock" status
expect_rc no-socket 69
err_has no-socket "cannot connect to $T/missing/ctl.sock: No such file or directory"
err_has no-socket "is knockguard running?"
: >"$T/plain-file"
run not-a-socket -s "$T/plain-file" status
expect_rc not-a-socket 69
err_has not-a-socket "cannot connect to $T/plain-file: Connection refused"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/stale.sock"
run stale -s "$T/stale.sock" blocked
expect_rc stale 69
err_has stale "cannot connect to $T/stale.sock"

# --- a fake server ----------------------------------------------------------------
# For each connection: reads one line, appends it to requests.log, sends the
# bytes of reply (re-read for every client), closes.
cat >"$T/fake.py" <<'PY'
import os, socket, sys
path, reply, log = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(4)
open(path + ".ready", "w").close()
while True:
    c, _ = s.accept()
    data = b""
    while not data.endswith(b"\n"):
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    with open(log, "ab") as f:
        f.write(data)
    with open(reply, "rb") as f:
        c.sendall(f.read())
    c.close()
PY
SOCK=$T/ctl.sock
python3 "$T/fake.py" "$SOCK" "$T/reply" "$T/requests.log" &
SERVER_PID=$!
for _ in $(seq 100); do [ -e "$SOCK.ready" ] && break; sleep 0.05; done
check "fake server started" test -e "$SOCK.ready"

reply() { printf '%b' "$1" >"$T/reply"; }
last_request() { tail -n 1 "$T/requests.log"; }

reply 'mode monitor\npackets 42\n ok\nok\n'
run status -s "$SOCK" status
expect_rc status 0
check "status: request line" test "$(last_request)" = "status"
check "status: body on stdout, final line not" test "$(cat "$OUT")" = "$(printf 'mode monitor\npackets 42\n ok')"
check "status: nothing on stderr" test ! -s "$ERR"

reply 'mode monitor -> enforce\nok\n'
run mode -s "$SOCK" mode enforce
expect_rc mode 0
check "mode: request line" test "$(last_request)" = "mode enforce"

reply 'ok\n'
run unblock -s "$SOCK" unblock 2001:db8::1
expect_rc unblock 0
check "unblock: request line" test "$(last_request)" = "unblock 2001:db8::1"
check "unblock: no output" test ! -s "$OUT"
run report -s "$SOCK" report remote
check "report: request line" test "$(last_request)" = "report remote"
run reload -s "$SOCK" reload
check "reload: request line" test "$(last_request)" = "reload"
run blocked -s "$SOCK" blocked
check "blocked: request line" test "$(last_request)" = "blocked"
check "one request line per connection" test "$(wc -l <"$T/requests.log")" = 6

# An error answer: exit 1, its sentence on stderr, the body before it kept.
reply 'reading /etc/knockguard/knockguard.conf\nerror: knockguard.conf:3: [log] format = '"'"'xml'"'"': expected one of tsv, json; the old configuration stays\n'
run reload-bad -s "$SOCK" reload
expect_rc reload-bad 1
check "error: body on stdout" test "$(cat "$OUT")" = "reading /etc/knockguard/knockguard.conf"
check "error: sentence on stderr" test "$(cat "$ERR")" = "knockguardctl: knockguard.conf:3: [log] format = 'xml': expected one of tsv, json; the old configuration stays"

# A large answer arrives whole.
python3 -c 'import sys; sys.stdout.write("".join("line %06d of the report\n" % i for i in range(200000)) + "ok\n")' >"$T/reply"
run big -s "$SOCK" report remote
expect_rc big 0
check "big: every line" test "$(wc -l <"$OUT")" = 200000
check "big: last line" test "$(tail -n 1 "$OUT")" = "line 199999 of the report"

# Broken answers: exit 76.
reply 'mode monitor\n'
run cut -s "$SOCK" status
expect_rc cut 76
err_has cut "$SOCK closed the connection before the answer was complete"
check "cut: the body so far is printed" test "$(cat "$OUT")" = "mode monitor"
reply 'ok'
run no-newline -s "$SOCK" status
expect_rc no-newline 76
reply ''
run empty -s "$SOCK" status
expect_rc empty 76

echo "ctl: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
