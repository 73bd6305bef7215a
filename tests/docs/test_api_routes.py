# SPDX-License-Identifier: GPL-2.0-or-later
"""docs/api.md names every route of both sockets, and nothing else: the
daemon's own table (hwbrokerd --routes) and the page are compared."""
import os
import re
import subprocess
import unittest

from hwbtest import HWBROKERD, SOURCE_DIR


def shape(method, path):
    """A route with its path captures spelled alike: GET /v1/gpio/{}/{}."""
    segments = [("{}" if s.startswith("{") or s.isupper() else s) for s in path.split("/")]
    return method + " " + "/".join(segments)


class ApiDocTest(unittest.TestCase):
    def test_api_md_names_every_route_and_nothing_else(self):
        out = subprocess.run([HWBROKERD, "--routes"], capture_output=True, text=True,
                             check=True).stdout
        routes = {shape(*line.split()[:2]) for line in out.splitlines()}
        with open(os.path.join(SOURCE_DIR, "docs", "api.md")) as f:
            text = f.read()
        named = {shape(m, p) for m, p in
                 re.findall(r"^\| `(GET|PUT|POST|DELETE) (/[^`?\s]*)[^`]*`", text, re.M)}
        self.assertGreater(len(routes), 30)
        self.assertEqual(sorted(routes - named), [], "routes docs/api.md does not name")
        self.assertEqual(sorted(named - routes), [], "docs/api.md names routes that do not exist")


if __name__ == "__main__":
    unittest.main()
