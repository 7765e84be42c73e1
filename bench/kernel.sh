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
# (TCP and UDP dumps of both families, classification, the sets); allocs are
# valgrind's "total heap usage" of one --once run with the kernel view,
# minus one without it; instructions are callgrind's user instructions of
# one --once run with the view minus one without it (the sets grow from
# empty there; a serving exporter keeps them), and the line under the
# table is their slope per socket; "steady" is what one poll costs a
# serving exporter, its sets grown: bench/kpoll making 11 polls minus
# making 1, over 10; RSS is the serving exporter's VmRSS after 20 polls.
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
echo "| sockets in the namespace | poll (median ms) | heap allocations per poll | user instructions, --once | user instructions per poll, steady | exporter RSS (MiB) |"
echo "|---:|---:|---:|---:|---:|---:|"
ir() { # ARGS...: callgrind's instruction count of one --once run
	valgrind --tool=callgrind --callgrind-out-file="$TMP/cg" "$EXP" --once --segment "$TMP/none" "$@" >/dev/null 2>&1
	awk '/^summary:/ { print $2 }' "$TMP/cg"
}
kpoll() { # POLLS: callgrind's instruction count of bench/kpoll POLLS
	valgrind --tool=callgrind --callgrind-out-file="$TMP/cg" "$BUILD/bench/kpoll" "$1" >/dev/null 2>&1
	awk '/^summary:/ { print $2 }' "$TMP/cg"
}
# hold N [elsewhere]: N/2 loopback connections (N sockets) held by a
# process in this network namespace, or in a namespace of its own
hold() {
	local where=
	[ -z "${2:-}" ] || where="unshare -n"
	rm -f "$TMP/ready"
	$where sh -c 'ip link set lo up; exec "$@"' sh "$PY" - "$1" "$TMP/ready" "$TMP/done" <<'PY' &
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
	[ -e "$TMP/ready" ] || { echo "could not open $1 sockets" >&2; exit 1; }
}
poll_median() { # the median of 21 polls' own duration, ms
	for _ in $(seq 1 21); do
		"$EXP" --once --segment "$TMP/none" 2>/dev/null | awk '$1 == "onionmeter_kernel_poll_duration_seconds" { print $2 * 1000 }'
	done | sort -g | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }'
}
first_n=; first_ir=
for n in 10 1000 10000; do
	hold "$n"
	poll=$(poll_median)
	allocs=- instr=- steady=-
	if command -v valgrind >/dev/null; then
		with=$(valgrind "$EXP" --once --segment "$TMP/none" 2>&1 >/dev/null | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,)
		without=$(valgrind "$EXP" --once --kernel-interval 0 --segment "$TMP/none" 2>&1 >/dev/null | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,)
		allocs=$((with - without))
		instr=$(($(ir) - $(ir --kernel-interval 0)))
		steady=$((($(kpoll 11) - $(kpoll 1)) / 10))
		[ -n "$first_n" ] || { first_n=$n; first_ir=$instr; first_st=$steady; }
		last_n=$n last_ir=$instr last_st=$steady
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
	echo "| $n | $poll | $allocs | $instr | $steady | $rss |"
done
[ -z "$first_n" ] || [ "$last_n" = "$first_n" ] || {
	echo "user instructions per socket per poll, --once (sets grown from empty): $(((last_ir - first_ir) / (last_n - first_n)))"
	echo "user instructions per socket per poll, steady (a serving exporter): $(((last_st - first_st) / (last_n - first_n)))"
}
# A dump walks the kernel's table for the whole host, every namespace's
# sockets, and lists only this one's: what a poll costs here when the
# connections are elsewhere (kernel time; the user side sees none of them).
touch "$TMP/done"
hold 10000 elsewhere
echo
echo "| sockets here, and in another namespace | poll (median ms) |"
echo "|---|---:|"
echo "| 0, and 10000 | $(poll_median) |"
touch "$TMP/done"
wait "$holder"
rm -f "$TMP/done"
hold 0
echo "| 0, and 0 | $(poll_median) |"
touch "$TMP/done"
wait "$holder"
rm -f "$TMP/done"
# The same empty namespace with tables of its own (Linux 6.1, 6.2): set
# before the namespace is made, so here for a child of this one.  Root
# only; the settings are put back.
if [ -w /proc/sys/net/ipv4/tcp_child_ehash_entries ]; then
	old_t=$(cat /proc/sys/net/ipv4/tcp_child_ehash_entries)
	old_u=$(cat /proc/sys/net/ipv4/udp_child_hash_entries 2>/dev/null || echo)
	echo 1024 >/proc/sys/net/ipv4/tcp_child_ehash_entries
	[ -z "$old_u" ] || echo 256 >/proc/sys/net/ipv4/udp_child_hash_entries
	own=$(unshare -n sh -c 'ip link set lo up; for i in $(seq 1 21); do "$1" --once --segment "$2" 2>/dev/null; done' sh "$EXP" "$TMP/none" |
		awk '$1 == "onionmeter_kernel_poll_duration_seconds" { print $2 * 1000 }' | sort -g |
		awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }')
	echo "$old_t" >/proc/sys/net/ipv4/tcp_child_ehash_entries
	[ -z "$old_u" ] || echo "$old_u" >/proc/sys/net/ipv4/udp_child_hash_entries
	echo "| 0, and 0, the namespace's own tables (tcp_child_ehash_entries=1024, udp_child_hash_entries=256) | $own |"
fi
