# A private Tor network, built from Debian's tor, for the tests: source
# after lib.sh, inside om_enter_netns, after om_tmpdir.
#
#   tornet_start     3 directory authorities, 3 relays, 1 exit, a v3 onion
#                    service in front of a logging HTTP backend, a client
#   tornet_stop_hs / tornet_start_hs, tornet_stop_backend / tornet_start_backend
#
# Nothing leaves the namespace: tornet_start refuses to run unless the
# namespace has no interface but loopback and no default route.  The
# "clearnet" test host is 198.18.0.1 (on lo), reached through the exit.
#
# What the client offers, for the tests:
#   TN_SOCKS=127.0.0.1:9050     SocksPort, ExtendedErrors (Tor's 0xF0-0xF7);
#                               a stream waits 30 s for a circuit (SocksTimeout)
#   TN_SOCKS_UNIX=PATH          SocksPort on a Unix-domain socket
#   TN_HTTP=127.0.0.1:9080      HTTPTunnelPort (HTTP CONNECT)
#   TN_CONTROL=127.0.0.1:9051   ControlPort, cookie authentication
#   TN_CONTROL_SOCK=PATH        ControlSocket, the same cookie
#   TN_COOKIE=PATH              the cookie file
#   TN_ONION=NAME.onion         the onion service (port 80)
#   TN_BACKEND_LOG, TN_CLEAR_LOG  one line per connection the onion
#                    service's backend / the clearnet host ended:
#                    "<bytes in> <bytes out> <requests>" (tornet_backend.py)
#
# How it comes up, and why in this order: the authorities and relays
# first; the onion service and the client only once a consensus lists
# every relay as Running (an onion service started earlier picks its
# layer-2 guards from a one-relay consensus and publishes minutes late).
# The exit accepts every address (a policy naming one host is summarised
# away in the consensus, and clients never choose it for that host).
# Ready means: the client bootstrapped, the onion service's descriptors
# are on the HSDirs, and a request through the client has reached the
# onion service and the clearnet host once (readiness, waited for; the
# tests' own requests come after).

TN_RELAYS="a0 a1 a2 r0 r1 r2 x0" # authorities, relays, the exit
TN_SOCKS=127.0.0.1:9050
TN_HTTP=127.0.0.1:9080
TN_CONTROL=127.0.0.1:9051

_tn_common() { # NAME: the lines every node's torrc starts with
	cat <<T
TestingTorNetwork 1
AssumeReachable 1
PathsNeededToBuildCircuits 0.25
TestingDirAuthVoteExit *
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
TestingMinExitFlagThreshold 0
V3AuthNIntervalsValid 2
LearnCircuitBuildTimeout 0
CircuitBuildTimeout 60
DataDirectory $TN_DIR/$1
Nickname $1
Log notice file $TN_DIR/$1/notice.log
SafeLogging 0
ShutdownWaitLength 0
PidFile $TN_DIR/$1/pid
ClientUseIPv6 0
$(cat "$TN_DIR/dirauths")
T
}

