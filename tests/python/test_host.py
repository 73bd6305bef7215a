# SPDX-License-Identifier: GPL-2.0-or-later
"""Host actions through the Python client (recorded by --host sim)."""
import pytest

import hwbroker


def test_reboot(board, hw):
    assert hw.host.reboot("firmware updated") == {"action": "reboot", "status": "accepted"}
    assert [a["action"] for a in board.host_actions()] == ["reboot"]
    with pytest.raises(hwbroker.Conflict):
        hw.host.poweroff()
    assert [a["action"] for a in board.host_actions()] == ["reboot"]


def test_poweroff(board, hw):
    assert hw.host.poweroff()["action"] == "poweroff"
    assert [a["action"] for a in board.host_actions()] == ["poweroff"]


def test_hostname(board, hw):
    old = hw.host.hostname()
    assert isinstance(old, str) and old
    assert hw.host.set_hostname("edge-7") == "edge-7"
    assert hw.host.hostname() == "edge-7"
    with pytest.raises(hwbroker.Invalid) as e:
        hw.host.set_hostname("not_valid")
    assert e.value.status == 422 and e.value.hint
    assert hw.host.hostname() == "edge-7"
    assert ("set_hostname", "edge-7") in [(a["action"], a["arg"]) for a in board.host_actions()]


def test_time(hw):
    t = hw.host.time()
    assert set(t) >= {"timezone", "ntp", "ntp_synchronized", "time_usec"}
    assert t["time_usec"] > 1_600_000_000_000_000


def test_restart_unit(board, hw):
    r = hw.host.restart_unit("my-agent.service")
    assert r["unit"] == "my-agent.service" and r["job"]
    with pytest.raises(hwbroker.Forbidden) as e:
        hw.host.restart_unit("sshd.service")
    assert "io.hwbroker.units" in e.value.hint
    assert [(a["action"], a["arg"]) for a in board.host_actions()] == \
        [("restart_unit", "my-agent.service")]


def test_forbidden_host_actions_do_nothing(board):
    board.register("plain", {"devices": ["/dev/i2c-1"]})
    with board.connect("plain") as hw:
        for call in (hw.host.reboot, hw.host.poweroff, hw.host.hostname, hw.host.time):
            with pytest.raises(hwbroker.Forbidden) as e:
                call()
            assert e.value.status == 403 and e.value.hint
        with pytest.raises(hwbroker.Forbidden):
            hw.host.set_hostname("taken-over")
    assert board.host_actions() == []
