#!/usr/bin/env bash
# Programs that change their descriptors where a preload does not see it:
# CPython's vfork, torsocks and proxychains resolving libc by handle,
# RTLD_DEEPBIND plugins (PHP), sockets passed with SCM_RIGHTS, two threads
# on one handshake, the first datagram of a UDP socket, TCP Fast Open,
# splice, fclose, raw clone, and the wrong LD_PRELOAD order.  Ground truth
# comes from outside the shim: a counting proxy (tests/relay.py) logs the
# bytes on the client's side of every proxied connection, sinks log what
# they received.
set -eu
. "$(dirname "$0")/lib.sh"
om_enter_netns "$@"
om_tmpdir
cd "$OM_TMP"
H=198.18.0.1
RELAY_LOG=$OM_TMP/relay.log
SINK_LOG=$OM_TMP/sink.log
: >"$RELAY_LOG"
: >"$SINK_LOG"
mkdir www
head -c 100003 /dev/urandom >www/blob
LD_PRELOAD= om_bg "$PY" -m http.server --bind "$H" --directory www 80 >/dev/null 2>&1
LD_PRELOAD= om_bg "$PY" "$OM_SRC/tests/relay.py" 127.0.0.1 1080 "$RELAY_LOG" "$ONION" "$H" \
	"unix:$OM_TMP/socks.sock"
# a TCP sink: reads to EOF, answers with the count, logs it
LD_PRELOAD= om_bg "$PY" -c '
import socket, sys, threading
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], 7000)); ls.listen(128)
lock = threading.Lock()
def serve(c):
    n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        n += len(b)
    try: c.sendall(str(n).encode())
    except OSError: pass
    c.close()
    with lock, open(sys.argv[2], "a") as f: f.write("%d\n" % n)
while True:
    c, _ = ls.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()' "$H" "$SINK_LOG"
# a UDP echo
LD_PRELOAD= om_bg "$PY" -c '
import socket, sys
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((sys.argv[1], 7001))
while True:
    b, a = u.recvfrom(65536); u.sendto(b, a)' "$H"
om_wait_port "$H" 80
om_wait_port "$H" 7000
om_wait_port 127.0.0.1 1080

relay_sum() { awk '{ i += $1; o += $2 } END { printf "%d %d\n", i, o }' "$RELAY_LOG"; }
sink_sum() { awk '{ n += $1 } END { printf "%d\n", n }' "$SINK_LOG"; }
fresh() { : >"$RELAY_LOG"; : >"$SINK_LOG"; seg=$OM_TMP/$1.seg; }
# the segment's onion bytes equal what the relay exchanged with clients
onion_exact() { # SEGMENT
	local in out
	read -r in out < <(relay_sum)
	om_expect "$1" 'onionmeter_bytes_total{class="onion",direction="egress"}' "$in"
	om_expect "$1" 'onionmeter_bytes_total{class="onion",direction="ingress"}' "$out"
}
no_other_class() { # SEGMENT CLASS...: no dial of these classes at all
	local s=$1 c
	shift
	for c in "$@"; do
		om_scrape "$s" | awk -v c="$c" '$1 ~ "^onionmeter_dials_total\\{class=\"" c "\"" && $2 != 0 { bad = 1; print } END { exit bad }' ||
			om_fail "$s: unexpected $c dials"
	done
}
# a socks5h connection made by hand, in Python
SOCKS_PY='
import socket
def onion(port, host="'"$ONION"'"):
    s = socket.create_connection(("127.0.0.1", 1080))
    s.sendall(b"\x05\x01\x00"); assert s.recv(2) == b"\x05\x00"
    h = host.encode()
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(h)]) + h + port.to_bytes(2, "big"))
    r = s.recv(10); assert r[1] == 0, r
    return s
def finish(s):
    s.shutdown(socket.SHUT_WR); n = int(s.recv(100)); s.close(); return n
'

# 1. CPython's subprocess uses vfork: the child's close_range and dup2
#    before exec must change nothing of the parent's state, with and
#    without stdout=<socket>; the gauge stays exact throughout
fresh vfork
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c "$SOCKS_PY"'
import os, subprocess, sys, time
a, b = onion(7000), onion(7000)
a.sendall(b"a" * 1000); b.sendall(b"b" * 2000)
open(sys.argv[1] + ".1", "w").close()
while not os.path.exists(sys.argv[1] + ".go1"): time.sleep(0.02)
for _ in range(5):
    subprocess.run(["true"], check=True)
