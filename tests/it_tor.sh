#!/usr/bin/env bash
# The real tor daemon, only ever inside a private network namespace with no
# interface but loopback (on a real network it would dial public relays).
# Tor cannot bootstrap there, which is what makes its failure replies
# deterministic: a malformed onion address gets 0xF6 at once, a well-formed
# unknown one times out after SocksTimeout.
set -eu
. "$(dirname "$0")/lib.sh"
om_need tor curl
om_no_asan_curl
om_enter_netns "$@"
# Safety: refuse to start tor anywhere with a route off this host.
[ "$(ip -o link show | grep -vc ': lo:')" = 0 ] || om_fail "not in an isolated namespace; refusing to start tor"
[ -z "$(ip route show default)" ] || om_fail "a default route exists; refusing to start tor"
om_tmpdir
chmod 755 "$OM_TMP"

cat >"$OM_TMP/torrc" <<T
DataDirectory $OM_TMP/tor
SocksPort 127.0.0.1:9050 ExtendedErrors
HTTPTunnelPort 127.0.0.1:9080
SocksTimeout 3
Log notice file $OM_TMP/tor.log
T
LD_PRELOAD= om_bg tor -f "$OM_TMP/torrc" --RunAsDaemon 0 --quiet
om_wait_port 127.0.0.1 9050
om_wait_port 127.0.0.1 9080

V3=2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion
seg=$OM_TMP/seg
fetch() { ONIONMETER_SEGMENT=$seg "$OM_RUN" -- curl -s -o /dev/null --max-time 20 "$@" || true; }

fetch --socks5-hostname 127.0.0.1:9050 http://not-a-valid-address.onion/
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="onion_bad_address"}' 1
# Tor's stream isolation uses SOCKS5 username/password
fetch --socks5-hostname isolate:me@127.0.0.1:9050 http://also-invalid.onion/
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="onion_bad_address"}' 2
fetch --socks5-hostname 127.0.0.1:9050 "http://$V3/"
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="timeout"}' 1
# SOCKS4a (0x5B) and HTTP CONNECT through HTTPTunnelPort (502)
fetch --socks4a 127.0.0.1:9050 http://invalid.onion/
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="error"}' 1
fetch --proxytunnel -x http://127.0.0.1:9080 http://invalid.onion/
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="unreachable"}' 1
# plain SOCKS4 to an address: exit traffic, which tor cannot build here
fetch --socks4 127.0.0.1:9050 http://198.18.0.1/
om_expect "$seg" 'onionmeter_dials_total{class="proxied",outcome="error"}' 1
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 0
# every dial, whatever its outcome, has its latency in the histogram
om_expect "$seg" 'onionmeter_dial_duration_seconds_count{class="onion"}' 5
om_expect "$seg" 'onionmeter_dial_duration_seconds_bucket{class="onion",le="+Inf"}' 5
echo PASS
