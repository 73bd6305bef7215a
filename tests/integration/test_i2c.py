# SPDX-License-Identifier: GPL-2.0-or-later
"""I2C end to end on the simulated board (BME280 at 1:0x76, 24C02 at 1:0x50)."""
import json
import os
import subprocess
import threading
import time
import unittest

from hwbtest import BIN_DIR, Client, Daemon, DaemonTestCase

SENSOR = {"devices": ["/dev/i2c-1"], "labels": {"io.hwbroker.i2c": "1=0x76,0x50,0x77"}}
EXAMPLE = os.path.join(os.environ.get("HWB_BUILD_DIR", "."), "clients", "examples", "bme280_reader")


class I2cTest(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.daemon.register("sensor", SENSOR)
        self.s = self.daemon.service("sensor")

    def smbus(self, addr, **body):
        return self.s.post("/v1/i2c/1/%s/smbus" % addr, body=body)

    def transfer(self, addr, *msgs):
        return self.s.post("/v1/i2c/1/%s/transfer" % addr, body={"messages": list(msgs)})

    def test_chip_id(self):
        r = self.smbus("0x76", op="read_byte_data", command=0xD0)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"value": 0x60})
        self.assertEqual(self.smbus("118", op="read_byte_data", command=208).json["value"], 0x60)

    def test_compensated_reading_is_physical(self):
        env = dict(os.environ, HWBROKER_SOCKET=self.daemon.socket_path("sensor"))
        r = subprocess.run([EXAMPLE, "--json", "--count", "2", "--interval", "0"], env=env,
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        for line in r.stdout.decode().splitlines():
            m = json.loads(line)
            self.assertTrue(-40 <= m["temperature_c"] <= 85, m)
            self.assertTrue(15 <= m["temperature_c"] <= 30, m)  # the simulated room
            self.assertTrue(950 <= m["pressure_hpa"] <= 1050, m)
            self.assertTrue(0 <= m["humidity_pct"] <= 100, m)
            self.assertTrue(30 <= m["humidity_pct"] <= 60, m)
        # Another address is refused by policy even for the same program.
        r = subprocess.run([EXAMPLE, "--address", "0x48"], env=env, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 3, r.stderr)

    def test_eeprom_write_then_read_across_a_page(self):
        # 6 bytes at 0x06: the page (0x00-0x07) wraps after two of them.
        self.assertEqual(self.transfer("0x50", {"write": [0x06, 1, 2, 3, 4, 5, 6]}).status, 200)
        r = self.transfer("0x50", {"write": [0x00]}, {"read": 8})
        self.assertEqual(r.json["reads"], [[3, 4, 5, 6, 255, 255, 1, 2]])
        # Two page writes cover a boundary; a sequential read crosses it.
        self.transfer("0x50", {"write": [0x10] + list(range(100, 108))})
        self.transfer("0x50", {"write": [0x18] + list(range(108, 116))})
        r = self.transfer("0x50", {"write": [0x14]}, {"read": 8})
        self.assertEqual(r.json["reads"], [list(range(104, 112))])
        r = self.smbus("0x50", op="read_i2c_block_data", command=0x10, length=16)
        self.assertEqual(r.json["data"], list(range(100, 116)))

    def test_combined_write_then_read(self):
        self.assertEqual(self.smbus("0x76", op="write_byte_data", command=0xF4, value=0x25).status, 200)
        r = self.transfer("0x76", {"write": [0xF7]}, {"read": 8}, {"write": [0xD0]}, {"read": 1})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.json["reads"]), 2)
        self.assertEqual(len(r.json["reads"][0]), 8)
        self.assertNotEqual(r.json["reads"][0][:3], [0, 0, 0])  # a measurement happened
        self.assertEqual(r.json["reads"][1], [0x60])
        r = self.smbus("0x76", op="read_word_data", command=0x88)
        calib = self.transfer("0x76", {"write": [0x88]}, {"read": 2}).json["reads"][0]
        self.assertEqual(r.json["value"], calib[0] | calib[1] << 8)

    def test_nack_is_distinct(self):
        r = self.smbus("0x77", op="read_byte")
        self.assertEqual(r.status, 502, r)
        self.assertEqual(r.error_code, "nack")
        self.assertIn("0x77", r.json["error"]["message"])
        self.assertEqual(self.daemon.admin().post("/v1/i2c/0/0x10/smbus",
                                                   body={"op": "read_byte"}).error_code, "nack")
        self.assertEqual(self.daemon.admin().post("/v1/i2c/9/0x10/smbus",
                                                   body={"op": "read_byte"}).status, 404)

    def test_per_address_and_read_only_refusals(self):
        r = self.smbus("0x48", op="read_byte")
        self.assertEqual(r.status, 403)
        self.assertIn("0x48", r.json["error"]["message"])
        self.assertIn("io.hwbroker.i2c", r.json["error"]["hint"])
        self.daemon.register("reader", {"devices": ["/dev/i2c-1:/dev/i2c-1:r"]})
        rd = self.daemon.service("reader")
        self.assertEqual(rd.post("/v1/i2c/1/0x76/smbus", body={"op": "read_byte_data",
                                                               "command": 0xD0}).status, 200)
        r = rd.post("/v1/i2c/1/0x50/smbus", body={"op": "write_byte_data", "command": 0, "value": 1})
        self.assertEqual(r.status, 403)
        self.assertIn("read-only", r.json["error"]["hint"])
        r = rd.post("/v1/i2c/1/0x50/transfer", body={"messages": [{"write": [0]}, {"read": 1}]})
        self.assertEqual(r.status, 403)
        # Reserved addresses are refused unless a label names them.
        self.assertEqual(rd.post("/v1/i2c/1/0x7a/smbus", body={"op": "read_byte"}).status, 403)

    def test_bad_requests(self):
        self.assertEqual(self.smbus("0x276", op="read_byte").status, 422)  # 10-bit
        self.assertEqual(self.smbus("zz", op="read_byte").status, 400)
        self.assertEqual(self.smbus("0x76", op="read_everything").status, 422)
        self.assertEqual(self.smbus("0x76", op="write_byte_data", command=1).status, 422)
        self.assertEqual(self.smbus("0x76", op="read_byte", command=300).status, 422)
        self.assertEqual(self.transfer("0x76").status, 422)
        self.assertEqual(self.transfer("0x76", {"read": 0}).status, 422)
        self.assertEqual(self.transfer("0x76", {"write": [256]}).status, 422)
        self.assertEqual(self.transfer("0x76", {"write": [1], "read": 1}).status, 422)
        self.assertEqual(self.transfer("0x76", *([{"read": 1}] * 17)).status, 422)

    def test_list(self):
        r = self.s.get("/v1/i2c")
        self.assertEqual(r.json["buses"], [{"bus": 1, "addresses": [
            {"address": "0x50", "access": "rw"}, {"address": "0x76", "access": "rw"},
            {"address": "0x77", "access": "rw"}]}])

    def test_slow_bus_does_not_delay_gpio(self):
        self.daemon.register("both", {"devices": ["/dev/i2c-1", "/dev/gpiochip0"]})
        self.assertEqual(self.daemon.admin().post("/v1/sim/i2c/1", body={"delay_ms": 800}).status, 200)
        order = []
        slow = Client(self.daemon.socket_path("both"))

        def slow_read():
            r = slow.post("/v1/i2c/1/0x76/smbus", body={"op": "read_byte_data", "command": 0xD0})
            order.append(("i2c", r.status))

        t = threading.Thread(target=slow_read)
        t.start()
        time.sleep(0.1)  # let the I2C request reach its worker first
        fast = self.daemon.service("both")
        r = fast.put("/v1/gpio/gpiochip0/17", body={"value": 1})
        order.append(("gpio", r.status))
        t.join(30)
        self.assertEqual(order, [("gpio", 200), ("i2c", 200)])

    def test_timeout(self):
        d = self.daemon
        d.admin().post("/v1/sim/i2c/1", body={"delay_ms": 1500})
        r = self.smbus("0x76", op="read_byte")
        self.assertEqual(r.status, 504, r)
        self.assertEqual(r.error_code, "timeout")
        d.admin().post("/v1/sim/i2c/1", body={"delay_ms": 0})
        # The bus recovers: later requests are answered.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = self.smbus("0x76", op="read_byte_data", command=0xD0)
            if r.status == 200:
                break
        self.assertEqual(r.json["value"], 0x60)

    def test_cli_like_i2c_tools(self):
        d = self.daemon
        r = d.cli("i2c", "get", "1", "0x76", "0xd0", service="sensor")
        self.assertEqual((r.returncode, r.stdout), (0, b"0x60\n"), r.stderr)
        self.assertEqual(d.cli("i2c", "set", "1", "0x50", "0x20", "0xab", service="sensor").returncode, 0)
        self.assertEqual(d.cli("i2c", "get", "1", "0x50", "0x20", service="sensor").stdout, b"0xab\n")
        r = d.cli("i2c", "transfer", "1", "0x50", "w:0x20", "r:2", service="sensor")
        self.assertEqual(r.stdout, b"0xab 0xff\n", r.stderr)
        r = d.cli("i2c", "detect", "1", service="sensor")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"50: 50", r.stdout)
        self.assertRegex(r.stdout, rb"\n70: +76 -- +\n")
        r = d.cli("i2c", "get", "1", "0x48", service="sensor")
        self.assertEqual(r.returncode, 3)
        self.assertEqual(d.cli("i2c", "get", "1", service="sensor").returncode, 2)
        self.assertEqual(d.cli("i2c", "list", service="sensor").stdout, b"1 0x50 0x76 0x77\n")

    def test_c_library(self):
        r = subprocess.run([os.path.join(BIN_DIR, "client_i2c"), self.daemon.socket_path("sensor")],
                           capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    unittest.main()