subprocess.run(["sh", "-c", "printf hi"], stdout=b, check=True)   # the child writes to b
sys.stdout.write("x" * 1000); sys.stdout.flush()                    # ours: a pipe, not counted
open(sys.argv[1] + ".2", "w").close()
while not os.path.exists(sys.argv[1] + ".go2"): time.sleep(0.02)
assert finish(a) == 1000 and finish(b) == 2002
' "$OM_TMP/vfork" >"$OM_TMP/vfork.out" &
vpid=$!
om_wait_file "$OM_TMP/vfork.1"
om_expect "$seg" 'onionmeter_connections{class="onion"}' 2
touch "$OM_TMP/vfork.go1"
om_wait_file "$OM_TMP/vfork.2"
om_expect "$seg" 'onionmeter_connections{class="onion"}' 2
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' 0
touch "$OM_TMP/vfork.go2"
wait "$vpid" || om_fail "the vfork client failed"
om_expect "$seg" 'onionmeter_connections{class="onion"}' 0
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 2
onion_exact "$seg"
no_other_class "$seg" local proxied direct
echo "ok: CPython subprocess (vfork), with and without stdout=<socket>: gauge and bytes exact"

# 2. torsocks before us (it resolves libc's connect/close by handle): two
#    onion fetches and one local, in one process; the same under
#    proxychains4.  Every byte, dial and gauge exact.
if [ "${OM_SANITIZED:-0}" = 0 ] && command -v torsocks >/dev/null; then
	printf 'TorAddress 127.0.0.1\nTorPort 1080\nAllowOutboundLocalhost 1\n' >torsocks.conf
	LPORT=$(om_free_port)
	LD_PRELOAD= om_bg "$PY" -c '
import socket, sys
ls = socket.socket(); ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(8)
while True:
    c, _ = ls.accept(); n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        n += len(b)
    c.sendall(str(n).encode()); c.close()' "$LPORT"
	om_wait_port 127.0.0.1 "$LPORT"
	FETCH_PY='
import socket, sys, urllib.request
for _ in range(2):
    assert len(urllib.request.urlopen("http://'"$ONION"'/blob").read()) == 100003
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); s.sendall(b"L" * 500)
s.shutdown(socket.SHUT_WR); assert int(s.recv(100)) == 500; s.close()
'
	fresh torsocks-py
	ONIONMETER_SEGMENT=$seg TORSOCKS_CONF_FILE=$OM_TMP/torsocks.conf "$OM_RUN" -- \
		torsocks "$PY" -c "$FETCH_PY" "$LPORT" || om_fail "python under torsocks failed"
	om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 2
	om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="success"}' 1
	om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' 500
	om_expect "$seg" 'onionmeter_connections{class="onion"}' 0
	om_expect "$seg" 'onionmeter_leaks_total{kind="onion_dns",action="observed"}' 0
	onion_exact "$seg"
	echo "ok: torsocks + Python: 2 onion and 1 local fetch, exact"
	if command -v node >/dev/null; then
		fresh torsocks-node
		ONIONMETER_SEGMENT=$seg TORSOCKS_CONF_FILE=$OM_TMP/torsocks.conf "$OM_RUN" -- torsocks node -e '
const http = require("http");
const get = () => new Promise((ok, bad) => http.get("http://'"$ONION"'/blob", (r) => {
  let n = 0; r.on("data", (d) => n += d.length); r.on("end", () => n === 100003 ? ok() : bad(n));
}).on("error", bad));
get().then(get).catch((e) => { console.error(e); process.exit(1); });' || om_fail "node under torsocks failed"
		om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 2
		om_expect "$seg" 'onionmeter_connections{class="onion"}' 0
		onion_exact "$seg"
		echo "ok: torsocks + Node.js: 2 onion fetches, exact"
	fi
	if command -v proxychains4 >/dev/null; then
		printf 'strict_chain\nproxy_dns\nquiet_mode\nlocalnet 127.0.0.0/255.0.0.0\n[ProxyList]\nsocks5 127.0.0.1 1080\n' >pc.conf
		fresh proxychains-py
		ONIONMETER_SEGMENT=$seg "$OM_RUN" -- proxychains4 -f "$OM_TMP/pc.conf" "$PY" -c "$FETCH_PY" "$LPORT" ||
			om_fail "python under proxychains4 failed"
		om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 2
		om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="success"}' 1
		om_expect "$seg" 'onionmeter_connections{class="onion"}' 0
		no_other_class "$seg" direct proxied
		onion_exact "$seg"
		echo "ok: proxychains4 + Python: 2 onion and 1 local fetch, exact"
	fi

	# the wrong order: us first, then torsocks.  Said once, counted right,
	# no false leak.
	fresh wrong-order
	TS=$(dirname "$(readlink -f "$(command -v torsocks)")")/../lib/$(uname -m)-linux-gnu/torsocks/libtorsocks.so
	[ -e "$TS" ] || TS=$(find /usr/lib -name libtorsocks.so | head -1)
	ONIONMETER_SEGMENT=$seg TORSOCKS_CONF_FILE=$OM_TMP/torsocks.conf LD_PRELOAD="$OM_PRELOAD:$TS" \
		"$PY" -c "$FETCH_PY" "$LPORT" 2>wrong.err || { cat wrong.err; om_fail "wrong order: python failed"; }
	[ "$(grep -c 'after onionmeter' wrong.err)" = 1 ] || { cat wrong.err; om_fail "wrong order: want one message"; }
	om_expect "$seg" 'onionmeter_leaks_total{kind="onion_dns",action="observed"}' 0
	om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 2
	no_other_class "$seg" direct proxied
	onion_exact "$seg"
	echo "ok: LD_PRELOAD in the wrong order: said once, counted right, no false leak"