_tn_port() { # NAME: its ORPort (authorities' DirPorts are 7000+)
	case $1 in a*) echo $((5000 + ${1#a})) ;; r*) echo $((5010 + ${1#r})) ;; x*) echo $((5020 + ${1#x})) ;; esac
}

_tn_torrc() { # NAME
	local n=$1
	_tn_common "$n"
	echo "Address 127.0.0.1"
	echo "ORPort 127.0.0.1:$(_tn_port "$n")"
	echo "SocksPort 0"
	case $n in
	a*)
		cat <<T
DirPort 127.0.0.1:$((7000 + ${n#a}))
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
ContactInfo $n@test.invalid
TestingV3AuthInitialVotingInterval 5
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthVotingInterval ${TN_INTERVAL:-10}
V3AuthVoteDelay 2
V3AuthDistDelay 2
ExitRelay 0
ExitPolicy reject *:*
T
		;;
	r*) printf 'ExitRelay 0\nExitPolicy reject *:*\n' ;;
	x*) printf 'ExitRelay 1\nExitPolicy accept *:*\nExitPolicyRejectPrivate 0\nExitPolicyRejectLocalInterfaces 0\n' ;;
	esac
}

_tn_run() { # NAME: start one tor
	LD_PRELOAD= om_bg tor -f "$TN_DIR/$1/torrc" --RunAsDaemon 0 --quiet
}

# The consensus as the first authority serves it: how many relays it lists
# with the Running flag.
_tn_running() {
	curl -s --max-time 5 "http://127.0.0.1:7000/tor/status-vote/current/consensus" 2>/dev/null |
		awk '/^s / && / Running/ { n++ } END { print n + 0 }'
}
_tn_all_running() { [ "$(_tn_running)" -ge 7 ]; }

# The consensus's voting interval (fresh-until minus valid-after), seconds.
_tn_interval() {
	curl -s --max-time 5 "http://127.0.0.1:7000/tor/status-vote/current/consensus" 2>/dev/null |
		"$PY" -c 'import calendar, sys, time
t = {l.split(" ", 1)[0]: calendar.timegm(time.strptime(l.split(" ", 1)[1].strip(), "%Y-%m-%d %H:%M:%S"))
     for l in sys.stdin if l.startswith(("valid-after ", "fresh-until "))}
print(t["fresh-until"] - t["valid-after"] if len(t) == 2 else 0)'
}
_tn_interval_is() { [ "$(_tn_interval)" = "$1" ]; }

# In a test network an onion service's time period is one shared-random
# run: 24 voting intervals (4 minutes at the 10 s that bootstrap needs).
# At each period's end clients and the service change descriptors, and
# for a while a client cannot decrypt the one it fetched.  So once every
# relay is listed, the authorities move to a long interval: of 1800 s
# (boundaries at 06:00 and 18:00 UTC) and 3600 s (12:00 UTC), the one
# whose next boundary is further from now, hours away.
_tn_long_interval() {
	"$PY" -c 'import time
now = time.time()
def next_boundary(i):  # periods start at 12 intervals past a multiple of 24
    p, o = 24 * i, 12 * i
    return o + p * -(-(now - o) // p) - now
print(max((1800, 3600), key=next_boundary))'
}

_tn_probe() { # URL [curl args]: one request through the client reached its server
	local url=$1
	shift
	LD_PRELOAD= curl -s -o /dev/null --max-time 30 "$@" "$url" 2>/dev/null
}

# The onion service's descriptors are on the HSDirs: it has had an answer
# to every upload it began, and one was accepted.  A client that asks an
# HSDir before (the first request right after bootstrap, on a busy host)
# gets "not found" and does not ask that HSDir again for 15 minutes ("No
# more HSDir available to query"), so readiness waits for this first.
_tn_hs_published() {
	local log=$TN_DIR/hs/info.log began answered ok
	began=$(grep -c 'initiated upload request' "$log" 2>/dev/null) || :
	answered=$(grep -c 'Uploaded hidden service descriptor' "$log" 2>/dev/null) || :
	ok=$(grep -c 'Uploading hidden service descriptor: finished with status 200' "$log" 2>/dev/null) || :
	[ "${ok:-0}" -ge 1 ] && [ "${answered:-0}" -ge "${began:-0}" ]
}

# A request to the onion service; if it fails, NEWNYM makes the client
# forget the HSDirs it asked (and its circuits) so the next try is afresh.
_tn_probe_onion() {
	_tn_probe "http://$TN_ONION/" --socks5-hostname "$TN_SOCKS" && return 0
	LD_PRELOAD= "$PY" - "$TN_CONTROL" "$TN_COOKIE" <<'P' || :
import socket, sys
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)), timeout=10)
s.sendall(b"AUTHENTICATE " + open(sys.argv[2], "rb").read().hex().encode() + b"\r\nSIGNAL NEWNYM\r\nQUIT\r\n")
while s.recv(4096):
    pass
P
	return 1
}

