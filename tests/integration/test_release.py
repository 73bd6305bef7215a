# SPDX-License-Identifier: GPL-2.0-or-later
"""A release applied the way the supervisor does it: PUT /v1/state, probes of
every service socket, a daemon restart, and a narrower re-apply that revokes;
releases in flight at once (applied in arrival order, a service served while
one is derived)."""
import json
import os
import time
import unittest

from hwbtest import Daemon, DaemonTestCase, reply_of, send_request

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

    def test_only_changed_declarations_are_put_on_record(self):
        admin = self.daemon.admin()
        self.assertEqual(admin.put("/v1/state", body=RELEASE).status, 200)
        blinker = self.daemon.service("blinker")
        self.assertEqual(blinker.put("/v1/gpio/gpiochip0/17", body={"value": 1}).status, 200)

        def changes():
            records = admin.get("/v1/audit?limit=1000").json["records"]
            return [(r["event"], r["subject"]) for r in records
                    if r["event"] in ("registered", "updated", "removed")]

        before = changes()
        self.assertEqual(admin.put("/v1/state", body=RELEASE).status, 200)
        self.assertEqual(changes(), before)
        # the same release again left the lease where it was
        self.assertEqual(self.daemon.board()["gpio"]["chips"][0]["lines"][17]["holder"],
                         "blinker")
        changed = json.loads(json.dumps(RELEASE))
        changed["services"]["web"] = {"devices": ["/dev/gpiochip0"]}
        self.assertEqual(admin.put("/v1/state", body=changed).status, 200)
        self.assertEqual(changes(), before + [("updated", "web")])

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


BLINKER = {"devices": ["/dev/gpiochip0"], "labels": {"io.hwbroker.gpio": "gpiochip0=17"}}


def heavy_service():
    """A declaration that takes a while to derive: many grants to parse and narrow."""
    return {"devices": ["/dev/gpiochip0", "/dev/i2c-1", "/dev/ttyS0"], "cap_add": ["SYS_RAWIO"],
            "labels": {"io.hwbroker.gpio": "gpiochip0=" + ",".join(str(k) for k in range(60)),
                       "io.hwbroker.i2c": "1=" + ",".join("0x%02x" % a for a in range(8, 0x70))}}


def release(n, marker, heavy=True):
    """blinker, n fillers (heavy or trivial to derive) and a marker service."""
    services = {"fill-%03d" % i: heavy_service() if heavy else {} for i in range(n)}
    services["blinker"] = BLINKER
    services[marker] = {}
    return {"services": services}


def send_put(path, url, body):
    return send_request(path, "PUT", url, body)


