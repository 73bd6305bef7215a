# SPDX-License-Identifier: GPL-2.0-or-later
"""The help lists every command, usage errors are one argument and one usage line, a stalled
broker makes the CLI give up, and the bash completion offers what the CLI has."""
import os
import re
import shutil
import subprocess
import unittest

from fakebroker import sink
from hwbtest import HWBROKER_CLI, SOURCE_DIR, DaemonTestCase

COMPLETION = os.path.join(SOURCE_DIR, "clients", "cli", "hwbroker.bash-completion")
COMMANDS = ["whoami", "gpio", "i2c", "uart", "host", "admin", "policy"]


def run(*args, **kw):
    return subprocess.run([HWBROKER_CLI] + list(args), capture_output=True, timeout=30, **kw)


def subcommands(cmd):
    """The subcommands "hwbroker CMD --help" lists."""
    out = run(cmd, "--help").stdout.decode()
    return [m.group(1) for m in re.finditer(r"^  %s (\S+)" % cmd, out, re.M)]


class HelpTest(unittest.TestCase):
    def test_top_level_help_lists_every_subcommand(self):
        top = run("--help")
        self.assertEqual(top.returncode, 0)
        listed = re.findall(r"^  (\w+)(?: (\w+))?", top.stdout.decode(), re.M)
        listed = {(c, s) for c, s in listed if c in COMMANDS}
        for cmd in COMMANDS:
            subs = subcommands(cmd)
            if cmd == "whoami":
                self.assertEqual(subs, [])
                self.assertIn(("whoami", ""), listed)
                continue
            self.assertTrue(subs, cmd)
            for sub in subs:
                self.assertIn((cmd, sub), listed)
                r = run(cmd, sub, "--help")
                self.assertEqual(r.returncode, 0, (cmd, sub))
                self.assertTrue(r.stdout.startswith(b"Usage: hwbroker %s %s" % (
                    cmd.encode(), sub.encode())), r.stdout)
        self.assertIn(("gpio", "input"), listed)
        self.assertEqual({c for c, _ in listed}, set(COMMANDS))

    def test_docs_list_every_subcommand(self):
        with open(os.path.join(SOURCE_DIR, "docs", "cli.md")) as f:
            doc = f.read()
        block = doc[doc.index("## Commands"):doc.index("### GPIO")]
        for cmd in COMMANDS[1:]:
            for sub in subcommands(cmd):
                self.assertRegex(block, r"(?m)(^|\| )%s %s\b" % (cmd, sub), (cmd, sub))

    def test_usage_errors(self):
        cases = [(["gpio", "frobnicate"], "hwbroker: gpio: unknown command 'frobnicate'",
                  "usage: hwbroker gpio list|detect|info|get|set|input|release|watch ..."),
                 (["i2c"], "hwbroker: i2c: no command given", "usage: hwbroker i2c list|"),
                 (["whoami", "extra"], "hwbroker: whoami: unexpected argument 'extra'",
                  "usage: hwbroker whoami"),
                 (["uart", "read", "ttyS0", "--max", "0"], "hwbroker: uart read: bad --max '0'",
                  "usage: hwbroker uart read PORT"),
                 (["uart", "config", "ttyS0", "--parity", "green"],
                  "hwbroker: uart config: bad parity 'green'", "usage: hwbroker uart config PORT"),
                 (["host", "restart"], "hwbroker: host restart: missing UNIT",
                  "usage: hwbroker host restart UNIT"),
                 (["admin", "show"], "hwbroker: admin show: missing NAME",
                  "usage: hwbroker admin show NAME"),
                 (["admin", "audit", "--what", "x"], "hwbroker: admin audit: unknown option",
                  "usage: hwbroker admin audit"),
                 (["policy", "derive"], "hwbroker: policy derive: missing COMPOSE.yml",
                  "usage: hwbroker policy derive COMPOSE.yml|- [SERVICE]"),
                 (["frob"], "hwbroker: unknown command 'frob'", "usage: hwbroker [--socket PATH]"),
                 (["--frob"], "hwbroker: unknown option '--frob'", "usage: hwbroker [--socket"),
                 ([], "hwbroker: no command given", "usage: hwbroker [--socket PATH]")]
        for args, first, second in cases:
            r = run("--socket", "/nonexistent", *args)
            self.assertEqual(r.returncode, 2, args)
            lines = r.stderr.decode().splitlines()
            self.assertEqual(len(lines), 2, r.stderr)
            self.assertTrue(lines[0].startswith(first), lines)
            self.assertTrue(lines[1].startswith(second), lines)


