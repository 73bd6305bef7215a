# SPDX-License-Identifier: GPL-2.0-or-later
"""libhwbroker never waits for ever on a stalled broker: fake brokers that accept and never
answer, that trickle a reply that never ends, or whose backlog is full; and the real daemon
with the simulated slow bus. The C side is client_timeout.c; a hang fails by the subprocess
timeout."""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest

from hwbtest import HWBROKERD, DaemonTestCase

BIN_DIR = os.environ.get("HWB_CLIENT_BIN_DIR", ".")
PROGRAM = os.path.join(BIN_DIR, "client_timeout")


def run(*args, env=None):
    e = dict(os.environ)
    e.pop("HWBROKER_TIMEOUT_MS", None)
    e.update(env or {})
    return subprocess.run([PROGRAM] + list(args), capture_output=True, timeout=60, env=e)


class FakeBroker:
    """A unix socket that accepts and then answers never ("stall") or too slowly
    ("trickle"), or that never accepts at all ("backlog", with its queue filled)."""

    def __init__(self, behaviour):
        self.dir = tempfile.mkdtemp(prefix="hwbfake-")
        self.path = os.path.join(self.dir, "hwbroker.sock")
        self.behaviour = behaviour
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(0 if behaviour == "backlog" else 64)
        self.held = []
        self.stop = threading.Event()
        self.threads = []
        if behaviour == "backlog":
            self._fill_backlog()
        else:
            self._start(self._accept)

    def _start(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True)
        t.start()
        self.threads.append(t)

    def _fill_backlog(self):
        for _ in range(64):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.setblocking(False)
            try:
                c.connect(self.path)
            except BlockingIOError:
                c.close()
                return
            self.held.append(c)
        raise AssertionError("the backlog never filled")

    def _accept(self):
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.held.append(conn)
            if self.behaviour == "trickle":
                self._start(self._trickle, conn)

    def _trickle(self, conn):
        conn.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 100000\r\n\r\n{")
            while not self.stop.wait(0.05):
                conn.sendall(b" ")
        except OSError:
            pass

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(5)
        for c in self.held:
            c.close()
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class FakeBrokerTest(unittest.TestCase):
    def broker(self, behaviour):
        b = FakeBroker(behaviour)
        self.addCleanup(b.close)
        return b

    def test_stalled_broker(self):
        b = self.broker("stall")
        r = run("stall", b.path)
        self.assertEqual((r.returncode, r.stdout), (0, b"ok\n"), r.stderr)

    def test_reply_that_never_ends(self):
        b = self.broker("trickle")
        r = run("trickle", b.path)
        self.assertEqual((r.returncode, r.stdout), (0, b"ok\n"), r.stderr)

    def test_full_backlog_bounds_connect(self):
        b = self.broker("backlog")
        r = run("backlog", b.path, env={"HWBROKER_TIMEOUT_MS": "200"})
        self.assertEqual((r.returncode, r.stdout), (0, b"ok\n"), r.stderr)


@unittest.skipUnless(os.path.exists(HWBROKERD), "needs hwbrokerd (not built in a client-only tree)")
class SlowBusTest(DaemonTestCase):
    def test_slow_bus(self):
        self.daemon.register("sensor", {"devices": ["/dev/i2c-1"],
                                        "labels": {"io.hwbroker.i2c": "1=0x76"}})
        r = run("slowbus", self.daemon.socket_path("sensor"), self.daemon.admin_path)
        self.assertEqual((r.returncode, r.stdout), (0, b"ok\n"), r.stderr)


if __name__ == "__main__":
    unittest.main()