tornet_start() {
	local n t0=$SECONDS
	om_need tor tor-gencert curl
	# Safety: refuse to start tor anywhere with a route off this host.
	[ "$(ip -o link show | grep -vc ': lo:')" = 0 ] || om_fail "not in an isolated namespace; refusing to start tor"
	[ -z "$(ip route show default)" ] || om_fail "a default route exists; refusing to start tor"
	ip -4 -o addr show dev lo | grep -q ' 198\.18\.0\.1/' || om_fail "the clearnet test host 198.18.0.1 is not on lo"
	TN_DIR=$OM_TMP/tornet
	TN_SOCKS_UNIX=$TN_DIR/client/socks
	TN_CONTROL_SOCK=$TN_DIR/client/control
	TN_COOKIE=$TN_DIR/client/control_auth_cookie
	TN_BACKEND_LOG=$TN_DIR/backend.log
	TN_CLEAR_LOG=$TN_DIR/clear.log
	mkdir -p "$TN_DIR"
	chmod 755 "$OM_TMP"
	: >"$TN_DIR/dirauths"
	# keys: each authority's v3 identity (tor-gencert) and relay identity
	for n in a0 a1 a2; do
		mkdir -p "$TN_DIR/$n/keys"
		chmod 700 "$TN_DIR/$n"
		(cd "$TN_DIR/$n/keys" && echo "" | tor-gencert --create-identity-key --passphrase-fd 0 \
			-i authority_identity_key -s authority_signing_key -c authority_certificate \
			-m 12 -a "127.0.0.1:$((7000 + ${n#a}))" >/dev/null 2>&1) || om_fail "tor-gencert for $n"
		LD_PRELOAD= tor --list-fingerprint --DataDirectory "$TN_DIR/$n" --ORPort "$(_tn_port "$n")" \
			--Nickname "$n" --quiet >/dev/null 2>&1 || om_fail "tor --list-fingerprint for $n"
		printf 'DirAuthority %s orport=%s no-v2 v3ident=%s 127.0.0.1:%s %s\n' "$n" "$(_tn_port "$n")" \
			"$(awk '/^fingerprint/ { print $2 }' "$TN_DIR/$n/keys/authority_certificate")" \
			"$((7000 + ${n#a}))" "$(awk '{ print $2 }' "$TN_DIR/$n/fingerprint")" >>"$TN_DIR/dirauths"
	done
	for n in $TN_RELAYS; do
		mkdir -p "$TN_DIR/$n"
		chmod 700 "$TN_DIR/$n"
		_tn_torrc "$n" >"$TN_DIR/$n/torrc"
		_tn_run "$n"
	done
	om_poll _tn_all_running ||
		{ tail -n 5 "$TN_DIR"/a0/notice.log >&2; om_fail "no consensus lists all 7 relays Running after ${OM_WAIT}s"; }
	echo "tornet: a consensus lists all 7 relays Running after $((SECONDS - t0)) s"
	TN_INTERVAL=$(_tn_long_interval)
	for n in a0 a1 a2; do
		_tn_torrc "$n" >"$TN_DIR/$n/torrc"
		kill -HUP "$(cat "$TN_DIR/$n/pid")"
	done
	om_poll _tn_interval_is "$TN_INTERVAL" ||
		om_fail "the authorities did not move to a ${TN_INTERVAL} s voting interval"
	echo "tornet: the consensus's voting interval is now $TN_INTERVAL s (an onion service period of $((TN_INTERVAL / 150)) h)"
	# the servers: the onion service's backend, the clearnet host
	tornet_start_backend
	LD_PRELOAD= om_bg "$PY" "$OM_SRC/tests/tornet_backend.py" 198.18.0.1 80 "$TN_CLEAR_LOG"
	om_wait_port 198.18.0.1 80
	# the onion service
	mkdir -p "$TN_DIR/hs/hidden_service"
	chmod 700 "$TN_DIR/hs" "$TN_DIR/hs/hidden_service"
	{ _tn_common hs; printf 'SocksPort 0\nHiddenServiceDir %s\nHiddenServicePort 80 127.0.0.1:8080\nLog info file %s\n' \
		"$TN_DIR/hs/hidden_service" "$TN_DIR/hs/info.log"; } >"$TN_DIR/hs/torrc"
	tornet_start_hs
	# the client: every kind of port a program may use, and a control port
	mkdir -p "$TN_DIR/client"
	chmod 700 "$TN_DIR/client"
	{ _tn_common client; cat <<T; } >"$TN_DIR/client/torrc"
SocksPort $TN_SOCKS ExtendedErrors
SocksPort unix:$TN_SOCKS_UNIX ExtendedErrors
HTTPTunnelPort $TN_HTTP
ControlPort $TN_CONTROL
ControlSocket $TN_CONTROL_SOCK
CookieAuthentication 1
SocksTimeout 30
T
	_tn_run client
	om_poll grep -qs 'Bootstrapped 100%' "$TN_DIR/client/notice.log" ||
		{ tail -n 5 "$TN_DIR/client/notice.log" >&2; om_fail "the client did not bootstrap in ${OM_WAIT}s"; }
	om_wait_file "$TN_DIR/hs/hidden_service/hostname"
	TN_ONION=$(cat "$TN_DIR/hs/hidden_service/hostname")
	om_poll _tn_hs_published ||
		{ tail -n 5 "$TN_DIR/hs/notice.log" >&2; { grep -i 'upload' "$TN_DIR/hs/info.log" | tail -n 8 >&2 || :; }
		  om_fail "the onion service did not publish its descriptor in ${OM_WAIT}s"; }
	echo "tornet: the onion service published its descriptors after $((SECONDS - t0)) s"
	om_poll _tn_probe_onion ||
		{ tail -n 5 "$TN_DIR/hs/notice.log" "$TN_DIR/client/notice.log" >&2; om_fail "the onion service did not answer in ${OM_WAIT}s"; }
	om_poll _tn_probe "http://198.18.0.1/" --socks5-hostname "$TN_SOCKS" ||
		om_fail "the clearnet host was not reached through the exit in ${OM_WAIT}s"
	om_wait_lines "$TN_BACKEND_LOG" 1
	om_wait_lines "$TN_CLEAR_LOG" 1
	: >"$TN_BACKEND_LOG"
	: >"$TN_CLEAR_LOG"
	TN_BOOTSTRAP=$((SECONDS - t0))
	echo "tornet: bootstrapped in $TN_BOOTSTRAP s (9 tor processes: 3 authorities, 3 relays, an exit, an onion service, a client)"
}

