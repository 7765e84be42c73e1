#!/usr/bin/env bash
# The last corners of a long-lived host program, each against a sink that
# counts what it received:
#  1. more than 2^20 threads over the process's life (a server starting a
#     thread per request): what the shim keeps per thread never wraps or
#     aliases a live thread, so the threads after them count exactly;
#  2. a setuid program under /etc/ld.so.preload, first to need the default
#     segment: it does not create it (root's, mode 0600, it would lock
#     the user out); the user's next program creates it and counts;
#  3. the first socket inside a signal handler on a small alternate stack
#     (and a fork from there, whose child attaches in the handler too):
#     the shim needs no more stack than the program does without it, up
#     to 1 KiB, and SIGSTKSZ (8 KiB) is enough;
#  4. the segment truncated by its own user while SIGBUS is blocked in
#     the thread that writes next (a fault on a blocked SIGBUS kills):
#     threads started after blocking every signal, a handler whose
#     sa_mask is full, a raw rt_sigprocmask.  The program lives on.
set -eu
. "$(dirname "$0")/lib.sh"
om_tmpdir
cd "$OM_TMP"
[ "${OM_SANITIZED:-0}" = 0 ] || om_skip "a million threads and stack depths are the plain build's (ASan adds its own stack and time)"

# the sink: counts what it received after the SOCKS5 handshake, when
# asked to be a proxy (a second argument), and answers with the count
SINK='
import socket, sys, threading
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(64)
def exact(c, n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x: raise EOFError
        b += x
    return b
def serve(c):
    if len(sys.argv) > 2:
        try:
            exact(c, 3); c.sendall(b"\x05\x00")
            h = exact(c, 5); exact(c, h[4] + 2)
        except EOFError:  # a readiness probe
            return c.close()
        c.sendall(b"\x05\x00\x00\x01" + bytes(6))
    n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        n += len(b)
    c.sendall(str(n).encode()); c.close()
while True:
    c, _ = ls.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()'
PORT=$(om_free_port)
LD_PRELOAD= om_bg "$PY" -c "$SINK" "$PORT"
SPORT=$(om_free_port)
LD_PRELOAD= om_bg "$PY" -c "$SINK" "$SPORT" socks
om_wait_port 127.0.0.1 "$PORT"
om_wait_port 127.0.0.1 "$SPORT"

# 1. 2^20 - 2 threads each dial once (a refused local dial takes the
#    dial's lock); then 4 at once dial an onion service through SOCKS5:
#    one of them is thread 2^20, whose 20-bit token was once 0, "free"
ONION=victim2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen.onion
CHURN=$(((1 << 20) - 2))
out=$(ONIONMETER_SEGMENT=$OM_TMP/seg ONIONMETER_PROXIES=127.0.0.1:$SPORT LD_PRELOAD=$OM_PRELOAD \
	"$OM_BUILD/tests/thread_churn" "$SPORT" "$CHURN" 4 "$ONION") || om_fail "thread_churn failed"
read -r _ acked _ w _ r <<<"$out"
[ "$acked" = 4000 ] || om_fail "the sink acknowledged '$out', want 4000"
om_expect "$OM_TMP/seg" 'onionmeter_dials_total{class="local",outcome="refused"}' "$CHURN"
om_expect "$OM_TMP/seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 4
for c in onion proxied; do
	om_expect "$OM_TMP/seg" "onionmeter_dials_total{class=\"$c\",outcome=\"aborted\"}" 0
done
om_expect "$OM_TMP/seg" 'onionmeter_bytes_total{class="onion",direction="egress"}' "$w"
om_expect "$OM_TMP/seg" 'onionmeter_bytes_total{class="onion",direction="ingress"}' "$r"
echo "ok: after $CHURN threads, 4 more dial an onion service at once: 4 successes, $w bytes out and $r in, exact"

# 2. in a private mount namespace: /etc/ld.so.preload through an overlay
#    of /etc, a private /dev/shm (the default segment lives there)
U=23461
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	mkdir -p lib etc.upper etc.work etc.merged
	for lib in ${OM_PRELOAD//:/ }; do cp "$lib" lib/; done
	chmod -R a+rX lib
	cp "$OM_BUILD/tests/thread_churn" suid_client
	chmod 4755 suid_client
	cp "$OM_BUILD/tests/thread_churn" user_client
	chmod 755 "$OM_TMP" user_client
	PORT=$PORT U=$U OM_EXPORTER=$OM_EXPORTER env -u ONIONMETER_SEGMENT -u ONIONMETER_SEGMENT_MODE \
		unshare -m bash -c '
	set -e
	mount --make-rprivate /
	mount -t overlay overlay -o lowerdir=/etc,upperdir=etc.upper,workdir=etc.work etc.merged
	ls -d "$PWD"/lib/*.so | tr "\n" " " >etc.merged/ld.so.preload
	mount --bind etc.merged /etc
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	as() { setpriv --reuid="$U" --regid="$U" --clear-groups "$@"; }
	as ./suid_client "$PORT" 0 1 >suid.out 2>suid.err || true
	ls -A /dev/shm >shm.suid
	as ./user_client "$PORT" 0 1 >user.out 2>user.err || true
	stat -c "%u %a" /dev/shm/onionmeter >shm.user 2>&1 || true
	"$OM_EXPORTER" --once --segment /onionmeter --segment-owner "$U" >user.metrics 2>exporter.err || true
	# the private /dev/shm goes with the namespace: its set must not stay
	"$OM_EXPORTER" --remove --segment /onionmeter --segment-owner "$U" 2>>exporter.err || true
	' 2>unshare.err || { cat unshare.err >&2; om_fail "the mount namespace could not be set up"; }
	[ "$(cat suid.out)" = "acked 1000 wrote 1000 read 4" ] || { cat suid.err >&2; om_fail "the setuid program under the shim: '$(cat suid.out)'"; }
	grep -q "setuid or setgid program does not create the segment" suid.err ||
		{ cat suid.err >&2; om_fail "the setuid program did not say why it runs uncounted"; }
	[ ! -s shm.suid ] || om_fail "the setuid program created $(cat shm.suid) in /dev/shm"
	[ "$(cat user.out)" = "acked 1000 wrote 1000 read 4" ] || { cat user.err >&2; om_fail "the user's program: '$(cat user.out)'"; }
	[ "$(cat shm.user)" = "$U 600" ] || om_fail "the default segment after the user's program: $(cat shm.user)"
	grep -qx 'onionmeter_dials_total{class="local",outcome="success"} 1' user.metrics &&
		grep -qx 'onionmeter_bytes_total{class="local",direction="egress"} 1000' user.metrics ||
		{ cat exporter.err >&2; om_fail "the user's program was not counted"; }
	echo "ok: a setuid program under /etc/ld.so.preload leaves the default segment to the user, whose next program creates and counts"
else
	echo "skip: the setuid row (needs root and mount namespaces)"
fi
# 3. the smallest alternate stack on which the handler's first dial (and a
#    fork's) works, without and with the shim, in steps of 512 bytes
smallest() { # [PRELOAD] [fork]
	local sz
	for sz in $(seq 2048 512 32768); do
		rm -f stack.seg
		ONIONMETER_SEGMENT=$OM_TMP/stack.seg LD_PRELOAD=$1 "$OM_BUILD/tests/altstack" "$PORT" "$sz" $2 \
			2>/dev/null && { echo "$sz"; return; }
	done
	echo never
}
for mode in "" fork; do
	bare=$(smallest "" "$mode")
	shim=$(smallest "$OM_PRELOAD" "$mode")
	[ "$bare" != never ] && [ "$shim" != never ] || om_fail "altstack ${mode:-plain}: never worked (bare $bare, shim $shim)"
	[ "$shim" -le $((bare + 1024)) ] || om_fail "altstack ${mode:-plain}: the shim needs $shim bytes of signal stack, the program alone $bare"
	[ "$shim" -le 8192 ] || om_fail "altstack ${mode:-plain}: the shim needs $shim bytes, more than SIGSTKSZ (8192)"
	# counted, exactly, at SIGSTKSZ
	rm -f stack.seg
	ONIONMETER_SEGMENT=$OM_TMP/stack.seg LD_PRELOAD=$OM_PRELOAD "$OM_BUILD/tests/altstack" "$PORT" 8192 $mode ||
		om_fail "altstack ${mode:-plain} at 8192 bytes failed"
	n=1; [ -z "$mode" ] || n=2
	om_expect "$OM_TMP/stack.seg" 'onionmeter_dials_total{class="local",outcome="success"}' "$n"
	om_expect "$OM_TMP/stack.seg" 'onionmeter_bytes_total{class="local",direction="egress"}' $((n * 100))
	echo "ok: first dial in a signal handler${mode:+ and a fork from it}: the smallest stack is $bare bytes alone, $shim with the shim; counted exactly at 8192"
done
# 4. SIGBUS blocked where the next segment write happens
for mode in threads handler raw; do
	rm -f bus.seg
	ONIONMETER_SEGMENT=$OM_TMP/bus.seg LD_PRELOAD=$OM_PRELOAD "$OM_BUILD/tests/busblock" "$PORT" "$OM_TMP/bus.seg" "$mode" \
		2>bus.err && rc=0 || rc=$?
	[ "$rc" = 0 ] || { cat bus.err >&2; om_fail "SIGBUS blocked ($mode), segment truncated: exit status $rc, want 0"; }
	[ "$(grep -c 'segment was truncated or replaced' bus.err)" = 1 ] ||
		{ cat bus.err >&2; om_fail "SIGBUS blocked ($mode): want one message that counting stopped"; }
	echo "ok: segment truncated with SIGBUS blocked ($mode): the program goes on, one message"
	# the truncated file no longer names its semaphore set: its saved header does
	ipcrm -s "$("$PY" -c 'import struct, sys; print(struct.unpack_from("<i", open(sys.argv[1], "rb").read(104), 100)[0])' bus.seg.hdr)" ||
		om_fail "SIGBUS blocked ($mode): the segment's semaphore set is gone already"
done
echo PASS
