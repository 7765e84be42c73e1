#!/usr/bin/env bash
# What the shim costs a process, whatever the number of live processes in
# the segment: exec of a program that never opens a socket, exec of one
# that attaches (one dial), fork, fork of a child that attaches; the
# system calls of one attach (strace -c); the kernel fd table of an
# attached process (FDSize) at the highest ulimit -n allowed (1048576
# where it may be raised).  At 0, 64, 1024 and 4093 live processes (a
# 4096-slot segment: three slots left for the processes measured), each
# measured with and without the shim interleaved in one run.  First, exec
# of /bin/true with nothing, an empty library (bench/floor.c: the floor
# under any preload) and the shim preloaded, interleaved.
#
#   bench/process.sh [BUILD_DIR]      (default: build; run as root for 4096
#                                     processes and the 1048576 fd limit)
set -eu
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}") # absolute: the paths below go into LD_PRELOAD
EXP=$BUILD/exporter/onionmeter-exporter
SHIM=$BUILD/shim/libonionmeter.so
SLEEPER=$BUILD/bench/sleeper
FLOOR=$BUILD/bench/libfloor.so
. "$PWD/bench/lib.sh"
bench_segment bench
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
LIMIT=$(ulimit -n)

start_sink

# Wall time per run of a command, with and without the shim, interleaved
# in rounds; prints the median per run of each, and the added time.
compare() { # RUNS ROUNDS CMD...
	"$PY" - "$SHIM" "$@" <<'PY'
import os, statistics, sys, time
shim, runs, rounds, cmd = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
env_on = dict(os.environ, LD_PRELOAD=shim)
env_off = dict(os.environ, LD_PRELOAD="")
def batch(env):
    t = time.perf_counter()
    for _ in range(runs):
        pid = os.posix_spawn(cmd[0], cmd, env)
        os.waitpid(pid, 0)
    return (time.perf_counter() - t) / runs * 1000
on, off = [], []
for _ in range(rounds):
    off.append(batch(env_off)); on.append(batch(env_on))
a, b = statistics.median(off), statistics.median(on)
print("%.3f %.3f %+.3f" % (a, b, b - a))
PY
}

# exec /bin/true with nothing preloaded, an empty library (the floor for
# any preload) and the shim, interleaved; median ms per run of each
floor() { # RUNS ROUNDS
	"$PY" - "$FLOOR" "$SHIM" "$@" <<'PY'
import os, statistics, sys, time
floor, shim, runs, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
envs = [dict(os.environ, LD_PRELOAD=p) for p in ("", floor, shim)]
t = [[], [], []]
for _ in range(rounds):
    for i, env in enumerate(envs):
        a = time.perf_counter()
        for _ in range(runs):
            pid = os.posix_spawn("/bin/true", ["/bin/true"], env)
            os.waitpid(pid, 0)
        t[i].append((time.perf_counter() - a) / runs * 1000)
m = [statistics.median(x) for x in t]
print("| %.3f | %.3f (%+.3f) | %.3f (%+.3f) | %+.3f |" % (m[0], m[1], m[1] - m[0], m[2], m[2] - m[0], m[2] - m[1]))
PY
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r); ulimit -n $LIMIT"
echo "date: $(date -u +%Y-%m-%d)"
echo
echo "exec /bin/true, no live process: milliseconds per run (median of 21 rounds of 300):"
echo
echo "| nothing preloaded | an empty library preloaded | the shim preloaded | the shim's own |"
echo "|---:|---:|---:|---:|"
floor 300 21
echo
echo "Milliseconds per run (median of rounds), without and with the shim, and the difference:"
echo
echo "| live processes | exec /bin/true (no socket) | exec, one dial (attach) | fork (an attached parent, no connection) | fork (the parent holds a connection: the child counts it) | fork, child dials (attach) | syscalls of one attach |"
echo "|---:|---|---|---|---|---|---:|"
for n in 0 64 1024 4093; do
	bench_fill "$n"
	t1=$(compare 200 11 /bin/true)
	t2=$(compare 200 11 "$SLEEPER" "$SINK" once)
	t3b=$(compare 1 9 "$SLEEPER" "$SINK" forksbare 200)
	t3=$(compare 1 9 "$SLEEPER" "$SINK" forks 200)
	t4=$(compare 1 9 "$SLEEPER" "$SINK" forkattach 200)
	LD_PRELOAD=$SHIM strace -c -o "$TMP/strace" "$SLEEPER" "$SINK" once >/dev/null 2>&1
	LD_PRELOAD= strace -c -o "$TMP/strace0" "$SLEEPER" "$SINK" once >/dev/null 2>&1
	sys="$(awk '$NF == "total" { print $4 }' "$TMP/strace0") -> $(awk '$NF == "total" { print $4 }' "$TMP/strace")"
	fmt() { set -- $1; printf '%s / %s (%s)' "$1" "$2" "$3"; }
	# forks: per fork, not per run of the forking program
	fmt200() { set -- $1; awk -v a="$1" -v b="$2" -v c="$3" 'BEGIN { printf "%.4f / %.4f (%+.4f)", a / 200, b / 200, c / 200 }'; }
	printf '| %d | %s | %s | %s | %s | %s | %s |\n' "$n" "$(fmt "$t1")" "$(fmt "$t2")" "$(fmt200 "$t3b")" \
		"$(fmt200 "$t3")" "$(fmt200 "$t4")" "$sys"
done
echo
echo "System calls of one attaching run (4093 live), with the shim (without):"
echo
join -a1 -e0 -o 0,1.2,2.2 <(awk 'NR > 2 && $4 ~ /^[0-9]+$/ && $NF != "total" { print $NF, $4 }' "$TMP/strace" | sort) \
	<(awk 'NR > 2 && $4 ~ /^[0-9]+$/ && $NF != "total" { print $NF, $4 }' "$TMP/strace0" | sort) |
	awk '$2 != $3 { printf "    %s: %d (%d)\n", $1, $2, $3 }'
echo
# FDSize: the kernel's fd table of an attached process (8 bytes a slot,
# plus bitmaps, copied by every fork)
fdsize() { # PRELOAD
	LD_PRELOAD=$1 "$SLEEPER" "$SINK" &
	local p=$! s
	sleep 0.3
	s=$(awk '/^FDSize/ { print $2 }' "/proc/$p/status")
	kill "$p"; wait "$p" 2>/dev/null || true
	echo "$s"
}
echo "| ulimit -n $LIMIT | without the shim | with the shim |"
echo "|---|---:|---:|"
echo "| FDSize of an attached process | $(fdsize "") | $(fdsize "$SHIM") |"
