#!/usr/bin/env bash
# Exporter scrape latency, system calls and memory with 1, 64, 1024 and
# 4093 attached live processes (a 4096-slot segment), side by side with
# Debian's prometheus-node-exporter, in one run.
#
#   bench/exporter.sh [BUILD_DIR]      (default: build)
#
# Client latency is measured over one keep-alive HTTP connection (median and
# p99 of 300 scrapes); "segment read" is the exporter's own
# onionmeter_scrape_duration_seconds; system calls per scrape are counted
# by strace attached to the exporter over 100 scrapes; --once is the median
# wall time of a whole `onionmeter-exporter --once` run, of 21, with their
# range and the first one (the segment's pages cold).  RSS is VmRSS
# after the scrapes.  The kernel view is off here (--kernel-interval 0): it
# polls on its own timer, not per scrape, and bench/kernel.sh measures it.
set -eu
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}") # absolute: the paths below go into LD_PRELOAD
EXP=$BUILD/exporter/onionmeter-exporter
exp() { "$EXP" --kernel-interval 0 "$@"; }
SHIM=$BUILD/shim/libonionmeter.so
SLEEPER=$BUILD/bench/sleeper
. "$PWD/bench/lib.sh"
# segments on tmpfs, where the default one lives (/dev/shm): a segment in
# a disk-backed /tmp is written back while the benchmark reads it
TMP=$(mktemp -d "$(om_bench_tmpdir)/om-bench.XXXXXX")
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	for seg in "$TMP"/seg-*; do [ -e "$seg" ] && exp --remove --segment "$seg" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
export ONIONMETER_SLOTS=4096

# resident MiB: private (heap, stacks, libraries' data) and total, which
# also counts the shared segment's pages mapped in
mem() { awk '/^RssAnon/ { a = $2 } /^VmRSS/ { r = $2 } END { printf "%.1f | %.1f", a / 1024, r / 1024 }' "/proc/$1/status"; }

# median and p99 of N scrapes over one keep-alive connection, in ms
scrape_ms() {
	"$PY" - "$1" "$2" <<'PY'
import http.client, sys, time
port, path = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port)
t = []
for i in range(330):
    a = time.perf_counter()
    c.request("GET", path)
    body = c.getresponse().read()
    if i >= 30:                       # warm-up excluded
        t.append((time.perf_counter() - a) * 1000)
t.sort()
print("%.3f %.3f %d" % (t[len(t) // 2], t[int(len(t) * 0.99)], len(body)))
PY
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
echo "date: $(date -u +%Y-%m-%d)"
echo
echo "| exporter | processes | scrape median (ms) | scrape p99 (ms) | segment read (ms) | syscalls per scrape | --once (ms) | body (bytes) | private RSS (MiB) | total RSS (MiB) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
start_sink
# system calls the running exporter makes per scrape, over 100 scrapes
syscalls_per_scrape() { # PID PORT
	strace -f -c -o "$TMP/strace" -p "$1" 2>/dev/null &
	local st=$!
	sleep 0.5
	"$PY" - "$2" <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for _ in range(100):
    c.request("GET", "/metrics"); c.getresponse().read()
PY
	kill -INT "$st"
	wait "$st" 2>/dev/null || true
	awk '$NF == "total" { printf "%.1f", $4 / 100 }' "$TMP/strace"
}
once_ms() { # SEGMENT
	"$PY" - "$EXP" "$1" <<'PY'
import statistics, subprocess, sys, time
t = []
for _ in range(21):
    a = time.perf_counter()
    subprocess.run([sys.argv[1], "--kernel-interval", "0", "--once", "--segment", sys.argv[2]], stdout=subprocess.DEVNULL)
    t.append((time.perf_counter() - a) * 1000)
print("%.2f (%.2f-%.2f; first %.2f)" % (statistics.median(t), min(t), max(t), t[0]))
PY
}
for n in 1 64 1024 4093; do
	seg=$TMP/seg-$n
	started=""
	for i in $(seq 1 "$n"); do
		ONIONMETER_SEGMENT=$seg LD_PRELOAD=$SHIM "$SLEEPER" "$SINK" &
		started="$started $!"
	done
	PIDS="$PIDS $started"
	# wait until all are attached
	for _ in $(seq 1 300); do
		live=$(exp --once --segment "$seg" 2>/dev/null | awk '$1 == "onionmeter_processes" { print $2 }')
		[ "${live:-0}" = "$n" ] && break
		sleep 0.1
	done
	port=$(free_port)
	"$EXP" --kernel-interval 0 --listen "127.0.0.1:$port" --segment "$seg" 2>/dev/null &
	epid=$!
	PIDS="$PIDS $epid"
	wait_port "$port"
	read -r med p99 bytes < <(scrape_ms "$port" /metrics)
	read_ms=$(curl -s "http://127.0.0.1:$port/metrics" | awk '$1 == "onionmeter_scrape_duration_seconds" { printf "%.3f", $2 * 1000 }')
	sc=$(syscalls_per_scrape "$epid" "$port")
	printf '| onionmeter-exporter | %d | %s | %s | %s | %s | %s | %s | %s |\n' "$n" "$med" "$p99" \
		"$read_ms" "$sc" "$(once_ms "$seg")" "$bytes" "$(mem $epid)"
	kill $epid $started 2>/dev/null || true
	wait $epid $started 2>/dev/null || true
done
if command -v prometheus-node-exporter >/dev/null; then
	port=$(free_port)
	prometheus-node-exporter --web.listen-address="127.0.0.1:$port" >/dev/null 2>&1 &
	npid=$!
	PIDS="$PIDS $npid"
	wait_port "$port"
	read -r med p99 bytes < <(scrape_ms "$port" /metrics)
	printf '| prometheus-node-exporter %s (default collectors) | - | %s | %s | - | %s | - | %s | %s |\n' \
		"$(prometheus-node-exporter --version 2>&1 | awk 'NR == 1 { print $3 }')" "$med" "$p99" \
		"$(syscalls_per_scrape "$npid" "$port")" "$bytes" "$(mem $npid)"
fi
