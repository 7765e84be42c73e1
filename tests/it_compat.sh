#!/usr/bin/env bash
# The programs users run, each dialling the test .onion through a real SOCKS
# server in a private namespace.  One segment per row of the README's
# compatibility matrix.
set -eu
. "$(dirname "$0")/lib.sh"
om_need microsocks
PATH=$PATH:/usr/sbin # dropbear, for users whose PATH lacks it
have() { # CMD...: all installed, or say that the row is skipped
	local c
	for c; do
		command -v "$c" >/dev/null || { echo "skip: $c not installed (scripts/dev setup installs it)"; return 1; }
	done
}
# curl hangs with the ASan runtime preloaded, and torsocks or proxychains4
# before it in LD_PRELOAD make it abort: those rows run in plain builds
plain_build() {
	[ "${OM_SANITIZED:-0}" = 0 ] || { echo "skip: $1 (sanitizer build)"; return 1; }
}
curl_ok() { plain_build "curl rows" && have curl; }
om_enter_netns "$@"
om_tmpdir
mkdir "$OM_TMP/www"
head -c 100003 /dev/urandom >"$OM_TMP/www/blob"
LD_PRELOAD= om_bg "$PY" -m http.server --bind 198.18.0.1 --directory "$OM_TMP/www" 80 >/dev/null 2>&1
# only the proxy can resolve the onion name, as with Tor: a client that
# resolves it itself fails, and says so by leaking the lookup
om_bg_proxy microsocks -i 127.0.0.1 -p 1080
# the same file over TLS, with a certificate for the onion name
if have openssl; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj "/CN=$ONION" -addext "subjectAltName=DNS:$ONION" \
		-keyout "$OM_TMP/tls.key" -out "$OM_TMP/tls.crt" 2>/dev/null
	LD_PRELOAD= om_bg "$PY" -c 'import http.server, ssl, functools, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = http.server.ThreadingHTTPServer(("198.18.0.1", 443), h)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
c.load_cert_chain(sys.argv[2], sys.argv[3])
s.socket = c.wrap_socket(s.socket, server_side=True)
s.serve_forever()' "$OM_TMP/www" "$OM_TMP/tls.crt" "$OM_TMP/tls.key" 2>/dev/null
	om_wait_port 198.18.0.1 443
fi
om_wait_port 198.18.0.1 80
om_wait_port 127.0.0.1 1080
row() { echo "ok: $*"; }
onion_ok() { # SEGMENT [MIN_INGRESS]: one successful onion dial, no leak, the bytes
	om_expect "$1" 'onionmeter_dials_total{class="onion",outcome="success"}' 1
	om_expect "$1" 'onionmeter_leaks_total{kind="onion_dns",action="observed"}' 0
	local in
	in=$(om_metric "$1" 'onionmeter_bytes_total{class="onion",direction="ingress"}')
	[ "$in" -gt "${2:-100003}" ] || om_fail "$1: onion ingress $in"
}

# Python requests, socks5h:// (the proxy resolves) and socks5:// (a leak)
if "$PY" -c 'import requests, socks' 2>/dev/null; then
	seg=$OM_TMP/requests.seg
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c 'import requests, sys
r = requests.get("http://'"$ONION"'/blob", proxies={"http": "socks5h://127.0.0.1:1080"}, timeout=10)
assert len(r.content) == 100003'
	onion_ok "$seg"
	seg=$OM_TMP/requests-socks5.seg
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c 'import requests
try:
    requests.get("http://'"$ONION"'/blob", proxies={"http": "socks5://127.0.0.1:1080"}, timeout=10)
    raise SystemExit("the onion name resolved outside the proxy")
except requests.exceptions.ConnectionError:
    pass'
	om_expect "$seg" 'onionmeter_leaks_total{kind="onion_dns",action="observed"}' 1
	row "python3-requests $("$PY" -c 'import requests; print(requests.__version__)'): socks5h counted onion; socks5 reported as onion_dns"
fi

