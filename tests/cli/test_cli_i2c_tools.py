# SPDX-License-Identifier: GPL-2.0-or-later
"""hwbroker i2c get/set/transfer/dump/detect with i2c-tools' arguments, mode letters and
output, against the real daemon (the EEPROM at 1:0x50 and the BME280 at 1:0x76 of the
simulated board) and, for what the board cannot show, a fake broker. Expected output is
rendered here from values read over HTTP on the admin socket."""
import json
import re
import subprocess
import unittest

from fakebroker import FakeBroker, error
from hwbtest import HWBROKER_CLI, DaemonTestCase

GRANTED = "1=0x48,0x50,0x76,0x77"


def i2cdump_table(values, first=0, last=0xff):
    """i2cdump's byte-mode table: hex, then the ASCII column ('.' for 0x00/0xff, '?' for
    other non-printables, 'X' for unreadable); rows outside FIRST-LAST are not printed."""
    out = ["     0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f    0123456789abcdef"]
    for row in range(first & ~0xF, last + 1, 16):
        hexes, text = "", ""
        for i in range(row, row + 16):
            v = values[i]
            if i < first or i > last:
                hexes, text = hexes + "   ", text + " "
            elif v is None:
                hexes, text = hexes + "XX ", text + "X"
            else:
                hexes += "%02x " % v
                text += "." if v in (0, 0xFF) else "?" if v < 32 or v >= 127 else chr(v)
        out.append("%02x: %s   %s" % (row, hexes, text))
    return "\n".join(out) + "\n"


def i2cdetect_grid(cells):
    """i2cdetect's grid; cells maps an address to its 2-character cell, others are blank."""
    out = ["     0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f"]
    for row in range(0, 128, 16):
        out.append("%02x: " % row + "".join(cells.get(a, "  ") + " " for a in range(row, row + 16)))
    return "\n".join(out) + "\n"


def pseudo_random(seed, n):
    """i2ctransfer's 'p' suffix: 8-bit AXR, a=13, b=27, rotated left by one."""
    out, d = [], seed
    for _ in range(n):
        out.append(d)
        d = ((d ^ 27) + 13) & 0xFF
        d = ((d << 1) | (d >> 7)) & 0xFF
    return out


