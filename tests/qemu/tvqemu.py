# SPDX-License-Identifier: GPL-2.0-or-later
"""Helpers of the tegravirt-bpmp QEMU tests: TAP output (tests/lib/tap.sh's rules), a QEMU
run with -accel qtest, its qtest and QMP sockets, and a stand-in backend that speaks the
bridge wire protocol v1 (bpmp-wire-spec) in a thread of the test."""

import os
import re
import socket
import struct
import subprocess
import sys
import threading
import time

# --------------------------------------------------------------------------- TAP

class Tap:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            print("# " + line if line else "#", flush=True)

    def ok(self, cond, what, detail=None):
        if cond:
            self.passed += 1
            print("ok - " + what, flush=True)
        else:
            self.failed += 1
            print("not ok - " + what, flush=True)
            if detail is not None:
                self.diag(detail)
        return cond

    def skip_all(self, reason):
        if os.environ.get("TV_TEST_NO_SKIP"):
            print("not ok - cannot run: %s (TV_TEST_NO_SKIP makes a skip a failure)" % reason)
            print("1..%d" % (self.passed + self.failed + 1))
            sys.exit(1)
        print("1..0 # SKIP " + reason)
        sys.exit(0)

    def finish(self):
        n = self.passed + self.failed
        print("1..%d" % n, flush=True)
        sys.exit(1 if self.failed or not n else 0)

# ------------------------------------------------------------ window and protocol