# OpenBSD netcat through SOCKS5
if nc -h 2>&1 | grep -q 'OpenBSD'; then
	seg=$OM_TMP/nc.seg
	printf 'GET /blob HTTP/1.0\r\n\r\n' | ONIONMETER_SEGMENT=$seg "$OM_RUN" -- nc -X 5 -x 127.0.0.1:1080 "$ONION" 80 >"$OM_TMP/nc.out"
	[ "$(wc -c <"$OM_TMP/nc.out")" -gt 100003 ] || om_fail "nc got too little"
	onion_ok "$seg"
	row "OpenBSD netcat (nc -X 5): counted onion"
	if have tinyproxy; then
		printf 'Port 8888\nListen 127.0.0.1\nTimeout 30\nConnectPort 80\nLogLevel Critical\n' >"$OM_TMP/tinyproxy.conf"
		om_bg_proxy tinyproxy -d -c "$OM_TMP/tinyproxy.conf"
		om_wait_port 127.0.0.1 8888
		seg=$OM_TMP/nc-connect.seg
		printf 'GET /blob HTTP/1.0\r\n\r\n' | ONIONMETER_SEGMENT=$seg "$OM_RUN" -- \
			nc -X connect -x 127.0.0.1:8888 "$ONION" 80 >"$OM_TMP/nc.out"
		[ "$(wc -c <"$OM_TMP/nc.out")" -gt 100003 ] || om_fail "nc -X connect got too little"
		onion_ok "$seg"
		row "OpenBSD netcat (nc -X connect) through tinyproxy $(tinyproxy -v | awk '{print $2}'): counted onion"
	fi
fi

# OpenSSH through SOCKS with ProxyCommand, to a real SSH server (dropbear,
# which runs unprivileged) at the onion name; the key exchange completes and
# authentication is refused, which is all this row needs
if have ssh dropbear dropbearkey && nc -h 2>&1 | grep -q 'OpenBSD'; then
	dropbearkey -t ed25519 -f "$OM_TMP/dropbear.key" >/dev/null 2>&1
	LD_PRELOAD= om_bg dropbear -F -E -s -g -r "$OM_TMP/dropbear.key" -p 198.18.0.1:22 2>/dev/null
	om_wait_port 198.18.0.1 22
	seg=$OM_TMP/ssh.seg
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- ssh -v -F none -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o "ProxyCommand=nc -X 5 -x 127.0.0.1:1080 %h %p" "nobody@$ONION" true \
		>"$OM_TMP/ssh.out" 2>&1 && om_fail "ssh logged in without credentials"
	grep -q 'Authentications that can continue' "$OM_TMP/ssh.out" ||
		{ cat "$OM_TMP/ssh.out" >&2; om_fail "ssh did not reach the server"; }
	onion_ok "$seg" 1000
	om_expect "$seg" 'onionmeter_connections{class="onion"}' 0
	out=$(om_metric "$seg" 'onionmeter_bytes_total{class="onion",direction="egress"}')
	[ "$out" -gt 1000 ] || om_fail "ssh onion egress $out"
	row "$(ssh -V 2>&1 | cut -d, -f1) ProxyCommand nc -X 5 to dropbear: counted onion"
fi

# stacking: torsocks and proxychains4 before us in LD_PRELOAD (not in the
# sanitizer build, where the ASan runtime must come first)
if plain_build "stacking rows" && have torsocks; then
	printf 'TorAddress 127.0.0.1\nTorPort 1080\n' >"$OM_TMP/torsocks.conf"
	if curl_ok; then
		seg=$OM_TMP/torsocks.seg
		ONIONMETER_SEGMENT=$seg "$OM_RUN" -- env TORSOCKS_CONF_FILE="$OM_TMP/torsocks.conf" \
			torsocks curl -s -o /dev/null "http://$ONION/blob"
		onion_ok "$seg"
		row "onionmeter-run -- torsocks curl: counted onion, no onion_dns leak"
	fi
	if have wget; then
		seg=$OM_TMP/wget.seg
		ONIONMETER_SEGMENT=$seg "$OM_RUN" -- env TORSOCKS_CONF_FILE="$OM_TMP/torsocks.conf" \
			torsocks wget -q -O "$OM_TMP/wget.out" "http://$ONION/blob"
		[ "$(wc -c <"$OM_TMP/wget.out")" = 100003 ] || om_fail "wget under torsocks got the wrong file"
		onion_ok "$seg"
		row "onionmeter-run -- torsocks wget: counted onion"
	fi
fi
if curl_ok && have proxychains4; then
	printf 'strict_chain\nproxy_dns\nquiet_mode\n[ProxyList]\nsocks5 127.0.0.1 1080\n' >"$OM_TMP/pc.conf"
	seg=$OM_TMP/proxychains.seg
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- proxychains4 -f "$OM_TMP/pc.conf" curl -s -o /dev/null "http://$ONION/blob"
	onion_ok "$seg"
	row "onionmeter-run -- proxychains4 curl: counted onion, no onion_dns leak"
