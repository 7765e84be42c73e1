#!/usr/bin/python3
"""Seeds for fuzz_attach, made from a real segment of 4 slots.

    attach_seeds.py SEGMENT OUTDIR

The header fields are struct om_header's (common/segment_layout.h, layout
version 7): run again when the layout changes, or the seeds stop at the
version check.  An input's first 8 KiB go over the header and pid table,
the rest over the pid index (fuzz_attach.c)."""
import os
import struct
import sys

VERSION, SIZE, NSLOTS, RING_OFF, READY, SLOTS_HWM = 8, 16, 24, 72, 104, 120
PIDX_OFF, NPIDX, PIDX_FULL = 208, 216, 220
HEADER = 320

seg, out = sys.argv[1], sys.argv[2]
base = bytearray(open(seg, "rb").read(8192))
npidx = struct.unpack_from("<I", base, NPIDX)[0]
os.makedirs(out, exist_ok=True)


def seed(name, data):
    open(os.path.join(out, name), "wb").write(bytes(data))


def field(fmt, off, value, n=HEADER):
    b = bytearray(base[:n])
    struct.pack_into(fmt, b, off, value)
    return b


seed("valid-header", base[:HEADER])
seed("short-header", base[:100])
seed("version-2", field("<I", VERSION, 2))
seed("not-ready", field("<Q", READY, 0))
seed("nslots-0", field("<I", NSLOTS, 0))
seed("nslots-4096", field("<I", NSLOTS, 4096))
seed("hwm-huge", field("<Q", SLOTS_HWM, 2**64 - 1))
seed("size-huge", field("<Q", SIZE, 2**62))
seed("ring-off-far", field("<Q", RING_OFF, struct.unpack_from("<Q", base, RING_OFF)[0] + 2**40))
seed("pidx-off-far", field("<Q", PIDX_OFF, struct.unpack_from("<Q", base, PIDX_OFF)[0] + 4096))
seed("npidx-1", field("<I", NPIDX, 1))
seed("pidtab-ones", base[:HEADER] + b"\xff" * (8192 - HEADER))
full = field("<I", PIDX_FULL, 1, 8192)
seed("pidx-ones-full", full + b"\xff" * (4 * npidx))
# every index entry names a slot, every pid table entry a pid
pids = bytearray(base)
off = struct.unpack_from("<Q", base, 48)[0]
for i in range(4):
    struct.pack_into("<I", pids, off + 4 * i, 1 + i)
seed("pidx-slots", pids + b"".join(struct.pack("<I", 1 + i % 4) for i in range(npidx)))
seed("pidx-gone", base + b"\xff\xff\xff\xff" * npidx)
