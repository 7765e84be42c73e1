#!/usr/bin/env bash
# onionmeter-run as users run it and as a container entrypoint: exit status,
# death by signal, PID 1 behaviour (128+N, reaping orphans), signal
# forwarding with --exporter, and warnings for programs a preload cannot see.
set -eu
. "$(dirname "$0")/lib.sh"
om_tmpdir
export ONIONMETER_SEGMENT=$OM_TMP/seg

# exit status passes through exactly, with or without a supervisor; death
# by a signal is death by the same signal, and an exit 130 is no SIGINT
status_of() { # how "$@" ended: "exit N" or "signal N", as waitpid() says
	"$PY" -c 'import subprocess, sys
r = subprocess.run(sys.argv[1:], stderr=subprocess.DEVNULL).returncode
print("signal %d" % -r if r < 0 else "exit %d" % r)' "$@"
}
for mode in "" --report --fail-on-leak; do
	for code in 0 3 126 129 130 143 159 255; do
		got=$(status_of "$OM_RUN" $mode -- sh -c "exit $code")
		[ "$got" = "exit $code" ] || om_fail "onionmeter-run $mode: exit $code came back as $got"
	done
	# (the ASan runtime, preloaded in the sanitizer build, turns a SIGSEGV
	# into its report and an abort: that signal is checked in the plain one)
	sigs="INT TERM KILL USR1"
	[ "${OM_SANITIZED:-0}" != 0 ] || sigs="$sigs SEGV"
	for sig in $sigs; do
		n=$(kill -l "$sig")
		got=$(status_of "$OM_RUN" $mode -- sh -c "kill -$sig \$\$")
		[ "$got" = "signal $n" ] || om_fail "onionmeter-run $mode: death by SIG$sig came back as $got"
	done
done
got=$(status_of "$OM_RUN" --report -- /nonexistent/program)
[ "$got" = "exit 127" ] || om_fail "a command that does not exist: $got, want exit 127"
echo "ok: exit statuses 0-255 and deaths by signal kept exactly, with and without a supervisor"

# --exporter: SIGTERM to the wrapper reaches the command; the exporter is
# stopped after it; the command's exit status is the wrapper's.  Fifty
# times: the wrapper must never confuse the command's exit with a signal.
for i in $(seq 1 50); do
	rm -f "$OM_TMP/ready"
	PORT=$(om_free_port)
	"$OM_RUN" --exporter "127.0.0.1:$PORT" -- "$PY" -c '
import signal, socket, sys, time
socket.socket().connect_ex(("127.0.0.1", 1))  # attach: the shim attaches at the first socket
signal.signal(signal.SIGTERM, lambda *a: sys.exit(7))
open(sys.argv[1], "w").close()
time.sleep(3600)' "$OM_TMP/ready" 2>/dev/null &
	wpid=$!
	om_poll test -e "$OM_TMP/ready" || om_fail "iteration $i: the command never started"
	if [ "$i" = 1 ]; then
		om_wait_port 127.0.0.1 "$PORT"
		curl -s "http://127.0.0.1:$PORT/metrics" | grep -q '^onionmeter_processes 1$' ||
			om_fail "exporter does not see the command"
	fi
	kill -TERM "$wpid"
	set +e
	wait "$wpid"
	rc=$?
	set -e
	[ "$rc" = 7 ] || om_fail "iteration $i: SIGTERM not forwarded (wrapper exit $rc, want the command's 7)"
	if "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; then
		om_fail "iteration $i: the exporter outlived the command"
	fi
done
echo "ok: SIGTERM forwarded, exporter stopped, status kept, 50 times out of 50"

# --report: the command line, how it ended, a verdict, leaks grouped with
# counts, the dropped events said; --report-json the same; --fail-on-leak.
# Enforced, so that no lookup leaves this machine.
LEAKY='import socket
for i in range(300):
    try:
        socket.getaddrinfo("x%d.onion" % (i % 2), 80)
    except OSError:
        pass'
set +e
ONIONMETER_SEGMENT= "$OM_RUN" --policy onion-only --enforce --report --report-json "$OM_TMP/r.json" --fail-on-leak -- \
	"$PY" -c "$LEAKY" 2>"$OM_TMP/report"
