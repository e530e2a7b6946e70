# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# In the rig's guest (rig-gpio-backend.sh): tegravirt-gpio-backend on a gpio-sim chip, Linux
# 6.1's gpiolib-cdev underneath, driven by gpio-vu-client (vu-front as QEMU); gpio-sim's sysfs
# is the outside world of the lines (value: what an output drives; pull: what an input reads).
. /lib/rig/lib.sh
rig_check "load configfs and gpio-sim" rig_load_gpio_sim
G=/sys/kernel/config/gpio-sim/tvg
mkdir $G $G/bank0
echo 8 >$G/bank0/num_lines
echo 1 >$G/live
CHIP=$(cat $G/bank0/chip_name)
SIM=/sys/devices/platform/$(cat $G/dev_name)/$CHIP
rig_check "a gpio-sim chip with 8 lines: /dev/$CHIP" test -c "/dev/$CHIP"
# guest lines 0, 1, 2 = host offsets 2, 5, 6
./tegravirt-gpio-backend --domain rig --socket /tmp/gpio.sock --chip "/dev/$CHIP" \
        --line 0:2:alpha --line 0:5:beta --line 0:6:gamma --uid 65534 --gid 65534 --peer-uid 0 2>/tmp/be.log &
BE=$!
n=0
# it binds the socket, then confines itself and says "serving"
while ! grep -q ': serving 3 lines' /tmp/be.log 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
rig_check "the backend listens (uid 65534, seccomp, its three lines requested)" test -S /tmp/gpio.sock
./tvgpio-guest "chip /dev/$CHIP" lines </dev/null >/tmp/lines
rig_check "the kernel's line info: offsets 2, 5, 6 used by tegravirt:rig, the others free" sh -c "
        grep -c 'used=1 .* consumer=tegravirt:rig\$' /tmp/lines | grep -qx 3 &&
        grep -q '^R 2 line 2 .*used=1' /tmp/lines && grep -q '^R 2 line 5 .*used=1' /tmp/lines &&
        grep -q '^R 2 line 6 .*used=1' /tmp/lines && [ \$(grep -c 'used=0' /tmp/lines) = 5 ]"
rig_diag "$(cat /tmp/lines)"
rig_check "  ... the backend runs as 65534 with no_new_privs and seccomp" sh -c "
        grep -q '^Uid:[[:space:]]*65534' /proc/$BE/status && grep -q '^NoNewPrivs:[[:space:]]*1' /proc/$BE/status &&
        grep -q '^Seccomp:[[:space:]]*2' /proc/$BE/status"
rig_diag "$(grep -E '^(Uid|NoNewPrivs|Seccomp|CapEff)' /proc/$BE/status)"

mkfifo /tmp/c.in /tmp/c.out
./gpio-vu-client /tmp/gpio.sock </tmp/c.in >/tmp/c.out 2>/tmp/c.err &
CL=$!
exec 3>/tmp/c.in 4</tmp/c.out
vu() { echo "$*" >&3; read -r ANS <&4; echo "$ANS" >>/tmp/c.log; }
is() { [ "$ANS" = "$1" ]; }
sim_value() { cat "$SIM/sim_gpio$1/value"; }
vu connect
rig_check "vu-front connects and negotiates VERSION_1, PROTOCOL_FEATURES, F_IRQ ($ANS)" is "connect: ok features=0x140000001"
vu config
rig_check "config: ngpio=3 ($ANS)" sh -c "echo '$ANS' | grep -q '^config: ngpio=3 '"
vu names
rig_check "names: alpha, beta, gamma ($ANS)" is "names: st=0 len=18 alpha,beta,gamma"
vu req set-dir 0 1
a=$ANS
vu req set 0 1
rig_check "guest line 0 out, 1: the kernel drives offset 2 high (gpio-sim value $(sim_value 2))" sh -c "[ '$a' = 'req: st=0 val=0 len=2' ] && [ '$ANS' = 'req: st=0 val=0 len=2' ] && [ \$(cat $SIM/sim_gpio2/value) = 1 ]"
vu req set 0 0
rig_check "  ... set 0: low ($(sim_value 2))" test "$(sim_value 2)" = 0
vu req get-dir 0 0 2
rig_check "  ... GET_DIRECTION says out ($ANS)" is "req: st=0 val=1 len=2"
vu req set-dir 1 2
echo pull-up >"$SIM/sim_gpio5/pull"
vu req get 1 0 2
a=$ANS
echo pull-down >"$SIM/sim_gpio5/pull"
vu req get 1 0 2
rig_check "guest line 1 in: reads offset 5's pull-up as 1, pull-down as 0 ($a / $ANS)" sh -c "
        [ '$a' = 'req: st=0 val=1 len=2' ] && [ '$ANS' = 'req: st=0 val=0 len=2' ]"
