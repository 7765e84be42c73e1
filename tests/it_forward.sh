#!/usr/bin/env bash
# Forward HTTP proxies: absolute-form requests ("GET http://host/ HTTP/1.1")
# as wget, aria2c, Ruby Net::HTTP and Java send them to tinyproxy, to the
# test onion and to a clearnet test host, with the proxy listed in
# ONIONMETER_PROXIES and not.  Bytes come from a counting pass-through in
# front of tinyproxy (tests/countpipe.py): what each client exchanged with
# its proxy.
set -eu
. "$(dirname "$0")/lib.sh"
om_need tinyproxy
om_enter_netns "$@"
om_tmpdir
cd "$OM_TMP"
H=198.18.0.1
mkdir www
head -c 100003 /dev/urandom >www/blob
LD_PRELOAD= om_bg "$PY" -m http.server --bind "$H" --directory www 80 >/dev/null 2>&1
printf 'Port 8888\nListen 127.0.0.1\nTimeout 30\nLogLevel Critical\n' >tinyproxy.conf
om_bg_proxy tinyproxy -d -c "$OM_TMP/tinyproxy.conf"
LOG=$OM_TMP/count.log
: >"$LOG"
LD_PRELOAD= om_bg "$PY" "$OM_SRC/tests/countpipe.py" 127.0.0.1:8889 127.0.0.1:8888 "$LOG"
om_wait_port "$H" 80
om_wait_port 127.0.0.1 8888
om_wait_port 127.0.0.1 8889
P=http://127.0.0.1:8889

if command -v javac >/dev/null; then
	cat >Fetch.java <<'J'
import java.io.*;
import java.net.*;

public class Fetch {
	public static void main(String[] a) throws Exception {
		Proxy p = new Proxy(Proxy.Type.HTTP, new InetSocketAddress("127.0.0.1", 8889));
		HttpURLConnection c = (HttpURLConnection) new URL(a[0]).openConnection(p);
		try (InputStream in = c.getInputStream(); OutputStream out = new FileOutputStream(a[1])) {
			in.transferTo(out);
		}
	}
}
J
	LD_PRELOAD= javac -d . Fetch.java
fi

# CLIENT URL OUT: fetch URL through the proxy into OUT, under the shim
fetch() {
	case $1 in
	wget) "$OM_RUN" -- wget -q -O "$3" -e use_proxy=yes -e "http_proxy=$P" "$2" ;;
	aria2c) "$OM_RUN" -- aria2c -q --all-proxy="$P" --split=1 --max-connection-per-server=1 \
		--allow-overwrite=true --auto-file-renaming=false -d "${3%/*}" -o "${3##*/}" "$2" ;;
	ruby) "$OM_RUN" -- ruby -rnet/http -e 'u = URI(ARGV[0])
Net::HTTP.new(u.host, u.port, "127.0.0.1", 8889).start { |h| File.binwrite(ARGV[1], h.get(u.path).body) }' "$2" "$3" ;;
	java) "$OM_RUN" -- java -cp "$OM_TMP" Fetch "$2" "$3" ;;
	esac
}

declare -A version=(
	[wget]="$(wget --version 2>/dev/null | head -1 | cut -d' ' -f1-3)"
	[aria2c]="$(aria2c --version 2>/dev/null | head -1)"
	[ruby]="$(ruby --version 2>/dev/null | cut -d' ' -f1-2) Net::HTTP"
	[java]="$(java -version 2>&1 | head -1) HttpURLConnection"
)
for client in wget aria2c ruby java; do
	case $client in java) cmd=javac ;; *) cmd=$client ;; esac
	command -v "$cmd" >/dev/null || { echo "skip: $client not installed (scripts/dev setup installs it)"; continue; }
	[ $client != aria2c ] || om_sanitizer_runs aria2c --version || continue
	for listed in yes no; do
		if [ $listed = yes ]; then proxies=127.0.0.1:8889; else proxies=127.0.0.1:9050; fi
		for target in onion clearnet; do
			if [ $target = onion ]; then url=http://$ONION/blob; cls=onion; else url=http://$H/blob; cls=proxied; fi
			: >"$LOG"
			rm -f "$OM_TMP/out.bin"
			seg=$OM_TMP/$client-$listed-$target.seg
			ONIONMETER_SEGMENT=$seg ONIONMETER_PROXIES=$proxies fetch "$client" "$url" "$OM_TMP/out.bin"
			cmp -s "$OM_TMP/out.bin" www/blob || om_fail "$client ($target, listed=$listed) got the wrong file"
			om_expect "$seg" "onionmeter_dials_total{class=\"$cls\",outcome=\"success\"}" 1
			om_expect_bytes "$seg" "$cls" "$LOG" 1
			for other in onion proxied direct local; do
				[ $other = "$cls" ] && continue
				om_expect "$seg" "onionmeter_bytes_total{class=\"$other\",direction=\"ingress\"}" 0
			done
			om_expect "$seg" 'onionmeter_leaks_total{kind="onion_dns",action="observed"}' 0
		done
	done
	echo "ok: ${version[$client]} through tinyproxy $(tinyproxy -v | awk '{print $2}'), listed and not: onion and proxied, bytes exact"
done

# The proxy's own failure: tinyproxy answers 500 when it cannot connect
command -v wget >/dev/null || om_skip "wget not installed"
: >"$LOG"
seg=$OM_TMP/unreachable.seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- wget -q -t 1 -O /dev/null -e use_proxy=yes -e "http_proxy=$P" \
	http://unknown-to-the-proxy.onion/ && om_fail "wget fetched an unknown onion"
om_expect "$seg" 'onionmeter_dials_total{class="onion",outcome="proxy_error"}' 1
# wget leaves the error page unread: ingress is what it read
om_expect_bytes_read "$seg" onion "$LOG" 1 12
# onion-only: a forward request for a clearnet host is a leak
: >"$LOG"
seg=$OM_TMP/onion-only.seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" --policy onion-only -- wget -q -O /dev/null -e use_proxy=yes \
	-e "http_proxy=$P" "http://$H/blob"
om_expect "$seg" 'onionmeter_leaks_total{kind="proxied_clearnet",action="observed"}' 1
: >"$LOG"
seg=$OM_TMP/onion-only-enforce.seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" --policy onion-only --enforce -- wget -q -t 1 -O /dev/null \
	-e use_proxy=yes -e "http_proxy=$P" "http://$H/blob" && om_fail "an enforced forward request to clearnet went through"
om_expect "$seg" 'onionmeter_leaks_total{kind="proxied_clearnet",action="blocked"}' 1
om_wait_lines "$LOG" 1
read -r in _ < <(om_log_sum "$LOG")
[ "$in" = 0 ] || om_fail "the refused request reached the proxy ($in bytes)"
echo "ok: tinyproxy's own failure is proxy_error; onion-only judges forward requests, refused before a byte"
echo PASS
