#!/usr/bin/python3
"""A DNS server for the tests: the ground truth for what reached DNS.

    dnsstub.py LOG HOST:PORT...

Listens on UDP and TCP at every HOST:PORT, appends each question's name
(as received, lower case) to LOG, one per line, and answers NXDOMAIN."""
import socket
import struct
import sys
import threading

LOG = sys.argv[1]
lock = threading.Lock()


def qname(msg):
    i, labels = 12, []
    while i < len(msg) and msg[i]:
        n = msg[i]
        labels.append(msg[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return ".".join(labels).lower(), i + 1 + 4


def answer(msg):
    name, end = qname(msg)
    with lock, open(LOG, "a") as f:
        f.write(name + "\n")
    # the question echoed, QR + RD + RA, RCODE 3 (NXDOMAIN)
    return msg[:2] + struct.pack(">HHHHH", 0x8183, 1, 0, 0, 0) + msg[12:end]


def udp(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(addr)
    while True:
        msg, peer = s.recvfrom(65536)
        if len(msg) >= 12:
            s.sendto(answer(msg), peer)


def tcp_client(c):
    buf = b""
    with c:
        while True:
            try:
                b = c.recv(65536)
            except OSError:  # a client that reset: nothing to answer
                return
            if not b:
                return
            buf += b
            while len(buf) >= 2 and len(buf) >= 2 + struct.unpack(">H", buf[:2])[0]:
                n = struct.unpack(">H", buf[:2])[0]
                msg, buf = buf[2:2 + n], buf[2 + n:]
                r = answer(msg)
                c.sendall(struct.pack(">H", len(r)) + r)


def tcp(addr):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=tcp_client, args=(c,), daemon=True).start()


for spec in sys.argv[2:]:
    host, port = spec.rsplit(":", 1)
    for f in (udp, tcp):
        threading.Thread(target=f, args=((host, int(port)),), daemon=True).start()
threading.Event().wait()
