#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Hostile names are refused with InvalidArgument and touch nothing, inside or outside the sysfs root.
source "$(dirname "$0")/../lib/integration.sh"
tv_setup
tv_start_daemon

# a sentinel outside the simulated root that a path traversal would reach
touch "$T/sentinel"
before_log=$(wc -l <"$T/mnt/log")
before_tree=$(find "$T" -path "$T/mnt" -prune -o -newer "$T/sentinel" -print | { grep -v "^$T/daemon.log$" || true; } | sort)

long=$(printf 'a%.0s' $(seq 4096))
for name in "../x" "a/b" "" "$long" "../../../etc/passwd" "." ".." "uarta/../uarti" "-rf" "uarta " "ua rta" \
            "3100000.serial/driver_override" "x;reboot" "\$(id)"; do
        label=$(printf '%q' "$name" | cut -c1-40)
        check "AssignDevice device=$label -> InvalidArgument" expect_error InvalidArgument AssignDevice string:vm1 "string:$name"
        check "AssignDevice domain=$label -> InvalidArgument" expect_error InvalidArgument AssignDevice "string:$name" string:uarta
        check "PrepareDomain domain=$label -> InvalidArgument" expect_error InvalidArgument PrepareDomain "string:$name" string:
        check "ReleaseDomain domain=$label -> InvalidArgument" expect_error InvalidArgument ReleaseDomain "string:$name"
        check "UnassignDevice device=$label -> InvalidArgument" expect_error InvalidArgument UnassignDevice string:vm1 "string:$name"
done
# XML bombs and a DOCTYPE in the domain XML handed over by the hook
check "domain XML with a DOCTYPE/entity is refused" expect_error InvalidArgument PrepareDomain string:vm1 \
        'string:<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><domain><name>&x;</name></domain>'
check "malformed domain XML is refused" expect_error InvalidArgument PrepareDomain string:vm1 'string:<domain><name>vm1</name>'
# non-UTF-8 never reaches the daemon: D-Bus itself refuses it; the client refuses it first
check "tegravirtctl refuses a non-UTF-8 name with a usage error" bash -c "'$TV_CTL_BIN' assign vm1 \$'\\xff\\xfe'; [ \$? = 2 ]"
check "dbus-send cannot even marshal non-UTF-8" bash -c "! dbus-send --system --print-reply --dest=org.tegravirt /org/tegravirt org.tegravirt.Manager1.AssignDevice string:vm1 string:\$'\\xff' 2>/dev/null"

after_log=$(wc -l <"$T/mnt/log")
check "no sysfs write was attempted" test "$before_log" = "$after_log"
after_tree=$(find "$T" -path "$T/mnt" -prune -o -newer "$T/sentinel" -print | { grep -v "^$T/daemon.log$" || true; } | sort)
check "no file outside the sysfs root was created or changed" test "$before_tree" = "$after_tree"
check "no state was recorded" bash -c "[ ! -e '$T/state/state' ] || [ \$(grep -c '^device' '$T/state/state') = 0 ]"
check "daemon still serves" expect_ok ListDevices
check "daemon exits 0 on SIGTERM" tv_stop_daemon
tap_finish