rc=$?
set -e
[ "$rc" = 3 ] || om_fail "--fail-on-leak: exit $rc after 300 leaks, want 3"
grep -q "^  command: $PY -c 'import socket" "$OM_TMP/report" || om_fail "no command line in the report"
grep -q '^  exit: status 0$' "$OM_TMP/report" || om_fail "no exit status in the report"
grep -q '^verdict: 300 leaks of 1 kind under onion-only (enforced): 300 blocked, 0 let through$' "$OM_TMP/report" ||
	{ cat "$OM_TMP/report" >&2; om_fail "wrong verdict"; }
[ "$(grep -c ' x onion_dns blocked -> x[01].onion$' "$OM_TMP/report")" = 2 ] ||
	{ cat "$OM_TMP/report" >&2; om_fail "events not grouped into two lines"; }
grep -q '^  44 earlier event(s) not kept' "$OM_TMP/report" || om_fail "dropped events not said"
"$PY" - "$OM_TMP/r.json" <<'PY' || om_fail "--report-json is wrong"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit"] == {"status": 0} and r["leaks"] == 300, r
s = r["segments"][0]
assert s["events_dropped"] == 44 and sum(e["count"] for e in s["events"]) == 256, s["events"]
assert s["policies"] == [{"policy": "onion-only", "enforce": True}], s["policies"]
PY
set +e
ONIONMETER_SEGMENT= "$OM_RUN" --fail-on-leak -- sh -c 'exit 5'
rc=$?
set -e
[ "$rc" = 5 ] || om_fail "--fail-on-leak must keep a failing command's status ($rc)"
"$OM_RUN" --enforce --report -- "$PY" -c 'import socket
try:
    socket.getaddrinfo("a" * 60 + ".b" * 10 + ".onion", 80)
except OSError:
    pass' 2>"$OM_TMP/report"
grep -q '(name cut at 63 characters)' "$OM_TMP/report" || { cat "$OM_TMP/report" >&2; om_fail "a cut name is not marked"; }
echo "ok: report verdict, grouping, dropped events, cut names, JSON and --fail-on-leak"

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
	# an orphan reparented to PID 1 must be reaped, not left a zombie: it
	# disappears from the process list (a zombie stays listed until reaped)
	cp "$(command -v sleep)" "$OM_TMP/orphan-sleep"
	left=$($PIDNS "$OM_RUN" --report -- sh -c '("$1" 0.2 &); end=$(($(date +%s) + $2))
while ps -eo comm= | grep -qx orphan-sleep && [ "$(date +%s)" -lt "$end" ]; do sleep 0.05; done
ps -eo stat=,comm= | grep -c "orphan-sleep" || true' sh "$OM_TMP/orphan-sleep" "$OM_WAIT" 2>/dev/null)
	[ "$left" = 0 ] || om_fail "the orphan was left under PID 1 (not reaped): $left"
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

# a command that cannot run: said as a shell would, with its status
out=$("$OM_RUN" -- nosuchcmd-onionmeter 2>&1) && rc=0 || rc=$?
[ "$rc" = 127 ] && [ "$out" = "onionmeter-run: nosuchcmd-onionmeter: command not found" ] ||
	om_fail "missing command: status $rc, '$out'"
echo 'echo hi' >"$OM_TMP/notexec"
chmod 644 "$OM_TMP/notexec"
out=$("$OM_RUN" --report -- "$OM_TMP/notexec" 2>&1) && rc=0 || rc=$?
[ "$rc" = 126 ] && [ "$out" = "onionmeter-run: $OM_TMP/notexec: not an executable file" ] ||
	om_fail "non-executable: status $rc, '$out'"
# the report's command line is one a shell runs as the same command
cd "$OM_TMP"
"$OM_RUN" --report -- sh -c 'printf "%s|" "$@" >"$0"' args.out 'a b' "it's" 'back\slash' '$HOME' 2>report.txt
cmd=$(sed -n 's/^  command: //p' report.txt)
want=$(cat args.out)
rm args.out
eval "$cmd"
[ "$(cat args.out)" = "$want" ] || om_fail "the report's command line ($cmd) runs as another command: $(cat args.out), want $want"
echo "ok: missing (127) and non-executable (126) commands said plainly; the report's command line runs as typed: $cmd"
echo PASS
