# SPDX-License-Identifier: GPL-2.0-or-later
"""Core: identity per socket, admin API, limits, malformed input, shutdown."""
import http.client
import json
import os
import signal
import socket
import stat
import time
import unittest

from hwbtest import Client, Daemon, DaemonTestCase, raw_exchange

GPIO_ALL = {"devices": ["/dev/gpiochip0"]}


class IdentityTest(DaemonTestCase):
    def test_each_service_sees_its_own_identity(self):
        self.daemon.register("alpha", GPIO_ALL)
        self.daemon.register("beta", {"privileged": True})
        a = self.daemon.service("alpha").get("/v1/whoami")
        b = self.daemon.service("beta").get("/v1/whoami")
        self.assertEqual(a.status, 200)
        self.assertEqual(a.json["service"], "alpha")
        self.assertEqual(b.json["service"], "beta")
        self.assertEqual(a.json["peer"]["pid"], os.getpid())
        self.assertNotEqual(a.json["grants"], b.json["grants"])

    def test_a_socket_never_acts_as_another_service(self):
        self.daemon.register("alpha", {})
        self.daemon.register("beta", GPIO_ALL)
        alpha = self.daemon.service("alpha")
        # alpha has no GPIO grant: even naming beta anywhere in the request changes nothing.
        r = alpha.put("/v1/gpio/gpiochip0/17", body={"value": 1},
                      headers={"X-Service": "beta", "Host": "beta"})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.error_code, "forbidden")
        self.assertEqual(alpha.get("/v1/whoami").json["service"], "alpha")
        # beta, on its own socket, may.
        self.assertEqual(self.daemon.service("beta").put(
            "/v1/gpio/gpiochip0/17", body={"value": 1}).status, 200)

    def test_service_sockets_live_in_their_own_directory(self):
        reply = self.daemon.register("sensor", GPIO_ALL)
        path = self.daemon.socket_path("sensor")
        self.assertEqual(reply["socket"], path)
        self.assertEqual(reply["mount"], {"source": os.path.dirname(path),
                                          "target": "/run/hwbroker"})
        self.assertEqual(reply["environment"],
                         {"HWBROKER_SOCKET": "/run/hwbroker/hwbroker.sock"})
        self.assertTrue(stat.S_ISSOCK(os.stat(path).st_mode))
        self.assertEqual(stat.S_IMODE(os.stat(self.daemon.admin_path).st_mode), 0o600)


class AdminTest(DaemonTestCase):
    def test_register_list_get_delete(self):
        admin = self.daemon.admin()
        r = admin.put("/v1/services/one", body=GPIO_ALL)
        self.assertEqual(r.status, 201)
        self.assertEqual(admin.put("/v1/services/one", body=GPIO_ALL).status, 200)
        names = [s["name"] for s in admin.get("/v1/services").json["services"]]
        self.assertEqual(names, ["one"])
        got = admin.get("/v1/services/one")
        self.assertEqual(got.json["service"], "one")
        self.assertIn("grants", got.json["policy"])
        self.assertEqual(admin.delete("/v1/services/one").status, 204)
        self.assertEqual(admin.get("/v1/services/one").status, 404)
        self.assertEqual(admin.delete("/v1/services/one").error_code, "not_found")

    def test_bad_service_names_never_reach_the_filesystem(self):
        admin = self.daemon.admin()
        for name in ["UPPER", "-dash", "a" * 64, "..", ".hidden", "a%2Fb", "a%00b"]:
            r = admin.put("/v1/services/" + name, body={})
            self.assertIn(r.status, (404, 422), (name, r))
        self.assertEqual(os.listdir(os.path.join(self.daemon.runtime, "services")), [])

    def test_delete_closes_connections_and_removes_the_socket(self):
        self.daemon.register("gone", GPIO_ALL)
        path = self.daemon.socket_path("gone")
        svc = self.daemon.service("gone")
        self.assertEqual(svc.get("/v1/whoami").status, 200)
        self.assertEqual(self.daemon.admin().delete("/v1/services/gone").status, 204)
        self.assertFalse(os.path.exists(path))
        self.assertFalse(os.path.exists(os.path.dirname(path)))
        # The kept-alive connection was closed by the daemon.
        with self.assertRaises((ConnectionError, OSError, Exception)):
            r = svc.get("/v1/whoami")
            if r.status == 200:
                raise AssertionError("connection still served after delete")

    def test_health_and_metrics(self):
        admin = self.daemon.admin()
        h = admin.get("/v1/health")
        self.assertEqual(h.json["status"], "ok")
        self.assertTrue(h.json["sim"])
        m = admin.get("/metrics")
        self.assertEqual(m.status, 200)
        self.assertIn(b"hwbroker_requests_total", m.data)

    def test_admin_routes_are_not_on_service_sockets(self):
        self.daemon.register("svc", {})
        r = self.daemon.service("svc").get("/v1/services")
        self.assertEqual(r.status, 404)
        self.assertEqual(self.daemon.admin().get("/v1/whoami").status, 404)


