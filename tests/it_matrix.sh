#!/usr/bin/env bash
# The compatibility matrix, second part: each row a real client through a
# real proxy or to a real local server, with exact ground truth from
# outside the shim.  Proxied rows go through tests/relay.py (SOCKS4, 4a, 5,
# HTTP CONNECT), which logs the bytes on the client's side of every
# connection; local rows go through tests/countpipe.py in front of the
# server.  A row whose program is missing says so and is skipped.
set -eu
. "$(dirname "$0")/lib.sh"
om_enter_netns "$@"
om_tmpdir
cd "$OM_TMP"
H=198.18.0.1
N=100003
mkdir www
head -c $N /dev/urandom >www/blob
LD_PRELOAD= om_bg "$PY" -m http.server --bind "$H" --directory www 80 >/dev/null 2>&1
LOG=$OM_TMP/relay.log
: >"$LOG"
LD_PRELOAD= om_bg "$PY" "$OM_SRC/tests/relay.py" 127.0.0.1 1080 "$LOG" "$ONION" "$H"
om_wait_port "$H" 80
om_wait_port 127.0.0.1 1080

have() {
	local c
	for c; do
		command -v "$c" >/dev/null || { echo "skip: $c not installed (scripts/dev setup installs it)"; return 1; }
	done
}
pymod() { # MODULE...: importable by the system python
	"$PY" -c "import $(IFS=,; echo "$*")" 2>/dev/null ||
		{ echo "skip: python3 module(s) $* missing (scripts/dev setup installs them)"; return 1; }
}
pyver() { "$PY" -c "import $1; print($1.__version__)"; }
fresh() { : >"$LOG"; seg=$OM_TMP/$1.seg; }
run() { ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$@"; }
# SEG CLASS DIALS [LOOKUPS]: that many successful dials of CLASS, none
# other, LOOKUPS (0) onion names sent to DNS, and CLASS's bytes exactly the
# relay's
exact() {
	local c
	om_expect "$1" "onionmeter_dials_total{class=\"$2\",outcome=\"success\"}" "$3"
	for c in onion proxied direct local; do
		[ "$c" = "$2" ] && continue
		om_expect "$1" "onionmeter_bytes_total{class=\"$c\",direction=\"egress\"}" 0
	done
	om_expect "$1" 'onionmeter_leaks_total{kind="onion_dns",action="observed"}' "${4:-0}"
	om_expect_bytes "$1" "$2" "$LOG" "$3"
	om_expect "$1" "onionmeter_connections{class=\"$2\"}" 0
}
row() { echo "ok: $*"; }
is() { [ "$1" = "$2" ] || om_fail "$3: got $1, expected $2"; }

# --- Python ---------------------------------------------------------------
if pymod httpx socksio; then
	fresh httpx
	run "$PY" -c 'import httpx, sys
with httpx.Client(proxies="socks5://127.0.0.1:1080") as c:
    for i in range(2):
        assert len(c.get(sys.argv[1]).content) == 100003' "http://$ONION/blob"
	exact "$seg" onion 2
	row "python3-httpx $(pyver httpx) + socksio, two requests on one client: onion, exact"
fi
if pymod aiohttp aiohttp_socks; then
	fresh aiohttp
	run "$PY" -c 'import asyncio, aiohttp, aiohttp_socks, sys
async def main():
    c = aiohttp_socks.ProxyConnector.from_url("socks5://127.0.0.1:1080", rdns=True)
    async with aiohttp.ClientSession(connector=c) as s:
        async def get():
            async with s.get(sys.argv[1]) as r:
                assert len(await r.read()) == 100003
        await asyncio.gather(get(), get(), get())
asyncio.run(main())' "http://$ONION/blob"
	exact "$seg" onion 3
	row "python3-aiohttp $(pyver aiohttp) + aiohttp-socks $(pyver aiohttp_socks), three concurrent: onion, exact"
fi
if pymod urllib3 socks; then
	fresh urllib3
	run "$PY" -c 'import sys
from urllib3.contrib.socks import SOCKSProxyManager
m = SOCKSProxyManager("socks5h://127.0.0.1:1080")
for i in range(3):
    assert len(m.request("GET", sys.argv[1], headers={"Connection": "close"}).data) == 100003' "http://$ONION/blob"
	exact "$seg" onion 3
	row "python3-urllib3 $(pyver urllib3) SOCKSProxyManager socks5h: onion, exact"
fi
NODE=$(command -v node || true)
NM=$OM_SRC/tests/node/node_modules
node_ok() {
	[ -n "$NODE" ] && [ -d "$NM/$1" ] ||
		{ echo "skip: node or npm package $1 missing (scripts/dev setup installs them)"; return 1; }
}
node_pkg() { "$NODE" -p "require('$NM/$1/package.json').version"; }
if pymod websockets socks && node_ok ws; then
	LD_PRELOAD= om_bg "$NODE" "$OM_SRC/tests/node/matrix.js" ws-server "$H" 8765
	om_wait_port "$H" 8765
	fresh websockets
	run "$PY" -c 'import asyncio, socks, sys, websockets
async def main():
    s = socks.socksocket()
    s.set_proxy(socks.SOCKS5, "127.0.0.1", 1080, rdns=True)
    s.connect((sys.argv[1], 8765))
    s.setblocking(False)
    async with websockets.connect("ws://%s:8765/" % sys.argv[1], sock=s) as ws:
        for i in range(100):
            await ws.send(b"p" * 1000)
            assert len(await ws.recv()) == 1000
asyncio.run(main())' "$ONION"
	exact "$seg" onion 1
	row "python3-websockets $(pyver websockets) over PySocks $(pyver socks), 100 echoes: onion, exact"
fi

# --- Node.js --------------------------------------------------------------
if node_ok ws && node_ok socks-proxy-agent; then
	fresh node-ws
	got=$(run "$NODE" "$OM_SRC/tests/node/matrix.js" ws socks5h://127.0.0.1:1080 "ws://$ONION:8765/")
	is "$got" 100000 "node ws"
	exact "$seg" onion 1
	row "Node.js $("$NODE" --version) ws $(node_pkg ws) over socks-proxy-agent, 100 echoes: onion, exact"

	LD_PRELOAD= om_bg "$NODE" "$OM_SRC/tests/node/matrix.js" h2-server "$H" 8080 $N
	om_wait_port "$H" 8080
	fresh node-h2
	got=$(run "$NODE" "$OM_SRC/tests/node/matrix.js" h2 127.0.0.1:1080 "http://$ONION:8080/")
	is "$got" $N "node http2"
	exact "$seg" onion 1
	row "Node.js http2 (h2c) over a socks $(node_pkg socks) socket: onion, exact"

	if have openssl; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
			-subj "/CN=$ONION" -addext "subjectAltName=DNS:$ONION" \
			-keyout tls.key -out tls.crt 2>/dev/null
		LD_PRELOAD= om_bg "$PY" -c 'import http.server, ssl, functools, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory="www")
s = http.server.ThreadingHTTPServer((sys.argv[1], 443), h)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
c.load_cert_chain("tls.crt", "tls.key")
s.socket = c.wrap_socket(s.socket, server_side=True)
s.serve_forever()' "$H" 2>/dev/null
		om_wait_port "$H" 443
		fresh node-tls
		got=$(NODE_EXTRA_CA_CERTS=$OM_TMP/tls.crt run "$NODE" "$OM_SRC/tests/node/matrix.js" tls 127.0.0.1:1080 "$ONION" 443 /blob)
		[ "$got" -gt $N ] || om_fail "node tls.connect got $got bytes"
		exact "$seg" onion 1
		row "Node.js tls.connect over a socks socket: onion, exact"
	fi

	fresh node-workers
	got=$(run "$NODE" "$OM_SRC/tests/node/matrix.js" workers socks5h://127.0.0.1:1080 "http://$ONION/blob" 4)
	is "$got" $((4 * N)) "node worker_threads"
	exact "$seg" onion 4
	row "Node.js worker_threads, four workers each through socks-proxy-agent: onion, exact"
fi
if node_ok undici; then
	fresh node-proxyagent
	got=$(run "$NODE" "$OM_SRC/tests/node/matrix.js" proxyagent http://127.0.0.1:1080 "http://$ONION/blob")
	is "$got" $N "undici ProxyAgent"
	exact "$seg" onion 1
	row "Node.js undici $(node_pkg undici) ProxyAgent (HTTP CONNECT): onion, exact"
fi

# --- command-line clients --------------------------------------------------
if have git && om_sanitizer_runs git ls-remote http://127.0.0.1:9/none; then
	mkdir src && cp www/blob src/
	LD_PRELOAD= git -C src -c init.defaultBranch=main init -q
	LD_PRELOAD= git -C src add blob
	LD_PRELOAD= git -C src -c user.name=t -c user.email=t@t commit -q -m m
	LD_PRELOAD= git clone -q --bare src www/repo.git
	LD_PRELOAD= git -C www/repo.git update-server-info
	fresh git
	run git -c http.proxy=socks5h://127.0.0.1:1080 clone -q "http://$ONION/repo.git" clone
	cmp -s clone/blob www/blob || om_fail "git clone through the proxy got the wrong file"
	dials=$(om_metric "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}')
	[ "$dials" -ge 1 ] || om_fail "git made no onion dial"
	exact "$seg" onion "$dials"
	row "$(git --version) clone over http.proxy=socks5h:// (dumb HTTP, git-remote-http): onion, exact"
fi
if have ncat; then
	for t in socks5 socks4 http; do
		fresh "ncat-$t"
		printf 'GET /blob HTTP/1.0\r\n\r\n' | run ncat --proxy 127.0.0.1:1080 --proxy-type $t \
			--proxy-dns remote "$ONION" 80 >ncat.out
		[ "$(wc -c <ncat.out)" -gt $N ] || om_fail "ncat ($t) got too little"
		exact "$seg" onion 1
	done
	row "$(ncat --version 2>&1 | head -1 | cut -d' ' -f1-3) --proxy-type socks5, socks4 (4a: --proxy-dns remote), http: onion, exact"
fi
if have socat; then
	fresh socat
	printf 'GET /blob HTTP/1.0\r\n\r\n' | run socat - "SOCKS4A:127.0.0.1:$ONION:80,socksport=1080" >socat.out
	[ "$(wc -c <socat.out)" -gt $N ] || om_fail "socat got too little"
	exact "$seg" onion 1
	row "$(socat -V | grep 'socat version' | cut -d' ' -f2-3) SOCKS4A: onion, exact"
fi
if perl -MIO::Socket::Socks -e1 2>/dev/null; then
	fresh perl
	run perl -MIO::Socket::Socks -e '
my $s = IO::Socket::Socks->new(ProxyAddr => "127.0.0.1", ProxyPort => 1080, SocksVersion => 5,
	ConnectAddr => $ARGV[0], ConnectPort => 80, SocksResolve => 1) or die $IO::Socket::Socks::SOCKS_ERROR;
print $s "GET /blob HTTP/1.0\r\n\r\n";
my ($n, $buf) = (0);
while (my $r = sysread($s, $buf, 65536)) { $n += $r }
die "got $n" unless $n > 100003;' "$ONION"
	exact "$seg" onion 1
	row "Perl IO::Socket::Socks $(perl -MIO::Socket::Socks -e 'print $IO::Socket::Socks::VERSION'), SOCKS5 remote resolve: onion, exact"
else
	echo "skip: Perl IO::Socket::Socks missing (scripts/dev setup installs libio-socket-socks-perl)"
fi
if have javac; then
	cat >Get.java <<'J'
import java.io.*;
import java.net.*;

public class Get {
	public static void main(String[] a) throws Exception {
		try (InputStream in = new URL(a[0]).openStream()) {
			if (in.transferTo(OutputStream.nullOutputStream()) != 100003)
				throw new IOException("short");
		}
	}
}
J
	LD_PRELOAD= javac -d . Get.java
	fresh java-socks
	run java -DsocksProxyHost=127.0.0.1 -DsocksProxyPort=1080 -cp "$OM_TMP" Get "http://$ONION/blob"
	# the JDK looks the name up itself first (InetSocketAddress), and only
	# when that fails hands the name to the proxy: a real onion_dns leak
	exact "$seg" onion 1 1
	row "$(java -version 2>&1 | head -1) -DsocksProxyHost: onion, exact; its own lookup of the name reported as onion_dns"
fi

# --- local servers, through a counting pass-through -----------------------
local_exact() { # SEG: one local dial (or more), bytes exactly the pipe's
	local d
	d=$(om_metric "$1" 'onionmeter_dials_total{class="local",outcome="success"}')
	[ "$d" -ge 1 ] || om_fail "$1: no local dial"
	om_expect "$1" 'onionmeter_bytes_total{class="direct",direction="egress"}' 0
	om_expect_bytes "$1" local "$LOG" "$d"
}
if have redis-server redis-cli; then
	LD_PRELOAD= om_bg redis-server --port 6390 --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
		--dir "$OM_TMP" >/dev/null
	om_wait_port 127.0.0.1 6390
	LD_PRELOAD= om_bg "$PY" "$OM_SRC/tests/countpipe.py" 127.0.0.1:6391 127.0.0.1:6390 "$LOG"
	om_wait_port 127.0.0.1 6391
	fresh redis
	run redis-cli -p 6391 SET k "$(head -c 3000 /dev/zero | tr '\0' v)" >/dev/null
	run redis-cli -p 6391 GET k >redis.out
	[ "$(wc -c <redis.out)" -ge 3000 ] || om_fail "redis-cli GET got too little"
	local_exact "$seg"
	row "$(redis-cli --version) to redis-server: local, exact"
fi
PG=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
if ! have psql || ! om_sanitizer_runs psql --version; then
	: # said why
elif [ -n "$PG" ] && [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 &&
	setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
	chmod 755 "$OM_TMP"
	mkdir pg && chown nobody pg
	as_nobody() { LD_PRELOAD= setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
	(cd pg && as_nobody "$PG/initdb" -D "$OM_TMP/pg/data" -A trust -U postgres >/dev/null)
	cd pg
	as_nobody "$PG/postgres" -D "$OM_TMP/pg/data" -k "$OM_TMP/pg" -h 127.0.0.1 -p 5440 >/dev/null 2>&1 &
	OM_PIDS="$OM_PIDS $!"
	cd "$OM_TMP"
	om_wait_port 127.0.0.1 5440
	LD_PRELOAD= om_bg "$PY" "$OM_SRC/tests/countpipe.py" 127.0.0.1:5441 127.0.0.1:5440 "$LOG"
	om_wait_port 127.0.0.1 5441
	: >"$LOG"
	fresh psql
	run psql -X -q -h 127.0.0.1 -p 5441 -U postgres -d postgres -c 'select repeat($$x$$, 5000)' >psql.out
	[ "$(wc -c <psql.out)" -ge 5000 ] || om_fail "psql got too little"
	local_exact "$seg"
	row "$(psql --version) to postgres: local, exact"
else
	echo "skip: psql row (needs root, postgresql and the nobody user)"
fi
echo PASS
