# SPDX-License-Identifier: GPL-2.0-or-later
"""The Python client's connection, errors and timeouts against hwbrokerd --sim."""
import os
import socket
import threading
import time

import pytest

import hwbroker
from hwbroker import errors


def test_connect_uses_the_environment(board, monkeypatch):
    path = board.register("sensor", {"devices": ["/dev/i2c-1"]})
    monkeypatch.setenv("HWBROKER_SOCKET", path)
    with hwbroker.connect() as hw:
        assert hw.path == path
        me = hw.whoami()
    assert me["service"] == "sensor"
    assert [g["kind"] for g in me["grants"]] == ["i2c"]
    assert me["peer"]["pid"] == os.getpid()


def test_connect_defaults_to_the_container_path(monkeypatch):
    monkeypatch.delenv("HWBROKER_SOCKET", raising=False)
    assert hwbroker.Client().path == "/run/hwbroker/hwbroker.sock"


def test_connect_to_a_missing_socket_is_a_transport_error(tmp_path):
    with pytest.raises(hwbroker.TransportError) as e:
        hwbroker.connect(str(tmp_path / "none.sock"))
    assert e.value.code == "transport"
    assert e.value.status is None
    assert "none.sock" in e.value.message


def test_one_connection_is_kept_alive(board, hw):
    for _ in range(5):
        hw.whoami()
    assert board.connections("sensor") == 1
    hw.close()
    deadline = time.monotonic() + 10
    while board.connections("sensor") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert board.connections("sensor") == 0


@pytest.mark.daemon_args("--idle-timeout", "1")
def test_a_keep_alive_connection_the_broker_closed_is_reopened(board, hw):
    assert hw.whoami()["service"] == "sensor"
    # Wait (on the broker's own count) until it closed the idle connection.
    deadline = time.monotonic() + 20
    while board.connections("sensor") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert board.connections("sensor") == 0
    assert hw.whoami()["service"] == "sensor"
    assert hw.gpio.set("gpiochip0", 17, 1)["value"] == 1


def test_generic_request(board, hw):
    assert hw.request("GET", "/v1/whoami")["service"] == "sensor"
    line = hw.request("PUT", "/v1/gpio/gpiochip0/17", {"value": 1}, query={"lease": "connection"})
    assert (line["value"], line["lease"]) == (1, "connection")
    assert hw.request("DELETE", "/v1/gpio/gpiochip0/17") is None
    assert hw.request("POST", "/v1/uart/ttyS0/write", data=b"raw") == {"written": 3}


def test_error_carries_code_message_hint_and_status(board, hw):
    board.register("narrow", {"labels": {"io.hwbroker.gpio": "gpiochip0=17"}})
    with board.connect("narrow") as narrow:
        with pytest.raises(hwbroker.Forbidden) as e:
            narrow.gpio.set("gpiochip0", 18, 1)
    err = e.value
    assert isinstance(err, hwbroker.HwbrokerError)
    assert (err.code, err.status) == ("forbidden", 403)
    assert "narrow" in err.message and "18" in err.message
    assert "io.hwbroker.gpio" in err.hint
    assert "forbidden" in str(err) and err.hint in str(err)
    # Nothing changed on the board.
    line = board.line("gpiochip0", 18)
    assert (line["holder"], line["direction"], line["used"]) == (None, "input", False)


def test_method_not_allowed_closes_and_the_next_call_reconnects(hw):
    with pytest.raises(hwbroker.MethodNotAllowed) as e:
        hw.request("GET", "/v1/i2c/1/0x76/smbus")
    assert e.value.status == 405
    assert hw.whoami()["service"] == "sensor"


def test_bad_request_and_invalid(board, hw):
    with pytest.raises(hwbroker.BadRequest):
        hw.request("GET", "/v1/uart/ttyS0/read", query={"max": 0})
    with pytest.raises(hwbroker.Invalid) as e:
        hw.request("PUT", "/v1/gpio/gpiochip0/17", {"value": 1, "bogus": 1})
    assert e.value.status == 422 and "bogus" in e.value.message
    assert board.line("gpiochip0", 17)["holder"] is None


