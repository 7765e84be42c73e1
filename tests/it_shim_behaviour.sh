#!/usr/bin/env bash
# The shim under real programs: disables itself cleanly when the segment is
# unusable, survives a daemon closing every fd, counts across fork and exec.
set -eu
. "$(dirname "$0")/lib.sh"
om_tmpdir
cd "$OM_TMP"
mkdir www
head -c 50000 /dev/urandom >www/f
# the server runs without the shim: only the clients are under test
PORT=$(om_free_port)
LD_PRELOAD= om_bg "$PY" -m http.server --bind 127.0.0.1 --directory www "$PORT" >/dev/null 2>&1
om_wait_port 127.0.0.1 "$PORT"
URL="http://127.0.0.1:$PORT/f"

# 1. unusable segments: the program runs as if we were not there, and we
#    say so exactly once, at its first socket (attach is lazy: a program
#    that never touches the network never looks at the segment)
head -c 10000 /dev/urandom >junk.seg
for seg in "$OM_TMP/junk.seg" "$OM_TMP/no/such/dir/seg" "not-absolute"; do
	out=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c 'import socket, sys
for i in range(3):
    socket.socket().connect_ex(("127.0.0.1", 1))
print("hello"); sys.exit(3)' 2>err) && rc=0 || rc=$?
	[ "$out" = hello ] || om_fail "program output changed with segment $seg: $out"
	[ "$rc" = 3 ] || om_fail "exit status changed with segment $seg: $rc"
	[ "$(grep -c '^onionmeter: ' err)" = 1 ] || { cat err; om_fail "want one message for segment $seg"; }
	grep -q '^onionmeter: not counting this process (pid [0-9]*): ' err || om_fail "message does not say counting is off: $(cat err)"
	echo "ok: counting off cleanly for $seg: $(cat err)"
done

# ... and a file size limit below the segment's size (ulimit -f): growing
# the file would raise SIGXFSZ and kill the program; it is not created,
# no temporary file is left, and a program without the limit creates it
mkdir fsize
# (bash, not Python: Python ignores SIGXFSZ)
out=$(ulimit -f 100; ONIONMETER_SEGMENT=$OM_TMP/fsize/seg "$OM_RUN" -- bash -c \
	'exec 3<>"/dev/tcp/127.0.0.1/$1"; exec 4<>"/dev/tcp/127.0.0.1/$1"; echo hello; exit 3' sh "$PORT" 2>err) && rc=0 || rc=$?
[ "$out" = hello ] && [ "$rc" = 3 ] || { cat err; om_fail "ulimit -f 100: exit status $rc, output '$out' (want 3, hello)"; }
grep -q 'file size limit' err || { cat err; om_fail "ulimit -f: the message does not say why"; }
[ -z "$(ls fsize)" ] || om_fail "ulimit -f: left behind: $(ls fsize)"
ONIONMETER_SEGMENT=$OM_TMP/fsize/seg "$OM_RUN" -- bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; exec 3>&-' sh "$PORT"
om_expect "$OM_TMP/fsize/seg" 'onionmeter_dials_total{class="local",outcome="success"}' 1
echo "ok: ulimit -f below the segment's size: not created, the program runs, nothing left; created without it"
# a dial that is up and never spoken on when the process exits (bash's
# /dev/tcp held open to the end) still has its outcome
ONIONMETER_SEGMENT=$OM_TMP/held.seg "$OM_RUN" -- bash -c \
	'exec 3<>"/dev/tcp/127.0.0.1/$1"; exec 4<>"/dev/tcp/127.0.0.1/$1"; exit 0' sh "$PORT"
om_expect "$OM_TMP/held.seg" 'onionmeter_dials_total{class="local",outcome="success"}' 2
echo "ok: two connections held to the process's exit, never used: two successful dials"

# 2. a daemon closes every fd it did not open, then works: the slot lock
#    must survive (close() of our fd reports EBADF, as for a closed fd)
cat >daemon.py <<PY
import os, resource, sys, time, urllib.request
top = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
closed = 0
if sys.argv[2] == "close":        # the classic loop over the whole table
    for fd in range(3, top):
        try:
            os.close(fd)
            closed += 1
        except OSError:
            pass
else:                             # close_range(2), as modern daemons do
    os.closerange(3, top)
print(closed)
data = urllib.request.urlopen("$URL").read()
assert len(data) == 50000
open("$OM_TMP/daemon.ready", "w").close()
while sys.argv[1] != "-" and not os.path.exists(sys.argv[1]):  # live until told
    time.sleep(0.02)
