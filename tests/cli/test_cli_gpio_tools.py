# SPDX-License-Identifier: GPL-2.0-or-later
"""hwbroker gpio detect/info/get/watch with libgpiod's tools' layouts, against the real daemon
(the simulated board) and, for the GPIO list that carries each line's configuration, a fake
broker. Expected output is rendered here from what the HTTP API reports."""
import json
import re
import subprocess
import time
import unittest

from fakebroker import FakeBroker
from hwbtest import HWBROKER_CLI, DaemonTestCase

EVENT = re.compile(r"^event: ( RISING|FALLING) EDGE offset: (\d+) timestamp: \[ *(\d+)\.(\d{9})\]$")


def column(state, width, text):
    """gpioinfo's prinfo(): right-aligned in width until one column overflowed."""
    if state["overflow"] or len(text) - 1 >= width:
        state["overflow"] = True
        return text
    return text.rjust(width)


def gpioinfo_line(line):
    state = {"overflow": False}
    name = line.get("name")
    consumer = line.get("consumer") or line.get("holder") or \
        ("hwbrokerd" if line.get("watchers") else None)
    out = "\tline " + column(state, 3, str(line["line"])) + ": "
    out += column(state, 12, '"%s"' % name if name else "unnamed") + " "
    if not line.get("used"):
        out += column(state, 12, "unused")
    else:
        out += column(state, 12, '"%s"' % consumer if consumer else "kernel")
    out += " " + column(state, 8, ("output" if line["direction"] == "output" else "input") + " ")
    out += column(state, 13, ("active-low" if line["active_low"] else "active-high") + " ")
    flags = (["used"] if line.get("used") else []) + \
        [f for f in ("open-drain", "open-source") if line.get("drive") == f] + \
        [f for f in ("pull-up", "pull-down") if line.get("bias") == f] + \
        (["bias-disabled"] if line.get("bias") == "disabled" else [])
    return out + ("[%s]" % " ".join(flags) if flags else "")


