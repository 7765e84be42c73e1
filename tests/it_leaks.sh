#!/usr/bin/env bash
# Leak verdicts with real clients making the classic mistakes, in a private
# namespace; then the same under enforcement, checking on the server side
# that nothing arrived.
set -eu
. "$(dirname "$0")/lib.sh"
om_need microsocks curl
om_no_asan_curl
om_enter_netns "$@"
om_tmpdir

om_hosts "198.18.0.1 $ONION"
mkdir "$OM_TMP/www"
echo hello >"$OM_TMP/www/f"
LD_PRELOAD= om_bg "$PY" -m http.server --bind 198.18.0.1 --directory "$OM_TMP/www" 8080 >/dev/null 2>&1
LD_PRELOAD= om_bg microsocks -i 127.0.0.1 -p 1080 >/dev/null 2>&1
# a sink on the "clearnet" host that logs every connection and datagram
LD_PRELOAD= om_bg "$PY" -c '
import selectors, socket, sys
log = open(sys.argv[1], "a", buffering=1)
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(("198.18.0.1", 8081)); t.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("198.18.0.1", 9999))
sel = selectors.DefaultSelector()
sel.register(t, selectors.EVENT_READ); sel.register(u, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        if key.fileobj is t:
            c, _ = t.accept(); log.write("tcp\n"); c.close()
        else:
            u.recv(100); log.write("udp\n")
' "$OM_TMP/sink.log"
om_wait_port 198.18.0.1 8080
om_wait_port 127.0.0.1 1080
om_wait_port 198.18.0.1 8081
: >"$OM_TMP/sink.log" # the port probe itself

run() { # SEGMENT POLICY ENFORCE -- CMD...
	local seg=$1 pol=$2 enf=$3; shift 4
	ONIONMETER_SEGMENT=$seg ONIONMETER_POLICY=$pol ONIONMETER_ENFORCE=$enf "$OM_RUN" -- "$@"
}
CURL=(curl -s -o /dev/null --max-time 10)
UDP_SEND=("$PY" -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("198.18.0.1", 9999))')
leak() { om_metric "$1" "onionmeter_leaks_total{kind=\"$2\",action=\"$3\"}"; }
sink_empty() { [ ! -s "$OM_TMP/sink.log" ] || om_fail "$1: the sink received: $(sort "$OM_TMP/sink.log" | uniq -c)"; }

# 1. audit: curl --socks5 resolves the .onion itself; --socks5-hostname does not
seg=$OM_TMP/audit.seg
run "$seg" audit 0 -- "${CURL[@]}" --socks5 127.0.0.1:1080 "http://$ONION:8080/f" || true
om_expect "$seg" 'onionmeter_leaks_total{kind="onion_dns",action="observed"}' 1
run "$seg" audit 0 -- "${CURL[@]}" --socks5-hostname 127.0.0.1:1080 "http://$ONION:8080/f"
om_expect "$seg" 'onionmeter_leaks_total{kind="onion_dns",action="observed"}' 1
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 1
run "$seg" audit 0 -- "$PY" -c 'import socket
try: socket.getaddrinfo("pythonlookup.onion", 80)
except socket.gaierror: pass'
om_expect "$seg" 'onionmeter_leaks_total{kind="onion_dns",action="observed"}' 2
if NODE=$(command -v node); then
	run "$seg" audit 0 -- "$NODE" -e 'require("dns").lookup("nodelookup.onion", () => {})'
	om_expect "$seg" 'onionmeter_leaks_total{kind="onion_dns",action="observed"}' 3
fi
# audit judges nothing else
run "$seg" audit 0 -- "${CURL[@]}" "http://198.18.0.1:8080/f"
run "$seg" audit 0 -- "${UDP_SEND[@]}"
[ "$(leak "$seg" direct_connect observed)" = 0 ] && [ "$(leak "$seg" udp observed)" = 0 ] ||
	om_fail "audit must not judge direct traffic"
LD_PRELOAD= "$OM_EXPORTER" --once --format json --segment "$seg" | "$PY" -c '
import json, sys
ev = json.load(sys.stdin)["segments"][0]["events"]
names = [e["destination"] for e in ev]
assert any(n.startswith("pythonlookup.onion") for n in names), names
assert all(e["kind"] == "onion_dns" for e in ev), ev' || om_fail "events do not name the looked-up onions"
: >"$OM_TMP/sink.log"

# 2. tor-only: direct TCP, UDP and DNS lookups leak; proxied clearnet does not
seg=$OM_TMP/toronly.seg
run "$seg" tor-only 0 -- "${CURL[@]}" "http://198.18.0.1:8081/" || true
run "$seg" tor-only 0 -- "${UDP_SEND[@]}"
run "$seg" tor-only 0 -- "${CURL[@]}" --socks5 127.0.0.1:1080 "http://198.18.0.1:8080/f"
run "$seg" tor-only 0 -- "$PY" -c 'import socket; socket.getaddrinfo("'"$ONION"'", 80); socket.getaddrinfo("localhost", 80); socket.getaddrinfo("127.0.0.1", 80)'
om_expect "$seg" 'onionmeter_leaks_total{kind="direct_connect",action="observed"}' 1
om_expect "$seg" 'onionmeter_leaks_total{kind="udp",action="observed"}' 1
# every road a named datagram takes is judged, a leak per datagram: sendto
# and sendmmsg through libc and through syscall() (libuv's road)
sent=$(run "$seg" tor-only 0 -- "$PY" "$OM_SRC/tests/udp_named.py" 198.18.0.1 9999 3)
[ "$sent" = 12 ] || om_fail "udp_named.py: $sent of 12 datagrams sent"
om_expect "$seg" 'onionmeter_leaks_total{kind="udp",action="observed"}' 13
om_expect "$seg" 'onionmeter_leaks_total{kind="proxied_clearnet",action="observed"}' 0
om_expect "$seg" 'onionmeter_leaks_total{kind="onion_dns",action="observed"}' 1
om_expect "$seg" 'onionmeter_leaks_total{kind="dns",action="observed"}' 0
run "$seg" tor-only 0 -- "$PY" -c 'import socket
try: socket.getaddrinfo("clearnet.example", 80)
except socket.gaierror: pass'
om_expect "$seg" 'onionmeter_leaks_total{kind="dns",action="observed"}' 1
: >"$OM_TMP/sink.log"

# 3. onion-only: proxied clearnet is a leak too
seg=$OM_TMP/onlyonion.seg
run "$seg" onion-only 0 -- "${CURL[@]}" --socks5 127.0.0.1:1080 "http://198.18.0.1:8080/f"
run "$seg" onion-only 0 -- "${CURL[@]}" --socks5-hostname 127.0.0.1:1080 "http://$ONION:8080/f"
om_expect "$seg" 'onionmeter_leaks_total{kind="proxied_clearnet",action="observed"}' 1
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 1
om_expect "$seg" 'onionmeter_dials_total{class="proxied",outcome="success"}' 1

# 4. enforced: every leaking call fails before anything is sent
: >"$OM_TMP/sink.log"
seg=$OM_TMP/enforce.seg
if run "$seg" onion-only 1 -- "${CURL[@]}" "http://198.18.0.1:8081/" 2>"$OM_TMP/refusal.log"; then om_fail "enforced direct dial succeeded"; fi
# the refusal is said, one logfmt line with kind, destination, pid, program
grep -Eq '^onionmeter: ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z level=warn msg=refused kind=direct_connect dest=198.18.0.1:8081 pid=[0-9]+ program=curl policy=onion-only$' \
	"$OM_TMP/refusal.log" || { cat "$OM_TMP/refusal.log" >&2; om_fail "no refusal line for the direct dial"; }
if run "$seg" onion-only 1 -- "${CURL[@]}" --socks5 127.0.0.1:1080 "http://198.18.0.1:8081/"; then
	om_fail "enforced proxied clearnet dial succeeded"
fi
out=$(run "$seg" onion-only 1 -- "$PY" -c 'import socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("198.18.0.1", 9999)); print("sent")
except PermissionError: print("EACCES")')
[ "$out" = EACCES ] || om_fail "enforced UDP sendto: $out"
out=$(run "$seg" onion-only 1 -- "$PY" -c 'import socket
try: socket.getaddrinfo("'"$ONION"'", 80); print("resolved")
except socket.gaierror as e: print(e.errno == socket.EAI_FAIL and "EAI_FAIL" or e)')
[ "$out" = EAI_FAIL ] || om_fail "enforced onion lookup: $out"
# a burst: at most 10 lines a second per process, the rest counted in the
# next line; with ONIONMETER_LOG, in that file and not on stderr.  The
# program refuses connections until one second of its clock (the shim's
# limit counts per second of the same clock) saw at least 15 of them, and
# writes down each attempt's second; then one lookup, in a later second.
ONIONMETER_LOG=$OM_TMP/shim.log run "$seg" onion-only 1 -- "$PY" -c 'import socket, sys, time
log, bound = open(sys.argv[1], "w"), time.time() + float(sys.argv[2])
per = {}
while max(per.values(), default=0) < 15 and time.time() < bound:
    t0 = int(time.time())
    try: socket.create_connection(("198.18.0.1", 8081), timeout=1)
    except PermissionError: pass
    t1 = int(time.time())
    log.write("%d %d\n" % (t0, t1))
    if t0 == t1: per[t0] = per.get(t0, 0) + 1
log.close()
t = time.time()
time.sleep(int(t) + 1.05 - t)
try: socket.getaddrinfo("x\"y.onion", 80)
except socket.gaierror: pass' "$OM_TMP/burst.attempts" "$OM_WAIT" 2>"$OM_TMP/burst.err"
[ ! -s "$OM_TMP/burst.err" ] || om_fail "with ONIONMETER_LOG, refusals still went to stderr: $(cat "$OM_TMP/burst.err")"
burst=$(wc -l <"$OM_TMP/burst.attempts")
"$PY" - "$OM_TMP/shim.log" "$OM_TMP/burst.attempts" <<'PY' || { cat "$OM_TMP/shim.log" >&2; om_fail "the burst's log lines"; }
import calendar, collections, re, sys, time
lines = [l for l in open(sys.argv[1]) if "msg=refused" in l]
attempts = [tuple(map(int, l.split())) for l in open(sys.argv[2])]
sec = lambda l: calendar.timegm(time.strptime(re.search(r"ts=([^.Z]+)", l).group(1), "%Y-%m-%dT%H:%M:%S"))
logged = collections.Counter(sec(l) for l in lines if "kind=direct_connect" in l)
sure = collections.Counter(t0 for t0, t1 in attempts if t0 == t1)
full = [s for s, n in sure.items() if n > 10]
assert full, "no second had more than 10 attempts"
assert max(logged.values()) <= 10, ("more than 10 lines in a second", logged)
for s in full:
    assert logged[s] == 10, ("a second of %d attempts logged %d lines" % (sure[s], logged[s]))
# every refusal is a line or counted in a later line's suppressed=
said = len(lines) + sum(int(n) for n in re.findall(r" suppressed=(\d+)$", "".join(lines), re.M))
assert said == len(attempts) + 1, (said, len(attempts))
last = lines[-1]
assert 'kind=onion_dns dest="x\\"y.onion" ' in last, ("the lookup, its name escaped", last)
PY
echo "ok: each refusal logged (logfmt, rate-limited, to ONIONMETER_LOG when set)"
sleep 0.5 # let the sink log anything that did get through
sink_empty "enforcement"
om_expect "$seg" 'onionmeter_leaks_total{kind="direct_connect",action="blocked"}' $((1 + burst))
om_expect "$seg" 'onionmeter_leaks_total{kind="proxied_clearnet",action="blocked"}' 1
om_expect "$seg" 'onionmeter_leaks_total{kind="udp",action="blocked"}' 1
om_expect "$seg" 'onionmeter_leaks_total{kind="onion_dns",action="blocked"}' 2
# legitimate onion dials keep working
run "$seg" onion-only 1 -- "${CURL[@]}" --socks5-hostname 127.0.0.1:1080 "http://$ONION:8080/f" ||
	om_fail "an onion dial was refused under enforcement"
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 1

# 5. the report names what leaked, and keeps the command's exit status
set +e
"$OM_RUN" --policy onion-only --report -- "${CURL[@]}" "http://198.18.0.1:8080/f" 2>"$OM_TMP/report"
rc=$?
set -e
[ "$rc" = 0 ] || om_fail "report run exit status $rc"
grep -q '^    1 x direct_connect observed -> 198.18.0.1:8080$' "$OM_TMP/report" &&
	grep -q "^        by ${CURL[*]} http://198.18.0.1:8080/f (pid [0-9]*) " "$OM_TMP/report" ||
	{ cat "$OM_TMP/report"; om_fail "report does not name the leak"; }
cat "$OM_TMP/report"
echo PASS
