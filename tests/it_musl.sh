#!/usr/bin/env bash
# The shim built with musl-gcc, preloaded into musl-linked programs: single
# thread, threads, and fork (a forked echo child), with exact totals.
set -eu
. "$(dirname "$0")/lib.sh"
om_need musl-gcc
[ -e /lib/ld-musl-x86_64.so.1 ] || [ -e /lib/ld-musl-aarch64.so.1 ] || om_skip "no musl dynamic loader"
om_tmpdir
# the shim's C sources (its assembly is glibc's: dlsym, vfork) and the
# parts of the shared module it links
musl-gcc -std=gnu11 -D_GNU_SOURCE -O2 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror \
	-I"$OM_SRC" -I"$OM_SRC/shim" -o "$OM_TMP/libonionmeter-musl.so" "$OM_SRC"/shim/*/*.c \
	"$OM_SRC"/common/{classify,clock,config,endpoints,liveness,logfmt,segpath}.c -lpthread ||
	om_fail "the shim does not build with musl-gcc"
musl-gcc -O2 -o "$OM_TMP/iobench" "$OM_SRC/bench/iobench.c" -lpthread || om_fail "musl client build"
run() { # SEGMENT ARGS...
	local seg=$1
	shift
	ONIONMETER_SEGMENT=$seg LD_PRELOAD="$OM_TMP/libonionmeter-musl.so" "$OM_TMP/iobench" "$@" ||
		om_fail "musl iobench $* failed"
}
seg=$OM_TMP/single.seg
run "$seg" tracked 1000
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' 1000
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="ingress"}' 1000
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="success"}' 1
om_expect "$seg" 'onionmeter_accepted_total{class="local"}' 1
seg=$OM_TMP/threads.seg
run "$seg" threads 4 500
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' $((4 * 500 * 64))
om_expect "$seg" 'onionmeter_dials_total{class="local",outcome="success"}' 4
seg=$OM_TMP/fork.seg
run "$seg" pingpong 200 64
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="egress"}' $((2 * 200 * 64))
om_expect "$seg" 'onionmeter_bytes_total{class="local",direction="ingress"}' $((2 * 200 * 64))
om_expect "$seg" 'onionmeter_segment_slots_used' 2
om_expect "$seg" 'onionmeter_connections{class="local"}' 0
echo PASS
