# SPDX-License-Identifier: GPL-2.0-or-later
"""Every command that reads a file takes - for standard input, with the same result as the
file itself."""
import json
import os
import subprocess
import tempfile
import time
import unittest

from hwbtest import HWBROKER_CLI, SOURCE_DIR, DaemonTestCase

COMPOSE = os.path.join(SOURCE_DIR, "tests", "cli", "fixtures", "release.yml")


def compose_text():
    with open(COMPOSE, "rb") as f:
        return f.read()


class PolicyDeriveStdinTest(unittest.TestCase):
    def run_cli(self, *args, input=None):
        return subprocess.run([HWBROKER_CLI] + list(args), input=input, capture_output=True,
                              timeout=30)

    def test_same_as_the_file(self):
        from_file = self.run_cli("policy", "derive", COMPOSE)
        self.assertEqual(from_file.returncode, 0, from_file.stderr)
        from_stdin = self.run_cli("policy", "derive", "-", input=compose_text())
        self.assertEqual((from_stdin.returncode, from_stdin.stdout), (0, from_file.stdout))
        j = self.run_cli("policy", "derive", "-", "gps", "--json", input=compose_text())
        self.assertEqual(json.loads(j.stdout), json.loads(
            self.run_cli("policy", "derive", COMPOSE, "gps", "--json").stdout))

    def test_errors_name_stdin(self):
        r = self.run_cli("policy", "derive", "-", input=b"services:\n  a:\n    devices: [/dev/i2c-1\n")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr.decode(), r"^hwbroker: <stdin>:\d+:\d+: ")
        r = self.run_cli("policy", "derive", "/nonexistent/compose.yml")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"/nonexistent/compose.yml", r.stderr)


class StdinTest(DaemonTestCase):
    def test_admin_apply_and_register(self):
        r = self.daemon.cli("admin", "apply", "-", admin=True, input=compose_text())
        self.assertEqual(r.returncode, 0, r.stderr)
        names = sorted(s["name"] for s in self.daemon.admin().get("/v1/services").json["services"])
        self.assertEqual(names, ["gps", "kiosk", "sensor-svc"])
        r = self.daemon.cli("admin", "register", "probe", "-", admin=True,
                            input=json.dumps({"devices": ["/dev/ttyS0"]}).encode())
        self.assertEqual(r.returncode, 0, r.stderr)
        grants = self.daemon.admin().get("/v1/services/probe").json["policy"]["grants"]
        self.assertEqual([g["resource"] for g in grants], ["ttyS0"])

    def read_port(self, svc, n):
        """What ttyS0 (a loopback) sent back, n bytes, within a bounded time."""
        got, deadline = b"", time.monotonic() + 10
        while len(got) < n and time.monotonic() < deadline:
            r = svc.get("/v1/uart/ttyS0/read?max=%d&timeout_ms=200" % (n - len(got)))
            self.assertEqual(r.status, 200, r)
            got += r.data
        return got

    def test_uart_write_from_stdin_and_files(self):
        self.daemon.register("modem", {"devices": ["/dev/ttyS0"]})
        svc = self.daemon.service("modem")
        self.assertEqual(svc.put("/v1/uart/ttyS0/config", body={"baud": 115200}).status, 200)
        payload = bytes(range(256)) * 3  # NULs and all: binary safe
        r = self.daemon.cli("uart", "write", "ttyS0", "-", service="modem", input=payload)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.read_port(svc, len(payload)), payload)
        r = self.daemon.cli("uart", "write", "ttyS0", "--file", "-", service="modem",
                            input=b"from stdin\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.read_port(svc, 11), b"from stdin\n")
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"\x00from a file\xff")
            f.flush()
            r = self.daemon.cli("uart", "write", "ttyS0", "--file", f.name, service="modem")
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.read_port(svc, 13), b"\x00from a file\xff")
        r = self.daemon.cli("uart", "write", "ttyS0", "--file", "/nonexistent", service="modem")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"/nonexistent", r.stderr)
        r = self.daemon.cli("uart", "write", "ttyS0", "x", "--file", "-", service="modem")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"exclude each other", r.stderr)


if __name__ == "__main__":
    unittest.main()
