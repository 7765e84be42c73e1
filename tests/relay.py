#!/usr/bin/python3
"""A counting proxy for the tests: the ground truth for proxied bytes.

    relay.py LISTEN_ADDR PORT LOG ONION TARGET [unix:PATH]

Speaks SOCKS4, SOCKS4a, SOCKS5 (no auth and username/password), HTTP
CONNECT and absolute-form HTTP forward requests ("GET http://host/...").
Only ONION (as Tor would) and plain IP addresses resolve: ONION goes to
TARGET; any other .onion name gets SOCKS5 reply 0xF6 (Tor's "bad
address") or HTTP 502.  When a client connection ends, one line goes to
LOG: "<bytes read from the client> <bytes written to the client>
<protocol> <host>", the exact bytes on the client's side of the proxy.
With unix:PATH it also listens on a Unix-domain socket (Tor's SocksPort
unix:...)."""
import os
import socket
import struct
import sys
import threading

LISTEN, PORT, LOG, ONION, TARGET = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
UNIX = sys.argv[6][5:] if len(sys.argv) > 6 and sys.argv[6].startswith("unix:") else None
lock = threading.Lock()


class Client:
    def __init__(self, sock):
        self.s, self.inb, self.outb, self.buf = sock, 0, 0, b""

    def recv(self, n):
        b = self.s.recv(n)
        self.inb += len(b)
        return b

    def exact(self, n):
        while len(self.buf) < n:
            b = self.recv(65536)
            if not b:
                raise EOFError
            self.buf += b
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def line(self):
        while b"\n" not in self.buf:
            b = self.recv(65536)
            if not b:
                raise EOFError
            self.buf += b
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def send(self, b):
        self.s.sendall(b)
        self.outb += len(b)


def resolve(host):
    if host.lower().rstrip(".") == ONION:
        return TARGET
    if host.lower().rstrip(".").endswith(".onion"):
        return None
    try:
        socket.inet_pton(socket.AF_INET, host)
        return host
    except OSError:
        return None


def pump(c, up):
    """Relay both ways until both sides are done."""
    def up_to_client():
        while True:
            b = up.recv(65536)
            if not b:
                break
            c.send(b)
        try:
            c.s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    t = threading.Thread(target=up_to_client)
    t.start()
    if c.buf:
        up.sendall(c.buf)
        c.buf = b""
    while True:
        try:
            b = c.recv(65536)
        except OSError:
            break
        if not b:
            break
        up.sendall(b)
    try:
        up.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    t.join()


def connect(host, port):
    addr = resolve(host)
    if not addr:
        return None
    try:
        up = socket.create_connection((addr, port), timeout=5)
    except OSError:
        return False
    up.settimeout(None)  # the dial is bounded, the connection's life is not
    return up


def socks5(c):
    n = c.exact(1)[0]
    methods = c.exact(n)
    if 2 in methods and 0 not in methods:
        c.send(b"\x05\x02")
        c.exact(1)
        c.exact(c.exact(1)[0])
        c.exact(c.exact(1)[0])
        c.send(b"\x01\x00")
    else:
        c.send(b"\x05\x00")
    ver, cmd, _, atyp = c.exact(4)
    if atyp == 1:
        host = socket.inet_ntoa(c.exact(4))
    elif atyp == 3:
        host = c.exact(c.exact(1)[0]).decode()
    else:
        host = socket.inet_ntop(socket.AF_INET6, c.exact(16))
    port = struct.unpack("!H", c.exact(2))[0]
    up = connect(host, port)
    if up is None:
        c.send(b"\x05\xf6\x00\x01" + b"\0" * 6)  # Tor: bad address
        return "socks5", host
    if up is False:
        c.send(b"\x05\x05\x00\x01" + b"\0" * 6)  # refused
        return "socks5", host
    c.send(b"\x05\x00\x00\x01" + b"\0" * 6)
    pump(c, up)
    return "socks5", host


def socks4(c):
    cmd = c.exact(1)[0]
    port = struct.unpack("!H", c.exact(2))[0]
    ip = c.exact(4)
    while c.exact(1) != b"\0":
        pass
    host = socket.inet_ntoa(ip)
    if ip[:3] == b"\0\0\0" and ip[3]:
        name = b""
        while True:
            ch = c.exact(1)
            if ch == b"\0":
                break
            name += ch
        host = name.decode()
    up = connect(host, port)
    if not up:
        c.send(b"\x00\x5b" + b"\0" * 6)
        return "socks4", host
    c.send(b"\x00\x5a" + b"\0" * 6)
    pump(c, up)
    return "socks4", host


def http(c, first):
    line = first + c.line()
    method, target, _ = line.decode().split(" ", 2)
    headers = b""
    while True:
        h = c.line()
        headers += h
        if h in (b"\r\n", b"\n"):
            break
    if method == "CONNECT":
        host, port = target.rsplit(":", 1)
        up = connect(host, int(port))
        if not up:
            c.send(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return "connect", host
        c.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pump(c, up)
        return "connect", host
    # absolute-form forward request: http://host[:port]/path
    rest = target.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    up = connect(host, int(port or 80))
    if not up:
        c.send(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return "forward", host
    up.sendall(("%s /%s HTTP/1.0\r\n" % (method, path)).encode() +
               b"".join(l + b"\r\n" for l in headers.split(b"\r\n")
                        if l and not l.lower().startswith((b"proxy-connection", b"connection"))) +
               b"Connection: close\r\n\r\n")
    c.buf = b""  # a request body would follow here; the tests send none
    while True:
        b = up.recv(65536)
        if not b:
            break
        c.send(b)
    return "forward", host


def serve(sock):
    c = Client(sock)
    proto, host = "?", "?"
    try:
        first = c.exact(1)
        if first == b"\x05":
            proto, host = socks5(c)
        elif first == b"\x04":
            proto, host = socks4(c)
        else:
            proto, host = http(c, first)
    except (EOFError, OSError, ValueError, IndexError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass
        with lock, open(LOG, "a") as f:
            f.write("%d %d %s %s\n" % (c.inb, c.outb, proto, host))


def accept_loop(ls):
    while True:
        s, _ = ls.accept()
        threading.Thread(target=serve, args=(s,), daemon=True).start()


ls = socket.socket(socket.AF_INET6 if ":" in LISTEN else socket.AF_INET)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((LISTEN, PORT))
ls.listen(128)
if UNIX:
    us = socket.socket(socket.AF_UNIX)
    if os.path.exists(UNIX):
        os.unlink(UNIX)
    us.bind(UNIX)
    us.listen(128)
    threading.Thread(target=accept_loop, args=(us,), daemon=True).start()
accept_loop(ls)
