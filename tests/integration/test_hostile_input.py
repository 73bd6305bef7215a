# SPDX-License-Identifier: GPL-2.0-or-later
"""Randomized hostile input against the real daemon (fixed seed: reproducible).

Mutates valid requests (bytes flipped, truncated, duplicated, header and body
garbage) and sends them on fresh connections. Every answer must be an HTTP
reply whose body, when there is one, is our JSON; the daemon must keep
serving well-formed requests throughout."""
import json
import random
import socket
import unittest

from hwbtest import DaemonTestCase

VALID = [
    b"GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/gpio/gpiochip0/17 HTTP/1.1\r\nHost: x\r\n\r\n",
    b"PUT /v1/gpio/gpiochip0/17 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: 11\r\n\r\n{\"value\":1}",
    b"PUT /v1/gpio/gpiochip0 HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n"
    b"{\"values\":{\"17\":1,\"18\":0}}    ",
    b"POST /v1/i2c/1/0x76/smbus HTTP/1.1\r\nHost: x\r\nContent-Length: 36\r\n\r\n"
    b"{\"op\":\"read_byte_data\",\"command\":208}",
    b"POST /v1/i2c/1/0x76/transfer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"1a\r\n{\"messages\":[{\"read\":2}]}\r\n0\r\n\r\n",
]


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(6)
        if op == 0 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 1:
            data = data[:rng.randrange(len(data) + 1)]
        elif op == 2 and data:
            i = rng.randrange(len(data))
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        elif op == 3 and data:
            i = rng.randrange(len(data))
            data[i:i] = data[i:i + rng.randint(1, 40)] * rng.randint(2, 30)
        elif op == 4:
            data = data.replace(b"1", str(rng.choice(
                [-1, 2**64, "0x", "1e9", "\"1\"", "null", "[]", "{}"])).encode(), 1)
        else:
            data = data.replace(b"\r\n", rng.choice([b"\n", b"\r", b"\r\n\r\n", b""]), 1)
    return bytes(data)


def exchange(path, payload, timeout=1.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    out = b""
    try:
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        pass
    finally:
        s.close()
    return out


class HostileInputTest(DaemonTestCase):
    # A complete head with a short body and a hangup is only reaped at the
    # idle timeout; keep it short so such connections do not pile up.
    daemon_args = ("--sim", "--idle-timeout", "2")

    def test_mutated_requests_never_hurt_the_daemon(self):
        self.daemon.register("svc", {"devices": ["/dev/gpiochip0", "/dev/i2c-1"]})
        path = self.daemon.socket_path("svc")
        rng = random.Random(20261122)
        replies = 0
        for i in range(300):
            payload = mutate(rng, rng.choice(VALID))
            out = exchange(path, payload)
            if not out:
                continue  # incomplete request: the daemon waits, we hung up
            replies += 1
            self.assertTrue(out.startswith(b"HTTP/1.1 "), (payload, out[:200]))
            status = int(out[9:12])
            self.assertTrue(100 <= status < 600, out[:100])
            head, _, body = out.partition(b"\r\n\r\n")
            length = [int(h.split(b":")[1]) for h in head.lower().split(b"\r\n")
                      if h.startswith(b"content-length:")]
            if status >= 400 and length:
                # the first reply's body; what follows answers bytes sent after it
                err = json.loads(body[:length[0]])
                self.assertIn("error", err, (payload, out[:300]))
                rest = body[length[0]:]
                self.assertTrue(not rest or rest.startswith(b"HTTP/1.1 "), (payload, out))
            if i % 50 == 0:
                self.assertEqual(self.daemon.service("svc").get("/v1/whoami").status, 200)
        self.assertGreater(replies, 100)
        self.assertEqual(self.daemon.service("svc").get("/v1/whoami").status, 200)


if __name__ == "__main__":
    unittest.main()
