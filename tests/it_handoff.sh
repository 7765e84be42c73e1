#!/usr/bin/env bash
# A proxy handshake split between processes (#26.8): the parent sends the
# greeting and the child it execs the request; the parent only connects;
# bash's exec 3<>/dev/tcp with a dd for each step; a fork child per
# connection; exec without fork; the parent closing first or last.  Each
# row: exactly one dial per connection, of the class and outcome the
# handshake had, no phantom "aborted" from a holder that let go, and the
# bytes exactly the relay's (tests/relay.py logs its client side).
set -eu
. "$(dirname "$0")/lib.sh"
om_enter_netns "$@"
om_tmpdir
cd "$OM_TMP"
H=198.18.0.1
LOG=$OM_TMP/relay.log
: >"$LOG"
# the onion service behind the relay: reads a line, answers 1000 bytes
LD_PRELOAD= om_bg "$PY" -c '
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.1", 80)); s.listen(64)
def serve(c):
    b = b""
    while b"\n" not in b:
        r = c.recv(100)
        if not r: break
        b += r
    c.sendall(b"x" * 1000); c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()'
LD_PRELOAD= om_bg "$PY" "$OM_SRC/tests/relay.py" 127.0.0.1 9050 "$LOG" "$ONION" "$H"
om_wait_port "$H" 80
om_wait_port 127.0.0.1 9050

# the SOCKS5 messages, as files for dd
"$PY" - "$ONION" <<'EOF'
import sys
o = sys.argv[1].encode()
open("greeting", "wb").write(b"\x05\x01\x00")
open("request", "wb").write(b"\x05\x01\x00\x03" + bytes([len(o)]) + o + b"\x00\x50")
bad = b"a" * 56 + b".onion"
open("request.bad", "wb").write(b"\x05\x01\x00\x03" + bytes([len(bad)]) + bad + b"\x00\x50")
EOF

# The child's part, as a program of its own: FD [STEPS] continues the
# handshake on FD from after STEPS (greeting: the greeting was sent;
# reply: its reply read too), then sends a line and reads to the end.
cat >child.py <<'EOF'
import socket, sys
s = socket.socket(fileno=int(sys.argv[1]))
steps = sys.argv[2] if len(sys.argv) > 2 else ""
if steps == "":
    s.sendall(open("greeting", "rb").read())
if steps in ("", "greeting"):
    s.recv(2)
s.sendall(open("request", "rb").read())
r = b""
while len(r) < 10:
    r += s.recv(10 - len(r))
s.sendall(b"GET\n")
n = 0
while True:
    b = s.recv(65536)
    if not b:
        break
    n += len(b)
s.detach()
sys.exit(0 if n == 1000 else 1)
EOF

# One external program per step, each its own process image: dd (which
# ends with close()), and cat and head (which end with fclose(), and whose
# stdin or stdout is the socket).  Not dd under the sanitizers: its
# aligned_alloc aborts with libasan preloaded.
TOOLS="cat"
[ "${OM_SANITIZED:-0}" != 0 ] || TOOLS="dd cat"
tools() {
	if [ "$1" = dd ]; then
		export PUT='dd bs=128 status=none' GET2='dd bs=2 count=1 status=none' GET10='dd bs=10 count=1 status=none'
	else
		export PUT='cat' GET2='head -c 2' GET10='head -c 10'
	fi
}

