# SPDX-License-Identifier: GPL-2.0-or-later
"""The shared library exports exactly what its version script lists, each symbol with the
version node the script gives it, and the script lists every call the header declares."""
import os
import re
import subprocess
import unittest

LIB = os.environ.get("HWB_LIBHWBROKER", "libhwbroker.so")
SCRIPT = os.environ.get("HWB_VERSION_SCRIPT", "libhwbroker.map")
HEADER = os.environ.get("HWB_CLIENT_HEADER", "hwbroker.h")


def script_symbols():
    """{symbol: node} from the version script's global: sections."""
    with open(SCRIPT) as f:
        text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
    symbols = {}
    for node, body in re.findall(r"([A-Za-z0-9_.]+)\s*\{(.*?)\}\s*[A-Za-z0-9_.]*\s*;", text, re.S):
        scope = None
        for tok in re.findall(r"[A-Za-z0-9_*]+:|[^\s;]+", body):
            if tok.endswith(":"):
                scope = tok[:-1]
            elif scope == "global":
                assert tok not in symbols, "%s listed twice" % tok
                symbols[tok] = node
    return symbols


def exported_symbols():
    """{symbol: version} of the defined dynamic symbols (not the version nodes themselves)."""
    out = subprocess.run(["nm", "-D", "--defined-only", LIB], capture_output=True, check=True,
                         timeout=30).stdout.decode()
    symbols = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) != 3 or parts[1] == "A":
            continue
        name, _, version = parts[2].partition("@")
        symbols[name] = version.lstrip("@")
    return symbols


class AbiTest(unittest.TestCase):
    def test_exports_match_the_version_script(self):
        listed, exported = script_symbols(), exported_symbols()
        self.assertTrue(listed)
        self.assertEqual(sorted(set(exported) - set(listed)), [], "exported but not in the script")
        self.assertEqual(sorted(set(listed) - set(exported)), [], "in the script but not exported")
        for name, node in listed.items():
            self.assertEqual(exported[name], node, name)

    def test_script_lists_every_call_of_the_header(self):
        with open(HEADER) as f:
            declared = set(re.findall(r"HWB_API\s+[^;(]*?\b(hwb_[a-z0-9_]+)\s*\(", f.read()))
        self.assertTrue(declared)
        self.assertEqual(sorted(declared ^ set(script_symbols())), [])


if __name__ == "__main__":
    unittest.main()