vu req set-dir 2 2
vu req irq 2 1
a=$ANS
vu evq 2
vu ev 300
b=$ANS
echo pull-up >"$SIM/sim_gpio6/pull"
vu ev 5000
rig_check "guest line 2 rising-edge IRQ: nothing before, the event when offset 6 is pulled up ($a / $b / $ANS)" sh -c "
        [ '$a' = 'req: st=0 val=0 len=2' ] && [ '$b' = 'ev: none' ] && [ '$ANS' = 'ev: gpio=2 status=1 len=1' ]"
echo pull-down >"$SIM/sim_gpio6/pull"
vu evq 2
vu ev 1000
rig_check "  ... pulled down again: no event for a rising-edge line ($ANS)" is "ev: none"
vu req irq 2 0
vu ev 3000
rig_check "  ... IRQ type none returns the queued buffer INVALID ($ANS)" is "ev: gpio=2 status=0 len=1"
vu req irq 2 4
vu evq 2
vu ev 300
a=$ANS
echo pull-up >"$SIM/sim_gpio6/pull"
vu ev 5000
rig_check "level-high IRQ on line 2: none while low, the event while pulled up ($a / $ANS)" sh -c "
        [ '$a' = 'ev: none' ] && [ '$ANS' = 'ev: gpio=2 status=1 len=1' ]"
vu evq 2
vu ev 5000
rig_check "  ... re-armed while the level holds: it fires again ($ANS)" is "ev: gpio=2 status=1 len=1"
vu req irq 2 0
vu req get 3 0 2
a=$ANS
vu req set 200 1
rig_check "lines outside the three: ERR (get 3: $a; set 200: $ANS)" sh -c "
        [ '$a' = 'req: st=1 val=0 len=2' ] && [ '$ANS' = 'req: st=1 val=0 len=2' ]"
rig_check "  ... no other host line changed: offsets 0, 1, 3, 4, 7 read 0 in gpio-sim" sh -c "
        for o in 0 1 3 4 7; do [ \$(cat $SIM/sim_gpio\$o/value) = 0 ] || exit 1; done"
exec 3>&- 4<&-
kill -9 $BE
wait $BE 2>/dev/null
sleep 0.5
./tvgpio-guest "chip /dev/$CHIP" lines </dev/null >/tmp/lines
rig_check "the backend killed: the kernel released its three lines" sh -c "[ \$(grep -c 'used=0' /tmp/lines) = 8 ]"
kill $CL 2>/dev/null
rig_diag "$(cat /tmp/be.log)"
# the bench on the real chardev: SET_VALUE through a backend on offset 3 vs the line provider
# directly on offset 4 (a figure, not a check)
N=$(sed -n 's/.*tvbench=\([0-9]*\).*/\1/p' /proc/cmdline)
if [ "${N:-0}" -gt 0 ]; then
        ./tegravirt-gpio-backend --domain bench --socket /tmp/bench.sock --chip "/dev/$CHIP" --line 0:3:bench \
                --uid 65534 --gid 65534 --peer-uid 0 2>/tmp/bench-be.log &
        BB=$!
        n=0
        while ! grep -q ': serving 1 lines' /tmp/bench-be.log 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
        echo "# rig bench (gpio-sim, TCG, $N requests, best of 5): $(./bench-gpio-backend "/dev/$CHIP" 4 /tmp/bench.sock "$N" 2>&1)"
        kill $BB 2>/dev/null
fi
rig_done
