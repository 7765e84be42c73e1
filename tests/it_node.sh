#!/usr/bin/env bash
# Node.js under the shim: the npm "socks" client dials a .onion through
# microsocks in a private namespace.  libuv reads and writes through libc
# but closes through syscall(SYS_close): the open-connections gauge must
# drop while node is still running.
set -eu
. "$(dirname "$0")/lib.sh"
NODE=$(command -v node || true)
[ -n "$NODE" ] || om_skip "node not installed"
[ -d "$OM_SRC/tests/node/node_modules/socks" ] || om_skip "npm packages not installed (scripts/dev setup installs them)"
command -v microsocks >/dev/null || om_skip "microsocks not installed"
om_enter_netns "$@"
om_tmpdir

om_hosts "198.18.0.1 $ONION"
mkdir "$OM_TMP/www"
head -c 300007 /dev/urandom >"$OM_TMP/www/blob"
LD_PRELOAD= om_bg "$PY" -m http.server --bind 198.18.0.1 --directory "$OM_TMP/www" 80 >/dev/null 2>&1
LD_PRELOAD= om_bg microsocks -i 127.0.0.1 -p 1080 >/dev/null 2>&1
om_wait_port 198.18.0.1 80
om_wait_port 127.0.0.1 1080

seg=$OM_TMP/seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$NODE" "$OM_SRC/tests/node/socks_fetch.js" \
	127.0.0.1 1080 "$ONION" 80 blob 4000 "$OM_TMP/report" &
npid=$!
om_poll test -s "$OM_TMP/report" || om_fail "node did not finish its fetch"
read -r sent received <"$OM_TMP/report"
[ "$received" -gt 300007 ] || om_fail "node received only $received bytes"
# node is still alive here, its socket closed through syscall(SYS_close)
om_expect "$seg" onionmeter_processes 1
om_expect "$seg" 'onionmeter_connections{class="onion"}' 0
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="success"}' 1
# SOCKS5: greeting 3 + request 7+len(host) out; 2 + 10 back
om_expect "$seg" 'onionmeter_bytes_total{class="onion",direction="egress"}' $((sent + 3 + 7 + ${#ONION}))
om_expect "$seg" 'onionmeter_bytes_total{class="onion",direction="ingress"}' $((received + 12))
wait "$npid" || om_fail "node failed"
echo PASS
