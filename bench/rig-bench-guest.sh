# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# bench-rig.sh's guest side (busybox sh in the rig's guest, tests/rig/README.md): prepare+release
# of a003e00.virtio_mmio on the real driver core, N cycles each way, timed with /proc/uptime
# (10 ms ticks: N is large enough that a run is seconds). Prints "BENCH name ms-per-cycle".
# Every variant runs a few untimed cycles first: under TCG the first pass through a kernel
# path pays for its translation (a cold floor measured twice as slow as a warm one).
. /lib/rig/lib.sh
rig_load_virtio_mmio && rig_load_vfio || { echo "BENCH-ERROR cannot load the modules"; exit 1; }
N=$(cat /rig/iterations)
A=a003e00.virtio_mmio
P=/sys/bus/platform
cs() { read -r u _ </proc/uptime; echo "${u%.*}${u#*.}"; }
per_cycle() { echo "$1 $2 $N" | awk '{ printf "%.3f", ($2 - $1) * 10 / $3 }'; }
on() { [ "$(basename "$(readlink $P/devices/$A/driver)")" = "$1" ]; }
on virtio-mmio || { echo "BENCH-ERROR $A is not on virtio-mmio"; exit 1; }

# the seed's steps as the user types them, one shell per prepare and per release
cat >/tmp/seed.sh <<EOF
case "\$1" in
prepare)
        echo vfio-platform > $P/devices/$A/driver_override
        echo $A > $P/drivers/virtio-mmio/unbind
        echo $A > $P/drivers_probe
        ;;
release)
        echo > $P/devices/$A/driver_override
        echo $A > $P/drivers/vfio-platform/unbind
        echo $A > $P/drivers_probe
        ;;
esac
EOF
sh /tmp/seed.sh prepare && on vfio-platform && sh /tmp/seed.sh release && on virtio-mmio ||
        { echo "BENCH-ERROR the seed script does not move $A"; exit 1; }
E="./tv-rig-engine --noiommu --state /tmp/bench-state"
W=5
floor_cycle() {
        echo vfio-platform > $P/devices/$A/driver_override
        echo $A > $P/drivers/virtio-mmio/unbind
        echo $A > $P/drivers_probe
        echo > $P/devices/$A/driver_override
        echo $A > $P/drivers/vfio-platform/unbind
        echo $A > $P/drivers_probe
}
i=0
while [ $i -lt $W ]; do
        sh /tmp/seed.sh prepare; sh /tmp/seed.sh release
        $E prepare $A >/dev/null; $E release $A
        floor_cycle
        ./tv-rig-engine --help 2>/dev/null
        i=$((i + 1))
done
$E cycle $W $A >/dev/null
t0=$(cs)
i=0
while [ $i -lt "$N" ]; do
        sh /tmp/seed.sh prepare
        sh /tmp/seed.sh release
        i=$((i + 1))
done
t1=$(cs)
on virtio-mmio || { echo "BENCH-ERROR $A did not come back"; exit 1; }
echo "BENCH seed-script $(per_cycle "$t0" "$t1")"

# the engine, one process per prepare and per release (as the hook would call a CLI)
t0=$(cs)
i=0
while [ $i -lt "$N" ]; do
        $E prepare $A >/dev/null
        $E release $A
        i=$((i + 1))
done
t1=$(cs)
on virtio-mmio || { echo "BENCH-ERROR $A did not come back from the engine"; exit 1; }
echo "BENCH engine-process $(per_cycle "$t0" "$t1")"

# the engine resident, as in tegravirtd: one process, N cycles, with its own breakdown
$E cycle "$N" $A >/tmp/cycle || { echo "BENCH-ERROR engine cycle failed"; exit 1; }
sed -n 's/^cycle [0-9]* \([0-9.]*\) ms$/BENCH engine-resident \1/p; s/^part \([a-z_]*\) \([0-9.]*\) ms$/BENCH part-\1 \2/p' /tmp/cycle

# the floor: the same six writes in this shell, no process at all (the driver core's own cost)
t0=$(cs)
i=0
while [ $i -lt "$N" ]; do
        floor_cycle
        i=$((i + 1))
done
t1=$(cs)
echo "BENCH sysfs-floor $(per_cycle "$t0" "$t1")"
# one process start alone: what a fork+exec of a static program costs here
t0=$(cs)
i=0
while [ $i -lt "$N" ]; do
        ./tv-rig-engine --help 2>/dev/null
        i=$((i + 1))
done
t1=$(cs)
echo "BENCH exec-static $(per_cycle "$t0" "$t1")"
on virtio-mmio && echo "BENCH-DONE"
