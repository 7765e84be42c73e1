#!/usr/bin/env bash
# Every deployment file is checked against the real tools and binaries:
# YAML parses, alert rules pass promtool check and their unit tests, the
# PrometheusRule carries exactly the rules file, every dashboard query is
# valid PromQL naming only metrics the exporter serves, and the commands in
# the unit, the manifests and the Dockerfile use flags the programs accept.
set -eu
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || om_skip "promtool not installed (Debian package prometheus)"
"$PY" -c 'import yaml' 2>/dev/null || om_skip "python3-yaml not installed"
om_tmpdir
D=$OM_SRC/deploy

# 1. YAML parses; the PrometheusRule is the rules file
"$PY" - "$D" <<'PY' || om_fail "deploy YAML"
import glob, os, sys, yaml
d = sys.argv[1]
files = glob.glob(os.path.join(d, "**", "*.y*ml"), recursive=True)
assert len(files) >= 3, files
docs = {}
for f in files:
    docs[f] = list(yaml.safe_load_all(open(f)))
    print("ok: parses", os.path.relpath(f, d))
k8s = docs[os.path.join(d, "kubernetes", "onionmeter-sidecar.yaml")]
kinds = {x["kind"] for x in k8s}
assert kinds == {"Deployment", "Service", "ServiceMonitor", "PodMonitor", "NetworkPolicy", "PrometheusRule"}, kinds
rule = [x for x in k8s if x["kind"] == "PrometheusRule"][0]
assert rule["spec"] == docs[os.path.join(d, "prometheus", "onionmeter-rules.yml")][0], \
    "PrometheusRule differs from prometheus/onionmeter-rules.yml"
svc = [x for x in k8s if x["kind"] == "Service"][0]
mon = [x for x in k8s if x["kind"] == "ServiceMonitor"][0]
assert all(svc["metadata"]["labels"].get(k) == v for k, v in mon["spec"]["selector"]["matchLabels"].items())
pm = [x for x in k8s if x["kind"] == "PodMonitor"][0]
np = [x for x in k8s if x["kind"] == "NetworkPolicy"][0]
dep = [x for x in k8s if x["kind"] == "Deployment"][0]
pod_labels = dep["spec"]["template"]["metadata"]["labels"]
ports = {p["name"] for c in dep["spec"]["template"]["spec"]["containers"] for p in c.get("ports", [])}
assert all(pod_labels.get(k) == v for k, v in pm["spec"]["selector"]["matchLabels"].items())
assert all(pod_labels.get(k) == v for k, v in np["spec"]["podSelector"]["matchLabels"].items())
assert {e["port"] for e in pm["spec"]["podMetricsEndpoints"]} <= ports
assert {p["port"] for r in np["spec"]["ingress"] for p in r["ports"]} <= ports
print("ok: PrometheusRule == rules file; ServiceMonitor selects the Service; PodMonitor and NetworkPolicy select the pod and its metrics port")
PY

# 2. rules: syntax and unit tests (every alert, firing and not)
promtool check rules "$D/prometheus/onionmeter-rules.yml"
(cd "$D/prometheus" && promtool test rules onionmeter-rules.test.yml) || om_fail "alert unit tests"
"$PY" - "$D/prometheus" "$OM_SRC/docs/runbooks.md" <<'PY' || om_fail "alert tests incomplete or stale"
import re, sys, yaml
d = sys.argv[1]
# every runbook_url names a section of docs/runbooks.md
anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
           for h in re.findall(r"^## (.+)$", open(sys.argv[2]).read(), re.M)}
base = "file:///usr/share/doc/onionmeter/runbooks.md#"
rules = {r["alert"]: r for g in yaml.safe_load(open(d + "/onionmeter-rules.yml"))["groups"] for r in g["rules"]}
tests = yaml.safe_load(open(d + "/onionmeter-rules.test.yml"))["tests"]
fires, quiet = set(), set()
for t in tests:
    for c in t["alert_rule_test"]:
        (fires if c["exp_alerts"] else quiet).add(c["alertname"])
        for a in c["exp_alerts"]:
            assert a["exp_annotations"]["runbook_url"] == rules[c["alertname"]]["annotations"]["runbook_url"], c["alertname"]
missing = set(rules) - (fires & quiet)
assert not missing, "alerts without both a firing and a quiet case: %s" % sorted(missing)
for r in rules.values():
    assert r["labels"]["severity"] in ("warning", "critical") and "for" in r
    assert {"summary", "description", "runbook_url"} <= set(r["annotations"]), r["alert"]
    u = r["annotations"]["runbook_url"]
    assert u.startswith(base) and u[len(base):] in anchors, (r["alert"], u)
print("ok: %d alerts, each tested firing and quiet, with severity, for, summary, description, and a runbook_url to its section of docs/runbooks.md" % len(rules))
PY

