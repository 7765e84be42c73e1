"""Named UDP datagrams to HOST:PORT by every road a program can take:
sendto and sendmmsg through libc, and syscall(SYS_sendto) and
syscall(SYS_sendmmsg) as libuv does.  Prints how many datagrams the
kernel accepted.

    udp_named.py HOST PORT COUNT_PER_ROAD
"""
import ctypes
import platform
import socket
import struct
import sys

host, port, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
SYSNO = {"x86_64": (44, 307), "aarch64": (206, 269)}[platform.machine()]
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


class Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class Msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(Iovec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class Mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", Msghdr), ("len", ctypes.c_uint)]


sa = ctypes.create_string_buffer(
    struct.pack("=H", socket.AF_INET) + struct.pack("!H", port) + socket.inet_aton(host) + bytes(8), 16)
payload = ctypes.create_string_buffer(b"x" * 8)
iov = Iovec(ctypes.cast(payload, ctypes.c_void_p), 8)
vec = (Mmsghdr * per)()
for m in vec:
    m.hdr.name = ctypes.cast(sa, ctypes.c_void_p)
    m.hdr.namelen = 16
    m.hdr.iov = ctypes.pointer(iov)
    m.hdr.iovlen = 1

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
fd, sent = s.fileno(), 0
for _ in range(per):
    sent += s.sendto(b"x" * 8, (host, port)) == 8
    sent += libc.syscall(SYSNO[0], fd, payload, 8, 0, sa, 16) == 8
sent += max(libc.sendmmsg(fd, vec, per, 0), 0)
sent += max(libc.syscall(SYSNO[1], fd, vec, per, 0), 0)
print(sent)
