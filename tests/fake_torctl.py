#!/usr/bin/python3
"""A fake tor control port, for tests/it_torctl.sh: it speaks the
handshake as tor 0.4.9 does (control-spec 3.21-3.24) and then whatever a
mode says, and logs every line the controller sends.

    fake_torctl.py MODE ADDR LOG COOKIEFILE [PASSWORD]

ADDR is HOST:PORT or unix:PATH.  Every line received is appended to LOG
as "< line"; "AUTH-OK" or "AUTH-BAD" follows an AUTHENTICATE the fake
checked.  Modes:
  good       a tor: SAFECOOKIE (its hash right), then events, hostile ones
             included (SOCKS credentials, unknown events, data sections)
  impostor   SAFECOOKIE with a server hash it cannot know
  cookie     COOKIE only (as a tor without SAFECOOKIE)
  password   HASHEDPASSWORD only; checks the password
  longline   a good handshake, then a line of 20 KiB
  flood      a good handshake, then 200,000 stream events of made-up clients
  silent     accepts, never answers
  bench      (bench/torview.sh) a good handshake naming the SocksPort
             $FAKE_SOCKS; then, once the file $FAKE_PORTS lists client
             ports, NEW, SENTCONNECT and SUCCEEDED for each (then
             NETWORK_LIVENESS DOWN); once $FAKE_PORTS.close exists, CLOSED
             for each (then NETWORK_LIVENESS UP)
"""
import hashlib
import hmac
import os
import socket
import sys
import time

MODE, ADDR, LOG, COOKIEFILE = sys.argv[1:5]
PASSWORD = sys.argv[5] if len(sys.argv) > 5 else None
COOKIE = open(COOKIEFILE, "rb").read()
SERVER_KEY = b"Tor safe cookie authentication server-to-controller hash"
CLIENT_KEY = b"Tor safe cookie authentication controller-to-server hash"


def log(line):
    with open(LOG, "a") as f:
        f.write(line + "\n")


def unquote(s):
    """A QuotedString's content, escapes read."""
    assert s[0] == '"' and s[-1] == '"', s
    out, i, s = "", 0, s[1:-1]
    while i < len(s):
        if s[i] == "\\":
            i += 1
            if s[i] in "01234567":
                out += chr(int(s[i:i + 3], 8))
                i += 3
                continue
        out += s[i]
        i += 1
    return out


