#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""One BPMP transfer (MRQ_CLK is-enabled, 16 bytes each way) issued directly as an ioctl on
the simulated /dev/bpmp-host, against the same transfer through the window of our QEMU's
tegravirt-bpmp (qtest) -> the domain's tegravirt-bpmp-backend -> its /dev/bpmp-host file.
Called by bench/bench-bpmp-bridge.sh (which prepares the domain); prints figures, asserts none.
  bench-bpmp-bridge.py DEV QEMU SOCKET WORKDIR UID GID N"""
import fcntl
import os
import statistics
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "qemu"))
from tvqemu import MRQ, RET, RET_UNSET, RX_SIZE, TX, TX_SIZE, Qemu, bridge_args, xfer  # noqa: E402

dev, qemu_bin, sock, work, uid, gid, n = sys.argv[1:8]
uid, gid, n = int(uid), int(gid), int(n)
MRQ_CLK, CLK_IS_ENABLED, CLOCK = 22, 6, 155
req = struct.pack("<IIII", CLK_IS_ENABLED << 24 | CLOCK, 0, 0, 0)
XFER = (3 << 30) | (272 << 16) | (0xB7 << 8) | 1       # _IOWR(0xB7, 1, struct tegra_bpmp_host_xfer)


def per_op(fn, count):
    """median of count single timings, in microseconds"""
    ts = []
    for _ in range(count):
        t0 = time.perf_counter_ns()
        fn()
        ts.append(time.perf_counter_ns() - t0)
    return statistics.median(ts) / 1000


fd = os.open(dev, os.O_RDWR)
buf = bytearray(struct.pack("<IIIIiIQ", MRQ_CLK, 0, 16, 16, 0, 0, 0) + req.ljust(120, b"\0") + bytes(120))


def direct():
    fcntl.ioctl(fd, XFER, buf, True)
    assert struct.unpack_from("<i", buf, 16)[0] == 0


direct()
d_us = per_op(direct, n)
os.close(fd)

q = Qemu(qemu_bin, work, bridge_args(sock), user=(uid, gid))
try:
    deadline = time.monotonic() + 10
    while [c for c in q.qmp_cmd("query-chardev") if c["label"] == "tvbpmp0"][0]["filename"].startswith("disconnected:"):
        if time.monotonic() > deadline:
            sys.exit("QEMU did not connect to the backend")
        time.sleep(0.05)
    base = q.mtree_windows()[0][0]
    r = xfer(q, base, MRQ_CLK, req, 16)
    assert r[0] == 0 and r[1] == 4, r
    # the guest proxy's stores before the doorbell, once; then the doorbell alone, repeated
    q.writeq(base + TX, struct.unpack("<Q", req[:8])[0])
    q.writeq(base + TX + 8, 0)
    q.writeq(base + TX_SIZE, 16)
    q.writeq(base + RX_SIZE, 16)

    def doorbell():
        q.writel(base + MRQ, MRQ_CLK)

    def plain_access():                 # a store that goes to QEMU and back, no transfer
        q.writel(base + RET, RET_UNSET)

    a_us = per_op(plain_access, n)
    b_us = per_op(doorbell, n)
    assert q.readl(base + RET) == 0 and q.readq(base + RX_SIZE) == 4
    full_us = per_op(lambda: xfer(q, base, MRQ_CLK, req, 16), max(n // 4, 10))
finally:
    q.close()

bridge_us = b_us - a_us
print("direct ioctl on /dev/bpmp-host (simulated, FUSE):        %8.1f us" % d_us)
print("qtest store, no transfer (the harness's own round trip): %8.1f us" % a_us)
print("qtest doorbell store (window->QEMU->backend->ioctl):      %8.1f us" % b_us)
print("  bridge part (doorbell - plain store):                  %8.1f us" % bridge_us)
print("ratio bridge/direct: %.2fx (goal <= 2x); doorbell incl. qtest/direct: %.2fx" % (bridge_us / d_us, b_us / d_us))
print("one whole guest-proxy transfer under qtest (TCG accel off, 8 accesses): %.1f us" % full_us)
