#!/usr/bin/env bash
# A real Prometheus server scrapes the exporter (negotiating OpenMetrics, as
# it does by default) and the value comes back through its HTTP API.
set -eu
. "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || om_skip "prometheus not installed"
om_enter_netns "$@"   # Prometheus needs no network beyond loopback here
om_tmpdir
seg=$OM_TMP/seg
EPORT=$(om_free_port)
PPORT=$(om_free_port)

# something to count: three refused local dials
for i in 1 2 3; do
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c 'import socket; socket.socket().connect_ex(("127.0.0.1", 1))'
done
LD_PRELOAD= om_bg "$OM_EXPORTER" --listen "127.0.0.1:$EPORT" --segment "$seg" 2>/dev/null
om_wait_port 127.0.0.1 "$EPORT"

cat >"$OM_TMP/prometheus.yml" <<Y
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: onionmeter
    static_configs:
      - targets: ['127.0.0.1:$EPORT']
Y
LD_PRELOAD= om_bg prometheus --config.file="$OM_TMP/prometheus.yml" \
	--storage.tsdb.path="$OM_TMP/tsdb" --web.listen-address="127.0.0.1:$PPORT" \
	--log.level=warn >"$OM_TMP/prometheus.log" 2>&1
om_wait_port 127.0.0.1 "$PPORT"
scraped() { [ -n "$(om_prom_query "$PPORT" 'onionmeter_dials_total{class="local",outcome="refused"}')" ]; }
om_poll scraped || true
v=$(om_prom_query "$PPORT" 'onionmeter_dials_total{class="local",outcome="refused"}')
[ "$v" = 3 ] || { tail "$OM_TMP/prometheus.log"; om_fail "Prometheus read '$v', expected 3"; }
echo "ok: Prometheus scraped onionmeter_dials_total = $v"
[ "$(om_prom_query "$PPORT" 'up{job="onionmeter"}')" = 1 ] || om_fail "target not up"
# histogram and gauge families arrive intact
[ "$(om_prom_query "$PPORT" 'onionmeter_dial_duration_seconds_count{class="local"}')" = 3 ] || om_fail "histogram count"
[ "$(om_prom_query "$PPORT" 'onionmeter_segment_up')" = 1 ] || om_fail "segment_up"
# and the target reports no scrape errors in Prometheus's view of it
curl -s "http://127.0.0.1:$PPORT/api/v1/targets" | "$PY" -c 'import json, sys
t = json.load(sys.stdin)["data"]["activeTargets"][0]
assert t["health"] == "up" and not t["lastError"], t' || om_fail "target reports an error"
# Prometheus keeps its connection to the exporter alive between scrapes:
# over 30 scrapes neither end of it (the exporter's, Prometheus's) is a
# blind spot, in any class
samples() { [ "$(om_prom_query "$PPORT" 'count_over_time(onionmeter_unseen_connections{class="local"}[10m])')" -ge 30 ] 2>/dev/null; }
om_poll samples || om_fail "Prometheus did not gather 30 scrapes"
u=$(om_prom_query "$PPORT" 'max(max_over_time(onionmeter_unseen_connections[10m]))')
[ "$u" = 0 ] || om_fail "the scrape connection counted as a blind spot: max unseen $u"
echo "ok: 30 keep-alive scrapes: unseen 0 in every class"
echo PASS
