#!/usr/bin/env bash
# The exporter over real HTTP: endpoints, status codes, keep-alive, content
# negotiation, promtool on both formats, a segment that appears late.
set -eu
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || om_skip "promtool not installed (Debian package prometheus)"
om_tmpdir
cd "$OM_TMP"
seg=$OM_TMP/seg
PORT=$(om_free_port)
BASE=http://127.0.0.1:$PORT

LD_PRELOAD= "$OM_EXPORTER" --listen "127.0.0.1:$PORT" --listen "[::1]:$PORT" --segment "$seg" 2>"$OM_TMP/exporter.err" &
EXPORTER_PID=$!
OM_PIDS="$OM_PIDS $EXPORTER_PID"
om_wait_port 127.0.0.1 "$PORT"

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# no segment yet: alive, not ready, and says so in the metrics
[ "$(status "$BASE/-/healthy")" = 200 ] || om_fail "/-/healthy"
[ "$(status "$BASE/-/ready")" = 503 ] || om_fail "/-/ready before the segment exists"
curl -s "$BASE/metrics" | grep -qx 'onionmeter_segment_up 0' || om_fail "segment_up 0 expected"

# a program attaches: the exporter picks the segment up
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1]).read()' "$BASE/"
[ "$(status "$BASE/-/ready")" = 200 ] || om_fail "/-/ready after the segment appeared"
curl -s "$BASE/metrics" >m.txt
grep -qx 'onionmeter_segment_up 1' m.txt || om_fail "segment_up 1 expected"
grep -qx 'onionmeter_dials_total{class="local",outcome="success"} 1' m.txt || om_fail "the curl dial is missing"
grep -q '^process_resident_memory_bytes ' m.txt || om_fail "process metrics missing"
promtool check metrics <m.txt || om_fail "promtool rejects the Prometheus text format"
echo "ok: promtool accepts text format"

# content types and OpenMetrics negotiation, as Prometheus asks
ct=$(curl -s -o /dev/null -w '%{content_type}' "$BASE/metrics")
[ "$ct" = "text/plain; version=0.0.4; charset=utf-8" ] || om_fail "content type: $ct"
curl -s -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' \
	-D om.hdr "$BASE/metrics" >om.txt
grep -qi '^content-type: application/openmetrics-text; version=1.0.0; charset=utf-8' om.hdr || om_fail "openmetrics content type"
[ "$(tail -1 om.txt)" = "# EOF" ] || om_fail "openmetrics must end with # EOF"
grep -q '^# TYPE onionmeter_dials counter$' om.txt || om_fail "openmetrics counter family name"
# promtool lints only the 0.0.4 text format; the reference OpenMetrics
# parser (prometheus_client) is strict about the rest
"$PY" -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
assert fams["onionmeter_dials"].type == "counter"
assert fams["onionmeter_dial_duration_seconds"].type == "histogram"
' om.txt || om_fail "OpenMetrics output does not parse"
echo "ok: OpenMetrics served on request"

# q-values decide (RFC 9110): q=0 refuses OpenMetrics, a higher q for
# text wins, equal q goes to the one listed first
ctype() { curl -s -o /dev/null -w '%{content_type}' -H "Accept: $1" "$BASE/metrics"; }
case $(ctype 'application/openmetrics-text;version=1.0.0;q=0,text/plain;version=0.0.4') in
text/plain*) ;; *) om_fail "openmetrics-text;q=0 still got OpenMetrics" ;; esac
case $(ctype 'application/openmetrics-text;q=0.4,text/plain;q=0.5') in
text/plain*) ;; *) om_fail "a higher q for text/plain lost" ;; esac
case $(ctype 'text/plain, application/openmetrics-text') in
text/plain*) ;; *) om_fail "equal q: the first listed must win" ;; esac
case $(ctype 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1') in
application/openmetrics-text*) ;; *) om_fail "Prometheus's own Accept header did not get OpenMetrics" ;; esac
echo "ok: Accept q-values honoured"
grep -Eq '^onionmeter_build_info\{version="[0-9.]+",revision="[^"]+"\} 1$' m.txt || om_fail "build_info without version and revision"

