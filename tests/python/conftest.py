# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures for the Python client tests: a real hwbrokerd --sim per test.

ctest sets HWBROKERD and PYTHONPATH (tests/lib and clients/python); by hand:
HWBROKERD=build/daemon/hwbrokerd python3 -m pytest tests/python
"""
import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.environ.get("HWB_SOURCE_DIR", os.path.dirname(os.path.dirname(HERE)))
for p in (os.path.join(SOURCE_DIR, "tests", "lib"), os.path.join(SOURCE_DIR, "clients", "python")):
    if p not in sys.path:
        sys.path.insert(0, p)

from hwbtest import Daemon  # noqa: E402

import hwbroker  # noqa: E402

PYTHON_DIR = os.path.join(SOURCE_DIR, "clients", "python")

# What the "sensor" service of most tests declares: all it needs for every call.
EVERYTHING = {
    "devices": ["/dev/gpiochip0", "/dev/i2c-1", "/dev/ttyS0", "/dev/ttyACM0"],
    "labels": {"io.hwbroker.host": "reboot,poweroff,hostname,time",
               "io.hwbroker.units": "my-agent.service"},
}


class Board:
    """The daemon and what the tests ask of it through the admin socket."""

    def __init__(self, daemon):
        self.daemon = daemon

    def admin(self, method, url, body=None):
        c = self.daemon.admin()
        try:
            r = c.request(method, url, body=body)
        finally:
            c.close()
        assert r.status < 300, r
        return r.json

    def register(self, name, compose):
        self.daemon.register(name, compose)
        return self.daemon.socket_path(name)

    def connect(self, name, **kw):
        return hwbroker.connect(self.daemon.socket_path(name), **kw)

    def line(self, chip, line):
        return self.admin("GET", "/v1/gpio/%s/%s" % (chip, line))

    def pull(self, chip, line, level):
        self.admin("POST", "/v1/sim/gpio/%s/%s" % (chip, line), {"pull": level})

    def port(self, name):
        ports = self.admin("GET", "/v1/uart")["ports"]
        return next(p for p in ports if p["port"] == name)

    def host_actions(self):
        return self.admin("GET", "/v1/sim/host/actions")["actions"]

    def i2c_delay(self, bus, ms):
        self.admin("POST", "/v1/sim/i2c/%d" % bus, {"delay_ms": ms})

    def wait_i2c_idle(self, bus=1, timeout=30):
        """Waits until the bus has served every queued transfer: a new one
        (through the admin socket) then succeeds. Use after a slowed bus."""
        self.i2c_delay(bus, 0)
        deadline = time.monotonic() + timeout
        while True:
            c = self.daemon.admin()
            try:
                r = c.post("/v1/i2c/%d/0x76/smbus" % bus,
                           body={"op": "read_byte_data", "command": 0xD0})
            finally:
                c.close()
            if r.status == 200 or time.monotonic() > deadline:
                break
        assert r.status == 200, r

    def connections(self, name):
        return self.admin("GET", "/v1/services/" + name)["connections"]

    def wait_connections(self, name, n, timeout=30):
        """Waits until the service has n connections open (say, until the
        broker answered and closed one the client gave up on)."""
        deadline = time.monotonic() + timeout
        while self.connections(name) != n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.connections(name) == n


def _start(request, args):
    d = Daemon(args).start()

    def stop():
        alive = d.alive()
        rc = d.stop()
        log = d.read_log()
        assert alive, "hwbrokerd died during the test:\n" + log[-4000:]
        assert rc == 0 and "ERROR: AddressSanitizer" not in log and "runtime error:" not in log, \
            "hwbrokerd exited with %r:\n%s" % (rc, log[-4000:])

    request.addfinalizer(stop)
    return Board(d)


@pytest.fixture
def board(request):
    """A daemon on the simulated board; extra arguments with
    @pytest.mark.daemon_args(...)."""
    marker = request.node.get_closest_marker("daemon_args")
    return _start(request, ("--sim",) + (tuple(marker.args) if marker else ()))


@pytest.fixture
def hw(board):
    """A client of the service "sensor", which may do everything."""
    board.register("sensor", EVERYTHING)
    client = board.connect("sensor")
    yield client
    client.close()


def pytest_configure(config):
    config.addinivalue_line("markers", "daemon_args(*args): extra hwbrokerd arguments")