class GpioToolsTest(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.daemon.register("a", {"devices": ["/dev/gpiochip0"]})
        self.svc = self.daemon.service("a")
        self.admin = self.daemon.admin()
        self.addCleanup(self.svc.close)
        self.addCleanup(self.admin.close)

    def cli(self, *args, **kw):
        kw.setdefault("service", "a")
        return self.daemon.cli(*args, **kw)

    def ok(self, *args, **kw):
        r = self.cli(*args, **kw)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode()

    def test_detect(self):
        chips = self.svc.get("/v1/gpio").json["chips"]
        self.assertEqual(self.ok("gpio", "detect"),
                         "".join("%s [%s] (%d lines)\n" % (c["chip"], c["label"], c["num_lines"])
                                 for c in chips))
        # gpiochip1 is not this service's: not shown.
        self.assertNotIn("gpiochip1", self.ok("gpio", "detect"))

    def test_info_layout(self):
        self.assertEqual(self.svc.put("/v1/gpio/gpiochip0/17", body={"value": 1}).status, 200)
        self.assertEqual(self.svc.put("/v1/gpio/gpiochip0/4", body={
            "direction": "input", "bias": "pull-up"}).status, 200)
        self.assertEqual(self.svc.put("/v1/gpio/gpiochip0/22", body={
            "value": 1, "drive": "open-drain", "active_low": True}).status, 200)
        self.assertEqual(self.svc.put("/v1/gpio/gpiochip0/23", body={
            "direction": "input", "bias": "disabled"}).status, 200)
        chip = self.svc.get("/v1/gpio").json["chips"][0]
        expected = "%s - %d lines:\n" % (chip["chip"], chip["num_lines"])
        for entry in chip["lines"]:
            line = self.svc.get("/v1/gpio/gpiochip0/%d" % entry["line"]).json
            expected += gpioinfo_line(line) + "\n"
        self.assertEqual(self.ok("gpio", "info"), expected)
        self.assertEqual(self.ok("gpio", "info", "gpiochip0"), expected)
        self.assertEqual(self.ok("gpio", "info", "pinctrl-sim"), expected)
        self.assertIn('"GPIO22"', expected)
        self.assertIn("[used open-drain]", expected)
        self.assertIn("active-low", expected)
        lines = [json.loads(x) for x in self.ok("--json", "gpio", "info").splitlines()]
        self.assertEqual(len(lines), len(chip["lines"]))
        self.assertEqual(lines[17]["direction"], "output")
        r = self.cli("gpio", "info", "gpiochip1")
        self.assertEqual((r.returncode, r.stdout), (1, b""))
        self.assertIn(b"no chip 'gpiochip1'", r.stderr)

    def test_get_several_lines(self):
        self.assertEqual(self.ok("gpio", "set", "gpiochip0", "20=1", "21=0"), "")
        values = [self.svc.get("/v1/gpio/gpiochip0/%s" % n).json["value"]
                  for n in ("20", "21", "GPIO20")]
        self.assertEqual(self.ok("gpio", "get", "gpiochip0", "20", "21", "GPIO20"),
                         " ".join(map(str, values)) + "\n")
        j = [json.loads(x) for x in self.ok("gpio", "get", "--json", "0", "20", "21").splitlines()]
        self.assertEqual([(x["line"], x["value"]) for x in j], [(20, values[0]), (21, values[1])])
        r = self.cli("gpio", "get", "gpiochip0", "20", "99")
        self.assertEqual((r.returncode, r.stdout), (1, b""))

    def watchers(self, line):
        return self.svc.get("/v1/gpio/gpiochip0/%d" % line).json["watchers"]

    def pull(self, line, level):
        r = self.admin.post("/v1/sim/gpio/gpiochip0/%d" % line, body={"pull": level})
        self.assertEqual(r.status, 200, r)

    def start_watch(self, *args):
        p = subprocess.Popen([HWBROKER_CLI, "--socket", self.daemon.socket_path("a"), "gpio",
                              "watch", "gpiochip0"] + list(args),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(p.kill)
        return p

    def wait_watched(self, *lines):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not all(self.watchers(n) for n in lines):
            time.sleep(0.02)
        self.assertTrue(all(self.watchers(n) for n in lines))

    def test_watch_several_lines(self):
        p = self.start_watch("5", "GPIO6", "--count", "3")
        self.wait_watched(5, 6)
        self.pull(5, "up")
        self.pull(6, "up")
        self.pull(5, "down")
        out, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)
        events = [EVENT.match(x) for x in out.decode().splitlines()]
        self.assertTrue(all(events), out)
        self.assertEqual([(m.group(1).strip(), int(m.group(2))) for m in events],
                         [("RISING", 5), ("RISING", 6), ("FALLING", 5)])
        stamps = [int(m.group(3)) * 10**9 + int(m.group(4)) for m in events]
        self.assertEqual(stamps, sorted(stamps))

    def test_watch_edge_filter_and_json(self):
        p = subprocess.Popen([HWBROKER_CLI, "--socket", self.daemon.socket_path("a"), "--json",
                              "gpio", "watch", "gpiochip0", "7", "8", "--edge", "falling",
                              "--count", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(p.kill)
        self.wait_watched(7, 8)
        self.pull(8, "up")
        self.pull(8, "down")
        out, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)
        j = json.loads(out)
        self.assertEqual((j["line"], j["edge"], j["seq"]), (8, "falling", 1))

    def test_watch_ends_when_the_chip_goes(self):
        p = self.start_watch("9")
        self.wait_watched(9)
        r = self.admin.post("/v1/sim/gpio/gpiochip0", body={"present": False})
        self.assertEqual(r.status, 200, r)
        out, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"gpio watch: line 9: the chip went away", err)

    def test_refusals_and_usage(self):
        before = self.admin.get("/v1/gpio/gpiochip1/0").json
        self.assertEqual(self.cli("gpio", "set", "gpiochip1", "0=1").returncode, 3)
        self.assertEqual(self.cli("gpio", "get", "gpiochip1", "0").returncode, 3)
        self.assertEqual(self.cli("gpio", "watch", "gpiochip1", "0", "--count", "1").returncode, 3)
        self.assertEqual(self.admin.get("/v1/gpio/gpiochip1/0").json, before)
        cases = [(["set", "gpiochip0", "17=2"], "set", "bad value '2' in '17=2'"),
                 (["set", "gpiochip0", "17", "x"], "set", "bad value 'x'"),
                 (["watch", "gpiochip0", "4", "--edge", "up"], "watch", "bad edge 'up'"),
                 (["watch", "gpiochip0", "4", "--count", "0"], "watch", "bad count '0'"),
                 (["input", "gpiochip0", "4", "--bias", "up"], "input", "bad bias 'up'"),
                 (["get", "gpiochip0"], "get", "missing LINE"),
                 (["release"], "release", "missing CHIP"),
                 (["detect", "x"], "detect", "unexpected argument 'x'")]
        for args, sub, message in cases:
            r = self.cli("gpio", *args)
            self.assertEqual(r.returncode, 2, args)
            lines = r.stderr.decode().splitlines()
            self.assertEqual(len(lines), 2, r.stderr)
            self.assertTrue(lines[0].startswith("hwbroker: gpio %s: %s" % (sub, message)), lines)
            self.assertTrue(lines[1].startswith("usage: hwbroker gpio %s" % sub), lines)


class GpioListWithConfigurationTest(unittest.TestCase):
    """When GET /v1/gpio carries each line's configuration, gpio info uses it as is."""

    def test_info_from_the_list_alone(self):
        lines = [{"line": 0, "name": "LED", "holder": "a", "direction": "output", "bias": "as-is",
                  "active_low": True, "drive": "open-source", "used": True, "consumer": "hwbrokerd"},
                 {"line": 1, "name": "", "holder": None, "direction": "input", "bias": "pull-down",
                  "active_low": False, "used": False, "consumer": ""},
                 {"line": 1234, "name": "A_VERY_LONG_LINE_NAME", "holder": None,
                  "direction": "input", "bias": "as-is", "active_low": False, "used": True,
                  "consumer": None}]
        routes = {("GET", "/v1/gpio"): (200, {"chips": [{"chip": "gpiochip3", "label": "x",
                                                         "num_lines": 2000, "lines": lines}]})}
        with FakeBroker(routes) as b:
            r = subprocess.run([HWBROKER_CLI, "--socket", b.path, "gpio", "info"],
                               capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.decode(), "gpiochip3 - 2000 lines:\n" + "".join(
                gpioinfo_line(x) + "\n" for x in lines))
            self.assertEqual([q[:2] for q in b.requests], [("GET", "/v1/gpio")])
        self.assertIn("unnamed", gpioinfo_line(lines[1]))
        self.assertIn('"hwbrokerd"', gpioinfo_line(lines[0]))
        self.assertIn("kernel", gpioinfo_line(lines[2]))


if __name__ == "__main__":
    unittest.main()
