# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash disable=SC2034 # GG_* are this library's outputs
# Host side of the gpio-guest tests (source it after tests/lib/integration.sh and tv_setup):
# the guest's initramfs, our QEMU with the vhost-user GPIO device on shared memfd memory, and
# a command channel to tvgpio-guest through the guest's console.
#   gg_build                 build-guest.sh into the rig cache: sets GG_IMAGE, GG_BUSYBOX, GG_VIRTIO_MMIO,
#                            GG_GPIO_VIRTIO, GG_LEVEL_KO, GG_TOOL (a failure is "not ok" + exit)
#   gg_initrd OUT            the initramfs: busybox, guest-init.sh as /init, the modules, the tool
#                            (and the kernel copied to $T, where the QEMU user can read it)
#   gg_qemu_start SOCK DTB NAME [ARG...]   QEMU (TV_QEMU_BRIDGE) paused (-S) as the QEMU user with
#                            -name guest=NAME, the console on a FIFO, pid file and QMP socket in
#                            $GG_RUN (libvirt's QEMU run dir), ARGs (the device's) appended
#   gg_qmp CMD...            QMP commands (qmp_capabilities first), e.g. gg_qmp cont
#   gg_ready [SECONDS]       waits for the tool's "R ready" (the guest booted, modules loaded)
#   gg_send CMD              one command to the tool, without waiting; GG_N is its number
#   gg_wait N [SECONDS]      waits for command N's "R N done"
#   gg_cmd CMD [SECONDS]     gg_send + gg_wait; GG_OUT = its result lines ("R N " cut), status 1 on timeout
#   gg_out N                 command N's result lines
#   gg_qemu_wait [SECONDS]   waits for QEMU to exit (after "quit"); GG_QEMU_RC
GG_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GG_N=0
GG_QEMU_JOB=""
GG_RUN=""
GG_QEMU_RC=""

gg_build() {
        local cache=${TV_RIG_CACHE:-$TV_BUILD_DIR/rig-cache} t0=$SECONDS
        if ! "$GG_HERE/build-guest.sh" "$cache" >"$T/build-guest.out" 2>"$T/build-guest.err"; then
                not_ok "the guest side builds (kernel, gpio-virtio.ko, tvgpio-guest)"
                diag "$(tail -n 30 "$T/build-guest.err")"
                tap_finish
                exit 1
        fi
        GG_IMAGE=$(sed -n 's/^IMAGE=//p' "$T/build-guest.out")
        GG_BUSYBOX=$(sed -n 's/^BUSYBOX=//p' "$T/build-guest.out")
        GG_VIRTIO_MMIO=$(sed -n 's/^VIRTIO_MMIO=//p' "$T/build-guest.out")
        GG_GPIO_VIRTIO=$(sed -n 's/^GPIO_VIRTIO=//p' "$T/build-guest.out")
        GG_LEVEL_KO=$(sed -n 's/^LEVEL_KO=//p' "$T/build-guest.out")
        GG_TOOL=$(sed -n 's/^TOOL=//p' "$T/build-guest.out")
        ok "the guest side builds: Debian's $(sed -n 's/^KVER=//p' "$T/build-guest.out") kernel, gpio-virtio.ko out of tree, tvgpio-guest ($((SECONDS - t0)) s)"
}

gg_initrd() {
        local root="$T/initrd-root"
        rm -rf "$root"
        mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/modules}
        cp "$GG_BUSYBOX" "$root/bin/busybox"
        ln -s busybox "$root/bin/sh"
        cp "$GG_TOOL" "$root/bin/tvgpio-guest"
        cp "$GG_VIRTIO_MMIO" "$GG_GPIO_VIRTIO" "$GG_LEVEL_KO" "$root/lib/modules/"
        # QEMU runs as the QEMU user, which may not reach the cache (CI keeps it under $OUT)
        cp "$GG_IMAGE" "$T/Image"
        mknod -m 600 "$root/dev/console" c 5 1
        cp "$GG_HERE/guest-init.sh" "$root/init"
        chmod 755 "$root/init"
        (cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) >"$1"
}