# methods, paths, malformed requests
[ "$(status "$BASE/nope")" = 404 ] || om_fail "404"
[ "$(status -X POST "$BASE/metrics")" = 405 ] || om_fail "405"
[ "$(status -I "$BASE/metrics")" = 200 ] || om_fail "HEAD"
[ "$(curl -s -I "$BASE/metrics" | grep -ci '^content-length: 0')" = 0 ] || om_fail "HEAD must report the GET length"
[ "$(status "$BASE/metrics?x=1")" = 200 ] || om_fail "query string"
printf 'GARBAGE\r\n\r\n' >bad.req
resp=$("$PY" - "$PORT" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n")
data = b""
while data.count(b"HTTP/1.1 200") < 2:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.count(b"HTTP/1.1 200"))
s2 = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s2.sendall(b"GARBAGE\r\n\r\n")
print(s2.recv(100).split(b"\r\n")[0].decode())
PY
)
[ "$(echo "$resp" | head -1)" = 2 ] || om_fail "pipelined keep-alive requests: $resp"
[ "$(echo "$resp" | tail -1)" = "HTTP/1.1 400 Bad Request" ] || om_fail "malformed request: $resp"
echo "ok: keep-alive, pipelining, 400/404/405, HEAD"

# IPv6 listener
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://[::1]:$PORT/-/healthy")" = 200 ] || om_fail "[::1] listener"

# hundreds of idle connections and garbage senders do not stop a scrape
"$PY" - "$PORT" <<'PY' || om_fail "a scrape failed under idle and garbage connections"
import socket, sys, urllib.request
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
junk = []
for i in range(50):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"\x00\xffGET" * (10 if i % 2 else 3000))  # half stall, half overflow
    junk.append(s)
for _ in range(5):
    body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read()
    assert b"onionmeter_segment_up 1" in body
print("ok: 5 scrapes answered with 350 hostile connections open")
PY
[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/-/healthy")" = 200 ] || om_fail "exporter unhealthy afterwards"

# several segments: every series carries a segment label
seg2=$OM_TMP/seg2
ONIONMETER_SEGMENT=$seg2 "$OM_RUN" -- "$PY" -c 'import socket; s = socket.socket(); s.connect_ex(("127.0.0.1", 1))'
LD_PRELOAD= "$OM_EXPORTER" --once --segment "$seg" --segment "$seg2" --segment "$OM_TMP/absent" >multi.txt && om_fail "--once must fail with a segment down"
grep -qx "onionmeter_dials_total{segment=\"$seg\",class=\"local\",outcome=\"success\"} 1" multi.txt || om_fail "segment label missing"
grep -qx "onionmeter_dials_total{segment=\"$seg2\",class=\"local\",outcome=\"refused\"} 1" multi.txt || om_fail "second segment missing"
grep -qx "onionmeter_segment_up{segment=\"$OM_TMP/absent\"} 0" multi.txt || om_fail "absent segment must be down"
promtool check metrics <multi.txt || om_fail "promtool rejects multi-segment output"
echo "ok: several segments, labelled"

# --once and its formats
LD_PRELOAD= "$OM_EXPORTER" --once --segment "$seg" --format json | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
assert d["segments"][0]["up"] is True
assert d["segments"][0]["classes"]["local"]["dials"]["success"] == 1' || om_fail "--format json"
LD_PRELOAD= "$OM_EXPORTER" --once --segment "$seg" --format summary | grep -q 'local' || om_fail "--format summary"
if LD_PRELOAD= "$OM_EXPORTER" --once --segment "$OM_TMP/missing" >/dev/null 2>err; then
	om_fail "--once on a missing segment must fail"
fi
grep -q 'no process has attached yet' err || om_fail "missing segment message: $(cat err)"
LD_PRELOAD= "$OM_EXPORTER" --format nope --once 2>err && om_fail "bad --format accepted"
grep -q "unknown format" err || om_fail "bad --format message"
LD_PRELOAD= "$OM_EXPORTER" --help | grep -q -- '--listen' || om_fail "--help"

