#!/usr/bin/env bash
# Tor's view, end to end, through the private Tor network (tests/tornet.sh)
# in a private network namespace: the exporter follows the client tor's
# control port and classes every stream onion or exit, for programs no
# preload reaches.  Ground truth is the onion service's backend and the
# clearnet host's byte logs plus the SOCKS handshake as RFC 1928 fixes it,
# and the shim's own numbers.  Rows:
#   1. a Go client (CGO_ENABLED=0): 1 MiB from the onion service and
#      512 KiB through the exit over one SOCKS port: one onion and one exit
#      stream, bytes exact both ways, the blind spot split by class, and
#      the shipped exit-stream alert firing in a real Prometheus;
#   2. a malformed onion, an onion with no descriptor, an exit stream to a
#      closed port: attributed, with the shim's outcome names for the reply
#      the client read, bytes exact;
#   3. 50 parallel streams from one Go process under CPU load: every one
#      attributed, totals exact;
#   4. curl under the shim through the same tor: the Tor view and the shim
#      agree byte for byte, and nothing enters the blind-spot series;
#   5. the Unix-domain SocksPort and the HTTPTunnelPort;
#   6. tor restarted under the running exporter (over its ControlSocket):
#      onionmeter_tor_up drops and recovers, nothing counted twice;
#   7. onionmeter-run --report --tor-control names the onion service and
#      the host behind the exit that an unseen Go program reached.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tornet.sh"
om_need tor tor-gencert curl openssl go
om_enter_netns "$@"
om_tmpdir
cd "$OM_TMP"
tornet_start
ONION=$TN_ONION B=$TN_BACKEND_LOG C=$TN_CLEAR_LOG
fresh() { : >"$B"; : >"$C"; }

GOCACHE=$OM_TMP/gocache GOPATH=$OM_TMP/gopath GOPROXY=off CGO_ENABLED=0 \
	go build -o gofetch "$OM_SRC/tests/go/fetch.go" || om_fail "go build"

# The exporter: the kernel view (its polls and destroy notices give the
# bytes), Tor's view over the TCP control port (SAFECOOKIE), and the
# segment of the shim's row.
EPORT=$(om_free_port)
LD_PRELOAD= om_bg "$OM_EXPORTER" --listen "127.0.0.1:$EPORT" --segment "$OM_TMP/shim.seg" \
	--kernel-interval 100 --tor-control "$TN_CONTROL" 2>exporter.log
om_wait_port 127.0.0.1 "$EPORT"
scrape() { curl -s "http://127.0.0.1:$EPORT/metrics"; }
m() { scrape | awk -v k="$1" '$1 == k { print $2 }'; }
is() { [ "$(m "$1")" = "$2" ]; }
# want SAMPLE VALUE: the view reaches VALUE (bytes are whole once the
# kernel said both sockets were destroyed)
want() {
	om_poll is "$1" "$2" ||
		om_fail "$1 is $(m "$1"), want $2; Tor's view: $(scrape | grep '^onionmeter_tor_[a-z_]*_total{' | grep -v ' 0$' | tr '\n' ' ')"
}
om_poll is 'onionmeter_tor_up{tor="1"}' 1 || { cat exporter.log >&2; om_fail "the exporter did not come up on tor's control port"; }
grep -q 'msg="tor control up" tor=1 address=127.0.0.1:9051 version=0.4' exporter.log ||
	{ cat exporter.log >&2; om_fail "no log line for tor's control port"; }
echo "ok: Tor's view up on $TN_CONTROL (SAFECOOKIE)"