fi

# Node.js: http.get through socks-proxy-agent; a server taking 10,000 connections
NODE=$(command -v node || true)
node_pkg() { "$NODE" -p "require('$OM_SRC/tests/node/node_modules/$1/package.json').version"; }
if [ -n "$NODE" ] && [ -d "$OM_SRC/tests/node/node_modules/socks-proxy-agent" ]; then
	seg=$OM_TMP/node-agent.seg
	got=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$NODE" "$OM_SRC/tests/node/agent_get.js" \
		socks5h://127.0.0.1:1080 "http://$ONION/blob")
	[ "$got" = 100003 ] || om_fail "node http via socks-proxy-agent got $got bytes"
	onion_ok "$seg"
	row "Node.js $("$NODE" --version) http + socks-proxy-agent $(node_pkg socks-proxy-agent): counted onion"

	if [ -e "$OM_TMP/tls.crt" ]; then
		seg=$OM_TMP/node-agent-https.seg
		got=$(ONIONMETER_SEGMENT=$seg NODE_EXTRA_CA_CERTS=$OM_TMP/tls.crt "$OM_RUN" -- \
			"$NODE" "$OM_SRC/tests/node/agent_get.js" socks5h://127.0.0.1:1080 "https://$ONION/blob")
		[ "$got" = 100003 ] || om_fail "node https via socks-proxy-agent got $got bytes"
		onion_ok "$seg"
		row "Node.js https + socks-proxy-agent: counted onion"
	fi

	# fetch has no SOCKS support of its own: users give it a dispatcher
	seg=$OM_TMP/node-fetch.seg
	got=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$NODE" "$OM_SRC/tests/node/fetch_get.js" \
		socks5://127.0.0.1:1080 "http://$ONION/blob")
	[ "$got" = 100003 ] || om_fail "node fetch via fetch-socks got $got bytes"
	onion_ok "$seg"
	row "Node.js fetch + fetch-socks $(node_pkg fetch-socks) (undici $(node_pkg undici)): counted onion"
	# without one it dials direct, and is counted so
	seg=$OM_TMP/node-fetch-direct.seg
	got=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$NODE" -e '
fetch("http://198.18.0.1/blob").then((r) => r.arrayBuffer()).then((b) => console.log(b.byteLength))')
	[ "$got" = 100003 ] || om_fail "node fetch got $got bytes"
	om_expect "$seg" 'onionmeter_dials_total{class="direct",outcome="success"}' 1
	in=$(om_metric "$seg" 'onionmeter_bytes_total{class="direct",direction="ingress"}')
	[ "$in" -gt 100003 ] || om_fail "node fetch ingress $in"
	row "Node.js fetch without a dispatcher: counted direct"

	seg=$OM_TMP/node-server.seg
	SPORT=$(om_free_port)
	ONIONMETER_SEGMENT=$seg ONIONMETER_ONION_PORTS=$SPORT "$OM_RUN" -- "$NODE" \
		"$OM_SRC/tests/node/echo_server.js" "$SPORT" 10000 "$OM_TMP/server.ready" &
	spid=$!
	om_wait_file "$OM_TMP/server.ready"
	LD_PRELOAD= "$PY" - "$SPORT" <<'PY' || om_fail "clients of the node server failed"
import socket, sys
port = int(sys.argv[1])
for i in range(10000):
    s = socket.create_connection(("127.0.0.1", port))
    msg = b"%05d-ping" % i
    s.sendall(msg)
    got = b""
    while True:
        b = s.recv(64)
        if not b:
            break
        got += b
    assert got == msg, (got, msg)
    s.close()
PY
	wait "$spid" || om_fail "node server failed"
	om_expect "$seg" 'onionmeter_accepted_total{class="onion"}' 10000
	om_expect "$seg" 'onionmeter_bytes_total{class="onion",direction="ingress"}' 100000
	om_expect "$seg" 'onionmeter_bytes_total{class="onion",direction="egress"}' 100000
	om_expect "$seg" 'onionmeter_connections{class="onion"}' 0
	row "Node.js net server (onion service target), 10,000 connections: exact totals"
else
	echo "skip: Node.js rows (node or the npm packages missing; scripts/dev setup installs them)"
fi
echo PASS
