#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Plays a guest proxy against our QEMU's tegravirt-bpmp bridge for shell tests: starts
qemu-system-aarch64 -M virt -accel qtest with the bridge on SOCKET (optionally as another
user, as libvirt would run it), then runs each STEP and prints one line per step:

  clk enable|disable|is-enabled ID   MRQ_CLK transfer   -> "clk: ret=R rx_size=N rx=HEX" or "clk: marker"
  xfer MRQ TXHEX RXSIZE              any transfer       -> "xfer: ..." (same format)
  kill-during PIDFILE clk CMD ID     SIGSTOP the backend whose pid is in PIDFILE ("pid=N ..."),
                                     ring the doorbell, SIGKILL it 0.3 s later -> "kill-during: marker"
                                     or the reply, then " (T ms)"
  wait-connected                     until the chardev is connected (QMP query-chardev, 10 s)
  window                             "window: 0xADDR" from info mtree
  started PIDFILE DOMAIN             what libvirt's "started" hook does: QEMU's pid into PIDFILE,
                                     then Manager1.DomainStarted(DOMAIN) -> "started: ok" or the error

  qtest-session.py [--uid UID --gid GID] [--timeout-ms N] QEMU SOCKET WORKDIR STEP..."""
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvqemu import RET_UNSET, Qemu, bridge_args, xfer  # noqa: E402

MRQ_CLK = 22
CLK_CMDS = {"enable": 7, "disable": 8, "is-enabled": 6}

args = sys.argv[1:]
uid = gid = None
timeout_ms = 2000
while args and args[0].startswith("--"):
    opt, val = args[0], args[1]
    args = args[2:]
    if opt == "--uid":
        uid = int(val)
    elif opt == "--gid":
        gid = int(val)
    elif opt == "--timeout-ms":
        timeout_ms = int(val)
    else:
        sys.exit("unknown option " + opt)
qemu_bin, sock, work = args[:3]
steps = args[3:]

q = Qemu(qemu_bin, work, bridge_args(sock, extra=",timeout-ms=%d" % timeout_ms), user=(uid, gid))
rc = 0
try:
    wins = q.mtree_windows()
    base = wins[0][0]

    def show(tag, r):
        ret, got, rx = r
        if ret == RET_UNSET:
            return "%s: marker" % tag
        return "%s: ret=%d rx_size=%d rx=%s" % (tag, struct.unpack("<i", struct.pack("<I", ret))[0], got, rx.hex())

    def clk(cmd, ident):
        return xfer(q, base, MRQ_CLK, struct.pack("<IIII", CLK_CMDS[cmd] << 24 | int(ident), 0, 0, 0), 16)

    i = 0
    while i < len(steps):
        s = steps[i]
        if s == "clk":
            print(show("clk", clk(steps[i + 1], steps[i + 2])), flush=True)
            i += 3
        elif s == "xfer":
            print(show("xfer", xfer(q, base, int(steps[i + 1], 0), bytes.fromhex(steps[i + 2]), int(steps[i + 3]))),
                  flush=True)
            i += 4
        elif s == "kill-during":
            with open(steps[i + 1]) as f:
                pid = int(re.search(r"pid=(\d+)", f.read()).group(1))
            os.kill(pid, signal.SIGSTOP)
            threading.Timer(0.3, os.kill, (pid, signal.SIGKILL)).start()
            t0 = time.monotonic()
            r = clk(steps[i + 3], steps[i + 4])
            print(show("kill-during", r) + " (%d ms)" % ((time.monotonic() - t0) * 1000), flush=True)
            i += 5
        elif s == "wait-connected":
            deadline = time.monotonic() + 10
            while True:
                info = [c for c in q.qmp_cmd("query-chardev") if c["label"] == "tvbpmp0"]
                if info and not info[0]["filename"].startswith("disconnected:"):
                    print("wait-connected: " + info[0]["filename"], flush=True)
                    break
                if time.monotonic() > deadline:
                    print("wait-connected: timeout (%s)" % info, flush=True)
                    rc = 1
                    break
                time.sleep(0.05)
            i += 1
        elif s == "started":
            with open(steps[i + 1], "w") as f:
                f.write("%d\n" % q.proc.pid)
            r = subprocess.run(["busctl", "--system", "call", "org.tegravirt", "/org/tegravirt",
                                "org.tegravirt.Manager1", "DomainStarted", "s", steps[i + 2]],
                               capture_output=True, text=True)
            print("started: " + ("ok" if r.returncode == 0 else r.stderr.strip()), flush=True)
            i += 3
        elif s == "window":
            print("window: 0x%x" % base, flush=True)
            i += 1
        else:
            sys.exit("unknown step " + s)
except Exception as e:
    print("error: %s: %s" % (type(e).__name__, e), flush=True)
    print(q.stderr(), file=sys.stderr)
    rc = 1
finally:
    q.close()
sys.stderr.write(q.stderr())
sys.exit(rc)