def test_error_from_reply_maps_every_status():
    table = {400: hwbroker.BadRequest, 403: hwbroker.Forbidden, 404: hwbroker.NotFound,
             405: hwbroker.MethodNotAllowed, 409: hwbroker.Conflict, 413: hwbroker.TooLarge,
             422: hwbroker.Invalid, 429: hwbroker.RateLimited, 500: hwbroker.Internal,
             502: hwbroker.Nack, 503: hwbroker.Unavailable, 504: hwbroker.Timeout}
    for status, cls in table.items():
        # by the code in the body...
        e = errors.error_from_reply(
            status, b'{"error":{"code":"%s","message":"m","hint":"h"}}' % cls.code.encode())
        assert type(e) is cls and (e.status, e.message, e.hint) == (status, "m", "h")
        # ...and by the status when the body is not the broker's
        e = errors.error_from_reply(status, b"<html>")
        assert type(e) is cls and e.status == status and str(status) in e.message
    e = errors.error_from_reply(418, b"")
    assert type(e) is hwbroker.HwbrokerError and e.status == 418
    assert issubclass(hwbroker.ClientTimeout, hwbroker.Timeout)
    assert issubclass(hwbroker.ClientTimeout, hwbroker.TransportError)


@pytest.mark.daemon_args("--i2c-timeout-ms", "10000")
def test_client_side_timeout_fires_and_the_client_recovers(board, hw):
    assert hw.i2c.read_byte_data(1, 0x76, 0xD0) == 0x60
    # The bus now takes 2 s and the broker waits up to 10 s: only the
    # client's timeout can end this call early.
    board.i2c_delay(1, 2000)
    with pytest.raises(hwbroker.ClientTimeout) as e:
        hw.i2c.read_byte_data(1, 0x76, 0xD0, timeout=0.2)
    assert e.value.status is None and e.value.code == "timeout"
    assert isinstance(e.value, hwbroker.Timeout)
    # The connection was dropped; a new one serves the next call.
    assert hw.whoami()["service"] == "sensor"
    board.wait_i2c_idle()
    # The broker noticed the abandoned request when the bus answered.
    board.wait_connections("sensor", 1)
    assert hw.i2c.read_byte_data(1, 0x76, 0xD0) == 0x60


@pytest.mark.daemon_args("--i2c-timeout-ms", "200")
def test_default_timeout_applies_to_every_call(board):
    board.register("sensor", {"devices": ["/dev/i2c-1"]})
    board.i2c_delay(1, 2000)
    # The broker gives up on the bus first: its 504 arrives within our timeout.
    with board.connect("sensor", timeout=30) as hw:
        with pytest.raises(hwbroker.Timeout) as e:
            hw.i2c.read_byte_data(1, 0x76, 0xD0)
        assert not isinstance(e.value, hwbroker.ClientTimeout)
        assert e.value.status == 504
    # A short client-wide timeout ends a slow call on its own.
    with board.connect("sensor", timeout=0.05) as hw:
        with pytest.raises(hwbroker.ClientTimeout):
            hw.i2c.transfer(1, 0x76, [b"\xd0", 1])
    board.wait_i2c_idle()
    board.wait_connections("sensor", 0)


def test_timeout_while_the_reply_never_comes(tmp_path):
    # A listener that accepts and never answers: the call must still end.
    path = str(tmp_path / "mute.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)
    conns = []
    t = threading.Thread(target=lambda: conns.append(srv.accept()[0]), daemon=True)
    t.start()
    try:
        with hwbroker.connect(path, timeout=0.2) as hw:
            with pytest.raises(hwbroker.ClientTimeout):
                hw.whoami()
    finally:
        t.join(5)
        for c in conns:
            c.close()
        srv.close()


def test_a_stopped_broker_is_a_transport_error(board, hw):
    assert hw.whoami()
    board.daemon.stop()
    with pytest.raises(hwbroker.TransportError):
        hw.whoami()
    board.daemon.start()  # the fixture expects it running at the end
