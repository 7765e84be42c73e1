#!/usr/bin/env bash
# The kernel's view (sock_diag), in a private network namespace: what no
# preload can see shows there, and what the shim sees is never called a
# blind spot.  Ground truth is the servers' own logs of what reached them.
#  1. a Go program (raw system calls) dials the test onion through a SOCKS
#     proxy and a clearnet host directly: the shim counts nothing, the
#     kernel view lists both, the blind-spot metric says so, and a real
#     Prometheus fires the "direct connection in an onion-only deployment"
#     alert on it;
#  2. a dynamic program seen by the shim makes 1000 connections (long and
#     short ones, fork children among them): the blind spot stays 0 in
#     every scrape;
#  3. --kernel-scope uid=N and cgroup=PATH count only their sockets;
#  4. a static C client and a socket made by a raw system call (machine
#     code, past libc's syscall()) are named in onionmeter-run --report
#     with their destinations.
# Every server runs under the shim too: the kernel lists both ends of a
# connection inside the namespace, and the servers' ends are accounted.
set -eu
. "$(dirname "$0")/lib.sh"
om_enter_netns "$@"
om_tmpdir
cd "$OM_TMP"
chmod 755 "$OM_TMP"
ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true
seg=$OM_TMP/seg
export ONIONMETER_PROXIES=127.0.0.1:1080
SINK_LOG=$OM_TMP/sink.log RELAY_LOG=$OM_TMP/relay.log
: >"$SINK_LOG"
: >"$RELAY_LOG"
# sinks: the onion service (127.0.0.2:80, reached only through the proxy)
# and a clearnet host (198.18.0.1:80); each logs every connection it ends
SINK='
import socket, sys, threading
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], 80)); ls.listen(256)
lock = threading.Lock()
def serve(c, peer):
    n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        n += len(b)
    c.close()
    with lock, open(sys.argv[2], "a") as f: f.write("%s %s %d\n" % (sys.argv[1], peer[0], n))
while True:
    c, peer = ls.accept(); threading.Thread(target=serve, args=(c, peer), daemon=True).start()'
