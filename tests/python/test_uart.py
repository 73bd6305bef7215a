# SPDX-License-Identifier: GPL-2.0-or-later
"""UART through the Python client on the simulated ttyS0 (echoes what is
written) and ttyACM0 (a GPS sending NMEA sentences)."""
import asyncio
import time

import pytest

import hwbroker

PORT = "ttyS0"


def read_exactly(hw, n, port=PORT):
    got = b""
    for _ in range(100):
        if len(got) >= n:
            break
        got += hw.uart.read(port, max=65536, timeout_ms=200)
    return got


def test_list(hw):
    ports = {p["port"]: p for p in hw.uart.list()}
    assert set(ports) == {"ttyS0", "ttyACM0"}
    assert ports["ttyS0"]["holder"] is None


def test_config(board, hw):
    want = {"baud": 115200, "data_bits": 8, "parity": "none", "stop_bits": 2, "flow": "none"}
    assert hw.uart.configure(PORT, baud=115200, stop_bits=2) == want
    assert hw.uart.get_config(PORT) == dict(want, open=True)
    assert board.port(PORT)["holder"] == "sensor"
    # The simulated port keeps every setting, as a 16550 would.
    assert hw.uart.configure(PORT, parity="even")["parity"] == "even"
    assert hw.uart.get_config(PORT)["parity"] == "even"
    with pytest.raises(hwbroker.Invalid):
        hw.uart.configure(PORT, data_bits=9)
    with pytest.raises(hwbroker.Invalid) as e:
        hw.uart.configure(PORT, baud=12345)
    assert "115200" in e.value.message
    assert hw.uart.get_config(PORT)["baud"] == 115200


def test_loopback_write_and_read(board, hw):
    data = bytes(range(256))
    assert hw.uart.write(PORT, data) == 256
    got = read_exactly(hw, 256)
    assert got == data
    assert isinstance(got, bytes)
    assert hw.uart.write(PORT, "héllo") == len("héllo".encode())
    assert read_exactly(hw, 6) == "héllo".encode()
    # Nothing more arrives: the read ends at its timeout_ms with no bytes.
    empty = hw.uart.read(PORT, max=10, timeout_ms=100)
    assert empty == b"" and empty.dropped == 0


def test_read_waits_beyond_the_call_timeout(board):
    board.register("sensor", {"devices": ["/dev/ttyS0"]})
    # timeout_ms counts on top of the call's own timeout.
    with board.connect("sensor", timeout=1.0) as hw:
        assert hw.uart.read(PORT, max=10, timeout_ms=2000) == b""


@pytest.mark.daemon_args("--uart-buffer", "1024")
def test_dropped_bytes_are_counted(board, hw):
    data = bytes(i % 251 for i in range(3000))
    for off in range(0, len(data), 500):
        hw.uart.write(PORT, data[off:off + 500])
    # Let the echo come back while nobody reads (on the broker's own count).
    deadline = time.monotonic() + 10
    while board.port(PORT)["dropped"] < 3000 - 1024 and time.monotonic() < deadline:
        time.sleep(0.05)
    got = hw.uart.read(PORT, max=65536, timeout_ms=0)
    assert got == data[-1024:]
    assert got.dropped == 3000 - 1024


def test_stream(board, hw):
    with hw.uart.stream(PORT, idle_timeout=10) as stream:
        hw.uart.write(PORT, b"ping")
        got = b""
        for chunk in stream:
            assert isinstance(chunk, bytes) and chunk
            got += chunk
            if len(got) >= 4:
                break
        assert got == b"ping"
        with pytest.raises(hwbroker.ClientTimeout):
            stream.read(timeout=0.2)
        hw.uart.write(PORT, b"pong")
        assert read_stream(stream, 4) == b"pong"
    assert stream.closed


def read_stream(stream, n):
    got = b""
    while len(got) < n:
        got += stream.read(timeout=10)
    return got


def test_stream_ends_when_the_port_goes_away(board, hw):
    stream = hw.uart.stream("ttyACM0", idle_timeout=10)
    try:
        assert stream.read(timeout=10)
        board.admin("POST", "/v1/sim/uart/ttyACM0", {"present": False})
        with pytest.raises(hwbroker.Unavailable):
            while True:
                stream.read(timeout=10)
        assert stream.closed
    finally:
        stream.close()
        board.admin("POST", "/v1/sim/uart/ttyACM0", {"present": True})


def test_stream_asyncio(board, hw):
    async def main():
        async with hw.uart.stream_async(PORT, idle_timeout=10) as stream:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, hw.uart.write, PORT, b"async!")
            got = b""
            async for chunk in stream:
                got += chunk
                if len(got) >= 6:
                    break
            return got

    assert asyncio.run(asyncio.wait_for(main(), 30)) == b"async!"


def test_gps_sentences(hw):
    got = b""
    with hw.uart.stream("ttyACM0", idle_timeout=10) as stream:
        for chunk in stream:
            got += chunk
            if got.count(b"\r\n") >= 3:
                break
    assert b"$GP" in got


def test_release(board, hw):
    hw.uart.write(PORT, b"x")
    assert board.port(PORT)["holder"] == "sensor"
    assert hw.uart.release(PORT) is None
    port = board.port(PORT)
    assert (port["holder"], port["open"]) == (None, False)


def test_conflict_names_the_holder_and_changes_nothing(board, hw):
    board.register("other", {"devices": ["/dev/ttyS0"]})
    hw.uart.configure(PORT, baud=57600)
    with board.connect("other") as other:
        with pytest.raises(hwbroker.Conflict) as e:
            other.uart.write(PORT, b"intruder")
        assert e.value.status == 409 and "sensor" in e.value.message
        with pytest.raises(hwbroker.Conflict):
            other.uart.configure(PORT, baud=9600)
        with pytest.raises(hwbroker.Conflict):
            other.uart.stream(PORT)
    assert board.port(PORT)["holder"] == "sensor"
    assert hw.uart.get_config(PORT)["baud"] == 57600
    # Nothing was written: nothing echoes back.
    assert hw.uart.read(PORT, max=100, timeout_ms=100) == b""


def test_forbidden_and_bad_names(board):
    board.register("gps", {"devices": ["/dev/ttyACM0:/dev/ttyACM0:r"]})
    with board.connect("gps") as gps:
        with pytest.raises(hwbroker.Forbidden) as e:
            gps.uart.write("ttyACM0", b"x")
        assert e.value.hint
        with pytest.raises(hwbroker.Forbidden):
            gps.uart.write(PORT, b"x")
        with pytest.raises(hwbroker.Invalid):
            gps.uart.get_config("../etc/passwd")
    assert board.port(PORT)["holder"] is None
    assert board.port("ttyACM0")["holder"] is None