# On a test's failure: what tor said last.
om_on_fail() {
	local n
	[ -n "${TN_DIR:-}" ] || return 0
	for n in client hs; do
		[ -f "$TN_DIR/$n/notice.log" ] || continue
		echo "--- tor ($n), its last notices:"
		grep -v -e 'SafeLogging' -e 'as root' "$TN_DIR/$n/notice.log" | tail -n 8
	done
}

tornet_start_backend() {
	LD_PRELOAD= "$PY" "$OM_SRC/tests/tornet_backend.py" 127.0.0.1 8080 "$TN_BACKEND_LOG" &
	TN_BACKEND_PID=$!
	OM_PIDS="$OM_PIDS $TN_BACKEND_PID"
	om_wait_port 127.0.0.1 8080
}

tornet_stop_backend() { om_stop "$TN_BACKEND_PID"; }

tornet_start_hs() {
	LD_PRELOAD= tor -f "$TN_DIR/hs/torrc" --RunAsDaemon 0 --quiet &
	TN_HS_PID=$!
	OM_PIDS="$OM_PIDS $TN_HS_PID"
}

tornet_stop_hs() { om_stop "$TN_HS_PID"; }

# A v3 onion address that no service publishes: a fresh ed25519 key (tor
# checks the key is a curve point, not only the checksum).
tornet_unknown_onion() {
	openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout -outform DER 2>/dev/null |
		tail -c 32 | "$PY" -c 'import base64, hashlib, sys
k = sys.stdin.buffer.read()
c = hashlib.sha3_256(b".onion checksum" + k + b"\x03").digest()[:2]
print(base64.b32encode(k + c + b"\x03").decode().lower() + ".onion")'
}
