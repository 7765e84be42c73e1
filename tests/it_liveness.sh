#!/usr/bin/env bash
# Liveness is the process's, whatever its threads do: the thread that made
# the first dial (and claimed the slot) exits first; the main thread exits
# first; the process is killed with SIGKILL.  The exporter must say
# "live" exactly while the process lives, show its open connection while it
# is open, and keep its counts after it is gone; a process that takes a
# new System V undo list (unshare CLONE_SYSVSEM) stays live, and one that
# leaves the IPC namespace stops counting and says so.
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
# 4. unshare(CLONE_SYSVSEM) with two connections open: the kernel undoes
#    the slot's semaphore as at exit; the process must still read live,
#    and a second process must get a slot of its own
seg=$OM_TMP/sysvsem.seg
UNSHARE='
import ctypes, os, socket, sys
port, how, ready, go = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
libc = ctypes.CDLL(None, use_errno=True)
held = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
for s in held: s.sendall(b"a" * 1000)
if how == "sysvsem":
    assert libc.unshare(0x00040000) == 0, ctypes.get_errno()      # CLONE_SYSVSEM
elif how == "raw":
    assert libc.syscall(272, 0x00040000) == 0, ctypes.get_errno()  # SYS_unshare
elif how == "ipc":
    assert libc.unshare(0x08000000) == 0, ctypes.get_errno()      # CLONE_NEWIPC
open(ready, "w").close()
while not os.path.exists(go): pass
for s in held: s.sendall(b"b" * 500); s.close()'
for how in sysvsem raw; do
	rm -f "$seg" "$OM_TMP/u.ready" "$OM_TMP/u.go"
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c "$UNSHARE" "$PORT" "$how" "$OM_TMP/u.ready" "$OM_TMP/u.go" 2>"$OM_TMP/u.err" &
	upid=$!
	om_poll test -e "$OM_TMP/u.ready" || { cat "$OM_TMP/u.err" >&2; om_fail "$how: the program did not unshare"; }
	om_expect "$seg" onionmeter_processes 1
	om_expect "$seg" 'onionmeter_connections{class="local"}' 2
	# a second process claims a slot: not the first one's
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(b"c" * 100); s.close()' "$PORT"
	om_expect "$seg" onionmeter_segment_slots_used 2
	touch "$OM_TMP/u.go"
	wait "$upid" || { cat "$OM_TMP/u.err" >&2; om_fail "$how: the program failed"; }
	om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' 3100
	om_expect "$seg" 'onionmeter_connections{class="local"}' 0
	! grep -q '^onionmeter: ' "$OM_TMP/u.err" || { cat "$OM_TMP/u.err" >&2; om_fail "$how: unexpected message"; }
	echo "ok: unshare(CLONE_SYSVSEM) ($how): still live with its 2 connections, the next process in a slot of its own, 3100 bytes exact"
done
# 5. unshare(CLONE_NEWIPC): the set is out of reach; counting stops, said
if [ "$(id -u)" = 0 ]; then
	rm -f "$seg" "$OM_TMP/u.ready" "$OM_TMP/u.go"
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c "$UNSHARE" "$PORT" ipc "$OM_TMP/u.ready" "$OM_TMP/u.go" 2>"$OM_TMP/u.err" &
	upid=$!
	om_poll test -e "$OM_TMP/u.ready" || { cat "$OM_TMP/u.err" >&2; om_fail "ipc: the program did not unshare"; }
	touch "$OM_TMP/u.go"
	wait "$upid" || { cat "$OM_TMP/u.err" >&2; om_fail "ipc: the program failed"; }
	grep -q "^onionmeter: counting stopped for this process .*IPC namespace" "$OM_TMP/u.err" ||
		{ cat "$OM_TMP/u.err" >&2; om_fail "ipc: no message that counting stopped"; }
	om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' 2000
	echo "ok: unshare(CLONE_NEWIPC): counting stops with one message, what was counted stays (2000 bytes)"
fi
# 6. a segment removed with rm, five times over at one path: the kernel
#    semaphore sets do not pile up (the last one stays, for the last file)
seg=$OM_TMP/rm.seg
ids=""
for i in 1 2 3 4 5; do
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c 'import socket; socket.socket().connect_ex(("127.0.0.1", 1))'
	ids="$ids $("$PY" -c 'import struct, sys; print(struct.unpack_from("<i", open(sys.argv[1], "rb").read(104), 100)[0])' "$seg")"
	[ "$i" = 5 ] || rm "$seg"
done
# (ipcs -i exits 0 for an id that is gone: the list is read instead)
set_exists() { ipcs -s | awk -v id="$1" '$2 == id { f = 1 } END { exit !f }'; }
left=0
for id in $ids; do set_exists "$id" && left=$((left + 1)); done
[ "$left" = 1 ] || om_fail "after 5 segments removed with rm at one path, $left of their semaphore sets remain (ids$ids), want 1"
LD_PRELOAD= "$OM_EXPORTER" --remove --segment "$seg" || om_fail "--remove failed"
for id in $ids; do ! set_exists "$id" || om_fail "set $id outlived --remove"; done
echo "ok: five segments removed with rm at one path leave one semaphore set, and --remove takes it"
echo PASS
