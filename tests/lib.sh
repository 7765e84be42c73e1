# Helpers for the shell integration tests.  Source after setting -eu.
# Exit status 77 tells meson the test was skipped.

# The real interpreter: a pyenv-style "python3" shim is a shell script that
# would put several processes under the preload.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

om_skip() { echo "SKIP: $*"; exit 77; }
om_fail() {
	echo "FAIL: $*" >&2
	# a test bed may say more (tornet.sh: tor's logs)
	if declare -F om_on_fail >/dev/null; then om_on_fail >&2 || true; fi
	exit 1
}

# Skip unless these commands exist.
om_need() {
	local c
	for c in "$@"; do command -v "$c" >/dev/null || om_skip "$c not installed"; done
}

# Tests that run curl under the shim: curl hangs with libasan preloaded even
# without onionmeter, so they skip in the sanitizer build (the sanitized shim
# is exercised by the Python and C programs of the other tests).
om_no_asan_curl() {
	[ "${OM_SANITIZED:-0}" = 0 ] || om_skip "curl cannot run with the ASan runtime preloaded"
}

# The test onion service: a v3-shaped name that resolves, inside our mount
# namespace only, to the namespace's clearnet test host.
ONION=2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion

# Re-run the calling script inside a private network + mount namespace:
# loopback up, a "clearnet" test host 198.18.0.1 on lo.  Nothing outside
# the namespace is reachable from it.
om_enter_netns() {
	if [ "${OM_IN_NETNS:-}" = 1 ]; then
		ip link set lo up
		ip addr add 198.18.0.1/32 dev lo
		ip -6 addr add 2001:db8::1/128 dev lo 2>/dev/null || true
		return 0
	fi
	local how
	if [ "$(id -u)" = 0 ] && unshare -n -m true 2>/dev/null; then
		how="unshare -n -m"
	elif unshare -r -n -m true 2>/dev/null; then
		how="unshare -r -n -m"
	else
		om_skip "cannot create a network namespace (need root or unprivileged user namespaces)"
	fi
	OM_IN_NETNS=1 exec $how -- bash "$0" "$@"
}