class I2cToolsTest(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.daemon.register("sensor", {"devices": ["/dev/i2c-1"],
                                        "labels": {"io.hwbroker.i2c": GRANTED}})
        self.daemon.register("reader", {"devices": ["/dev/i2c-1:/dev/i2c-1:r"],
                                        "labels": {"io.hwbroker.i2c": "1=0x50"}})
        self.admin = self.daemon.admin()
        self.addCleanup(self.admin.close)

    def cli(self, *args, service="sensor", **kw):
        return self.daemon.cli(*args, service=service, **kw)

    def ok(self, *args, **kw):
        r = self.cli(*args, **kw)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.decode()

    def smbus(self, addr, **body):
        r = self.admin.post("/v1/i2c/1/%s/smbus" % addr, body=body)
        return r

    def eeprom_write(self, reg, data):
        # The 24C02 writes pages of 8: keep every write inside one.
        for off in range(0, len(data), 8):
            r = self.smbus("0x50", op="write_i2c_block_data", command=reg + off,
                           data=data[off:off + 8])
            self.assertEqual(r.status, 200, r)

    def eeprom(self, reg, n):
        out = []
        while n:
            k = min(n, 32)
            out += self.smbus("0x50", op="read_i2c_block_data", command=reg, length=k).json["data"]
            reg, n = reg + k, n - k
        return out

    def test_get_modes(self):
        data = [0x3C, 0xA5, 0x41, 0x7E, 0x00, 0xFF, 0x12, 0x34]
        self.eeprom_write(0x10, data)
        self.assertEqual(self.ok("i2c", "get", "-y", "1", "0x50", "0x10"), "0x%02x\n" % data[0])
        self.assertEqual(self.ok("i2c", "get", "1", "0x50", "0x10", "b"), "0x%02x\n" % data[0])
        self.assertEqual(self.ok("i2c", "get", "1", "0x50", "0x10", "w"),
                         "0x%04x\n" % (data[0] | data[1] << 8))
        # c: the register goes out alone, then a byte is read from there.
        self.assertEqual(self.ok("i2c", "get", "1", "0x50", "0x12", "c"), "0x%02x\n" % data[2])
        # No register: a receive byte where the pointer is.
        self.assertEqual(self.ok("i2c", "set", "1", "0x50", "0x13", "c"), "")
        self.assertEqual(self.ok("i2c", "get", "1", "0x50"), "0x%02x\n" % data[3])
        self.assertEqual(self.ok("i2c", "get", "1", "0x50", "0x10", "i", "4"),
                         " ".join("0x%02x" % b for b in data[:4]) + "\n")
        self.assertEqual(self.ok("i2c", "get", "1", "0x50", "0x10", "i"),
                         " ".join("0x%02x" % b for b in self.eeprom(0x10, 32)) + "\n")
        self.assertEqual(json.loads(self.ok("--json", "i2c", "get", "1", "0x50", "0x10", "i", "2")),
                         {"data": data[:2]})
        self.assertEqual(json.loads(self.ok("i2c", "get", "1", "0x50", "0x11", "--json")),
                         {"value": data[1]})
        chip_id = self.smbus("0x76", op="read_byte_data", command=0xD0).json["value"]
        self.assertEqual(self.ok("i2c", "get", "1", "0x76", "0xd0"), "0x%02x\n" % chip_id)

    def test_set_modes(self):
        self.ok("i2c", "set", "-y", "1", "0x50", "0x20", "0x5a")
        self.assertEqual(self.eeprom(0x20, 1), [0x5A])
        self.ok("i2c", "set", "1", "0x50", "0x22", "0xbeef", "w")
        self.assertEqual(self.eeprom(0x22, 2), [0xEF, 0xBE])
        self.ok("i2c", "set", "1", "0x50", "0x28", "1", "2", "3", "0x44", "i")
        self.assertEqual(self.eeprom(0x28, 4), [1, 2, 3, 0x44])
        # s puts the count on the wire; the EEPROM stores it, and s reads it back.
        self.ok("i2c", "set", "1", "0x50", "0x30", "7", "8", "9", "s")
        self.assertEqual(self.eeprom(0x30, 4), [3, 7, 8, 9])
        self.assertEqual(self.ok("i2c", "get", "1", "0x50", "0x30", "s"), "0x07 0x08 0x09\n")
        # -m: only the bits of the mask change.
        self.ok("i2c", "set", "1", "0x50", "0x20", "0x0f", "-m", "0x0f")
        self.assertEqual(self.eeprom(0x20, 1), [0x5F])
        self.assertEqual(self.ok("i2c", "set", "-r", "1", "0x50", "0x21", "0x66"),
                         "Value 0x66 written, readback matched\n")
        self.assertEqual(self.ok("i2c", "set", "-r", "1", "0x50", "0x22", "0x1234", "w"),
                         "Value 0x1234 written, readback matched\n")

    def test_refused_write_changes_nothing(self):
        before = self.eeprom(0x40, 4)
        r = self.cli("i2c", "set", "1", "0x50", "0x40", "0x99", service="reader")
        self.assertEqual(r.returncode, 3, r.stderr)
        r = self.cli("i2c", "transfer", "1", "w2@0x50", "0x40", "0x99", service="reader")
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertEqual(self.eeprom(0x40, 4), before)
        # Reading stays allowed.
        self.assertEqual(self.cli("i2c", "get", "1", "0x50", "0x40", service="reader").stdout,
                         b"0x%02x\n" % before[0])
        # Granted but nothing answers: a plain failure.
        self.assertEqual(self.cli("i2c", "get", "1", "0x48", "0").returncode, 1)

    def test_transfer_syntax(self):
        self.ok("i2c", "transfer", "-y", "1", "w9@0x50", "0x40", "0x10+")
        self.assertEqual(self.eeprom(0x40, 8), list(range(0x10, 0x18)))
        self.ok("i2c", "transfer", "1", "w5@0x50", "0x48", "0xaa=")
        self.ok("i2c", "transfer", "1", "w5@0x50", "0x4c", "0x03-")
        self.assertEqual(self.eeprom(0x48, 8), [0xAA] * 4 + [3, 2, 1, 0])
        self.ok("i2c", "transfer", "1", "w9@0x50", "0x50", "0x42p")
        self.assertEqual(self.eeprom(0x50, 8), pseudo_random(0x42, 8))
        # Several data bytes, then several reads: one line of hex per read.
        self.ok("i2c", "transfer", "1", "w3@0x50", "0x58", "0x61", "0x62")
        out = self.ok("i2c", "transfer", "1", "w1@0x50", "0x40", "r8", "r2")
        self.assertEqual(out.splitlines()[0], " ".join("0x%02x" % b for b in range(0x10, 0x18)))
        self.assertEqual(len(out.splitlines()), 2)
        self.assertEqual(self.ok("i2c", "transfer", "1", "w1@0x50", "0x58", "r2"), "0x61 0x62\n")
        self.assertEqual(json.loads(self.ok("--json", "i2c", "transfer", "1", "w1@0x50", "0x58",
                                            "r2")), {"reads": [[0x61, 0x62]]})
        # The form from before i2ctransfer's syntax.
        self.assertEqual(self.ok("i2c", "transfer", "1", "0x50", "w:0x58", "r:2"), "0x61 0x62\n")

    def test_transfer_usage_errors(self):
        cases = [
            (["w1@0x50", "0x00", "r1@0x51"], "messages to 0x50 and 0x51"),
            (["w2@0x50", "0x00"], "incomplete message: 1 of 2 data bytes"),
            (["w1", "0x00"], "no address yet"),
            (["w2@0x50", "zz"], "bad data byte 'zz'"),
            (["w2@0x50", "0x10*"], "bad suffix in '0x10*'"),
            (["w1@0x50", "0x100"], "bad data byte '0x100'"),
            (["r?@0x50"], "not available through the broker"),
            (["x1@0x50"], "bad message 'x1@0x50'"),
            (["w1@0x80", "0"], "bad address '0x80' (0x03-0x77)"),
        ]
        for args, message in cases:
            r = self.cli("i2c", "transfer", "1", *args)
            self.assertEqual(r.returncode, 2, args)
            lines = r.stderr.decode().splitlines()
            self.assertEqual(len(lines), 2, r.stderr)
            self.assertTrue(lines[0].startswith("hwbroker: i2c transfer: "), lines)
            self.assertIn(message, lines[0])
            self.assertTrue(lines[1].startswith("usage: hwbroker i2c transfer "), lines)
        self.assertEqual(self.cli("i2c", "transfer", "1", "-a", "w1@0x78", "0").returncode, 3)

    def test_dump_table(self):
        self.eeprom_write(0x00, [0x00, 0xFF, 0x41, 0x7A, 0x20, 0x7E, 0x7F, 0x1F])
        self.eeprom_write(0x08, list(b"hwbroker"))
        values = self.eeprom(0, 256)
        out = self.ok("i2c", "dump", "-y", "1", "0x50")
        self.assertEqual(out, i2cdump_table(values))
        self.assertEqual(self.ok("i2c", "dump", "1", "0x50", "b"), out)
        self.assertEqual(self.ok("i2c", "dump", "1", "0x50", "i"), out)
        self.assertEqual(self.ok("i2c", "dump", "-r", "0x05-0x2a", "1", "0x50"),
                         i2cdump_table(values, 0x05, 0x2A))
        # Nothing answers at 0x77: every register is unreadable.
        self.assertEqual(self.ok("i2c", "dump", "1", "0x77"), i2cdump_table([None] * 256))
        j = json.loads(self.ok("--json", "i2c", "dump", "1", "0x50", "-r", "0-3"))
        self.assertEqual(j["data"][:5], values[:4] + [None])
        # A refusal stops the dump before any table.
        r = self.cli("i2c", "dump", "1", "0x51")
        self.assertEqual((r.returncode, r.stdout), (3, b""))
        self.assertIn(b"i2c dump", r.stderr)

    def test_detect_grid(self):
        granted = {}
        for bus in self.daemon.service("sensor").get("/v1/i2c").json["buses"]:
            if bus["bus"] == 1:
                granted = {int(a["address"], 16) for a in bus["addresses"]}
        cells = {}
        for a in granted:
            r = self.smbus("0x%02x" % a, op="read_byte")
            cells[a] = "%02x" % a if r.status == 200 else "--"
        self.assertIn("--", cells.values())
        self.assertEqual(self.ok("i2c", "detect", "-y", "1"), i2cdetect_grid(cells))
        self.assertEqual(self.ok("i2c", "detect", "1", "0x50", "0x76"),
                         i2cdetect_grid({a: c for a, c in cells.items() if 0x50 <= a <= 0x76}))
        j = json.loads(self.ok("--json", "i2c", "detect", "1"))
        self.assertEqual(sorted(j["present"]), sorted("0x%02x" % a for a, c in cells.items()
                                                      if c != "--"))
        self.assertEqual(j["busy"], [])
        self.assertEqual(j["failed"], [])
        # Bus 0 has nothing for this service.
        r = self.cli("i2c", "detect", "0")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"bus 0: no address on it is available", r.stderr)

    def test_usage_errors_name_the_argument(self):
        cases = [
            (["get", "1", "zz"], "get", "bad address 'zz' (0x03-0x77)"),
            (["get", "1", "0x02"], "get", "bad address '0x02' (0x03-0x77)"),
            (["get", "x", "0x50"], "get", "bad bus 'x' (0-1023)"),
            (["get", "1", "0x50", "0x100"], "get", "bad register '0x100' (0x00-0xff)"),
            (["get", "1", "0x50", "0", "q"], "get", "bad mode 'q' (b, w, c, s or i)"),
            (["get", "1", "0x50", "0", "bp"], "get", "PEC is not available"),
            (["get", "1", "0x50", "0", "b", "4"], "get", "LENGTH '4' goes only with mode i"),
            (["get", "1", "0x50", "0", "i", "33"], "get", "bad length '33' (1-32)"),
            (["get", "-f", "1", "0x50"], "get", "-f is not available"),
            (["get", "1"], "get", "missing ADDR"),
            (["set", "1", "0x50", "0x10", "0x100"], "set", "bad value '0x100' (0x00-0xff)"),
            (["set", "1", "0x50", "0x10", "1", "c"], "set", "mode c takes no VALUE"),
            (["set", "1", "0x50", "0x10", "1", "2"], "set", "several need s or i"),
            (["set", "1", "0x50", "0x10", "1", "-m", "0x3", "i"], "set", "-m goes only with"),
            (["dump", "1", "0x50", "w"], "dump", "bad mode 'w' (b or i)"),
            (["dump", "-r", "9-3", "1", "0x50"], "dump", "bad range '9-3'"),
            (["detect", "1", "0x10"], "detect", "FIRST without LAST"),
            (["detect", "-q", "-r", "1"], "detect", "-q and -r exclude each other"),
            (["detect", "1", "0x02", "0x10"], "detect", "bad FIRST '0x02' (0x03-0x77)"),
        ]
        for args, sub, message in cases:
            r = self.cli("i2c", *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stdout, b"", args)
            lines = r.stderr.decode().splitlines()
            self.assertEqual(len(lines), 2, r.stderr)
            self.assertTrue(lines[0].startswith("hwbroker: i2c %s: " % sub), lines)
            self.assertIn(message, lines[0], args)
            self.assertRegex(lines[1], r"^usage: hwbroker i2c %s \[-y\]" % sub)


