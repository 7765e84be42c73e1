#!/usr/bin/env bash
# The programs users run, each dialling the test .onion through a real SOCKS
# server in a private namespace.  One segment per row of the README's
# compatibility matrix.
set -eu
. "$(dirname "$0")/lib.sh"
om_need microsocks curl
om_no_asan_curl
om_enter_netns "$@"
om_tmpdir
mkdir "$OM_TMP/www"
head -c 100003 /dev/urandom >"$OM_TMP/www/blob"
LD_PRELOAD= om_bg "$PY" -m http.server --bind 198.18.0.1 --directory "$OM_TMP/www" 80 >/dev/null 2>&1
# only the proxy can resolve the onion name, as with Tor: a client that
# resolves it itself fails, and says so by leaking the lookup
om_bg_proxy microsocks -i 127.0.0.1 -p 1080
om_wait_port 198.18.0.1 80
om_wait_port 127.0.0.1 1080
row() { echo "ok: $*"; }
onion_ok() { # SEGMENT: one successful onion dial, no leak, nothing else
	om_expect "$1" 'onionmeter_dials_total{class="onion",outcome="success"}' 1
	om_expect "$1" 'onionmeter_leaks_total{kind="onion_dns",action="observed"}' 0
	local in
	in=$(om_metric "$1" 'onionmeter_bytes_total{class="onion",direction="ingress"}')
	[ "$in" -gt 100003 ] || om_fail "$1: onion ingress $in"
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
fi

# stacking: torsocks and proxychains4 before us in LD_PRELOAD
if command -v torsocks >/dev/null; then
	printf 'TorAddress 127.0.0.1\nTorPort 1080\n' >"$OM_TMP/torsocks.conf"
	seg=$OM_TMP/torsocks.seg
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- env TORSOCKS_CONF_FILE="$OM_TMP/torsocks.conf" \
		torsocks curl -s -o /dev/null "http://$ONION/blob"
	onion_ok "$seg"
	row "onionmeter-run -- torsocks curl: counted onion, no onion_dns leak"
fi
if command -v proxychains4 >/dev/null; then
	printf 'strict_chain\nproxy_dns\nquiet_mode\n[ProxyList]\nsocks5 127.0.0.1 1080\n' >"$OM_TMP/pc.conf"
	seg=$OM_TMP/proxychains.seg
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- proxychains4 -f "$OM_TMP/pc.conf" curl -s -o /dev/null "http://$ONION/blob"
	onion_ok "$seg"
	row "onionmeter-run -- proxychains4 curl: counted onion, no onion_dns leak"
fi

# Node.js: http.get through socks-proxy-agent; a server taking 10,000 connections
NODE=$(command -v node || true)
if [ -n "$NODE" ] && [ -d "$OM_SRC/tests/node/node_modules/socks-proxy-agent" ]; then
	seg=$OM_TMP/node-agent.seg
	got=$(ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$NODE" "$OM_SRC/tests/node/agent_get.js" \
		socks5h://127.0.0.1:1080 "http://$ONION/blob")
	[ "$got" = 100003 ] || om_fail "node http via socks-proxy-agent got $got bytes"
	onion_ok "$seg"
	row "Node.js $("$NODE" --version) http + socks-proxy-agent: counted onion"

	seg=$OM_TMP/node-server.seg
	SPORT=$(om_free_port)
	ONIONMETER_SEGMENT=$seg ONIONMETER_ONION_PORTS=$SPORT "$OM_RUN" -- "$NODE" \
		"$OM_SRC/tests/node/echo_server.js" "$SPORT" 10000 "$OM_TMP/server.ready" &
	spid=$!
	for i in $(seq 1 100); do [ -e "$OM_TMP/server.ready" ] && break; sleep 0.1; done
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
fi
echo PASS
