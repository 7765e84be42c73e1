#!/usr/bin/env bash
# The segment is hostile input.  A victim program (uid VICTIM) runs under
# the shim against segments that another local user (uid ATTACKER) owns,
# links, plants or rewrites, and against its own segment truncated,
# replaced or rewritten while it runs.  Every victim must run to its
# normal exit with its own output and status, no file but the segment may
# change, and where counting goes on the counts must stay exact.
set -eu
. "$(dirname "$0")/lib.sh"
om_as_root "to run programs as other users" "$@"
om_tmpdir
# Two uids of this run's own, no process's and owning no semaphore set:
# the cleanup below removes every set they own, and two suites running at
# once (root's and a sudo user's) must not remove each other's.  Fixed
# uids did: one run's cleanup took the other's sets, whose ipcrm then
# failed, and its PASS became exit status 123.
uid_free() {
	! ps -eo uid= | grep -qx " *$1" &&
		! ipcs -s | awk -v u="$1" '$3 == u { f = 1 } END { exit !f }'
}
VICTIM=$((30000 + $$ % 4000 * 2))
while ! uid_free "$VICTIM" || ! uid_free $((VICTIM + 1)); do
	VICTIM=$((VICTIM + 2))
done
ATTACKER=$((VICTIM + 1))
# segments truncated or replaced here lost the header that names their
# semaphore sets: remove every set of the test's own two uids (one may go
# on its own meanwhile: a victim's exporter --remove)
cleanup() {
	om_cleanup
	ipcs -s | awk -v a="$VICTIM" -v b="$ATTACKER" '$3 == a || $3 == b { print $2 }' |
		while read -r id; do ipcrm -s "$id" 2>/dev/null || true; done
}
trap cleanup EXIT
chmod 755 "$OM_TMP"
as() { # UID [GROUPS] -- CMD...
	local uid=$1 groups=$2
	shift 3
	setpriv --reuid="$uid" --regid="$uid" --groups="$groups" "$@"
}
# the preload must be readable by the victim; its runtime too (ASan build)
mkdir "$OM_TMP/lib"
PRELOAD=
for lib in ${OM_PRELOAD//:/ }; do
	cp "$lib" "$OM_TMP/lib/"
	PRELOAD=${PRELOAD:+$PRELOAD:}$OM_TMP/lib/$(basename "$lib")
done
chmod -R a+rX "$OM_TMP/lib"
install -d -o "$VICTIM" -g "$VICTIM" -m 755 "$OM_TMP/victim"
install -d -m 1777 "$OM_TMP/shared" # like /tmp or /dev/shm: anyone can plant files

# ground truth: a sink that counts what it received, per connection
PORT=$(om_free_port)
om_bg "$PY" -c '
import socket, sys, threading
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(64)
def serve(c):
    n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        n += len(b)
    c.sendall(str(n).encode()); c.close()
while True:
    c, _ = ls.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()' "$PORT"
om_wait_port 127.0.0.1 "$PORT"

# The victim: CONNS connections of 1000 bytes each, every SLEEP seconds,
# and one lookup of a .onion name (a leak event, refused: it never reaches
# DNS).  With HOLD, it waits after its first connection (it has attached)
# until the file HOLD exists: what the test does to the segment then
# happens while the victim is attached and before it goes on.  Prints what
# the sink acknowledged and exits 3.
cat >"$OM_TMP/victim.py" <<'PY'
import os, socket, sys, time
port, conns, pause = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
hold = sys.argv[4] if len(sys.argv) > 4 else None
try:
    socket.getaddrinfo("victim2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen.onion", 80)
except socket.gaierror:
    pass
acked = 0
for i in range(conns):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"v" * 1000)
    s.shutdown(socket.SHUT_WR)
    acked += int(s.recv(100))
    s.close()
    while hold and i == 0 and not os.path.exists(hold):
        time.sleep(0.02)
    time.sleep(pause)
print("acked", acked)
sys.exit(3)
PY
chmod 644 "$OM_TMP/victim.py"

