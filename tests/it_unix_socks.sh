#!/usr/bin/env bash
# Tor's SocksPort on a Unix-domain socket (SocksPort unix:/run/tor/socks),
# the hardened setup: the real tor, only ever inside a private network
# namespace, and a counting relay for dials that succeed.  Bytes come from
# outside the shim: a counting pass-through (tests/countpipe.py) in front of
# tor, and the relay's own log.
set -eu
. "$(dirname "$0")/lib.sh"
om_need tor
om_enter_netns "$@"
# Safety: refuse to start tor anywhere with a route off this host.
[ "$(ip -o link show | grep -vc ': lo:')" = 0 ] || om_fail "not in an isolated namespace; refusing to start tor"
[ -z "$(ip route show default)" ] || om_fail "a default route exists; refusing to start tor"
om_tmpdir
# Tor's own default place, in our mount namespace only: the shim's default
# proxy list must find it without configuration.
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -m 700 /run/tor
mkdir -m 700 "$OM_TMP/run"
cat >"$OM_TMP/torrc" <<T
DataDirectory $OM_TMP/tor
SocksPort unix:/run/tor/socks ExtendedErrors
SocksTimeout 3
Log notice file $OM_TMP/tor.log
T
LD_PRELOAD= om_bg tor -f "$OM_TMP/torrc" --RunAsDaemon 0 --quiet
om_poll test -S /run/tor/socks || { cat "$OM_TMP/tor.log" >&2; om_fail "tor made no unix SocksPort"; }

COUNT=$OM_TMP/run/count.sock
COUNT_LOG=$OM_TMP/count.log
: >"$COUNT_LOG"
LD_PRELOAD= om_bg "$PY" "$OM_SRC/tests/countpipe.py" "unix:$COUNT" unix:/run/tor/socks "$COUNT_LOG"
mkdir "$OM_TMP/www"
head -c 100003 /dev/urandom >"$OM_TMP/www/blob"
LD_PRELOAD= om_bg "$PY" -m http.server --bind 198.18.0.1 --directory "$OM_TMP/www" 80 >/dev/null 2>&1
RELAY=$OM_TMP/run/relay.sock
RELAY_LOG=$OM_TMP/relay.log
: >"$RELAY_LOG"
LD_PRELOAD= om_bg "$PY" "$OM_SRC/tests/relay.py" 127.0.0.1 1080 "$RELAY_LOG" "$ONION" 198.18.0.1 "unix:$RELAY"
om_wait_port 198.18.0.1 80
om_wait_port 127.0.0.1 1080
om_wait_for "the counting pipe's socket" test -S "$COUNT"
om_wait_for "the relay's socket" test -S "$RELAY"

# SOCKS by hand over AF_UNIX, several dials in one process: Tor's extended
# error for a malformed name (0xF6) with and without stream-isolation
# credentials, and SOCKS4a's rejection
SOCKS_PY='
import socket, sys
moved = [0, 0] # what this program wrote and read, for the record
def dial(path, hello, request, want):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(30)
    s.connect(path)
    if hello:
        s.sendall(hello)
        got = s.recv(2)
        moved[0] += len(hello); moved[1] += len(got)
        if got == b"\x05\x02":
            s.sendall(b"\x01\x03iso\x02me"); assert s.recv(2) == b"\x01\x00"
            moved[0] += 9; moved[1] += 2
    s.sendall(request)
    moved[0] += len(request)
    r = b""
    while True: # to the end: what the proxy sent is what we read
        b = s.recv(4096)
        if not b: break
        r += b
    s.close()
    moved[1] += len(r)
    assert len(r) >= want, r
    return r
def socks5(path, host, auth=False, then=b""):
    h = host.encode()
    hello = b"\x05\x01\x02" if auth else b"\x05\x01\x00"
    return dial(path, hello, b"\x05\x01\x00\x03" + bytes([len(h)]) + h + b"\x00\x50" + then, 10)
def socks4a(path, host):
    return dial(path, None, b"\x04\x01\x00\x50\x00\x00\x00\x01\x00" + host.encode() + b"\x00", 8)
'
seg=$OM_TMP/python.seg
ONIONMETER_SEGMENT=$seg ONIONMETER_PROXIES="unix:$COUNT" "$OM_RUN" -- "$PY" -c "$SOCKS_PY"'
r = socks5(sys.argv[1], "not-a-valid-address.onion"); assert r[1] == 0xF6, r
r = socks5(sys.argv[1], "also-invalid.onion", auth=True); assert r[1] == 0xF6, r
r = socks4a(sys.argv[1], "invalid.onion"); assert r[1] == 0x5B, r' "$COUNT"
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="onion_bad_address"}' 2
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="error"}' 1
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="success"}' 0
om_expect_bytes "$seg" onion "$COUNT_LOG" 3
echo "ok: Python AF_UNIX SOCKS5/SOCKS4a to tor's unix SocksPort: outcomes and bytes exact"

