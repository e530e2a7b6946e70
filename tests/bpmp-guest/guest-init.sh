#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# /init of the bpmp-guest-chain guest (busybox sh): prints what the guest's clock and
# power-domain frameworks got from the virtual BPMP as "TVB ..." lines, loads the test module
# (its probe logs "tv-bpmp-test: ..."), unbinds and binds it once, and powers off leaving
# the clock on. guest-chain.sh on the host asserts on these lines and on the firmware's log.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
echo "TVB-BEGIN"
# every clock as parent/name (debugfs has clk_parent for clocks with parents)
for d in /sys/kernel/debug/clk/*/; do
        d=${d%/}
        [ -f "$d/clk_rate" ] || continue
        if [ -f "$d/clk_parent" ] && [ -n "$(cat "$d/clk_parent")" ]; then
                echo "TVB clk $(cat "$d/clk_parent")/${d##*/}"
        else
                echo "TVB clk ${d##*/}"
        fi
done
for d in /sys/kernel/debug/pm_genpd/*/; do
        [ -d "$d" ] && { d=${d%/}; echo "TVB pd ${d##*/}"; }
done
insmod /tv-bpmp-guest-test.ko && echo "TVB insmod ok"
drv=/sys/bus/platform/drivers/tv-bpmp-guest-test
for dev in "$drv"/*.serial; do
        [ -e "$dev" ] || { echo "TVB not bound"; continue; }
        dev=${dev##*/}
        echo "TVB bound $dev"
        echo "$dev" >"$drv/unbind" && echo "TVB unbind ok"
        echo "$dev" >"$drv/bind" && echo "TVB bind ok"
done
grep -E '^ *(uarta|pllp_out0) ' /sys/kernel/debug/clk/clk_summary | sed 's/^ */TVB summary /'
echo "TVB-END"
poweroff -f
sleep 10
