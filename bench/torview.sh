#!/usr/bin/env bash
# Tor's view: the exporter's CPU per 1,000 stream events and its memory
# with 10,000 open streams, against a fake tor (tests/fake_torctl.py) whose
# events name 10,000 real loopback clients, so that every NEW is looked up
# in the kernel's list as with a real tor.
#
#   bench/torview.sh [BUILD_DIR]      (default: build; needs unshare -n)
#
# In a private network namespace: N client connections to a listener the
# fake names as its SocksPort; the fake sends NEW, SENTCONNECT, SUCCEEDED
# for each (3N events), later CLOSED for each (N); the clients then close
# (2N destroy notices).  CPU is the exporter's utime + stime
# (/proc/PID/stat) across each phase; RSS its VmRSS with all N open;
# system calls per stream are counted by strace -c over the open phase.
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
TMP=$(mktemp -d /tmp/om-tvbench.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
N=${N:-10000}
HZ=$(getconf CLK_TCK)

cpu_ms() { awk -v hz="$HZ" '{ print ($14 + $15) * 1000 / hz }' "/proc/$1/stat"; }
metric() { curl -s "http://127.0.0.1:$EPORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
wait_metric() { # NAME VALUE
	local i
	for i in $(seq 1 1200); do [ "$(metric "$1")" = "$2" ] && return 0; sleep 0.05; done
	echo "timed out waiting for $1 = $2 (is $(metric "$1"))" >&2
	exit 1
}

# the clients: N connections to a listener, their ports in a file
SPORT=$(free_port)
"$PY" - "$N" "$SPORT" "$TMP/ports" "$TMP/ports.close" <<'PY' &
# two processes, the clients' ends and tor's, each within its fd limit
import os, socket, sys, time
n, port, out, close = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port)); ls.listen(4096)
if os.fork() == 0:
    keep = [socket.create_connection(("127.0.0.1", port)) for i in range(n)]
    open(out + ".tmp", "w").write(" ".join(str(c.getsockname()[1]) for c in keep))
    os.rename(out + ".tmp", out)
    while not os.path.exists(close + ".clients"): time.sleep(0.05)
    for s in keep: s.close()
    open(close + ".closed", "w").close()
    while True: time.sleep(1)
keep = [ls.accept()[0] for i in range(n)]
while not os.path.exists(close + ".clients"): time.sleep(0.05)
time.sleep(0.5)
for s in keep: s.close()
while True: time.sleep(1)
PY
head -c 32 /dev/urandom >"$TMP/cookie"
CPORT=$(free_port)
FAKE_SOCKS=$SPORT FAKE_PORTS=$TMP/ports "$PY" tests/fake_torctl.py bench "127.0.0.1:$CPORT" "$TMP/fake.log" "$TMP/cookie" &
for _ in $(seq 1 200); do grep -q . "$TMP/fake.log" 2>/dev/null && break; (exec 3<>/dev/tcp/127.0.0.1/"$CPORT") 2>/dev/null && break; sleep 0.05; done
EPORT=$(free_port)
"$EXP" --listen "127.0.0.1:$EPORT" --segment "$TMP/none" --tor-control "127.0.0.1:$CPORT" 2>"$TMP/exporter.log" &
epid=$!
wait_metric 'onionmeter_tor_up{tor="1"}' 1
for _ in $(seq 1 1200); do [ -e "$TMP/ports" ] && break; sleep 0.05; done
rss0=$(awk '/^VmRSS/ { print $2 }' "/proc/$epid/status")
c0=$(cpu_ms "$epid")
strace -c -f -p "$epid" -o "$TMP/strace.txt" 2>/dev/null &
spid=$!
sleep 0.5
touch "$TMP/ports.ready"
wait_metric 'onionmeter_tor_network_liveness{tor="1"}' 0
c1=$(cpu_ms "$epid")
kill -INT "$spid"; wait "$spid" 2>/dev/null || true
open=$(( $(metric 'onionmeter_tor_open_streams{class="onion"}') + $(metric 'onionmeter_tor_open_streams{class="proxied"}') ))
rss1=$(awk '/^VmRSS/ { print $2 }' "/proc/$epid/status")
touch "$TMP/ports.close"
wait_metric 'onionmeter_tor_network_liveness{tor="1"}' 1
c2=$(cpu_ms "$epid")
touch "$TMP/ports.close.clients"
for _ in $(seq 1 1200); do [ -e "$TMP/ports.close.closed" ] && break; sleep 0.05; done
sleep 2 # the destroy notices, and two polls
c3=$(cpu_ms "$epid")
unattr=$(metric 'onionmeter_tor_unattributed_streams_total{reason="gone"}')
calls=$(awk '$NF == "total" { print $(NF-2) }' "$TMP/strace.txt")

echo "machine: $(nproc) cores, $(uname -r)"
echo "date: $(date -u +%Y-%m-%d)"
echo
echo "| phase | events | exporter CPU (ms) | CPU per 1,000 events (ms) |"
echo "|---|---:|---:|---:|"
awk -v n="$N" -v a="$c0" -v b="$c1" -v c="$c2" -v d="$c3" -v hz="$HZ" '
# CPU comes in clock ticks: a phase under one tick says so
function ms(x) { return x > 0 ? sprintf("%.0f", x) : sprintf("< %.0f", 1000 / hz) }
function per(x, e) { return x > 0 ? sprintf("%.1f", x * 1000 / e) : sprintf("< %.1f", 1000 / hz * 1000 / e) }
BEGIN {
	printf "| %d streams opened (NEW, SENTCONNECT, SUCCEEDED; a kernel lookup per NEW) | %d | %s | %s |\n", n, 3 * n, ms(b - a), per(b - a, 3 * n)
	printf "| %d streams closed by tor (CLOSED) | %d | %s | %s |\n", n, n, ms(c - b), per(c - b, n)
	printf "| %d clients gone (destroy notices, polls) | %d | %s | %s |\n", n, 2 * n, ms(d - c), per(d - c, 2 * n)
}'
echo
echo "open streams: $open; exporter RSS: $((rss0 / 1024)) MiB before, $((rss1 / 1024)) MiB with them open; system calls while opening: ${calls:-?} ($(awk -v c="${calls:-0}" -v n="$N" 'BEGIN { printf "%.1f", c / n }') per stream); left unattributed: ${unattr:-?}"
