#!/usr/bin/env bash
# Where the instructions of one connect/accept/close cycle go inside the
# shim: a callgrind profile of `iobench churn` (socket, connect, accept,
# two closes) at two lengths, each source line's count summed by the file
# it comes from (inlined code counts where it was written), the slope per
# cycle.  The shim's own files only: libc's calls are the program's.
#
#   bench/churn_profile.sh [BUILD_DIR] [WORKLOAD]   (default: build churn)
set -eu
cd "$(dirname "$0")/.."
. "$PWD/bench/lib.sh"
bench_cg_setup "${1:-build}" churnprof
W=${2:-churn}
N1=2000
N2=12000

# FILE -> "source-file count" lines, the shim's sources only
by_file() {
	callgrind_annotate --auto=yes --threshold=100 "$1" 2>/dev/null | awk '
		/^-- Auto-annotated source:/ { src = $NF; next }
		/could not be found|events annotated/ { src = "" }
		/^-- / { next }
		src ~ /\/(shim|common)\// && $1 ~ /^[0-9,]+$/ && $0 !~ /=>/ {
			n = $1; gsub(",", "", n); sum[src] += n
		}
		END { for (s in sum) print s, sum[s] }'
}
total() { awk '/^summary:/ { print $2 }' "$1"; }
for n in $N1 $N2; do
	ONIONMETER_SEGMENT=$TMP/seg LD_PRELOAD=$SHIM valgrind --tool=callgrind --dump-instr=yes \
		--callgrind-out-file="$TMP/cg.$n" "$BUILD/bench/iobench" "$W" "$n" >/dev/null 2>"$TMP/log.$n"
	valgrind --tool=callgrind --callgrind-out-file="$TMP/plain.$n" \
		"$BUILD/bench/iobench" "$W" "$n" >/dev/null 2>>"$TMP/log.$n"
	by_file "$TMP/cg.$n" | sort >"$TMP/f.$n"
done
added=$(echo "scale=1; ($(total "$TMP/cg.$N2") - $(total "$TMP/cg.$N1") - \
	$(total "$TMP/plain.$N2") + $(total "$TMP/plain.$N1")) / ($N2 - $N1)" | bc)
echo "| source (inlined code counts where it is written) | instructions per cycle |"
echo "|---|---:|"
join "$TMP/f.$N1" "$TMP/f.$N2" | awk -v d=$((N2 - N1)) '
	{ per = ($3 - $2) / d; if (per >= 0.5) { if (match($1, /\/(shim|common)\/.*/)) $1 = substr($1, RSTART + 1); printf "%s %.1f\n", $1, per; t += per } }
	END { printf "TOTAL %.1f\n", t }' | sort -k2 -rn | awk -v added="$added" '
	$1 == "TOTAL" { own = $2; next } { printf "| `%s` | %s |\n", $1, $2 }
	END {
		printf "| libc called by the shim (the clock, errno) | %.1f |\n", added - own
		printf "| added per cycle (with the shim less without) | %s |\n", added
	}'
