#!/usr/bin/env bash
# What one attach costs in instructions, as the segment fills: callgrind
# collects inside om_attach only (--toggle-collect) while a process makes
# its first dial, with 1, 64, 1024 and 4093 live processes in a 4096-slot
# segment: a fresh process, and an exec'd image that finds the slot its
# old image held.  Exact counts; the last column is the growth per live
# process from the first row.
#
#   bench/attach.sh [BUILD_DIR]      (default: build; 4093 processes need
#                                    ulimit -u and a free System V set)
set -eu
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}")
SHIM=$BUILD/shim/libonionmeter.so
SLEEPER=$BUILD/bench/sleeper
EXP=$BUILD/exporter/onionmeter-exporter
for f in "$SHIM" "$SLEEPER" "$EXP"; do
	[ -f "$f" ] || { echo "no $f: build first (scripts/dev setup)" >&2; exit 2; }
done
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }
. "$PWD/bench/lib.sh"
bench_segment attach
start_sink

ir() { # CMD... -> instructions inside om_attach
	LD_PRELOAD=$SHIM valgrind --tool=callgrind --toggle-collect=om_attach \
		--callgrind-out-file=/dev/null "$@" 2>&1 | sed -n 's/.*Collected : //p'
}

echo "instructions inside om_attach, one process's first dial, 4096-slot segment:"
echo
echo "| live processes | a fresh process | an exec'd image (its old image held a slot) |"
echo "|---:|---:|---:|"
first_a="" first_b=""
for n in 1 64 1024 4093; do
	bench_fill "$n"
	a=$(ir "$SLEEPER" "$SINK" once)
	# the old image dials (claims), then execs the one measured
	b=$(LD_PRELOAD=$SHIM "$SLEEPER" "$SINK" exec valgrind --tool=callgrind \
		--toggle-collect=om_attach --callgrind-out-file=/dev/null "$SLEEPER" "$SINK" once 2>&1 |
		sed -n 's/.*Collected : //p')
	printf '| %d | %s | %s |\n' "$n" "$a" "$b"
	first_a=${first_a:-$a} first_b=${first_b:-$b} last_n=$n last_a=$a last_b=$b
done
echo
awk -v a0="$first_a" -v b0="$first_b" -v a="$last_a" -v b="$last_b" -v n="$last_n" 'BEGIN {
	printf "growth from 1 to %d live: a fresh process %+d (%.2f per live process), an exec'"'"'d image %+d (%.2f)\n",
		n, a - a0, (a - a0) / (n - 1), b - b0, (b - b0) / (n - 1) }'
