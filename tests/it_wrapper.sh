#!/usr/bin/env bash
# onionmeter-run as users run it and as a container entrypoint: exit status,
# death by signal, PID 1 behaviour (128+N, reaping orphans), signal
# forwarding with --exporter, and warnings for programs a preload cannot see.
set -eu
. "$(dirname "$0")/lib.sh"
om_tmpdir
export ONIONMETER_SEGMENT=$OM_TMP/seg

# exit status passes through; death by signal is death by the same signal
set +e
"$OM_RUN" -- sh -c 'exit 3'; [ $? = 3 ] || om_fail "exit status not kept"
"$OM_RUN" --report -- sh -c 'exit 4' 2>/dev/null; [ $? = 4 ] || om_fail "exit status not kept with --report"
"$OM_RUN" --report -- sh -c 'kill -TERM $$' 2>/dev/null; rc=$?
set -e
[ "$rc" = 143 ] || om_fail "a command killed by SIGTERM: wrapper exit $rc, want death by SIGTERM (143)"
echo "ok: exit status and death by signal kept"

# --exporter: SIGTERM to the wrapper reaches the command; the exporter is
# stopped after it; the command's exit status is the wrapper's
PORT=$(om_free_port)
"$OM_RUN" --exporter "127.0.0.1:$PORT" -- "$PY" -c '
import signal, socket, sys, time
socket.socket().connect_ex(("127.0.0.1", 1))  # attach: the shim attaches at the first socket
signal.signal(signal.SIGTERM, lambda *a: sys.exit(7))
open(sys.argv[1], "w").close()
time.sleep(30)' "$OM_TMP/ready" 2>/dev/null &
wpid=$!
for i in $(seq 1 100); do [ -e "$OM_TMP/ready" ] && break; sleep 0.1; done
om_wait_port 127.0.0.1 "$PORT"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -q '^onionmeter_processes 1$' || om_fail "exporter does not see the command"
kill -TERM "$wpid"
set +e
wait "$wpid"
rc=$?
set -e
[ "$rc" = 7 ] || om_fail "SIGTERM not forwarded (wrapper exit $rc, want the command's 7)"
if "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; then
	om_fail "the exporter outlived the command"
fi
echo "ok: SIGTERM forwarded, exporter stopped, status kept"

# as PID 1 of a PID namespace (a container's entrypoint).  The wrapper is a
# shell script, so the sanitizer build adds nothing here, and there the
# orphan check hangs in an ASan-preloaded ps: run it in the plain build.
if [ "${OM_SANITIZED:-0}" != 0 ]; then
	PIDNS=""
	echo "note: PID 1 behaviour is exercised in the non-sanitized build"
elif [ "$(id -u)" = 0 ] && unshare -p -f --mount-proc true 2>/dev/null; then
	PIDNS="unshare -p -f --mount-proc"
elif unshare -r -p -f --mount-proc true 2>/dev/null; then
	PIDNS="unshare -r -p -f --mount-proc"
else
	PIDNS=""
	echo "note: no PID namespace here; PID 1 behaviour not exercised"
fi
if [ -n "$PIDNS" ]; then
	set +e
	$PIDNS "$OM_RUN" --report -- sh -c 'kill -TERM $$' 2>/dev/null
	rc=$?
	set -e
	[ "$rc" = 143 ] || om_fail "as PID 1, a command killed by SIGTERM must give exit 143, got $rc"
	# an orphan reparented to PID 1 must be reaped, not left a zombie
	zombies=$($PIDNS "$OM_RUN" --report -- sh -c '(sleep 0.2 &); sleep 1; ps -eo stat= | grep -c "^Z" || true' 2>/dev/null)
	[ "$zombies" = 0 ] || om_fail "zombies left under PID 1: $zombies"
	echo "ok: PID 1 exits 128+N and reaps orphans"
fi

# programs a preload cannot instrument are named before they run
cp /bin/true "$OM_TMP/suid-true"
chmod u+s "$OM_TMP/suid-true"
"$OM_RUN" -- "$OM_TMP/suid-true" 2>"$OM_TMP/err"
grep -q 'setuid' "$OM_TMP/err" || om_fail "no warning for a setuid program"
if printf 'int main(void){return 0;}\n' | cc -static -x c - -o "$OM_TMP/static-true" 2>/dev/null; then
	"$OM_RUN" -- "$OM_TMP/static-true" 2>"$OM_TMP/err"
	grep -q 'statically linked' "$OM_TMP/err" || om_fail "no warning for a static program"
fi
if GO=$(command -v promtool); then # a Go program that Debian ships
	"$OM_RUN" -- "$GO" --version >/dev/null 2>"$OM_TMP/err"
	grep -q 'Go program' "$OM_TMP/err" || om_fail "no warning for a Go program"
fi
"$OM_RUN" -- /bin/true 2>"$OM_TMP/err"
[ ! -s "$OM_TMP/err" ] || om_fail "a warning for an ordinary program: $(cat "$OM_TMP/err")"
echo "ok: setuid, static and Go programs are named"
echo PASS