# Tor's default path needs no configuration
seg=$OM_TMP/default.seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c "$SOCKS_PY"'
r = socks5("/run/tor/socks", "not-a-valid-address.onion"); assert r[1] == 0xF6, r
print(*moved, file=open(sys.argv[1], "w"))' "$OM_TMP/moved"
read -r out in <"$OM_TMP/moved"
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="onion_bad_address"}' 1
om_expect "$seg" 'onionmeter_bytes_total{class="onion",direction="egress"}' "$out"
om_expect "$seg" 'onionmeter_bytes_total{class="onion",direction="ingress"}' "$in"
echo "ok: unix:/run/tor/socks is in the default proxy list"

# A well-formed onion tor cannot reach here: SocksTimeout, counted timeout
seg=$OM_TMP/timeout.seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c "$SOCKS_PY"'
r = socks5("/run/tor/socks", "'"$ONION"'"); assert r[1] in (4, 6), r'
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="timeout"}' 1
echo "ok: a v3 onion past SocksTimeout over the unix SocksPort counted timeout"

# A successful dial with a payload, through a unix SocksPort that resolves
# the test onion (relay.py), then a second one in the same process
seg=$OM_TMP/relay.seg
ONIONMETER_SEGMENT=$seg ONIONMETER_PROXIES="unix:$RELAY" "$OM_RUN" -- "$PY" -c "$SOCKS_PY"'
for i in range(2):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    s.sendall(b"\x05\x01\x00"); assert s.recv(2) == b"\x05\x00"
    h = sys.argv[2].encode()
    s.sendall(b"\x05\x01\x00\x03" + bytes([len(h)]) + h + b"\x00\x50")
    r = b""
    while len(r) < 10: r += s.recv(10 - len(r))
    assert r[1] == 0, r
    s.sendall(b"GET /blob HTTP/1.0\r\n\r\n")
    n = 0
    while True:
        b = s.recv(65536)
        if not b: break
        n += len(b)
    assert n > 100003, n
    s.close()' "$RELAY" "$ONION"
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 2
om_expect_bytes "$seg" onion "$RELAY_LOG" 2
om_expect "$seg" 'onionmeter_connections{class="onion"}' 0
echo "ok: two onion dials with payload over a listed unix proxy: bytes exact"

# A unix socket that is not a listed proxy is not ours to count, even when
# a proxy listens on it
: >"$RELAY_LOG"
seg=$OM_TMP/unlisted.seg
ONIONMETER_SEGMENT=$seg ONIONMETER_PROXIES=127.0.0.1:9050 "$OM_RUN" -- "$PY" -c "$SOCKS_PY"'
r = socks5(sys.argv[1], "'"$ONION"'", then=b"GET /blob HTTP/1.0\r\n\r\n"); assert r[1] == 0, r
assert len(r) > 100003, len(r)' "$RELAY"
om_wait_lines "$RELAY_LOG" 1
if [ -e "$seg" ]; then
	for c in onion proxied direct local; do
		om_expect "$seg" "onionmeter_bytes_total{class=\"$c\",direction=\"egress\"}" 0
		om_expect "$seg" "onionmeter_bytes_total{class=\"$c\",direction=\"ingress\"}" 0
	done
fi
echo "ok: an unlisted unix socket is not counted (the shim $([ -e "$seg" ] && echo counted nothing || echo did not even attach))"

if [ "${OM_SANITIZED:-0}" = 0 ] && command -v curl >/dev/null; then
	: >"$COUNT_LOG"
	seg=$OM_TMP/curl.seg
	ONIONMETER_SEGMENT=$seg ONIONMETER_PROXIES="unix:$COUNT" "$OM_RUN" -- \
		curl -s -o /dev/null --max-time 20 --proxy "socks5h://localhost$COUNT" \
		http://not-a-valid-address.onion/ http://also-invalid.onion/ || true
	om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="onion_bad_address"}' 2
	# curl stops reading a failure reply at the IPv4 length, and tor's
	# over a unix socket carries an IPv6 address: egress is exact, ingress
	# is what curl read, 2 + 10 bytes a dial
	om_expect_bytes_read "$seg" onion "$COUNT_LOG" 2 24
	: >"$RELAY_LOG"
	seg=$OM_TMP/curl-relay.seg
	ONIONMETER_SEGMENT=$seg ONIONMETER_PROXIES="unix:$RELAY" "$OM_RUN" -- \
		curl -s -o "$OM_TMP/curl.out" --max-time 20 --proxy "socks5h://localhost$RELAY" "http://$ONION/blob"
	cmp -s "$OM_TMP/curl.out" "$OM_TMP/www/blob" || om_fail "curl through the unix proxy got the wrong file"
	om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 1
	om_expect_bytes "$seg" onion "$RELAY_LOG" 1
	echo "ok: $(curl --version | head -1 | cut -d' ' -f1-2) --proxy socks5h://localhost/PATH: outcomes and bytes exact"
else
	echo "skip: curl rows (curl missing, or the sanitizer build)"
fi
echo PASS
