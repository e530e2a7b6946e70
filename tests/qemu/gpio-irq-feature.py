#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""qemu/patches 0003: vhost-user-gpio offers VIRTIO_GPIO_F_IRQ to the guest when its backend
does. A minimal vhost-user GPIO backend (tvqemu.VhostUserGpioStandIn; it answers only what QEMU
asks while the device is realized: features, protocol features, owner, vring calls, config) offers
VERSION_1 | GPIO_F_IRQ; QMP x-query-virtio-status then shows the device's host features.
Stock Debian QEMU 7.2 lacks VIRTIO_GPIO_F_IRQ there (the device only clears bits).
  TV_QEMU_BRIDGE=QEMU gpio-irq-feature.py"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvqemu import Tap, VhostUserGpioStandIn, find_qemu  # noqa: E402

tap = Tap()
qemu_bin = find_qemu(tap)
work = tempfile.mkdtemp(prefix="tv-gpio-")
path = os.path.join(work, "gpio.sock")

F_IRQ, GET_CONFIG = VhostUserGpioStandIn.F_IRQ, VhostUserGpioStandIn.GET_CONFIG
backend = VhostUserGpioStandIn(path)
seen = backend.seen
try:
    cmds = [{"execute": "qmp_capabilities"}, {"execute": "x-query-virtio"}]
    p = subprocess.Popen([qemu_bin, "-M", "virt", "-accel", "tcg", "-nodefaults", "-display", "none", "-S",
                          "-global", "virtio-mmio.force-legacy=false",
                          "-chardev", "socket,id=gpio0,path=" + path,
                          "-device", "vhost-user-gpio-device,chardev=gpio0,id=gpio", "-qmp", "stdio"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stdin.write("\n".join(json.dumps(c) for c in cmds) + "\n")
    p.stdin.flush()
    replies = []
    while len(replies) < 2:
        line = p.stdout.readline()
        if not line:
            break
        m = json.loads(line)
        if "return" in m or "error" in m:
            replies.append(m)
    paths = [d["path"] for d in replies[1].get("return", [])] if len(replies) == 2 else []
    status = {}
    if paths:
        p.stdin.write(json.dumps({"execute": "x-query-virtio-status", "arguments": {"path": paths[0]}}) + "\n")
        p.stdin.flush()
        while True:
            line = p.stdout.readline()
            if not line:
                break
            m = json.loads(line)
            if "return" in m or "error" in m:
                status = m.get("return", {})
                break
    p.stdin.write(json.dumps({"execute": "quit"}) + "\n")
    p.stdin.flush()
    try:
        _, err = p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    tap.ok(status.get("name") == "virtio-gpio" and GET_CONFIG in seen,
           "QEMU realizes vhost-user-gpio against the stand-in backend (it read the config)",
           "%s %s %s" % (status.get("name"), seen, err))
    hf = status.get("host-features", {})
    # QEMU 7.2's decoder has no names for GPIO features: bit 0 shows as unknown-dev-features 1
    tap.ok(any(f.startswith("VIRTIO_GPIO_F_IRQ") for f in hf.get("dev-features", [])) or
           hf.get("unknown-dev-features", 0) & (1 << F_IRQ),
           "the device offers VIRTIO_GPIO_F_IRQ to the guest (the backend does)", json.dumps(status.get("host-features")))
finally:
    backend.close()
    shutil.rmtree(work, ignore_errors=True)
tap.finish()
