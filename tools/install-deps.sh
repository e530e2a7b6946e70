#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what building, testing and the demo need on Debian 12 (run as root).
# --list prints the package list and installs nothing: the libvirt test computes
# from it which firmware files a fresh machine has (tests/lib/libvirt.sh).
# Packages are installed without their Recommends: anything a test uses must be in
# this list or in the Depends of something in it.
set -eu
PKGS="meson ninja-build gcc clang libclang-rt-14-dev pkg-config python3 \
      libsystemd-dev libdbus-1-dev libxml2-dev libxml2-utils libfuse3-dev fuse3 \
      dbus dbus-daemon dbus-bin systemd valgrind bc strace util-linux procps iproute2 \
      libvirt-dev libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-arm ipxe-qemu virtinst cpio gzip \
      python3-dbusmock libfdt-dev device-tree-compiler groff-base \
      linux-source-6.1 gcc-aarch64-linux-gnu libc6-dev-arm64-cross gcc-arm-linux-gnueabihf libc6-dev-armhf-cross flex bison libssl-dev libelf-dev kmod make perl git xz-utils \
      python3-yaml dt-schema yamllint sparse \
      qemu-efi-aarch64 mtools dosfstools \
      libglib2.0-dev libpixman-1-dev libslirp-dev dpkg-dev"
if [ "${1:-}" = --list ]; then
        printf '%s\n' $PKGS
        exit 0
fi
# tools/build-qemu.sh fetches Debian's QEMU source with apt-get source, which needs a
# deb-src line; add one for bookworm main (and its updates) unless apt already has one
src_list=/etc/apt/sources.list.d/tegravirt-src.sources
need_update=""
if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
        cat >"$src_list" <<'SRC'
# added by tegravirt's tools/install-deps.sh: tools/build-qemu.sh runs apt-get source qemu
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
        need_update=1
fi
[ -n "$need_update" ] || apt-cache showsrc qemu 2>/dev/null | grep -q '^Version:' || need_update=1
[ -z "$need_update" ] || apt-get update -q
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
# libvirtd resolves its default QEMU user and group before reading qemu.conf; the
# libvirt-daemon-system package would create them, but it also wants to run services
getent group kvm >/dev/null || groupadd --system kvm
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null ||
        useradd --system -g libvirt-qemu -G kvm -d /var/lib/libvirt -s /usr/sbin/nologin libvirt-qemu
# FUSE needs its device node; containers sometimes lack the module autoload
[ -e /dev/fuse ] || modprobe fuse 2>/dev/null || true
