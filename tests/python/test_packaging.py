# SPDX-License-Identifier: GPL-2.0-or-later
"""clients/python installs with pip offline and brings nothing but the package."""
import os
import subprocess
import sys
import zipfile

from conftest import PYTHON_DIR


def build_wheel(tmp_path):
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    env.pop("PIP_FIND_LINKS", None)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(tmp_path),
                        PYTHON_DIR], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    wheels = [f for f in os.listdir(tmp_path) if f.endswith(".whl")]
    assert wheels == ["hwbroker-0.1.0-py3-none-any.whl"]
    return os.path.join(tmp_path, wheels[0])


def test_pip_builds_a_wheel_without_an_index(tmp_path):
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        meta = zf.read("hwbroker-0.1.0.dist-info/METADATA").decode()
    assert {"hwbroker/__init__.py", "hwbroker/client.py", "hwbroker/aio.py",
            "hwbroker/errors.py", "hwbroker/py.typed"} <= names
    assert "Requires-Python: >=3.9" in meta
    assert "Requires-Dist" not in meta  # no dependencies
    assert not [n for n in names if "__pycache__" in n or n.startswith("examples/")]


def test_the_wheel_works_on_its_own(board, tmp_path):
    wheel = build_wheel(tmp_path)
    path = board.register("sensor", {"devices": ["/dev/i2c-1"]})
    # A pure wheel imports straight from its zip file; -I keeps the tree out of sys.path.
    code = ("import sys; sys.path.insert(0, %r); import hwbroker; "
            "assert hwbroker.__file__.startswith(%r); "
            "print(hwbroker.connect(%r).i2c.read_byte_data(1, 0x76, 0xd0))" % (wheel, wheel, path))
    r = subprocess.run([sys.executable, "-I", "-c", code], capture_output=True, text=True,
                       timeout=60)
    assert (r.returncode, r.stdout.strip()) == (0, "96"), r.stderr
