#!/usr/bin/env bash
# Instructions close_range costs with and without the shim, as a daemon
# or a fork child calls it before exec (callgrind: exact counts).
# close_range(100, ~0) with one socket open, so the shim's fd table has a
# page: the cost per call is the slope between 1 and 1,001 calls.  Then
# close_range(3, ~0) in a fork child that inherited 10 sockets (a
# listener's 5 loopback connections, both ends): the call's inclusive
# cost in the child, which also counts the connections it inherited in a
# slot of its own (an attach) as every fork child holding one does.
#
#   bench/close_range.sh [BUILD_DIR]     (default: build)
set -eu
cd "$(dirname "$0")/.."
. "$PWD/bench/lib.sh"
bench_cg_setup "${1:-build}" crbench
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
cat >"$TMP/child.c" <<'C'
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
int main(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0), i, st;
	pid_t pid;

	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 8) ||
	    getsockname(l, (struct sockaddr *)&a, &len))
		return 1;
	for (i = 0; i < 5; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0);

		if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a) || accept(l, 0, 0) < 0)
			return 1;
	}
	close(l); /* 10 sockets: 5 connections, both ends */
	if ((pid = fork()) == 0)
		_exit(close_range(3, ~0u, 0) != 0);
	return waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st);
}
C
cc -O2 -o "$TMP/cr" "$TMP/cr.c"
cc -O2 -o "$TMP/child" "$TMP/child.c"
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
in_child() { # PRELOAD OBJECT: close_range's inclusive instructions in the fork child
	rm -f "$TMP/seg" "$TMP"/cg.*
	ONIONMETER_SEGMENT=$TMP/seg LD_PRELOAD=$1 valgrind --tool=callgrind \
		--callgrind-out-file="$TMP/cg.%p" "$TMP/child" >/dev/null 2>&1
	for f in "$TMP"/cg.*; do
		callgrind_annotate --inclusive=yes --threshold=100 "$f" 2>/dev/null | tr -d , |
			awk -v o="$2" 'NF >= 2 && $(NF-1) ~ /:close_range$/ && $NF ~ o { print $1; exit }'
	done | sort -g | tail -1
}
c0=$(in_child "" 'libc[.]so') c1=$(in_child "$SHIM" 'libonionmeter[.]so')
echo
echo "| close_range(3, ~0) in a fork child, 10 sockets inherited | instructions, no shim | with the shim |"
echo "|---|---:|---:|"
echo "| the call, inclusive | $c0 | $c1 |"
