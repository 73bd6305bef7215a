# SPDX-License-Identifier: GPL-2.0-or-later
"""The sized structs against the real daemon: a forgotten size is refused before anything
reaches the board, a larger (newer) caller struct keeps its extra members (client_structs.c)."""
import os
import subprocess
import unittest

from hwbtest import HWBROKERD, DaemonTestCase

BIN_DIR = os.environ.get("HWB_CLIENT_BIN_DIR", ".")


@unittest.skipUnless(os.path.exists(HWBROKERD), "needs hwbrokerd (not built in a client-only tree)")
class StructsTest(DaemonTestCase):
    def test_sized_structs(self):
        self.daemon.register("sensor", {"devices": ["/dev/gpiochip0", "/dev/i2c-1", "/dev/ttyS0"],
                                        "labels": {"io.hwbroker.i2c": "1=0x50",
                                                   "io.hwbroker.host": "time"}})
        r = subprocess.run([os.path.join(BIN_DIR, "client_structs"),
                            self.daemon.socket_path("sensor"), self.daemon.admin_path],
                           capture_output=True, timeout=60)
        self.assertEqual((r.returncode, r.stdout), (0, b"ok\n"), r.stderr)


if __name__ == "__main__":
    unittest.main()