else
	echo "skip: torsocks and proxychains rows (sanitizer build, or not installed)"
fi

# 3. RTLD_DEEPBIND: a C program's plugin, and PHP's ext/curl (the ASan
#    runtime refuses RTLD_DEEPBIND itself: plain build only)
if [ "${OM_SANITIZED:-0}" = 0 ]; then
	fresh deepbind
	out=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$OM_BUILD/tests/around" deepbind "$OM_PLUGIN" "$H" 7000 50000)
	[ "$out" = "sent 50000" ] || om_fail "deepbind: $out"
	om_expect "$seg" 'onionmeter_dials_total{class="direct",outcome="success"}' 1
	om_expect "$seg" 'onionmeter_bytes_total{class="direct",direction="egress"}' "$(sink_sum)"
	echo "ok: a plugin loaded with RTLD_DEEPBIND is counted"
else
	echo "skip: RTLD_DEEPBIND rows (the ASan runtime refuses RTLD_DEEPBIND)"
fi
if command -v php >/dev/null && php -m 2>/dev/null | grep -qx curl && [ "${OM_SANITIZED:-0}" = 0 ]; then
	fresh php-onion
	out=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" -- php -r '$c = curl_init("http://'"$ONION"'/blob");
curl_setopt($c, CURLOPT_RETURNTRANSFER, 1); curl_setopt($c, CURLOPT_PROXY, "socks5h://127.0.0.1:1080");
echo strlen(curl_exec($c));')
	[ "$out" = 100003 ] || om_fail "php onion: $out"
	om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 1
	onion_exact "$seg"
	fresh php-leak
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- php -r '$c = curl_init("http://'"$ONION"'/blob");
curl_setopt($c, CURLOPT_RETURNTRANSFER, 1); curl_setopt($c, CURLOPT_PROXY, "socks5://127.0.0.1:1080");
curl_exec($c);' || true
	om_expect "$seg" 'onionmeter_leaks_total{kind="onion_dns",action="observed"}' 1
	fresh php-direct
	out=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" -- php -r '$c = curl_init("http://'"$H"'/blob");
curl_setopt($c, CURLOPT_RETURNTRANSFER, 1); echo strlen(curl_exec($c));')
	[ "$out" = 100003 ] || om_fail "php direct: $out"
	om_expect "$seg" 'onionmeter_dials_total{class="direct",outcome="success"}' 1
	fresh php-enforced
	out=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" --policy tor-only --enforce -- php -r '$c = curl_init("http://'"$H"':7000/");
curl_setopt($c, CURLOPT_RETURNTRANSFER, 1); echo curl_exec($c) === false ? "refused" : "through";' 2>/dev/null)
	[ "$out" = refused ] || om_fail "php direct under --enforce: $out"
	sleep 0.2
	[ ! -s "$SINK_LOG" ] || om_fail "php under --enforce reached the server"
	om_expect "$seg" 'onionmeter_leaks_total{kind="direct_connect",action="blocked"}' 1
	echo "ok: PHP $(php -r 'echo PHP_VERSION;') ext/curl (RTLD_DEEPBIND): onion, leak and direct counted; the enforced dial refused"
else
	echo "skip: PHP rows (php-cli with php-curl not installed, or sanitizer build)"
fi