# 3. dashboard: valid PromQL, only metrics the exporter serves
seg=$OM_TMP/seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c 'import socket; socket.socket().connect_ex(("127.0.0.1", 1))'
LD_PRELOAD= "$OM_EXPORTER" --once --segment "$seg" >"$OM_TMP/served.txt"
# ... and Tor's view, from an exporter on a fake tor's control port
head -c 32 /dev/urandom >"$OM_TMP/cookie"
TPORT=$(om_free_port)
LD_PRELOAD= om_bg "$PY" "$OM_SRC/tests/fake_torctl.py" good "127.0.0.1:$TPORT" "$OM_TMP/fake.log" "$OM_TMP/cookie"
om_wait_port 127.0.0.1 "$TPORT"
EPORT=$(om_free_port)
LD_PRELOAD= om_bg "$OM_EXPORTER" --listen "127.0.0.1:$EPORT" --segment "$seg" --tor-control "127.0.0.1:$TPORT" 2>"$OM_TMP/exporter.log"
om_wait_port 127.0.0.1 "$EPORT"
tor_up() { curl -s "http://127.0.0.1:$EPORT/metrics" | grep -qx 'onionmeter_tor_up{tor="1"} 1'; }
om_poll tor_up || { cat "$OM_TMP/exporter.log" >&2; om_fail "no Tor view from the fake tor"; }
curl -s "http://127.0.0.1:$EPORT/metrics" >>"$OM_TMP/served.txt"
"$PY" - "$D/grafana/onionmeter-dashboard.json" "$OM_TMP/served.txt" "$OM_TMP/queries.yml" <<'PY' || om_fail "dashboard"
import json, re, sys, yaml
dash = json.load(open(sys.argv[1]))
served = {l.split("{")[0].split(" ")[0] for l in open(sys.argv[2]) if l and not l.startswith("#")}
exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
for v in dash["templating"]["list"]:
    if v["type"] == "query":
        exprs.append(re.sub(r"label_values\(([a-z_]+), *[a-z_]+\)", r"\1", v["definition"]))
names = set()
for e in exprs:
    for n in re.findall(r"\b((?:onionmeter|process)_[a-z_]+)", e):
        assert n in served, "dashboard queries %s, which the exporter does not serve" % n
        names.add(n)
rules = [{"record": "dashboard:query%d" % i,
          "expr": e.replace("$__rate_interval", "5m").replace("$instance", ".*")}
         for i, e in enumerate(exprs)]
yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[3], "w"))
titles = " ".join(p["title"].lower() for p in dash["panels"])
for want in ("traffic", "success", "latency", "connections", "outcomes", "leaks"):
    assert want in titles, "no panel about " + want
print("ok: %d dashboard queries, %d metric names, all served" % (len(exprs), len(names)))
PY
promtool check rules "$OM_TMP/queries.yml" >/dev/null || om_fail "a dashboard query is not valid PromQL"
echo "ok: every dashboard query is valid PromQL"

# 4. the commands in the unit, the manifests and the Dockerfile parse
exporter_flags() { LD_PRELOAD= "$OM_EXPORTER" "$@" --help >/dev/null || om_fail "exporter rejects: $*"; }
exec_start=$(sed -n 's/^ExecStart=[^ ]*onionmeter-exporter //p' "$D/systemd/onionmeter-exporter.service.in")
exporter_flags $exec_start
"$PY" - "$D/kubernetes/onionmeter-sidecar.yaml" >"$OM_TMP/k8s-exporter-args" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d["kind"] == "Deployment":
        for c in d["spec"]["template"]["spec"]["containers"]:
            if c["command"][0] == "onionmeter-exporter":
                print(" ".join(c["command"][1:]))
PY
exporter_flags $(cat "$OM_TMP/k8s-exporter-args")
grep -q '^ENTRYPOINT \["onionmeter-run", "--exporter", ":9477", "--"\]' "$D/container/Dockerfile" ||
	om_fail "Dockerfile entrypoint"
# the docs' Dockerfile snippets: every line an instruction, a comment or
# a continuation (an instruction cannot carry a trailing comment)
"$PY" - "$OM_SRC/README.md" "$OM_SRC"/docs/*.md <<'PY' || om_fail "a Dockerfile snippet in the docs does not parse"
import re, sys
text = "".join(open(f).read() for f in sys.argv[1:])
blocks = re.findall(r"```dockerfile\n(.*?)```", text, re.S)
assert blocks, "no dockerfile snippet"
ins = re.compile(r"^(FROM|RUN|CMD|LABEL|EXPOSE|ENV|ADD|COPY|ENTRYPOINT|VOLUME|USER|WORKDIR|ARG|ONBUILD|STOPSIGNAL|HEALTHCHECK|SHELL) ")
for b in blocks:
    cont = False
    for line in b.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not cont:
            assert ins.match(line), "not an instruction: " + line
            if line.startswith("FROM "):
                assert len(line.split()) in (2, 4), "FROM takes an image (AS name): " + line
        cont = line.rstrip().endswith("\\")
print("ok: %d Dockerfile snippet(s) in the docs parse" % len(blocks))
PY
"$OM_RUN" --help | grep -q -- '--exporter ADDR' || om_fail "onionmeter-run lost --exporter"
for v in $(grep -ho 'ONIONMETER_[A-Z_]*' "$D"/systemd/* "$D"/kubernetes/* "$D"/container/* | sort -u); do
	grep -q "\"$v\"" "$OM_SRC"/common/config.c || om_fail "deploy files use $v, which the shim does not read"
done
echo "ok: unit, manifests and Dockerfile use real flags and variables"
echo PASS