# the window (bpmp-guest-window.h; tests/qemu/window-layout.py checks the device agrees)
TX, RX, TX_SIZE, RX_SIZE, RET, MRQ, WIN_SIZE = 0x000, 0x200, 0x400, 0x408, 0x410, 0x500, 0x600
RET_UNSET = 0x7eadbeef
MAGIC = 0x50425654
HDR = struct.Struct("<IHHIIII")      # request: magic version type seq mrq tx_size rx_size
RHDR = struct.Struct("<IHHIiiI")     # reply: magic version type seq err ret rx_size


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError("peer closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


class StandInBackend:
    """Listens on path and serves one connection at a time. handler(mrq, tx, rx_size) returns
    (err, ret, rx_bytes), or the string "close" (drop the connection without a reply, like a
    backend that dies mid-transfer), or ("late", seconds, (err, ret, rx)) to answer only after
    seconds. Every request is recorded in .requests as (seq, mrq, tx bytes, rx_size)."""

    def __init__(self, path, handler=None):
        self.path = path
        self.handler = handler or (lambda mrq, tx, rx_size: (0, 0, tx[:rx_size]))
        self.requests = []
        self.connections = 0
        self.bad = []               # protocol violations seen from QEMU
        self.cond = threading.Condition()
        self.conn = None
        self.stopping = False
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.cond:
                self.conn = conn
                self.connections += 1
                self.cond.notify_all()
            try:
                self._serve(conn)
            except (EOFError, OSError):
                pass
            finally:
                conn.close()
                with self.cond:
                    if self.conn is conn:
                        self.conn = None
                    self.cond.notify_all()

    def _serve(self, conn):
        while True:
            magic, ver, typ, seq, mrq, tx_size, rx_size = HDR.unpack(recv_exact(conn, HDR.size))
            if magic != MAGIC or ver != 1 or typ != 1 or tx_size > 120 or rx_size > 120:
                self.bad.append((magic, ver, typ, tx_size, rx_size))
                return
            tx = recv_exact(conn, tx_size)
            with self.cond:
                self.requests.append((seq, mrq, tx, rx_size))
                self.cond.notify_all()
            what = self.handler(mrq, tx, rx_size)
            if what == "close":
                return
            delay = 0
            if isinstance(what, tuple) and what and what[0] == "late":
                _, delay, what = what
            err, ret, rx = what
            if delay:
                time.sleep(delay)
            conn.sendall(RHDR.pack(MAGIC, 1, 2, seq, err, ret, len(rx)) + rx)

    def wait_connected(self, count=1, timeout=10):
        """Waits until the count-th connection is up."""
        with self.cond:
            return self.cond.wait_for(lambda: self.connections >= count and self.conn is not None, timeout)

    def stop(self):
        """Closes the listener and the connection (the backend process "dies")."""
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        with self.cond:
            if self.conn:
                try:
                    self.conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.thread.join(5)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

# ------------------------------------------------------------------------- QEMU

class Qemu:
    """qemu-system-aarch64 -M virt -accel qtest with a qtest socket (QEMU connects to ours)
    and a QMP socket (QEMU listens)."""

    def __init__(self, binary, workdir, extra_args, name="qemu", user=(None, None)):
        self.workdir = workdir
        self.qtest_path = os.path.join(workdir, name + ".qtest")
        self.qmp_path = os.path.join(workdir, name + ".qmp")
        self.log_path = os.path.join(workdir, name + ".log")
        for p in (self.qtest_path, self.qmp_path):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(self.qtest_path)
        if user[0] is not None:
            # QEMU runs as the domain's user, as under libvirt: it must reach our socket
            os.chown(self.qtest_path, user[0], user[1])
        lsock.listen(1)
        lsock.settimeout(30)
        self.argv = [binary, "-M", "virt", "-accel", "qtest", "-nodefaults", "-display", "none",
                     "-qtest", "unix:" + self.qtest_path, "-qtest-log", "/dev/null",
                     "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path] + list(extra_args)
        self.log = open(self.log_path, "wb")
        creds = {} if user[0] is None else {"user": user[0], "group": user[1], "extra_groups": []}
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log, **creds)
        try:
            self.qt, _ = lsock.accept()
        except socket.timeout:
            self.proc.kill()
            raise RuntimeError("QEMU did not connect its qtest socket: " + self.stderr())
        finally:
            lsock.close()
        self.qt_buf = b""
        self.qmp = None

    def stderr(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def cmd(self, line, timeout=30):
        """One qtest command; returns the reply line after "OK" (asynchronous IRQ lines skipped).
        timeout bounds the wait: a hung device shows as an exception, not a hung test."""
        self.qt.settimeout(timeout)
        self.qt.sendall((line + "\n").encode())
        while True:
            while b"\n" not in self.qt_buf:
                chunk = self.qt.recv(4096)
                if not chunk:
                    raise EOFError("QEMU closed the qtest socket: " + self.stderr())
                self.qt_buf += chunk
            reply, self.qt_buf = self.qt_buf.split(b"\n", 1)
            reply = reply.decode()
            if reply.startswith("IRQ"):
                continue
            if not reply.startswith("OK"):
                raise RuntimeError("qtest %r: %s" % (line, reply))
            return reply[2:].strip()

    def writel(self, addr, val):
        self.cmd("writel 0x%x 0x%x" % (addr, val))

    def writeq(self, addr, val):
        self.cmd("writeq 0x%x 0x%x" % (addr, val))

    def readl(self, addr):
        return int(self.cmd("readl 0x%x" % addr), 16)

    def readq(self, addr):
        return int(self.cmd("readq 0x%x" % addr), 16)

    def qmp_cmd(self, execute, **arguments):
        if self.qmp is None:
            deadline = time.time() + 10
            while True:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(self.qmp_path)
                    break
                except OSError:
                    s.close()
                    if time.time() > deadline:
                        raise
                    time.sleep(0.05)
            self.qmp = s.makefile("rw")
            self.qmp.readline()                     # greeting
            self._qmp_send("qmp_capabilities", {})
        return self._qmp_send(execute, arguments)

    def _qmp_send(self, execute, arguments):
        import json
        self.qmp.write(json.dumps({"execute": execute, "arguments": arguments}) + "\n")
        self.qmp.flush()
        while True:
            msg = json.loads(self.qmp.readline())
            if "return" in msg:
                return msg["return"]
            if "error" in msg:
                raise RuntimeError("QMP %s: %s" % (execute, msg["error"]))

    def hmp(self, line):
        return self.qmp_cmd("human-monitor-command", **{"command-line": line})

    def mtree_windows(self):
        """(guest PA, size) of every tegravirt-bpmp region in `info mtree` (the CPUs' and
        "memory" address spaces share one tree, printed once or more: counted once)."""
        text = self.hmp("info mtree")
        out = []
        for m in re.finditer(r"^\s*([0-9a-f]+)-([0-9a-f]+) \(prio -?\d+, i/o\): tegravirt-bpmp\s*$", text, re.M):
            w = (int(m.group(1), 16), int(m.group(2), 16) - int(m.group(1), 16) + 1)
            if w not in out:
                out.append(w)
        return out

    def close(self):
        """quit through QMP (closing the qtest socket alone does not end QEMU)."""
        try:
            self.qmp_cmd("quit")
        except (OSError, RuntimeError, ValueError):
            pass
        try:
            self.qt.close()
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def bridge_args(sock_path, chardev_id="tvbpmp0", extra=""):
    """The command-line pair of one bridge, as the domain XML has it (bpmp-wire-spec)."""
    return ["-chardev", "socket,id=%s,path=%s,reconnect=1" % (chardev_id, sock_path),
            "-device", "tegravirt-bpmp,chardev=%s%s" % (chardev_id, extra)]


def put_bytes(q, addr, data):
    """data into guest memory as the guest proxy writes it: 8-byte stores, a 4/8-byte tail."""
    i = 0
    while len(data) - i >= 8:
        q.writeq(addr + i, struct.unpack_from("<Q", data, i)[0])
        i += 8
    rest = data[i:]
    if rest:
        if len(rest) > 4:
            q.writeq(addr + i, struct.unpack("<Q", rest.ljust(8, b"\0"))[0])
        else:
            q.writel(addr + i, struct.unpack("<I", rest.ljust(4, b"\0"))[0])


def get_bytes(q, addr, n):
    out = b""
    while len(out) < n:
        out += struct.pack("<Q", q.readq(addr + len(out)))
    return out[:n]


def xfer(q, base, mrq, tx, rx_size):
    """One transfer the way tegra_bpmp_window_xfer() does it. Returns (ret, rx_size, rx) as read
    back; ret == RET_UNSET means the bridge did not answer."""
    if tx:
        put_bytes(q, base + TX, tx)
    q.writeq(base + TX_SIZE, len(tx))
    q.writeq(base + RX_SIZE, rx_size)
    q.writel(base + RET, RET_UNSET)
    q.writel(base + MRQ, mrq)
    ret = q.readl(base + RET)
    got = q.readq(base + RX_SIZE)
    rx = get_bytes(q, base + RX, min(got, rx_size)) if ret != RET_UNSET and got else b""
    return ret, got, rx


def find_qemu(tap):
    qemu = os.environ.get("TV_QEMU_BRIDGE", "")
    if not qemu or not os.access(qemu, os.X_OK):
        tap.skip_all("no QEMU with the tegravirt-bpmp bridge (TV_QEMU_BRIDGE=%r; configure with -Dqemu=enabled)"
                     % qemu)
    return qemu


# --------------------------------------------------- stand-in vhost-user GPIO backend

class VhostUserGpioStandIn:
    """A minimal vhost-user GPIO back end: answers only what QEMU 7.2 asks while
    vhost-user-gpio-device is realized (features VERSION_1 | GPIO_F_IRQ | PROTOCOL_FEATURES,
    protocol features CONFIG, queue count, config with ngpio), for tests that need the device
    to exist, not to work. Listens on path; .seen lists the request numbers received."""
    F_IRQ, F_VERSION_1, F_PROTOCOL = 0, 32, 30
    PROTO_CONFIG = 9
    GET_FEATURES, GET_PROTOCOL, GET_QUEUE_NUM, GET_CONFIG = 1, 15, 17, 24
    REPLY_FLAGS = 0x1 | 0x4

    def __init__(self, path, ngpio=8):
        self.path = path
        self.ngpio = ngpio
        self.seen = []
        self.lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.lsock.bind(path)
        self.lsock.listen(1)
        threading.Thread(target=self._serve, daemon=True).start()

    def close(self):
        self.lsock.close()

    def _serve(self):
        try:
            conn, _ = self.lsock.accept()
        except OSError:
            return
        with conn:
            while True:
                try:
                    msg, anc, _, _ = conn.recvmsg(12, socket.CMSG_SPACE(8 * 4))
                except OSError:
                    return
                if len(msg) < 12:
                    return
                for level, kind, data in anc:          # vring call/kick fds: not used here
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        for fd in struct.unpack("%di" % (len(data) // 4), data[:len(data) // 4 * 4]):
                            os.close(fd)
                req, flags, size = struct.unpack("<III", msg)
                payload = b""
                while len(payload) < size:
                    chunk = conn.recv(size - len(payload))
                    if not chunk:
                        return
                    payload += chunk
                self.seen.append(req)
                reply = None
                if req == self.GET_FEATURES:
                    reply = struct.pack("<Q", 1 << self.F_VERSION_1 | 1 << self.F_IRQ | 1 << self.F_PROTOCOL)
                elif req == self.GET_PROTOCOL:
                    reply = struct.pack("<Q", 1 << self.PROTO_CONFIG)
                elif req == self.GET_QUEUE_NUM:
                    reply = struct.pack("<Q", 2)
                elif req == self.GET_CONFIG:
                    off, sz, fl = struct.unpack_from("<III", payload)
                    cfg = struct.pack("<HxxI", self.ngpio, 0).ljust(sz, b"\0")[:sz]   # no line names
                    reply = struct.pack("<III", off, sz, fl) + cfg
                if reply is not None:
                    conn.sendall(struct.pack("<III", req, self.REPLY_FLAGS, len(reply)) + reply)
