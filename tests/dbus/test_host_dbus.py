# SPDX-License-Identifier: GPL-2.0-or-later
"""Host actions against real D-Bus peers: a private dbus-daemon with a
system-bus configuration and python-dbusmock's logind, timedated and systemd
templates plus a plain mock for hostname1. hwbrokerd runs the simulated board
with the real D-Bus host backend (--host dbus)."""
import os
import subprocess
import threading
import time
import unittest

import dbus
import dbusmock

from hwbtest import Client, Daemon

MOCK = "org.freedesktop.DBus.Mock"
HOSTNAME1 = ("org.freedesktop.hostname1", "/org/freedesktop/hostname1", "org.freedesktop.hostname1")

ADMIN_REBOOT = {"cap_add": ["SYS_BOOT"]}
DBUS_FEATURE = {"labels": {"io.balena.features.dbus": "1", "io.hwbroker.units": "my-agent.service"}}


def wait_calls(obj, method, n=1, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        calls = [c for c in obj.GetCalls(dbus_interface=MOCK) if c[1] == method]
        if len(calls) >= n:
            return calls
        time.sleep(0.02)
    return [c for c in obj.GetCalls(dbus_interface=MOCK) if c[1] == method]


class HostDbusTest(dbusmock.DBusTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_system_bus()
        cls.dbus_con = cls.get_dbus(system_bus=True)

    def setUp(self):
        null = open(os.devnull, "wb")
        self.addCleanup(null.close)
        self.logind, self.logind_obj = self.spawn_server_template("logind", {}, stdout=null)
        self.timedated, self.timedated_obj = self.spawn_server_template("timedated", {}, stdout=null)
        self.systemd, self.systemd_obj = self.spawn_server_template("systemd", {}, stdout=null)
        self.systemd_obj.AddMethod("org.freedesktop.systemd1.Manager", "RestartUnit", "ss", "o",
                                   "ret = '/org/freedesktop/systemd1/job/42'", dbus_interface=MOCK)
        self.hostnamed = self.spawn_server(*HOSTNAME1, system_bus=True, stdout=null)
        self.hostname_obj = self.dbus_con.get_object(HOSTNAME1[0], HOSTNAME1[1])
        self.hostname_obj.AddProperty(HOSTNAME1[2], "Hostname", "mockhost", dbus_interface=MOCK)
        self.hostname_obj.AddMethod(HOSTNAME1[2], "SetStaticHostname", "sb", "", "",
                                    dbus_interface=MOCK)
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            rc = self.daemon.stop()
            log = self.daemon.read_log()
            self.assertEqual(rc, 0, log[-3000:])
            self.assertNotIn("ERROR: AddressSanitizer", log)
        for p in (self.logind, self.timedated, self.systemd, self.hostnamed):
            p.terminate()
            p.wait()

    def start(self, *extra):
        self.daemon = Daemon(("--sim", "--host", "dbus", "--dbus-timeout-ms", "1000") + extra)
        self.daemon.start()
        self.daemon.register("booter", ADMIN_REBOOT)
        self.daemon.register("netcfg", DBUS_FEATURE)
        self.daemon.register("nothing", {"devices": ["/dev/gpiochip0"]})
        return self.daemon

    def test_reboot_reaches_logind_after_the_202(self):
        d = self.start()
        r = d.service("booter").post("/v1/host/reboot", body={"reason": "firmware updated"})
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json, {"action": "reboot", "status": "accepted"})
        calls = wait_calls(self.logind_obj, "Reboot")
        self.assertEqual(len(calls), 1)
        self.assertEqual(list(calls[0][2]), [False])  # non-interactive
        # Under way: a second reboot or a poweroff is refused.
        self.assertEqual(d.service("booter").post("/v1/host/reboot").status, 409)
        self.assertEqual(d.service("netcfg").post("/v1/host/poweroff").status, 409)
        self.assertEqual(len(wait_calls(self.logind_obj, "PowerOff", timeout=0.3)), 0)
        records = d.admin().get("/v1/audit?service=booter").json["records"]
        self.assertTrue(any(r.get("action") == "reboot" and r["event"] == "allow"
                            and r["args"]["reason"] == "firmware updated" for r in records), records)
        done = [r for r in records if r["event"] == "done"]
        self.assertEqual(len(done), 1, records)
        # An outcome stands on its own: who asked, from where, with which request.
        self.assertEqual(done[0]["action"], "reboot")
        self.assertEqual(done[0]["path"], "/v1/host/reboot")
        self.assertEqual(done[0]["method"], "POST")
        self.assertGreater(done[0]["peer"]["pid"], 0)
        self.assertGreater(done[0]["request"], 0)

    def test_poweroff(self):
        d = self.start()
        self.assertEqual(d.service("booter").post("/v1/host/poweroff").status, 202)
        calls = wait_calls(self.logind_obj, "PowerOff")
        self.assertEqual([list(c[2]) for c in calls], [[False]])

    def test_refusals_reach_nothing(self):
        d = self.start()
        nothing = d.service("nothing")
        self.assertEqual(nothing.post("/v1/host/reboot").status, 403)
        self.assertEqual(nothing.get("/v1/host/hostname").status, 403)
        r = nothing.put("/v1/host/hostname", body={"hostname": "evil"})
        self.assertEqual(r.status, 403)
        self.assertIn("hostname", r.json["error"]["message"])
        self.assertIn("io.hwbroker.host", r.json["error"]["hint"])
        self.assertEqual(d.service("netcfg").post("/v1/host/units/other.service/restart").status, 403)
        time.sleep(0.2)
        self.assertEqual(self.logind_obj.GetCalls(dbus_interface=MOCK), [])
        self.assertEqual(self.hostname_obj.GetCalls(dbus_interface=MOCK), [])
        self.assertEqual([c for c in self.systemd_obj.GetCalls(dbus_interface=MOCK)
                          if c[1] == "RestartUnit"], [])
        denials = [r for r in d.admin().get("/v1/audit?service=nothing").json["records"]
                   if r["event"] == "deny"]
        self.assertEqual(len(denials), 3)

    def test_hostname(self):
        d = self.start()
        c = d.service("netcfg")
        self.assertEqual(c.get("/v1/host/hostname").json, {"hostname": "mockhost"})
        r = c.put("/v1/host/hostname", body={"hostname": "sensor-01.example"})
        self.assertEqual(r.status, 200, r)
        calls = wait_calls(self.hostname_obj, "SetStaticHostname")
        self.assertEqual([list(x[2]) for x in calls], [["sensor-01.example", False]])
        for bad in ["", "-lead", "trail-", "a..b", "under_score", "x" * 65, "a" * 64 + ".b",
                    "sp ace", "dot.", "ünïcode"]:
            r = c.put("/v1/host/hostname", body={"hostname": bad})
            self.assertEqual(r.status, 422, (bad, r))
        self.assertEqual(len(wait_calls(self.hostname_obj, "SetStaticHostname", n=2, timeout=0.3)), 1)

    def test_time(self):
        d = self.start()
        r = d.service("netcfg").get("/v1/host/time")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["timezone"], "Etc/Utc")
        self.assertIs(r.json["ntp"], True)
        self.assertIs(r.json["ntp_synchronized"], True)
        self.assertAlmostEqual(r.json["time_usec"] / 1e6, time.time(), delta=60)

    def test_unit_restart(self):
        d = self.start()
        c = d.service("netcfg")
        r = c.post("/v1/host/units/my-agent.service/restart")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"unit": "my-agent.service", "job": "/org/freedesktop/systemd1/job/42"})
        calls = wait_calls(self.systemd_obj, "RestartUnit")
        self.assertEqual([list(x[2]) for x in calls], [["my-agent.service", "replace"]])
        self.assertEqual(c.post("/v1/host/units/..%2Fetc/restart").status, 422)
        self.assertEqual(c.post("/v1/host/units/noextension/restart").status, 422)

    def test_missing_peer_is_503(self):
        self.hostnamed.terminate()
        self.hostnamed.wait()
        d = self.start()
        r = d.service("netcfg").get("/v1/host/hostname")
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.error_code, "unavailable")

    def test_silent_peer_is_504_and_nobody_else_waits(self):
        self.hostname_obj.AddMethod(HOSTNAME1[2], "SetStaticHostname", "sb", "",
                                    "import time; time.sleep(5)", dbus_interface=MOCK)
        d = self.start("--dbus-timeout-ms", "2500")
        result = {}

        def slow():
            result["r"] = Client(d.socket_path("netcfg"), timeout=30).put(
                "/v1/host/hostname", body={"hostname": "slow"})
            result["slow_done"] = time.monotonic()

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.2)
        # While the host call waits, other clients are served: they finish first.
        self.assertEqual(d.service("nothing").get("/v1/whoami").status, 200)
        self.assertEqual(d.service("nothing").put("/v1/gpio/gpiochip0/3", body={"value": 1}).status, 200)
        fast_done = time.monotonic()
        t.join(30)
        self.assertLess(fast_done, result["slow_done"])
        self.assertEqual(result["r"].status, 504, result["r"])
        self.assertEqual(result["r"].error_code, "timeout")

    def test_rate_limit(self):
        self.logind_obj.AddMethod("org.freedesktop.login1.Manager", "Reboot", "b", "",
                                  "raise dbus.exceptions.DBusException('busy', name='org.freedesktop.login1.Busy')",
                                  dbus_interface=MOCK)
        d = self.start("--reboot-limit", "2", "--reboot-window", "3600")
        c = d.service("booter")
        for i in range(2):
            self.assertEqual(c.post("/v1/host/reboot").status, 202)
            # The peer refuses, so nothing is under way afterwards.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(wait_calls(self.logind_obj, "Reboot", n=i + 1, timeout=0)) < i + 1:
                time.sleep(0.02)
            time.sleep(0.2)
        r = c.post("/v1/host/reboot")
        self.assertEqual(r.status, 429, r)
        self.assertEqual(r.error_code, "rate_limited")
        self.assertEqual(len(wait_calls(self.logind_obj, "Reboot", n=3, timeout=0.3)), 2)
        failed = [r for r in d.admin().get("/v1/audit?service=booter").json["records"]
                  if r["event"] == "failed"]
        self.assertEqual(len(failed), 2)
        self.assertIn("org.freedesktop.login1.Busy", failed[0]["error"])


if __name__ == "__main__":
    unittest.main()
