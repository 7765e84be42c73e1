#!/usr/bin/python3
"""A counting pass-through for the tests: ground truth for the bytes a
client moved to a proxy that cannot count them itself (tor, tinyproxy).

    countpipe.py LISTEN UPSTREAM LOG

LISTEN and UPSTREAM are HOST:PORT or unix:PATH.  Every connection to
LISTEN is joined to a new connection to UPSTREAM, bytes copied both ways
unchanged.  When it ends, one line goes to LOG: "<bytes read from the
client> <bytes written to the client>"."""
import os
import socket
import sys
import threading

LISTEN, UPSTREAM, LOG = sys.argv[1:4]
lock = threading.Lock()


def address(spec):
    if spec.startswith("unix:"):
        return socket.AF_UNIX, spec[5:]
    host, port = spec.rsplit(":", 1)
    return socket.AF_INET, (host, int(port))


def copy(src, dst, count, i):
    while True:
        try:
            b = src.recv(65536)
        except OSError:
            b = b""
        if not b:
            break
        count[i] += len(b)
        try:
            dst.sendall(b)
        except OSError:
            break
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def serve(c):
    count = [0, 0]
    fam, addr = address(UPSTREAM)
    up = socket.socket(fam)
    try:
        up.connect(addr)
        t = threading.Thread(target=copy, args=(up, c, count, 1))
        t.start()
        copy(c, up, count, 0)
        t.join()
    except OSError:
        pass
    finally:
        up.close()
        c.close()
        with lock, open(LOG, "a") as f:
            f.write("%d %d\n" % tuple(count))


fam, addr = address(LISTEN)
ls = socket.socket(fam)
if fam == socket.AF_UNIX:
    if os.path.exists(addr):
        os.unlink(addr)
else:
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(addr)
ls.listen(128)
while True:
    s, _ = ls.accept()
    threading.Thread(target=serve, args=(s,), daemon=True).start()