# SIGHUP re-opens the segments; the exporter lives on.  A segment replaced
# under it is noticed and logged, as is one that goes away.
kill -HUP "$EXPORTER_PID"
om_poll grep -q 'level=info msg="re-opening segments" signal=HUP' exporter.err || om_fail "SIGHUP not logged"
kill -0 "$EXPORTER_PID" 2>/dev/null || om_fail "SIGHUP killed the exporter"
[ "$(status "$BASE/-/ready")" = 200 ] || om_fail "not ready after SIGHUP"
LD_PRELOAD= "$OM_EXPORTER" --remove --segment "$seg"
[ "$(status "$BASE/-/ready")" = 503 ] || om_fail "ready with the segment removed"
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c 'import socket; socket.socket().connect_ex(("127.0.0.1", 1))'
[ "$(status "$BASE/-/ready")" = 200 ] || om_fail "the new segment was not picked up"
grep -q "level=warn msg=\"segment down\" segment=$seg reason=" exporter.err || om_fail "segment down not logged"
[ "$(grep -c "msg=\"segment up\" segment=$seg " exporter.err)" -ge 2 ] || om_fail "segment up not logged each time"
# every line is logfmt with a timestamp and a level
"$PY" - exporter.err <<'PY' || om_fail "the exporter's log is not logfmt"
import re, sys
pair = r'[a-z_]+=(?:"(?:[^"\\]|\\.)*"|[^ "=]+)'
line = re.compile(r'^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(info|warn|error) msg=\S.*$')
for l in open(sys.argv[1]):
    l = l.rstrip("\n")
    assert line.match(l) and re.fullmatch(r'(?:%s)(?: %s)*' % (pair, pair), l), l
PY
echo "ok: SIGHUP re-opens, segment changes logged, logfmt throughout"

# listen addresses as operators write them: :PORT, a host name, the
# Prometheus-style flag
P2=$(om_free_port)
LD_PRELOAD= "$OM_EXPORTER" --web.listen-address ":$P2" --segment "$seg" 2>/dev/null &
p2=$!
P3=$(om_free_port)
LD_PRELOAD= "$OM_EXPORTER" --listen "localhost:$P3" --segment "$seg" 2>/dev/null &
p3=$!
OM_PIDS="$OM_PIDS $p2 $p3"
om_wait_port 127.0.0.1 "$P2"
om_wait_port 127.0.0.1 "$P3"
[ "$(status "http://[::1]:$P2/-/healthy")" = 200 ] || om_fail ":PORT does not listen on IPv6 too"
LD_PRELOAD= "$OM_EXPORTER" --listen "no-such-host.invalid:1" --segment "$seg" 2>err && om_fail "an unknown host was accepted"
grep -q 'msg="cannot listen" address=no-such-host.invalid:1' err || om_fail "unknown host message: $(cat err)"
echo "ok: --web.listen-address, :PORT (both families) and host names"

# SIGTERM: a clean exit, status 0
kill -TERM "$EXPORTER_PID"
om_poll om_gone "$EXPORTER_PID" || om_fail "exporter ignored SIGTERM"
wait "$EXPORTER_PID" && rc=0 || rc=$?
[ "$rc" = 0 ] || om_fail "exporter exit status $rc after SIGTERM"
grep -q 'msg="shutting down" signal=TERM' "$OM_TMP/exporter.err" || om_fail "shutdown not logged"
echo "ok: SIGTERM exits cleanly"
# every log line is one write(), so it stays whole beside a program
# writing to the same stderr: the exporter's start, a segment coming up
# and going, its shutdown, under strace
if command -v strace >/dev/null; then
	P4=$(om_free_port)
	LD_PRELOAD= strace -f -qq -e trace=write -e signal=none -o "$OM_TMP/write.trace" \
		"$OM_EXPORTER" --listen "127.0.0.1:$P4" --segment "$OM_TMP/late.seg" --kernel-interval 0 \
		2>"$OM_TMP/late.err" &
	spid=$!
	om_wait_port 127.0.0.1 "$P4"
	ONIONMETER_SEGMENT=$OM_TMP/late.seg "$OM_RUN" -- "$PY" -c 'import socket; socket.socket().connect_ex(("127.0.0.1", 1))'
	curl -s "http://127.0.0.1:$P4/metrics" >/dev/null
	om_poll grep -q 'msg="segment up"' "$OM_TMP/late.err" || om_fail "no segment up line"
	# the exporter itself, strace's child: strace passes on its exit
	epid=$(pgrep -P "$spid" | head -1)
	[ -n "$epid" ] || om_fail "no exporter under strace"
	kill -TERM "$epid"
	wait "$spid" || true
	lines=$(grep -c . "$OM_TMP/late.err")
	writes=$(grep -c '^[0-9]* *write(2, ' "$OM_TMP/write.trace" || true)
	[ "$lines" -ge 3 ] && [ "$writes" = "$lines" ] ||
		{ cat "$OM_TMP/late.err" "$OM_TMP/write.trace" >&2; om_fail "$lines log lines in $writes writes"; }
	echo "ok: $lines log lines, $writes write() calls"
fi
# exporter conventions: --web.config.file (basic auth, bcrypt through the
# system's crypt_r), --web.telemetry-path, --log.level, --log.format
HASH=$("$PY" -W ignore -c 'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << 5)))')
case $HASH in '$2'*) ;; *) om_fail "no bcrypt hash from Python's crypt: $HASH" ;; esac
printf 'basic_auth_users:\n  prom: %s\n  "other user": '"'"'%s'"'"'\n' "$HASH" "$HASH" >"$OM_TMP/web.yml"
P5=$(om_free_port)
LD_PRELOAD= om_bg "$OM_EXPORTER" --listen "127.0.0.1:$P5" --segment "$seg" --kernel-interval 0 \
	--web.config.file "$OM_TMP/web.yml" --web.telemetry-path /custom/metrics \
	--log.format json --log.level info 2>"$OM_TMP/web.err"
