#!/usr/bin/env bash
# meson install, checked as an operator meets it: every file where the
# README says, the wrapper and the units pointing at the installed paths,
# systemd-analyze verify and security on the installed unit, the manuals
# rendering, the drop-in generator keeping a service's LD_PRELOAD, and the
# installed tree laid out as deploy/container/Dockerfile lays it out
# (/usr, the segment directory, its user, the entrypoint) counting a real
# program through the exporter the entrypoint starts.
set -eu
. "$(dirname "$0")/lib.sh"
[ "${OM_SANITIZED:-0}" = 0 ] || om_skip "the install layout does not depend on sanitizers: checked in the plain build"
om_need meson ninja
om_as_root "the installed tree is overlaid on /usr in a private mount namespace" "$@"
om_enter_netns "$@"
om_tmpdir
cd "$OM_TMP"

# 1. build and stage exactly as the Dockerfile does
meson setup b "$OM_SRC" --prefix=/usr -Dtests=false -Dbuildtype=release >setup.log 2>&1 ||
	{ cat setup.log >&2; om_fail "meson setup"; }
ninja -C b >build.log 2>&1 || { cat build.log >&2; om_fail "ninja"; }
DESTDIR=$OM_TMP/stage meson install -C b --quiet >install.log 2>&1 || { cat install.log >&2; om_fail "meson install"; }
LIBDIR=$(meson introspect --buildoptions b | "$PY" -c 'import json, sys
print([o["value"] for o in json.load(sys.stdin) if o["name"] == "libdir"][0])')
(cd stage && find . \( -type f -o -type l \) | sed 's|^\./||' | sort) >got.txt
sort >want.txt <<W
usr/bin/onionmeter-exporter
usr/bin/onionmeter-run
usr/lib/systemd/system/onionmeter-exporter.service
usr/$LIBDIR/onionmeter/libonionmeter.so
usr/libexec/onionmeter/onionmeter-supervise
usr/share/doc/onionmeter/LICENSE
usr/share/doc/onionmeter/README.md
usr/share/doc/onionmeter/design.md
usr/share/doc/onionmeter/operating.md
usr/share/doc/onionmeter/performance.md
usr/share/doc/onionmeter/runbooks.md
usr/share/doc/onionmeter/testing.md
usr/share/man/man1/onionmeter-exporter.1
usr/share/man/man1/onionmeter-run.1
usr/share/man/man7/onionmeter.7
usr/share/onionmeter/container/Dockerfile
usr/share/onionmeter/grafana/onionmeter-dashboard.json
usr/share/onionmeter/kubernetes/onionmeter-sidecar.yaml
usr/share/onionmeter/prometheus/onionmeter-rules.test.yml
usr/share/onionmeter/prometheus/onionmeter-rules.yml
usr/share/onionmeter/systemd/onionmeter.conf
W
diff want.txt got.txt || om_fail "the installed files differ from the list above (- wanted, + got)"
for f in usr/bin/onionmeter-exporter usr/bin/onionmeter-run usr/libexec/onionmeter/onionmeter-supervise; do
	[ -x "stage/$f" ] || om_fail "$f is not executable"
done
grep -q "ONIONMETER_LIB=\${ONIONMETER_LIB:-/usr/$LIBDIR/onionmeter/libonionmeter.so}" stage/usr/bin/onionmeter-run ||
	om_fail "the installed onionmeter-run does not point at the installed shim"
grep -qx "ExecStart=/usr/bin/onionmeter-exporter --listen 127.0.0.1:9477 --segment /run/onionmeter/segment --kernel-interval 0" \
	stage/usr/lib/systemd/system/onionmeter-exporter.service || om_fail "the unit's ExecStart is not the installed path"
grep -qx "Environment=LD_PRELOAD=/usr/$LIBDIR/onionmeter/libonionmeter.so" stage/usr/share/onionmeter/systemd/onionmeter.conf ||
	om_fail "the drop-in does not point at the installed shim"
grep -rq '@[A-Z]*@' stage/usr/share/man stage/usr/lib/systemd stage/usr/share/onionmeter/systemd stage/usr/bin/onionmeter-run &&
	om_fail "a template placeholder was left in an installed file"
echo "ok: $(wc -l <got.txt) files installed where the README says, paths substituted"

# 2. the installed tree over /usr, in this mount namespace only
mkdir -p ovl/upper ovl/work
mount -t overlay overlay -o "lowerdir=$OM_TMP/stage/usr:/usr,upperdir=$OM_TMP/ovl/upper,workdir=$OM_TMP/ovl/work" /usr
[ -x /usr/bin/onionmeter-run ] || om_fail "overlay did not take"

if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify /usr/lib/systemd/system/onionmeter-exporter.service >verify.log 2>&1 ||
		{ cat verify.log >&2; om_fail "systemd-analyze verify rejects the installed unit"; }
	[ ! -s verify.log ] || { cat verify.log >&2; om_fail "systemd-analyze verify warns"; }
	ours=$(systemd-analyze security --offline=true /usr/lib/systemd/system/onionmeter-exporter.service 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	[ -n "$ours" ] || om_fail "no systemd-analyze security score"
	ref=/lib/systemd/system/prometheus-node-exporter.service
	if [ -f "$ref" ]; then
		theirs=$(systemd-analyze security --offline=true "$ref" 2>/dev/null |
			sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		"$PY" -c "import sys; sys.exit(0 if float('$ours') <= float('$theirs') else 1)" ||
			om_fail "exposure $ours, worse than Debian's node_exporter ($theirs)"
		echo "ok: systemd-analyze verify passes; security exposure $ours (Debian's prometheus-node-exporter: $theirs)"
	else
		echo "ok: systemd-analyze verify passes; security exposure $ours"
	fi
else
	echo "skip: systemd-analyze not installed"
fi

for page in man1/onionmeter-run.1 man1/onionmeter-exporter.1 man7/onionmeter.7; do
	LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "/usr/share/man/$page" >man.txt 2>man.err ||
		om_fail "man -l $page failed"
	[ ! -s man.err ] || { cat man.err >&2; om_fail "$page renders with warnings"; }
	grep -q '^NAME' man.txt && grep -q '^SEE ALSO' man.txt || om_fail "$page lacks NAME or SEE ALSO"
done
grep -q "/usr/$LIBDIR/onionmeter/libonionmeter.so" man.txt || om_fail "onionmeter(7) does not name the installed shim"
echo "ok: the three manuals render without a warning"

# 3. the drop-in generator keeps what a service already preloads
mkdir -p root/etc/systemd/system/node.service.d
printf '[Service]\nEnvironment="LD_PRELOAD=/opt/t/libtorsocks.so" A=1\nExecStart=/bin/true\n' \
	>root/etc/systemd/system/node.service
printf '[Service]\nEnvironment=B=2\n' >root/etc/systemd/system/node.service.d/other.conf
/usr/bin/onionmeter-run --systemd-dropin node.service --root "$OM_TMP/root" >dropin.conf
grep -qx "Environment=\"LD_PRELOAD=/opt/t/libtorsocks.so:/usr/$LIBDIR/onionmeter/libonionmeter.so\"" dropin.conf ||
	{ cat dropin.conf >&2; om_fail "the generated drop-in lost the service's LD_PRELOAD"; }
printf '[Service]\nExecStart=/bin/true\n' >root/etc/systemd/system/plain.service
/usr/bin/onionmeter-run --systemd-dropin plain.service --root "$OM_TMP/root" |
	grep -qx "Environment=\"LD_PRELOAD=/usr/$LIBDIR/onionmeter/libonionmeter.so\"" || om_fail "drop-in for a plain service"
echo "ok: --systemd-dropin keeps an existing LD_PRELOAD (ours last)"

# 4. the image's layout, read from the Dockerfile itself: its ENV, USER,
# the directory it makes, its ENTRYPOINT
DF=/usr/share/onionmeter/container/Dockerfile
eval "$("$PY" - "$DF" <<'PY'
import json, re, shlex, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
final = text[text.rindex("\nFROM "):]
env = dict(re.findall(r"^ENV (\w+)=(\S+)$", final, re.M))
user = re.search(r"^USER (\S+)$", final, re.M).group(1)
uid = re.search(r"useradd [^\n]*--uid (\d+) [^\n]*%s" % user, final).group(1)
dirs = re.findall(r"mkdir -p (\S+)", final)
entry = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", final, re.M).group(1))
print("IMG_SEGMENT=%s" % shlex.quote(env["ONIONMETER_SEGMENT"]))
print("IMG_UID=%s" % uid)
print("IMG_DIR=%s" % shlex.quote(dirs[0]))
print("IMG_ENTRY=(%s)" % " ".join(shlex.quote(a) for a in entry))
PY
)"
[ "$(dirname "$IMG_SEGMENT")" = "$IMG_DIR" ] || om_fail "the image's segment is not in the directory it makes"
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p "$IMG_DIR"
chown "$IMG_UID" "$IMG_DIR"
mkdir www && head -c 65537 /dev/urandom >www/blob && chmod -R a+rX www && chmod 755 "$OM_TMP"
mkdir -m 1777 flags
LD_PRELOAD= om_bg "$PY" -m http.server --bind 198.18.0.1 --directory www 80 >/dev/null 2>&1
om_wait_port 198.18.0.1 80
# as the image's user, through its entrypoint: a program that fetches the
# blob twice, then waits until the test has scraped the entrypoint's exporter
as_user() { setpriv --reuid="$IMG_UID" --regid="$IMG_UID" --clear-groups "$@"; }
as_user env -i PATH=/usr/bin:/bin ONIONMETER_SEGMENT="$IMG_SEGMENT" "${IMG_ENTRY[@]}" "$PY" -c '
import os, socket, sys, time
for i in range(2):
    s = socket.create_connection(("198.18.0.1", 80))
    s.sendall(b"GET /blob HTTP/1.0\r\n\r\n")
    while s.recv(65536): pass
    s.close()
open(sys.argv[1], "w").close()
while not os.path.exists(sys.argv[2]): time.sleep(0.05)' "$OM_TMP/flags/fetched" "$OM_TMP/flags/scraped" 2>entry.err &
epid=$!
OM_PIDS="$OM_PIDS $epid"
om_poll test -e flags/fetched || { cat entry.err >&2; om_fail "the program under the image's entrypoint did not run"; }
port=$(printf '%s\n' "${IMG_ENTRY[@]}" | sed -n 's/^.*:\([0-9][0-9]*\)$/\1/p' | head -1)
om_wait_port 127.0.0.1 "$port"
curl -s "http://127.0.0.1:$port/metrics" >img.txt
touch flags/scraped
wait "$epid" || om_fail "the entrypoint exited $?"
grep -qx 'onionmeter_dials_total{class="direct",outcome="success"} 2' img.txt || { cat img.txt entry.err >&2; om_fail "the image's entrypoint did not count the program's dials"; }
in=$(sed -n 's/^onionmeter_bytes_total{class="direct",direction="ingress"} //p' img.txt)
[ "$in" -gt $((2 * 65537)) ] || om_fail "direct ingress $in"
[ "$(stat -c %u "$IMG_SEGMENT")" = "$IMG_UID" ] || om_fail "the segment is not the image user's"
# the exporter's log lines, and nothing from the shim or the wrapper
if grep -v '^ts=' entry.err | grep -q .; then cat entry.err >&2; om_fail "the entrypoint complained"; fi
echo "ok: the installed tree, laid out as the image (dir $IMG_DIR, uid $IMG_UID, entrypoint ${IMG_ENTRY[*]}), counts a real program"
# the private /run goes with the test: its segment's semaphore set must not stay
LD_PRELOAD= "$OM_EXPORTER" --remove --segment "$IMG_SEGMENT" || om_fail "the image's segment could not be removed"
echo PASS
