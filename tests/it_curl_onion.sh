#!/usr/bin/env bash
# curl under the shim, in a private network namespace: a .onion dial through
# a real SOCKS5 server (microsocks), a direct dial to a test host, a local
# dial, and failing dials.  Byte counts must match what curl itself reports.
set -eu
. "$(dirname "$0")/lib.sh"
om_need microsocks curl
om_no_asan_curl
om_enter_netns "$@"
om_tmpdir

om_hosts "198.18.0.1 $ONION"
mkdir "$OM_TMP/www"
head -c 262161 /dev/urandom >"$OM_TMP/www/blob" # odd size on purpose
SIZE=262161
om_bg "$PY" -m http.server --bind 0.0.0.0 --directory "$OM_TMP/www" 8080 >/dev/null 2>&1
om_bg microsocks -i 127.0.0.1 -p 1080 >/dev/null 2>&1
om_bg microsocks -i 127.0.0.1 -p 1081 -u alice -P s3cret >/dev/null 2>&1
om_wait_port 198.18.0.1 8080
om_wait_port 127.0.0.1 1080
om_wait_port 127.0.0.1 1081
if command -v danted >/dev/null; then
	cat >"$OM_TMP/danted.conf" <<C
logoutput: stderr
internal: 127.0.0.1 port = 1085
external: 198.18.0.1
socksmethod: none
clientmethod: none
user.privileged: $(id -un)
user.unprivileged: $(id -un)
client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
C
	LD_PRELOAD= om_bg danted -f "$OM_TMP/danted.conf" -N 1 >"$OM_TMP/danted.log" 2>&1
	om_wait_port 127.0.0.1 1085
fi

# run_curl SEGMENT [ENV=VAL...] -- CURL ARGS: prints "request header body"
run_curl() {
	local seg=$1; shift
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	env ONIONMETER_SEGMENT="$seg" "${envs[@]}" "$OM_RUN" -- \
		curl -sS -o "$OM_TMP/out" -w '%{size_request} %{size_header} %{size_download} %{http_code}\n' "$@" || true
}

