#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Public contracts stay documented: every D-Bus member, error name, daemon option,
# config key, CLI command and catalog element appears in the man pages.
# Usage: contracts.sh SOURCE_DIR TEGRAVIRTD TEGRAVIRTCTL LIST_CONFIG_KEYS
# (LIST_CONFIG_KEYS: tests/list-config-keys.c, which prints the config parser's key table)
set -uo pipefail
S="$1" D="$2" C="$3" L="$4"
source "$(dirname "$0")/lib/tap.sh"
need() { # need FILE WORD WHAT
        # troff escapes hyphens (\-): compare the text without backslashes
        if sed 's/\\//g' "$1" | grep -F -- "$2" >/dev/null; then ok "$3 '$2' in ${1#$S/}"; else not_ok "$3 '$2' missing from ${1#$S/}"; fi
}
man8="$S/man/tegravirtd.8" api5="$S/man/org.tegravirt.5" man1="$S/man/tegravirtctl.1" conf5="$S/man/tegravirtd.conf.5" cat5="$S/man/tegravirt-catalog.5"

for x in "$S"/dbus/*.xml; do
        for m in $(grep -o '<\(method\|property\|signal\) name="[A-Za-z]*"' "$x" | cut -d'"' -f2); do
                need "$man8" "$m" "D-Bus member"
                need "$api5" "$m" "D-Bus member"
        done
done
for e in $(grep -o 'org\.tegravirt\.Error\.[A-Za-z]*' "$S/common/tv-names.h" | sort -u); do
        need "$man8" "$e" "error name"
        need "$api5" "$e" "error name"
        need "$S/dbus/org.tegravirt.Manager1.xml" "$e" "error name"
done
# CheckHost items: the first argument of each add() in core/host-check.c; the count guards
# against a pattern that stopped matching
items=$(grep -o 'add(&\{0,1\}c, "[a-z.-]*"' "$S/core/host-check.c" | cut -d'"' -f2 | sort -u)
check "CheckHost items found in core/host-check.c" test "$(wc -w <<<"$items")" -ge 10
for i in $items; do
        need "$api5" "$i" "CheckHost item"
done
for o in $("$D" --help | grep -o '^ *--[a-z-]*' | tr -d ' '); do
        need "$man8" "$o" "daemon option"
done
keys=$("$L") || not_ok "list-config-keys ran"
[ "$(echo "$keys" | grep -c .)" -ge 5 ] || not_ok "the parser's table lists the config keys (got: $keys)"
for k in $keys; do
        need "$conf5" "$k=" "config key"
done
# and the other way: every key the man page documents (.BI Key= ...) is one the parser takes
for k in $(grep -o '^\.BI [A-Za-z]*=' "$conf5" | cut -d' ' -f2 | tr -d =); do
        if echo "$keys" | grep -qx -- "$k"; then ok "documented config key '$k' is in the parser's table"
        else not_ok "documented config key '$k' is not in the parser's table"; fi
done
for cmd in $("$C" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR>1 && $1 ~ /^[a-z][a-z-]*$/ {print $1}'); do
        need "$man1" "$cmd" "tegravirtctl command"
done
for el in $(grep -o '<element name="[a-z-]*"' "$S/xml-schemas/catalog.rng" | cut -d'"' -f2 | sort -u); do
        need "$cat5" "$el" "catalog element"
done
for st in $(grep -o 'TV_STATE_[A-Z]* *"[a-z]*"' "$S/common/tv-names.h" | cut -d'"' -f2); do
        need "$man8" "$st" "device state"
        need "$S/dbus/org.tegravirt.Device1.xml" "$st" "device state"
done
# the BPMP host proxy's sysfs contract: what the kernel driver defines, tegravirtd
# uses, the fixture simulates and the docs describe (kernel/README.md, tegravirtd(8))
K="$S/kernel/drivers/firmware/tegra/bpmp-host-proxy/bpmp-host-proxy.c"
need "$K" '.compatible = "nvidia,bpmp-host-proxy"' "proxy compatible in the driver"
need "$S/host/bpmp-proxy.h" '"nvidia,bpmp-host-proxy"' "proxy compatible in tegravirtd"
need "$S/guest/host-overlay.c" 'compatible = "nvidia,bpmp-host-proxy"' "proxy compatible in the host overlay"
for kind in clocks resets power_domains parent_clocks; do
        need "$S/host/bpmp-proxy.c" "\"$kind\"" "proxy attribute kind in tegravirtd"
        for a in allowed active; do
                need "$K" "BPMP_HOST_ATTR(${a}_$kind," "proxy attribute in the driver"
                need "$S/kernel/README.md" "${a}_$kind" "proxy attribute in kernel/README.md"
                need "$S/tests/fixture/orin-sim-tree.c" "\"${a}_$kind\"" "proxy attribute in the fixture"
        done
        need "$man8" "active_$kind" "proxy attribute in tegravirtd(8)"
done
# /dev/bpmp-host's ioctls and attributes: every one the uapi header defines is handled by the
# driver and documented in Documentation/ABI and kernel/README.md
U="$S/kernel/include/uapi/linux/tegra-bpmp-host-proxy.h"
for ioc in $(grep -o '^#define TEGRA_BPMP_HOST_IOC_[A-Z_]*' "$U" | cut -d' ' -f2 | grep -v '_MAGIC$'); do
        need "$K" "case $ioc:" "proxy ioctl in the driver"
        need "$S/kernel/Documentation/ABI/testing/dev-bpmp-host" "$ioc" "proxy ioctl in Documentation/ABI"
        need "$S/kernel/README.md" "$ioc" "proxy ioctl in kernel/README.md"
done
for kind in clocks resets power_domains parent_clocks; do
        for a in allowed active; do
                need "$S/kernel/Documentation/ABI/testing/sysfs-driver-tegra-bpmp-host-proxy" "/${a}_$kind" \
                        "proxy attribute in Documentation/ABI"
        done
done
for prm in rate_limit rate_burst; do
        need "$K" "module_param($prm," "proxy module parameter in the driver"
        need "$S/kernel/Documentation/ABI/testing/dev-bpmp-host" "$prm" "proxy module parameter in Documentation/ABI"
        need "$S/kernel/README.md" "$prm" "proxy module parameter in kernel/README.md"
done
for p in allowed-clocks allowed-resets allowed-power-domains allowed-parent-clocks; do
        need "$S/kernel/Documentation/devicetree/bindings/firmware/nvidia,bpmp-host-proxy.yaml" "$p" "proxy DT property in the binding"
        need "$S/guest/host-overlay.c" "\"$p\"" "proxy DT property in the host overlay"
done
[ "$(_tap_count p)" -gt 20 ] || not_ok "more than 20 contract checks ran (a broken list finds nothing)"
tap_finish