# a Go program's SOCKS5: greeting 3, request 7 + the host (always a name),
# out; method 2 + reply 10, in
go_out() { echo $((3 + 7 + ${#1})); }
GO_IN=12
# what a counter holds now, to compare with after a row
declare -A BASE
base() { local k; for k in "$@"; do BASE[$k]=$(m "$k"); BASE[$k]=${BASE[$k]:-0}; done; }
was() { echo "${BASE[$1]}"; }
ST='onionmeter_tor_streams_total'
BY='onionmeter_tor_bytes_total'
UST='onionmeter_tor_unseen_streams_total'
UBY='onionmeter_tor_unseen_bytes_total'
UNATTR() { echo "onionmeter_tor_unattributed_streams_total{reason=\"$1\"}"; }

# 1. a Go client: 1 MiB from the onion service, 512 KiB from the clearnet
#    host through the exit, in parallel over one SOCKS port
fresh
./gofetch "$TN_SOCKS" go1.ready go1.done "http://$ONION/bytes/1048576" \
	"http://198.18.0.1/bytes/524288" >go1.out 2>go1.err &
gpid=$!
om_poll test -e go1.ready || { cat go1.err >&2; om_fail "the Go client did not fetch"; }
want 'onionmeter_tor_open_streams{class="onion"}' 1
want 'onionmeter_tor_open_streams{class="proxied"}' 1
touch go1.done
wait "$gpid" || { cat go1.err >&2; om_fail "the Go client failed"; }
om_wait_lines "$B" 1
om_wait_lines "$C" 1
read -r bi bo < <(om_log_sum "$B")
read -r ci co < <(om_log_sum "$C")
want "$ST{class=\"onion\",outcome=\"success\"}" 1
want "$ST{class=\"proxied\",outcome=\"success\"}" 1
want "$BY{class=\"onion\",direction=\"egress\"}" $((bi + $(go_out "$ONION")))
want "$BY{class=\"onion\",direction=\"ingress\"}" $((bo + GO_IN))
want "$BY{class=\"proxied\",direction=\"egress\"}" $((ci + $(go_out 198.18.0.1)))
want "$BY{class=\"proxied\",direction=\"ingress\"}" $((co + GO_IN))
# no shim saw it: all of it is the blind spot, by class
want "$UST{class=\"onion\",outcome=\"success\"}" 1
want "$UST{class=\"proxied\",outcome=\"success\"}" 1
want "$UBY{class=\"onion\",direction=\"ingress\"}" $((bo + GO_IN))
want "$UBY{class=\"proxied\",direction=\"egress\"}" $((ci + $(go_out 198.18.0.1)))
want 'onionmeter_tor_open_streams{class="onion"}' 0
want 'onionmeter_tor_open_streams{class="proxied"}' 0
for r in unix_port gone table_full; do is "$(UNATTR $r)" 0 || om_fail "unattributed $r: $(m "$(UNATTR $r)")"; done
[ "$(m 'onionmeter_tor_dial_duration_seconds_count{class="onion"}')" = 1 ] || om_fail "no onion dial latency"
echo "ok: Go client: 1 onion + 1 exit stream, bytes exact ($((bo + GO_IN)) in from the onion service, $((co + GO_IN)) in through the exit, handshakes included), both in the blind spot"

# ... and the shipped alert for an unseen program's exit streams fires in
# a real Prometheus
if command -v prometheus >/dev/null; then
	PPORT=$(om_free_port)
	cat >prometheus.yml <<Y
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $OM_SRC/deploy/prometheus/onionmeter-rules.yml
scrape_configs:
  - job_name: onionmeter
    static_configs:
      - targets: ['127.0.0.1:$EPORT']
Y
	LD_PRELOAD= om_bg prometheus --config.file=prometheus.yml --storage.tsdb.path=tsdb \
		--web.listen-address="127.0.0.1:$PPORT" --log.level=warn >prometheus.log 2>&1
	om_wait_port 127.0.0.1 "$PPORT"
	firing() { [ "$(om_prom_query "$PPORT" 'ALERTS{alertname="OnionmeterTorExitStreamUnseen",alertstate="firing"}')" = 1 ]; }
	om_poll firing || { tail prometheus.log >&2; om_fail "OnionmeterTorExitStreamUnseen did not fire"; }
	echo "ok: OnionmeterTorExitStreamUnseen fires in Prometheus $(prometheus --version 2>&1 | awk 'NR == 1 { print $3 }')"
else
	echo "skip: the alert row (prometheus not installed)"
fi

# 2. failures, from curl without the shim: the shim's names for tor's
#    replies, attributed (bytes exact: curl's greeting, request and tor's
#    reply)
GREET=3
curl -V | grep -q GSS-API && GREET=4
fail_row() { # OUTCOME CLASS URL HOST
	local o=$1 cls=$2 url=$3 host=$4 eo
	base "$ST{class=\"$cls\",outcome=\"$o\"}" "$UST{class=\"$cls\",outcome=\"$o\"}" \
		"$BY{class=\"$cls\",direction=\"egress\"}" "$BY{class=\"$cls\",direction=\"ingress\"}"
	LD_PRELOAD= curl -s -o /dev/null --max-time 120 --socks5-hostname "$TN_SOCKS" "$url" || true
	want "$ST{class=\"$cls\",outcome=\"$o\"}" $(($(was "$ST{class=\"$cls\",outcome=\"$o\"}") + 1))
	want "$UST{class=\"$cls\",outcome=\"$o\"}" $(($(was "$UST{class=\"$cls\",outcome=\"$o\"}") + 1))
	case $host in # curl sends an IPv4 address as one (10 bytes), a name as one
	*[!0-9.]*) eo=$((GREET + 7 + ${#host})) ;;
	*) eo=$((GREET + 10)) ;;
	esac
	want "$BY{class=\"$cls\",direction=\"egress\"}" $(($(was "$BY{class=\"$cls\",direction=\"egress\"}") + eo))
	want "$BY{class=\"$cls\",direction=\"ingress\"}" $(($(was "$BY{class=\"$cls\",direction=\"ingress\"}") + 12))
	echo "ok: $host: $cls, $o, $eo bytes out and 12 in"
}
fail_row onion_bad_address onion "http://not-a-valid-address.onion/" not-a-valid-address.onion
UNKNOWN=$(tornet_unknown_onion)
fail_row onion_not_found onion "http://$UNKNOWN/" "$UNKNOWN"
# a closed port behind the exit: tor's exit ends the stream with MISC, not
# CONNECTREFUSED, and the client reads 0x01, general failure
fail_row proxy_error proxied "http://198.18.0.1:81/" 198.18.0.1
for r in unix_port gone table_full; do is "$(UNATTR $r)" 0 || om_fail "unattributed $r: $(m "$(UNATTR $r)")"; done

# 3. 50 parallel streams from one Go process, two CPU hogs beside it
hog() { while :; do :; done; }
hog & h1=$!
hog & h2=$!
OM_PIDS="$OM_PIDS $h1 $h2"
fresh
base "$ST{class=\"onion\",outcome=\"success\"}" "$ST{class=\"proxied\",outcome=\"success\"}" \
	"$BY{class=\"onion\",direction=\"egress\"}" "$BY{class=\"onion\",direction=\"ingress\"}" \
	"$BY{class=\"proxied\",direction=\"egress\"}" "$BY{class=\"proxied\",direction=\"ingress\"}"
urls=()
for i in $(seq 1 25); do
	urls+=("http://$ONION/bytes/$((i * 4099))" "http://198.18.0.1/bytes/$((i * 3001))")
done
./gofetch "$TN_SOCKS" go3.ready go3.done "${urls[@]}" >go3.out 2>go3.err &
gpid=$!
om_poll test -e go3.ready || { cat go3.err >&2; om_fail "the Go client did not fetch 50 streams"; }
touch go3.done
wait "$gpid" || { cat go3.err >&2; om_fail "the Go client failed"; }
om_stop "$h1"
om_stop "$h2"
om_wait_lines "$B" 25
om_wait_lines "$C" 25
read -r bi bo < <(om_log_sum "$B")
read -r ci co < <(om_log_sum "$C")
want "$ST{class=\"onion\",outcome=\"success\"}" $(($(was "$ST{class=\"onion\",outcome=\"success\"}") + 25))
want "$ST{class=\"proxied\",outcome=\"success\"}" $(($(was "$ST{class=\"proxied\",outcome=\"success\"}") + 25))
want "$BY{class=\"onion\",direction=\"egress\"}" $(($(was "$BY{class=\"onion\",direction=\"egress\"}") + bi + 25 * $(go_out "$ONION")))
want "$BY{class=\"onion\",direction=\"ingress\"}" $(($(was "$BY{class=\"onion\",direction=\"ingress\"}") + bo + 25 * GO_IN))
want "$BY{class=\"proxied\",direction=\"egress\"}" $(($(was "$BY{class=\"proxied\",direction=\"egress\"}") + ci + 25 * $(go_out 198.18.0.1)))
want "$BY{class=\"proxied\",direction=\"ingress\"}" $(($(was "$BY{class=\"proxied\",direction=\"ingress\"}") + co + 25 * GO_IN))
for r in unix_port gone table_full; do is "$(UNATTR $r)" 0 || om_fail "unattributed $r: $(m "$(UNATTR $r)")"; done
echo "ok: 50 parallel streams under CPU load: all attributed, totals exact ($((bo + co)) bytes from the servers)"

# 4. curl under the shim through the same tor: the shim and the Tor view
#    agree byte for byte; the blind spot does not move
fresh
base "$BY{class=\"onion\",direction=\"egress\"}" "$BY{class=\"onion\",direction=\"ingress\"}" \
	"$UBY{class=\"onion\",direction=\"egress\"}" "$UBY{class=\"onion\",direction=\"ingress\"}" \
	"$UST{class=\"onion\",outcome=\"success\"}"
if [ "${OM_SANITIZED:-0}" = 0 ]; then
	ONIONMETER_SEGMENT=$OM_TMP/shim.seg "$OM_RUN" -- curl -sS -o /dev/null -o /dev/null \
		--socks5-hostname "$TN_SOCKS" "http://$ONION/bytes/200000" "http://$ONION/bytes/300000" ||
		om_fail "curl under the shim failed"
	so=$(m 'onionmeter_bytes_total{class="onion",direction="egress"}')
	si=$(m 'onionmeter_bytes_total{class="onion",direction="ingress"}')
	[ -n "$so" ] && [ "$si" -gt 500000 ] || om_fail "the shim counted $so out, $si in"
	want "$BY{class=\"onion\",direction=\"egress\"}" $(($(was "$BY{class=\"onion\",direction=\"egress\"}") + so))
	want "$BY{class=\"onion\",direction=\"ingress\"}" $(($(was "$BY{class=\"onion\",direction=\"ingress\"}") + si))
	is "$UBY{class=\"onion\",direction=\"ingress\"}" "$(was "$UBY{class=\"onion\",direction=\"ingress\"}")" ||
		om_fail "the shim's connection entered the blind spot: $(m "$UBY{class=\"onion\",direction=\"ingress\"}")"
	is "$UST{class=\"onion\",outcome=\"success\"}" "$(was "$UST{class=\"onion\",outcome=\"success\"}")" ||
		om_fail "the shim's stream entered the blind spot"
	echo "ok: curl under the shim: the shim and Tor's view agree ($so out, $si in), the blind spot unchanged"
else
	echo "skip: the shim row (curl cannot run with the ASan runtime preloaded)"
fi

# 5. the Unix-domain SocksPort (tor names no client: class from tor,
#    bytes tor's own count, said so) and the HTTPTunnelPort (attributed)
base "$(UNATTR unix_port)" 'onionmeter_tor_reported_bytes_total{class="onion",direction="ingress"}' \
	"$ST{class=\"onion\",outcome=\"success\"}"
LD_PRELOAD= curl -sS -o /dev/null -x "socks5h://localhost$TN_SOCKS_UNIX" "http://$ONION/bytes/50000" ||
	om_fail "curl over the Unix-domain SocksPort failed"
want "$(UNATTR unix_port)" $(($(was "$(UNATTR unix_port)") + 1))
want "$ST{class=\"onion\",outcome=\"success\"}" $(($(was "$ST{class=\"onion\",outcome=\"success\"}") + 1))
rb=$(m 'onionmeter_tor_reported_bytes_total{class="onion",direction="ingress"}')
[ "$rb" -ge $(($(was 'onionmeter_tor_reported_bytes_total{class="onion",direction="ingress"}') + 50000)) ] ||
	echo "note: tor reported $rb bytes in for the Unix-domain stream (STREAM_BW can miss the tail)"
fresh
base "$ST{class=\"proxied\",outcome=\"success\"}" "$BY{class=\"proxied\",direction=\"ingress\"}" \
	"$BY{class=\"proxied\",direction=\"egress\"}"
LD_PRELOAD= curl -sS -o /dev/null -p -x "http://$TN_HTTP" "http://198.18.0.1/bytes/40000" ||
	om_fail "curl over the HTTPTunnelPort failed"
om_wait_lines "$C" 1
read -r ci co < <(om_log_sum "$C")
want "$ST{class=\"proxied\",outcome=\"success\"}" $(($(was "$ST{class=\"proxied\",outcome=\"success\"}") + 1))
# curl's CONNECT request and tor's answer are what they are: the view's
# bytes are the servers' plus exactly the kernel's handshake count
hin=$(($(m "$BY{class=\"proxied\",direction=\"ingress\"}") - $(was "$BY{class=\"proxied\",direction=\"ingress\"}") - co))
hout=$(($(m "$BY{class=\"proxied\",direction=\"egress\"}") - $(was "$BY{class=\"proxied\",direction=\"egress\"}") - ci))
[ "$hin" -gt 0 ] && [ "$hin" -lt 200 ] && [ "$hout" -gt 0 ] && [ "$hout" -lt 300 ] ||
	om_fail "HTTPTunnelPort: $hout/$hin bytes beyond the server's count"
echo "ok: Unix-domain SocksPort: not attributed, counted as such; HTTPTunnelPort: attributed, CONNECT $hout out / $hin in"

# 6. tor restarted under a second exporter on the ControlSocket: tor_up
#    drops and recovers; what was counted stays counted once
E2=$(om_free_port)
LD_PRELOAD= om_bg "$OM_EXPORTER" --listen "127.0.0.1:$E2" --segment "$OM_TMP/none.seg" \
	--kernel-interval 100 --tor-control "unix:$TN_CONTROL_SOCK" 2>exporter2.log
om_wait_port 127.0.0.1 "$E2"
m2() { curl -s "http://127.0.0.1:$E2/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
is2() { [ "$(m2 "$1")" = "$2" ]; }
om_poll is2 'onionmeter_tor_up{tor="1"}' 1 || { cat exporter2.log >&2; om_fail "no Tor view over the ControlSocket"; }
./gofetch "$TN_SOCKS" go6.ready go6.done "http://$ONION/bytes/1000" >/dev/null 2>go6.err &
gpid=$!
om_poll test -e go6.ready || { cat go6.err >&2; om_fail "the Go client did not fetch"; }
touch go6.done
wait "$gpid"
om_poll is2 "$ST{class=\"onion\",outcome=\"success\"}" 1 || om_fail "the ControlSocket view missed a stream"
om_stop "$(cat "$TN_DIR/client/pid")"
om_poll is2 'onionmeter_tor_up{tor="1"}' 0 || om_fail "tor_up did not drop with tor"
om_poll is 'onionmeter_tor_up{tor="1"}' 0 || om_fail "tor_up did not drop with tor (TCP control port)"
om_poll test ! -e "$TN_CONTROL_SOCK"
_tn_run client
om_poll is2 'onionmeter_tor_up{tor="1"}' 1 || { cat exporter2.log >&2; om_fail "tor_up did not recover"; }
om_poll is 'onionmeter_tor_up{tor="1"}' 1 || { cat exporter.log >&2; om_fail "tor_up did not recover (TCP control port)"; }
is2 "$ST{class=\"onion\",outcome=\"success\"}" 1 || om_fail "a reconnect changed what was counted"
om_poll _tn_probe "http://$ONION/" --socks5-hostname "$TN_SOCKS" || om_fail "the restarted client did not reach the onion service"
./gofetch "$TN_SOCKS" go7.ready go7.done "http://$ONION/bytes/1000" >/dev/null 2>go7.err &
gpid=$!
om_poll test -e go7.ready || { cat go7.err >&2; om_fail "the Go client did not fetch after the restart"; }
touch go7.done
wait "$gpid"
# the probe was one stream, the Go client another
om_poll is2 "$ST{class=\"onion\",outcome=\"success\"}" 3 || om_fail "after the restart: $(m2 "$ST{class=\"onion\",outcome=\"success\"}") onion streams, want 3"
grep -q 'msg="tor control down" tor=1' exporter2.log && grep -c 'msg="tor control up"' exporter2.log | grep -qx 2 ||
	{ cat exporter2.log >&2; om_fail "the log does not tell tor's restart"; }
kill -0 "$(pgrep -f "listen 127.0.0.1:$EPORT" | head -1)" || om_fail "the exporter died"
echo "ok: tor restarted: onionmeter_tor_up 1 -> 0 -> 1 on both control ports, the log says so, nothing counted twice"

# 7. onionmeter-run --report names where a program no preload reaches went
#    through tor: the onion service and the host behind the exit
# the command holds its two streams open for 2 s: the report looks at the
# run's connections every 0.25 s while it runs
ONIONMETER_SEGMENT= "$OM_RUN" --report --tor-control "$TN_CONTROL" -- sh -c '
"$1" "$2" go9.ready go9.done "http://$3/bytes/1000" "http://198.18.0.1/bytes/1000" >/dev/null &
while [ ! -e go9.ready ]; do sleep 0.05; done; sleep 2; touch go9.done; wait' sh \
	./gofetch "$TN_SOCKS" "$ONION" >report.txt 2>&1 || { cat report.txt >&2; om_fail "onionmeter-run --report failed"; }
grep -q "^  pid [0-9]* gofetch -> proxy onion $ONION:80: NOT SEEN by the shim$" report.txt ||
	{ cat report.txt >&2; om_fail "--report does not name the onion service the Go client reached"; }
grep -q "^  pid [0-9]* gofetch -> proxy exit 198.18.0.1:80: NOT SEEN by the shim$" report.txt ||
	{ cat report.txt >&2; om_fail "--report does not name the exit stream's host"; }
echo "ok: onionmeter-run --report --tor-control names the onion and the exit host of an unseen Go program"
echo PASS
