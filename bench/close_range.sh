#!/usr/bin/env bash
# Instructions close_range(100, ~0) costs with and without the shim, as a
# daemon or a fork child calls it before exec (callgrind: exact counts).
# One socket is open, so the shim's fd table has a page; the cost per
# call is the slope between 1 and 1,001 calls.
#
#   bench/close_range.sh [BUILD_DIR]     (default: build)
set -eu
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}") # absolute: the paths below go into LD_PRELOAD
SHIM=$BUILD/shim/libonionmeter.so
TMP=$(mktemp -d /tmp/om-crbench.XXXXXX)
trap '"$BUILD/exporter/onionmeter-exporter" --remove --segment "$TMP/seg" 2>/dev/null; rm -rf "$TMP"' EXIT
cat >"$TMP/cr.c" <<'C'
#define _GNU_SOURCE
#include <linux/close_range.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1, i;

	if (socket(AF_INET, SOCK_STREAM, 0) < 0)
		return 1;
	for (i = 0; i < n; i++)
		close_range(100, ~0u, 0);
	return 0;
}
C
cc -O2 -o "$TMP/cr" "$TMP/cr.c"
count() { # PRELOAD N
	rm -f "$TMP/seg"
	ONIONMETER_SEGMENT=$TMP/seg LD_PRELOAD=$1 valgrind --tool=callgrind \
		--callgrind-out-file=/dev/null "$TMP/cr" "$2" 2>&1 | sed -n 's/.*Collected : //p'
}
b1=$(count "" 1) b2=$(count "" 1001) s1=$(count "$SHIM" 1) s2=$(count "$SHIM" 1001)
echo "| close_range(100, ~0) | instructions per call, no shim | with the shim |"
echo "|---|---:|---:|"
awk -v b1="$b1" -v b2="$b2" -v s1="$s1" -v s2="$s2" 'BEGIN {
	printf "| one socket open | %.0f | %.0f |\n", (b2 - b1) / 1000, (s2 - s1) / 1000 }'
