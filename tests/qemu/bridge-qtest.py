#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The tegravirt-bpmp bridge in our QEMU build, driven through the qtest protocol the way the
guest proxy drives it (tegra_bpmp_window_xfer()), against a stand-in backend that speaks wire
protocol v1 (tvqemu.StandInBackend): a transfer reaches the backend exactly once with the
guest's bytes and the reply comes back; refusals, an oversized request, no backend, a backend
that dies mid-transfer and one that answers too late all leave the guest's RET_UNSET marker
within the timeout; a restarted backend serves the next request; the window sits where our
placement (guest/guest-dtb.c) says.
  TV_QEMU_BRIDGE=QEMU bridge-qtest.py BPMP_PLACE CATALOG.xml CAPS_PROBE"""
import errno
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvqemu import (RET_UNSET, RX, TX, TX_SIZE, RX_SIZE, RET, MRQ, Qemu, StandInBackend, Tap,  # noqa: E402
                    bridge_args, find_qemu, xfer, get_bytes)

tap = Tap()
qemu_bin = find_qemu(tap)
place_tool, catalog, caps_probe = sys.argv[1], sys.argv[2], sys.argv[3]
work = tempfile.mkdtemp(prefix="tv-qtest-")
TIMEOUT_MS = 600


def answer(mrq, tx, rx_size):
    """The stand-in firmware: MRQ 1 echoes reversed, 13 refuses (-EPERM), 14 dies, 15 answers late."""
    if mrq == 13:
        return (-errno.EPERM, 0, b"")
    if mrq == 14:
        return "close"
    if mrq == 15:
        return ("late", TIMEOUT_MS / 1000 + 0.4, (0, 55, b"LATE"[:rx_size]))
    if mrq == 16:
        return (0, 0, b"x" * (rx_size + 1))          # more than asked: a bad reply
    return (0, -mrq, bytes(reversed(tx))[:rx_size])


def timed(fn, *a):
    t0 = time.monotonic()
    r = fn(*a)
    return r, time.monotonic() - t0


procs = []
try:
    r = subprocess.run([caps_probe, qemu_bin], capture_output=True, text=True, timeout=60)
    tap.ok(r.returncode == 0 and " vfio-platform=1 bpmp=tegravirt-bpmp unknown=0 check=ok" in r.stdout,
           "the daemon's capability probe finds vfio-platform and -device tegravirt-bpmp, and accepts "
           "a domain that needs the BPMP", r.stdout + r.stderr)
    sock = os.path.join(work, "bpmp.sock")
    be = StandInBackend(sock, answer)
    q = Qemu(qemu_bin, work, bridge_args(sock, extra=",timeout-ms=%d" % TIMEOUT_MS))
    procs.append(q)
    tap.ok(be.wait_connected(1), "QEMU's chardev connects to the backend",
           q.stderr())

    # --- where the window is
    wins = q.mtree_windows()
    tap.ok(len(wins) == 1 and wins[0][1] == 0x600, "info mtree shows one 0x600-byte tegravirt-bpmp window",
           wins)
    base = wins[0][0] if wins else 0x0c000000
    ours = subprocess.run([place_tool, catalog], capture_output=True, text=True)
    tap.ok(ours.returncode == 0 and int(ours.stdout, 16) == base,
           "our placement puts the bridge where QEMU maps it (0x%x)" % base, ours.stdout + ours.stderr)

    # --- one transfer
    tx = bytes(range(1, 14))                      # 13 bytes: one 8-byte store and a tail
    (ret, got, rx), dt = timed(xfer, q, base, 1, tx, 16)
    tap.ok(ret == (-1 & 0xffffffff) and got == 13 and rx == bytes(reversed(tx)),
           "a transfer returns the backend's status, size and bytes (%.1f ms)" % (dt * 1000),
           (hex(ret), got, rx))
    tap.ok(len(be.requests) == 1 and be.requests[0][1:] == (1, tx, 16),
           "the backend saw exactly one request with the guest's MRQ, TX bytes and RX size", be.requests)
    tap.ok(get_bytes(q, base + RX, 16)[13:] == b"\0\0\0", "RX beyond the reply stays as it was (zero)")

    # --- the backend refuses
    n = len(be.requests)
    (ret, got, _), dt = timed(xfer, q, base, 13, b"\x01\0\0\0", 4)
    tap.ok(ret == RET_UNSET and got == 0, "a refusal (err -EPERM) leaves the marker and RX_SIZE 0",
           (hex(ret), got))
    tap.ok(len(be.requests) == n + 1, "the refused request reached the backend once", be.requests[n:])

    # --- sizes
    n = len(be.requests)
    q.writeq(base + TX_SIZE, 121)
    q.writeq(base + RX_SIZE, 4)
    q.writel(base + RET, RET_UNSET)
    q.writel(base + MRQ, 1)
    tap.ok(q.readl(base + RET) == RET_UNSET and q.readq(base + RX_SIZE) == 0 and len(be.requests) == n,
           "TX_SIZE 121 (> 120) is refused by the device without a request")
    (ret, got, _), _ = timed(xfer, q, base, 1, b"abcd", 0x200)
    tap.ok(len(be.requests) == n + 1 and be.requests[-1][3] == 120 and ret != RET_UNSET,
           "an RX size of 0x200 reaches the backend capped at 120", be.requests[n:])
    (ret, got, _), _ = timed(xfer, q, base, 16, b"abcd", 4)
    tap.ok(ret == RET_UNSET and got == 0, "a reply longer than the RX size asked is refused (marker)",
           (hex(ret), got))

    # --- a backend that answers too late; its late reply must not be taken for the next one
    (ret, got, _), dt = timed(xfer, q, base, 15, b"late", 4)
    tap.ok(ret == RET_UNSET and got == 0 and TIMEOUT_MS / 1000 * 0.9 <= dt < TIMEOUT_MS / 1000 + 1.5,
           "no reply within timeout-ms=%d: the marker after %.2f s" % (TIMEOUT_MS, dt), (hex(ret), got))
    (ret, got, rx), dt = timed(xfer, q, base, 2, b"next", 4)
    tap.ok(ret == (-2 & 0xffffffff) and rx == b"txen",
           "the next transfer gets its own reply, not the late one (%.2f s)" % dt, (hex(ret), got, rx))

    # --- the backend dies in the middle of a transfer
    n = len(be.requests)
    (ret, got, _), dt = timed(xfer, q, base, 14, b"die!", 4)
    tap.ok(ret == RET_UNSET and got == 0 and dt < TIMEOUT_MS / 1000,
           "a backend that dies mid-transfer: the marker at once (%.1f ms), no hang" % (dt * 1000))
    be.stop()
    (ret, got, _), dt = timed(xfer, q, base, 1, b"gone", 4)
    tap.ok(ret == RET_UNSET and got == 0 and dt < TIMEOUT_MS / 1000,
           "no backend: the marker at once (%.1f ms)" % (dt * 1000))
    be2 = StandInBackend(sock, answer)
    tap.ok(be2.wait_connected(1, timeout=10), "QEMU reconnects to the restarted backend (reconnect=1)")
    (ret, got, rx), dt = timed(xfer, q, base, 3, b"back", 4)
    tap.ok(ret == (-3 & 0xffffffff) and rx == b"kcab" and len(be2.requests) == 1,
           "the restarted backend serves the next request, exactly once", (hex(ret), rx, be2.requests))
    tap.ok(not be.bad and not be2.bad, "QEMU sent only well-formed requests", be.bad + be2.bad)
    q.close()
    procs.remove(q)
    tap.ok(q.proc.returncode == 0, "QEMU quits cleanly (QMP quit)",
           "rc=%s %s" % (q.proc.returncode, q.stderr()))
    be2.stop()

    # --- a QEMU started before its backend; two bridges (placement alignment)
    sock_a, sock_b = os.path.join(work, "a.sock"), os.path.join(work, "b.sock")
    q = Qemu(qemu_bin, work, bridge_args(sock_a, "tvbpmp0") + bridge_args(sock_b, "tvbpmp1"), name="two")
    procs.append(q)
    wins = sorted(q.mtree_windows())
    second = subprocess.run([place_tool, catalog, "tegravirt-bpmp"], capture_output=True, text=True)
    tap.ok(len(wins) == 2 and second.returncode == 0 and int(second.stdout, 16) == wins[1][0],
           "a second bridge lands where our placement says (natural alignment: %s)"
           % (hex(wins[1][0]) if len(wins) == 2 else "?"), (wins, second.stdout, second.stderr))
    a = wins[0][0] if wins else 0x0c000000
    (ret, got, _), dt = timed(xfer, q, a, 1, b"none", 4)
    tap.ok(ret == RET_UNSET and got == 0 and dt < TIMEOUT_MS / 1000,
           "before its backend exists: the marker at once (%.1f ms)" % (dt * 1000))
    be_a = StandInBackend(sock_a, answer)
    tap.ok(be_a.wait_connected(1, timeout=10), "QEMU connects when the backend appears")
    (ret, got, rx), _ = timed(xfer, q, a, 4, b"late", 4)
    tap.ok(ret == (-4 & 0xffffffff) and rx == b"etal" and len(be_a.requests) == 1,
           "then the transfer is served", (hex(ret), rx))
    q.close()
    procs.remove(q)
    be_a.stop()

    # --- QEMU's own DTB (no -dtb) records the window; -dtb users get ours instead
    dtb = os.path.join(work, "virt.dtb")
    r = subprocess.run([qemu_bin, "-M", "virt,dumpdtb=" + dtb, "-nodefaults", "-display", "none"] +
                       bridge_args(os.path.join(work, "none.sock")), capture_output=True, text=True, timeout=60)
    dts = subprocess.run(["dtc", "-I", "dtb", "-O", "dts", dtb], capture_output=True, text=True) \
        if r.returncode == 0 else None
    m = re.search(r"platform-bus@c000000 \{[^}]*\btegravirt-bpmp@0 \{([^}]*)\}", dts.stdout if dts else "")
    props = sorted(line.strip() for line in m.group(1).strip().splitlines()) if m else []
    tap.ok(props == ['compatible = "tegravirt,bpmp-window";', 'reg = <0x00 0x600>;'], "dumpdtb: /platform-bus@c000000/tegravirt-bpmp@0, compatible tegravirt,bpmp-window, "
           "reg <0 0x600>", (r.stderr, dts.stdout[-1500:] if dts else ""))
    r = subprocess.run([qemu_bin, "-M", "virt", "-nodefaults", "-display", "none", "-device", "tegravirt-bpmp"],
                       capture_output=True, text=True, timeout=60)
    tap.ok(r.returncode != 0 and "chardev property" in r.stderr, "without chardev= QEMU refuses the device",
           r.stderr)
    r = subprocess.run([qemu_bin, "-M", "virt", "-nodefaults", "-display", "none", "-S", "-qmp", "stdio"] +
                       bridge_args(os.path.join(work, "none.sock")),
                       input='{"execute":"qmp_capabilities"}\n{"execute":"migrate","arguments":{"uri":"exec:cat>/dev/null"}}\n'
                       '{"execute":"quit"}\n', capture_output=True, text=True, timeout=60)
    tap.ok("tegravirt-bpmp" in r.stdout and "non-migratable" in r.stdout,
           "migration is blocked by the non-migratable bridge", r.stdout[-800:])
except Exception as e:  # a crash is a failure with its reason, not a missing plan
    import traceback
    tap.ok(False, "the test runs to its end (%s: %s)" % (type(e).__name__, e), traceback.format_exc())
finally:
    for p in procs:
        p.proc.kill()
        p.close()
    shutil.rmtree(work, ignore_errors=True)
tap.finish()
