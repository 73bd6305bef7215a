# SPDX-License-Identifier: GPL-2.0-or-later
"""The BME280 example service (clients/python/examples/bme280.py) against the
simulated sensor, run the way a container would run it."""
import json
import os
import subprocess
import sys

from conftest import PYTHON_DIR

EXAMPLE = os.path.join(PYTHON_DIR, "examples", "bme280.py")
SENSOR = {"devices": ["/dev/i2c-1"], "labels": {"io.hwbroker.i2c": "1=0x76"}}


def run_example(socket_path, *args):
    env = dict(os.environ, HWBROKER_SOCKET=socket_path,
               PYTHONPATH=os.pathsep.join([PYTHON_DIR, os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, EXAMPLE] + list(args), env=env,
                          capture_output=True, text=True, timeout=60)


def test_reads_plausible_values(board):
    path = board.register("sensor", SENSOR)
    r = run_example(path, "--json", "--count", "3", "--interval", "0")
    assert r.returncode == 0, r.stderr
    readings = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(readings) == 3
    for x in readings:
        # The model sits near 22 °C, 1013 hPa, 45 %RH and drifts slowly.
        assert 0 < x["temperature_c"] < 45
        assert 900 < x["pressure_hpa"] < 1100
        assert 10 < x["humidity_pct"] < 90


def test_text_output(board):
    path = board.register("sensor", SENSOR)
    r = run_example(path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("temperature ") and " hPa, humidity " in r.stdout


def test_matches_the_c_example(board):
    c_reader = os.path.join(os.environ.get("HWB_BUILD_DIR", ""), "clients", "examples",
                            "bme280_reader")
    assert os.path.exists(c_reader), "build the C example first: " + c_reader
    path = board.register("sensor", SENSOR)
    py = json.loads(run_example(path, "--json").stdout)
    c = json.loads(subprocess.run([c_reader, "--json"], env=dict(os.environ, HWBROKER_SOCKET=path),
                                  capture_output=True, text=True, timeout=60, check=True).stdout)
    # Same formulas on (nearly) the same raw values.
    assert abs(py["temperature_c"] - c["temperature_c"]) < 1
    assert abs(py["pressure_hpa"] - c["pressure_hpa"]) < 5
    assert abs(py["humidity_pct"] - c["humidity_pct"]) < 5


def test_refused_address_exits_3_with_the_hint(board):
    path = board.register("sensor", SENSOR)
    r = run_example(path, "--address", "0x77")
    assert r.returncode == 3
    assert "0x77" in r.stderr and "hint:" in r.stderr
    assert r.stdout == ""


def test_missing_broker(tmp_path):
    r = run_example(str(tmp_path / "none.sock"))
    assert r.returncode == 1 and "transport" in r.stderr
