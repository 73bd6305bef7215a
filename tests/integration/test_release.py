# SPDX-License-Identifier: GPL-2.0-or-later
"""A release applied the way the supervisor does it: PUT /v1/state, probes of
every service socket, a daemon restart, and a narrower re-apply that revokes."""
import os
import unittest

from hwbtest import Daemon, DaemonTestCase

RELEASE = {
    "services": {
        "sensor": {"devices": ["/dev/i2c-1:/dev/i2c-1:rw"], "cap_add": ["SYS_RAWIO"],
                   "labels": {"io.hwbroker.i2c": "1=0x76"}},
        "blinker": {"devices": ["/dev/gpiochip0"],
                    "labels": ["io.hwbroker.gpio=gpiochip0=17,27"]},
        "kiosk": {"privileged": True},
        "web": {"image": "nginx", "ports": ["80:80"]},
    }
}

READ_CHIP_ID = {"op": "read_byte_data", "command": 0xD0}


class ReleaseTest(DaemonTestCase):
    def probe(self, d=None):
        d = d or self.daemon
        sensor, blinker, web = d.service("sensor"), d.service("blinker"), d.service("web")
        r = sensor.post("/v1/i2c/1/0x76/smbus", body=READ_CHIP_ID)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["value"], 0x60)
        r = sensor.post("/v1/i2c/1/0x50/smbus", body=READ_CHIP_ID)
        self.assertEqual(r.status, 403, r)
        self.assertIn("0x50", r.json["error"]["message"])
        self.assertTrue(r.json["error"]["hint"])
        self.assertEqual(sensor.put("/v1/gpio/gpiochip0/17", body={"value": 1}).status, 403)
        self.assertEqual(blinker.put("/v1/gpio/gpiochip0/27", body={"value": 1}).status, 200)
        self.assertEqual(blinker.put("/v1/gpio/gpiochip0/22", body={"value": 1}).status, 403)
        self.assertEqual(blinker.post("/v1/i2c/1/0x76/smbus", body=READ_CHIP_ID).status, 403)
        self.assertEqual(web.get("/v1/whoami").json["grants"], [])
        self.assertEqual(web.put("/v1/gpio/gpiochip0/4", body={"value": 1}).status, 403)
        self.assertEqual(d.service("kiosk").put("/v1/gpio/gpiochip0/4",
                                                body={"value": 1}).status, 200)

    def test_apply_probe_restart_probe(self):
        admin = self.daemon.admin()
        r = admin.put("/v1/state", body=RELEASE)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(sorted(r.json["services"]), ["blinker", "kiosk", "sensor", "web"])
        for name, svc in r.json["services"].items():
            self.assertEqual(svc["environment"]["HWBROKER_SOCKET"], "/run/hwbroker/hwbroker.sock")
            self.assertTrue(os.path.exists(svc["socket"]))
        self.probe()
        # Restart on the same state directory: services, sockets, policies come back.
        rc = self.daemon.stop()
        self.assertEqual(rc, 0)
        self.daemon = Daemon(runtime=self.daemon.runtime, state=self.daemon.state).start()
        self.probe()
        # The lease taken before the restart is persistent: blinker still holds line 27.
        r = self.daemon.service("kiosk").put("/v1/gpio/gpiochip0/27", body={"value": 0})
        self.assertEqual(r.status, 409, r)
        self.assertIn("blinker", r.json["error"]["message"])

    def test_state_is_all_or_nothing(self):
        admin = self.daemon.admin()
        self.assertEqual(admin.put("/v1/state", body=RELEASE).status, 200)
        bad = {"services": {
            "sensor": {"labels": {"io.hwbroker.i2c": "1=0x76,zz"}},
            "newcomer": {"devices": ["/dev/gpiochip0"]},
            "BAD NAME": {},
            "other": {"labels": {"io.hwbroker.gpio": "gpiochip0=1-"}},
        }}
        r = admin.put("/v1/state", body=bad)
        self.assertEqual(r.status, 422, r)
        details = r.json["error"]["details"]
        services = {d.get("service") for d in details}
        self.assertTrue({"sensor", "BAD NAME", "other"} <= services, details)
        self.assertTrue(any(d.get("label") == "io.hwbroker.i2c" for d in details))
        # Nothing changed: the old release still runs, the newcomer does not exist.
        names = sorted(s["name"] for s in admin.get("/v1/services").json["services"])
        self.assertEqual(names, ["blinker", "kiosk", "sensor", "web"])
        self.probe()

    def test_services_left_out_are_removed(self):
        admin = self.daemon.admin()
        self.assertEqual(admin.put("/v1/state", body=RELEASE).status, 200)
        smaller = {"services": {"sensor": RELEASE["services"]["sensor"]}}
        r = admin.put("/v1/state", body=smaller)
        self.assertEqual(r.status, 200)
        self.assertEqual(sorted(r.json["removed"]), ["blinker", "kiosk", "web"])
        self.assertFalse(os.path.exists(self.daemon.socket_path("blinker")))

    def test_narrower_reapply_revokes_leases_at_once(self):
        admin = self.daemon.admin()
        self.assertEqual(admin.put("/v1/state", body=RELEASE).status, 200)
        blinker = self.daemon.service("blinker")
        self.assertEqual(blinker.put("/v1/gpio/gpiochip0/17", body={"value": 1}).status, 200)
        self.assertEqual(blinker.put("/v1/gpio/gpiochip0/27", body={"value": 1}).status, 200)
        narrower = {"devices": ["/dev/gpiochip0"], "labels": {"io.hwbroker.gpio": "gpiochip0=27"}}
        self.assertEqual(admin.put("/v1/services/blinker", body=narrower).status, 200)
        # Line 17 is free again at once: another service may take it.
        r = self.daemon.service("kiosk").put("/v1/gpio/gpiochip0/17", body={"value": 0})
        self.assertEqual(r.status, 200, r)
        # Line 27 is still blinker's.
        r = self.daemon.service("kiosk").put("/v1/gpio/gpiochip0/27", body={"value": 0})
        self.assertEqual(r.status, 409, r)
        self.assertEqual(blinker.put("/v1/gpio/gpiochip0/17", body={"value": 1}).status, 403)

    def test_container_id_mismatch_is_refused_and_audited(self):
        admin = self.daemon.admin()
        svc = {"devices": ["/dev/gpiochip0"], "container_id": "0123456789abcdef0123456789abcdef"}
        self.assertEqual(admin.put("/v1/services/boxed", body=svc).status, 201)
        r = self.daemon.service("boxed").get("/v1/gpio/gpiochip0/4")
        self.assertEqual(r.status, 403, r)
        self.assertIn("container", r.json["error"]["message"])
        audit = admin.get("/v1/audit?service=boxed").json["records"]
        self.assertTrue(any(rec["event"] == "deny" and rec["refused"] == "container-check"
                            for rec in audit), audit)


if __name__ == "__main__":
    unittest.main()