# SEG ROW N "CLASS/OUTCOME=K ...": the only dials counted
dials() {
	local got
	got=$(om_scrape "$1" | awk '$1 ~ /^onionmeter_dials_total\{/ && $2 != 0 {
		match($1, /class="[a-z]*"/); c = substr($1, RSTART + 7, RLENGTH - 8)
		match($1, /outcome="[a-z_]*"/); o = substr($1, RSTART + 9, RLENGTH - 10)
		printf "%s%s/%s=%s", sep, c, o, $2; sep = " " }')
	[ "$got" = "$3" ] || om_fail "$2: dials $got, expected $3"
	echo "ok: $2: $got"
}
fresh() { : >"$LOG"; seg=$OM_TMP/$1.seg; }
run() { ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$@"; }

# 1. greeting and its reply in the parent, the rest in a child it execs;
#    the parent closes once the child is done
fresh exec-child
run "$PY" -c '
import socket, subprocess, sys
s = socket.create_connection(("127.0.0.1", 9050)); s.sendall(open("greeting", "rb").read()); s.recv(2)
subprocess.run([sys.executable, "child.py", str(s.fileno()), "reply"], pass_fds=[s.fileno()], check=True)
s.close()'
dials "$seg" exec-child "onion/success=1"
om_expect_bytes "$seg" onion "$LOG" 1

# 2. the parent only connects; it closes its copy before the child speaks
fresh parent-connects
run "$PY" -c '
import socket, subprocess, sys
s = socket.create_connection(("127.0.0.1", 9050))
p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2); exec(open(\"child.py\").read())",
                      str(s.fileno())], pass_fds=[s.fileno()])
s.close()
sys.exit(p.wait())'
dials "$seg" parent-connects "onion/success=1"
om_expect_bytes "$seg" onion "$LOG" 1

for t in $TOOLS; do
	tools "$t"
	# 3. bash holds the connection, a program writes or reads each step
	fresh bash-$t
	run bash -c '
	exec 3<>/dev/tcp/127.0.0.1/9050
	$PUT <greeting >&3
	$GET2 <&3 | od -An -tx1 >method
	$PUT <request >&3
	$GET10 <&3 | od -An -tx1 >reply
	echo GET | $PUT >&3
	cat <&3 | wc -c >body
	exec 3>&-'
	[ "$(cat body)" = 1000 ] || om_fail "bash-$t: the body is $(cat body) bytes"
	dials "$seg" bash-$t "onion/success=1"
	om_expect_bytes "$seg" onion "$LOG" 1

	# 4. the same with the onion name refused: one dial, Tor's outcome
	fresh bash-$t-refused
	run bash -c '
	exec 3<>/dev/tcp/127.0.0.1/9050
	$PUT <greeting >&3
	$GET2 <&3 >/dev/null
	$PUT <request.bad >&3
	$GET10 <&3 >/dev/null
	exec 3>&-'
	dials "$seg" bash-$t-refused "onion/onion_bad_address=1"
	om_expect_bytes "$seg" onion "$LOG" 1

	# 5. given up across processes: the greeting from a child, then bash closes
	#    (a dup of fd 3 that bash keeps closes last): one abort, not two
	fresh bash-$t-abort
	run bash -c '
	exec 3<>/dev/tcp/127.0.0.1/9050
	$PUT <greeting >&3
	exec 3>&-'
	dials "$seg" bash-$t-abort "proxied/aborted=1"
	om_expect_bytes_read "$seg" proxied "$LOG" 1 0

	# ... and with a copy of fd 3 kept to the exit: the exit settles it
	#    from the child's step, bytes included
	fresh bash-$t-abort-exit
	run bash -c '
	exec 3<>/dev/tcp/127.0.0.1/9050
	$PUT <greeting >&3
	exec 5>&3 3>&-
	exit 0'
	dials "$seg" bash-$t-abort-exit "proxied/aborted=1"
	om_expect_bytes_read "$seg" proxied "$LOG" 1 0
done

# 6. the child execs, does nothing, exits; the parent closes: aborted once
fresh child-idle
run "$PY" -c '
import socket, subprocess
s = socket.create_connection(("127.0.0.1", 9050)); s.sendall(open("greeting", "rb").read()); s.recv(2)
subprocess.run(["true"], pass_fds=[s.fileno()], check=True)
s.close()'
dials "$seg" child-idle "proxied/aborted=1"
om_expect_bytes "$seg" proxied "$LOG" 1

