# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the fake QEMUs. Answers tegravirtd's three probes from FAKE_VERSION,
# FAKE_DEVICES (-device names) and FAKE_TYPES (extra QOM types for qom-list-types).
# Logs each run to "$0.log" only when that file exists (tests create it in a temp copy).

fake_log() {
        if [ -e "$0.log" ]; then echo "$$ $*" >> "$0.log"; fi
}

fake_qmp() {
        printf '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 0}, "package": "fake"}, "capabilities": ["oob"]}}\n'
        while IFS= read -r line; do
                case "$line" in
                *qmp_capabilities*)
                        printf '{"return": {}}\n' ;;
                *qom-list-types*)
                        # an event between replies, as QEMU may send
                        printf '{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}\n'
                        printf '{"return": [{"name": "virt-machine", "parent": "machine"}'
                        for t in $FAKE_TYPES; do printf ', {"name": "%s", "parent": "sys-bus-device"}' "$t"; done
                        printf ', {"name": "pl011", "parent": "sys-bus-device"}]}\n' ;;
                *quit*)
                        printf '{"timestamp": {"seconds": 1, "microseconds": 3}, "event": "SHUTDOWN", "data": {"guest": false, "reason": "host-qmp-quit"}}\n'
                        printf '{"return": {}}\n'
                        exit 0 ;;
                *)
                        printf '{"error": {"class": "CommandNotFound", "desc": "unknown"}}\n' ;;
                esac
        done
}

fake_main() {
        fake_log "$@"
        case "$*" in
        --version)
                printf 'QEMU emulator version %s\n' "$FAKE_VERSION"
                printf 'Copyright (c) 2003-2025 Fabrice Bellard and the QEMU Project developers\n' ;;
        *"-device help"*)
                printf 'Controller/Bridge/Hub devices:\nname "pci-bridge", bus PCI, desc "Standard PCI Bridge"\n\n'
                printf 'Misc devices:\nname "vfio-pci", bus PCI, desc "VFIO-based PCI device assignment"\n'
                for d in $FAKE_DEVICES; do printf 'name "%s", bus System\n' "$d"; done ;;
        *"-qmp stdio"*)
                fake_qmp ;;
        *)
                echo "fake qemu: unexpected arguments: $*" >&2
                exit 1 ;;
        esac
}
