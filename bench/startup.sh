#!/usr/bin/env bash
# What the shim costs every exec of a program that never opens a socket:
# instructions (callgrind, exact), minor page faults (getrusage of each
# child, median of 51 and the range), and the imports the loader binds at
# load (-z now) for the library itself.  Measured for /bin/true with
# nothing preloaded, with an empty library (bench/floor.c: the floor under
# any preload) and with the shim, in the environment onionmeter-run gives
# (a segment path and a slot count set).
#
#   bench/startup.sh [BUILD_DIR] [SHIM.so]    (default: build, its shim;
#                                             another .so to compare a build)
set -eu
cd "$(dirname "$0")/.."
BUILD=$(realpath "${1:-build}")
SHIM=$(realpath "${2:-$BUILD/shim/libonionmeter.so}")
FLOOR=$BUILD/bench/libfloor.so
for f in "$SHIM" "$FLOOR"; do
	[ -f "$f" ] || { echo "no $f: build first (scripts/dev setup)" >&2; exit 2; }
done
command -v valgrind >/dev/null || { echo "valgrind not installed" >&2; exit 2; }
TMP=$(mktemp -d /tmp/om-startup.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
export ONIONMETER_SEGMENT=$TMP/seg ONIONMETER_SLOTS=4096

ir() { # PRELOAD -> instructions of one exec of /bin/true
	local out
	out=$(LD_PRELOAD=$1 valgrind --tool=callgrind --callgrind-out-file=/dev/null /bin/true 2>&1)
	case $out in *"cannot be preloaded"*) echo "$1 does not load" >&2; exit 1 ;; esac
	sed -n 's/.*Collected : //p' <<<"$out"
}

faults() { # PRELOAD -> "median min max" minor faults over 51 runs
	python3 - "$1" <<'PY'
import os, statistics, sys
env = dict(os.environ, LD_PRELOAD=sys.argv[1])
f = []
for _ in range(51):
    pid = os.posix_spawn("/bin/true", ["/bin/true"], env)
    f.append(os.wait4(pid, 0)[2].ru_minflt)
print(int(statistics.median(f)), min(f), max(f))
PY
}

imports() { # the dynamic relocations against symbols: what the loader looks up
	readelf -rW "$1" | awk '$3 ~ /GLOB_DAT|JUMP_SLOT|_64$/ && $5 != "" { print $5 }' | sort -u | wc -l
}

n0=$(ir "") nf=$(ir "$FLOOR") ns=$(ir "$SHIM")
read -r f0 f0lo f0hi <<<"$(faults "")"
read -r ff fflo ffhi <<<"$(faults "$FLOOR")"
read -r fs fslo fshi <<<"$(faults "$SHIM")"
echo "machine: $(nproc) cores, $(uname -r); $(valgrind --version); $(ldd --version | head -1)"
echo "date: $(date -u +%Y-%m-%d)"
echo
echo "| exec /bin/true | instructions | added | minor faults (median, range of 51) | added |"
echo "|---|---:|---:|---:|---:|"
echo "| nothing preloaded | $n0 | - | $f0 ($f0lo-$f0hi) | - |"
echo "| empty library (floor) | $nf | +$((nf - n0)) | $ff ($fflo-$ffhi) | +$((ff - f0)) |"
echo "| the shim | $ns | +$((ns - n0)) (floor +$((nf - n0)), own +$((ns - nf))) | $fs ($fslo-$fshi) | +$((fs - f0)) |"
echo
echo "symbols the loader binds for the shim at load: $(imports "$SHIM")"