PY
for how in close closerange; do
seg=$OM_TMP/daemon-$how.seg
rm -f daemon.ready daemon.go
# our fd must look closed already: as many close() calls succeed as without us
LD_PRELOAD= "$PY" daemon.py - "$how" >closed.plain
rm -f daemon.ready
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" daemon.py daemon.go "$how" >closed.shim &
dpid=$!
om_wait_file daemon.ready # it has fetched: attached
# a second process while the daemon lives must get a slot of its own
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c 'import urllib.request; urllib.request.urlopen("'"$URL"'").read()'
om_expect "$seg" onionmeter_processes 1
om_expect "$seg" onionmeter_segment_slots_used 2
touch daemon.go
wait "$dpid" || om_fail "daemon failed"
cmp -s closed.plain closed.shim || om_fail "close() succeeded $(cat closed.shim) times under the shim, $(cat closed.plain) without"
om_expect "$seg" onionmeter_processes 0
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="success"}' 2
done


# 3. fork: parent and child each fetch; both counted, in separate slots;
#    exec: the new image re-attaches
seg=$OM_TMP/fork.seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c '
import os, urllib.request
pid = os.fork()
urllib.request.urlopen("'"$URL"'").read()
if pid:
    _, st = os.waitpid(pid, 0)
    assert st == 0
    os.execv("'"$PY"'", ["python3", "-c", "import urllib.request; urllib.request.urlopen(\"'"$URL"'\").read()"])
'
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="success"}' 3

ingress=$(om_metric "$seg" 'onionmeter_bytes_total{class="local",direction="ingress"}')
[ "$ingress" -ge 150000 ] && [ "$ingress" -lt 152000 ] || om_fail "fork/exec ingress $ingress"
echo "ok: fork+exec ingress $ingress for 3 x 50000 bytes"

# 5. Python asyncio: non-blocking connects, refused and successful
seg=$OM_TMP/asyncio.seg
DEAD=$(om_free_port)
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c '
import asyncio, sys
async def main():
    try:
        await asyncio.open_connection("127.0.0.1", int(sys.argv[1]))
        sys.exit("connect to a closed port succeeded?")
    except ConnectionRefusedError:
        pass
    r, w = await asyncio.open_connection("127.0.0.1", int(sys.argv[2]))
    w.write(b"GET /f HTTP/1.0\r\n\r\n")
    data = await r.read()
    w.close()
    await w.wait_closed()
    assert len(data) > 50000
asyncio.run(main())
' "$DEAD" "$PORT" || om_fail "asyncio client failed"
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="refused"}' 1
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="success"}' 1
om_expect "$seg" 'onionmeter_connections{class="local"}' 0

# 6. a connected socket inherited across exec is classified on first use;
#    subprocess (posix_spawn/vfork) children attach on their own
seg=$OM_TMP/inherit.seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c '
import os, socket, subprocess, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /f HTTP/1.0\r\n")  # in use before exec: not a fresh dial after it
os.set_inheritable(s.fileno(), True)
subprocess.run([sys.executable, "-c", "import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:%s/f\").read()" % sys.argv[1]], check=True)
os.execv(sys.executable, [sys.executable, "-c", """
import os, sys
fd = int(sys.argv[1])
os.write(fd, b"\\r\\n")
got = 0
while True:
    b = os.read(fd, 65536)
    if not b: break
    got += len(b)
assert got > 50000, got
os.close(fd)
""", str(s.fileno())])
' "$PORT" || om_fail "inherit/spawn client failed"
# dialled before exec + dialled by the spawned child; the inherited one is
# counted, not dialled, after exec
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="success"}' 2
ingress=$(om_metric "$seg" 'onionmeter_bytes_total{class="local",direction="ingress"}')
[ "$ingress" -ge 100000 ] || om_fail "inherited socket not counted after exec: ingress $ingress"
om_expect "$seg" 'onionmeter_connections{class="local"}' 0
echo "ok: inherited socket counted after exec; spawned child counted"

# 7. inbound: a server under the shim; ONIONMETER_ONION_PORTS marks the
#    local end of an onion service
seg=$OM_TMP/server.seg
SPORT=$(om_free_port)
ONIONMETER_SEGMENT=$seg ONIONMETER_ONION_PORTS="1,$SPORT" "$OM_RUN" -- "$PY" -c '
import socket, sys
ls = socket.socket()
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen()
open(sys.argv[2], "w").close()
for _ in range(2):
    c, _ = ls.accept()
    c.sendall(c.recv(100) * 10)
    c.close()
