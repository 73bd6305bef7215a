# SPDX-License-Identifier: GPL-2.0-or-later
"""Every route driven with wrong input: the answer is the documented error, and
the simulated board is exactly as it was (line values, directions, holders,
EEPROM bytes, UART settings and bytes, host actions), compared through GET
/v1/sim/board before and after each request."""
import subprocess
import unittest

from hwbtest import HWBROKERD, BoardChanged, Client, Daemon, DaemonTestCase, board_diff

WHOLE = {"devices": ["/dev/gpiochip0", "/dev/i2c-1", "/dev/ttyS0"],
         "labels": {"io.hwbroker.host": "hostname", "io.hwbroker.units": "my-agent.service"}}
DIRECT = {"devices": ["/dev/gpiochip0"], "labels": {"io.hwbroker.gpio.direct": "1"}}
NARROW = {"devices": ["/dev/gpiochip0"],
          "labels": {"io.hwbroker.gpio": "gpiochip0=17,18", "io.hwbroker.i2c": "1=0x76"}}

# (socket, method, path, body or raw bytes, status). Sockets: a service name or "admin".
CASES = [
    # identity and lists: nothing to refuse, nothing may change
    ("narrow", "GET", "/v1/whoami?x=1", None, 200),
    ("nothing", "GET", "/v1/gpio", None, 200),
    ("nothing", "GET", "/v1/i2c", None, 200),
    ("nothing", "GET", "/v1/uart", None, 200),
    # GPIO: outside the grants, 403 whether or not it exists
    ("whole", "GET", "/v1/gpio/gpiochip9/1", None, 403),
    ("whole", "GET", "/v1/gpio/gpiochip1/1", None, 403),
    ("narrow", "GET", "/v1/gpio/gpiochip0/22", None, 403),
    ("narrow", "GET", "/v1/gpio/gpiochip0/999", None, 403),
    ("narrow", "GET", "/v1/gpio/gpiochip0/NOPE", None, 403),
    ("whole", "GET", "/v1/gpio/gpiochip0/999", None, 404),
    ("whole", "GET", "/v1/gpio/gpiochip0/NOPE", None, 404),
    ("whole", "GET", "/v1/gpio/gpiochip0/1x", None, 400),
    ("admin", "GET", "/v1/gpio/gpiochip9/1", None, 404),
    # the wrong line: a missing line never drives another one
    ("whole", "PUT", "/v1/gpio/gpiochip0/999", {"value": 1}, 404),
    ("whole", "PUT", "/v1/gpio/gpiochip0/NOPE", {"value": 1}, 404),
    ("admin", "PUT", "/v1/gpio/gpiochip0/999", {"value": 1}, 404),
    ("whole", "PUT", "/v1/gpio/gpiochip9/0", {"value": 1}, 403),
    ("narrow", "PUT", "/v1/gpio/gpiochip0/22", {"value": 1}, 403),
    ("nothing", "PUT", "/v1/gpio/gpiochip0/0", {"value": 1}, 403),
    ("whole", "PUT", "/v1/gpio/gpiochip0/0", {"value": "1"}, 422),
    ("whole", "PUT", "/v1/gpio/gpiochip0/0", {"value": 2}, 422),
    ("whole", "PUT", "/v1/gpio/gpiochip0/0", {"value": 1, "extra": True}, 422),
    ("whole", "PUT", "/v1/gpio/gpiochip0/0", {"direction": "input", "value": 1}, 422),
    ("whole", "PUT", "/v1/gpio/gpiochip0/0", {"bias": "sideways", "direction": "input"}, 422),
    ("whole", "PUT", "/v1/gpio/gpiochip0/0?lease=forever", {"value": 1}, 400),
    ("whole", "PUT", "/v1/gpio/gpiochip0/0", b"not json", 400),
    ("whole2", "PUT", "/v1/gpio/gpiochip0/5", {"value": 0}, 409),
    ("whole", "DELETE", "/v1/gpio/gpiochip0/7", None, 404),
    ("whole2", "DELETE", "/v1/gpio/gpiochip0/5", None, 409),
    ("narrow", "DELETE", "/v1/gpio/gpiochip0/5", None, 403),
    ("whole", "DELETE", "/v1/gpio/gpiochip0/999", None, 404),
    # group writes: all lines checked before any is driven
    ("narrow", "PUT", "/v1/gpio/gpiochip0", {"values": {"17": 1, "22": 1}}, 403),
    ("whole", "PUT", "/v1/gpio/gpiochip0", {"values": {"4": 1, "999": 1}}, 404),
    ("whole", "PUT", "/v1/gpio/gpiochip0", {"values": {"4": 1, "NOPE": 1}}, 404),
    ("whole", "PUT", "/v1/gpio/gpiochip0", {"values": {"17": 1, "0x11": 0}}, 422),
    ("whole", "PUT", "/v1/gpio/gpiochip0", {"values": {"4": "1"}}, 422),
    ("whole", "PUT", "/v1/gpio/gpiochip0", {"values": {}}, 422),
    ("whole", "PUT", "/v1/gpio/gpiochip0", {"values": [1]}, 422),
    ("whole", "PUT", "/v1/gpio/gpiochip9", {"values": {"4": 1}}, 403),
    ("whole2", "PUT", "/v1/gpio/gpiochip0", {"values": {"4": 1, "5": 1}}, 409),
    ("admin", "PUT", "/v1/gpio/gpiochip9", {"values": {"4": 1}}, 404),
    # events
    ("whole", "GET", "/v1/gpio/gpiochip0/4/events?edge=sideways", None, 400),
    ("whole", "GET", "/v1/gpio/gpiochip0/999/events", None, 404),
    ("narrow", "GET", "/v1/gpio/gpiochip0/4/events", None, 403),
    ("whole", "GET", "/v1/gpio/gpiochip0/5/events", None, 409),  # driven
    # direct handles (send() adds the Upgrade headers): the label, the grants,
    # free lines, and a backend with kernel line handles (the simulated board
    # has none)
    ("whole", "POST", "/v1/direct/gpio/gpiochip0", {"lines": [4], "direction": "input"}, 403),
    ("narrow", "POST", "/v1/direct/gpio/gpiochip0", {"lines": [17], "direction": "input"}, 403),
    ("direct", "POST", "/v1/direct/gpio/gpiochip9", {"lines": [4], "direction": "input"}, 403),
    ("admin", "POST", "/v1/direct/gpio/gpiochip9", {"lines": [4], "direction": "input"}, 404),
    ("direct", "POST", "/v1/direct/gpio/gpiochip0", {"lines": []}, 422),
    ("direct", "POST", "/v1/direct/gpio/gpiochip0", {"lines": [True]}, 422),
    ("direct", "POST", "/v1/direct/gpio/gpiochip0", {"lines": [4, "4"]}, 422),
    ("direct", "POST", "/v1/direct/gpio/gpiochip0", {"lines": [4], "values": [1, 0]}, 422),
    ("direct", "POST", "/v1/direct/gpio/gpiochip0", {"lines": [4], "values": [2]}, 422),
    ("direct", "POST", "/v1/direct/gpio/gpiochip0",
     {"lines": [4], "direction": "input", "values": [1]}, 422),
    ("direct", "POST", "/v1/direct/gpio/gpiochip0", {"lines": [4], "extra": 1}, 422),
    ("direct", "POST", "/v1/direct/gpio/gpiochip0", {"lines": [4]}, 422),  # no direction
    ("direct", "POST", "/v1/direct/gpio/gpiochip0", {"lines": [999], "direction": "input"}, 404),
    ("direct", "POST", "/v1/direct/gpio/gpiochip0", {"lines": [4, 5], "values": [1, 1]}, 409),
    ("direct", "POST", "/v1/direct/gpio/gpiochip0", {"lines": [6], "direction": "input"}, 409),
    ("direct", "POST", "/v1/direct/gpio/gpiochip0", {"lines": [4], "values": [1]}, 422),
    # I2C
    ("whole", "POST", "/v1/i2c/9/0x50/transfer", {"messages": [{"write": [0, 1]}]}, 403),
    ("admin", "POST", "/v1/i2c/9/0x50/transfer", {"messages": [{"write": [0, 1]}]}, 404),
    ("narrow", "POST", "/v1/i2c/1/0x50/transfer", {"messages": [{"write": [0, 1]}]}, 403),
    ("whole", "POST", "/v1/i2c/1/0x50/transfer", {"messages": [{"write": [0, 256]}]}, 422),
    ("whole", "POST", "/v1/i2c/1/0x50/transfer", {"messages": [{"read": 0}]}, 422),
    ("whole", "POST", "/v1/i2c/1/0x50/transfer", {"messages": [{"write": [0], "read": 1}]}, 422),
    ("whole", "POST", "/v1/i2c/1/0x50/transfer", {"messages": []}, 422),
    ("whole", "POST", "/v1/i2c/1/0x50/transfer", {"messages": "write"}, 422),
    ("whole", "POST", "/v1/i2c/1/0x3ff/transfer", {"messages": [{"write": [0, 1]}]}, 422),
    ("whole", "POST", "/v1/i2c/x/0x50/transfer", {"messages": [{"write": [0, 1]}]}, 400),
    ("whole", "POST", "/v1/i2c/1/0x40/transfer", {"messages": [{"write": [0, 1]}]}, 502),
    ("whole", "POST", "/v1/i2c/1/0x50/smbus", {"op": "write_sideways", "command": 0}, 422),
    ("whole", "POST", "/v1/i2c/1/0x50/smbus", {"op": "write_byte_data", "command": 0}, 422),
    ("whole", "POST", "/v1/i2c/1/0x50/smbus", {"op": "write_byte_data", "command": 0,
                                               "value": "x"}, 422),
    ("narrow", "POST", "/v1/i2c/1/0x50/smbus", {"op": "write_byte_data", "command": 0,
                                                "value": 7}, 403),
    ("whole", "POST", "/v1/i2c/0/0x50/smbus", {"op": "read_byte_data", "command": 0}, 403),
    # UART
    ("whole", "GET", "/v1/uart/ttyUSB9/config", None, 403),
    ("admin", "GET", "/v1/uart/ttyUSB9/config", None, 404),
    ("whole", "GET", "/v1/uart/tty0/config", None, 422),
    ("narrow", "GET", "/v1/uart/ttyS0/config", None, 403),
    ("whole", "PUT", "/v1/uart/ttyS0/config", {"baud": 12345}, 422),
    ("whole", "PUT", "/v1/uart/ttyS0/config", {"parity": "weird"}, 422),
    ("whole", "PUT", "/v1/uart/ttyS0/config", {"data_bits": "8"}, 422),
    ("whole", "PUT", "/v1/uart/ttyUSB9/config", {"baud": 9600}, 403),
    ("whole2", "PUT", "/v1/uart/ttyS0/config", {"baud": 9600}, 409),
    ("narrow", "POST", "/v1/uart/ttyS0/write", b"x", 403),
    ("whole", "POST", "/v1/uart/ttyACM0/write", b"x", 403),
    ("whole", "POST", "/v1/uart/ttyS0/write?lease=forever", b"x", 400),
    ("whole2", "POST", "/v1/uart/ttyS0/write", b"x", 409),
    ("whole", "GET", "/v1/uart/ttyS0/read?max=0", None, 400),
    ("narrow", "GET", "/v1/uart/ttyS0/read?timeout_ms=0", None, 403),
    ("narrow", "GET", "/v1/uart/ttyS0/stream", None, 403),
    ("whole", "GET", "/v1/uart/ttyS0/attach", None, 400),
    ("narrow", "GET", "/v1/uart/ttyS0/attach", None, 400),
    ("whole2", "DELETE", "/v1/uart/ttyS0", None, 409),
    ("narrow", "DELETE", "/v1/uart/ttyS0", None, 403),
    ("whole", "DELETE", "/v1/uart/ttyUSB9", None, 403),
    # host actions
    ("nothing", "POST", "/v1/host/reboot", None, 403),
    ("nothing", "POST", "/v1/host/poweroff", {"reason": "x"}, 403),
    ("whole", "POST", "/v1/host/reboot", {"reason": 5}, 422),
    ("nothing", "GET", "/v1/host/hostname", None, 403),
    ("nothing", "PUT", "/v1/host/hostname", {"hostname": "evil"}, 403),
    ("whole", "PUT", "/v1/host/hostname", {"hostname": "bad_name"}, 422),
    ("whole", "PUT", "/v1/host/hostname", {"hostname": 7}, 422),
    ("nothing", "GET", "/v1/host/time", None, 403),
    ("whole", "POST", "/v1/host/units/sshd.service/restart", None, 403),
    ("whole", "POST", "/v1/host/units/x/restart", None, 422),
    # admin socket
    ("admin", "GET", "/v1/services?x=1", None, 200),
    ("admin", "PUT", "/v1/services/bad", {"labels": {"io.hwbroker.nonsense": "1"}}, 422),
    ("admin", "PUT", "/v1/services/bad", {"labels": {"io.hwbroker.i2c": "1=0x76,"}}, 422),
    ("admin", "PUT", "/v1/services/bad", {"devices": 5}, 422),
    ("admin", "PUT", "/v1/services/admin", {}, 422),
    ("admin", "PUT", "/v1/services/Bad_Name", {}, 422),
    ("admin", "PUT", "/v1/services/x", b"[1", 400),
    ("admin", "GET", "/v1/services/ghost", None, 404),
    ("admin", "DELETE", "/v1/services/ghost", None, 404),
    ("admin", "PUT", "/v1/state", {"services": {"whole": WHOLE, "x": {"devices": 5}}}, 422),
    ("admin", "PUT", "/v1/state", {"services": []}, 422),
    ("admin", "GET", "/v1/health?x=1", None, 200),
    ("admin", "GET", "/metrics?x=1", None, 200),
    ("admin", "GET", "/v1/audit?limit=0", None, 400),
    # simulator controls: wrong input changes nothing
    ("admin", "POST", "/v1/sim/gpio/gpiochip0/999", {"pull": "up"}, 404),
    ("admin", "POST", "/v1/sim/gpio/gpiochip0/4", {"pull": "sideways"}, 422),
    ("admin", "POST", "/v1/sim/gpio/gpiochip9", {"present": False}, 404),
    ("admin", "POST", "/v1/sim/gpio/gpiochip0", {"present": "no"}, 422),
    ("admin", "POST", "/v1/sim/i2c/9", {"delay_ms": 5}, 404),
    ("admin", "POST", "/v1/sim/i2c/1", {"fault": {"address": "0x40", "error": "nack"}}, 404),
    ("admin", "POST", "/v1/sim/i2c/1", {"fault": {"address": "0x50", "error": "melt"}}, 422),
    ("admin", "POST", "/v1/sim/uart/ttyUSB9", {"present": False}, 404),
    ("admin", "POST", "/v1/sim/uart/ttyS0", {"present": 1}, 422),
    ("admin", "GET", "/v1/sim/board?x=1", None, 200),
    ("admin", "GET", "/v1/sim/host/actions?x=1", None, 200),
]


