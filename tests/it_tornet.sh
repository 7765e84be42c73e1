#!/usr/bin/env bash
# Real Tor, end to end: a private Tor network (tests/tornet.sh: directory
# authorities, relays, an exit, a v3 onion service, a client) in a private
# network namespace, and every number the shim gives checked through it.
# Ground truth is the onion service's backend and the clearnet host's own
# byte logs (tests/tornet_backend.py) plus the proxy handshake as the
# protocol fixes it, tor's replies, and curl's own view.  Rows:
#   curl to the onion service from 1 KiB to 50 MiB, a 1 MiB upload,
#   keep-alive, 20 transfers in parallel in one process; Python (PySocks)
#   and Node (socks-proxy-agent) programs of many connections; SOCKS4a,
#   SOCKS5 with isolation credentials, the Unix-domain SocksPort, the
#   HTTPTunnelPort; clearnet through the exit (proxied) and directly
#   (direct); tor's failure replies; the backend itself under the shim;
#   the open-connections gauge; a Go client, seen by the kernel view only.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tornet.sh"
om_need tor tor-gencert curl openssl
om_enter_netns "$@"
om_tmpdir
cd "$OM_TMP"
tornet_start
ASAN=${OM_SANITIZED:-0}
ONION=$TN_ONION
B=$TN_BACKEND_LOG C=$TN_CLEAR_LOG

