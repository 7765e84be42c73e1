#!/usr/bin/env bash
# The exporter under hostile clients and a hostile segment writer: clients
# that pipeline requests and never read, slowloris, garbage, header floods
# and a connection flood, while another process keeps rewriting the
# segment's header.  A real curl scrape must be answered every time within
# one request timeout, and the exporter must survive it all.
set -eu
. "$(dirname "$0")/lib.sh"
om_need curl
om_tmpdir
seg=$OM_TMP/seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c 'import socket; socket.socket().connect_ex(("127.0.0.1", 1))'
PORT=$(om_free_port)
LD_PRELOAD= "$OM_EXPORTER" --listen "127.0.0.1:$PORT" --segment "$seg" 2>"$OM_TMP/exporter.err" &
EXP=$!
OM_PIDS="$OM_PIDS $EXP"
om_wait_port 127.0.0.1 "$PORT"
# attached before the header goes wild (a header read while flipped is
# rightly refused at attach)
curl -s "http://127.0.0.1:$PORT/metrics" | grep -q '^onionmeter_segment_up 1$' || om_fail "not attached"

# A scraper still between its connect and its request keeps its place
# while 300 silent connections come after it: the oldest silent one goes
# first at the cap, so the cap must be far above what a flood makes in a
# busy scraper's gap.  The scrape through B, made after the 300, is
# answered only once the exporter has taken all of them in.
"$PY" - "$PORT" <<'PY' || om_fail "a scraper between connect and request was evicted by 300 silent connections"
import socket, sys
port = int(sys.argv[1])
req = b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
def answered(s):
    s.settimeout(10)
    return s.recv(100).startswith(b"HTTP/1.1 200")
a = socket.create_connection(("127.0.0.1", port))
silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
b = socket.create_connection(("127.0.0.1", port))
b.sendall(req)
assert answered(b), "B"
a.sendall(req)
sys.exit(0 if answered(a) else 1)
PY
echo "ok: a scraper slow to send its request outlived 300 silent connections"

# the header flipper: every geometry field, over and over.  If the test
# ends before it does, the header is put back first, or the cleanup's
# --remove would refuse the segment and leave its semaphore set behind.
head -c 256 "$seg" >"$OM_TMP/header"
trap 'om_stop "${FLIP:-}"; dd if="$OM_TMP/header" of="$seg" conv=notrunc status=none || true; om_cleanup' EXIT
"$PY" - "$seg" <<'PY' &
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 4096)
orig = m[:256]
end = time.time() + 14
i = 0
while time.time() < end:
    off = [8, 16, 24, 28, 32, 48, 56, 64, 72, 80, 96, 100, 104, 112, 120][i % 15]
    m[off:off + 4] = [b"\xff\xff\xff\xff", b"\0\0\0\0", b"\x10\0\0\0"][i // 15 % 3]
    i += 1
    if i % 50 == 0:
        m[:256] = orig
    time.sleep(0.001)
m[:256] = orig
PY
FLIP=$!
OM_PIDS="$OM_PIDS $FLIP"

# the hostile clients, in one process
"$PY" - "$PORT" "$OM_TMP/hostile.ready" <<'PY' &
import socket, sys, threading, time
port, ready = int(sys.argv[1]), sys.argv[2]
def conn():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # read nothing, hold little
    s.connect(("127.0.0.1", port))
    return s
held = []
def attempt(f):
    try:
        f()
    except OSError:
        pass    # evicted or refused: that is the exporter defending itself
for _ in range(80):   # pipeline requests, never read an answer
    attempt(lambda: (lambda s: (held.append(s), s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n" * 200)))(conn()))
for _ in range(20):   # garbage
    attempt(lambda: (lambda s: (held.append(s), s.sendall(b"\x00\xff" * 500)))(conn()))
for _ in range(20):   # header floods
    attempt(lambda: (lambda s: (held.append(s), s.sendall(b"GET / HTTP/1.1\r\n" + b"X-A: " + b"a" * 9000 + b"\r\n")))(conn()))
slow = []
for _ in range(30):   # slowloris
    try:
        s = conn(); slow.append(s); held.append(s)
    except OSError:
        pass
def flood():           # new connections as fast as they go
    end = time.time() + 12
    while time.time() < end:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=1)
            held.append(s)
            if len(held) > 2000:
                for x in held[:500]:
                    x.close()
                del held[:500]
        except OSError:
            time.sleep(0.01)
threading.Thread(target=flood, daemon=True).start()
open(ready, "w").close()
end = time.time() + 13
while time.time() < end:
    for s in slow:
        try:
            s.send(b"G")
        except OSError:
            pass
    time.sleep(0.5)
PY
HOSTILE=$!
OM_PIDS="$OM_PIDS $HOSTILE"
om_wait_file "$OM_TMP/hostile.ready"

# scrapes, for longer than one request timeout (10 s)
ok=0
for i in $(seq 1 40); do
	code=$(curl -s -m 11 -o "$OM_TMP/m.txt" -w '%{http_code}' "http://127.0.0.1:$PORT/metrics") ||
		code="fail (curl exit $?)"
	[ "$code" = 200 ] || om_fail "scrape $i under attack: $code"
	grep -q '^onionmeter_segment_up 1$' "$OM_TMP/m.txt" || om_fail "scrape $i: segment not up: $(grep segment_up "$OM_TMP/m.txt")"
	ok=$((ok + 1))
	sleep 0.3
done
kill -0 "$EXP" 2>/dev/null || om_fail "the exporter died"
wait "$FLIP" 2>/dev/null || true
rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$EXP/status")
[ "${OM_SANITIZED:-0}" != 0 ] || [ "$rss" -lt 65536 ] || om_fail "exporter RSS $rss kB after the attack"
echo "ok: $ok scrapes answered under attack (pipeliners, slowloris, garbage, header floods, connection flood, header flipper); RSS ${rss} kB"
echo PASS