# shellcheck disable=SC2054 # the commas are QEMU's
GG_MACHINE=(-machine virt,memory-backend=gg-mem -cpu cortex-a57 -smp 1 -m 256 -nographic -nodefaults
        -object memory-backend-memfd,id=gg-mem,size=256M,share=on)

gg_qemu_start() {
        local sock=$1 dtb=$2 name=$3
        shift 3
        wait_for 10 test -S "$sock" || return 1
        GG_RUN=${GG_RUN:-$T/libvirt-qemu}
        mkdir -p "$GG_RUN"
        chown "$(id -u nobody):$(id -g nobody)" "$GG_RUN"
        rm -f "$T/console.in"
        mkfifo "$T/console.in"
        # read-write: the FIFO never sees its last writer go (QEMU would read EOF)
        exec {GG_IN}<>"$T/console.in"
        : >"$T/console.raw"
        # loglevel=3: a driver's dev_err() (level 3) would cut into the tool's result lines on
        # the shared console; "sh dmesg" shows it
        timeout -k 5 "${TV_GUEST_TIMEOUT:-600}" setpriv --reuid "$(id -u nobody)" --regid "$(id -g nobody)" --clear-groups \
                "$TV_QEMU_BRIDGE" "${GG_MACHINE[@]}" -name "guest=$name,debug-threads=on" -no-reboot -monitor none \
                -serial stdio -S -pidfile "$GG_RUN/$name.pid" -qmp "unix:$GG_RUN/qmp.sock,server=on,wait=off" \
                -kernel "$T/Image" -initrd "$T/initrd" -dtb "$dtb" \
                -append "console=ttyAMA0 panic=-1 loglevel=3" "$@" \
                <&"$GG_IN" >"$T/console.raw" 2>"$T/qemu.err" &
        GG_QEMU_JOB=$!
        wait_for 20 test -s "$GG_RUN/$name.pid" && wait_for 20 test -S "$GG_RUN/qmp.sock"
}

gg_qmp() {
        python3 - "$GG_RUN/qmp.sock" "$@" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
f.readline()
for cmd in ["qmp_capabilities"] + sys.argv[2:]:
    f.write(json.dumps({"execute": cmd}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "error" in r:
            sys.exit("QMP %s: %s" % (cmd, r["error"]))
        if "return" in r:
            break
PY
}

gg_console() { tr -d '\r' <"$T/console.raw"; }
gg_ready() { wait_for "${1:-120}" bash -c "tr -d '\r' <'$T/console.raw' | grep -qx 'R ready'"; }
gg_send() {
        GG_N=$((GG_N + 1))
        printf '%s\n' "$1" >&"$GG_IN"
}
gg_wait() { wait_for "${2:-30}" bash -c "tr -d '\r' <'$T/console.raw' | grep -qx 'R $1 done'"; }
gg_out() { gg_console | sed -n "s/^R $1 //p" | grep -vx 'done' || true; }
gg_cmd() {
        gg_send "$1"
        local rc=0
        gg_wait "$GG_N" "${2:-30}" || rc=1
        GG_OUT=$(gg_out "$GG_N")
        return $rc
}
gg_qemu_wait() {
        local deadline=$((SECONDS + ${1:-60}))
        GG_QEMU_RC=""
        while kill -0 "$GG_QEMU_JOB" 2>/dev/null; do
                [ $SECONDS -ge $deadline ] && return 1
                sleep 0.1
        done
        GG_QEMU_RC=0
        wait "$GG_QEMU_JOB" || GG_QEMU_RC=$?
        GG_QEMU_JOB=""
}
# for the EXIT trap: QEMU is stopped if the test ended early
gg_qemu_kill() {
        if [ -n "$GG_QEMU_JOB" ] && kill -0 "$GG_QEMU_JOB" 2>/dev/null; then
                kill "$GG_QEMU_JOB" 2>/dev/null
                wait "$GG_QEMU_JOB" 2>/dev/null
        fi
        GG_QEMU_JOB=""
}