class ReleasesInFlightTest(DaemonTestCase):
    """Several releases in flight at once: derived off the loop, applied one at a
    time in the order they arrived."""

    daemon_args = ("--sim", "--max-body", str(4 << 20))

    def state_file(self):
        with open(os.path.join(self.daemon.state, "state.json")) as f:
            return json.load(f)

    def line_value_saved(self, state):
        for lease in state["areas"]["gpio"]["leases"]:
            if lease["resource"] == "gpio:gpiochip0:17":
                return lease["data"]["value"]
        return None

    def test_releases_apply_in_arrival_order(self):
        admin = self.daemon.admin()
        self.assertEqual(admin.put("/v1/state", body=release(100, "order-init")).status, 200)
        # Each request is read by the daemon before the next is sent, so the
        # arrival order is known; heavy and trivial releases alternate, so a
        # later one would derive first if derivations raced.
        bodies = [json.dumps(release(100, "order-%d" % k, heavy=k % 2 == 0)).encode()
                  for k in range(6)]
        conns = [send_put(self.daemon.admin_path, "/v1/state", b) for b in bodies]
        replies = [reply_of(c) for c in conns]
        previous = "order-init"
        for k, (status, body) in enumerate(replies):
            self.assertEqual(status, 200, body)
            # Applied right after the one that arrived before it: it removed that one's marker.
            self.assertEqual(body["removed"], [previous], (k, body["removed"]))
            self.assertIn("order-%d" % k, body["services"])
            previous = "order-%d" % k
        names = {s["name"] for s in admin.get("/v1/services").json["services"]}
        self.assertEqual({n for n in names if n.startswith("order-")}, {"order-5"})
        self.assertEqual(len(names), 102)
        self.assertEqual(set(self.state_file()["services"]), names)

    def test_a_service_is_served_while_a_release_derives(self):
        admin = self.daemon.admin()
        self.assertEqual(admin.put("/v1/state", body=release(200, "first")).status, 200)
        blinker = self.daemon.service("blinker")
        self.assertEqual(blinker.put("/v1/gpio/gpiochip0/17", body={"value": 0}).status, 200)
        deadline = time.monotonic() + 10
        while self.line_value_saved(self.state_file()) != 0:
            self.assertLess(time.monotonic(), deadline, "the lease was never saved")
            time.sleep(0.02)
        # The daemon has read the whole release: its handler has run. The set
        # sent now is answered while the release is derived, before its state
        # is built; so the state committed for the release already holds the
        # value. (Were the release derived on the loop, the state would be
        # built before the set is read, and the file would still say 0.)
        conn = send_put(self.daemon.admin_path, "/v1/state", release(200, "second"))
        self.assertEqual(blinker.put("/v1/gpio/gpiochip0/17", body={"value": 1}).status, 200)
        status, body = reply_of(conn)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["removed"], ["first"])
        state = self.state_file()
        self.assertIn("second", state["services"])
        self.assertEqual(self.line_value_saved(state), 1)
        self.assertEqual(blinker.get("/v1/gpio/gpiochip0/17").json["value"], 1)

    def test_a_release_that_does_not_derive_changes_nothing_in_the_queue(self):
        admin = self.daemon.admin()
        self.assertEqual(admin.put("/v1/state", body=release(50, "order-init")).status, 200)
        bad = release(1, "broken", heavy=False)
        bad["services"]["fill-000"] = {"labels": {"io.hwbroker.gpio": "gpiochip0=1-"}}
        conns = [send_put(self.daemon.admin_path, "/v1/state", release(50, "order-0")),
                 send_put(self.daemon.admin_path, "/v1/state", bad),
                 send_put(self.daemon.admin_path, "/v1/services/blinker", BLINKER),
                 send_put(self.daemon.admin_path, "/v1/state", release(50, "order-1"))]
        (s0, b0), (s1, b1), (s2, b2), (s3, b3) = [reply_of(c) for c in conns]
        self.assertEqual(s0, 200, b0)
        self.assertEqual(s1, 422, b1)
        self.assertEqual(b1["error"]["code"], "invalid")
        self.assertEqual([d["service"] for d in b1["error"]["details"]], ["fill-000"])
        self.assertTrue(b1["error"]["message"].startswith("1 error in the declaration: "), b1)
        self.assertEqual(s2, 200, b2)
        self.assertEqual(s3, 200, b3)
        self.assertEqual(b3["removed"], ["order-0"])

    def test_stopping_while_releases_derive(self):
        admin = self.daemon.admin()
        self.assertEqual(admin.put("/v1/state", body=release(100, "order-init")).status, 200)
        before = self.state_file()
        conns = [send_put(self.daemon.admin_path, "/v1/state",
                          json.dumps(release(100, "order-%d" % k)).encode()) for k in range(3)]
        rc = self.daemon.stop()
        log = self.daemon.read_log()
        self.assertEqual(rc, 0, log[-4000:])
        self.assertNotIn("Sanitizer", log)
        self.assertNotIn("runtime error:", log)
        for c in conns:
            c.close()
        # Each release was applied whole or not at all; those not answered
        # are not on disk.
        after = self.state_file()
        markers = [n for n in after["services"] if n.startswith("order-")]
        self.assertEqual(len(markers), 1, markers)
        self.assertEqual(len(after["services"]), len(before["services"]))
        self.daemon = Daemon(self.daemon_args, runtime=self.daemon.runtime,
                             state=self.daemon.state).start()
        names = {s["name"] for s in self.daemon.admin().get("/v1/services").json["services"]}
        self.assertEqual(names, set(after["services"]))


if __name__ == "__main__":
    unittest.main()
