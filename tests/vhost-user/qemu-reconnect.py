#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Our vhost-user back end (backend/vhost-user.c, in vu-echo-backend) against our QEMU 7.2's
vhost-user-gpio-device, with qtest playing the guest driver on the virtio-mmio registers:
negotiation and config as QEMU asks, DRIVER_OK starting both rings, a request the backend
pops but never answers, the backend killed, a new one started on the same socket: QEMU
(reconnect=1) sets last_avail to the used idx, so the new backend is given the request again
at ring start and answers it although the driver never notified again (from the queue record
the backends keep in a state file: the rewind QEMU really sends matches it); later requests work.
  TV_QEMU_BRIDGE=QEMU qemu-reconnect.py VU-ECHO-BACKEND"""
import os
import json
import queue
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "qemu"))
from tvqemu import Tap, find_qemu  # noqa: E402

tap = Tap()
qemu_bin = find_qemu(tap)
backend_bin = sys.argv[1]
work = tempfile.mkdtemp(prefix="tv-vu-")
sock = os.path.join(work, "gpio.sock")
state = os.path.join(work, "state")  # the queue records every backend process keeps (vhost-user.h)
qmp_path = os.path.join(work, "qmp.sock")
RAM = 0x40000000
MMIO, MMIO_STRIDE = 0x0a000000, 0x200
# virtio-mmio v2 registers
MAGIC, VERSION, DEVICE_ID, DEV_FEAT, DEV_FEAT_SEL, DRV_FEAT, DRV_FEAT_SEL = 0, 4, 8, 0x10, 0x14, 0x20, 0x24
QSEL, QNUM, QREADY, QNOTIFY, STATUS = 0x30, 0x38, 0x44, 0x50, 0x70
QDESC, QAVAIL, QUSED, CONFIG = 0x80, 0x90, 0xa0, 0x100
RINGS = {0: RAM + 0x100000, 1: RAM + 0x110000}
BUF = RAM + 0x200000


class Backend:
    def __init__(self, mode):
        self.lines = queue.Queue()
        self.log = []
        self.p = subprocess.Popen([backend_bin, sock, mode, state], stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.p.stderr:
            self.lines.put(line.strip())

    def wait(self, prefix, timeout=5):
        end = time.time() + timeout
        while time.time() < end:
            try:
                line = self.lines.get(timeout=max(0.01, end - time.time()))
            except queue.Empty:
                break
            self.log.append(line)
            if line.startswith(prefix):
                return line
        return None

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


class QTest:
    def __init__(self):
        self.p = subprocess.Popen(
            [qemu_bin, "-M", "virt", "-cpu", "cortex-a57", "-m", "256", "-nodefaults", "-display", "none",
             "-object", "memory-backend-memfd,id=mem,size=256M,share=on", "-machine", "memory-backend=mem",
             "-chardev", "socket,id=tvgpio0,path=%s,reconnect=1" % sock,
             "-device", "vhost-user-gpio-device,chardev=tvgpio0,id=tvgpio,bus=virtio-mmio-bus.0",
             "-global", "virtio-mmio.force-legacy=false", "-qtest", "stdio", "-accel", "qtest",
             "-qmp", "unix:%s,server=on,wait=off" % qmp_path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)

    def cmd(self, c):
        self.p.stdin.write(c + "\n")
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError("QEMU exited: " + self.p.stderr.read())
            if line.startswith(("OK", "FAIL", "ERR")):
                return line.split()

    def rl(self, a):
        return int(self.cmd("readl 0x%x" % a)[1], 16)

    def rw(self, a):
        return int(self.cmd("readw 0x%x" % a)[1], 16)

    def wl(self, a, v):
        self.cmd("writel 0x%x 0x%x" % (a, v))

    def write(self, a, data):
        self.cmd("write 0x%x %d 0x%s" % (a, len(data), data.hex()))

    def read(self, a, n):
        return bytes.fromhex(self.cmd("read 0x%x %d" % (a, n))[1][2:])

    def qmp(self, *commands):
        """runs QMP commands in one session; their replies"""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(qmp_path)
        f = s.makefile("rw")
        json.loads(f.readline())                 # greeting
        out = []
        for c in ("qmp_capabilities",) + commands:
            f.write(json.dumps({"execute": c}) + "\n")
            f.flush()
            while True:
                m = json.loads(f.readline())
                if "return" in m or "error" in m:
                    out.append(m)
                    break
        s.close()
        return out[1:]

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def submit(qt, base, slot, data):
    """one request: desc 2*slot readable (data), 2*slot+1 writable (same size); avail idx slot+1"""
    d, buf = RINGS[0], BUF + slot * 0x100
    qt.write(buf, data)
    qt.write(d + 32 * slot, struct.pack("<QIHH", buf, len(data), 1, 2 * slot + 1) +
             struct.pack("<QIHH", buf + 0x80, len(data), 2, 0))
    qt.write(d + 0x1000 + 4 + 2 * slot, struct.pack("<H", 2 * slot))
    qt.write(d + 0x1000 + 2, struct.pack("<H", slot + 1))


def wait_used(qt, n, timeout=5):
    end = time.time() + timeout
    while time.time() < end:
        if qt.rw(RINGS[0] + 0x2002) == n:
            return True
        time.sleep(0.05)
    return False


b1 = Backend("hold")
qt = None
b2 = None
try:
    tap.ok(b1.wait("listening"), "the backend listens")
    qt = QTest()
    base = None
    for i in range(32):
        a = MMIO + i * MMIO_STRIDE
        if qt.rl(a + MAGIC) == 0x74726976 and qt.rl(a + DEVICE_ID) == 41:
            base = a
            break
    tap.ok(base is not None and qt.rl(base + VERSION) == 2, "QEMU realized vhost-user-gpio against it (modern virtio-mmio)")
    if base is None:
        raise RuntimeError("no device")
    qt.wl(base + STATUS, 0)
    qt.wl(base + STATUS, 1)
    qt.wl(base + STATUS, 3)
    qt.wl(base + DEV_FEAT_SEL, 0)
    f = qt.rl(base + DEV_FEAT)
    qt.wl(base + DEV_FEAT_SEL, 1)
    f |= qt.rl(base + DEV_FEAT) << 32
    tap.ok(f & (1 << 32) and f & 1 and f & (1 << 29), "the guest sees VERSION_1, the device's bit 0 and EVENT_IDX",
           hex(f))
    qt.wl(base + DRV_FEAT_SEL, 0)
    qt.wl(base + DRV_FEAT, 1)
    qt.wl(base + DRV_FEAT_SEL, 1)
    qt.wl(base + DRV_FEAT, 1)
    qt.wl(base + STATUS, 0xb)
    tap.ok(qt.rl(base + STATUS) == 0xb, "FEATURES_OK accepted")
    tap.ok(qt.read(base + CONFIG, 8) == bytes([2, 0, 0, 0, 0, 0, 0, 0]), "the config space comes from GET_CONFIG")
    for q, r in RINGS.items():
        qt.wl(base + QSEL, q)
        qt.wl(base + QNUM, 8)
        for reg, addr in ((QDESC, r), (QAVAIL, r + 0x1000), (QUSED, r + 0x2000)):
            qt.wl(base + reg, addr)
            qt.wl(base + reg + 4, 0)
        qt.wl(base + QREADY, 1)
    qt.wl(base + STATUS, 0xf)
    tap.ok(b1.wait("ready 0 1") and b1.wait("ready 1 1"), "DRIVER_OK: QEMU starts both rings in the backend")
    submit(qt, base, 0, b"PENDING!")
    qt.wl(base + QNOTIFY, 0)
    tap.ok(b1.wait("pop 0 0") and not wait_used(qt, 1, 0.3), "the request reaches the backend, which holds it")
    b1.kill()
    b2 = Backend("echo")
    tap.ok(b2.wait("connected", 10), "QEMU reconnects to the new backend")
    tap.ok(b2.wait("vhost-user: queue 0 continues from its record: last_avail 1, 1 buffers in flight"),
           "the new backend continues the request ring from the dead one's record (QEMU's rewind to "
           "used idx 0 matched)", "\n".join(b2.log))
    tap.ok(b2.wait("pop 0 0") and wait_used(qt, 1),
           "the pending request is given to the new backend at ring start and answered (no new notify)",
           "\n".join(b2.log))
    tap.ok(qt.read(BUF + 0x80, 8) == b"PENDING!" and qt.read(RINGS[0] + 0x2004, 8) == struct.pack("<II", 0, 8),
           "its reply and used entry are in guest memory")
    submit(qt, base, 1, b"AFTERREC")
    qt.wl(base + QNOTIFY, 0)
    tap.ok(wait_used(qt, 2) and qt.read(BUF + 0x180, 8) == b"AFTERREC", "a new request after the reconnect")
    submit(qt, base, 2, b"HOLD-VM!")
    qt.wl(base + QNOTIFY, 0)
    tap.ok(b2.wait("hold 0 4") and not wait_used(qt, 3, 0.3), "the backend holds a buffer")
    r = qt.qmp("stop")
    tap.ok(r and "return" in r[0] and b2.wait("ready 0 0"), "QMP stop: QEMU stops the rings (GET_VRING_BASE)")
    r = qt.qmp("cont")
    tap.ok(r and "return" in r[0] and b2.wait("ready 0 1"), "QMP cont: QEMU starts them again")
    tap.ok(b2.wait("push 0 4 8") and wait_used(qt, 3) and qt.read(BUF + 0x280, 8) == b"HOLD-VM!",
           "the held buffer is presented again after the resume and answered", "\n".join(b2.log))
except Exception as e:  # noqa: BLE001 -- reported as a failed check
    tap.ok(False, "the run completed", repr(e))
finally:
    if qt:
        qt.close()
    for b in (b1, b2):
        if b:
            b.kill()
    shutil.rmtree(work, ignore_errors=True)
tap.finish()
