# SPDX-License-Identifier: GPL-2.0-or-later
"""The hwbroker CLI as a shell script uses it: plain output, --json, exit codes, --help."""
import json
import re
import os
import subprocess
import tempfile
import unittest

from hwbtest import HWBROKER_CLI, DaemonTestCase, SOURCE_DIR

COMPOSE = os.path.join(SOURCE_DIR, "tests", "cli", "fixtures", "release.yml")


class CliTest(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.daemon.register("sensor", {"devices": ["/dev/gpiochip0"],
                                        "labels": {"io.hwbroker.host": "hostname,time,reboot",
                                                   "io.hwbroker.units": "my-agent.service"}})

    def cli(self, *args, **kw):
        kw.setdefault("service", "sensor")
        return self.daemon.cli(*args, **kw)

    def test_whoami_plain_and_json(self):
        r = self.cli("whoami")
        self.assertEqual((r.returncode, r.stdout), (0, b"sensor\n"))
        j = json.loads(self.cli("--json", "whoami").stdout)
        self.assertEqual(j["service"], "sensor")
        env = dict(os.environ, HWBROKER_SOCKET=self.daemon.socket_path("sensor"))
        r = subprocess.run([HWBROKER_CLI, "whoami"], env=env, capture_output=True)
        self.assertEqual(r.stdout, b"sensor\n")

    def test_exit_codes(self):
        self.assertEqual(self.cli("gpio", "set", "gpiochip1", "0=1").returncode, 3)
        self.daemon.register("other", {"devices": ["/dev/gpiochip0"]})
        self.assertEqual(self.cli("gpio", "set", "gpiochip0", "5=1", service="other").returncode, 0)
        self.assertEqual(self.cli("gpio", "set", "gpiochip0", "5=0").returncode, 4)
        # Outside the service's grants: refused (3), whether or not the chip exists.
        self.assertEqual(self.cli("gpio", "get", "gpiochip9", "1").returncode, 3)
        self.assertEqual(self.cli("gpio", "frobnicate").returncode, 2)
        self.assertEqual(self.cli("nosuchcommand").returncode, 2)
        self.assertEqual(self.cli("--nosuchoption", "whoami").returncode, 2)
        r = subprocess.run([HWBROKER_CLI, "--socket", "/nonexistent", "whoami"], capture_output=True)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"cannot connect", r.stderr)

    def test_help_everywhere(self):
        r = subprocess.run([HWBROKER_CLI, "--help"], capture_output=True)
        self.assertEqual(r.returncode, 0)
        for cmd in ["whoami", "gpio", "i2c", "uart", "host", "admin", "policy"]:
            self.assertIn(cmd.encode(), r.stdout)
            r2 = subprocess.run([HWBROKER_CLI, cmd, "--help"], capture_output=True)
            self.assertEqual(r2.returncode, 0, cmd)
            self.assertIn(b"Usage: hwbroker", r2.stdout, cmd)
        self.assertEqual(subprocess.run([HWBROKER_CLI], capture_output=True).returncode, 2)

    def test_host_commands_on_the_simulated_host(self):
        self.assertEqual(self.cli("host", "hostname").stdout, b"hwbroker-sim\n")
        self.assertEqual(self.cli("host", "hostname", "kiosk-7").returncode, 0)
        self.assertEqual(self.cli("host", "hostname").stdout, b"kiosk-7\n")
        r = self.cli("host", "hostname", "bad_name")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"invalid hostname", r.stderr)
        self.assertIn(b"timezone UTC", self.cli("host", "time").stdout)
        self.assertEqual(self.cli("host", "restart", "my-agent.service").returncode, 0)
        self.assertEqual(self.cli("host", "restart", "sshd.service").returncode, 3)
        self.assertEqual(self.cli("host", "reboot", "--reason", "test").returncode, 0)
        self.assertEqual(self.cli("host", "reboot").returncode, 4)  # already under way
        self.assertEqual(self.cli("host", "poweroff").returncode, 3)  # not granted
        actions = self.daemon.admin().get("/v1/sim/host/actions").json["actions"]
        self.assertEqual([a["action"] for a in actions],
                         ["get_hostname", "set_hostname", "get_hostname", "get_time",
                          "restart_unit", "reboot"])
        audit = self.cli("admin", "audit", "--service", "sensor", admin=True, service=None)
        self.assertEqual(audit.returncode, 0, audit.stderr)
        self.assertIn(b" allow reboot POST /v1/host/reboot", audit.stdout)
        self.assertIn(b" deny host POST /v1/host/poweroff: host poweroff", audit.stdout)
        self.assertIn(b" done restart_unit POST /v1/host/units/my-agent.service/restart",
                      audit.stdout)
        self.assertNotIn(b"(null)", audit.stdout)

    def test_admin_commands(self):
        r = self.cli("admin", "services", service=None, admin=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(b"sensor\t"))
        r = self.cli("admin", "show", "sensor", service=None, admin=True)
        self.assertIn(b"gpiochip0 all lines", r.stdout)
        self.assertIn(b"devices: /dev/gpiochip0", r.stdout)
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump({"privileged": True}, f)
            f.flush()
            r = self.cli("admin", "register", "kiosk", f.name, service=None, admin=True)
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"[BROAD]", self.cli("admin", "show", "kiosk", service=None, admin=True).stdout)
        self.assertEqual(self.cli("admin", "remove", "kiosk", service=None, admin=True).returncode, 0)
        self.assertEqual(self.cli("admin", "show", "kiosk", service=None, admin=True).returncode, 1)
        r = self.cli("admin", "apply", COMPOSE, service=None, admin=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"env:    HWBROKER_SOCKET=/run/hwbroker/hwbroker.sock", r.stdout)
        self.assertIn(b"removed sensor", r.stdout)
        names = sorted(s["name"] for s in self.daemon.admin().get("/v1/services").json["services"])
        self.assertEqual(names, ["gps", "kiosk", "sensor-svc"])
        self.assertEqual(self.cli("admin", "health", service=None, admin=True).stdout, b"ok\n")


