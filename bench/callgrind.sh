#!/usr/bin/env bash
# Instructions the shim adds per call, counted by callgrind (repeatable on
# noisy machines).  Each workload runs at two lengths with and without the
# shim; the added cost per call is the difference of the two slopes, so
# process start-up and the shim's one-time attach cancel out.
#
#   bench/callgrind.sh [BUILD_DIR]     (default: build)
set -eu
cd "$(dirname "$0")/.."
. "$PWD/bench/lib.sh"
bench_cg_setup "${1:-build}" callgrind
BENCH=$BUILD/bench/iobench

N1=2000
N2=12000

run() { # PRELOAD WORKLOAD N -> callgrind output file $TMP/cg.WORKLOAD.N.(shim|plain)
	local out=$TMP/cg.$2.$3.plain
	[ -z "$1" ] || out=$TMP/cg.$2.$3.shim
	ONIONMETER_SEGMENT=$TMP/seg LD_PRELOAD=$1 valgrind --tool=callgrind --callgrind-out-file="$out" \
		"$BENCH" "$2" "$3" 2>"$out.log" >/dev/null
	echo "$out"
}
ir() { # PRELOAD WORKLOAD N -> total instructions
	awk '/^summary:/ { print $2 }' "$(run "$@")"
}
# Inclusive instructions of one call site's function: the shim's wrapper
# where there is one (it includes libc's call inside), else libc's own.
incl() { # FILE FUNC
	callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null | tr -d , | awk -v f="$2" '
		$NF ~ /libonionmeter\.so\]$/ && $(NF-1) ~ ":" f "$" { shim = $1 }
		$NF ~ /libc\.so\.6\]$/ && $(NF-1) ~ ":" f "$" { libc = $1 }
		END { print shim != "" ? shim : libc + 0 }'
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
	"churn 5 socket+connect+accept+close+close" \
	"nbchurn 6 socket+connect (EINPROGRESS)+accept+getsockopt+close+close" \
	"udp 2 sendto with an address+recv, unconnected loopback UDP" \
	"mmsg1 2 sendmmsg+recvmmsg of one datagram, loopback UDP" \
	"mmsgname 16 sendmmsg+recvmmsg of 8 named datagrams each, per datagram, unconnected loopback UDP"; do
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

# The same per call site: what one call costs inside the shim's wrapper
# (inclusive) beside libc's function alone, so a connect is not averaged
# with the accept and closes around it.
echo
echo "| call (workload) | calls per iteration | instructions in libc's call | added by the shim per call |"
echo "|---|---:|---:|---:|"
for spec in "churn socket 1" "churn connect 1" "churn accept 1" "churn close 2" \
	"nbchurn connect 1" "nbchurn getsockopt 1" "udp sendto 1" "udp recv 1" \
	"mmsg1 sendmmsg 1" "mmsg1 recvmmsg 1" "mmsg sendmmsg 8" "mmsg recvmmsg 8" \
	"mmsgname sendmmsg 8" "mmsgname recvmmsg 8"; do
	set -- $spec
	w=$1 f=$2 calls=$3
	for v in p1 p2 s1 s2; do
		pre=; n=$N1
		case $v in s*) pre=$SHIM ;; esac
		case $v in *2) n=$N2 ;; esac
		out=$(run "$pre" "$w" "$n")
		eval "$v=\$(incl \"\$out\" $f)"
	done
	printf '| %s (%s) | %d | %s | %s |\n' "$f" "$w" "$calls" \
		"$(echo "scale=1; ($p2 - $p1) / ($N2 - $N1) / $calls" | bc)" \
		"$(echo "scale=1; (($s2 - $s1) - ($p2 - $p1)) / ($N2 - $N1) / $calls" | bc)"
done