class DetectFakeBrokerTest(unittest.TestCase):
    """UU, XX and the probe kinds: a broker that answers per address."""

    ANSWERS = {0x20: error(409, "conflict", "bus 1: address 0x20 is used by a kernel driver"),
               0x21: error(403, "forbidden", "no grant for 0x21"),
               0x48: (200, {"value": 0}),
               0x50: error(502, "nack", "bus 1: device 0x50 did not answer"),
               0x51: error(504, "timeout", "bus 1: address 0x51 timed out")}

    def broker(self):
        routes = {("GET", "/v1/i2c"): (200, {"buses": [{"bus": 1, "addresses": [
            {"address": "0x%02x" % a, "access": "ro" if a == 0x48 else "rw"}
            for a in self.ANSWERS]}]})}
        for a, answer in self.ANSWERS.items():
            routes[("POST", "/v1/i2c/1/%u/smbus" % a)] = answer
        b = FakeBroker(routes)
        self.addCleanup(b.close)
        return b

    def detect(self, b, *args):
        return subprocess.run([HWBROKER_CLI, "--socket", b.path, "i2c", "detect"] + list(args),
                              capture_output=True, timeout=30)

    def probes(self, b):
        return {int(p.split("/")[4]): body["op"] + ("" if body.get("read", True) else "_write")
                for m, p, body in b.requests if m == "POST"}

    def test_uu_xx_and_the_scan_goes_on(self):
        b = self.broker()
        r = self.detect(b, "1")
        self.assertEqual(r.stdout.decode(), i2cdetect_grid(
            {0x20: "UU", 0x21: "XX", 0x48: "48", 0x50: "--", 0x51: "XX"}))
        self.assertEqual(r.returncode, 3)  # the first failure's: a refusal
        self.assertEqual(r.stderr.decode().splitlines(),
                         ["hwbroker: i2c detect: 0x21: no grant for 0x21",
                          "hwbroker: i2c detect: 0x51: bus 1: address 0x51 timed out"])
        # i2cdetect's probes; a read-only grant is read, as a quick write needs write access.
        self.assertEqual(self.probes(b), {0x20: "quick_write", 0x21: "quick_write",
                                          0x48: "read_byte", 0x50: "read_byte", 0x51: "read_byte"})
        j = json.loads(self.detect(b, "--json", "1").stdout)
        self.assertEqual((j["present"], j["absent"], j["busy"]), (["0x48"], ["0x50"], ["0x20"]))
        self.assertEqual([f["address"] for f in j["failed"]], ["0x21", "0x51"])

    def test_forced_probe_kinds(self):
        b = self.broker()
        self.detect(b, "-q", "1")
        self.assertEqual(set(self.probes(b).values()), {"quick_write"})
        b.requests.clear()
        self.detect(b, "-r", "1")
        self.assertEqual(set(self.probes(b).values()), {"read_byte"})

    def test_dump_stops_on_a_kernel_driver(self):
        b = self.broker()
        r = subprocess.run([HWBROKER_CLI, "--socket", b.path, "i2c", "dump", "1", "0x20"],
                           capture_output=True, timeout=30)
        self.assertEqual((r.returncode, r.stdout), (4, b""))
        self.assertIn(b"used by a kernel driver", r.stderr)
        self.assertEqual(len([q for q in b.requests if q[0] == "POST"]), 1)


if __name__ == "__main__":
    unittest.main()
