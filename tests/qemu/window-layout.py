#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The bridge window has one source of truth, the guest proxy's bpmp-guest-window.h: the
QEMU device in qemu/patches (TVBPMP_* in include/hw/misc/tegravirt-bpmp.h, as the patch
adds it), our placement's window size (guest/guest-dtb.h) and the tests' constants
(tests/qemu/tvqemu.py) must have its values.
  window-layout.py SOURCE_ROOT"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tvqemu import Tap  # noqa: E402
import tvqemu  # noqa: E402

root = sys.argv[1]
tap = Tap()
NAMES = ["TX", "RX", "BUF_SIZE", "TX_SIZE", "RX_SIZE", "RET", "MRQ", "SIZE", "RET_UNSET"]


def defines(text, prefix):
    return {m.group(1): int(m.group(2), 0)
            for m in re.finditer(r"^#define\s+%s(\w+)\s+(0x[0-9a-fA-F]+|\d+)\b" % prefix, text, re.M)}


kernel = defines(open(os.path.join(root, "kernel/drivers/firmware/tegra/bpmp-guest-proxy/bpmp-guest-window.h")).read(),
                 "BPMP_WIN_")
tap.ok(all(n in kernel for n in NAMES), "the kernel header defines BPMP_WIN_{%s}" % ",".join(NAMES), kernel)

# the header's text as the series adds it: the '+' lines of its diff
pdir = os.path.join(root, "qemu/patches")
added = None
for name in open(os.path.join(pdir, "series")).read().split():
    text = open(os.path.join(pdir, name)).read()
    m = re.search(r"^\+\+\+ b/include/hw/misc/tegravirt-bpmp\.h\n@@[^\n]*\n((?:[+ \\][^\n]*\n)+)", text, re.M)
    if m:
        added = "\n".join(line[1:] for line in m.group(1).splitlines() if line.startswith("+"))
tap.ok(added is not None, "the series adds include/hw/misc/tegravirt-bpmp.h")
qemu = defines(added or "", "TVBPMP_")
for n in NAMES:
    tap.ok(n in qemu and qemu[n] == kernel.get(n),
           "QEMU's TVBPMP_%s equals the kernel's BPMP_WIN_%s (0x%x)" % (n, n, kernel.get(n, -1)),
           "QEMU has %s" % (hex(qemu[n]) if n in qemu else "no such define"))

# the device must use the names, not other numbers, for what it decodes
src = None
for name in open(os.path.join(pdir, "series")).read().split():
    text = open(os.path.join(pdir, name)).read()
    m = re.search(r"^\+\+\+ b/hw/misc/tegravirt-bpmp\.c\n@@[^\n]*\n((?:[+ \\][^\n]*\n)+)", text, re.M)
    if m:
        src = m.group(1)
flat = re.sub(r"\s+", " ", "\n".join(line[1:] for line in (src or "").splitlines()))
tap.ok("memory_region_init_io(&s->iomem, OBJECT(s), &tvbpmp_ops, s, TYPE_TEGRAVIRT_BPMP, TVBPMP_SIZE)" in flat,
       "the device maps TVBPMP_SIZE bytes")

dtbh = open(os.path.join(root, "guest/guest-dtb.h")).read()
m = re.search(r"#define TV_BPMP_WINDOW_SIZE (0x[0-9a-fA-F]+)", dtbh)
tap.ok(m and int(m.group(1), 16) == kernel.get("SIZE"), "our placement's window size equals BPMP_WIN_SIZE")

py = {"TX": tvqemu.TX, "RX": tvqemu.RX, "TX_SIZE": tvqemu.TX_SIZE, "RX_SIZE": tvqemu.RX_SIZE, "RET": tvqemu.RET,
      "MRQ": tvqemu.MRQ, "SIZE": tvqemu.WIN_SIZE, "RET_UNSET": tvqemu.RET_UNSET}
tap.ok(all(kernel.get(k) == v for k, v in py.items()), "the qtest helpers use the kernel header's offsets")
tap.finish()
