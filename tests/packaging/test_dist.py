# SPDX-License-Identifier: GPL-2.0-or-later
"""The installed integration files: the systemd unit passes systemd-analyze
verify and keeps its exposure score, the tmpfiles.d entry creates the
directories the daemon expects, and the sample configuration lists every
option with its default and is accepted by the daemon."""
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

from hwbtest import HWBROKERD, SOURCE_DIR

BUILD_DIR = os.environ.get("HWB_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
# The unit as installed, but starting this build tree's hwbrokerd.
UNIT = os.path.join(BUILD_DIR, "dist", "build-tree", "hwbrokerd.service")
TMPFILES = os.path.join(SOURCE_DIR, "dist", "hwbroker.tmpfiles")
SAMPLE_CONFIG = os.path.join(SOURCE_DIR, "dist", "hwbrokerd.conf")
# docs/packaging.md reports the score; a change that weakens the sandbox fails here.
MAX_EXPOSURE = 1.5


def tool(name, package):
    path = shutil.which(name)
    if not path:
        raise AssertionError("%s not found: install %s (scripts/install-deps)" % (name, package))
    return path


def daemon_options():
    """{name: default or None} from hwbrokerd --help."""
    out = subprocess.run([HWBROKERD, "--help"], capture_output=True, text=True, check=True).stdout
    opts = {}
    for m in re.finditer(r"^\s+--([a-z][a-z0-9-]*)(?: (?:STR|N|FILE))?\s+(.*)$", out, re.M):
        name, rest = m.groups()
        if name in ("config", "help", "routes"):
            continue
        d = re.search(r"\[([^\]]*)\]$", rest)
        opts[name] = d.group(1) if d else None
    return opts


class UnitTest(unittest.TestCase):
    def test_verify(self):
        r = subprocess.run([tool("systemd-analyze", "systemd"), "verify", "--man=no", UNIT],
                           capture_output=True, text=True)
        self.assertEqual((r.returncode, r.stderr.strip()), (0, ""), r.stdout)

    def test_exposure(self):
        r = subprocess.run([tool("systemd-analyze", "systemd"), "security", "--offline=yes",
                            "--no-pager", UNIT], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"Overall exposure level for hwbrokerd\.service: ([0-9.]+)", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        self.assertLessEqual(float(m.group(1)), MAX_EXPOSURE, r.stdout)

    def test_what_the_daemon_relies_on(self):
        with open(UNIT) as f:
            unit = f.read()
        settings = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
        # READY=1 is sent once every socket listens.
        self.assertEqual(settings["Type"], "notify")
        # Containers hold bind mounts of /run/hwbroker/services/NAME across restarts.
        self.assertEqual(settings["RuntimeDirectory"], "hwbroker")
        self.assertEqual(settings["RuntimeDirectoryPreserve"], "yes")
        self.assertEqual(settings["StateDirectory"], "hwbroker")
        self.assertIn(os.path.realpath(HWBROKERD), settings["ExecStart"])
        self.assertIn("--config", settings["ExecStart"])


class TmpfilesTest(unittest.TestCase):
    def test_directories(self):
        root = tempfile.mkdtemp(prefix="hwbtest-root-")
        self.addCleanup(shutil.rmtree, root)
        r = subprocess.run([tool("systemd-tmpfiles", "systemd"), "--root", root, "--create",
                            TMPFILES], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        modes = {p: stat.S_IMODE(os.stat(os.path.join(root, p.lstrip("/"))).st_mode)
                 for p in ("/run/hwbroker", "/run/hwbroker/services", "/var/lib/hwbroker")}
        # The services directory cannot be listed; the state is root's alone.
        self.assertEqual(modes, {"/run/hwbroker": 0o755, "/run/hwbroker/services": 0o711,
                                 "/var/lib/hwbroker": 0o700})


class SampleConfigTest(unittest.TestCase):
    def setUp(self):
        with open(SAMPLE_CONFIG) as f:
            self.text = f.read()
        self.entries = dict(re.findall(r"^#([a-z][a-z0-9-]*) = (.*)$", self.text, re.M))

    def test_every_option_with_its_default(self):
        opts = daemon_options()
        self.assertGreater(len(opts), 10)
        self.assertEqual(sorted(self.entries), sorted(opts))
        for name, default in opts.items():
            if default is not None:
                self.assertEqual(self.entries[name], default, name)

    def test_the_daemon_accepts_it_commented_and_uncommented(self):
        tmp = tempfile.mkdtemp(prefix="hwbtest-conf-")
        self.addCleanup(shutil.rmtree, tmp)
        uncommented = os.path.join(tmp, "all.conf")
        with open(uncommented, "w") as f:
            f.write(re.sub(r"^#([a-z][a-z0-9-]* = )", r"\1", self.text, flags=re.M))
        # --help returns after the file is read: every key and value parsed.
        for path in (SAMPLE_CONFIG, uncommented):
            r = subprocess.run([HWBROKERD, "--config", path, "--help"], capture_output=True,
                               text=True)
            self.assertEqual((r.returncode, r.stderr), (0, ""), path)
        # ...and a key the daemon does not know is refused.
        bad = os.path.join(tmp, "bad.conf")
        with open(bad, "w") as f:
            f.write("no-such-option = 1\n")
        r = subprocess.run([HWBROKERD, "--config", bad, "--help"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no-such-option", r.stderr)


if __name__ == "__main__":
    unittest.main()
