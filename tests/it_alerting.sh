#!/usr/bin/env bash
# The alerting path end to end, as an operator runs it: the exporter starts
# before the program (no segment yet), Prometheus scrapes it and evaluates
# the shipped rules, and the very first leak of a program reaches a real
# Alertmanager, which posts it to a webhook.  In a private network
# namespace; nothing listens beyond loopback.
set -eu
. "$(dirname "$0")/lib.sh"
om_need prometheus prometheus-alertmanager curl
om_enter_netns "$@"
om_tmpdir
cd "$OM_TMP"
seg=$OM_TMP/seg
EPORT=$(om_free_port)
PPORT=$(om_free_port)
APORT=$(om_free_port)
WPORT=$(om_free_port)

# 1. the exporter first: the segment does not exist yet
LD_PRELOAD= om_bg "$OM_EXPORTER" --listen "127.0.0.1:$EPORT" --segment "$seg" 2>exporter.log
om_wait_port 127.0.0.1 "$EPORT"
[ ! -e "$seg" ] || om_fail "the segment exists before any program ran"

# 2. a webhook that logs what Alertmanager posts, and Alertmanager
LD_PRELOAD= om_bg "$PY" -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[2], "ab") as f:
            f.write(body + b"\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()' "$WPORT" "$OM_TMP/webhook.log"
cat >alertmanager.yml <<Y
route:
  receiver: hook
  group_by: [alertname, instance]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: http://127.0.0.1:$WPORT/
Y
LD_PRELOAD= om_bg prometheus-alertmanager --config.file=alertmanager.yml --storage.path=am \
	--web.listen-address="127.0.0.1:$APORT" --cluster.listen-address= --log.level=warn \
	>alertmanager.log 2>&1
om_wait_port 127.0.0.1 "$WPORT"
om_wait_port 127.0.0.1 "$APORT"

# 3. Prometheus with the shipped rules, scraping and evaluating every second
cat >prometheus.yml <<Y
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $OM_SRC/deploy/prometheus/onionmeter-rules.yml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$APORT']
scrape_configs:
  - job_name: onionmeter
    static_configs:
      - targets: ['127.0.0.1:$EPORT']
Y
LD_PRELOAD= om_bg prometheus --config.file=prometheus.yml --storage.tsdb.path=tsdb \
	--web.listen-address="127.0.0.1:$PPORT" --log.level=warn >prometheus.log 2>&1
om_wait_port 127.0.0.1 "$PPORT"
# the leak series exist, at 0, before any program attached
zero_leaks() { [ "$(om_prom_query "$PPORT" 'count(onionmeter_leaks_total{kind="direct_connect"} == 0)')" = 2 ]; }
om_poll zero_leaks || { tail prometheus.log; om_fail "no zero-valued leak series before the program ran"; }
[ "$(om_prom_query "$PPORT" 'onionmeter_segment_up')" = 0 ] || om_fail "segment_up should be 0 before the program"
echo "ok: leak series exist at 0 from the first scrapes, the segment not there yet"

# 4. one leak: a direct connection under tor-only, to a test host
LD_PRELOAD= om_bg "$PY" -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.1", 80)); s.listen(8)
while True: s.accept()[0].close()'
om_wait_port 198.18.0.1 80
ONIONMETER_SEGMENT=$seg "$OM_RUN" --policy tor-only -- "$PY" -c '
import socket; socket.create_connection(("198.18.0.1", 80)).close()'

# 5. the alert reaches Alertmanager's receiver
om_poll grep -q '"alertname":"OnionmeterClearnetLeak"' webhook.log 2>/dev/null ||
	{ tail prometheus.log alertmanager.log; om_fail "the first leak never reached Alertmanager"; }
"$PY" - webhook.log <<'PY' || om_fail "the alert Alertmanager posted is wrong"
import json, re, sys
alerts = [a for l in open(sys.argv[1]) if l.strip() for a in json.loads(l)["alerts"]]
a = [a for a in alerts if a["labels"]["alertname"] == "OnionmeterClearnetLeak"][0]
assert a["status"] == "firing", a
assert a["labels"]["kind"] == "direct_connect" and a["labels"]["severity"] == "critical", a
# increase() extrapolates over a window that has seconds of samples: the
# count is approximate, and said so, but a whole number
assert re.match(r"About [1-9][0-9]* direct_connect leak\(s\) in the last 5 minutes",
                a["annotations"]["description"]), a["annotations"]
PY
echo "ok: the first leak fired OnionmeterClearnetLeak through Prometheus to Alertmanager's webhook"
grep -q 'msg="segment up"' exporter.log || { cat exporter.log >&2; om_fail "the exporter did not log the segment coming up"; }
echo PASS