# 4. a socket passed to another process with SCM_RIGHTS keeps its class;
#    the gauge follows the descriptor
fresh scm
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c "$SOCKS_PY"'
import os, socket, subprocess, sys, time
p, q = socket.socketpair()
child = subprocess.Popen([sys.executable, "-c", """
import os, socket, sys, time
q = socket.socket(fileno=int(sys.argv[1]))
_, fds, _, _ = socket.recv_fds(q, 10, 1)
s = socket.socket(fileno=fds[0])
s.sendall(b"r" * 3000)
open(sys.argv[2] + ".held", "w").close()
while not os.path.exists(sys.argv[2] + ".go"): time.sleep(0.02)
s.shutdown(socket.SHUT_WR); assert int(s.recv(100)) == 4000; s.close()
""", str(q.fileno()), sys.argv[1]], pass_fds=[q.fileno()])
s = onion(7000)
s.sendall(b"s" * 1000)
socket.send_fds(p, [b"x"], [s.fileno()])
s.close()
assert child.wait() == 0
' "$OM_TMP/scm" &
spid=$!
om_wait_file "$OM_TMP/scm.held"
om_expect "$seg" 'onionmeter_connections{class="onion"}' 1
touch "$OM_TMP/scm.go"
wait "$spid" || om_fail "the SCM_RIGHTS pair failed"
om_expect "$seg" 'onionmeter_connections{class="onion"}' 0
onion_exact "$seg"
no_other_class "$seg" local proxied direct
echo "ok: a socket passed with SCM_RIGHTS stays onion; the gauge follows it"

# 5. two threads on one handshake: the reply read by another thread than
#    the one writing the request (what Java's HttpClient does)
fresh race
out=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$OM_BUILD/tests/around" race 127.0.0.1 1080 300 "$ONION")
[ "$out" = "connected 300 of 300" ] || om_fail "race: $out"
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 300
no_other_class "$seg" local proxied direct
onion_exact "$seg"
echo "ok: 300 CONNECT handshakes with the reply read by another thread: all onion"
if command -v javac >/dev/null && command -v keytool >/dev/null; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj "/CN=$ONION" -addext "subjectAltName=DNS:$ONION" -keyout tls.key -out tls.crt 2>/dev/null
	keytool -importcert -noprompt -alias onion -file tls.crt -keystore trust.p12 \
		-storetype PKCS12 -storepass changeit >/dev/null 2>&1
	LD_PRELOAD= om_bg "$PY" -c 'import http.server, ssl, functools, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = http.server.ThreadingHTTPServer((sys.argv[4], 443), h)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain(sys.argv[2], sys.argv[3])
s.socket = c.wrap_socket(s.socket, server_side=True)
s.serve_forever()' "$OM_TMP/www" tls.crt tls.key "$H" 2>/dev/null
	om_wait_port "$H" 443
	cat >Get.java <<EOF
import java.net.*;
import java.net.http.*;
public class Get {
    public static void main(String[] a) throws Exception {
        for (int i = 0; i < Integer.parseInt(a[1]); i++) {
            HttpClient c = HttpClient.newBuilder()
                .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", 1080))).build();
            HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(URI.create(a[0])).build(),
                HttpResponse.BodyHandlers.ofByteArray());
            if (r.body().length != 100003) throw new RuntimeException("short body");
        }
    }
}
EOF
	javac -d . Get.java
	for run in 1 2 3 4 5; do
		fresh java-$run
		ONIONMETER_SEGMENT=$seg "$OM_RUN" -- java -Djavax.net.ssl.trustStore=trust.p12 \
			-Djavax.net.ssl.trustStorePassword=changeit -cp . Get "https://$ONION/blob" 10 ||
			om_fail "java run $run failed"
		om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 10
		no_other_class "$seg" local proxied direct
		onion_exact "$seg"
	done
	echo "ok: Java $(java -version 2>&1 | awk -F'"' 'NR==1{print $2}') HttpClient through HTTP CONNECT: 50 connections, all onion, exact"
else
	echo "skip: Java row (javac and keytool not installed: Debian openjdk-17-jdk-headless)"
fi

# 6. the first datagram of a fresh UDP socket, through every message call;
#    Node dgram, 20 sockets of one datagram each
fresh udp
out=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$OM_BUILD/tests/around" udpfirst "$H" 7001)
read -r _ eg _ in <<<"$out"
om_expect "$seg" 'onionmeter_bytes_total{class="direct",direction="egress"}' "$eg"
om_expect "$seg" 'onionmeter_bytes_total{class="direct",direction="ingress"}' "$in"
echo "ok: first datagrams through sendmsg, sendmmsg, recvmsg, recvmmsg: $out"
if command -v node >/dev/null; then
	fresh node-dgram
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- node -e '
const dgram = require("dgram");
let left = 20;
for (let i = 0; i < 20; i++) {
  const s = dgram.createSocket("udp4");
  s.on("message", (m) => { if (m.length !== 100) process.exit(1); s.close(); if (--left === 0) process.exit(0); });
  s.send(Buffer.alloc(100, 120), 7001, "'"$H"'");
}
setTimeout(() => process.exit(2), 10000);' || om_fail "node dgram failed"
	om_expect "$seg" 'onionmeter_bytes_total{class="direct",direction="egress"}' 2000
	om_expect "$seg" 'onionmeter_bytes_total{class="direct",direction="ingress"}' 2000
	echo "ok: Node.js dgram, 20 sockets of one datagram: exact"
