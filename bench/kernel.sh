#!/usr/bin/env bash
# The exporter's kernel view: the cost of one poll of the kernel's socket
# list (sock_diag) with 10, 1000 and 10000 TCP sockets in the network
# namespace, the heap allocations it makes, and the exporter's memory.
#
#   bench/kernel.sh [BUILD_DIR]      (default: build; needs unshare -n)
#
# Each size runs in a fresh private network namespace holding N/2
# loopback connections (N sockets).  "poll" is the median of 21 values of
# onionmeter_kernel_poll_duration_seconds from `onionmeter-exporter --once`
# (TCP and UDP dumps of both families, classification, the sorted sets); allocs are
# valgrind's "total heap usage" of one --once run with the kernel view,
# minus one without it; instructions are callgrind's user instructions of
# one --once run with the view minus one without it (the sets grow from
# empty there; a serving exporter keeps them), and the line under the
# table is their slope per socket; RSS is the serving exporter's VmRSS
# after 20 polls.
set -eu
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}") # absolute: the paths below go into LD_PRELOAD
if [ "${OM_IN_NETNS:-}" != 1 ]; then
	how="unshare -n"
	[ "$(id -u)" = 0 ] || how="unshare -r -n"
	OM_IN_NETNS=1 exec $how -- bash "$0" "$@"
fi
ip link set lo up
EXP=$BUILD/exporter/onionmeter-exporter
. "$PWD/bench/lib.sh"
TMP=$(mktemp -d /tmp/om-kbench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

echo "machine: $(nproc) cores, $(uname -r); $(valgrind --version 2>/dev/null || echo 'no valgrind')"
echo "date: $(date -u +%Y-%m-%d)"
echo
echo "| sockets in the namespace | poll (median ms) | heap allocations per poll | user instructions per poll | exporter RSS (MiB) |"
echo "|---:|---:|---:|---:|---:|"
ir() { # ARGS...: callgrind's instruction count of one --once run
	valgrind --tool=callgrind --callgrind-out-file="$TMP/cg" "$EXP" --once --segment "$TMP/none" "$@" >/dev/null 2>&1
	awk '/^summary:/ { print $2 }' "$TMP/cg"
}
first_n=; first_ir=
for n in 10 1000 10000; do
	rm -f "$TMP/ready"
	"$PY" - "$n" "$TMP/ready" "$TMP/done" <<'PY' &
import os, socket, sys, time
n, ready, done = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(4096)
port = ls.getsockname()[1]
keep = []
for i in range(n // 2):
    keep.append(socket.create_connection(("127.0.0.1", port)))
    keep.append(ls.accept()[0])
open(ready, "w").close()
while not os.path.exists(done): time.sleep(0.05)
PY
	holder=$!
	for _ in $(seq 1 600); do [ -e "$TMP/ready" ] && break; sleep 0.05; done
	[ -e "$TMP/ready" ] || { echo "could not open $n sockets" >&2; exit 1; }
	poll=$(for _ in $(seq 1 21); do
		"$EXP" --once --segment "$TMP/none" 2>/dev/null | awk '$1 == "onionmeter_kernel_poll_duration_seconds" { print $2 * 1000 }'
	done | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }')
	allocs=- instr=-
	if command -v valgrind >/dev/null; then
		with=$(valgrind "$EXP" --once --segment "$TMP/none" 2>&1 >/dev/null | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,)
		without=$(valgrind "$EXP" --once --kernel-interval 0 --segment "$TMP/none" 2>&1 >/dev/null | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,)
		allocs=$((with - without))
		instr=$(($(ir) - $(ir --kernel-interval 0)))
		[ -n "$first_n" ] || { first_n=$n; first_ir=$instr; }
		last_n=$n last_ir=$instr
	fi
	port=$(free_port)
	"$EXP" --listen "127.0.0.1:$port" --segment "$TMP/none" --kernel-interval 50 2>/dev/null &
	exp=$!
	sleep 1.2
	rss=$(awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$exp/status")
	kill "$exp"
	wait "$exp" 2>/dev/null || true
	touch "$TMP/done"
	wait "$holder"
	rm -f "$TMP/done"
	echo "| $n | $poll | $allocs | $instr | $rss |"
done
[ -z "$first_n" ] || [ "$last_n" = "$first_n" ] ||
	echo "user instructions per socket per poll: $(((last_ir - first_ir) / (last_n - first_n)))"
