# SPDX-License-Identifier: GPL-2.0-or-later
"""GPIO end to end on the simulated board, through HTTP, the CLI and the C library."""
import json
import os
import socket
import subprocess
import threading
import time
import unittest

from hwbtest import BIN_DIR, Client, Daemon, DaemonTestCase

GPIO0 = {"devices": ["/dev/gpiochip0"]}


def pull(daemon, chip, line, level):
    r = daemon.admin().post("/v1/sim/gpio/%s/%s" % (chip, line), body={"pull": level})
    assert r.status == 200, r


class EventReader:
    """Reads an NDJSON event stream on its own connection, in a thread."""

    def __init__(self, sock_path, url):
        self.client = Client(sock_path, timeout=30)
        self.resp = self.client.stream(url, timeout=30)
        self.lines = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for raw in self.resp:
                if raw.strip():
                    self.lines.append(json.loads(raw))
        except Exception:
            pass
        self.done.set()

    def wait_for(self, n, timeout=20):
        deadline = time.monotonic() + timeout
        while len(self.lines) < n and time.monotonic() < deadline and not self.done.is_set():
            time.sleep(0.01)
        return self.lines

    def close(self):
        self.client.abort()


class GpioTest(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.daemon.register("a", GPIO0)
        self.daemon.register("b", GPIO0)
        self.a = self.daemon.service("a")
        self.b = self.daemon.service("b")

    def test_get_and_set(self):
        r = self.a.put("/v1/gpio/gpiochip0/17", body={"value": 1})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["value"], 1)
        self.assertEqual(r.json["direction"], "output")
        self.assertEqual(r.json["holder"], "a")
        r = self.a.get("/v1/gpio/gpiochip0/17")
        self.assertEqual((r.json["value"], r.json["name"], r.json["lease"]), (1, "GPIO17", "persistent"))
        self.assertEqual(self.a.put("/v1/gpio/gpiochip0/17", body={"value": 0}).json["value"], 0)
        # Hex offsets and line names reach the same line.
        self.assertEqual(self.a.get("/v1/gpio/gpiochip0/0x11").json["line"], 17)
        self.assertEqual(self.a.get("/v1/gpio/gpiochip0/GPIO17").json["line"], 17)
        self.assertEqual(self.a.get("/v1/gpio/0/17").json["chip"], "gpiochip0")
        self.assertEqual(self.a.get("/v1/gpio/pinctrl-sim/17").json["chip"], "gpiochip0")

    def test_errors(self):
        # Outside its grants a service learns nothing: a chip that does not
        # exist is refused like one that does. The admin socket sees 404s.
        self.assertEqual(self.a.get("/v1/gpio/gpiochip9/1").status, 403)
        self.assertEqual(self.a.get("/v1/gpio/gpiochip1/1").status, 403)
        self.assertEqual(self.daemon.admin().get("/v1/gpio/gpiochip9/1").status, 404)
        # Inside them, what is missing is 404.
        self.assertEqual(self.a.get("/v1/gpio/gpiochip0/54").status, 404)
        self.assertEqual(self.a.get("/v1/gpio/gpiochip0/NOPE").status, 404)
        self.assertEqual(self.a.put("/v1/gpio/gpiochip0/17", body={"value": 2}).status, 422)
        self.assertEqual(self.a.put("/v1/gpio/gpiochip0/17", body={"value": 1, "x": 1}).status, 422)
        self.assertEqual(self.a.put("/v1/gpio/gpiochip0/17", body={"direction": "input",
                                                                   "value": 1}).status, 422)
        self.assertEqual(self.a.put("/v1/gpio/gpiochip0/17", body={"direction": "sideways"}).status, 422)
        self.assertEqual(self.a.put("/v1/gpio/gpiochip0/17?lease=forever", body={"value": 1}).status, 400)
        self.assertEqual(self.a.delete("/v1/gpio/gpiochip0/17").status, 404)

    def test_input_with_bias_follows_the_outside_world(self):
        r = self.a.put("/v1/gpio/gpiochip0/5", body={"direction": "input", "bias": "pull-up"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["direction"], r.json["bias"], r.json["value"]), ("input", "pull-up", 1))
        pull(self.daemon, "gpiochip0", 5, "down")
        self.assertEqual(self.a.get("/v1/gpio/gpiochip0/5").json["value"], 0)
        r = self.a.put("/v1/gpio/gpiochip0/6", body={"value": 1, "active_low": True,
                                                     "drive": "open-drain"})
        self.assertEqual((r.json["active_low"], r.json["drive"]), (True, "open-drain"))

    def test_group_set(self):
        r = self.a.put("/v1/gpio/gpiochip0", body={"values": {"17": 1, "GPIO27": 1, "22": 0}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["values"], {"17": 1, "27": 1, "22": 0})
        for line, v in ((17, 1), (27, 1), (22, 0)):
            self.assertEqual(self.b.get("/v1/gpio/gpiochip0/%d" % line).json["value"], v)
        # All or nothing: one line held by b refuses the whole group.
        self.assertEqual(self.b.put("/v1/gpio/gpiochip0/23", body={"value": 1}).status, 200)
        r = self.a.put("/v1/gpio/gpiochip0", body={"values": {"24": 1, "23": 0}})
        self.assertEqual(r.status, 409)
        self.assertIsNone(self.a.get("/v1/gpio/gpiochip0/24").json["holder"])

    def test_conflict_names_the_holder_and_reading_is_allowed(self):
        self.assertEqual(self.a.put("/v1/gpio/gpiochip0/17", body={"value": 1}).status, 200)
        r = self.b.put("/v1/gpio/gpiochip0/17", body={"value": 0})
        self.assertEqual(r.status, 409)
        self.assertEqual(r.error_code, "conflict")
        self.assertIn("service a", r.json["error"]["message"])
        r = self.b.get("/v1/gpio/gpiochip0/17")
        self.assertEqual((r.status, r.json["value"], r.json["holder"]), (200, 1, "a"))
        self.assertEqual(self.b.delete("/v1/gpio/gpiochip0/17").status, 409)
        self.assertEqual(self.a.delete("/v1/gpio/gpiochip0/17").status, 204)
        self.assertEqual(self.b.put("/v1/gpio/gpiochip0/17", body={"value": 0}).status, 200)

    def test_lease_outlives_the_cli_process(self):
        r = self.daemon.cli("gpio", "set", "gpiochip0", "17=1", service="a")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.daemon.cli("gpio", "get", "gpiochip0", "17", service="b")
        self.assertEqual(r.stdout.strip(), b"1")
        r = self.daemon.cli("gpio", "set", "gpiochip0", "17", "0", service="b")
        self.assertEqual(r.returncode, 4, r.stderr)
        self.assertIn(b"held by service a", r.stderr)
        self.assertEqual(self.daemon.cli("gpio", "release", "gpiochip0", "17", service="a").returncode, 0)
        self.assertEqual(self.daemon.cli("gpio", "set", "gpiochip0", "17=0", service="b").returncode, 0)

    def test_connection_lease_ends_with_the_connection(self):
        c = self.daemon.service("a")
        r = c.put("/v1/gpio/gpiochip0/17?lease=connection", body={"value": 1})
        self.assertEqual(r.json["lease"], "connection")
        self.assertEqual(self.b.put("/v1/gpio/gpiochip0/17", body={"value": 0}).status, 409)
        c.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.b.put("/v1/gpio/gpiochip0/17", body={"value": 0}).status == 200:
                break
            time.sleep(0.02)
        self.assertEqual(self.b.get("/v1/gpio/gpiochip0/17").json["holder"], "b")

    def test_name_and_offset_reach_the_same_decision(self):
        self.daemon.register("named", {"labels": {"io.hwbroker.gpio": "gpiochip0=GPIO4"}})
        self.daemon.register("numbered", {"labels": {"io.hwbroker.gpio": "gpiochip0=4"}})
        for svc in ("named", "numbered"):
            c = self.daemon.service(svc)
            for url in ("/v1/gpio/gpiochip0/4", "/v1/gpio/gpiochip0/GPIO4", "/v1/gpio/gpiochip0/0x4"):
                self.assertEqual(c.get(url).status, 200, (svc, url))
            for url in ("/v1/gpio/gpiochip0/5", "/v1/gpio/gpiochip0/GPIO5"):
                self.assertEqual(c.get(url).status, 403, (svc, url))
        lines = self.daemon.service("named").get("/v1/gpio").json["chips"]
        self.assertEqual([l["line"] for l in lines[0]["lines"]], [4])

    def test_events_in_order_with_kernel_timestamps(self):
        ev = EventReader(self.daemon.socket_path("a"), "/v1/gpio/gpiochip0/4/events?edge=both")
        other = EventReader(self.daemon.socket_path("b"), "/v1/gpio/gpiochip0/4/events?edge=rising")
        for i in range(20):
            pull(self.daemon, "gpiochip0", 4, "up" if i % 2 == 0 else "down")
        got = ev.wait_for(20)
        self.assertEqual(len(got), 20, got)
        self.assertEqual([e["seq"] for e in got], list(range(1, 21)))
        self.assertEqual([e["edge"] for e in got], ["rising", "falling"] * 10)
        ts = [e["timestamp_ns"] for e in got]
        self.assertEqual(ts, sorted(ts))
        self.assertTrue(all(e["line"] == 4 and e["chip"] == "gpiochip0" for e in got))
        rising = other.wait_for(10)
        self.assertEqual(len(rising), 10)
        self.assertTrue(all(e["edge"] == "rising" for e in rising))
        ev.close()
        other.close()

    def test_slow_watcher_gets_a_drop_marker(self):
        d = self.daemon
        client = Client(d.socket_path("a"))
        resp = client.stream("/v1/gpio/gpiochip0/4/events")
        n = 600  # more than the default queue of 256 events
        for i in range(n):
            pull(d, "gpiochip0", 4, "up" if i % 2 == 0 else "down")
        events, dropped = [], 0
        while len(events) + dropped < n:
            line = json.loads(resp.readline())
            if "dropped" in line:
                dropped += line["dropped"]
            else:
                events.append(line)
        self.assertGreater(dropped, 0)
        self.assertLessEqual(len(events), n)
        self.assertEqual(len(events) + dropped, n)
        # What arrived is the newest, still in order.
        seqs = [e["seq"] for e in events]
        self.assertEqual(seqs, sorted(seqs))
        client.close()

    def test_chip_removal_ends_streams_and_the_chip_comes_back(self):
        ev = EventReader(self.daemon.socket_path("a"), "/v1/gpio/gpiochip0/4/events")
        pull(self.daemon, "gpiochip0", 4, "up")
        self.assertEqual(len(ev.wait_for(1)), 1)
        r = self.daemon.admin().post("/v1/sim/gpio/gpiochip0", body={"present": False})
        self.assertEqual(r.status, 200)
        self.assertTrue(ev.done.wait(10))
        self.assertEqual(ev.lines[-1]["error"]["code"], "unavailable")
        r = self.a.put("/v1/gpio/gpiochip0/17", body={"value": 1})
        self.assertEqual(r.status, 503, r)
        self.daemon.admin().post("/v1/sim/gpio/gpiochip0", body={"present": True})
        self.assertEqual(self.a.put("/v1/gpio/gpiochip0/17", body={"value": 1}).status, 200)
        ev2 = EventReader(self.daemon.socket_path("a"), "/v1/gpio/gpiochip0/5/events")
        pull(self.daemon, "gpiochip0", 5, "up")
        self.assertEqual(len(ev2.wait_for(1)), 1)
        ev.close()
        ev2.close()

    def test_watching_never_holds_a_line_against_a_writer(self):
        # Watching is reading: a writer takes the line, and the watchers'
        # streams end saying who took it.
        ev = EventReader(self.daemon.socket_path("a"), "/v1/gpio/gpiochip0/4/events")
        pull(self.daemon, "gpiochip0", 4, "up")
        ev.wait_for(1)
        r = self.b.put("/v1/gpio/gpiochip0/4", body={"value": 1})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["direction"], r.json["holder"]), ("output", "b"))
        self.assertTrue(ev.done.wait(10))
        self.assertEqual(ev.lines[-1]["error"]["code"], "conflict")
        self.assertIn("taken for output by b", ev.lines[-1]["error"]["message"])
        # A driven line cannot be watched.
        r = self.a.get("/v1/gpio/gpiochip0/4/events")
        self.assertEqual(r.status, 409, r)
        self.assertEqual(self.b.get("/v1/gpio/gpiochip0/4").json["value"], 1)

    def test_a_held_input_can_be_watched_and_stays_held(self):
        # gpio input CHIP 27 --bias pull-down, then gpio watch CHIP 27: the
        # same line, held as an input, watched with its bias.
        r = self.a.put("/v1/gpio/gpiochip0/27", body={"direction": "input", "bias": "pull-down"})
        self.assertEqual(r.status, 200, r)
        ev = EventReader(self.daemon.socket_path("a"), "/v1/gpio/gpiochip0/27/events")
        deadline = time.monotonic() + 10
        while not self.daemon.board()["gpio"]["chips"][0]["lines"][27]["watched"]:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        line = self.a.get("/v1/gpio/gpiochip0/27").json
        self.assertEqual((line["holder"], line["direction"], line["bias"]),
                         ("a", "input", "pull-down"))
        pull(self.daemon, "gpiochip0", 27, "up")
        got = ev.wait_for(1)
        self.assertEqual([e["edge"] for e in got], ["rising"], got)
        # Another service still may not drive it, and the watch changed nothing.
        before = self.daemon.board()
        self.assertEqual(self.b.put("/v1/gpio/gpiochip0/27", body={"value": 1}).status, 409)
        self.assertEqual(self.daemon.board(), before)
        ev.close()
        deadline = time.monotonic() + 10
        while self.daemon.board()["gpio"]["chips"][0]["lines"][27]["watched"]:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        # The watch is gone; the input is still held, with its bias.
        line = self.a.get("/v1/gpio/gpiochip0/27").json
        self.assertEqual((line["holder"], line["direction"], line["bias"], line["used"]),
                         ("a", "input", "pull-down", True))
        board = self.daemon.board()["gpio"]["chips"][0]["lines"][27]
        self.assertEqual((board["requested"], board["holder"]), (True, "a"), board)

    def test_watcher_disconnect_releases_the_line(self):
        ev = EventReader(self.daemon.socket_path("a"), "/v1/gpio/gpiochip0/4/events")
        pull(self.daemon, "gpiochip0", 4, "up")
        ev.wait_for(1)
        ev.close()
        deadline = time.monotonic() + 10
        used = True
        while time.monotonic() < deadline and used:
            used = self.daemon.board()["gpio"]["chips"][0]["lines"][4]["watched"]
            time.sleep(0.02)
        self.assertFalse(used)

    def test_revocation_ends_streams_and_leases(self):
        ev = EventReader(self.daemon.socket_path("a"), "/v1/gpio/gpiochip0/4/events")
        pull(self.daemon, "gpiochip0", 4, "up")
        ev.wait_for(1)
        self.assertEqual(self.a.put("/v1/gpio/gpiochip0/17", body={"value": 1}).status, 200)
        narrower = {"labels": {"io.hwbroker.gpio": "gpiochip0=20"}}
        self.assertEqual(self.daemon.admin().put("/v1/services/a", body=narrower).status, 200)
        self.assertTrue(ev.done.wait(10))
        self.assertEqual(ev.lines[-1]["error"]["code"], "forbidden")
        self.assertIsNone(self.b.get("/v1/gpio/gpiochip0/17").json["holder"])
        ev.close()

    def test_c_library(self):
        r = subprocess.run([os.path.join(BIN_DIR, "client_gpio"), self.daemon.socket_path("a"),
                            self.daemon.admin_path], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class GpioPersistenceTest(unittest.TestCase):
    def test_persistent_leases_survive_a_restart(self):
        d = Daemon().start()
        d.register("a", GPIO0)
        d.register("b", GPIO0)
        a = d.service("a")
        self.assertEqual(a.put("/v1/gpio/gpiochip0/17", body={"value": 1}).status, 200)
        self.assertEqual(a.put("/v1/gpio/gpiochip0/18?lease=connection", body={"value": 1}).status, 200)
        self.assertEqual(d.stop(), 0)
        d2 = Daemon(runtime=d.runtime, state=d.state).start()
        try:
            b = d2.service("b")
            r = b.get("/v1/gpio/gpiochip0/17")
            self.assertEqual((r.json["holder"], r.json["value"]), ("a", 1))
            self.assertIsNone(b.get("/v1/gpio/gpiochip0/18").json["holder"])
        finally:
            self.assertEqual(d2.stop(), 0)


if __name__ == "__main__":
    unittest.main()
