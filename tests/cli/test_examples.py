# SPDX-License-Identifier: GPL-2.0-or-later
"""clients/examples: blink-and-reboot.sh against hwbrokerd --sim (it blinks the
LED, waits for the button, and asks for a reboot only when it is pressed), and
the compose example against its supervisor-side declaration."""
import json
import os
import re
import queue
import subprocess
import threading
import time
import unittest

from hwbtest import HWBROKER_CLI, DaemonTestCase, SOURCE_DIR

EXAMPLES = os.path.join(SOURCE_DIR, "clients", "examples")
SCRIPT = os.path.join(EXAMPLES, "blink-and-reboot.sh")
DEADLINE_S = 30  # a bound on a hung script, not a measurement


class BlinkAndRebootTest(DaemonTestCase):
    def start(self, labels, blinks=2):
        self.daemon.register("blinker", {"devices": ["/dev/gpiochip0"], "labels": labels})
        env = dict(os.environ, HWBROKER=HWBROKER_CLI, BLINK_INTERVAL="0.05",
                   HWBROKER_SOCKET=self.daemon.socket_path("blinker"))
        self.proc = subprocess.Popen(["sh", SCRIPT, str(blinks)], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(self.stop_script)
        self.out = []
        # A thread reads the output: the test waits on the queue with a bound.
        self.lines = queue.Queue()
        self.reader = threading.Thread(target=self.read_output, daemon=True)
        self.reader.start()

    def read_output(self):
        for text in self.proc.stdout:
            self.lines.put(text.rstrip("\n"))
        self.lines.put(None)

    def stop_script(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.reader.join()
        self.proc.stdout.close()
        self.proc.stderr.close()

    def read_until(self, count, line):
        """Takes the script's output until `line` was printed `count` times."""
        deadline = time.monotonic() + DEADLINE_S
        while self.out.count(line) < count:
            try:
                text = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.fail("script output so far: %r" % self.out)
            self.assertIsNotNone(text, "script ended early: %r" % self.out)
            self.out.append(text)

    def rest_of_output(self):
        self.reader.join(DEADLINE_S)
        while True:
            text = self.lines.get_nowait()
            if text is None:
                return
            self.out.append(text)

    def wait_for_watcher(self):
        svc = self.daemon.service("blinker")
        deadline = time.monotonic() + DEADLINE_S
        try:
            while svc.get("/v1/gpio/gpiochip0/27").json["watchers"] != 1:
                self.assertLess(time.monotonic(), deadline, "the script never watched the button")
                time.sleep(0.02)
        finally:
            svc.close()

    def admin_get(self, path):
        c = self.daemon.admin()
        try:
            r = c.get(path)
        finally:
            c.close()
        self.assertEqual(r.status, 200, r)
        return r.json

    def press_button(self):
        c = self.daemon.admin()
        try:
            self.assertEqual(c.post("/v1/sim/gpio/gpiochip0/27", body={"pull": "up"}).status, 200)
        finally:
            c.close()

    def led(self):
        svc = self.daemon.service("blinker")
        try:
            return svc.get("/v1/gpio/gpiochip0/17").json
        finally:
            svc.close()

    def test_blinks_then_reboots_on_the_press(self):
        self.start({"io.hwbroker.gpio": "gpiochip0=17,27", "io.hwbroker.host": "reboot"})
        self.read_until(2, "led off")
        self.wait_for_watcher()
        # Blinking and waiting asked for nothing else.
        self.assertEqual(self.admin_get("/v1/sim/host/actions")["actions"], [])
        self.assertIsNone(self.proc.poll())

        self.press_button()
        self.assertEqual(self.proc.wait(DEADLINE_S), 0, self.proc.stderr.read())
        self.rest_of_output()
        self.assertEqual(self.out, ["led on", "led off"] * 2 + ["button pressed: rebooting"])
        actions = self.admin_get("/v1/sim/host/actions")["actions"]
        self.assertEqual([a["action"] for a in actions], ["reboot"])
        audit = self.admin_get("/v1/audit?service=blinker")["records"]
        accepted = [r for r in audit if r.get("event") == "allow"]
        self.assertEqual([(r["action"], r["args"]["reason"]) for r in accepted],
                         [("reboot", "button pressed")])
        led = self.led()
        self.assertEqual((led["value"], led["holder"]), (0, "blinker"))

    def test_without_the_reboot_grant_nothing_is_rebooted(self):
        self.start({"io.hwbroker.gpio": "gpiochip0=17,27"}, blinks=1)
        self.read_until(1, "led off")
        self.wait_for_watcher()
        self.press_button()
        self.assertEqual(self.proc.wait(DEADLINE_S), 3)  # refused by the policy
        self.assertIn("no grant for host reboot", self.proc.stderr.read())
        self.assertEqual(self.admin_get("/v1/sim/host/actions")["actions"], [])
        self.assertEqual(self.led()["value"], 0)


class ComposeExampleTest(unittest.TestCase):
    def derive(self, name):
        r = subprocess.run([HWBROKER_CLI, "policy", "derive", os.path.join(EXAMPLES, name),
                            "--json"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return {svc: sorted((g["kind"], g["resource"], g.get("access")) for g in p["grants"])
                for svc, p in json.loads(r.stdout).items()}

    def test_containers_get_sockets_not_devices(self):
        with open(os.path.join(EXAMPLES, "docker-compose.yml")) as f:
            compose = f.read()
        release = self.derive("hwbroker-release.yml")
        self.assertEqual(sorted(release), ["blinker", "sensor"])
        # What Docker runs has no device node and no privilege...
        self.assertNotRegex(compose, r"(?m)^\s*(devices|privileged|cap_add):")
        for svc in release:
            # ...but each service's own directory and the variable naming its socket,
            self.assertIn("- /run/hwbroker/services/%s:/run/hwbroker\n" % svc, compose)
        self.assertEqual(len(re.findall(r"HWBROKER_SOCKET: /run/hwbroker/hwbroker.sock\n",
                                        compose)), len(release))
        # ...and labels that grant what the supervisor's declaration grants.
        self.assertEqual(self.derive("docker-compose.yml"), release)


if __name__ == "__main__":
    unittest.main()
