#!/usr/bin/python3
"""The private Tor network's HTTP server: the onion service's backend and
the clearnet test host.  Ground truth for the bytes that crossed Tor.

    tornet_backend.py HOST PORT LOG

HTTP/1.1 with keep-alive.  GET /bytes/N answers N bytes; PUT or POST of
any path reads the body (Content-Length) and answers "got N".  When a
connection ends, one line goes to LOG: "<bytes read from the client>
<bytes written to the client> <requests>", the exact bytes on the
backend's side of the stream, which Tor carries unchanged."""
import socket
import sys
import threading

HOST, PORT, LOG = sys.argv[1], int(sys.argv[2]), sys.argv[3]
lock = threading.Lock()
CHUNK = bytes(range(256)) * 256


class Conn:
    def __init__(self, sock):
        self.s, self.inb, self.outb, self.buf, self.requests = sock, 0, 0, b"", 0

    def fill(self):
        b = self.s.recv(262144)
        self.inb += len(b)
        self.buf += b
        return len(b)

    def head(self):
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 65536 or not self.fill():
                return None
        i = self.buf.index(b"\r\n\r\n") + 4
        h, self.buf = self.buf[:i], self.buf[i:]
        return h.decode("latin-1")

    def body(self, n):
        while len(self.buf) < n:
            if not self.fill():
                raise EOFError
        self.buf = self.buf[n:]

    def send(self, b):
        self.s.sendall(b)
        self.outb += len(b)


def reply(c, body_len, close, fill=None):
    c.send(("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/octet-stream"
            "\r\nConnection: %s\r\n\r\n" % (body_len, "close" if close else "keep-alive")).encode())
    if fill is not None:
        c.send(fill)
        return
    left = body_len
    while left:
        n = min(left, len(CHUNK))
        c.send(CHUNK[:n])
        left -= n


def serve(sock):
    c = Conn(sock)
    try:
        while True:
            h = c.head()
            if h is None:
                break
            c.requests += 1
            line, _, rest = h.partition("\r\n")
            method, path = line.split(" ")[:2]
            fields = {k.strip().lower(): v.strip() for k, _, v in
                      (l.partition(":") for l in rest.split("\r\n") if l)}
            close = fields.get("connection", "").lower() == "close"
            if method in ("PUT", "POST"):
                n = int(fields.get("content-length", "0"))
                c.body(n)
                msg = b"got %d" % n
                reply(c, len(msg), close, msg)
            elif path.startswith("/bytes/"):
                reply(c, int(path[7:]), close)
            else:
                reply(c, 2, close, b"ok")
            if close:
                break
    except (OSError, ValueError, EOFError):
        pass
    finally:
        try:
            sock.shutdown(socket.SHUT_WR)
            while c.fill():  # what the client still sends counts too
                pass
        except OSError:
            pass
        sock.close()
        with lock, open(LOG, "a") as f:
            f.write("%d %d %d\n" % (c.inb, c.outb, c.requests))


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((HOST, PORT))
ls.listen(256)
while True:
    s, _ = ls.accept()
    threading.Thread(target=serve, args=(s,), daemon=True).start()