# Give a name to an address inside our mount namespace only.  A system
# without /etc/hosts (debootstrap's minbase) has no file to mount over:
# the namespace then gets an /etc of its own, links to the real one's
# entries, with a hosts file added.
om_hosts() {
	local f e
	f=$(mktemp "$OM_TMP/hosts.XXXXXX")
	{ echo "127.0.0.1 localhost"; echo "::1 localhost"; printf '%s\n' "$@"; } >"$f"
	chmod 644 "$f"
	if [ ! -e /etc/hosts ]; then
		mkdir "$OM_TMP/etc.real" "$OM_TMP/etc"
		mount --bind /etc "$OM_TMP/etc.real"
		for e in "$OM_TMP"/etc.real/* "$OM_TMP"/etc.real/.[!.]*; do
			[ -e "$e" ] || [ -L "$e" ] && ln -s "$e" "$OM_TMP/etc/"
		done
		: >"$OM_TMP/etc/hosts"
		chmod 755 "$OM_TMP/etc"
		mount --bind "$OM_TMP/etc" /etc
		OM_UMOUNT="/etc $OM_TMP/etc.real"
	fi
	mount --bind "$f" /etc/hosts
}

# Re-run the calling test as root through sudo -n (a developer with sudo:
# scripts/dev keeps its timestamp fresh), with the environment meson gave
# it; skip, saying WHY root is needed, where that cannot be done.
om_as_root() { # WHY ARGS...
	local why=$1 v vars=()
	shift
	[ "$(id -u)" = 0 ] && return 0
	sudo -n true 2>/dev/null || om_skip "needs root (or sudo without a password prompt): $why"
	for v in $(compgen -e); do
		case $v in OM_*|ASAN_OPTIONS|UBSAN_OPTIONS|MESON_*) vars+=("$v=${!v}") ;; esac
	done
	exec sudo -n env "${vars[@]}" bash "$0" "$@"
}

# Run a proxy that alone can resolve $ONION, as only Tor can: a nested mount
# namespace gives it an /etc/hosts the clients do not see.
om_bg_proxy() {
	local f
	f=$(mktemp "$OM_TMP/hosts.XXXXXX")
	{ echo "127.0.0.1 localhost"; echo "198.18.0.1 $ONION"; } >"$f"
	chmod 644 "$f"
	LD_PRELOAD= om_bg unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$f" "$@"
}

om_tmpdir() {
	OM_TMP=$(mktemp -d "${TMPDIR:-/tmp}/om-test.XXXXXX")
	OM_PIDS=""
	trap om_cleanup EXIT
}

# Stop PID: SIGTERM, then SIGKILL if it has not gone in 10 s (tor 0.4.9
# can deadlock in its own shutdown, in cpuworker_free_all).
om_stop() {
	local end=$((SECONDS + 10))
	kill "$1" 2>/dev/null || return 0
	while ! om_gone "$1" && [ "$SECONDS" -lt "$end" ]; do sleep 0.05; done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

om_cleanup() {
	local p
	for p in $OM_PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $OM_PIDS; do om_stop "$p"; done
	om_remove_segments "$OM_TMP"
	# mounts of files under OM_TMP (om_hosts without /etc/hosts)
	for p in ${OM_UMOUNT:-}; do umount -l "$p" 2>/dev/null || true; done
	# OM_KEEP=DIR: keep the test's files there, for a post-mortem
	[ -z "${OM_KEEP:-}" ] || cp -a "$OM_TMP" "$OM_KEEP/" 2>/dev/null || true
	rm -rf "$OM_TMP"
}

# Delete every segment under a directory with its liveness semaphores
# (a segment's file alone is not all of it).
om_remove_segments() {
	local f
	local i
	while IFS= read -r -d '' f; do
		[ "$(head -c 8 "$f" 2>/dev/null | tr -d '\0')" = OIONMETR ] || continue
		# a process a test left behind may still count into it: let it end
		for i in $(seq 1 50); do
			# the test's own files: whoever of its users owns one
			LD_PRELOAD= "$OM_EXPORTER" --remove --segment "$f" \
				--segment-owner "$(stat -c %u "$f" 2>/dev/null || echo 0)" 2>/dev/null && break
			sleep 0.1
		done
	done < <(find "$1" -type f -print0 2>/dev/null)
}

om_bg() { "$@" & OM_PIDS="$OM_PIDS $!"; }

# How long a wait for a condition may take before the test fails.  Only
# readiness is waited for this way, never speed: the bound is generous
# (a loaded 2-core machine under ASan), and the failure says what was
# waited for.  OM_WAIT overrides it.
OM_WAIT=${OM_WAIT:-120}

# Run CMD... every 50 ms until it succeeds: 0, or 1 after OM_WAIT seconds.
om_poll() {
	local end=$((SECONDS + OM_WAIT))
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# The same, failing the test with what was waited for.
om_wait_for() { # WHAT CMD...
	local what=$1
	shift
	om_poll "$@" || om_fail "waited ${OM_WAIT}s for $what"
}

# Wait until FILE exists.
om_wait_file() { om_wait_for "$1 to appear" test -e "$1"; }

# Is process PID gone (exited, or a zombie not reaped yet)?
om_gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

# A TCP socket listens on HOST:PORT (or on the wildcard address).  Asked
# of the kernel, not by connecting: a probe connection is one more
# connection for a server that logs them (relay.py, tornet_backend.py),
# and it can land in its log after the test emptied it.
_om_port_open() {
	ss -Hltn "sport = :$2" 2>/dev/null | awk -v h="$1" '{
		a = $4; sub(/:[0-9]+$/, "", a); sub(/%.*/, "", a); gsub(/[][]/, "", a)
		if (a == h || a == "0.0.0.0" || a == "*" || a == "::" || a == "::ffff:" h) f = 1
	} END { exit !f }'
}

# Wait until HOST PORT accepts TCP connections.
om_wait_port() { om_wait_for "something to listen on $1:$2" _om_port_open "$1" "$2"; }

# A TCP port free on loopback right now.
om_free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# One scrape of segment $1, Prometheus text.
om_scrape() { LD_PRELOAD= "$OM_EXPORTER" --once --segment "$1"; }

# Value of one sample, e.g. om_metric SEG 'onionmeter_dials_total{class="onion",outcome="success"}'
om_metric() {
	local v
	v=$(om_scrape "$1" | awk -v k="$2" '$1 == k { print $2 }')
	[ -n "$v" ] || om_fail "no sample $2 in segment $1"
	echo "$v"
}