# 7. exec without fork: the greeting before, the rest in the new image
fresh exec-self
run "$PY" -c '
import os, socket, sys
s = socket.create_connection(("127.0.0.1", 9050)); s.sendall(open("greeting", "rb").read())
os.set_inheritable(s.fileno(), True)
os.execv(sys.executable, [sys.executable, "child.py", str(s.fileno()), "greeting"])'
dials "$seg" exec-self "onion/success=1"
om_expect_bytes "$seg" onion "$LOG" 1

# The fork rows' program: N connections, each through its greeting and
# its reply; for each a fork child (no exec) finishes the handshake and
# reads the body while the parent closes its copy.  ORDER: as it comes
# (any); parent-first (the child waits on a pipe the parent closes after
# its close); child-first (the parent closes after the child's request);
# locked (handlock holds the dial's hand-off entry 300 ms, as a holder
# preempted mid-step would, while the child's first step and the
# parent's close need it).
cat >forks.py <<'EOF'
import os, socket, subprocess, sys
n, order = int(sys.argv[1]), sys.argv[2]
conns = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", 9050)); s.sendall(open("greeting", "rb").read()); s.recv(2)
    conns.append(s)
for s in conns:
    go_r, go_w = os.pipe(); sent_r, sent_w = os.pipe()
    h = None
    if order == "locked":
        cookie = int.from_bytes(s.getsockopt(socket.SOL_SOCKET, 57, 8), sys.byteorder)
        h = subprocess.Popen([sys.argv[3], sys.argv[4], str(cookie), "300"], stdout=subprocess.PIPE,
                             env=dict(os.environ, LD_PRELOAD=""))
        assert h.stdout.readline() == b"locked\n", "no hand-off entry for the dial"
    pid = os.fork()
    if pid == 0:
        os.close(go_w); os.close(sent_r)
        if order == "parent-first": os.read(go_r, 1)
        s.sendall(open("request", "rb").read()); r = b""
        if order == "child-first": os.write(sent_w, b"x")
        while len(r) < 10: r += s.recv(10 - len(r))
        s.sendall(b"GET\n"); n = 0
        while True:
            b = s.recv(65536)
            if not b: break
            n += len(b)
        os._exit(0 if n == 1000 else 1)
    os.close(go_r); os.close(sent_w)
    if order == "child-first": os.read(sent_r, 1)
    s.close(); os.close(go_w); os.close(sent_r)
    assert os.waitpid(pid, 0)[1] == 0
    assert h is None or h.wait() == 0
EOF

# 8. five connections in one process, a fork child finishing each while
#    the parent holds the rest; then ordered each way; then with the
#    hand-off entry held: exactly one success per dial every time
for order in any parent-first child-first locked; do
	fresh fork-$order
	run "$PY" forks.py 5 "$order" "$OM_BUILD/tests/handlock" "$seg"
	dials "$seg" fork-$order "onion/success=5"
	om_expect_bytes "$seg" onion "$LOG" 5
done

# 9. HTTP CONNECT, the request line from the parent, its end from a child
fresh http-split
run "$PY" -c '
import socket, subprocess, sys
s = socket.create_connection(("127.0.0.1", 9050))
s.sendall(b"CONNECT " + sys.argv[1].encode() + b":80 HTTP/1.1\r\n")
subprocess.run([sys.executable, "-c", """
import socket, sys
s = socket.socket(fileno=int(sys.argv[1])); s.sendall(b"\\r\\n"); r = b""
while b"\\r\\n\\r\\n" not in r: r += s.recv(1)
s.sendall(b"GET\\n"); n = 0
while True:
    b = s.recv(65536)
    if not b: break
    n += len(b)
s.detach(); sys.exit(0 if n == 1000 else 1)""", str(s.fileno())], pass_fds=[s.fileno()], check=True)
s.close()' "$ONION"
dials "$seg" http-split "onion/success=1"
om_expect_bytes "$seg" onion "$LOG" 1

# 10. a plain connection held by bash across an external command, then
#     exit: still its one success (the exit decides it)
fresh bash-plain-exit
run bash -c 'exec 3<>/dev/tcp/198.18.0.1/80; ls >/dev/null; exit 0'
dials "$seg" bash-plain-exit "direct/success=1"
echo PASS
