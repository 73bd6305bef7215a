# SPDX-License-Identifier: GPL-2.0-or-later
"""A HWB_CLIENT_ONLY tree builds libhwbroker and the CLI with jansson alone: configured with a
pkg-config search path that holds only jansson.pc (so looking for libmicrohttpd, libgpiod,
dbus-1 or yaml-0.1 would fail), built, installed, and used from an installed header and
hwbroker.pc. The CLI reads compose files as JSON there."""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest

SOURCE_DIR = os.environ.get("HWB_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))

PROGRAM = r"""
#include <hwbroker.h>
#include <stdio.h>
int main(void)
{
	printf("%s %s\n", hwb_version(), HWB_CHECK_VERSION(0, 0, 1) ? "yes" : "no");
	return hwb_connect("/nonexistent/hwbroker.sock") != NULL;
}
"""


class ClientOnlyBuildTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hwb-client-only-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.pc = os.path.join(self.tmp, "pkgconfig")
        os.mkdir(self.pc)
        pcdir = subprocess.run(["pkg-config", "--variable=pcfiledir", "jansson"],
                               capture_output=True, check=True).stdout.decode().strip()
        shutil.copy(os.path.join(pcdir, "jansson.pc"), self.pc)
        self.env = dict(os.environ, PKG_CONFIG_LIBDIR=self.pc, PKG_CONFIG_PATH="")

    def run_ok(self, cmd, **kw):
        kw.setdefault("env", self.env)
        r = subprocess.run(cmd, capture_output=True, timeout=240, **kw)
        self.assertEqual(r.returncode, 0, "%s\n%s\n%s" % (cmd, r.stdout.decode()[-3000:],
                                                          r.stderr.decode()[-3000:]))
        return r

    def test_build_install_use(self):
        build, prefix = os.path.join(self.tmp, "build"), os.path.join(self.tmp, "prefix")
        self.run_ok(["cmake", "-S", SOURCE_DIR, "-B", build, "-DHWB_CLIENT_ONLY=ON",
                     "-DHWB_TESTS=OFF", "-DHWB_WERROR=ON", "-DCMAKE_INSTALL_PREFIX=" + prefix])
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            cache = f.read()
        for name in ["libmicrohttpd", "MHD_", "libgpiod", "GPIOD_", "dbus-1", "DBUS_", "yaml",
                     "YAML_", "I2C_LIBRARY", "CMOCKA"]:
            self.assertNotIn(name, cache)
        self.run_ok(["cmake", "--build", build, "-j2"])
        self.assertTrue(os.path.exists(os.path.join(build, "clients", "libhwbroker.so.0")))
        self.assertTrue(os.path.exists(os.path.join(build, "clients", "libhwbroker.a")))
        cli = os.path.join(build, "clients", "hwbroker")
        self.assertTrue(os.access(cli, os.X_OK))
        self.assertFalse(glob.glob(os.path.join(build, "daemon", "hwbrokerd")))

        # policy derive takes JSON compose files here, from a file or standard input.
        compose = {"services": {"sensor": {"devices": ["/dev/i2c-1"],
                                           "labels": {"io.hwbroker.i2c": "1=0x76"}}}}
        path = os.path.join(self.tmp, "compose.json")
        with open(path, "w") as f:
            json.dump(compose, f)
        r = self.run_ok([cli, "policy", "derive", path])
        self.assertIn(b"bus 1 addresses 0x76", r.stdout)
        r = self.run_ok([cli, "policy", "derive", "-", "--json"], input=json.dumps(compose).encode())
        self.assertEqual(json.loads(r.stdout)["sensor"]["grants"][0]["kind"], "i2c")
        r = subprocess.run([cli, "policy", "derive",
                            os.path.join(SOURCE_DIR, "tests", "cli", "fixtures", "release.yml")],
                           capture_output=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"built without YAML support", r.stderr)

        # Installed: one header, the library, hwbroker.pc, the CLI and its completion.
        self.run_ok(["cmake", "--install", build])
        self.assertEqual(os.listdir(os.path.join(prefix, "include")), ["hwbroker.h"])
        self.assertTrue(os.path.exists(os.path.join(
            prefix, "share", "bash-completion", "completions", "hwbroker")))
        pcdirs = glob.glob(os.path.join(prefix, "lib*", "pkgconfig")) + \
            glob.glob(os.path.join(prefix, "lib", "*", "pkgconfig"))
        self.assertEqual(len(pcdirs), 1, pcdirs)
        env = dict(self.env, PKG_CONFIG_LIBDIR=self.pc + ":" + pcdirs[0])
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "hwbroker"], env=env,
                               capture_output=True, check=True).stdout.decode().split()
        src, exe = os.path.join(self.tmp, "use.c"), os.path.join(self.tmp, "use")
        with open(src, "w") as f:
            f.write(PROGRAM)
        self.run_ok(["cc", "-Wall", "-Werror", "-o", exe, src] + flags)
        r = self.run_ok([exe], env=dict(self.env, LD_LIBRARY_PATH=os.path.dirname(pcdirs[0])))
        version = subprocess.run([cli, "--version"], capture_output=True).stdout.split()[1]
        self.assertEqual(r.stdout, version + b" yes\n")


if __name__ == "__main__":
    unittest.main()
