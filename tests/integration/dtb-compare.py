#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Compares QEMU's device tree for a domain with tegravirt's guest DTB node by node.

Usage: dtb-compare.py QEMU.dtb OURS.dtb

Every node and property of QEMU's tree must be in ours with the same value, except
the per-boot random seeds in /chosen and what QEMU writes into /chosen of any tree it
boots, the given one too (bootargs from -append, the initrd range). Ours may only add: nodes below the platform
bus (the passed-through devices), /bpmp, and /aliases entries. Prints each
difference and exits 1 if there is any.
"""
import re
import subprocess
import sys

RANDOM = {("/chosen", p) for p in ("rng-seed", "kaslr-seed", "bootargs", "linux,initrd-start", "linux,initrd-end")}
ADDED_OK = (re.compile(r"^/platform-bus@c000000/.+"), re.compile(r"^/bpmp$"), re.compile(r"^/aliases$"))


def tree(path):
    dts = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", path], check=True,
                         capture_output=True, text=True).stdout
    nodes, stack = {}, []
    for raw in dts.splitlines():
        line = raw.strip()
        if not line or line.startswith("/dts-v1/") or line.startswith("/memreserve/"):
            continue
        m = re.match(r"^([^\s=]+) \{$", line)
        if m:
            name = m.group(1)
            stack.append(name)
            p = "/" + "/".join(stack[1:])
            nodes.setdefault(p, {})
            continue
        if line == "};":
            stack.pop()
            continue
        p = "/" + "/".join(stack[1:])
        m = re.match(r"^([^\s=]+?)(?: = (.*))?;$", line)
        if not m:
            raise SystemExit(f"{path}: cannot read line: {raw}")
        nodes[p][m.group(1)] = m.group(2)
    return nodes


def added_ok(node):
    return any(r.match(node) for r in ADDED_OK)


def main():
    qemu, ours = tree(sys.argv[1]), tree(sys.argv[2])
    diffs = []
    for node, props in qemu.items():
        if node not in ours:
            diffs.append(f"missing node {node}")
            continue
        for k, v in props.items():
            if (node, k) in RANDOM:
                continue
            if k not in ours[node]:
                diffs.append(f"missing {node}:{k}")
            elif ours[node][k] != v:
                diffs.append(f"changed {node}:{k}: {v} -> {ours[node][k]}")
    for node, props in ours.items():
        if node not in qemu:
            if not added_ok(node):
                diffs.append(f"unexpected node {node}")
            continue
        for k in props:
            if k not in qemu[node] and not added_ok(node):
                diffs.append(f"unexpected {node}:{k}")
    for d in diffs:
        print("# " + d)
    print(f"# {len(qemu)} nodes in QEMU's tree, {len(ours)} in ours, {len(diffs)} differences")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
