# Shared by the bench/*.sh scripts (sourced): ports, a dial sink, and a
# callgrind run's set-up.
PY=/usr/bin/python3

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $1), 1)" 2>/dev/null && return; sleep 0.1; done; echo "no listener on $1" >&2; exit 1; }

# A loopback listener that accepts and closes (the dial is what counts):
# its port in SINK, its pid added to PIDS.
start_sink() {
	SINK=$(free_port)
	"$PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()' "$SINK" &
	PIDS="$PIDS $!"
	wait_port "$SINK"
}

# A callgrind benchmark's set-up: BUILD (absolute: it goes into
# LD_PRELOAD) and SHIM from the build directory, and TMP, a directory
# removed at exit with the segment a run under the shim left in it.
bench_cg_setup() { # BUILD_DIR NAME
	command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }
	BUILD=$(realpath "$1")
	SHIM=$BUILD/shim/libonionmeter.so
	TMP=$(mktemp -d "/tmp/om-$2.XXXXXX")
	trap '"$BUILD/exporter/onionmeter-exporter" --remove --segment "$TMP/seg" 2>/dev/null; rm -rf "$TMP"' EXIT
}

# Where a benchmark keeps its segments: /dev/shm (tmpfs, where the default
# segment lives) when it can write there, else /tmp.
om_bench_tmpdir() {
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then echo /dev/shm; else echo /tmp; fi
}

# A 4096-slot segment of the benchmark's own, in TMP (on tmpfs where it
# can be: in a disk-backed /tmp the kernel writes the counters back while
# the benchmark reads them), removed at exit with every process in PIDS.
# Needs EXP (the exporter).
bench_segment() { # NAME
	TMP=$(mktemp -d "$(om_bench_tmpdir)/om-$1.XXXXXX")
	export ONIONMETER_SEGMENT=$TMP/seg ONIONMETER_SLOTS=4096
	PIDS="" STARTED=0
	trap bench_cleanup EXIT
}
bench_cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	"$EXP" --remove --segment "$TMP/seg" 2>/dev/null || true
	rm -rf "$TMP"
}

# The processes the segment counts as live.
bench_live() {
	"$EXP" --once --kernel-interval 0 --segment "$TMP/seg" 2>/dev/null |
		awk '$1 == "onionmeter_processes" { print $2 }'
}

# Sleepers (bench/sleeper, one dial each, under SHIM) until N are live.
bench_fill() { # N
	while [ "$STARTED" -lt "$1" ]; do
		LD_PRELOAD=$SHIM "$SLEEPER" "$SINK" &
		PIDS="$PIDS $!"
		STARTED=$((STARTED + 1))
	done
	[ "$1" = 0 ] && return
	for _ in $(seq 1 1200); do [ "$(bench_live)" = "$1" ] && break; sleep 0.1; done
	[ "$(bench_live)" = "$1" ] || { echo "only $(bench_live) of $1 processes attached" >&2; exit 1; }
}
