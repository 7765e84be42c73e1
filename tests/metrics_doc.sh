#!/usr/bin/env bash
# docs/operating.md names every metric family the exporter serves (the man
# page's METRICS section is made from the same table: man/metrics.c).
set -eu
missing=$("$1" --names | while read -r n; do grep -q "\`$n\`" "$2" || echo "$n"; done)
[ -z "$missing" ] || { echo "FAIL: $2 does not name: $missing" >&2; exit 1; }
echo "ok: $2 names all $("$1" --names | wc -l) families"
