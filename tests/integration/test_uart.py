# SPDX-License-Identifier: GPL-2.0-or-later
"""UART end to end on the simulated board's pseudo-terminal ports:
ttyS0 echoes, ttyACM0 is a GPS sending NMEA once a second."""
import os
import random
import socket
import threading
import time
import unittest

from hwbtest import Client, Daemon, DaemonTestCase

PORTS = {"devices": ["/dev/ttyS0", "/dev/ttyACM0"]}


def read_exactly(client, port, n, timeout=20):
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        r = client.get("/v1/uart/%s/read?max=65536&timeout_ms=500" % port)
        assert r.status == 200, r
        got += r.data
    return got


def attach(path, port):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(("GET /v1/uart/%s/attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
               "Upgrade: hwbroker-uart\r\n\r\n" % port).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        c = s.recv(1)
        if not c:
            break
        head += c
    return s, head


class UartTest(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.daemon.register("a", PORTS)
        self.daemon.register("b", PORTS)
        self.a = self.daemon.service("a")
        self.b = self.daemon.service("b")

    def test_all_byte_values_round_trip(self):
        data = bytes(range(256)) * 4
        r = self.a.post("/v1/uart/ttyS0/write", raw=data)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"written": len(data)})
        self.assertEqual(read_exactly(self.a, "ttyS0", len(data)), data)

    def test_read_timeout_returns_what_arrived(self):
        self.a.post("/v1/uart/ttyS0/write", raw=b"x")
        self.assertEqual(read_exactly(self.a, "ttyS0", 1), b"x")
        t = time.monotonic()
        r = self.a.get("/v1/uart/ttyS0/read?max=10&timeout_ms=300")
        self.assertEqual((r.status, r.data), (200, b""))
        self.assertEqual(self.a.get("/v1/uart/ttyS0/read?timeout_ms=99999").status, 400)
        self.assertEqual(self.a.get("/v1/uart/ttyS0/read?max=0").status, 400)

    def test_one_mebibyte_through_attach(self):
        s, head = attach(self.daemon.socket_path("a"), "ttyS0")
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        data = random.Random(7).randbytes(1 << 20)
        got = bytearray()

        def writer():
            s.sendall(data)

        t = threading.Thread(target=writer)
        t.start()
        s.settimeout(60)
        while len(got) < len(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        t.join()
        s.close()
        self.assertEqual(len(got), len(data))
        self.assertTrue(bytes(got) == data, "bytes differ")

    def test_configuration(self):
        for baud in (1200, 9600, 115200, 921600, 4000000):
            for stop in (1, 2):
                for flow in ("none", "rtscts", "xonxoff"):
                    want = {"baud": baud, "data_bits": 8, "parity": "none", "stop_bits": stop,
                            "flow": flow}
                    r = self.a.put("/v1/uart/ttyS0/config", body=want)
                    self.assertEqual((r.status, r.json), (200, want), r)
                    self.assertEqual(self.a.get("/v1/uart/ttyS0/config").json, dict(want, open=True))
        r = self.a.put("/v1/uart/ttyS0/config", body={"baud": 12345})
        self.assertEqual(r.status, 422)
        self.assertIn("115200", r.json["error"]["message"])
        self.assertEqual(self.a.put("/v1/uart/ttyS0/config", body={"stop_bits": 3}).status, 422)
        self.assertEqual(self.a.put("/v1/uart/ttyS0/config", body={"parity": "weird"}).status, 422)
        self.assertEqual(self.a.put("/v1/uart/ttyS0/config", body={"data_bits": 9}).status, 422)
        # The simulated port models a 16550: every line setting is kept and
        # reported, as on a device (a pseudo-terminal alone would keep 8N1).
        for parity in ("none", "even", "odd", "mark", "space"):
            for bits in (5, 6, 7, 8):
                want = {"baud": 9600, "data_bits": bits, "parity": parity, "stop_bits": 2,
                        "flow": "rtscts"}
                r = self.a.put("/v1/uart/ttyS0/config", body=want)
                self.assertEqual((r.status, r.json), (200, want), r)
                self.assertEqual(self.a.get("/v1/uart/ttyS0/config").json, dict(want, open=True))
        board = self.daemon.admin().get("/v1/sim/board").json
        port = [p for p in board["uart"]["ports"] if p["port"] == "ttyS0"][0]
        self.assertEqual(port["config"], want)
        self.assertEqual(port["holder"], "a")

    def test_nmea_checksums(self):
        c = Client(self.daemon.socket_path("a"), timeout=30)
        resp = c.stream("/v1/uart/ttyACM0/stream", timeout=30)
        sentences = []
        buf = b""
        while len(sentences) < 4:
            buf += resp.read1(4096)
            while b"\r\n" in buf:
                line, buf = buf.split(b"\r\n", 1)
                if line.startswith(b"$"):
                    sentences.append(line.decode())
        c.abort()
        for s in sentences:
            body, _, check = s[1:].partition("*")
            x = 0
            for ch in body:
                x ^= ord(ch)
            self.assertEqual("%02X" % x, check, s)
        self.assertTrue(any(s.startswith("$GPGGA") for s in sentences))
        self.assertTrue(any(s.startswith("$GPRMC") for s in sentences))

    def test_conflict_and_release(self):
        self.assertEqual(self.a.post("/v1/uart/ttyS0/write", raw=b"hi").status, 200)
        # Sent once it comes back: the refusal below must find nothing in flight.
        self.assertEqual(read_exactly(self.a, "ttyS0", 2), b"hi")
        r = self.b.post("/v1/uart/ttyS0/write", raw=b"me too")
        self.assertEqual(r.status, 409)
        self.assertIn("service a", r.json["error"]["message"])
        self.assertEqual(self.b.get("/v1/uart/ttyS0/read").status, 409)
        self.assertEqual(self.a.delete("/v1/uart/ttyS0").status, 204)
        self.assertEqual(self.b.post("/v1/uart/ttyS0/write", raw=b"now").status, 200)

    def port_holder(self, name):
        ports = self.daemon.board()["uart"]["ports"]
        return next(p for p in ports if p["port"] == name)["holder"]

    def test_disconnect_mid_stream_releases_the_port(self):
        c = Client(self.daemon.socket_path("b"), timeout=30)
        resp = c.stream("/v1/uart/ttyACM0/stream", timeout=30)
        resp.read1(10)
        self.assertEqual(self.a.get("/v1/uart/ttyACM0/read?timeout_ms=0").status, 409)
        c.abort()
        # The release happens when the daemon sees the connection close:
        # wait for it on the board, so that no request of this test runs
        # while the board changes under it (the guard would see the change).
        deadline = time.monotonic() + 10
        while self.port_holder("ttyACM0") is not None:
            self.assertLess(time.monotonic(), deadline, "the port is still held")
            time.sleep(0.05)
        self.assertEqual(self.a.get("/v1/uart/ttyACM0/read?timeout_ms=0").status, 200)

    def test_unplug_ends_the_stream_and_replug_works(self):
        c = Client(self.daemon.socket_path("a"), timeout=30)
        resp = c.stream("/v1/uart/ttyACM0/stream", timeout=30)
        self.assertTrue(resp.read1(10))
        admin = self.daemon.admin()
        self.assertEqual(admin.post("/v1/sim/uart/ttyACM0", body={"present": False}).status, 200)
        rest = b""
        while True:
            chunk = resp.read1(4096)
            if not chunk:
                break
            rest += chunk
        self.assertEqual(self.a.get("/v1/uart/ttyACM0/read?timeout_ms=0").status, 503)
        self.assertNotIn("ttyACM0", [p["port"] for p in self.a.get("/v1/uart").json["ports"]])
        self.assertEqual(admin.post("/v1/sim/uart/ttyACM0", body={"present": True}).status, 200)
        got = read_exactly(self.a, "ttyACM0", 10, timeout=10)
        self.assertTrue(got.startswith(b"$GP"), got)
        c.abort()

    def test_policy(self):
        self.daemon.register("gpsonly", {"devices": ["/dev/ttyACM0:/dev/ttyACM0:r"]})
        g = self.daemon.service("gpsonly")
        self.assertEqual(g.post("/v1/uart/ttyS0/write", raw=b"x").status, 403)
        self.assertEqual(g.post("/v1/uart/ttyACM0/write", raw=b"x").status, 403)
        self.assertEqual(g.get("/v1/uart/ttyACM0/read?timeout_ms=0").status, 200)
        self.assertEqual([p["port"] for p in g.get("/v1/uart").json["ports"]], ["ttyACM0"])
        self.assertEqual(g.get("/v1/uart/..%2Fetc%2Fpasswd/config").status, 422)
        self.assertEqual(g.get("/v1/uart/tty0/config").status, 422)
        # A port outside the grants is refused whether or not it exists.
        self.assertEqual(g.get("/v1/uart/ttyUSB9/config").status, 403)
        self.assertEqual(g.get("/v1/uart/ttyS0/config").status, 403)
        self.assertEqual(self.daemon.admin().get("/v1/uart/ttyUSB9/config").status, 404)


class UartPersistenceTest(unittest.TestCase):
    def test_persistent_lease_and_configuration_survive_a_restart(self):
        d = Daemon().start()
        d.register("a", PORTS)
        d.register("b", PORTS)
        want = {"baud": 57600, "data_bits": 8, "parity": "none", "stop_bits": 2, "flow": "none"}
        self.assertEqual(d.service("a").put("/v1/uart/ttyS0/config", body=want).status, 200)
        self.assertEqual(d.stop(), 0)
        d2 = Daemon(runtime=d.runtime, state=d.state).start()
        try:
            r = d2.service("b").post("/v1/uart/ttyS0/write", raw=b"x")
            self.assertEqual(r.status, 409, r)
            self.assertEqual(d2.service("a").get("/v1/uart/ttyS0/config").json, dict(want, open=True))
        finally:
            self.assertEqual(d2.stop(), 0)


class UartBufferTest(unittest.TestCase):
    def test_overflow_drops_the_oldest_and_says_so(self):
        d = Daemon(("--sim", "--uart-buffer", "1024")).start()
        try:
            d.register("a", PORTS)
            a = d.service("a")
            data = bytes(i % 251 for i in range(3000))
            for off in range(0, len(data), 500):
                self.assertEqual(a.post("/v1/uart/ttyS0/write", raw=data[off:off + 500]).status, 200)
            # Let the echo come back while nobody reads.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                ports = a.get("/v1/uart").json["ports"]
                if [p for p in ports if p["port"] == "ttyS0"][0]["dropped"] >= 3000 - 1024:
                    break
                time.sleep(0.05)
            r = a.get("/v1/uart/ttyS0/read?max=65536&timeout_ms=0")
            self.assertEqual(r.status, 200)
            self.assertEqual(r.data, data[-1024:])
            self.assertEqual(int(r.headers["X-Hwbroker-Dropped"]), 3000 - 1024)
        finally:
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main()
