#!/usr/bin/env bash
# DNS questions on the wire: dig (UDP and TCP) and hand-written queries
# for a .onion name, sent to a DNS server in a private namespace without
# the system resolver.  Ground truth is the server's log of the names it
# received: under --enforce it must receive none.
set -eu
. "$(dirname "$0")/lib.sh"
om_enter_netns "$@"
ip addr add 198.18.0.53/32 dev lo
om_tmpdir
cd "$OM_TMP"
DNS_LOG=$OM_TMP/dns.log
: >"$DNS_LOG"
LD_PRELOAD= om_bg "$PY" "$OM_SRC/tests/dnsstub.py" "$DNS_LOG" 198.18.0.53:53 198.18.0.53:5353 127.0.0.1:53
om_wait_port 198.18.0.53 53
om_wait_port 198.18.0.53 5353
om_wait_port 127.0.0.1 53

leaks() { # SEG KIND ACTION EXPECTED
	om_expect "$1" "onionmeter_leaks_total{kind=\"$2\",action=\"$3\"}" "$4"
}
# the leak events of SEG name these hosts, in this order
events() {
	local seg=$1 got want
	shift
	got=$(LD_PRELOAD= "$OM_EXPORTER" --once --segment "$seg" --format summary |
		awk '$1 ~ /^[0-9][0-9][0-9][0-9]-/ && $2 == "onion_dns" { print $NF }' | tr '\n' ' ')
	want="$* "
	[ "$got" = "$want" ] || om_fail "$seg: events name '$got', expected '$want'"
}
received() { # the names the server received since the log was emptied
	tr '\n' ' ' <"$DNS_LOG"
}

# A hand-written client: every call a resolver might send a query with, on
# one socket after another in one process
RAW_PY='
import socket, struct, sys
def q(name, qid=7):
    return struct.pack(">HHHHHH", qid, 0x100, 1, 0, 0, 0) + b"".join(
        bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0\0\1\0\1"
def ask_all(host, names, port=53):
    out = []
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)       # sendto
    s.sendto(q(names[0]), (host, port)); out.append(s.recv(512))
    s.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)       # connect + send
    s.connect((host, port)); s.send(q(names[1])); out.append(s.recv(512))
    s.close()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)       # sendmsg, scattered
    m = q(names[2]); s.sendmsg([m[:5], m[5:]], [], 0, (host, port)); out.append(s.recv(512))
    s.close()
    s = socket.create_connection((host, port))                 # TCP, length on its own
    m = q(names[3]); s.send(struct.pack(">H", len(m))); s.send(m)
    n = struct.unpack(">H", s.recv(2))[0]; out.append(s.recv(n))
    s.close()
    return out
'

# audit (the default): observed, and the query goes out
seg=$OM_TMP/raw.seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c "$RAW_PY"'
for r in ask_all("198.18.0.53", ["a.onion", "B.Onion", "c.example.onion", "d.onion"]):
    assert r[3] & 0xF == 3, r' 
leaks "$seg" onion_dns observed 4
events "$seg" a.onion b.onion c.example.onion d.onion
[ "$(received)" = "a.onion b.onion c.example.onion d.onion " ] || om_fail "server got: $(received)"
echo "ok: Python sendto, connect+send, sendmsg and TCP queries for .onion names: onion_dns observed, named"

# names that are not onions are no leak under audit; a local DNS server and
# mDNS's port are DNS too
: >"$DNS_LOG"
seg=$OM_TMP/raw-clear.seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" -- "$PY" -c "$RAW_PY"'
ask_all("198.18.0.53", ["example.com", "onion.example", "onion", "x.onionz"])
ask_all("127.0.0.1", ["e.onion", "example.org", "example.net", "example.com"])
ask_all("198.18.0.53", ["f.onion", "example.org", "example.net", "example.com"], 5353)'
leaks "$seg" onion_dns observed 2
events "$seg" e.onion f.onion
echo "ok: names not under .onion are no leak; a local server and port 5353 are judged too"

