# SPDX-License-Identifier: GPL-2.0-or-later
"""make demo prints every command so that it can be pasted into a shell as it
stands: each printed line parses, the JSON bodies keep their quotes, and
re-running printed lines against the demo's state gives the demo's answers."""
import json
import os
import re
import shlex
import subprocess
import tempfile
import unittest

from hwbtest import Daemon, SOURCE_DIR

BUILD_DIR = os.environ.get("HWB_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))


class DemoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="hwbtest-demo-")
        cls.demo_dir = os.path.join(cls.tmp.name, "demo")
        env = dict(os.environ, HWB_DEMO_DIR=cls.demo_dir)
        r = subprocess.run(["sh", os.path.join(SOURCE_DIR, "scripts", "demo.sh"), BUILD_DIR],
                           env=env, capture_output=True, text=True, timeout=120)
        cls.output = r.stdout
        cls.returncode = r.returncode
        cls.stderr = r.stderr
        cls.commands = [line[2:] for line in r.stdout.splitlines() if line.startswith("$ ")]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_demo_runs(self):
        self.assertEqual(self.returncode, 0, self.stderr)
        self.assertGreaterEqual(len(self.commands), 10, self.output)
        self.assertIn("{\"value\":96}", self.output)

    def test_every_printed_command_parses(self):
        for cmd in self.commands:
            r = subprocess.run(["sh", "-n", "-c", cmd], capture_output=True, text=True)
            self.assertEqual((r.returncode, r.stderr), (0, ""), cmd)
            argv = shlex.split(cmd.removesuffix("&"))
            self.assertTrue(os.access(os.path.join(SOURCE_DIR, argv[0]), os.X_OK) or
                            argv[0] in ("cat", "curl"), cmd)
            # A body keeps its quotes: it is still JSON once the shell has read it.
            for i, word in enumerate(argv[:-1]):
                if word == "-d":
                    json.loads(argv[i + 1])

    def test_printed_commands_rerun(self):
        # The demo's state (the sensor service, GPIO17's lease) is restored by a
        # daemon started on the same directories, as the printed start line says.
        start = [c for c in self.commands if c.endswith("&")]
        self.assertEqual(len(start), 1, self.commands)
        argv = shlex.split(start[0][:-1])
        runtime = argv[argv.index("--runtime-dir") + 1]
        state = argv[argv.index("--state-dir") + 1]
        daemon = Daemon(("--sim",), runtime=runtime,
                        state=os.path.join(SOURCE_DIR, state)).start()
        try:
            smbus = [c for c in self.commands if c.startswith("curl") and "smbus" in c]
            gpio_get = [c for c in self.commands if re.search(r" gpio get gpiochip0 17$", c)]
            self.assertEqual((len(smbus), len(gpio_get)), (1, 1), self.commands)
            for cmd, want in ((smbus[0], "{\"value\":96}"), (gpio_get[0], "1")):
                r = subprocess.run(cmd, shell=True, cwd=SOURCE_DIR, capture_output=True,
                                   text=True, timeout=30)
                self.assertEqual((r.returncode, r.stdout.strip()), (0, want), cmd)
        finally:
            rc = daemon.stop()
        self.assertEqual(rc, 0, daemon.read_log())


if __name__ == "__main__":
    unittest.main()
