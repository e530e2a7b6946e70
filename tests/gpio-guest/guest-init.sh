#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the gpio-guest tests' guest (busybox sh): loads Debian's virtio_mmio and our
# out-of-tree gpio-virtio, then hands the console to tvgpio-guest, which the host drives
# (guest-lib.sh: one command a line, "R <n> ..." results). "quit" powers the guest off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /tmp
echo "TVG-BEGIN"
insmod /lib/modules/virtio_mmio.ko || echo "TVG insmod virtio_mmio failed"
insmod /lib/modules/gpio-virtio.ko || echo "TVG insmod gpio-virtio failed"
tvgpio-guest
echo "TVG-END"
poweroff -f
sleep 10