def read_replies(sock, n):
    """Reads n replies framed by Content-Length (or none, for 1xx/204/HEAD
    replies named in the caller's expectations); returns (status, headers, body)."""
    buf, out = b"", []
    sock.settimeout(5)
    while len(out) < n:
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                return out
            buf += chunk
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        length = int(headers.get("content-length", 0)) if status >= 200 else 0
        if headers.get("x-no-body"):
            length = 0
        while len(buf) < length:
            buf += sock.recv(65536)
        out.append((status, headers, buf[:length]))
        buf = buf[length:]
    return out


class HttpTest(DaemonTestCase):
    """Our HTTP/1.1: pipelining, 100-continue, HTTP/1.0, limits; every
    refusal in JSON, and what a refused request names stays as it was."""

    def setUp(self):
        super().setUp()
        self.daemon.register("svc", GPIO_ALL)
        self.path = self.daemon.socket_path("svc")

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.path)
        self.addCleanup(s.close)
        return s

    def line(self, n):
        return self.daemon.board()["gpio"]["chips"][0]["lines"][n]

    def test_pipelined_requests_are_answered_in_order(self):
        s = self.connect()
        put = (b"PUT /v1/gpio/gpiochip0/17 HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n"
               b"{\"value\":1}")
        get = b"GET /v1/gpio/gpiochip0/17 HTTP/1.1\r\nHost: x\r\n\r\n"
        bad = b"PUT /v1/gpio/gpiochip0/18 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        s.sendall(put + get + bad)
        replies = read_replies(s, 3)
        self.assertEqual([r[0] for r in replies], [200, 200, 400])
        self.assertEqual(json.loads(replies[1][2])["value"], 1)
        self.assertEqual(json.loads(replies[2][2])["error"]["code"], "bad_request")
        self.assertEqual(replies[2][1]["connection"], "close")
        self.assertEqual(s.recv(100), b"")
        self.assertEqual(self.line(17)["level"], 1)
        self.assertIsNone(self.line(18)["holder"])

    def test_a_malformed_head_on_a_kept_alive_connection_is_answered_in_json(self):
        s = self.connect()
        s.sendall(b"GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(read_replies(s, 1)[0][0], 200)
        s.sendall(b"GET /v1/whoami HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
        status, headers, body = read_replies(s, 1)[0]
        self.assertEqual(status, 400)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertIn("malformed", json.loads(body)["error"]["message"])

    def test_expect_100_continue(self):
        s = self.connect()
        s.sendall(b"PUT /v1/gpio/gpiochip0/5 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Content-Length: 11\r\n\r\n")
        self.assertEqual(s.recv(100), b"HTTP/1.1 100 Continue\r\n\r\n")
        self.assertIsNone(self.line(5)["holder"])
        s.sendall(b"{\"value\":1}")
        self.assertEqual(read_replies(s, 1)[0][0], 200)
        self.assertEqual(self.line(5)["level"], 1)

    def test_a_refused_expectation_gets_no_continue_and_the_connection_closes(self):
        s = self.connect()
        s.sendall(b"PUT /v1/gpio/gpiochip0/5 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Content-Length: 999999999\r\n\r\n")
        status, headers, body = read_replies(s, 1)[0]
        self.assertEqual(status, 413)
        self.assertEqual(headers["connection"], "close")
        self.assertEqual(s.recv(100), b"")
        self.assertIsNone(self.line(5)["holder"])

    def test_http_1_0_closes_unless_asked_to_keep_alive(self):
        s = self.connect()
        s.sendall(b"GET /v1/whoami HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                  b"GET /v1/whoami HTTP/1.0\r\n\r\n")
        replies = read_replies(s, 2)
        self.assertEqual([r[0] for r in replies], [200, 200])
        self.assertEqual(replies[0][1]["connection"], "keep-alive")
        self.assertEqual(replies[1][1]["connection"], "close")
        self.assertEqual(s.recv(100), b"")

    def test_a_head_too_large_is_refused(self):
        s = self.connect()
        s.sendall(b"PUT /v1/gpio/gpiochip0/5 HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 20000)
        status, headers, body = read_replies(s, 1)[0]
        self.assertEqual(status, 431)
        self.assertEqual(json.loads(body)["error"]["code"], "too_large")
        self.assertIsNone(self.line(5)["holder"])

    def test_a_query_too_long_or_with_too_many_arguments_is_refused(self):
        for query in ["?" + "&".join("a%d=1" % i for i in range(17)),
                      "?lease=" + "x" * 600]:
            s = self.connect()
            s.sendall(b"PUT /v1/gpio/gpiochip0/5" + query.encode() +
                      b" HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"value\":1}")
            status, headers, body = read_replies(s, 1)[0]
            self.assertEqual(status, 414, body)
            err = json.loads(body)["error"]
            self.assertEqual(err["code"], "too_large")
            self.assertIn("query", err["message"])
            self.assertIsNone(self.line(5)["holder"])
            self.assertEqual(self.line(5)["direction"], "input")

    def test_head_requests_get_no_body(self):
        s = self.connect()
        s.sendall(b"HEAD /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        data = b""
        while data.count(b"HTTP/1.1 ") < 2 or not data.endswith(b"\n"):
            data += s.recv(65536)
        first, second = data.split(b"HTTP/1.1 ")[1:3]
        self.assertTrue(first.startswith(b"405"), data)
        self.assertTrue(first.endswith(b"\r\n\r\n"), data)  # the head alone
        self.assertTrue(second.startswith(b"200"), data)
        self.assertEqual(json.loads(second.split(b"\r\n\r\n", 1)[1])["service"], "svc")


class MalformedTest(DaemonTestCase):
    def setUp(self):
        super().setUp()
        self.daemon.register("svc", GPIO_ALL)
        self.path = self.daemon.socket_path("svc")

    def assertJsonError(self, raw, status_prefix=b"HTTP/1.1 4"):
        self.assertTrue(raw.startswith(status_prefix), raw[:200])
        head, _, body = raw.partition(b"\r\n\r\n")
        err = json.loads(body.decode())["error"]
        self.assertIn("code", err)
        self.assertIn("message", err)
        return err

    def test_malformed_http(self):
        for payload in [b"GARBAGE\r\n\r\n", b"\x00\x01\x02\x03\r\n\r\n",
                        b"GET\r\n\r\n", b"GET /v1/whoami FTP/9\r\n\r\n",
                        b"get /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n"]:
            self.assertJsonError(raw_exchange(self.path, payload))
        self.assertEqual(self.daemon.service("svc").get("/v1/whoami").status, 200)

    def test_malformed_json(self):
        c = self.daemon.service("svc")
        for body in [b"{", b"[1,2", b"{\"value\":}", b"\xff\xfe", b"{\"value\":1,\"value\":0}",
                     b"null", b"42"]:
            r = c.request("PUT", "/v1/gpio/gpiochip0/17", raw=body,
                          headers={"Content-Type": "application/json"})
            self.assertIn(r.status, (400, 422), (body, r))
            self.assertIsNotNone(r.error_code, r)
        self.assertEqual(c.get("/v1/whoami").status, 200)

    def test_unknown_path_and_wrong_method(self):
        c = self.daemon.service("svc")
        r = c.get("/v1/nope")
        self.assertEqual(r.status, 404)
        self.assertEqual(r.error_code, "not_found")
        r = c.request("DELETE", "/v1/whoami")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.headers.get("Allow"), "GET")
        self.assertEqual(r.json["error"]["code"], "method_not_allowed")

    def test_body_too_large(self):
        c = self.daemon.service("svc")
        r = c.request("PUT", "/v1/gpio/gpiochip0/17", raw=b"x" * (70 * 1024),
                      headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 413)
        self.assertEqual(r.error_code, "too_large")
        self.assertEqual(self.daemon.service("svc").get("/v1/whoami").status, 200)

    def test_bad_numbers_in_paths(self):
        c = self.daemon.service("svc")
        for line in ["-1", "1e3", "0x", "99999999999999999999999", "seventeen%20"]:
            r = c.get("/v1/gpio/gpiochip0/" + line)
            self.assertIn(r.status, (400, 404, 422), (line, r))
            self.assertIsNotNone(r.error_code)

    def test_truncated_request_then_close(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.path)
        s.sendall(b"PUT /v1/gpio/gpiochip0/17 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        s.close()
        self.assertEqual(self.daemon.service("svc").get("/v1/whoami").status, 200)


class LimitsTest(unittest.TestCase):
    def test_connection_limit_per_service(self):
        d = Daemon(("--sim", "--max-conns-per-service", "2")).start()
        try:
            d.register("svc", {})
            held = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(2)]
            for s in held:
                s.connect(d.socket_path("svc"))
            # The two held connections are counted once the daemon accepted them.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                raw = raw_exchange(d.socket_path("svc"),
                                   b"GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n")
                if raw.startswith(b"HTTP/1.1 503"):
                    break
                time.sleep(0.05)
            self.assertTrue(raw.startswith(b"HTTP/1.1 503"), raw[:100])
            self.assertIn(b"too many connections", raw)
            for s in held:
                s.close()
            deadline = time.monotonic() + 10
            ok = False
            while time.monotonic() < deadline and not ok:
                try:
                    ok = Client(d.socket_path("svc")).get("/v1/whoami").status == 200
                except (ConnectionError, OSError, http.client.HTTPException):
                    time.sleep(0.05)  # still counted: refused
            self.assertTrue(ok)
        finally:
            self.assertEqual(d.stop(), 0)


class LifecycleTest(unittest.TestCase):
    def test_sigterm_keeps_service_directories_and_state_survives(self):
        d = Daemon().start()
        d.register("one", GPIO_ALL)
        d.register("two", {})
        dirs = [os.path.dirname(d.socket_path(n)) for n in ("one", "two")]
        inodes = [os.stat(p).st_ino for p in dirs]
        self.assertEqual(d.stop(signal.SIGTERM), 0)
        self.assertFalse(os.path.exists(d.admin_path))
        # Containers have these directories mounted: they stay, same inode.
        self.assertEqual([os.stat(p).st_ino for p in dirs], inodes)
        # A restart restores the services and their sockets, in the same directories.
        d2 = Daemon(runtime=d.runtime, state=d.state)
        d2.start()
        try:
            self.assertEqual(d2.service("one").get("/v1/whoami").json["service"], "one")
            names = sorted(s["name"] for s in d2.admin().get("/v1/services").json["services"])
            self.assertEqual(names, ["one", "two"])
            self.assertEqual([os.stat(p).st_ino for p in dirs], inodes)
        finally:
            self.assertEqual(d2.stop(signal.SIGINT), 0)

    def test_corrupt_state_is_moved_aside(self):
        d = Daemon()
        os.makedirs(d.state, exist_ok=True)
        with open(os.path.join(d.state, "state.json"), "w") as f:
            f.write("{not json")
        d.start()
        try:
            self.assertEqual(d.admin().get("/v1/services").json["services"], [])
            aside = [n for n in os.listdir(d.state) if n.startswith("state.json.corrupt-")]
            self.assertEqual(len(aside), 1)
        finally:
            self.assertEqual(d.stop(), 0)
        self.assertIn("unusable", d.read_log())

    def test_sighup_reloads_config(self):
        d = Daemon(log_level="info")
        conf = os.path.join(d.tmp, "hwbrokerd.conf")
        with open(conf, "w") as f:
            f.write("# test\nmax-body = 4096\n")
        d.args += ["--config", conf]
        d.start()
        try:
            d.register("svc", GPIO_ALL)
            c = d.service("svc")
            big = json.dumps({"value": 1, "pad": "x" * 5000}).encode()
            self.assertEqual(c.request("PUT", "/v1/gpio/gpiochip0/17", raw=big).status, 413)
            with open(conf, "w") as f:
                f.write("max_body = 65536\n")
            d.proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and "reloaded" not in d.read_log():
                time.sleep(0.05)
            r = c.request("PUT", "/v1/gpio/gpiochip0/17", raw=big)
            self.assertNotEqual(r.status, 413, r)
        finally:
            self.assertEqual(d.stop(), 0)

    def test_log_lines_carry_a_timestamp_or_are_json(self):
        import re
        d = Daemon(log_level="info").start()
        d.register("one", GPIO_ALL)
        d.stop()
        lines = [l for l in d.read_log().splitlines() if l.strip()]
        self.assertTrue(lines)
        for line in lines:
            self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z hwbrokerd "
                                   r"(ERROR|WARN|INFO|DEBUG) ")
        d = Daemon(("--sim", "--log-format", "json"), log_level="info").start()
        d.register("one", GPIO_ALL)
        d.stop()
        records = [json.loads(l) for l in d.read_log().splitlines() if l.strip()]
        self.assertTrue(any(r["msg"].startswith("hwbrokerd ") and r["ctx"] == "main"
                            for r in records))
        for r in records:
            self.assertEqual(sorted(r), ["ctx", "level", "msg", "time"])
            self.assertIn(r["level"], ("error", "warn", "info", "debug"))
            self.assertTrue(re.match(r"^\d{4}-\d\d-\d\dT.*Z$", r["time"]))

    def test_bad_flags_exit_2(self):
        import subprocess
        from hwbtest import HWBROKERD
        r = subprocess.run([HWBROKERD, "--no-such-flag"], capture_output=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"unknown option", r.stderr)
        r = subprocess.run([HWBROKERD, "--help"], capture_output=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"--runtime-dir", r.stdout)


if __name__ == "__main__":
    unittest.main()