om_wait_port 127.0.0.1 "$P5"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "http://127.0.0.1:$P5/custom/metrics")" = 401 ] || om_fail "no password: not 401"
curl -s -D - -o /dev/null "http://127.0.0.1:$P5/custom/metrics" | grep -qi '^WWW-Authenticate: Basic realm="onionmeter"' ||
	om_fail "401 without a Basic challenge"
[ "$(code -u prom:wrong "http://127.0.0.1:$P5/custom/metrics")" = 401 ] || om_fail "a wrong password was let in"
[ "$(code -u nobody:s3cret "http://127.0.0.1:$P5/custom/metrics")" = 401 ] || om_fail "an unknown user was let in"
[ "$(code -u prom:s3cret "http://127.0.0.1:$P5/custom/metrics")" = 200 ] || om_fail "the right password was refused"
[ "$(code -u 'other user:s3cret' "http://127.0.0.1:$P5/custom/metrics")" = 200 ] || om_fail "a quoted user name was refused"
curl -s -u prom:s3cret "http://127.0.0.1:$P5/custom/metrics" | grep -q '^onionmeter_segment_up ' || om_fail "no metrics at the telemetry path"
[ "$(code -u prom:s3cret "http://127.0.0.1:$P5/metrics")" = 404 ] || om_fail "/metrics still served beside --web.telemetry-path"
[ "$(code "http://127.0.0.1:$P5/-/healthy")" = 200 ] || om_fail "/-/healthy asks for a password"
[ "$(code "http://127.0.0.1:$P5/-/ready")" = 401 ] || om_fail "/-/ready is open without a password"
"$PY" - "$OM_TMP/web.err" <<'PY' || om_fail "--log.format json: not one JSON object per line"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]
assert objs and all({"ts", "level", "msg"} <= set(o) for o in objs), objs
assert any(o["msg"] == "listening" and o["path"] == "/custom/metrics" and o["auth"] == "basic" for o in objs), objs
PY
echo "ok: basic auth (401 with a challenge, wrong and unknown refused, bcrypt users let in), /custom/metrics, JSON log lines"
# --log.level warn: the info lines are not written
P6=$(om_free_port)
LD_PRELOAD= om_bg "$OM_EXPORTER" --listen "127.0.0.1:$P6" --segment "$seg" --kernel-interval 0 --log.level warn 2>"$OM_TMP/warn.err"
om_wait_port 127.0.0.1 "$P6"
! grep -q 'level=info' "$OM_TMP/warn.err" || om_fail "--log.level warn wrote info lines"
# what the exporter cannot do, it says before it starts
printf 'tls_server_config:\n  cert_file: x\n' >"$OM_TMP/tls.yml"
LD_PRELOAD= "$OM_EXPORTER" --web.config.file "$OM_TMP/tls.yml" --segment "$seg" 2>"$OM_TMP/tls.err" && om_fail "a TLS config was accepted"
grep -q 'TLS is not built into onionmeter-exporter: terminate TLS in a proxy' "$OM_TMP/tls.err" || om_fail "TLS refusal: $(cat "$OM_TMP/tls.err")"
printf 'basic_auth_users:\n  prom: plaintext\n' >"$OM_TMP/plain.yml"
LD_PRELOAD= "$OM_EXPORTER" --web.config.file "$OM_TMP/plain.yml" --segment "$seg" 2>"$OM_TMP/plain.err" && om_fail "a plain-text password was accepted"
grep -q "plain.yml:2: user 'prom': want a bcrypt hash" "$OM_TMP/plain.err" || om_fail "plain password refusal: $(cat "$OM_TMP/plain.err")"
for bad in "--log.level loud" "--log.format xml" "--web.telemetry-path metrics"; do
	LD_PRELOAD= "$OM_EXPORTER" $bad --segment "$seg" 2>/dev/null && om_fail "$bad was accepted"
done
echo "ok: --log.level warn; TLS config, plain passwords, unknown levels, formats and paths refused with a reason"
# --watch: the summary redrawn in place on a terminal (driven in tmux),
# plain lines into a pipe; the busy process and its leaks on screen
wseg=$OM_TMP/watch.seg
ONIONMETER_SEGMENT=$wseg ONIONMETER_POLICY=onion-only "$OM_RUN" -- "$PY" -c 'import os, socket, sys, time
try: socket.getaddrinfo("watchme2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen.onion", 80)
except socket.gaierror: pass
while not os.path.exists(sys.argv[1]):
    s = socket.socket(); s.connect_ex(("127.0.0.1", 1)); s.close(); time.sleep(0.05)' "$OM_TMP/watch.stop" 2>/dev/null &
wpid=$!
om_wait_metric "$wseg" onionmeter_processes 1
LD_PRELOAD= "$OM_EXPORTER" --watch=0.2 --segment "$wseg" --kernel-interval 0 | head -n 30 >"$OM_TMP/watch.pipe" || true
grep -q "$(printf '\033')" "$OM_TMP/watch.pipe" && om_fail "--watch into a pipe wrote terminal escapes"
grep -q '^segment .*watch.seg: 1 live process' "$OM_TMP/watch.pipe" || { cat "$OM_TMP/watch.pipe" >&2; om_fail "--watch into a pipe: no segment line"; }
if command -v tmux >/dev/null; then
	sock=$OM_TMP/tmux.sock
	tmux -S "$sock" new-session -d -x 132 -y 45 \
		"env LD_PRELOAD= '$OM_EXPORTER' --watch=0.2 --segment '$wseg' --kernel-interval 0"
	screen() { tmux -S "$sock" capture-pane -p; }
	drawn() { screen | grep -q 'latest leaks' && screen | grep -Eq '^ +[0-9]+ yes +python3 '; }
	om_poll drawn || { screen >&2; tmux -S "$sock" kill-server; om_fail "--watch: the screen does not show the process and its leaks"; }
	first=$(screen | head -1)
	case $first in "onionmeter "*) ;; *) screen >&2; om_fail "--watch: the frame does not start at the top: $first" ;; esac
	redrawn() { [ "$(screen | head -1)" != "$first" ] && [ "$(screen | grep -c '^onionmeter ')" = 1 ]; }
	om_poll redrawn || { screen >&2; om_fail "--watch: not redrawn in place"; }
	screen | grep -q 'onion_dns' || { screen >&2; om_fail "--watch: the leak event is not shown"; }
	tmux -S "$sock" kill-server
	echo "ok: --watch redraws in place on a terminal (tmux), one frame on screen, the process and its leak shown; plain lines into a pipe"
else
	echo "skip: --watch on a terminal (tmux not installed)"
fi
# the JSON names each process (while it lives)
LD_PRELOAD= "$OM_EXPORTER" --once --format json --segment "$wseg" --kernel-interval 0 | "$PY" -c '
import json, sys
p = json.load(sys.stdin)["segments"][0]["processes"]
assert len(p) == 1 and p[0]["program"] == "python3" and p[0]["live"] and "local" in p[0]["bytes"], p' ||
	om_fail "--format json: no per-process breakdown"
touch "$OM_TMP/watch.stop"
wait "$wpid" || true
echo PASS
