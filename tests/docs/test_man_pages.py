# SPDX-License-Identifier: GPL-2.0-or-later
"""The man pages cover what the binaries offer: every daemon option (from
hwbrokerd --help), every CLI command and option (from hwbroker --help and
hwbroker COMMAND --help) and every exported library call (hwbroker.h)."""
import os
import re
import subprocess
import unittest

from hwbtest import HWBROKER_CLI, HWBROKERD, SOURCE_DIR

MAN_DIR = os.path.join(SOURCE_DIR, "docs", "man")


def page_text(name):
    """The page's scdoc source as plain text: formatting marks and escapes removed."""
    with open(os.path.join(MAN_DIR, name + ".scd"), encoding="utf-8") as f:
        text = f.read()
    # Asterisks mark bold; an underscore marks underline only at a word's edge
    # (hwb_close stays as it is); a backslash escapes either.
    text = re.sub(r"(?<!\\)\*", "", text)
    text = re.sub(r"(?<![\\\w])_|(?<=[^\\])_(?!\w)", "", text)
    return re.sub(r"\\(.)", r"\1", text)


def mentions(text, phrase):
    """phrase (words separated by blanks) appears as whole words."""
    words = [re.escape(w) for w in phrase.split()]
    return re.search(r"(?<![\w-])" + r"\s+".join(words) + r"(?![\w-])", text) is not None


def run_help(*args):
    r = subprocess.run(list(args) + ["--help"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError("%s --help: exit status %d\n%s" % (" ".join(args), r.returncode,
                                                                r.stderr))
    return r.stdout


LONG_OPT = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*)")
SHORT_OPT = re.compile(r"(?<![\w-])(-[a-zA-Z])(?![\w-])")


def cli_surface():
    """(commands, {(command, subcommand)}, {option}) from the CLI's own help."""
    top = run_help(HWBROKER_CLI)
    m = re.search(r"^Commands:\n((?:[ \t]+\S.*\n)+)", top, re.M)
    if not m:
        raise AssertionError("hwbroker --help has no 'Commands:' list:\n" + top)
    # A command starts a line indented by two blanks ("  gpio set CHIP ..."); deeper
    # lines continue the description before them.
    commands = list(dict.fromkeys(re.findall(r"^  ([a-z][a-z0-9-]*)\s", m.group(1), re.M)))
    options = set(LONG_OPT.findall(top)) | set(SHORT_OPT.findall(top))
    pairs = set()
    for cmd in commands:
        text = run_help(HWBROKER_CLI, cmd)
        options |= set(LONG_OPT.findall(text)) | set(SHORT_OPT.findall(text))
        subs = set()
        # A list of subcommands: lines indented by exactly two blanks that name the
        # command and the subcommand ("  gpio set CHIP LINE=VALUE...").
        subs |= set(re.findall(r"^  " + re.escape(cmd) + r" +([a-z][a-z0-9-]*)(?=\s|$)",
                               text, re.M))
        # Literal words after the command on the usage lines ("policy derive FILE").
        for usage in re.findall(r"^Usage: hwbroker (.*)$", text, re.M):
            words = [w for w in usage.split() if not w.startswith("-")]
            if cmd in words:
                after = words[words.index(cmd) + 1:]
                if after and re.fullmatch(r"[a-z][a-z0-9-]*", after[0]):
                    subs.add(after[0])
                elif after and after[0] == "COMMAND" and not subs:
                    raise AssertionError("hwbroker %s --help lists no subcommands "
                                         "(has the help format changed?):\n%s" % (cmd, text))
        pairs |= {(cmd, s) for s in subs}
    return commands, pairs, options


class ManPagesTest(unittest.TestCase):
    def test_daemon_options_in_hwbrokerd_8_and_conf_5(self):
        text = run_help(HWBROKERD)
        options = set()
        for line in text.splitlines():
            if re.match(r"^\s+--", line):
                options |= set(LONG_OPT.findall(line))
        self.assertGreater(len(options), 10, "cannot parse hwbrokerd --help:\n" + text)
        man8, man5 = page_text("hwbrokerd.8"), page_text("hwbrokerd.conf.5")
        missing8 = sorted(o for o in options if not mentions(man8, o))
        self.assertEqual(missing8, [], "options missing from docs/man/hwbrokerd.8.scd")
        # --routes, like --config, is a flag only: the file refuses it as a key.
        keys = {o[2:] for o in options} - {"config", "help", "version", "routes"}
        missing5 = sorted(k for k in keys if not re.search(
            r"^" + re.escape(k) + r" = ", man5, re.M))
        self.assertEqual(missing5, [], "keys missing from docs/man/hwbrokerd.conf.5.scd "
                         "(expected a 'KEY = VALUE' entry each)")

    def test_cli_commands_and_options_in_hwbroker_1(self):
        commands, pairs, options = cli_surface()
        self.assertIn("gpio", commands)
        self.assertIn(("gpio", "set"), pairs)
        man1 = page_text("hwbroker.1")
        missing = sorted(c for c in commands if not mentions(man1, c))
        missing += sorted("%s %s" % p for p in pairs if not mentions(man1, "%s %s" % p))
        missing += sorted(o for o in options if not mentions(man1, o))
        self.assertEqual(missing, [], "commands or options missing from docs/man/hwbroker.1.scd")

    def test_library_calls_in_libhwbroker_3(self):
        with open(os.path.join(SOURCE_DIR, "clients", "include", "hwbroker.h.in")) as f:
            header = f.read()
        calls = set(re.findall(r"^HWB_API\b[^(]*?\b(hwb_\w+)\s*\(", header, re.M))
        self.assertGreater(len(calls), 20)
        man3 = page_text("libhwbroker.3")
        missing = sorted(c for c in calls if not mentions(man3, c))
        self.assertEqual(missing, [], "calls missing from docs/man/libhwbroker.3.scd")

    def test_the_parser_sees_a_missing_entry(self):
        # The checks above compare against the page text: a command that is not
        # there must not be found, or they would pass whatever the page says.
        man1 = page_text("hwbroker.1")
        self.assertTrue(mentions(man1, "gpio set"))
        self.assertFalse(mentions(man1, "gpio frobnicate"))
        self.assertFalse(mentions(man1, "--no-such-option"))
        self.assertFalse(mentions(man1, "gpio s"))


if __name__ == "__main__":
    unittest.main()
