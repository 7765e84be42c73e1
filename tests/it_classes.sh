#!/usr/bin/env bash
# The shim and the exporter's kernel view read the environment with one
# function (common/config.c) and class a peer with one classifier: for
# every value of ONIONMETER_PROXIES and ONIONMETER_LOCAL_NETS (unset,
# empty, lists, garbage) a connection is the same class to both.  Servers
# and a client, all under the shim, hold connections to proxies, loopback,
# a "clearnet" host and IPv6 peers; the kernel lists both ends of each.  A
# class the two disagreed on would read as a blind spot in one class
# (the kernel's count above what the processes hold).
set -eu
. "$(dirname "$0")/lib.sh"
om_enter_netns "$@"
om_tmpdir
cd "$OM_TMP"

# host port pairs: the default proxies, a plain local port, the clearnet
# test host, IPv6 loopback and an IPv6 "clearnet" address
DESTS="127.0.0.1 9050  127.0.0.1 9150  127.0.0.1 8080  198.18.0.1 80  ::1 9050  2001:db8::1 80"
SERVE='
import os, socket, sys, threading
held = []
for host, port in zip(sys.argv[2::2], sys.argv[3::2]):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port))); s.listen(16)
    threading.Thread(target=lambda s=s: [held.append(s.accept()[0]) for _ in iter(int, 1)],
                     daemon=True).start()
open(sys.argv[1], "w").close()
threading.Event().wait()'
CLIENT='
import os, socket, sys, time
conns = []
for host, port in zip(sys.argv[3::2], sys.argv[4::2]):
    c = socket.create_connection((host, int(port))); c.sendall(b"x"); conns.append(c)
open(sys.argv[1], "w").close()
while not os.path.exists(sys.argv[2]): time.sleep(0.02)'

check() { # NAME [VAR=VALUE...]: one environment, every component under it
	local name=$1 seg=$OM_TMP/$1.seg out
	shift
	rm -f "$name".up "$name".ready "$name".done
	env "$@" ONIONMETER_SEGMENT="$seg" "$OM_RUN" -- "$PY" -c "$SERVE" "$name.up" $DESTS 2>/dev/null &
	local spid=$!
	om_wait_file "$name.up"
	env "$@" ONIONMETER_SEGMENT="$seg" "$OM_RUN" -- "$PY" -c "$CLIENT" "$name.ready" "$name.done" $DESTS 2>/dev/null &
	local cpid=$!
	om_wait_file "$name.ready"
	# both ends of all six connections held, by processes of the segment
	held() { [ "$(env "$@" LD_PRELOAD= "$OM_EXPORTER" --once --segment "$seg" 2>/dev/null |
		awk '$1 ~ /^onionmeter_kernel_connections\{/ { n += $2 } END { print n + 0 }')" = 12 ]; }
	om_poll held "$@" || om_fail "$name: the kernel does not list the 12 ends"
	out=$(env "$@" LD_PRELOAD= "$OM_EXPORTER" --once --segment "$seg" 2>/dev/null)
	touch "$name.done"
	wait "$cpid" || om_fail "$name: the client failed"
	kill "$spid"
	wait "$spid" 2>/dev/null || true
	printf '%s\n' "$out" | awk -v name="$name" '
		$1 ~ /^onionmeter_unseen_connections\{/ && $2 != 0 { bad = bad " " $1 "=" $2 }
		$1 ~ /^onionmeter_kernel_connections\{/ { k = k " " $1 "=" $2 }
		END { if (bad != "") { print name ": the shim and the kernel view disagree:" bad " (kernel:" k ")"; exit 1 } }' >&2 ||
		om_fail "$name: a destination is one class to the shim and another to the kernel view"
	echo "ok: $name: $(printf '%s\n' "$out" | awk '$1 ~ /^onionmeter_kernel_connections\{/ { sub(/onionmeter_kernel_connections/, "", $1); printf "%s=%s ", $1, $2 }')"
}

check defaults
check no-proxies ONIONMETER_PROXIES=
check plain-port-is-proxy ONIONMETER_PROXIES=127.0.0.1:8080
check clearnet-is-proxy "ONIONMETER_PROXIES=198.18.0.1:80,[::1]:9050"
check garbage-proxies ONIONMETER_PROXIES=not-an-endpoint
check no-nets ONIONMETER_LOCAL_NETS=
check clearnet-is-local ONIONMETER_LOCAL_NETS=198.18.0.0/15,2001:db8::/32
check garbage-nets ONIONMETER_LOCAL_NETS=garbage/99
check both-empty ONIONMETER_PROXIES= ONIONMETER_LOCAL_NETS=
check both-set ONIONMETER_PROXIES=198.18.0.1:80 ONIONMETER_LOCAL_NETS=198.18.0.0/15
echo PASS
