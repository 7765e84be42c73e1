#!/usr/bin/env bash
# The Quick start's demo, as scripts/dev demo runs it: on this machine,
# and on one without /etc/hosts (debootstrap's minbase has none), which
# the demo's private namespace must not need.
set -eu
. "$(dirname "$0")/lib.sh"
om_need microsocks curl
om_no_asan_curl
om_tmpdir
check() { # NAME OUTPUT
	grep -q '^verdict: no leaks under audit$' "$2" &&
		grep -Eq '^  onion +230 B +1\.0 MiB +0  success=1 proxy_error=1$' "$2" &&
		grep -Eq '^  direct +82 B +1\.0 MiB +0  success=1$' "$2" &&
		grep -q '^onionmeter_dials_total{class="onion",outcome="success"} 1$' "$2" ||
		{ cat "$2" >&2; om_fail "$1: the demo's report is not what it must show"; }
	echo "ok: $1"
}
OM_BUILD=$OM_BUILD bash "$OM_SRC/scripts/demo" >"$OM_TMP/demo.out" 2>&1 ||
	{ cat "$OM_TMP/demo.out" >&2; om_fail "the demo failed"; }
check "the demo" "$OM_TMP/demo.out"

# the same where /etc has no hosts file: a private mount namespace whose
# /etc links to the real one's entries, all but hosts
if [ "$(id -u)" = 0 ]; then how="unshare -m"; else how="unshare -r -m"; fi
$how true 2>/dev/null || om_skip "cannot make a mount namespace here"
OM_BUILD=$OM_BUILD $how bash -c '
set -e
mkdir -p "$1/real" "$1/etc"
mount --bind /etc "$1/real"
for e in "$1"/real/* "$1"/real/.[!.]*; do
	case ${e##*/} in hosts) ;; *) { [ -e "$e" ] || [ -L "$e" ]; } && ln -s "$e" "$1/etc/" ;; esac
done
chmod 755 "$1/etc"
mount --bind "$1/etc" /etc
[ ! -e /etc/hosts ]
exec bash "$2/scripts/demo"' sh "$OM_TMP/minbase" "$OM_SRC" >"$OM_TMP/minbase.out" 2>&1 ||
	{ cat "$OM_TMP/minbase.out" >&2; om_fail "the demo failed without /etc/hosts"; }
check "the demo on a system without /etc/hosts" "$OM_TMP/minbase.out"
echo PASS
