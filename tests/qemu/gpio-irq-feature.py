#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""qemu/patches 0003: vhost-user-gpio offers VIRTIO_GPIO_F_IRQ to the guest when its backend
does. A minimal vhost-user GPIO backend (this file; it answers only what QEMU asks while the
device is realized: features, protocol features, owner, vring calls, config) offers
VERSION_1 | GPIO_F_IRQ; QMP x-query-virtio-status then shows the device's host features.
Stock Debian QEMU 7.2 lacks VIRTIO_GPIO_F_IRQ there (the device only clears bits).
  TV_QEMU_BRIDGE=QEMU gpio-irq-feature.py"""
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvqemu import Tap, find_qemu  # noqa: E402

tap = Tap()
qemu_bin = find_qemu(tap)
work = tempfile.mkdtemp(prefix="tv-gpio-")
path = os.path.join(work, "gpio.sock")

F_IRQ, F_VERSION_1, F_PROTOCOL = 0, 32, 30
PROTO_CONFIG = 9
GET_FEATURES, SET_FEATURES, SET_OWNER, GET_PROTOCOL, SET_PROTOCOL, GET_QUEUE_NUM, GET_CONFIG = 1, 2, 3, 15, 16, 17, 24
REPLY_FLAGS = 0x1 | 0x4
seen = []


def serve(lsock):
    conn, _ = lsock.accept()
    with conn:
        while True:
            try:
                msg, anc, _, _ = conn.recvmsg(12, socket.CMSG_SPACE(8 * 4))
            except OSError:
                return
            if len(msg) < 12:
                return
            for level, kind, data in anc:          # vring call/kick fds: not used here
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    for fd in struct.unpack("%di" % (len(data) // 4), data[:len(data) // 4 * 4]):
                        os.close(fd)
            req, flags, size = struct.unpack("<III", msg)
            payload = b""
            while len(payload) < size:
                chunk = conn.recv(size - len(payload))
                if not chunk:
                    return
                payload += chunk
            seen.append(req)
            reply = None
            if req == GET_FEATURES:
                reply = struct.pack("<Q", 1 << F_VERSION_1 | 1 << F_IRQ | 1 << F_PROTOCOL)
            elif req == GET_PROTOCOL:
                reply = struct.pack("<Q", 1 << PROTO_CONFIG)
            elif req == GET_QUEUE_NUM:
                reply = struct.pack("<Q", 2)
            elif req == GET_CONFIG:
                off, sz, fl = struct.unpack_from("<III", payload)
                cfg = struct.pack("<HxxI", 8, 0).ljust(sz, b"\0")[:sz]   # ngpio 8, no line names
                reply = struct.pack("<III", off, sz, fl) + cfg
            if reply is not None:
                conn.sendall(struct.pack("<III", req, REPLY_FLAGS, len(reply)) + reply)


lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
lsock.bind(path)
lsock.listen(1)
threading.Thread(target=serve, args=(lsock,), daemon=True).start()
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
    lsock.close()
    shutil.rmtree(work, ignore_errors=True)
tap.finish()
