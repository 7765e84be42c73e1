#!/usr/bin/env bash
# The README names every metric family the exporter serves (the man
# page's METRICS section is made from the same table: man/metrics.c).
set -eu
missing=$("$1" --names | while read -r n; do grep -q "\`$n\`" "$2" || echo "$n"; done)
[ -z "$missing" ] || { echo "FAIL: README.md does not name: $missing" >&2; exit 1; }
echo "ok: README.md names all $("$1" --names | wc -l) families"