# run_victim NAME SEGMENT CONNS PAUSE [HOLD]: runs the victim under the
# shim as VICTIM; checks status and output against the run without the
# shim.
baseline() { as "$VICTIM" "$VICTIM" -- "$PY" "$OM_TMP/victim.py" "$PORT" "$1" 0; }
run_victim() {
	local name=$1 seg=$2 conns=$3 pause=$4 hold=${5:-} out rc
	set +e
	out=$(as "$VICTIM" "$VICTIM" -- env LD_PRELOAD="$PRELOAD" ONIONMETER_SEGMENT="$seg" \
		ONIONMETER_ENFORCE=1 ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		timeout $((OM_WAIT + 60)) "$PY" "$OM_TMP/victim.py" "$PORT" "$conns" "$pause" $hold \
		2>"$OM_TMP/$name.err")
	rc=$?
	set -e
	[ "$rc" = 3 ] || { cat "$OM_TMP/$name.err" >&2; om_fail "$name: victim exit status $rc, want 3"; }
	[ "$out" = "acked $((conns * 1000))" ] || om_fail "$name: victim output '$out'"
	# at most one complaint about the segment; the enforced lookup is
	# refused, and says so, whatever the segment
	[ "$(grep '^onionmeter: ' "$OM_TMP/$name.err" | grep -vc ' msg=refused kind=onion_dns ' || true)" -le 1 ] ||
		{ cat "$OM_TMP/$name.err" >&2; om_fail "$name: more than one message"; }
	grep -q ' msg=refused kind=onion_dns dest=victim' "$OM_TMP/$name.err" ||
		{ cat "$OM_TMP/$name.err" >&2; om_fail "$name: the refused lookup was not said"; }
	! grep -v '^onionmeter: ' "$OM_TMP/$name.err" | grep -q . ||
		{ cat "$OM_TMP/$name.err" >&2; om_fail "$name: unexpected stderr"; }
}
expect_msg() { # NAME WORDS: the one message says this
	grep -q "^onionmeter: .*$2" "$OM_TMP/$1.err" ||
		{ cat "$OM_TMP/$1.err" >&2; om_fail "$1: want a message about '$2'"; }
}
hash_of() { sha256sum "$@" 2>/dev/null | awk '{print $1}' | tr '\n' ' '; }

[ "$(baseline 2)" = "acked 2000" ] || om_fail "the victim does not work without the shim"

# 1. files the victim must refuse, planted by another user
echo precious >"$OM_TMP/victim/precious"
chown "$VICTIM:$VICTIM" "$OM_TMP/victim/precious"
before=$(hash_of "$OM_TMP/victim/precious")
# a valid segment that the attacker made and owns, and opened to all
as "$ATTACKER" "$ATTACKER" -- env LD_PRELOAD="$PRELOAD" ONIONMETER_SEGMENT="$OM_TMP/shared/owned" \
	ONIONMETER_SEGMENT_MODE=0644 "$PY" -c 'import socket; socket.socket().connect_ex(("127.0.0.1", 1))'
as "$ATTACKER" "$ATTACKER" -- chmod 666 "$OM_TMP/shared/owned"
owned=$(hash_of "$OM_TMP/shared/owned")
run_victim owned "$OM_TMP/shared/owned" 2 0
expect_msg owned "belongs to another user"
[ "$(hash_of "$OM_TMP/shared/owned")" = "$owned" ] || om_fail "the victim wrote into the attacker's segment"
as "$ATTACKER" "$ATTACKER" -- ln -s "$OM_TMP/victim/precious" "$OM_TMP/shared/link"
run_victim link "$OM_TMP/shared/link" 2 0
expect_msg link "symbolic link"
as "$ATTACKER" "$ATTACKER" -- ln -s "$OM_TMP/victim/made-by-victim" "$OM_TMP/shared/dangling"
run_victim dangling "$OM_TMP/shared/dangling" 2 0
expect_msg dangling "symbolic link"
[ ! -e "$OM_TMP/victim/made-by-victim" ] || om_fail "the victim created a file through a dangling symlink"
as "$ATTACKER" "$ATTACKER" -- mkfifo -m 666 "$OM_TMP/shared/fifo"
run_victim fifo "$OM_TMP/shared/fifo" 2 0
expect_msg fifo "not a regular file"
as "$ATTACKER" "$ATTACKER" -- mkdir "$OM_TMP/shared/dir"
run_victim dir "$OM_TMP/shared/dir" 2 0
expect_msg dir "directory"
[ "$(hash_of "$OM_TMP/victim/precious")" = "$before" ] || om_fail "the victim's file changed"
echo "ok: another user's segment, symlinks (to a victim file, dangling), a FIFO, a directory: refused"