# Wait until the exporter at 127.0.0.1:PORT has begun two kernel polls
# since now: its kernel gauges then say what the kernel held after this
# point (under load a poll is spaced out to 20 times its length, so the
# last one can be older than what the test just did).
om_kernel_polled() { # PORT
	local p0
	p0=$(curl -s "http://127.0.0.1:$1/metrics" | awk '$1 == "onionmeter_kernel_polls_total" { print $2 }')
	[ -n "$p0" ] || om_fail "the exporter on port $1 has no kernel view"
	_om_polled() { [ "$(curl -s "http://127.0.0.1:$1/metrics" | awk '$1 == "onionmeter_kernel_polls_total" { print $2 }')" -ge $(($2 + 2)) ]; }
	om_poll _om_polled "$1" "$p0" || om_fail "the kernel view on port $1 stopped polling"
}

om_expect() { # SEG SAMPLE EXPECTED
	local v
	v=$(om_metric "$1" "$2")
	[ "$v" = "$3" ] || om_fail "$2 = $v, expected $3"
	echo "ok: $2 = $v"
}

# Wait until SAMPLE in SEG reads VALUE (a process attached, a connection
# closed): the segment is read again until it does.
_om_metric_is() { [ "$(om_scrape "$1" 2>/dev/null | awk -v k="$2" '$1 == k { print $2 }')" = "$3" ]; }
om_wait_metric() { # SEG SAMPLE VALUE
	om_poll _om_metric_is "$1" "$2" "$3" ||
		om_fail "$2 never read $3 in ${OM_WAIT}s (last: $(om_scrape "$1" 2>/dev/null | awk -v k="$2" '$1 == k { print $2 }'))"
	echo "ok: $2 = $3"
}

# Wait until FILE has at least N lines: a proxy logs a connection after
# closing it, which may be after the client has exited.
_om_has_lines() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
om_wait_lines() { # FILE N
	om_poll _om_has_lines "$1" "$2" ||
		om_fail "$1: fewer than $2 lines after ${OM_WAIT}s: $(cat "$1" 2>/dev/null)"
}

# Sum of a counting proxy's log (countpipe.py, relay.py): "IN OUT", the
# bytes read from and written to its clients.
om_log_sum() { awk '{ i += $1; o += $2 } END { printf "%d %d\n", i, o }' "$1"; }

# CLASS's bytes in SEG are exactly what the proxy logged in LOG, which
# must hold N connections.
om_expect_bytes() { # SEG CLASS LOG N
	local in out
	om_wait_lines "$3" "$4"
	read -r in out < <(om_log_sum "$3")
	om_expect "$1" "onionmeter_bytes_total{class=\"$2\",direction=\"egress\"}" "$in"
	om_expect "$1" "onionmeter_bytes_total{class=\"$2\",direction=\"ingress\"}" "$out"
}

# The same for a client that stops reading a reply part way (an error
# page, a failure reply): egress exact, ingress at least FLOOR and at most
# what the proxy wrote.
om_expect_bytes_read() { # SEG CLASS LOG N FLOOR
	local in out got
	om_wait_lines "$3" "$4"
	read -r in out < <(om_log_sum "$3")
	om_expect "$1" "onionmeter_bytes_total{class=\"$2\",direction=\"egress\"}" "$in"
	got=$(om_metric "$1" "onionmeter_bytes_total{class=\"$2\",direction=\"ingress\"}")
	[ "$got" -ge "$5" ] && [ "$got" -le "$out" ] ||
		om_fail "$2 ingress $got, want $5 to $out (what the proxy wrote)"
}

# The first value of a PromQL EXPR on the Prometheus at 127.0.0.1:PORT, or
# nothing if the result is empty.
om_prom_query() { # PORT EXPR
	curl -s --get "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2" |
		"$PY" -c 'import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")'
}

# In the sanitizer build, does CMD... finish with the ASan runtime alone
# preloaded (no onionmeter)?  Some programs hang there (curl, libcurl's
# users, psql): their rows run in the plain build.  Only a hang counts; CMD
# may fail.
om_sanitizer_runs() {
	local rc=0
	[ "${OM_SANITIZED:-0}" = 0 ] && return 0
	timeout 20 env LD_PRELOAD="${OM_PRELOAD%%:*}" "$@" >/dev/null 2>&1 </dev/null || rc=$?
	[ "$rc" != 124 ] && return 0
	echo "skip: $1 hangs with the ASan runtime alone preloaded (no onionmeter); its row runs in the plain build"
	return 1
}
