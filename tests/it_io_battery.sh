#!/usr/bin/env bash
# Every wrapped call: identical results and errno with and without the shim,
# and the segment's totals equal the program's own tally of bytes moved.
set -eu
. "$(dirname "$0")/lib.sh"
om_tmpdir
BAT=$OM_BUILD/tests/io_battery
if [ "${OM_SANITIZED:-0}" != 0 ]; then
	# ASan's interceptors dereference accept()'s and recvfrom()'s pointers
	# before the call: no process with its runtime can get EFAULT there
	echo "note: the EFAULT cases run in the plain build only"
	export OM_NO_EFAULT=1
fi
seg=$OM_TMP/seg
LD_PRELOAD= "$BAT" >"$OM_TMP/plain" || om_fail "battery failed without the shim"
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$BAT" >"$OM_TMP/shim" || om_fail "battery failed under the shim"
diff -u "$OM_TMP/plain" "$OM_TMP/shim" || om_fail "results or errno differ under the shim"
echo "ok: $(grep -c errno= "$OM_TMP/plain") calls, identical results and errno"
read -r _ eg in di re ac < <(grep '^EXPECT' "$OM_TMP/shim" | tr '=' ' ' | awk '{print $1, $3, $5, $7, $9, $11}')
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' "$eg"
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="ingress"}' "$in"
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="success"}' "$di"
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="refused"}' "$re"
om_expect "$seg" 'onionmeter_accepted_total{class="local"}' "$ac"
om_expect "$seg" 'onionmeter_connections{class="local"}' 0
echo PASS
