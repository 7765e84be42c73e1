#!/usr/bin/env bash
# The symbols the loader binds for the shim at every exec (-z now): each
# costs about 600 instructions whether or not the program opens a socket
# (bench/startup.sh).  A new one must be a deliberate choice: a system call
# or string function belongs in shim/core/sys.c or string.c; anything else,
# add it here and to docs/performance.md.
#   tests/shim_imports.sh SHIM.so
set -eu
so=$1
allowed=" _ITM_deregisterTMCloneTable _ITM_registerTMCloneTable __cxa_finalize __gmon_start__
 environ __errno_location __h_errno_location __register_atfork clock_gettime dl_iterate_phdr
 dladdr dlvsym getauxval inet_ntop inet_pton memcmp bcmp memcpy memset posix_fallocate64
 pthread_key_create pthread_once pthread_setspecific "
allowed=" $(echo $allowed) " # one line, one space apart
if [ "${OM_SANITIZED:-0}" = 1 ]; then
	echo "SKIP: a sanitized shim imports its runtime's symbols"
	exit 77
fi
command -v readelf >/dev/null || { echo "SKIP: no readelf (binutils)"; exit 77; }
bound=$(readelf -rW "$so" | awk '$3 ~ /GLOB_DAT|JUMP_SLOT|_64$/ && $5 != "" { sub(/@.*/, "", $5); print $5 }' | sort -u)
[ -n "$bound" ] || { echo "FAIL: no relocation against a symbol in $so: readelf output changed?" >&2; exit 1; }
extra=""
for s in $bound; do
	case $allowed in *" $s "*) ;; *) extra="$extra $s" ;; esac
done
if [ -n "$extra" ]; then
	echo "FAIL: the shim now binds at every exec:$extra" >&2
	echo "  (a system call or string function: define it in shim/core/sys.c or string.c;" >&2
	echo "   otherwise add it to the list in tests/shim_imports.sh and say why in docs/performance.md)" >&2
	exit 1
fi
echo "the shim binds $(wc -w <<<"$bound") symbols at load, all expected"