fi

# 7. TCP Fast Open is a connect: judged, and refused under --enforce with
#    nothing reaching the server
for how in sendto sendmsg; do
	fresh tfo-$how
	out=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" --policy tor-only --enforce -- "$OM_BUILD/tests/around" tfo "$how" "$H" 7000)
	[ "$out" = "$how -1 Permission denied" ] || om_fail "TFO $how under --enforce: $out"
	sleep 0.2
	[ ! -s "$SINK_LOG" ] || om_fail "TFO $how under --enforce reached the server"
	om_expect "$seg" 'onionmeter_leaks_total{kind="direct_connect",action="blocked"}' 1
	fresh tfo-$how-audit
	out=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" --policy tor-only -- "$OM_BUILD/tests/around" tfo "$how" "$H" 7000)
	[ "$out" = "$how 100 ok" ] || om_fail "TFO $how: $out"
	om_expect "$seg" 'onionmeter_leaks_total{kind="direct_connect",action="observed"}' 1
	om_expect "$seg" 'onionmeter_dials_total{class="direct",outcome="success"}' 1
	om_expect "$seg" 'onionmeter_bytes_total{class="direct",direction="egress"}' "$(sink_sum)"
done
echo "ok: sendto and sendmsg with MSG_FASTOPEN: judged as a connect, refused under --enforce"

# 8. splice: a 1 MiB upload (file -> pipe -> socket) and download
#    (socket -> pipe -> file)
fresh splice
head -c 1048576 /dev/urandom >up.bin
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c '
import os, socket, sys
s = socket.create_connection((sys.argv[1], 7000))
f = os.open(sys.argv[2], os.O_RDONLY); r, w = os.pipe(); left = 1048576
while left:
    n = os.splice(f, w, min(left, 65536)); m = 0
    while m < n: m += os.splice(r, s.fileno(), n - m)
    left -= n
s.shutdown(socket.SHUT_WR); assert int(s.recv(100)) == 1048576; s.close()
d = socket.create_connection((sys.argv[1], 80)); d.sendall(b"GET /blob HTTP/1.0\r\n\r\n")
out = os.open(sys.argv[3], os.O_WRONLY | os.O_CREAT, 0o600); got = 0
while True:
    n = os.splice(d.fileno(), w, 65536)
    if not n: break
    m = 0
    while m < n: m += os.splice(r, out, n - m)
    got += n
print(got)' "$H" up.bin down.bin >splice.out || om_fail "splice client failed"
om_expect "$seg" 'onionmeter_bytes_total{class="direct",direction="egress"}' $((1048576 + 22))
om_expect "$seg" 'onionmeter_bytes_total{class="direct",direction="ingress"}' $(( $(cat splice.out) + 7 ))
echo "ok: splice upload and download: exact"

# 9. fclose() of an fdopen()ed socket closes inside libc; the number reused
#    by a file must not carry the socket's state
fresh fclose
out=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$OM_BUILD/tests/around" fclose "$H" 7000 "$OM_TMP/file.bin")
case $out in "file 1048576 bytes on fd"*) ;; *) om_fail "fclose: $out" ;; esac
eg=$(om_metric "$seg" 'onionmeter_bytes_total{class="direct",direction="egress"}')
[ "$eg" -le 16 ] || om_fail "the file's bytes were counted as network egress: $eg"
echo "ok: fclose of an fdopen()ed socket, number reused by a file: the file's MiB not counted"

# 10. raw clone(SIGCHLD) children writing one byte at a time on the
#     inherited connection while the parent does
fresh clone
out=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$OM_BUILD/tests/around" clone "$H" 7000 20)
[ "$out" = "wrote 4000" ] || om_fail "clone: $out"
om_expect "$seg" 'onionmeter_bytes_total{class="direct",direction="egress"}' "$(sink_sum)"
om_expect "$seg" 'onionmeter_bytes_total{class="direct",direction="egress"}' 4000
echo "ok: raw clone(SIGCHLD) children doing 1-byte I/O: exact"
echo PASS