class Session:
    def __init__(self, conn):
        self.c, self.buf, self.nonce = conn, b"", None

    def send(self, text):
        self.c.sendall(text.encode() if isinstance(text, str) else text)

    def line(self):
        while b"\n" not in self.buf:
            b = self.c.recv(4096)
            if not b:
                return None
            self.buf += b
        i = self.buf.index(b"\n")
        line, self.buf = self.buf[:i].rstrip(b"\r").decode("latin-1"), self.buf[i + 1:]
        log("< " + line)
        return line

    def protocolinfo(self, methods):
        self.send('250-PROTOCOLINFO 1\r\n250-AUTH METHODS=%s COOKIEFILE="%s"\r\n'
                  '250-VERSION Tor="0.4.9.11"\r\n250 OK\r\n' % (methods, COOKIEFILE))

    def serve(self):
        while True:
            line = self.line()
            if line is None:
                return
            verb, _, args = line.partition(" ")
            if verb == "PROTOCOLINFO":
                self.protocolinfo({"cookie": "COOKIE", "password": "HASHEDPASSWORD"}.get(
                    MODE, "COOKIE,SAFECOOKIE"))
            elif verb == "AUTHCHALLENGE":
                kind, cnonce = args.split()
                self.nonce = bytes.fromhex(cnonce)
                snonce = os.urandom(32)
                self.snonce = snonce
                h = hmac.new(SERVER_KEY, COOKIE + self.nonce + snonce, hashlib.sha256).digest()
                if MODE == "impostor":
                    h = os.urandom(32)
                self.send("250 AUTHCHALLENGE SERVERHASH=%s SERVERNONCE=%s\r\n"
                          % (h.hex().upper(), snonce.hex().upper()))
            elif verb == "AUTHENTICATE":
                if MODE == "password":
                    ok = PASSWORD is not None and unquote(args) == PASSWORD
                elif MODE == "cookie":
                    ok = bytes.fromhex(args) == COOKIE
                else:
                    want = hmac.new(CLIENT_KEY, COOKIE + self.nonce + self.snonce,
                                    hashlib.sha256).digest()
                    ok = self.nonce is not None and bytes.fromhex(args) == want
                log("AUTH-OK" if ok else "AUTH-BAD")
                self.send("250 OK\r\n" if ok else "515 Authentication failed\r\n")
                if not ok:
                    return
            elif verb == "GETINFO":
                out = ""
                for key in args.split():
                    if key == "net/listeners/socks":
                        out += '250-net/listeners/socks="127.0.0.1:%s" "unix:/nonexistent"\r\n' % (
                            os.environ.get("FAKE_SOCKS", "9"))
                    elif key == "net/listeners/httptunnel":
                        out += "250-net/listeners/httptunnel=\r\n"
                    elif key == "status/bootstrap-phase":
                        out += ('250-status/bootstrap-phase=NOTICE BOOTSTRAP PROGRESS=100 '
                                'TAG=done SUMMARY="Done"\r\n')
                    elif key == "network-liveness":
                        out += "250-network-liveness=up\r\n"
                self.send(out + "250 OK\r\n")
                if key == "network-liveness":  # the last of the handshake
                    self.after()
            elif verb == "SETEVENTS":
                self.send("250 OK\r\n")
            else:
                self.send('510 Unrecognized command "%s"\r\n' % verb)

    def after(self):
        if MODE == "bench":
            ports = os.environ["FAKE_PORTS"]
            while not os.path.exists(ports + ".ready"):
                time.sleep(0.05)
            plist = [int(x) for x in open(ports).read().split()]
            ev = []
            for i, p in enumerate(plist):
                t = "h%d.onion:80" % i if i % 2 else "198.18.0.%d:80" % (i % 250)
                ev.append("650 STREAM %d NEW 0 %s SOURCE_ADDR=127.0.0.1:%d PURPOSE=USER "
                          "CLIENT_PROTOCOL=SOCKS5\r\n650 STREAM %d SENTCONNECT 5 %s\r\n"
                          "650 STREAM %d SUCCEEDED 5 %s\r\n" % (i + 1, t, p, i + 1, t, i + 1, t))
            self.send("".join(ev) + "650 NETWORK_LIVENESS DOWN\r\n")
            while not os.path.exists(ports + ".close"):
                time.sleep(0.05)
            self.send("".join("650 STREAM %d CLOSED 5 x:80 REASON=DONE\r\n" % (i + 1)
                              for i in range(len(plist))) + "650 NETWORK_LIVENESS UP\r\n")
        elif MODE == "longline":
            self.send("650 STREAM 1 NEW 0 " + "a" * 20000 + ":80\r\n")
        elif MODE == "flood":
            chunk = []
            for i in range(200000):
                chunk.append("650 STREAM %d NEW 0 h%d.onion:80 SOURCE_ADDR=127.0.0.1:%d "
                             "PURPOSE=USER CLIENT_PROTOCOL=SOCKS5\r\n" % (i + 10, i, 1 + i % 60000))
                if len(chunk) == 1000:
                    self.send("".join(chunk))
                    chunk = []
            self.send("650 NETWORK_LIVENESS DOWN\r\n")  # the end, for the test
        elif MODE == "good":
            self.send(
                '650 STREAM 5 NEW 0 example.com:443 SOURCE_ADDR=/nonexistent:0 PURPOSE=USER '
                'SOCKS_USERNAME="alice" SOCKS_PASSWORD="hunter2secret" CLIENT_PROTOCOL=SOCKS5\r\n'
                "650 STREAM 5 SUCCEEDED 3 example.com:443\r\n"
                "650 STREAM_BW 5 100 2000 2026-12-05T08:00:00.000000\r\n"
                "650 STREAM 5 CLOSED 3 example.com:443 REASON=DONE\r\n"
                "650 UNKNOWN_EVENT with=stuff\r\n"
                "650-CONF_CHANGED\r\n650-SocksPort=9050\r\n650 OK\r\n"
                "650+NS\r\nr a b c\r\n.\r\n650 OK\r\n"
                "650 STREAM x NEW 0\r\n650 STREAM_BW 5 -1 2\r\n650 CIRC\r\n"
                "650 STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=100 TAG=done\r\n"
                "650 NETWORK_LIVENESS DOWN\r\n")


def main():
    if ADDR.startswith("unix:"):
        s = socket.socket(socket.AF_UNIX)
        s.bind(ADDR[5:])
    else:
        host, port = ADDR.rsplit(":", 1)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, int(port)))
    s.listen(8)
    while True:
        c, _ = s.accept()
        log("CONNECT")
        if MODE != "silent":
            try:
                Session(c).serve()
            except (OSError, ValueError, AssertionError) as e:
                log("ERROR %r" % e)
            c.close()
        else:
            held = c  # never answered; the next accept drops it
            del held


if __name__ == "__main__":
    main()