# 1b. the exporter knows whose segment it reads: a valid segment the
#     attacker planted where anyone can write (as at /dev/shm/onionmeter
#     before any victim came) is refused, and it says whose it is
as "$ATTACKER" "$ATTACKER" -- env LD_PRELOAD="$PRELOAD" ONIONMETER_SEGMENT="$OM_TMP/shared/planted" \
	ONIONMETER_SEGMENT_MODE=0644 "$PY" -c 'import socket; socket.socket().connect_ex(("127.0.0.1", 1))'
! LD_PRELOAD= "$OM_EXPORTER" --once --segment "$OM_TMP/shared/planted" >"$OM_TMP/planted.out" 2>"$OM_TMP/planted.err" ||
	om_fail "the exporter read a segment the attacker planted"
grep -q "owned by uid $ATTACKER, in a directory others can write" "$OM_TMP/planted.err" ||
	{ cat "$OM_TMP/planted.err" >&2; om_fail "the exporter does not say whose the planted segment is"; }
grep -q '^onionmeter_segment_up 0$' "$OM_TMP/planted.out" || om_fail "the planted segment is not reported down"
! grep -q '^onionmeter_processes ' "$OM_TMP/planted.out" || om_fail "the planted segment's values were served"
# named by the operator, or in a directory only its owner writes (a
# RuntimeDirectory), the same file is read
LD_PRELOAD= "$OM_EXPORTER" --once --segment-owner "$ATTACKER" --segment "$OM_TMP/shared/planted" >/dev/null ||
	om_fail "--segment-owner does not make the segment trusted"
install -d -o "$ATTACKER" -g "$ATTACKER" -m 755 "$OM_TMP/attacker"
cp -p "$OM_TMP/shared/planted" "$OM_TMP/attacker/seg"
LD_PRELOAD= "$OM_EXPORTER" --once --segment "$OM_TMP/attacker/seg" >/dev/null ||
	om_fail "a segment in its owner's own directory is refused"
# writable by others: refused whoever owns it
cp "$OM_TMP/shared/planted" "$OM_TMP/open.seg"
chmod 666 "$OM_TMP/open.seg"
! LD_PRELOAD= "$OM_EXPORTER" --once --segment "$OM_TMP/open.seg" >/dev/null 2>"$OM_TMP/open.err" ||
	om_fail "the exporter read a segment anyone can write"
grep -q "writable by group or others" "$OM_TMP/open.err" || om_fail "the exporter does not say why it refused a 0666 segment"
echo "ok: the exporter refuses a planted segment (owned by uid $ATTACKER in a shared directory) and one anyone can write, and says so"

# 2. the victim's own files that are not segments
head -c 200000 /dev/urandom >"$OM_TMP/victim/random"
chown "$VICTIM" "$OM_TMP/victim/random"
run_victim random "$OM_TMP/victim/random" 2 0
expect_msg random "bad magic"
as "$VICTIM" "$VICTIM" -- env LD_PRELOAD="$PRELOAD" ONIONMETER_SEGMENT="$OM_TMP/victim/short" \
	"$PY" -c 'import socket; socket.socket().connect_ex(("127.0.0.1", 1))'
cp "$OM_TMP/victim/short" "$OM_TMP/victim/short.full"
for size in 100 4096 20000; do
	cp "$OM_TMP/victim/short.full" "$OM_TMP/victim/short"
	truncate -s "$size" "$OM_TMP/victim/short"
	run_victim "short$size" "$OM_TMP/victim/short" 2 0
	expect_msg "short$size" "smaller\|size"
done
echo "ok: random bytes, segments truncated to 100, 4096 and 20000 bytes: refused"

# 3. under a live victim: every field of the header rewritten, the ring's
#    position and the slot's marks made absurd.  The victim goes on
#    counting through its own copy of the geometry; with the header put
#    back, the counts equal what the sink received.
seg=$OM_TMP/victim/flip
as "$VICTIM" "$VICTIM" -- env LD_PRELOAD="$PRELOAD" ONIONMETER_SEGMENT="$seg" \
	"$PY" -c 'import socket; socket.socket().connect_ex(("127.0.0.1", 1))'
