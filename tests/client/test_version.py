# SPDX-License-Identifier: GPL-2.0-or-later
"""hwb_version() and the version macros agree with the CMake project version."""
import os
import re
import subprocess
import unittest

BIN_DIR = os.environ.get("HWB_CLIENT_BIN_DIR", ".")
SOURCE_DIR = os.environ.get("HWB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
HEADER = os.environ.get("HWB_CLIENT_HEADER", "")
HWBROKER_CLI = os.environ.get("HWBROKER_CLI", "hwbroker")


def project_version():
    with open(os.path.join(SOURCE_DIR, "CMakeLists.txt")) as f:
        m = re.search(r"project\(\s*hwbroker\s+VERSION\s+(\d+\.\d+\.\d+)", f.read())
    return m.group(1)


class VersionTest(unittest.TestCase):
    def test_runtime_and_macros(self):
        r = subprocess.run([os.path.join(BIN_DIR, "client_version")], capture_output=True,
                           timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.decode(), project_version() + "\nok\n")

    def test_header_is_generated_with_the_version(self):
        with open(HEADER) as f:
            text = f.read()
        self.assertNotIn("@PROJECT_VERSION", text)
        self.assertIn('#define HWB_VERSION_STRING "%s"' % project_version(), text)

    def test_cli_version(self):
        r = subprocess.run([HWBROKER_CLI, "--version"], capture_output=True, timeout=30)
        self.assertEqual(r.stdout.decode(), "hwbroker %s\n" % project_version())


if __name__ == "__main__":
    unittest.main()
