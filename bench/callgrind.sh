#!/usr/bin/env bash
# Instructions the shim adds per call, counted by callgrind (repeatable on
# noisy machines).  Each workload runs at two lengths with and without the
# shim; the added cost per call is the difference of the two slopes, so
# process start-up and the shim's one-time attach cancel out.
#
#   bench/callgrind.sh [BUILD_DIR]     (default: build)
set -eu
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}") # absolute: the paths below go into LD_PRELOAD
BENCH=$BUILD/bench/iobench
SHIM=$BUILD/shim/libonionmeter.so
TMP=$(mktemp -d /tmp/om-callgrind.XXXXXX)
trap '"$BUILD/exporter/onionmeter-exporter" --remove --segment "$TMP/seg" 2>/dev/null; rm -rf "$TMP"' EXIT
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }

N1=2000
N2=12000

ir() { # PRELOAD WORKLOAD N -> total instructions
	local out=$TMP/cg.$RANDOM
	ONIONMETER_SEGMENT=$TMP/seg LD_PRELOAD=$1 valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$BENCH" "$2" "$3" 2>"$out.log" >/dev/null
	awk '/^summary:/ { print $2 }' "$out"
}

echo "machine: $(nproc) cores, $(uname -r); $(valgrind --version)"
echo "date: $(date -u +%Y-%m-%d)"
echo
echo "| workload | calls per iteration | instructions per call, no shim | added by the shim per call |"
echo "|---|---:|---:|---:|"
for spec in "tracked 2 write+read on loopback TCP" "untracked 2 write+read on a pipe" \
	"send 2 send+recv on loopback TCP" "sendto 2 sendto+recvfrom, no address, loopback TCP" \
	"vec 2 writev+readv on loopback TCP" "msg 2 sendmsg+recvmsg, no name, loopback TCP" \
	"umsg 2 sendmsg+recvmsg on a unix socket pair" \
	"mmsg 16 sendmmsg+recvmmsg of 8 datagrams each, per datagram, loopback UDP" \
	"churn 5 socket+connect+accept+close+close"; do
	set -- $spec
	w=$1 calls=$2
	shift 2
	p1=$(ir "" "$w" $N1)
	p2=$(ir "" "$w" $N2)
	s1=$(ir "$SHIM" "$w" $N1)
	s2=$(ir "$SHIM" "$w" $N2)
	base=$(( (p2 - p1) / (N2 - N1) ))
	added=$(echo "scale=1; (($s2 - $s1) - ($p2 - $p1)) / ($N2 - $N1) / $calls" | bc)
	printf '| %s (%s) | %d | %s | %s |\n' "$w" "$*" "$calls" "$(echo "scale=1; $base / $calls" | bc)" "$added"
done
