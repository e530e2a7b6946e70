#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""GPIO line groups: the vhost-user GPIO device that tegravirtd's arguments put on
virtio-mmio-bus.0 sits on the very transport whose DTB node gets the virtio,device29 child.
Our QEMU runs with exactly the generated arguments (gpio-place prints them) against the real
tegravirt-gpio-backend when TV_GPIO_BACKEND_SOCKET names the socket it listens on
(gpio-placement.sh), else against a stand-in vhost-user backend (the device must exist,
not work); QMP `info qtree` names the
transport the device landed on, `info mtree` shows that transport's window, and the guest
DTB gpio-place makes from QEMU's own dumpdtb has the node under the virtio_mmio node whose
reg is that window.
  TV_QEMU_BRIDGE=QEMU [TV_GPIO_BACKEND_SOCKET=SOCKET] gpio-placement.py GPIO-PLACE"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvqemu import Tap, VhostUserGpioStandIn, find_qemu  # noqa: E402

tap = Tap()
qemu_bin = find_qemu(tap)
if len(sys.argv) != 2:
    print("usage: gpio-placement.py GPIO-PLACE", file=sys.stderr)
    sys.exit(2)
place = sys.argv[1]
if not shutil.which("fdtget"):
    tap.skip_all("fdtget (device-tree-compiler) missing")
work = tempfile.mkdtemp(prefix="tv-gpio-place-")
real = os.environ.get("TV_GPIO_BACKEND_SOCKET", "")
sock = real or os.path.join(work, "gpio.sock")
base, dtb = os.path.join(work, "base.dtb"), os.path.join(work, "guest.dtb")
names = os.environ.get("TV_GPIO_LINE_NAMES", "header-7 header-16 header-29").split()


def fdtget(*args):
    r = subprocess.run(["fdtget"] + list(args), capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def hmp(cmds):
    """Runs QEMU with the generated args, paused, and returns the HMP outputs of cmds."""
    qmp = [{"execute": "qmp_capabilities"}] + [
        {"execute": "human-monitor-command", "arguments": {"command-line": c}} for c in cmds] + [{"execute": "quit"}]
    p = subprocess.run([qemu_bin, "-M", "virt", "-accel", "tcg", "-nodefaults", "-display", "none", "-S"] + args +
                       ["-qmp", "stdio"], input="\n".join(json.dumps(c) for c in qmp) + "\n",
                       capture_output=True, text=True, timeout=60)
    out = []
    for line in p.stdout.splitlines():
        try:
            m = json.loads(line)
        except ValueError:
            continue
        if isinstance(m.get("return"), str):
            out.append(m["return"])
    return out, p.stderr


try:
    # QEMU's own tree of the machine, as tegravirtd's dumpdtb gets it (its base excludes our -device)
    r = subprocess.run([qemu_bin, "-M", "virt,dumpdtb=" + base, "-accel", "tcg", "-nodefaults", "-display", "none"],
                       capture_output=True, text=True, timeout=60)
    tap.ok(r.returncode == 0 and os.path.getsize(base) > 0, "QEMU dumps its virt tree", r.stderr)
    r = subprocess.run([place, sock, base, dtb] + names, capture_output=True, text=True)
    args = r.stdout.split("\n")[:-1]
    tap.ok(r.returncode == 0 and len(args) == 6 and "bus=virtio-mmio-bus.0" in args[3],
           "gpio-place: the generated args and the guest DTB", r.stdout + r.stderr)

    # the DTB side: which virtio_mmio node has the virtio,device29 child
    parents = []
    for node in (fdtget("-l", dtb, "/") or "").split():
        if node.startswith("virtio_mmio@") and "gpio" in (fdtget("-l", dtb, "/" + node) or "").split():
            parents.append("/" + node)
    tap.ok(len(parents) == 1, "the DTB has one transport with a gpio child: %s" % parents)
    parent = parents[0] if parents else "/none"
    tap.ok(fdtget("-t", "s", dtb, parent + "/gpio", "compatible") == "virtio,device29" and
           fdtget("-t", "s", dtb, parent + "/gpio", "gpio-line-names") == " ".join(names),
           "  ... compatible virtio,device29, the lines' names in guest order")
    reg = [int(x, 16) for x in (fdtget("-t", "x", dtb, parent, "reg") or "").split()]
    dt_base = (reg[0] << 32 | reg[1]) if len(reg) == 4 else None
    dt_size = (reg[2] << 32 | reg[3]) if len(reg) == 4 else None
    tap.diag("DTB: %s reg base 0x%x size 0x%x" % (parent, dt_base or 0, dt_size or 0))

    # the QEMU side: where the device with these args really is
    backend = None if real else VhostUserGpioStandIn(sock)
    outs, err = hmp(["info qtree", "info mtree"])
    qtree, mtree = (outs + [None, None])[:2]
    if backend:
        backend.close()
    tap.ok(qtree is not None and (real or VhostUserGpioStandIn.GET_CONFIG in backend.seen),
           "our QEMU realizes the device with the generated args against the %s" %
           ("real tegravirt-gpio-backend" if real else "stand-in backend (it was asked for its config)"), err)
    mmio = bus = legacy = None
    found = None
    for line in (qtree or "").splitlines():
        s = line.strip()
        m = re.match(r"mmio ([0-9a-f]+)/([0-9a-f]+)$", s)
        if m:
            mmio = (int(m.group(1), 16), int(m.group(2), 16))
        m = re.match(r"force-legacy = (\w+)$", s)
        if m:
            legacy = m.group(1)
        m = re.match(r"bus: (virtio-mmio-bus\.\d+)$", s)
        if m:
            bus = m.group(1)
        if s.startswith('dev: vhost-user-gpio-device, id "tvgpio"'):
            found = (bus, mmio, legacy)
    tap.ok(found is not None and found[0] == "virtio-mmio-bus.0", "info qtree: the device is on virtio-mmio-bus.0",
           "found %s" % (found,))
    q_base, q_size = found[1] if found and found[1] else (None, None)
    tap.diag("QEMU: %s at 0x%x size 0x%x" % (found[0] if found else "?", q_base or 0, q_size or 0))
    tap.ok(q_base is not None and q_base == dt_base and q_size == dt_size,
           "the transport's window in QEMU equals the reg of the DTB node's parent")
    tap.ok(found is not None and found[2] == "false", "  ... and it is a virtio 1.x transport (force-legacy = false)")
    window = "%016x-%016x" % (q_base or 0, (q_base or 0) + (q_size or 1) - 1)
    tap.ok(mtree is not None and re.search(re.escape(window) + r" \(prio \d+, i/o\): virtio-mmio", mtree or ""),
           "info mtree maps virtio-mmio at %s" % window)
finally:
    shutil.rmtree(work, ignore_errors=True)
tap.finish()
