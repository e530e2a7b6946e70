#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what building, testing and the demo need on Debian 12 (run as root).
set -eu
PKGS="meson ninja-build gcc clang libclang-rt-14-dev pkg-config python3 \
      libsystemd-dev libxml2-dev libxml2-utils libfuse3-dev fuse3 \
      dbus dbus-daemon dbus-bin systemd valgrind bc"
missing=""
for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $missing
fi
# FUSE needs its device node; containers sometimes lack the module autoload
[ -e /dev/fuse ] || modprobe fuse 2>/dev/null || true
