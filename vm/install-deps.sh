#!/bin/sh
# Installs the Debian packages knockguard builds and tests with, when run as
# root and something is missing. As a normal user it only reports.
set -eu
PKGS="build-essential clang pkg-config python3 libpcap-dev libcmocka-dev libmnl-dev libnftnl-dev \
libnetfilter-queue-dev libiniparser-dev nftables iptables iproute2"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 0
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