# curl's SOCKS5 greeting offers GSS-API too when built with it
GREET=3
curl -V | grep -q 'GSS-API' && GREET=4
socks_bytes() { # greeting + request(7 + len(host)); replies 2 + 10 (IPv4 BND)
	echo $((GREET + 7 + ${#1})) 12
}

# 1. onion through a SOCKS5 server found by sniffing (port 1080 is not configured)
seg=$OM_TMP/onion.seg
read -r req hdr body code < <(run_curl "$seg" -- --socks5-hostname 127.0.0.1:1080 "http://$ONION:8080/blob")
[ "$code" = 200 ] && [ "$body" = "$SIZE" ] || om_fail "onion fetch: http $code, $body bytes"
cmp -s "$OM_TMP/out" "$OM_TMP/www/blob" || om_fail "curl got different bytes under the shim"
read -r s_out s_in < <(socks_bytes "$ONION")
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 1
om_expect "$seg" 'onionmeter_bytes_total{class="onion",direction="ingress"}' $((hdr + body + s_in))
om_expect "$seg" 'onionmeter_bytes_total{class="onion",direction="egress"}' $((req + s_out))
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="ingress"}' 0
om_expect "$seg" 'onionmeter_dial_duration_seconds_count{class="onion"}' 1
om_expect "$seg" 'onionmeter_connections{class="onion"}' 0

# 2. the same through a configured proxy endpoint
seg=$OM_TMP/onion-configured.seg
read -r req hdr body code < <(run_curl "$seg" ONIONMETER_PROXIES=127.0.0.1:1080 -- \
	--socks5-hostname 127.0.0.1:1080 "http://$ONION:8080/blob")
[ "$code" = 200 ] || om_fail "configured-proxy onion fetch: http $code"
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 1
om_expect "$seg" 'onionmeter_bytes_total{class="onion",direction="ingress"}' $((hdr + body + s_in))

# 2b. username/password authentication (RFC 1929), as Tor stream isolation uses
seg=$OM_TMP/onion-auth.seg
read -r req hdr body code < <(run_curl "$seg" -- --socks5-hostname alice:s3cret@127.0.0.1:1081 "http://$ONION:8080/blob")
[ "$code" = 200 ] || om_fail "authenticated onion fetch: http $code"
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 1
om_expect "$seg" 'onionmeter_bytes_total{class="onion",direction="ingress"}' $((hdr + body + s_in + 2))
run_curl "$seg" -- --socks5-hostname alice:wrong@127.0.0.1:1081 "http://$ONION:8080/blob" >/dev/null
om_expect "$seg" 'onionmeter_dials_total{class="proxied",outcome="denied"}' 1

# 3. a clearnet host through the proxy by address: proxied
seg=$OM_TMP/proxied.seg
read -r req hdr body code < <(run_curl "$seg" -- --socks5 127.0.0.1:1080 "http://198.18.0.1:8080/blob")
[ "$code" = 200 ] || om_fail "proxied fetch: http $code"
om_expect "$seg" 'onionmeter_dials_total{class="proxied",outcome="success"}' 1
om_expect "$seg" 'onionmeter_bytes_total{class="proxied",direction="ingress"}' $((hdr + body + 12))
om_expect "$seg" 'onionmeter_bytes_total{class="proxied",direction="egress"}' $((req + GREET + 10))
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 0

# 3b. SOCKS4 through dante: request 8 bytes + empty user id + NUL, reply 8
if command -v danted >/dev/null; then
	seg=$OM_TMP/socks4.seg
	read -r req hdr body code < <(run_curl "$seg" -- --socks4 127.0.0.1:1085 "http://198.18.0.1:8080/blob")
	[ "$code" = 200 ] || om_fail "SOCKS4 fetch through dante: http $code"
	om_expect "$seg" 'onionmeter_dials_total{class="proxied",outcome="success"}' 1
	om_expect "$seg" 'onionmeter_bytes_total{class="proxied",direction="ingress"}' $((hdr + body + 8))
	om_expect "$seg" 'onionmeter_bytes_total{class="proxied",direction="egress"}' $((req + 9))
else
	echo "note: danted not installed, SOCKS4 success path not exercised"
fi

# 4. direct to the namespace's clearnet test host
seg=$OM_TMP/direct.seg
read -r req hdr body code < <(run_curl "$seg" -- "http://198.18.0.1:8080/blob")
[ "$code" = 200 ] || om_fail "direct fetch: http $code"
om_expect "$seg" 'onionmeter_dials_total{class="direct",outcome="success"}' 1
om_expect "$seg" 'onionmeter_bytes_total{class="direct",direction="ingress"}' $((hdr + body))
om_expect "$seg" 'onionmeter_bytes_total{class="direct",direction="egress"}' "$req"

# 5. local, and ONIONMETER_LOCAL_NETS turning the test host local
seg=$OM_TMP/local.seg
read -r req hdr body code < <(run_curl "$seg" -- "http://127.0.0.1:8080/blob")
read -r req2 hdr2 body2 code2 < <(run_curl "$seg" ONIONMETER_LOCAL_NETS=198.18.0.0/15 -- "http://198.18.0.1:8080/blob")
[ "$code" = 200 ] && [ "$code2" = 200 ] || om_fail "local fetch: http $code/$code2"
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="success"}' 2
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="ingress"}' $((hdr + body + hdr2 + body2))
om_expect "$seg" 'onionmeter_dials_total{class="direct",outcome="success"}' 0

# 6. failures: refused direct dial; configured proxy down; unknown onion
seg=$OM_TMP/fail.seg
run_curl "$seg" -- "http://198.18.0.1:9/" >/dev/null
run_curl "$seg" ONIONMETER_PROXIES=127.0.0.1:1082 -- --socks5-hostname 127.0.0.1:1082 "http://$ONION/" >/dev/null
om_expect "$seg" 'onionmeter_dials_total{class="direct",outcome="refused"}' 1
om_expect "$seg" 'onionmeter_dials_total{class="proxied",outcome="refused"}' 1
om_expect "$seg" 'onionmeter_proxy_unreachable_total' 1
seg=$OM_TMP/unknown.seg
run_curl "$seg" -- --socks5-hostname 127.0.0.1:1080 "http://nosuchname7.onion:8080/" >/dev/null
fails=$(om_scrape "$seg" | awk '/^onionmeter_dials_total\{class="onion"/ && !/success/ { s += $2 } END { print s + 0 }')
[ "$fails" = 1 ] || om_fail "unknown onion: $fails failed onion dials, expected 1"
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 0
echo "PASS"