# every segment is a file in OM_TMP, named by its row
ex() { om_expect "$OM_TMP/$1" "$2" "$3"; }
metric() { om_metric "$OM_TMP/$1" "$2"; }
# curl's SOCKS5 greeting offers GSS-API too when built with it
GREET=3
curl -V | grep -q GSS-API && GREET=4
# SOCKS5 without credentials: greeting + request (7 + the name, or 10 for
# an IPv4 address, which curl sends as one) out; method choice (2) + reply
# (10, IPv4 0.0.0.0:0 from tor) in
s5() {
	case $1 in
	*[!0-9.]*) echo $((${2:-$GREET} + 7 + ${#1})) 12 ;;
	*) echo $((${2:-$GREET} + 10)) 12 ;;
	esac
}

# row SEG CLASS LOG N OUT IN: CLASS in SEG holds N successful dials, none
# open, and exactly the bytes LOG's server saw on N connections, plus OUT
# and IN of proxy handshake per connection
row() {
	local seg=$1 cls=$2 log=$3 n=$4 ho=$5 hi=$6 in out
	om_wait_lines "$log" "$n"
	[ "$(wc -l <"$log")" = "$n" ] || om_fail "$seg: the server saw $(wc -l <"$log") connections, want $n"
	read -r in out < <(om_log_sum "$log")
	ex "$seg" "onionmeter_dials_total{class=\"$cls\",outcome=\"success\"}" "$n"
	ex "$seg" "onionmeter_bytes_total{class=\"$cls\",direction=\"egress\"}" $((in + n * ho))
	ex "$seg" "onionmeter_bytes_total{class=\"$cls\",direction=\"ingress\"}" $((out + n * hi))
	ex "$seg" "onionmeter_connections{class=\"$cls\"}" 0
}
under() { # SEG CMD...: CMD under the shim, counting into SEG
	local seg=$1
	shift
	ONIONMETER_SEGMENT=$OM_TMP/$seg "$OM_RUN" -- "$@"
}
fresh() { : >"$B"; : >"$C"; }
LAT=$OM_TMP/latency.txt
: >"$LAT"

if [ "$ASAN" = 0 ]; then
	# 1. curl, 1 KiB .. 50 MiB, one process and one dial each; the dial's
	#    latency recorded next to curl's time_pretransfer
	read -r ho hi < <(s5 "$ONION")
	for n in 1024 1048576 52428800; do
		fresh
		got=$(under "size-$n" curl -sS -o /dev/null -w '%{size_download} %{time_pretransfer}' \
			--socks5-hostname "$TN_SOCKS" "http://$ONION/bytes/$n")
		[ "${got% *}" = "$n" ] || om_fail "curl read ${got% *} bytes of $n"
		row "size-$n" onion "$B" 1 "$ho" "$hi"
		shim=$(metric "size-$n" 'onionmeter_dial_duration_seconds_sum{class="onion"}')
		echo "curl $n B: dial $shim s (shim), time_pretransfer ${got#* } s (curl)" >>"$LAT"
	done
	echo "ok: curl through Tor to the onion service, 1 KiB to 50 MiB: exact"

	# 2. a 1 MiB upload
	fresh
	head -c 1048576 /dev/urandom >up.bin
	got=$(under upload curl -sS -T up.bin --socks5-hostname "$TN_SOCKS" "http://$ONION/upload")
	[ "$got" = "got 1048576" ] || om_fail "upload: the backend answered '$got'"
	row upload onion "$B" 1 "$ho" "$hi"
	echo "ok: a 1 MiB upload: exact"

	# 3. keep-alive: five requests on one connection
	fresh
	args=()
	for i in 0 1 2 3 4; do args+=(-o /dev/null "http://$ONION/bytes/$((1000 + i))"); done
	under keepalive curl -sS --socks5-hostname "$TN_SOCKS" "${args[@]}"
	row keepalive onion "$B" 1 "$ho" "$hi"
	[ "$(awk '{ print $3 }' "$B")" = 5 ] || om_fail "keep-alive: $(cat "$B")"
	echo "ok: keep-alive, 5 requests on one connection: one dial, exact"

	# 4. 20 transfers at once in one process
	fresh
	args=()
	for i in $(seq 1 20); do args+=(-o /dev/null "http://$ONION/bytes/$((65536 + i))"); done
	under parallel curl -sS -Z --parallel-max 20 --parallel-immediate --socks5-hostname "$TN_SOCKS" "${args[@]}"
	row parallel onion "$B" 20 "$ho" "$hi"
	echo "ok: 20 parallel transfers in one curl: 20 dials, exact"

	# 5. SOCKS4a: VN CD PORT IP, an empty user id and the name, each ended
	#    by NUL, out; 8 bytes in
	fresh
	under socks4a curl -sS -o /dev/null --socks4a "$TN_SOCKS" "http://$ONION/bytes/4000"
	row socks4a onion "$B" 1 $((8 + 1 + ${#ONION} + 1)) 8
	# SOCKS5 with the credentials Tor isolates streams by: the greeting
	# offers username/password too, then the sub-negotiation (RFC 1929)
	fresh
	under isolated curl -sS -o /dev/null --socks5-hostname "$TN_SOCKS" \
		--proxy-user alice:s3cret "http://$ONION/bytes/5000"
	row isolated onion "$B" 1 $((GREET + 1 + 3 + 5 + 6 + 7 + ${#ONION})) $((2 + 2 + 10))
	# the Unix-domain SocksPort, listed as a proxy: there tor answers with
	# an IPv6 BND.ADDR (ATYP 4, a 22-byte reply)
	fresh
	ONIONMETER_PROXIES="unix:$TN_SOCKS_UNIX" under unix curl -sS -o /dev/null \
		-x "socks5h://localhost$TN_SOCKS_UNIX" "http://$ONION/bytes/6000"
	row unix onion "$B" 1 "$ho" $((2 + 22))
	# the HTTPTunnelPort: the CONNECT request and tor's answer, from curl's
	# trace of what it sent and read
	fresh
	under tunnel curl -sS -o /dev/null --trace-ascii tunnel.trace -p -x "http://$TN_HTTP" "http://$ONION/bytes/7000"
	read -r t_out t_in < <(awk '/^=> Send (header|data)/ { o += $4 } /^<= Recv (header|data)/ { i += $4 } END { print o, i }' tunnel.trace)
	om_wait_lines "$B" 1
	read -r b_in b_out < <(om_log_sum "$B")
	row tunnel onion "$B" 1 $((t_out - b_in)) $((t_in - b_out))
	[ $((t_out - b_in)) -gt 40 ] || om_fail "tunnel: curl sent only $t_out bytes"
	echo "ok: SOCKS4a, SOCKS5 with isolation credentials, the Unix SocksPort, the HTTPTunnelPort: exact"

	# 6. clearnet through the exit, and the same host directly
	fresh
	under exit curl -sS -o /dev/null --socks5-hostname "$TN_SOCKS" "http://198.18.0.1/bytes/300000"
	read -r eo ei < <(s5 198.18.0.1)
	row exit proxied "$C" 1 "$eo" "$ei"
	fresh
	under direct curl -sS -o /dev/null "http://198.18.0.1/bytes/300000"
	row direct direct "$C" 1 0 0
	echo "ok: the clearnet host through Tor's exit (proxied) and directly (direct): exact"

	# 7. what tor answers when the dial fails, and the outcome it becomes
	fail_row() { # NAME OUTCOME HOST [USER]: one dial of that outcome, its
		# handshake's bytes; USER (password "p"): credentials of their own,
		# a stream that tor isolates from every earlier one
		local seg=$1 outcome=$2 host=$3 user=${4:-} auth=() o=$((GREET + 7 + ${#3})) i=12
		if [ -n "$user" ]; then
			auth=(--proxy-user "$user:p")
			o=$((o + 1 + 3 + ${#user} + 1))
			i=$((i + 2))
		fi
		under "$seg" curl -s -o /dev/null --max-time 120 --socks5-hostname "$TN_SOCKS" "${auth[@]}" \
			"http://$host/" || true
		# OUTCOME may be a list: one of them, exactly once
		local o_ got=""
		for o_ in $outcome; do
			[ "$(metric "$seg" "onionmeter_dials_total{class=\"onion\",outcome=\"$o_\"}")" = 1 ] && got=$o_
		done
		[ -n "$got" ] || om_fail "$seg: no onion dial with outcome $outcome: $(om_scrape "$OM_TMP/$seg" | grep '^onionmeter_dials_total{class="onion"' | grep -v ' 0$')"
		echo "ok: $seg: onion dial, $got"
		ex "$seg" 'onionmeter_dial_duration_seconds_count{class="onion"}' 1
		ex "$seg" 'onionmeter_bytes_total{class="onion",direction="egress"}' "$o"
		ex "$seg" 'onionmeter_bytes_total{class="onion",direction="ingress"}' "$i"
	}
	fail_row no-descriptor onion_not_found "$(tornet_unknown_onion)"
	fail_row malformed onion_bad_address not-a-valid-address.onion
	tornet_stop_backend
	fail_row backend-down proxy_error "$ONION"
	tornet_start_backend
	echo "ok: no descriptor (0xF0: onion_not_found), malformed (0xF6: onion_bad_address), backend down (0x01: proxy_error)"
else
	echo "skip: the curl rows (curl cannot run with the ASan runtime preloaded)"
fi

# 8. Python, many connections in one process: ten one after another (the
#    fd numbers reused), five from threads; PySocks, SOCKS5 without
#    credentials
fresh
under python "$PY" - "$ONION" <<'PY'
import socks, sys, threading
def get(n):
    s = socks.socksocket()
    s.set_proxy(socks.SOCKS5, "127.0.0.1", 9050, rdns=True)
    s.connect((sys.argv[1], 80))
    s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % n)
    got = b""
    while True:
        b = s.recv(65536)
        if not b: break
        got += b
    s.close()
    assert len(got.split(b"\r\n\r\n", 1)[1]) == n, len(got)
for i in range(10):
    get(1000 + i)
ts = [threading.Thread(target=get, args=(20000 + i,)) for i in range(5)]
for t in ts: t.start()
for t in ts: t.join()
PY
read -r ho hi < <(s5 "$ONION" 3)
row python onion "$B" 15 "$ho" "$hi"
echo "ok: Python (PySocks): 15 connections, sequential and threaded: exact"

# 9. Node: socks-proxy-agent, five requests, one connection each
if NODE=$(command -v node) && [ -d "$OM_SRC/tests/node/node_modules/socks-proxy-agent" ]; then
	fresh
	NODE_PATH=$OM_SRC/tests/node/node_modules under node "$NODE" -e '
const http = require("http");
const { SocksProxyAgent } = require("socks-proxy-agent");
const agent = new SocksProxyAgent("socks5h://127.0.0.1:9050");
async function get(n) {
  return new Promise((resolve, reject) => {
    http.get(`http://${process.argv[1]}/bytes/${n}`, { agent, headers: { Connection: "close" } }, (res) => {
      let got = 0;
      res.on("data", (c) => { got += c.length; });
      res.on("end", () => (got === n ? resolve() : reject(new Error(`${got} of ${n}`))));
    }).on("error", reject);
  });
}
(async () => { for (let i = 0; i < 5; i++) await get(3000 + i); })().catch((e) => { console.error(e); process.exit(1); });' "$ONION"
	row node onion "$B" 5 "$ho" "$hi"
	echo "ok: Node.js $("$NODE" --version) socks-proxy-agent: 5 connections: exact"
else
	echo "skip: Node rows (node or tests/node/node_modules missing: scripts/dev setup installs them)"
fi

# 10. the open-connections gauge, with a connection held open
fresh
under held "$PY" - "$ONION" "$OM_TMP/held.ready" "$OM_TMP/held.go" "$OM_WAIT" <<'PY' &
import os, socks, sys, time
s = socks.socksocket()
s.set_proxy(socks.SOCKS5, "127.0.0.1", 9050, rdns=True)
s.connect((sys.argv[1], 80))
s.sendall(b"GET /bytes/100 HTTP/1.1\r\nHost: x\r\n\r\n")
got = b""
while not got.endswith(bytes(range(100))):
    got += s.recv(65536)
open(sys.argv[2], "w").close()
end = time.time() + float(sys.argv[4])
while not os.path.exists(sys.argv[3]) and time.time() < end:
    time.sleep(0.02)
s.close()
PY
hpid=$!
om_wait_file held.ready
ex held 'onionmeter_connections{class="onion"}' 1
touch held.go
wait "$hpid" || om_fail "the held connection's program failed"
row held onion "$B" 1 "$ho" "$hi"
echo "ok: the open-connections gauge: 1 while held, 0 after"

# 11. the onion service's backend itself under the shim: tor connects to
#     it from loopback; ONIONMETER_ONION_PORTS makes those onion
tornet_stop_backend
: >backend-self.log
ONIONMETER_ONION_PORTS=8080 ONIONMETER_SEGMENT=$OM_TMP/backend "$OM_RUN" -- \
	"$PY" "$OM_SRC/tests/tornet_backend.py" 127.0.0.1 8080 "$OM_TMP/backend-self.log" &
spid=$!
OM_PIDS="$OM_PIDS $spid"
om_wait_port 127.0.0.1 8080
LD_PRELOAD= "$PY" - "$ONION" <<'PY'
import socks, sys
for n in (10000, 20000, 30000):
    s = socks.socksocket(); s.set_proxy(socks.SOCKS5, "127.0.0.1", 9050, rdns=True)
    s.connect((sys.argv[1], 80))
    s.sendall(b"GET /bytes/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % n)
    while s.recv(65536): pass
    s.close()
PY
om_wait_lines backend-self.log 3
read -r in out < <(om_log_sum backend-self.log)
ex backend 'onionmeter_accepted_total{class="onion"}' 3
ex backend 'onionmeter_bytes_total{class="onion",direction="ingress"}' "$in"
ex backend 'onionmeter_bytes_total{class="onion",direction="egress"}' "$out"
kill "$spid"
wait "$spid" 2>/dev/null || true
tornet_start_backend
echo "ok: the onion service's backend under the shim (ONIONMETER_ONION_PORTS): 3 accepted, exact"

# 12. a Go client (CGO_ENABLED=0): nothing for the shim; the kernel view
#     lists its connection to the SocksPort, bytes exact while it holds it
if command -v go >/dev/null; then
	GOCACHE=$OM_TMP/gocache GOPATH=$OM_TMP/gopath GOPROXY=off CGO_ENABLED=0 \
		go build -o gofetch "$OM_SRC/tests/go/fetch.go" || om_fail "go build"
	EPORT=$(om_free_port)
	LD_PRELOAD= om_bg "$OM_EXPORTER" --listen "127.0.0.1:$EPORT" --segment "$OM_TMP/go.seg" \
		--kernel-interval 50 2>exporter.log
	om_wait_port 127.0.0.1 "$EPORT"
	fresh
	ONIONMETER_SEGMENT=$OM_TMP/go.seg "$OM_RUN" -- ./gofetch "$TN_SOCKS" go.ready go.done \
		"http://$ONION/bytes/1048576" >go.out 2>go.err &
	gpid=$!
	om_poll test -e go.ready || { cat go.err >&2; om_fail "the Go client did not fetch"; }
	kmetric() { curl -s "http://127.0.0.1:$EPORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
	kis() { [ "$(kmetric "$1")" = "$2" ]; }
	# what the kernel view shows, once it has looked twice: the client's
	# connection to the SocksPort, no process accounting for it
	om_poll kis 'onionmeter_unseen_connections{class="proxy"}' 1 ||
		om_fail "the Go client's connection is not a blind spot: $(kmetric 'onionmeter_unseen_connections{class="proxy"}')"
	# the bytes are those of the last poll, which may have begun before the
	# client had read everything (under load a poll is spaced out to 20
	# times its length): wait for two polls begun since
	om_kernel_polled "$EPORT"
	kout=$(kmetric 'onionmeter_kernel_connection_bytes{class="proxy",direction="egress"}')
	kin=$(kmetric 'onionmeter_kernel_connection_bytes{class="proxy",direction="ingress"}')
	touch go.done
	wait "$gpid" || { cat go.err >&2; om_fail "the Go client failed"; }
	[ "$(cat go.out)" = "http://$ONION/bytes/1048576 1048576" ] || om_fail "the Go client read: $(cat go.out)"
	[ ! -e go.seg ] || om_fail "the shim counted something of a Go program"
	om_wait_lines "$B" 1
	read -r in out < <(om_log_sum "$B")
	read -r ho hi < <(s5 "$ONION" 3)
	[ "$kout $kin" = "$((in + ho)) $((out + hi))" ] ||
		om_fail "kernel view: $kout out, $kin in; the backend saw $in in and $out out, plus $ho/$hi of SOCKS"
	echo "ok: $(go version | cut -d' ' -f3) client, CGO_ENABLED=0: a blind spot to the shim; the kernel view's bytes exact ($kout out, $kin in)"
else
	echo "skip: Go row (go not installed: scripts/dev setup installs golang-go)"
fi

# 13. the onion service's tor gone, for streams on circuits of their own
#     (isolated by credentials; a stream on a rendezvous circuit that was
#     open before fails as it breaks): a dial waits for a circuit until
#     SocksTimeout (timeout, 0x06) while tor tries the introduction points;
#     once it has marked them failed, dials fail within seconds
#     (onion_intro_failed 0xF2, or onion_intro_timeout 0xF7).  Which one a
#     dial gets depends on how far tor got: each is one onion dial of one
#     of these outcomes, its bytes exact.
if [ "$ASAN" = 0 ]; then
	tornet_stop_hs
	for i in 1 2; do
		fail_row "hs-down-$i" "timeout onion_intro_failed onion_intro_timeout" "$ONION" "down$i"
	done
	echo "ok: the onion service's tor stopped: each dial a timeout (0x06) or an introduction failure (0xF2, 0xF7)"
fi

if [ -s "$LAT" ]; then
	echo "figures: dial latency, the shim's against curl's own time_pretransfer:"
	cat "$LAT"
fi
echo "figures: the private Tor network bootstrapped in $TN_BOOTSTRAP s"
echo PASS
