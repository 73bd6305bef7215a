# SPDX-License-Identifier: GPL-2.0-or-later
"""The far end of the VM's ttyS1: a loopback cable (echoes every byte)."""
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
try:
    while True:
        data = s.recv(65536)
        if not data:
            break
        s.sendall(data)
except OSError:
    pass
