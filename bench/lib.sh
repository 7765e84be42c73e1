# Shared by the bench/*.sh scripts (sourced): ports and a dial sink.
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

# Where a benchmark keeps its segments: /dev/shm (tmpfs, where the default
# segment lives) when it can write there, else /tmp.
om_bench_tmpdir() {
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then echo /dev/shm; else echo /tmp; fi
}