# the node: onion-only (the servers' own connections are local)
ONIONMETER_SEGMENT=$seg om_bg "$OM_RUN" --policy onion-only -- "$PY" -c "$SINK" 127.0.0.2 "$SINK_LOG"
ONIONMETER_SEGMENT=$seg om_bg "$OM_RUN" --policy onion-only -- "$PY" -c "$SINK" 198.18.0.1 "$SINK_LOG"
ONIONMETER_SEGMENT=$seg om_bg "$OM_RUN" --policy onion-only -- "$PY" "$OM_SRC/tests/relay.py" 127.0.0.1 1080 "$RELAY_LOG" "$ONION" 127.0.0.2
om_wait_port 127.0.0.2 80
om_wait_port 198.18.0.1 80
om_wait_port 127.0.0.1 1080
: >"$SINK_LOG"
: >"$RELAY_LOG"
EPORT=$(om_free_port)
LD_PRELOAD= om_bg "$OM_EXPORTER" --listen "127.0.0.1:$EPORT" --segment "$seg" --kernel-interval 50 2>exporter.log
om_wait_port 127.0.0.1 "$EPORT"
metric() { curl -s "http://127.0.0.1:$EPORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
metric_is() { [ "$(metric "$1")" = "$2" ]; }
# wait until SAMPLE reads VALUE
wait_metric() { om_poll metric_is "$1" "$2" || om_fail "$1 = '$(metric "$1")', expected $2"; }
wait_metric 'onionmeter_kernel_up' 1
for c in proxy direct local; do wait_metric "onionmeter_unseen_connections{class=\"$c\"}" 0; done
echo "ok: the kernel view is up, and the instrumented servers are no blind spot"
# asked to poll every millisecond, the view slows itself to twenty times a
# poll's length (at most 5% of a core), and says so
FPORT=$(om_free_port)
LD_PRELOAD= om_bg "$OM_EXPORTER" --listen "127.0.0.1:$FPORT" --segment "$seg" --kernel-interval 1 2>fast.log
om_wait_port 127.0.0.1 "$FPORT"
om_poll grep -q 'msg="kernel view slowed: polls are long"' fast.log || om_fail "no log line for the slowed kernel view"
curl -s "http://127.0.0.1:$FPORT/metrics" >fast.metrics
"$PY" - fast.metrics <<'PY' || om_fail "--kernel-interval 1: the poll interval does not follow the poll's length"
import sys
m = dict(l.split()[:2] for l in open(sys.argv[1]) if l[0] != "#")
poll, every = float(m["onionmeter_kernel_poll_duration_seconds"]), float(m["onionmeter_kernel_poll_interval_seconds"])
assert every > 0.001 and every >= 20 * poll - 0.001, (poll, every)
PY
echo "ok: polls asked for every millisecond are spaced to 20 times their length"

# 1. the Go program
if command -v go >/dev/null; then
	GOCACHE=$OM_TMP/gocache GOPATH=$OM_TMP/gopath GOPROXY=off CGO_ENABLED=0 \
		go build -o goclient "$OM_SRC/tests/go/client.go" || om_fail "go build"
	ONIONMETER_SEGMENT=$OM_TMP/go.seg "$OM_RUN" -- ./goclient 127.0.0.1:1080 "$ONION:80" 198.18.0.1:80 \
		"$OM_TMP/go.ready" "$OM_TMP/go.done" 2>go.err &
	gopid=$!
	OM_PIDS="$OM_PIDS $gopid" # a failure below must not leave it holding our output
	om_poll test -e go.ready || { cat go.err >&2; om_fail "the Go client did not connect"; }
	grep -q 'is a Go program' go.err || om_fail "onionmeter-run did not warn about the Go program"
	# the Go client's two sockets, and the servers' ends (accounted): one
	# proxy socket, two direct ones (the client's and the clearnet sink's)
	wait_metric 'onionmeter_kernel_connections{class="proxy"}' 1
	wait_metric 'onionmeter_kernel_connections{class="direct"}' 2
	wait_metric 'onionmeter_unseen_connections{class="proxy"}' 1
	wait_metric 'onionmeter_unseen_connections{class="direct"}' 1
	wait_metric 'onionmeter_kernel_udp_sockets{class="direct"}' 1
	[ ! -e "$OM_TMP/go.seg" ] || om_fail "the shim counted something of a Go program"
	# a real Prometheus with the shipped rules fires the alert
	if command -v prometheus >/dev/null; then
		PPORT=$(om_free_port)
		printf 'global: {scrape_interval: 1s, evaluation_interval: 1s}\nrule_files: [%s]\nscrape_configs:\n  - job_name: onionmeter\n    static_configs: [{targets: ["127.0.0.1:%s"]}]\n' \
			"$OM_SRC/deploy/prometheus/onionmeter-rules.yml" "$EPORT" >prometheus.yml
		LD_PRELOAD= prometheus --config.file=prometheus.yml --storage.tsdb.path=tsdb \
			--web.listen-address="127.0.0.1:$PPORT" --log.level=warn >prometheus.log 2>&1 &
		ppid=$!
		OM_PIDS="$OM_PIDS $ppid"
		om_wait_port 127.0.0.1 "$PPORT"
		firing() { curl -s "http://127.0.0.1:$PPORT/api/v1/alerts" | "$PY" -c 'import json, sys
print(" ".join(a["labels"]["alertname"] for a in json.load(sys.stdin)["data"]["alerts"] if a["state"] == "firing"))'; }
		fires() { case " $(firing) " in *" $1 "*) return 0 ;; esac; return 1; }
		om_poll fires OnionmeterKernelDirectConnection ||
			{ tail prometheus.log >&2; om_fail "Prometheus did not fire OnionmeterKernelDirectConnection (firing: $(firing))"; }
		# Prometheus is a Go program too: stopped before the blind spot must read 0
		kill "$ppid"
		wait "$ppid" 2>/dev/null || true
		echo "ok: a real Prometheus fired OnionmeterKernelDirectConnection on the Go client's connection"
	fi
	# the kernel's bytes of the open connections, as the program moved
	# them (no SYN, no FIN), against the relay's and the sinks' logs: the
	# direct class holds the client's end (out) and the sink's (in)
	# (of a poll begun after the client's exchange, not an older one)
	om_kernel_polled "$EPORT"
	curl -s "http://127.0.0.1:$EPORT/metrics" >go.metrics
	kbytes() { awk -v k="onionmeter_kernel_connection_bytes{class=\"$1\",direction=\"$2\"}" '$1 == k { print $2 }' go.metrics; }
	touch go.done
	wait "$gopid" || om_fail "the Go client failed"
	om_wait_lines "$SINK_LOG" 2
	# the Go client's line: a readiness probe's connection logs one too
	# ("0 0"), in either order
	relayed() { awk '$1 > 0 { f = 1 } END { exit !f }' "$RELAY_LOG"; }
	om_poll relayed || om_fail "the relay logged no connection of the Go client: $(cat "$RELAY_LOG")"
	grep -q '^198.18.0.1 198.18.0.1 15$' "$SINK_LOG" || om_fail "the clearnet sink did not log the Go client's line"
	grep -q '^127.0.0.2 127.0.0.1 24$' "$SINK_LOG" || om_fail "the onion sink did not log the Go client's line"
	read -r rin rout _ < <(awk '$1 > 0' "$RELAY_LOG" | head -1)
	[ "$(kbytes proxy egress) $(kbytes proxy ingress)" = "$rin $rout" ] ||
		om_fail "kernel view, proxy class: $(kbytes proxy egress) out, $(kbytes proxy ingress) in; the relay read $rin and wrote $rout"
	[ "$(kbytes direct egress) $(kbytes direct ingress)" = "15 15" ] ||
		om_fail "kernel view, direct class: $(kbytes direct egress) out, $(kbytes direct ingress) in; the sink logged 15"
	echo "ok: the kernel view's bytes equal the relay's ($rin out, $rout in) and the sink's (15)"
	for c in proxy direct; do wait_metric "onionmeter_unseen_connections{class=\"$c\"}" 0; done
	wait_metric 'onionmeter_kernel_udp_sockets{class="direct"}' 0
	echo "ok: $(go version | cut -d' ' -f3) client: nothing for the shim, one proxy and one direct connection and a direct UDP socket for the kernel, both connections blind spots"
else
	echo "skip: go not installed (scripts/dev setup installs golang-go)"
fi

# 2. 1000 connections the shim sees: long-lived, short, and in fork
# children (a child dialling, and a parent's connection used by a child
# after the parent closed its copy), a dup'd copy kept after the original
# is closed; every scrape must read 0.  Each scrape is a line of the trace:
# the polls so far, then the three classes' blind spots.  Every 100
# connections the program waits until the trace shows three more polls,
# so the view has looked at least twice at what it holds then.
: >"$SINK_LOG"
curl -s "http://127.0.0.1:$EPORT/metrics" >/dev/null
(
	while [ ! -e "$OM_TMP/busy.done" ]; do
		curl -s "http://127.0.0.1:$EPORT/metrics" | awk '
			$1 == "onionmeter_kernel_polls_total" { p = $2 }
			$1 ~ /^onionmeter_unseen_connections/ { u = u " " $2 }
			END { if (p != "") print p u }'
		sleep 0.03
	done
) >unseen.trace &
tracer=$!
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c '
import os, socket, sys, time
trace, bound = sys.argv[1], float(sys.argv[2])
def polls():
    try:
        return int(open(trace).read().splitlines()[-2].split()[0])
    except (IndexError, ValueError, OSError):
        return -1
def looked():  # the kernel view polled three more times, and was scraped
    p0, end = polls(), time.time() + bound
    while polls() < p0 + 3:
        if time.time() > end: sys.exit("the kernel view was not polled for %gs" % bound)
        time.sleep(0.01)
def dial(host):
    s = socket.create_connection((host, 80)); s.sendall(b"x"); return s
held = []
for i in range(1000):
    host = "198.18.0.1" if i % 2 else "127.0.0.2"
    if i % 50 == 0:       # a fork child dials and holds a while
        pid = os.fork()
        if pid == 0:
            s = dial(host); time.sleep(0.3); s.close(); os._exit(0)
        held.append(pid)
    elif i % 50 == 25:    # handed to a child, which uses it, then holds it
        s = dial(host)
        pid = os.fork()
        if pid == 0:
            s.sendall(b"y"); time.sleep(0.3); s.close(); os._exit(0)
        s.close(); held.append(pid)
    elif i % 50 == 35:    # a copy kept, the original closed (dup2 onto stdin, then close)
        s = dial(host)
        copy = socket.socket(fileno=os.dup(s.fileno()))
        s.close(); held.append(copy)
    elif i % 10 == 0:     # long-lived
        held.append(dial(host))
    else:                 # short
        dial(host).close()
    if i % 100 == 99:
        looked()
for h in held:
    if isinstance(h, int): os.waitpid(h, 0)
    else: h.close()
' "$OM_TMP/unseen.trace" "$OM_WAIT" || om_fail "the program of 1000 connections failed"
touch busy.done
wait "$tracer" || true
om_wait_lines "$SINK_LOG" 1000
[ "$(wc -l <"$SINK_LOG")" = 1000 ] || om_fail "the sinks logged $(wc -l <"$SINK_LOG") connections, want 1000"
scrapes=$(wc -l <unseen.trace)
if awk '$2 != 0 || $3 != 0 || $4 != 0 { bad = 1 } END { exit !bad }' unseen.trace; then
	om_fail "a blind spot was reported for a program the shim sees: $(cut -d" " -f2- unseen.trace | sort | uniq -c | tr "\n" " ")"
fi
echo "ok: 1000 connections (forks, short and long ones) seen by the shim: blind spot 0 in all $scrapes scrapes"

# 3. scopes: uid=N counts the sockets that user owns, cgroup=PATH those
# made by processes in exactly that cgroup.  A client of each connects
# directly to the clearnet sink (its end and the sink's end are direct;
# the sink runs as root, outside the cgroup).
mkdir scope
chmod 777 scope
HOLD='
import os, socket, sys, time
s = socket.create_connection(("198.18.0.1", 80)); s.sendall(b"s")
open(sys.argv[1], "w").close()
while not os.path.exists(sys.argv[2]): time.sleep(0.02)
'
direct_in() { LD_PRELOAD= "$OM_EXPORTER" --once --segment "$seg" --kernel-scope "$1" 2>/dev/null |
	awk '$1 == "onionmeter_kernel_connections{class=\"direct\"}" { print $2 }'; }
direct_is() { [ "$(direct_in "$1")" = "$2" ]; }
# both ends held: the sink has accepted its end (until then the kernel
# lists it in the accept queue, held by no process)
both_ends() {
	om_poll direct_is netns 2 || om_fail "--kernel-scope netns: $(direct_in netns) direct connections, want 2"
}
if ! command -v setpriv >/dev/null; then
	echo "skip: uid scope: no setpriv"
elif ! setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	echo "skip: uid scope: cannot run as uid 65534 here (a user namespace maps only ourselves)"
else
	om_bg setpriv --reuid=65534 --regid=65534 --clear-groups "$PY" -c "$HOLD" scope/uid.ready scope/uid.done
	om_poll test -e scope/uid.ready || om_fail "the client running as uid 65534 did not connect"
	both_ends
	[ "$(direct_in uid=65534)" = 1 ] || om_fail "--kernel-scope uid=65534: $(direct_in uid=65534) direct connections, want the client's 1"
	[ "$(direct_in uid=0)" = 1 ] || om_fail "--kernel-scope uid=0: $(direct_in uid=0) direct connections, want the sink's end, 1"
	touch scope/uid.done
	echo "ok: --kernel-scope uid=N counts that user's sockets only"
fi
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
cg=${cg2:+$cg2/onionmeter-test-$$}
if [ -n "$cg" ] && mkdir "$cg" 2>/dev/null; then
	sh -c 'echo $$ >"$1/cgroup.procs" && exec "$2" -c "$3" scope/cg.ready scope/cg.done' sh "$cg" "$PY" "$HOLD" &
	cgpid=$!
	om_poll test -e scope/cg.ready || { rmdir "$cg"; om_fail "the client in cgroup $cg did not connect"; }
	om_poll direct_is netns 2 || true
	all=$(direct_in netns)
	got=$(direct_in "cgroup=$cg")
	touch scope/cg.done
	wait "$cgpid" || true
	rmdir "$cg" 2>/dev/null || true
	[ "$all" = 2 ] || om_fail "--kernel-scope netns: $all direct connections, want 2"
	[ "$got" = 1 ] || om_fail "--kernel-scope cgroup=$cg: $got direct connections, want the client's 1"
	echo "ok: --kernel-scope cgroup=PATH counts the sockets made in that cgroup only"
else
	echo "skip: cgroup scope: no writable cgroup v2 hierarchy here"
fi

# 4. --report names what the shim could not see
gcc -static -o static_client "$OM_SRC/tests/static_client.c" 2>/dev/null || om_skip "no static libc to link a static client"
RAW_PY='
import ctypes, mmap, os, socket, struct, sys, time
# a raw connect: machine code doing the system calls, past libc
code = bytes.fromhex("4889f8" "4889f7" "4889d6" "4889ca" "0f05" "c3")
buf = mmap.mmap(-1, len(code), prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
buf.write(code)
raw = ctypes.CFUNCTYPE(ctypes.c_long, ctypes.c_long, ctypes.c_long, ctypes.c_long, ctypes.c_long)(
    ctypes.addressof(ctypes.c_char.from_buffer(buf)))
fd = raw(41, socket.AF_INET, socket.SOCK_STREAM, 0)
sa = struct.pack("=HH4s8x", socket.AF_INET, socket.htons(80), socket.inet_aton("198.18.0.1"))
sab = ctypes.create_string_buffer(sa, len(sa))
assert raw(42, fd, ctypes.addressof(sab), len(sa)) == 0
seen = socket.create_connection(("127.0.0.2", 80))  # and one the shim sees
while not os.path.exists(sys.argv[1]): time.sleep(0.02)
'
if [ "$(uname -m)" != x86_64 ]; then RAW_PY='import os, sys, time
while not os.path.exists(sys.argv[1]): time.sleep(0.02)'; fi
# meanwhile an orphan ends every 0.1 s: the supervisor, their reaper, gets
# a SIGCHLD more often than it looks, and must look all the same
ONIONMETER_SEGMENT= "$OM_RUN" --report --report-json report.json -- sh -c '
./static_client 198.18.0.1 80 "$1" & "$2" -c "$3" "$1" &
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do (sleep 0.05 &); sleep 0.1; done
touch "$1"; wait' sh \
	"$OM_TMP/report.done" "$PY" "$RAW_PY" 2>report.txt
cat report.txt
grep -q '^  pid [0-9]* static_client -> direct 198.18.0.1:80: NOT SEEN by the shim$' report.txt ||
	om_fail "--report does not name the static client's connection"
grep -A1 'static_client -> direct' report.txt | grep -q 'never attached' || om_fail "the static client is not said to be unattached"
if [ "$(uname -m)" = x86_64 ]; then
	grep -q '^  pid [0-9]* python3 -> direct 198.18.0.1:80: NOT SEEN by the shim$' report.txt ||
		om_fail "--report does not name the raw system call's connection"
	grep -q 'attached, accounts for 0 of the 1 direct connection it holds' report.txt || om_fail "the Python process's account is not said"
	grep -q '^  pid [0-9]* python3 -> local 127.0.0.2:80: seen$' report.txt ||
		om_fail "the Python process's connection through libc is not said to be seen"
	want="2 connections"
else
	want="1 connection"
fi
grep -q "^verdict: no leaks under audit; $want the shim could not see$" report.txt || om_fail "the verdict does not count exactly the blind spots ($want)"
"$PY" - report.json <<'PY' || om_fail "--report-json lacks the kernel's view"
import json, sys
r = json.load(open(sys.argv[1]))
k = [c for c in r["kernel"] if not c["seen"]]
assert any(c["program"] == "static_client" and c["destination"] == "198.18.0.1:80" and not c["attached"] for c in k), k
PY
echo "ok: --report names the static client's and the raw system call's connections, with destinations"
echo PASS