if __name__ == "__main__":
    unittest.main()


class PolicyDeriveTest(unittest.TestCase):
    """hwbroker policy derive works offline, without a daemon."""

    def run_cli(self, *args):
        return subprocess.run([HWBROKER_CLI] + list(args), capture_output=True, timeout=30)

    def test_table_and_json(self):
        r = self.run_cli("policy", "derive", COMPOSE)
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("service sensor-svc", out)
        self.assertIn("bus 1 addresses 0x76", out)
        self.assertIn("label io.hwbroker.i2c (narrowing devices: /dev/i2c-1:/dev/i2c-1:rw)", out)
        self.assertIn("[BROAD]", out)  # the kiosk
        j = json.loads(self.run_cli("policy", "derive", COMPOSE, "gps", "--json").stdout)
        self.assertEqual([g["resource"] for g in j["gps"]["grants"]], ["ttyACM0"])
        self.assertEqual(self.run_cli("policy", "derive", COMPOSE, "nosuch").returncode, 1)

    def test_errors_name_file_line_column_and_label(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            f.write("services:\n  a:\n    devices: [/dev/i2c-1\n")
            f.flush()
            r = self.run_cli("policy", "derive", f.name)
            self.assertEqual(r.returncode, 1)
            self.assertRegex(r.stderr.decode(), re.escape(f.name) + r":\d+:\d+: ")
        with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
            f.write("services:\n  a:\n    labels:\n      io.hwbroker.i2c: '1=0x76,zz'\n")
            f.flush()
            r = self.run_cli("policy", "derive", f.name)
            self.assertEqual(r.returncode, 1)
            self.assertIn(b"service a: label io.hwbroker.i2c (position 7)", r.stderr)
