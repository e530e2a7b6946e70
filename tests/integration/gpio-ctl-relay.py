#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Plays tegravirtd's end of tegravirt-gpio-backend's control channel: runs the backend
# (argv) with one end of a socketpair as fd 5, prints "backend N" (its pid), then every line
# the backend writes on the channel, and sends it every line read on stdin.
import os
import select
import socket
import sys

a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
pid = os.fork()
if pid == 0:
    os.dup2(b.fileno(), 5)
    os.execv(sys.argv[1], sys.argv[1:])
b.close()
print("backend %d" % pid, flush=True)
stdin = sys.stdin.buffer.raw
fds = [a, stdin]
while fds:
    r, _, _ = select.select(fds, [], [])
    if a in r:
        data = a.recv(4096)
        if not data:
            fds.remove(a)
            if stdin in fds:
                fds.remove(stdin)
        else:
            sys.stdout.write(data.decode(errors="replace"))
            sys.stdout.flush()
    if stdin in r:
        data = os.read(stdin.fileno(), 4096)
        if not data:
            fds.remove(stdin)
            a.shutdown(socket.SHUT_WR)
        else:
            a.sendall(data)
os.waitpid(pid, 0)