cp "$seg" "$OM_TMP/flip.header"
run_victim flip "$seg" 20 0.1 "$OM_TMP/flip.go" &
vpid=$!
# flip only once the victim has attached (reading a flipped header, it
# would rightly refuse the segment); flip until it has finished
om_wait_metric "$seg" onionmeter_processes 1
"$PY" - "$seg" "$OM_TMP/flip.stop" "$OM_TMP/flip.go" <<'PY' &
import mmap, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 4096)
orig = m[:4096]
# (offset, size) of every header field: magic, version, header_size, size,
# nslots, slot_size, tblocks, tblock_size, pblock_size, nrecs, the four
# offsets, ring geometry, created, semaphore key and id, ready, ring head,
# slot mark
fields = [(0, 8), (8, 4), (12, 4), (16, 8), (24, 4), (28, 4), (32, 4), (36, 4), (40, 4),
          (44, 4), (48, 8), (56, 8), (64, 8), (72, 8), (80, 4), (84, 4), (88, 8), (96, 4),
          (100, 4), (104, 8), (112, 8), (120, 8)]
# and the victim's slot head (slot 0, the lowest free): its thread-block mark
slots_off = struct.unpack_from("<Q", orig, 56)[0]
fields.append((slots_off + 52, 4))
s = mmap.mmap(fd, slots_off + 4096)
orig_head = s[slots_off:slots_off + 64]
i = 0
while not os.path.exists(sys.argv[2]):
    off, size = fields[i % len(fields)]
    val = [0, 1, 0xFF, (1 << (8 * size)) - 1, 0x7FFFFFF0][i // len(fields) % 5]
    s[off:off + size] = (val & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    if off < 4096:
        m[off:off + size] = s[off:off + size]
    i += 1
    if i == len(fields):
        open(sys.argv[3], "w").close()  # every field flipped once: the victim goes on
    time.sleep(0.002)
m[:4096] = orig
s[slots_off + 52:slots_off + 56] = orig_head[52:56]
PY
fpid=$!
# the exporter scrapes throughout: it must not crash either
while ! om_gone "$vpid"; do LD_PRELOAD= "$OM_EXPORTER" --once --segment "$seg" >/dev/null 2>&1 || true; sleep 0.1; done
wait "$vpid" || om_fail "the victim failed while its header was rewritten"
touch "$OM_TMP/flip.stop"
wait "$fpid" || om_fail "the header flipper failed"
LD_PRELOAD= "$OM_EXPORTER" --once --segment "$seg" >/dev/null || om_fail "the exporter cannot read the restored segment"
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' 20000
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="success"}' 20
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="refused"}' 1
om_expect "$seg" 'onionmeter_leaks_total{kind="onion_dns",action="blocked"}' 1
echo "ok: every header field rewritten under a live victim: it ran on, and counted exactly"

# 4. truncated or replaced under a live victim: it detaches, says so once,
#    and runs on
for how in truncate0 redirect truncate4096 copy; do
	seg=$OM_TMP/victim/cut-$how
	run_victim "cut-$how" "$seg" 10 0.1 "$OM_TMP/cut-$how.go" &
	vpid=$!
	om_wait_metric "$seg" onionmeter_processes 1
	case $how in
	truncate0) truncate -s 0 "$seg" ;;
	redirect) : >"$seg" ;;
	truncate4096) truncate -s 4096 "$seg" ;;
	copy) cp "$OM_TMP/victim/random" "$seg" ;;
	esac
	touch "$OM_TMP/cut-$how.go"
	wait "$vpid" || om_fail "cut-$how: the victim failed"
	# cp truncates, then writes: the victim, held until cp is done, stores
	# into the new content (no harm), or detaches where the store faults
	[ "$how" = copy ] || expect_msg "cut-$how" "truncated or replaced"
done
echo "ok: truncated to 0 and to 4096, emptied by a redirect, another file copied over: victims detached and ran on"

# 5. fork after the program closed every descriptor and reused the
#    numbers, with and without /proc: the child claims a slot of its own
#    and never writes anywhere but the segment
cat >"$OM_TMP/forker.py" <<'PY'
import os, socket, sys
port, data = int(sys.argv[1]), sys.argv[2]
def send(n):
    s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"f" * n)
    s.shutdown(socket.SHUT_WR); assert int(s.recv(100)) == n; s.close()
send(100)                                   # attached
os.closerange(3, 65536)                     # a daemon's clean sweep
f = os.open(data, os.O_RDWR)                # the numbers, reused
pid = os.fork()
if pid == 0:
    send(200)
    os._exit(0)