class BrokerTimeoutTest(unittest.TestCase):
    def test_gives_up_on_a_stalled_broker(self):
        path, cleanup = sink()
        self.addCleanup(cleanup)
        r = run("--socket", path, "--broker-timeout", "200", "whoami")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"no reply from the broker within 200 ms", r.stderr)
        env = dict(os.environ, HWBROKER_TIMEOUT_MS="200")
        r = run("--socket", path, "i2c", "get", "1", "0x50", env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"within 200 ms", r.stderr)
        r = run("--socket", path, "whoami", "--broker-timeout", "0")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"bad --broker-timeout '0'", r.stderr)


def complete(*words, socket=None, cwd=None):
    """What the completion offers for the last of words (bash, COMP_WORDS/COMP_CWORD)."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _hwbroker; '
              'printf "%s\\n" "${COMPREPLY[@]}"')
    env = dict(os.environ, PATH=os.path.dirname(HWBROKER_CLI) + ":" + os.environ["PATH"])
    if socket:
        env["HWBROKER_SOCKET"] = socket
    r = subprocess.run(["bash", "-c", script, "bash", COMPLETION] + list(words),
                       capture_output=True, timeout=30, env=env, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return sorted(x for x in r.stdout.decode().splitlines() if x)


@unittest.skipUnless(shutil.which("bash"), "needs bash")
class CompletionTest(unittest.TestCase):
    def test_commands_and_subcommands(self):
        self.assertEqual(complete("hwbroker", "gp"), ["gpio"])
        self.assertEqual(complete("hwbroker", ""), sorted(COMMANDS))
        for cmd in COMMANDS[1:]:
            self.assertEqual(complete("hwbroker", cmd, ""), sorted(subcommands(cmd)), cmd)
        self.assertEqual(complete("hwbroker", "--json", "gpio", "w"), ["watch"])
        self.assertEqual(complete("hwbroker", "--socket", "/x", "i2c", "d"), ["detect", "dump"])

    def test_options_and_values(self):
        self.assertIn("--broker-timeout", complete("hwbroker", "--"))
        self.assertEqual(complete("hwbroker", "gpio", "watch", "gpiochip0", "4", "--edge", ""),
                         ["both", "falling", "rising"])
        self.assertEqual(complete("hwbroker", "gpio", "watch", "gpiochip0", "4", "--e"), ["--edge"])
        self.assertEqual(complete("hwbroker", "i2c", "get", "1", "0x50", "0", ""),
                         ["b", "c", "i", "s", "w"])
        self.assertEqual(complete("hwbroker", "i2c", "dump", "-y", "1", "0x50", ""), ["b", "i"])
        self.assertEqual(complete("hwbroker", "i2c", "detect", "-"),
                         ["--help", "-a", "-q", "-r", "-y"])
        self.assertEqual(complete("hwbroker", "uart", "config", "ttyS0", "--parity", ""),
                         ["even", "mark", "none", "odd", "space"])

    def test_files(self):
        d = os.path.join(os.path.dirname(__file__), "fixtures")
        self.assertEqual(complete("hwbroker", "policy", "derive", "rel", cwd=d), ["release.yml"])
        self.assertEqual(complete("hwbroker", "admin", "apply", "rel", cwd=d), ["release.yml"])


@unittest.skipUnless(shutil.which("bash"), "needs bash")
class CompletionFromTheBrokerTest(DaemonTestCase):
    def test_chips_buses_ports(self):
        self.daemon.register("s", {"devices": ["/dev/gpiochip0", "/dev/i2c-1", "/dev/ttyS0"]})
        sock = self.daemon.socket_path("s")
        self.assertEqual(complete("hwbroker", "--socket", sock, "gpio", "get", ""), ["gpiochip0"])
        self.assertEqual(complete("hwbroker", "gpio", "info", "g", socket=sock), ["gpiochip0"])
        self.assertEqual(complete("hwbroker", "--socket", sock, "i2c", "detect", ""), ["1"])
        self.assertEqual(complete("hwbroker", "--socket", sock, "uart", "read", ""), ["ttyS0"])
        self.assertEqual(complete("hwbroker", "--socket", self.daemon.admin_path, "admin",
                                  "show", ""), ["s"])


if __name__ == "__main__":
    unittest.main()