def pattern_matches(pattern, method, path, case_method):
    """Does a request path fit a route pattern ({x} is one segment)?"""
    if method != case_method:
        return False
    want = pattern.split("/")
    got = path.split("?")[0].split("/")
    return len(want) == len(got) and all(
        w.startswith("{") or w == g for w, g in zip(want, got))


class RefusalTest(DaemonTestCase):
    def setUp(self):
        super().setUp()
        d = self.daemon
        d.register("whole", WHOLE)
        d.register("whole2", WHOLE)
        d.register("narrow", NARROW)
        d.register("direct", DIRECT)
        d.register("nothing", {})
        # A board with things to disturb: a driven line, a watched input, EEPROM
        # bytes, a configured port held by a service.
        self.whole = d.service("whole")
        assert self.whole.put("/v1/gpio/gpiochip0/5", body={"value": 1}).status == 200
        assert self.whole.put("/v1/gpio/gpiochip0/17", body={"value": 0}).status == 200
        self.watch = Client(d.socket_path("whole"), timeout=30)
        self.events = self.watch.stream("/v1/gpio/gpiochip0/6/events")
        r = self.whole.post("/v1/i2c/1/0x50/transfer",
                            body={"messages": [{"write": [0x10, 1, 2, 3, 4]}]})
        assert r.status == 200, r
        r = self.whole.put("/v1/uart/ttyS0/config", body={"baud": 57600, "parity": "even"})
        assert r.status == 200, r
        assert self.whole.post("/v1/uart/ttyS0/write", raw=b"hello").status == 200
        # The loopback device has it once it comes back.
        r = self.whole.get("/v1/uart/ttyS0/read?max=5&timeout_ms=5000")
        assert r.data == b"hello", r

    def tearDown(self):
        self.watch.abort()
        super().tearDown()

    def send(self, who, method, path, body):
        c = Client(self.daemon.admin_path if who == "admin" else self.daemon.socket_path(who))
        headers = None
        if path.startswith("/v1/direct/"):
            headers = {"Connection": "Upgrade", "Upgrade": "hwbroker-fd"}
        try:
            if isinstance(body, bytes):
                return c.request(method, path, raw=body, headers=headers)
            return c.request(method, path, body=body, headers=headers)
        finally:
            c.close()

    def test_every_route_refuses_wrong_input_and_changes_nothing(self):
        admin = Client(self.daemon.admin_path)
        services_before = admin.get("/v1/services").json
        audit_before = len(admin.get("/v1/audit?limit=1000").json["records"])
        for who, method, path, body, status in CASES:
            with self.subTest(who=who, method=method, path=path):
                before = self.daemon.board()
                r = self.send(who, method, path, body)
                self.assertEqual(r.status, status, r)
                if status >= 400:
                    self.assertIn("error", r.json)
                    self.assertTrue(r.json["error"]["message"], r)
                after = self.daemon.board()
                self.assertEqual(after, before, board_diff(before, after))
        self.assertEqual(admin.get("/v1/services").json, services_before)
        # Every denial is on record.
        denials = sum(1 for c in CASES if c[4] == 403)
        records = admin.get("/v1/audit?limit=1000").json["records"]
        self.assertGreaterEqual(len(records) - audit_before, denials)
        admin.close()

    def test_the_cases_cover_every_route(self):
        routes = subprocess.run([HWBROKERD, "--routes"], capture_output=True, check=True,
                                text=True).stdout.splitlines()
        self.assertGreater(len(routes), 30)
        for line in routes:
            method, pattern = line.split()[:2]
            self.assertTrue(any(pattern_matches(pattern, method, c[2], c[1]) for c in CASES),
                            "no wrong-input case for %s %s" % (method, pattern))

    def test_a_missing_line_never_drives_another(self):
        before = self.daemon.board()
        line0 = before["gpio"]["chips"][0]["lines"][0]
        self.assertEqual((line0["direction"], line0["requested"], line0["holder"]),
                         ("input", False, None))
        r = self.whole.put("/v1/gpio/gpiochip0/999", body={"value": 1})
        self.assertEqual(r.status, 404, r)
        self.assertIn("no line 999", r.json["error"]["message"])
        line0 = self.daemon.board()["gpio"]["chips"][0]["lines"][0]
        self.assertEqual((line0["direction"], line0["requested"], line0["holder"], line0["level"]),
                         ("input", False, None, 0))


class GuardTest(unittest.TestCase):
    """The harness's board guard itself notices a change."""

    def test_guard_raises_on_a_changed_board(self):
        d = Daemon().start()
        try:
            d.register("s", {"devices": ["/dev/gpiochip0"]})
            boards = iter([{"gpio": 1}, {"gpio": 2}])
            d.board = lambda: next(boards)
            c = d.service("s")
            with self.assertRaises(BoardChanged):
                c.get("/v1/gpio/gpiochip0/999")
            c.close()
        finally:
            d.stop()


if __name__ == "__main__":
    unittest.main()