_, st = os.waitpid(pid, 0)
assert st == 0, st
send(300)
print("forked")
PY
procs="with without"
if [ "${OM_SANITIZED:-0}" != 0 ]; then
	procs=with # the ASan runtime itself cannot start without /proc
	echo "note: fork without /proc runs in the plain build only"
fi
for proc in $procs; do
	seg=$OM_TMP/victim/fork-$proc
	echo "the data" >"$OM_TMP/victim/data"
	chown "$VICTIM" "$OM_TMP/victim/data"
	before=$(hash_of "$OM_TMP/victim/data")
	cmd=(env LD_PRELOAD="$PRELOAD" ONIONMETER_SEGMENT="$seg" "$PY" "$OM_TMP/forker.py" "$PORT" "$OM_TMP/victim/data")
	if [ "$proc" = with ]; then
		out=$(as "$VICTIM" "$VICTIM" -- "${cmd[@]}")
	else
		out=$(unshare -m sh -c 'mount -t tmpfs none /proc && exec "$@"' sh \
			setpriv --reuid="$VICTIM" --regid="$VICTIM" --clear-groups "${cmd[@]}")
	fi
	[ "$out" = forked ] || om_fail "fork $proc /proc: $out"
	[ "$(hash_of "$OM_TMP/victim/data")" = "$before" ] || om_fail "fork $proc /proc: the data file changed"
	om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' 600
	om_expect "$seg" onionmeter_segment_slots_used 2
done
echo "ok: fork after closerange and fd reuse, $procs /proc"

# 6. a user who can only read the segment (0644, and 0640 through its
#    group) locks every byte of it and tries the semaphores: victims still
#    attach, liveness stays true, counts stay exact
for mode in 0644 0640; do
	seg=$OM_TMP/victim/ro-$mode
	as "$VICTIM" "$VICTIM" -- env LD_PRELOAD="$PRELOAD" ONIONMETER_SEGMENT="$seg" \
		ONIONMETER_SEGMENT_MODE=$mode "$PY" -c 'import socket; socket.socket().connect_ex(("127.0.0.1", 1))'
	as "$ATTACKER" "$VICTIM" -- "$PY" - "$seg" "$OM_TMP/shared/locked-$mode" "$OM_TMP/ro-$mode.end" "$OM_WAIT" <<'PY' &
import fcntl, os, struct, sys, time
seg, ready, done, bound = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
try:
    os.open(seg, os.O_RDWR)
    sys.exit("the segment is writable by another user")
except PermissionError:
    pass
fd = os.open(seg, os.O_RDONLY)
for cmd in (fcntl.F_OFD_SETLK, fcntl.F_SETLK):
    # F_RDLCK over the whole file, l_start 0, l_len 0 (to the end)
    fcntl.fcntl(fd, cmd, struct.pack("hhqqi", fcntl.F_RDLCK, 0, 0, 0, 0))
hdr = os.pread(fd, 128, 0)
sem_id = struct.unpack_from("<i", hdr, 100)[0]
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
buf = (ctypes.c_short * 3)(0, 1, 0o4000)   # sem 0 += 1, IPC_NOWAIT
if libc.semop(sem_id, buf, 1) == 0:
    sys.exit("another user raised a liveness semaphore")
open(ready, "w").close()
end = time.time() + bound
while not os.path.exists(done) and time.time() < end:  # hold them while the victims run
    time.sleep(0.05)
PY
	apid=$!
	om_poll test -e "$OM_TMP/shared/locked-$mode" || om_fail "$mode: the attacker did not get its locks"
	# five victims attach and hold: all five must read as live
	vpids=""
	for i in 1 2 3 4 5; do
		run_victim "ro-$mode-$i" "$seg" 6 0.2 "$OM_TMP/ro-$mode.go" &
		vpids="$vpids $!"
	done
	om_poll _om_metric_is "$seg" onionmeter_processes 5 ||
		om_fail "$mode: $(om_metric "$seg" onionmeter_processes) live processes while 5 victims hold their slots (readers' locks must not matter)"
	touch "$OM_TMP/ro-$mode.go"
	for p in $vpids; do wait "$p" || om_fail "$mode: a victim failed"; done
	om_expect "$seg" onionmeter_processes 0
	om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' 30000
	touch "$OM_TMP/ro-$mode.end"
	wait "$apid" || om_fail "$mode: the attacker's locks and semop"
done
echo "ok: read locks on every byte and semop by a reader: no effect on attach, liveness or counts"
echo PASS
