# SPDX-License-Identifier: GPL-2.0-or-later
"""Survival: restarts under running containers, durable admin writes (kill -9,
a full disk), revocation, least privilege of read-only grants, floods,
faults and confinement. Each test is the one that would have caught the
finding it is named after (docs/security.md lists them)."""
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from hwbtest import (HWBROKER_CLI, Client, Daemon, DaemonTestCase, raw_exchange, reply_of,
                     send_request)

GPIO0 = {"devices": ["/dev/gpiochip0"]}
I2C1 = {"devices": ["/dev/i2c-1"]}
TTYS0 = {"devices": ["/dev/ttyS0"]}


def wait_until(fn, timeout=10, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return fn()


def services_of(daemon):
    return sorted(s["name"] for s in daemon.admin().get("/v1/services").json["services"])


class RestartTest(unittest.TestCase):
    def test_a_container_keeps_working_through_a_daemon_restart(self):
        """The service directory is mounted into a private mount namespace (as a
        container has it); the daemon restarts; calls through the mount work."""
        d = Daemon().start()
        d.register("sensor", GPIO0)
        src = os.path.dirname(d.socket_path("sensor"))
        mnt = tempfile.mkdtemp(prefix="hwbmnt-")
        script = (
            "mount --bind %s %s && "
            "%s --socket %s/hwbroker.sock whoami && "
            "read line && "
            "%s --socket %s/hwbroker.sock whoami && "
            "%s --socket %s/hwbroker.sock gpio set gpiochip0 5=1"
        ) % (src, mnt, HWBROKER_CLI, mnt, HWBROKER_CLI, mnt, HWBROKER_CLI, mnt)
        p = subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                              script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            self.assertEqual(p.stdout.readline(), b"sensor\n")
            self.assertEqual(d.stop(signal.SIGTERM), 0)
            d2 = Daemon(runtime=d.runtime, state=d.state).start()
            out, err = p.communicate(b"go\n", timeout=30)
            self.assertEqual(p.returncode, 0, err)
            self.assertEqual(out, b"sensor\n")
            self.assertEqual(d2.admin().get("/v1/gpio/gpiochip0/5").json["holder"], "sensor")
            self.assertEqual(d2.stop(), 0)
        finally:
            if p.poll() is None:
                p.kill()
            shutil.rmtree(mnt, ignore_errors=True)


def fill(path):
    """Fills the file system path is on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 4096, 512, 64, 1):
            try:
                while True:
                    os.write(fd, b"x" * size)
            except OSError:
                pass
    finally:
        os.close(fd)


class DurabilityTest(unittest.TestCase):
    RELEASES = [
        {"services": {"a": GPIO0, "b": I2C1}},
        {"services": {"c": TTYS0, "d": {"labels": {"io.hwbroker.host": "reboot"}},
                      "e": GPIO0}},
    ]

    def test_kill_9_during_put_state_leaves_the_old_or_the_new_release(self):
        d = Daemon(log_level="warn")
        rng = random.Random(4)
        current = []
        for i in range(200):
            d.start()
            self.assertEqual(services_of(d), current, i)
            want = self.RELEASES[i % 2]
            c = Client(d.admin_path)
            body = json.dumps(want).encode()
            c.conn.putrequest("PUT", "/v1/state")
            c.conn.putheader("Content-Length", str(len(body)))
            c.conn.putheader("Content-Type", "application/json")
            c.conn.endheaders(body)
            time.sleep(rng.random() * 0.004)
            d.proc.send_signal(signal.SIGKILL)
            d.stop()
            try:
                answered = c.conn.getresponse().status == 200
            except Exception:
                answered = False
            c.close()
            d.start()
            after = services_of(d)
            # Exactly the old release or exactly the new one, never a mix;
            # and the new one whenever the supervisor was told 200.
            self.assertIn(after, (current, sorted(want["services"])), i)
            if answered:
                self.assertEqual(after, sorted(want["services"]), i)
            current = after
            d.proc.send_signal(signal.SIGKILL)
            d.stop()

    def test_a_full_disk_refuses_the_apply_and_keeps_the_previous_state(self):
        state = tempfile.mkdtemp(prefix="hwbtmpfs-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", state], check=True)
        d = Daemon(state=state)
        try:
            d.start()
            d.register("first", GPIO0)
            fill(os.path.join(state, "filler"))
            big = {"services": {"s%d" % i: {"devices": ["/dev/gpiochip0"],
                                            "labels": {"io.hwbroker.host": "reboot"}}
                                for i in range(40)}}
            r = d.admin().put("/v1/state", body=big)
            self.assertEqual(r.status, 500, r)
            self.assertIn("No space left", r.json["error"]["message"])
            self.assertIn("nothing was applied", r.json["error"]["message"])
            self.assertEqual(services_of(d), ["first"])
            self.assertTrue(os.path.exists(d.socket_path("first")))
            self.assertFalse(os.path.exists(os.path.dirname(d.socket_path("s1"))))
            os.unlink(os.path.join(state, "filler"))
            self.assertEqual(d.admin().put("/v1/state", body=big).status, 200)
            self.assertEqual(len(services_of(d)), 40)
            self.assertEqual(d.stop(), 0)
            d2 = Daemon(runtime=d.runtime, state=state).start()
            self.assertEqual(len(services_of(d2)), 40)
            d2.stop()
        finally:
            d.stop()
            subprocess.run(["umount", state])
            os.rmdir(state)

    def test_a_host_action_that_cannot_be_recorded_is_not_performed(self):
        state = tempfile.mkdtemp(prefix="hwbtmpfs-")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", state], check=True)
        d = Daemon(state=state)
        try:
            d.start()
            d.register("booter", {"cap_add": ["SYS_BOOT"]})
            fill(os.path.join(state, "filler"))
            # Records pile up until the audit log needs a new block.
            svc = d.service("booter")
            status = None
            for _ in range(200):
                r = svc.post("/v1/host/reboot", body={"reason": "x" * 200})
                status = r.status
                if status == 503:
                    break
                self.assertIn(status, (202, 409, 429), r)
            self.assertEqual(status, 503, r)
            self.assertIn("could not be put on record", r.json["error"]["message"])
            os.unlink(os.path.join(state, "filler"))
        finally:
            d.stop()
            subprocess.run(["umount", state])
            os.rmdir(state)


class RevocationTest(DaemonTestCase):
    def test_narrowed_to_read_only_loses_its_persistent_lease_and_attach(self):
        d = self.daemon
        d.register("modem", TTYS0)
        svc = d.service("modem")
        self.assertEqual(svc.put("/v1/uart/ttyS0/config", body={"baud": 9600}).status, 200)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d.socket_path("modem"))
        s.sendall(b"GET /v1/uart/ttyS0/attach HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                  b"Upgrade: hwbroker-uart\r\n\r\n")
        self.assertIn(b"101", s.recv(4096))
        self.assertEqual(d.admin().put("/v1/services/modem",
                                       body={"devices": ["/dev/ttyS0:/dev/ttyS0:r"]}).status, 200)
        # The attach pipe is closed, the lease gone, and it cannot be taken back.
        s.settimeout(10)
        self.assertEqual(s.recv(4096), b"")
        self.assertIsNone(d.board()["uart"]["ports"][0]["holder"])
        r = svc.get("/v1/uart/ttyS0/read?timeout_ms=0&lease=persistent")
        self.assertEqual(r.status, 403, r)
        self.assertIn("read-write", r.json["error"]["message"])
        self.assertEqual(svc.get("/v1/uart/ttyS0/read?timeout_ms=0").status, 200)

    def test_reading_the_settings_of_a_closed_port_does_not_open_it(self):
        d = self.daemon
        d.register("reader", {"devices": ["/dev/ttyS0:/dev/ttyS0:r"]})
        r = d.service("reader").get("/v1/uart/ttyS0/config")
        self.assertEqual(r.status, 409, r)
        ports = d.admin().get("/v1/uart").json["ports"]
        self.assertFalse([p for p in ports if p["port"] == "ttyS0"][0]["open"])

    def test_revoked_or_timed_out_i2c_jobs_never_run(self):
        d = self.daemon
        d.register("writer", I2C1)
        admin = d.admin()
        eeprom = lambda: d.board()["i2c"]["buses"][1]["devices"]
        before = eeprom()
        self.assertEqual(admin.post("/v1/sim/i2c/1", body={"delay_ms": 1500}).status, 200)
        url = "/v1/i2c/1/0x50/transfer"
        # Each is queued once the daemon has read it: the read runs, the write waits.
        first = send_request(d.socket_path("writer"), "POST", url, {"messages": [{"read": 1}]})
        second = send_request(d.socket_path("writer"), "POST", url,
                              {"messages": [{"write": [0x40, 1, 2, 3]}]})
        # Revoked before it started: dropped, answered 403, never written.
        self.assertEqual(admin.put("/v1/services/writer", body={}).status, 200)
        status, body = reply_of(second)
        self.assertEqual(status, 403, body)
        self.assertIn("before it started", body["error"]["message"])
        reply_of(first)
        self.assertEqual(admin.post("/v1/sim/i2c/1", body={"delay_ms": 0}).status, 200)
        self.assertEqual(eeprom(), before)

    def test_a_job_not_started_when_its_request_times_out_never_runs(self):
        d = Daemon(("--sim", "--i2c-timeout-ms", "300")).start()
        try:
            d.register("writer", I2C1)
            before = d.board()["i2c"]
            d.admin().post("/v1/sim/i2c/1", body={"delay_ms": 1000})
            url = "/v1/i2c/1/0x50/transfer"
            first = send_request(d.socket_path("writer"), "POST", url,
                                 {"messages": [{"read": 1}]})
            second = send_request(d.socket_path("writer"), "POST", url,
                                  {"messages": [{"write": [0x60, 9, 9]}]})
            status, body = reply_of(second)
            self.assertEqual(status, 504, body)
            self.assertIn("not started", body["error"]["message"])
            reply_of(first)
            # After the running read is over, the write has still not happened.
            d.admin().post("/v1/sim/i2c/1", body={"delay_ms": 0})
            svc = d.service("writer")
            r = wait_until(lambda: (lambda r: r if r.status == 200 else None)(svc.post(
                "/v1/i2c/1/0x50/transfer", body={"messages": [{"write": [0x60]}, {"read": 2}]})))
            self.assertEqual(r.json["reads"], [[255, 255]])
            self.assertEqual(d.board()["i2c"], before)
        finally:
            d.stop()

    def test_one_service_cannot_keep_a_bus_full_for_the_others(self):
        d = Daemon(("--sim", "--i2c-timeout-ms", "10000")).start()
        try:
            d.register("hog", I2C1)
            d.register("fair", I2C1)
            d.admin().post("/v1/sim/i2c/1", body={"delay_ms": 100})
            order = []
            lock = threading.Lock()

            def call(name, path, body):
                c = Client(d.socket_path(name), timeout=30)
                r = c.post(path, body=body)
                c.close()
                with lock:
                    order.append((name, r.status))

            hogs = [threading.Thread(target=call, args=(
                "hog", "/v1/i2c/1/0x50/transfer", {"messages": [{"read": 16}]}))
                for _ in range(12)]
            for t in hogs:
                t.start()
            # Once hog's requests wait on the bus, fair asks once.
            wait_until(lambda: sum(1 for n, st in order if st == 429) == 3)
            fair = threading.Thread(target=call, args=(
                "fair", "/v1/i2c/1/0x76/smbus", {"op": "read_byte_data", "command": 0xD0}))
            fair.start()
            for t in hogs + [fair]:
                t.join(30)
            served = [n for n, st in order if st == 200]
            # hog's share is 8 waiting requests (+1 running): 3 were refused.
            self.assertEqual(sum(1 for n, st in order if st == 429), 3)
            self.assertEqual(len(served), 10)
            # Served one request per service in turn: fair came before most of
            # hog's queue, not after all of it.
            self.assertLessEqual(served.index("fair"), 3, order)
        finally:
            d.stop()

    def test_a_transfer_checks_for_a_kernel_driver_as_smbus_does(self):
        d = self.daemon
        d.register("s", I2C1)
        d.admin().post("/v1/sim/i2c/1", body={"fault": {"address": "0x50", "error": "busy"}})
        r = d.service("s").post("/v1/i2c/1/0x50/transfer", body={"messages": [{"read": 1}]})
        self.assertEqual(r.status, 409, r)
        self.assertIn("kernel driver", r.json["error"]["message"])


class FloodTest(unittest.TestCase):
    def test_a_connection_that_sends_nothing_is_closed_at_the_head_timeout(self):
        d = Daemon(("--sim", "--head-timeout", "1")).start()
        try:
            d.register("s", {})
            for payload in (b"", b"GET /v1/whoami HTTP/1.1\r\nHost"):
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(d.socket_path("s"))
                s.sendall(payload)
                s.settimeout(10)  # the idle timeout (60 s) would be a failure here
                self.assertEqual(s.recv(100), b"")
                s.close()
        finally:
            d.stop()

    def test_a_half_closed_incomplete_body_is_closed_at_once(self):
        d = Daemon().start()
        try:
            d.register("s", GPIO0)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(d.socket_path("s"))
            s.sendall(b"PUT /v1/gpio/gpiochip0/5 HTTP/1.1\r\nHost: x\r\n"
                      b"Content-Length: 100\r\n\r\n{\"value\":1}")
            s.shutdown(socket.SHUT_WR)
            s.settimeout(20)  # not the 60 s idle timeout
            self.assertEqual(s.recv(100), b"")
            self.assertIsNone(d.board()["gpio"]["chips"][0]["lines"][5]["holder"])
        finally:
            d.stop()

    def test_services_cannot_exhaust_the_admin_sockets_capacity(self):
        d = Daemon(("--sim", "--max-conns", "4", "--max-conns-per-service", "4")).start()
        held = []
        try:
            d.register("s", {})
            for _ in range(4):
                c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                c.connect(d.socket_path("s"))
                held.append(c)
            out = raw_exchange(d.socket_path("s"), b"GET /v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertIn(b"503", out.split(b"\r\n")[0])
            self.assertEqual(d.admin().get("/v1/health").status, 200)
        finally:
            for c in held:
                c.close()
            d.stop()

    def test_a_denial_flood_is_counted_and_keeps_host_actions_on_record(self):
        # 2,000 denials written one by one would fill these files many times
        # over (about 800 KB); rate-limited, they fit even when a slow build
        # (ASan) stretches the flood over many seconds.
        d = Daemon(("--sim", "--audit-max-bytes", "65536", "--audit-generations", "1",
                    "--audit-denials", "5")).start()
        try:
            d.register("booter", {"cap_add": ["SYS_BOOT"]})
            svc = d.service("booter")
            self.assertEqual(svc.post("/v1/host/reboot", body={"reason": "kept"}).status, 202)
            for _ in range(2000):
                svc.get("/v1/gpio/gpiochip0/1")

            def counted():
                recs = d.admin().get("/v1/audit?service=booter&limit=1000").json["records"]
                deny = [r for r in recs if r["event"] == "deny"]
                n = sum(r.get("dropped", 0) for r in deny) + sum(1 for r in deny
                                                                  if "refused" in r)
                return recs if n == 2000 else None

            # What was not written one by one is summed up once a second.
            records = wait_until(counted, timeout=30) or []
            allow = [r for r in records if r["event"] == "allow"]
            self.assertEqual(len(allow), 1)
            self.assertEqual(allow[0]["args"], {"reason": "kept"})
            denials = [r for r in records if r["event"] == "deny"]
            self.assertLess(len(denials), 100)
            self.assertEqual(sum(r.get("dropped", 0) for r in denials) +
                             sum(1 for r in denials if "refused" in r), 2000)
        finally:
            d.stop()


class ContainerTest(DaemonTestCase):
    CID = "3f1a9c0d2b7e4a6f8c1d5e9b0a2c4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d"

    def cgroup_root(self):
        for root in ("/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
            probe = os.path.join(root, "hwbtest-probe-%d" % os.getpid())
            try:
                os.mkdir(probe)
            except OSError:
                continue
            os.rmdir(probe)
            return root
        self.fail("no cgroup hierarchy to create a container's cgroup in")

    def whoami_from(self, cgroup):
        os.makedirs(cgroup, exist_ok=True)
        code = ("import os,socket,sys\n"
                "open(%r,'w').write(str(os.getpid()))\n"
                "s=socket.socket(socket.AF_UNIX); s.connect(%r)\n"
                "s.sendall(b'GET /v1/whoami HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n')\n"
                "print(s.recv(100).split(b'\\r\\n')[0].decode())\n") % (
            os.path.join(cgroup, "cgroup.procs"), self.daemon.socket_path("boxed"))
        try:
            return subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True,
                                  text=True, timeout=30).stdout.strip()
        finally:
            os.rmdir(cgroup)

    def test_the_container_id_must_be_a_whole_cgroup_component(self):
        root = self.cgroup_root()
        self.daemon.register("boxed", dict(GPIO0, container_id=self.CID))
        base = os.path.join(root, "hwbtest-%d" % os.getpid())
        os.makedirs(base, exist_ok=True)
        try:
            self.assertIn("200", self.whoami_from(os.path.join(base, "docker-%s.scope" % self.CID)))
            self.assertIn("200", self.whoami_from(os.path.join(base, self.CID)))
            # The id inside a longer name is not the container.
            self.assertIn("403", self.whoami_from(os.path.join(base, "x%sx" % self.CID)))
            self.assertIn("403", self.whoami_from(os.path.join(base, "other")))
        finally:
            os.rmdir(base)


class ConfinementTest(DaemonTestCase):
    def test_an_unprivileged_client_in_its_own_mount_namespace(self):
        """Only its service directory is mounted (over a private /run): it can use
        its grants, cannot reach the admin socket or another service's socket,
        and cannot make the daemon open anything outside its grants."""
        d = self.daemon
        d.register("sensor", dict(GPIO0, devices=["/dev/gpiochip0", "/dev/ttyS0"]))
        d.register("other", GPIO0)
        os.chmod(d.tmp, 0o755)
        runtime = d.runtime
        mnt = tempfile.mkdtemp(prefix="hwbctr-")
        os.chmod(mnt, 0o755)
        inside = (
            "set -e; S=%s/hwbroker.sock; C=%s; "
            "$C --socket $S whoami; "
            "$C --socket $S gpio set gpiochip0 6=1; "
            "if $C --socket %s/admin.sock --admin health; then echo ADMIN-REACHED; fi; "
            "if $C --socket %s/services/other/hwbroker.sock whoami; then echo OTHER-REACHED; fi; "
            "$C --json --socket $S uart config 'serial!by-id!..!..!..!etc!passwd' || true; "
            "$C --json --socket $S uart config '..%%2F..%%2Fetc%%2Fshadow' || true; "
            "echo DONE") % (mnt, HWBROKER_CLI, runtime, runtime)
        script = ("mount --bind %s %s && mount -t tmpfs tmpfs %s && "
                  "exec setpriv --reuid=65534 --regid=65534 --clear-groups sh -c %s") % (
            os.path.dirname(d.socket_path("sensor")), mnt, runtime, shlex_quote(inside))
        try:
            r = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                                script], capture_output=True, text=True, timeout=60)
            self.assertIn("DONE", r.stdout, r.stderr)
            self.assertTrue(r.stdout.startswith("sensor\n"), r.stdout)
            self.assertNotIn("ADMIN-REACHED", r.stdout)
            self.assertNotIn("OTHER-REACHED", r.stdout)
            self.assertEqual(d.admin().get("/v1/gpio/gpiochip0/6").json["holder"], "sensor")
            opened = [os.readlink("/proc/%d/fd/%s" % (d.proc.pid, fd))
                      for fd in os.listdir("/proc/%d/fd" % d.proc.pid)]
            self.assertFalse([p for p in opened if p.startswith("/etc")], opened)
        finally:
            shutil.rmtree(mnt, ignore_errors=True)


def shlex_quote(s):
    import shlex
    return shlex.quote(s)


class ConfigTest(unittest.TestCase):
    def test_values_that_would_break_the_daemon_are_refused_with_a_reason(self):
        for flag, value, words in (("--event-queue", "0", "between 1 and"),
                                   ("--head-timeout", "0", "between 1 and"),
                                   ("--audit-generations", "99", "between 0 and 16")):
            d = Daemon(("--sim", flag, value))
            with self.assertRaises(RuntimeError) as e:
                d.start(timeout=5)
            self.assertIn(words, str(e.exception))


if __name__ == "__main__":
    unittest.main()
