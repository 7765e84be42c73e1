#!/usr/bin/env bash
# The exporter's control-port client against a fake tor (tests/fake_torctl.py)
# on loopback: every byte it sends is logged and checked.  Rows: SAFECOOKIE
# with tor's proof checked (and an impostor that cannot give it), the plain
# cookie refused on TCP and used on a Unix-domain socket, a password from
# a file, and hostile ports: a 20 KiB line, 200,000 events of made-up
# clients, a port that never answers.  Nothing but PROTOCOLINFO,
# AUTHCHALLENGE, AUTHENTICATE, SETEVENTS and GETINFO is ever sent, and SOCKS
# credentials in events go nowhere.
set -eu
. "$(dirname "$0")/lib.sh"
om_need curl
om_tmpdir
cd "$OM_TMP"
head -c 32 /dev/urandom >cookie
FAKE=$OM_SRC/tests/fake_torctl.py

# start MODE [--tor-password-file F]: a fake port and an exporter on it
n=0
start() {
	local mode=$1 addr
	shift
	n=$((n + 1))
	if [ "$mode" = cookie-unix ]; then
		addr=unix:$OM_TMP/ctl$n
		mode=cookie
	else
		addr=127.0.0.1:$(om_free_port)
	fi
	: >"fake$n.log"
	LD_PRELOAD= om_bg "$PY" "$FAKE" "$mode" "$addr" "$OM_TMP/fake$n.log" "$OM_TMP/cookie" \
		${PASSWORD:+"$PASSWORD"}
	if [ "${addr#unix:}" != "$addr" ]; then
		om_wait_file "${addr#unix:}"
	else
		om_wait_port 127.0.0.1 "${addr##*:}"
	fi
	EPORT=$(om_free_port)
	LD_PRELOAD= om_bg "$OM_EXPORTER" --listen "127.0.0.1:$EPORT" --segment "$OM_TMP/none.seg" \
		--tor-control "$addr" "$@" 2>"exporter$n.log"
	EPID=${OM_PIDS##* }
	om_wait_port 127.0.0.1 "$EPORT"
}
m() { curl -s "http://127.0.0.1:$EPORT/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
is() { [ "$(m "$1")" = "$2" ]; }
# only the five read-only verbs, ever
verbs_ok() {
	local bad
	bad=$(grep '^< ' "fake$n.log" | awk '{ print $2 }' | grep -vxE 'PROTOCOLINFO|AUTHCHALLENGE|AUTHENTICATE|SETEVENTS|GETINFO' || true)
	[ -z "$bad" ] || om_fail "row $n: the exporter sent $bad"
}

# 1. a tor: SAFECOOKIE, its proof right; then events, hostile ones included
start good
om_poll is 'onionmeter_tor_up{tor="1"}' 1 || { cat "exporter$n.log" "fake$n.log" >&2; om_fail "not up on a good port"; }
om_poll grep -qx AUTH-OK "fake$n.log" || om_fail "the fake did not accept the exporter's hash"
om_poll is 'onionmeter_tor_network_liveness{tor="1"}' 0 || om_fail "events after the handshake were not read"
is 'onionmeter_tor_streams_total{class="proxied",outcome="success"}' 1 || om_fail "the stream was not counted"
is 'onionmeter_tor_unattributed_streams_total{reason="unix_port"}' 1 || om_fail "a Unix-domain client should be unattributed"
is 'onionmeter_tor_reported_bytes_total{class="proxied",direction="egress"}' 100 || om_fail "STREAM_BW not kept"
is 'onionmeter_tor_bootstrap_percent{tor="1"}' 100 || om_fail "no bootstrap progress"
verbs_ok
[ "$(grep -c '^< ' "fake$n.log")" = 7 ] || om_fail "want 7 commands: $(grep '^< ' "fake$n.log")"
grep -q '^< SETEVENTS STREAM STREAM_BW CIRC STATUS_CLIENT NETWORK_LIVENESS HS_DESC$' "fake$n.log" || om_fail "SETEVENTS: $(grep SETEVENTS "fake$n.log")"
! grep -q -e hunter2secret -e alice "exporter$n.log" || om_fail "a SOCKS credential reached the log"
! curl -s "http://127.0.0.1:$EPORT/metrics" | grep -q -e hunter2secret -e alice || om_fail "a SOCKS credential reached /metrics"
grep -q 'msg="tor control up" tor=1' "exporter$n.log" || om_fail "no log line"
echo "ok: SAFECOOKIE: tor's proof checked, ours accepted; 7 commands, five verbs; credentials kept nowhere"

# 2. an impostor on the port: it cannot prove it knows the cookie, so the
#    exporter never answers the challenge
start impostor
om_poll grep -q 'does not know tor.s cookie' "exporter$n.log" || { cat "exporter$n.log" >&2; om_fail "the impostor was not noticed"; }
is 'onionmeter_tor_up{tor="1"}' 0 || om_fail "up on an impostor"
! grep -q '^< AUTHENTICATE' "fake$n.log" || om_fail "the exporter answered an impostor"
verbs_ok
echo "ok: an impostor without tor's cookie gets no AUTHENTICATE"

# 3. COOKIE only: refused over TCP (the cookie itself would be sent), used
#    over a Unix-domain socket
start cookie
om_poll grep -q 'offers only COOKIE on a TCP port' "exporter$n.log" || { cat "exporter$n.log" >&2; om_fail "COOKIE over TCP not refused"; }
! grep -q '^< AUTHENTICATE' "fake$n.log" || om_fail "the cookie went over TCP"
start cookie-unix
om_poll is 'onionmeter_tor_up{tor="1"}' 1 || { cat "exporter$n.log" "fake$n.log" >&2; om_fail "COOKIE over a Unix-domain socket failed"; }
grep -qx AUTH-OK "fake$n.log" || om_fail "the cookie was wrong"
verbs_ok
echo "ok: COOKIE refused on TCP, used on a Unix-domain socket"

# 4. a password from a file, quotes and backslashes escaped
printf '%s\n' 'pa"ss\word' >pw
PASSWORD='pa"ss\word' start password --tor-password-file "$OM_TMP/pw"
om_poll is 'onionmeter_tor_up{tor="1"}' 1 || { cat "exporter$n.log" "fake$n.log" >&2; om_fail "password authentication failed"; }
! grep -q 'pa"ss' "exporter$n.log" || om_fail "the password reached the log"
verbs_ok
: >pw.empty
if LD_PRELOAD= "$OM_EXPORTER" --tor-password-file pw.empty --once 2>err.txt; then om_fail "--tor-password-file alone was accepted"; fi
grep -q 'without --tor-control' err.txt || om_fail "no clear error: $(cat err.txt)"
echo "ok: HASHEDPASSWORD from a file"

# 5. hostile ports: a 20 KiB line ends the connection (and the next try
#    starts afresh); 200,000 events of made-up clients are followed in
#    bounded memory; a port that never answers is given up and retried
start longline
om_poll grep -q 'a line longer than 16 KiB' "exporter$n.log" || { cat "exporter$n.log" >&2; om_fail "a long line was not refused"; }
# (a function: the count is read again at each try)
connects() { [ "$(grep -c CONNECT "fake$n.log")" -ge "$1" ]; }
om_poll connects 2 || om_fail "no reconnect after a long line"
start flood
om_poll is 'onionmeter_tor_network_liveness{tor="1"}' 0 || { cat "exporter$n.log" >&2; om_fail "the flood was not read through"; }
rss=$(m process_resident_memory_bytes)
[ "${rss%.*}" -lt $((96 << 20)) ] || om_fail "RSS $rss after 200,000 streams"
un=$(m 'onionmeter_tor_unattributed_streams_total{reason="table_full"}')
[ "$un" = $((200000 - 32768)) ] || om_fail "a full table must be counted, not grown: $un beyond it"
kill -0 "$EPID" || om_fail "the exporter died in the flood"
start silent
om_poll grep -q 'did not finish the handshake' "exporter$n.log" || { cat "exporter$n.log" >&2; om_fail "a silent port held the exporter"; }
is 'onionmeter_tor_up{tor="1"}' 0 || om_fail "up on a silent port"
for f in exporter*.log; do
	grep -q -e AddressSanitizer -e 'runtime error' "$f" && om_fail "$f: a sanitizer report"
done
echo "ok: a 20 KiB line, 200,000 events (RSS $((${rss%.*} >> 20)) MiB, $un beyond the table counted), a silent port"
echo PASS
