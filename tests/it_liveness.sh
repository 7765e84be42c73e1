#!/usr/bin/env bash
# Liveness is the process's, whatever its threads do: the thread that made
# the first dial (and claimed the slot) exits first; the main thread exits
# first; the process is killed with SIGKILL.  The exporter must say
# "live" exactly while the process lives, show its open connection while it
# is open, and keep its counts after it is gone.
set -eu
. "$(dirname "$0")/lib.sh"
om_tmpdir
PORT=$(om_free_port)
LD_PRELOAD= om_bg "$PY" -c '
import socket, sys
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(16)
held = []
while True:
    c, _ = ls.accept(); held.append(c)' "$PORT"
om_wait_port 127.0.0.1 "$PORT"
PROG=$OM_BUILD/tests/liveness

# run_prog NAME MODE: start it under the shim with a pipe to its stdin
start() {
	seg=$OM_TMP/$1.seg
	mkfifo "$OM_TMP/$1.in"
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PROG" "$PORT" "$2" <"$OM_TMP/$1.in" >"$OM_TMP/$1.out" &
	pid=$!
	exec 3>"$OM_TMP/$1.in"
	om_poll grep -q ready "$OM_TMP/$1.out" 2>/dev/null || om_fail "$1: the program did not start"
}

# 1. the claiming thread exits; main goes on with the connection open
start claimer claimer-exits
om_expect "$seg" onionmeter_processes 1
om_expect "$seg" 'onionmeter_connections{class="local"}' 1
echo go >&3
om_poll grep -q closed "$OM_TMP/claimer.out" || om_fail "claimer: the connection was not closed"
om_expect "$seg" onionmeter_processes 1
om_expect "$seg" 'onionmeter_connections{class="local"}' 0
echo go >&3
exec 3>&-
wait "$pid" || om_fail "claimer-exits failed"
om_expect "$seg" onionmeter_processes 0
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' 5
echo "ok: the claiming thread exited first: live until the process exits"

# 2. the main thread exits first (pthread_exit), another lives on
start main main-exits
# the main thread has exited once it is a zombie, the other thread running
main_gone() { grep -q '^State:[[:space:]]*Z' "/proc/$pid/task/$pid/status"; }
om_poll main_gone || om_fail "main-exits: the main thread did not exit"
om_expect "$seg" onionmeter_processes 1
om_expect "$seg" 'onionmeter_connections{class="local"}' 1
echo go >&3
exec 3>&-
wait "$pid" || om_fail "main-exits failed"
om_expect "$seg" onionmeter_processes 0
om_expect "$seg" 'onionmeter_connections{class="local"}' 0
echo "ok: the main thread exited first: live until the last thread exits"

# 3. SIGKILL with connections open: not live, nothing open, counts kept
seg=$OM_TMP/kill.seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c '
import socket, sys, time
conns = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(3)]
for c in conns: c.sendall(b"k" * 1000)
open(sys.argv[2], "w").close()
time.sleep(60)' "$PORT" "$OM_TMP/kill.ready" &
kpid=$!
om_wait_file "$OM_TMP/kill.ready"
om_expect "$seg" onionmeter_processes 1
om_expect "$seg" 'onionmeter_connections{class="local"}' 3
kill -KILL "$kpid"
wait "$kpid" 2>/dev/null || true
om_expect "$seg" onionmeter_processes 0
om_expect "$seg" 'onionmeter_connections{class="local"}' 0
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' 3000
echo "ok: SIGKILL: not live, no connection open, its counts kept"
echo PASS