if command -v dig >/dev/null; then
	DIG="dig $(dig -v 2>&1 | head -1)"
	: >"$DNS_LOG"
	seg=$OM_TMP/dig.seg
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- dig +tries=1 +time=5 @198.18.0.53 x.onion >dig.out
	grep -q NXDOMAIN dig.out || om_fail "dig got no answer: $(cat dig.out)"
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- dig +tcp +tries=1 +time=5 @198.18.0.53 y.onion >dig.out
	grep -q NXDOMAIN dig.out || om_fail "dig +tcp got no answer: $(cat dig.out)"
	ONIONMETER_SEGMENT=$seg "$OM_RUN" -- dig +tries=1 +time=5 @198.18.0.53 example.com >/dev/null
	leaks "$seg" onion_dns observed 2
	events "$seg" x.onion y.onion
	[ "$(received)" = "x.onion y.onion example.com " ] || om_fail "server got: $(received)"
	echo "ok: $DIG over UDP and TCP: onion_dns observed"

	# enforced: refused, and nothing reaches the server
	: >"$DNS_LOG"
	seg=$OM_TMP/dig-enforce.seg
	ONIONMETER_SEGMENT=$seg "$OM_RUN" --enforce -- dig +tries=1 +time=2 @198.18.0.53 x.onion >dig.out 2>&1 &&
		grep -q NXDOMAIN dig.out && om_fail "dig got an answer under --enforce"
	ONIONMETER_SEGMENT=$seg "$OM_RUN" --enforce -- dig +tcp +tries=1 +time=2 @198.18.0.53 y.onion >dig.out 2>&1 &&
		grep -q NXDOMAIN dig.out && om_fail "dig +tcp got an answer under --enforce"
	ONIONMETER_SEGMENT=$seg "$OM_RUN" --enforce -- dig +tries=1 +time=5 @198.18.0.53 example.com >dig.out
	grep -q NXDOMAIN dig.out || om_fail "dig example.com refused under audit --enforce"
	leaks "$seg" onion_dns blocked 2
	[ "$(received)" = "example.com " ] || om_fail "server got: $(received)"
	echo "ok: $DIG under --enforce: onion_dns blocked, the server received nothing"
else
	echo "skip: dig not installed (scripts/dev setup installs dnsutils)"
fi

: >"$DNS_LOG"
seg=$OM_TMP/raw-enforce.seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" --enforce -- "$PY" -c "$RAW_PY"'
import errno
def refused(f):
    try:
        f()
    except PermissionError:
        return
    raise SystemExit("not refused")
m = q("a.onion")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
refused(lambda: s.sendto(m, ("198.18.0.53", 53)))
refused(lambda: s.sendmsg([m[:3], m[3:]], [], 0, ("198.18.0.53", 5353)))
s.connect(("127.0.0.1", 53))
refused(lambda: s.send(m))
t = socket.create_connection(("198.18.0.53", 53))
refused(lambda: t.sendall(struct.pack(">H", len(m)) + m))
refused(lambda: t.sendmsg([struct.pack(">H", len(m)), m]))
# a query for another name still goes out
t.sendall(struct.pack(">H", len(q("example.com"))) + q("example.com"))
assert t.recv(2)'
leaks "$seg" onion_dns blocked 5
om_wait_lines "$DNS_LOG" 1
[ "$(received)" = "example.com " ] || om_fail "server got: $(received)"
echo "ok: Python queries under --enforce: every call refused with EACCES, nothing sent"

# tor-only judges the datagram as well: a non-local UDP destination
: >"$DNS_LOG"
seg=$OM_TMP/tor-only.seg
ONIONMETER_SEGMENT=$seg "$OM_RUN" --policy tor-only -- "$PY" -c "$RAW_PY"'
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.sendto(q("g.onion"), ("198.18.0.53", 53)); s.recv(512)
s.sendto(q("example.com"), ("198.18.0.53", 53)); s.recv(512)'
leaks "$seg" onion_dns observed 1
leaks "$seg" udp observed 2
echo "ok: tor-only: onion_dns and udp for a .onion question, udp alone for another"
echo PASS