' "$SPORT" "$OM_TMP/server.ready" &
spid=$!
om_wait_file "$OM_TMP/server.ready"
for i in 1 2; do
	LD_PRELOAD= "$PY" -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(b"x" * 100)
n = 0
while n < 1000: n += len(s.recv(1000))' "$SPORT"
done
wait "$spid" || om_fail "server failed"
om_expect "$seg" 'onionmeter_accepted_total{class="onion"}' 2
om_expect "$seg" 'onionmeter_bytes_total{class="onion",direction="ingress"}' 200
om_expect "$seg" 'onionmeter_bytes_total{class="onion",direction="egress"}' 2000

# 8. calls that arrive before our constructor ran (a dependency's
#    constructor) are wrapped, attach the shim on the spot, and count
seg=$OM_TMP/early.seg
LD_PRELOAD= "$PY" -c '
import socket, sys
ls = socket.socket(); ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen()
open(sys.argv[2], "w").close()
c, _ = ls.accept(); c.recv(100); c.close()' "$(om_free_port | tee "$OM_TMP/eport")" "$OM_TMP/early.ready" &
epid=$!
om_wait_file "$OM_TMP/early.ready"
out=$(EARLY_PORT=$(cat "$OM_TMP/eport") ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$OM_BUILD/tests/early_main") ||
	om_fail "early I/O failed under the shim: $out"
wait "$epid"
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="success"}' 1
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' 12

# 4. a fork child outliving its parent keeps only its own slot alive
seg=$OM_TMP/orphan.seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c '
import os, socket, time
socket.socket().connect_ex(("127.0.0.1", 1))
if os.fork() == 0:
    socket.socket().connect_ex(("127.0.0.1", 1))
    open("'"$OM_TMP"'/orphan.ready", "w").close()
    end = time.time() + '"$OM_WAIT"'
    while not os.path.exists("'"$OM_TMP"'/orphan.done") and time.time() < end:
        time.sleep(0.02)
    os._exit(0)
'
om_wait_file orphan.ready
om_expect "$seg" onionmeter_processes 1
om_expect "$seg" onionmeter_segment_slots_used 2
touch orphan.done

# 9. a send cut short by the process's death (#26.9): bytes are counted
#    when the call returns, so a process killed inside a blocking sendall
#    loses the count of that one call and no more (docs/design.md, the
#    limits): the calls that returned are exact, and the sink received at
#    most that one call's length beyond them.  Never more than the sink got.
#    The sink stops reading at 2 MiB until the client is dead, with a small
#    receive buffer: the 16 MiB call cannot have returned.
KPORT=$(om_free_port)
LD_PRELOAD= om_bg "$PY" -c '
import os, socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept(); n = 0
while True:
    try:
        b = c.recv(65536)
    except ConnectionResetError:
        break
    if not b:
        break
    n += len(b)
    if n >= 2 << 20 and not os.path.exists("sink.go"):
        open("sink.paused", "w").close()
        while not os.path.exists("sink.go"): time.sleep(0.02)
open("sink.done", "w").write("%d\n" % n)' "$KPORT"
om_wait_port 127.0.0.1 "$KPORT"
ONIONMETER_SEGMENT=$OM_TMP/killed.seg "$OM_RUN" -- "$PY" -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for i in range(10):
    s.send(b"x" * 10000)
s.sendall(b"y" * (16 << 20))' "$KPORT" &
kpid=$!
om_wait_file sink.paused
kill -TERM "$kpid"
wait "$kpid" 2>/dev/null || true
touch sink.go
om_wait_file sink.done
got=$(cat sink.done)
counted=$(om_metric "$OM_TMP/killed.seg" 'onionmeter_bytes_total{class="local",direction="egress"}')
[ "$counted" = 100000 ] || om_fail "killed in sendall: counted $counted, want the 100000 of the calls that returned"
[ "$got" -ge $((counted + (2 << 20))) ] && [ "$got" -le $((counted + (16 << 20))) ] ||
	om_fail "killed in sendall: the sink got $got, outside [$((counted + (2 << 20))), $((counted + (16 << 20)))]"
echo "ok: killed inside a 16 MiB sendall: counted $counted, the sink got $got (the bound: that one call)"

echo PASS
