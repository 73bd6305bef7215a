# SPDX-License-Identifier: GPL-2.0-or-later
"""GPIO through the Python client: lines, leases, group writes, events."""
import asyncio

import pytest

import hwbroker

CHIP = "gpiochip0"


def test_list(hw):
    chips = hw.gpio.list()
    # "sensor" has all of gpiochip0 and nothing of gpiochip1.
    assert [c["chip"] for c in chips] == [CHIP]
    assert chips[0]["num_lines"] == len(chips[0]["lines"]) == 54
    line17 = chips[0]["lines"][17]
    assert {k: line17[k] for k in ("line", "name", "holder")} == \
        {"line": 17, "name": "GPIO17", "holder": None}


def test_get_set_and_release(board, hw):
    line = hw.gpio.get(CHIP, 17)
    assert (line["line"], line["name"], line["holder"]) == (17, "GPIO17", None)
    line = hw.gpio.set(CHIP, "GPIO17", 1)
    assert (line["value"], line["direction"], line["holder"], line["lease"]) == \
        (1, "output", "sensor", "persistent")
    assert board.line(CHIP, 17)["value"] == 1
    assert hw.gpio.set(CHIP, 17, False)["value"] == 0
    assert board.line(CHIP, 17)["value"] == 0
    assert hw.gpio.get(CHIP, "0x11")["value"] == 0
    assert hw.gpio.release(CHIP, 17) is None
    assert board.line(CHIP, 17)["holder"] is None


def test_set_with_options(board, hw):
    line = hw.gpio.set(CHIP, 22, 1, active_low=True, drive="open-drain")
    assert (line["active_low"], line["drive"], line["value"]) == (True, "open-drain", 1)
    assert board.line(CHIP, 22)["drive"] == "open-drain"


def test_configure_input_with_bias(board, hw):
    line = hw.gpio.input(CHIP, 5, "pull-up")
    assert (line["direction"], line["bias"], line["value"], line["holder"]) == \
        ("input", "pull-up", 1, "sensor")
    line = hw.gpio.configure(CHIP, 5, direction="input", bias="pull-down")
    assert (line["bias"], line["value"]) == ("pull-down", 0)
    assert board.line(CHIP, 5)["bias"] == "pull-down"


def test_connection_lease_ends_with_the_connection(board):
    board.register("sensor", {"devices": ["/dev/gpiochip0"]})
    hw = board.connect("sensor")
    assert hw.gpio.set(CHIP, 23, 1, lease="connection")["lease"] == "connection"
    assert board.line(CHIP, 23)["holder"] == "sensor"
    hw.close()
    board.wait_connections("sensor", 0)
    assert board.line(CHIP, 23)["holder"] is None
    with pytest.raises(ValueError):
        hw.gpio.set(CHIP, 23, 1, lease="forever")


def test_set_many(board, hw):
    assert hw.gpio.set_many(CHIP, {17: 1, "GPIO27": 0, "22": 1}) == {17: 1, 27: 0, 22: 1}
    assert [board.line(CHIP, n)["value"] for n in (17, 27, 22)] == [1, 0, 1]
    assert all(board.line(CHIP, n)["holder"] == "sensor" for n in (17, 27, 22))


def test_set_many_is_all_or_nothing(board, hw):
    board.register("other", {"devices": ["/dev/gpiochip0"]})
    with board.connect("other") as other:
        other.gpio.set(CHIP, 27, 1)
        with pytest.raises(hwbroker.Conflict):
            hw.gpio.set_many(CHIP, {17: 1, 27: 0})
    # Line 17 was not driven either, and 27 is still the other's.
    assert (board.line(CHIP, 17)["holder"], board.line(CHIP, 17)["used"]) == (None, False)
    assert (board.line(CHIP, 27)["holder"], board.line(CHIP, 27)["value"]) == ("other", 1)


def test_conflict_names_the_holder(board, hw):
    board.register("other", {"devices": ["/dev/gpiochip0"]})
    hw.gpio.set(CHIP, 17, 1)
    with board.connect("other") as other:
        with pytest.raises(hwbroker.Conflict) as e:
            other.gpio.set(CHIP, 17, 0)
        assert e.value.status == 409 and "sensor" in e.value.message
        # Reading stays allowed.
        assert other.gpio.get(CHIP, 17)["holder"] == "sensor"
        with pytest.raises(hwbroker.Conflict):
            other.gpio.release(CHIP, 17)
    line = board.line(CHIP, 17)
    assert (line["value"], line["holder"]) == (1, "sensor")


def test_forbidden_with_hint_changes_nothing(board):
    board.register("narrow", {"labels": {"io.hwbroker.gpio": "gpiochip0=17"}})
    before = board.line(CHIP, 18)
    with board.connect("narrow") as narrow:
        with pytest.raises(hwbroker.Forbidden) as e:
            narrow.gpio.set(CHIP, 18, 1)
        assert e.value.hint and "gpiochip0" in e.value.message
        with pytest.raises(hwbroker.Forbidden):
            narrow.gpio.set_many(CHIP, {17: 1, 18: 1})
        with pytest.raises(hwbroker.Forbidden):
            narrow.gpio.events(CHIP, 18)
    assert board.line(CHIP, 18) == before
    assert board.line(CHIP, 17)["holder"] is None


def test_not_found_inside_a_held_chip(board, hw):
    with pytest.raises(hwbroker.NotFound) as e:
        hw.gpio.get(CHIP, "NO_SUCH_LINE")
    assert e.value.status == 404
    with pytest.raises(hwbroker.NotFound):
        hw.gpio.set(CHIP, "NO_SUCH_LINE", 1)


def test_invalid_changes_nothing(board, hw):
    hw.gpio.set(CHIP, 17, 1)
    before = board.line(CHIP, 17)
    with pytest.raises(hwbroker.Invalid) as e:
        hw.gpio.set(CHIP, 17, 2)
    assert e.value.status == 422
    with pytest.raises(hwbroker.Invalid):
        hw.gpio.configure(CHIP, 17, direction="input", bias="sideways")
    with pytest.raises(hwbroker.Invalid):
        hw.gpio.set(CHIP, 17, 1, drive="sideways")
    assert board.line(CHIP, 17) == before


def test_events_iterator(board, hw):
    with hw.gpio.events(CHIP, 4, "both") as events:
        board.pull(CHIP, 4, "up")
        board.pull(CHIP, 4, "down")
        first, second = next(events), next(events)
    assert events.closed
    assert (first["chip"], first["line"], first["name"]) == (CHIP, 4, "GPIO4")
    assert [first["edge"], second["edge"]] == ["rising", "falling"]
    assert [first["seq"], second["seq"]] == [1, 2]
    assert second["timestamp_ns"] >= first["timestamp_ns"] > 0


def test_events_rising_only_and_read_with_timeout(board, hw):
    events = hw.gpio.events(CHIP, "GPIO4", edge="rising")
    try:
        board.pull(CHIP, 4, "up")
        board.pull(CHIP, 4, "down")
        board.pull(CHIP, 4, "up")
        got = [events.read(timeout=10), events.read(timeout=10)]
        assert [e["edge"] for e in got] == ["rising", "rising"]
        # Nothing more is coming: the idle timeout fires, the stream lives on.
        with pytest.raises(hwbroker.ClientTimeout):
            events.read(timeout=0.2)
        board.pull(CHIP, 4, "down")
        board.pull(CHIP, 4, "up")
        assert events.read(timeout=10)["seq"] == 3
    finally:
        events.close()


def test_a_writer_takes_a_watched_line_and_the_stream_says_so(board, hw):
    board.register("other", {"devices": ["/dev/gpiochip0"]})
    with hw.gpio.events(CHIP, 4, idle_timeout=10) as events:
        with board.connect("other") as other:
            other.gpio.set(CHIP, 4, 1)
        assert board.line(CHIP, 4)["direction"] == "output"
        with pytest.raises(hwbroker.Conflict) as e:
            events.read(timeout=10)
        assert "taken for output by other" in e.value.message


@pytest.mark.daemon_args("--event-queue", "8")
def test_a_slow_consumer_gets_drop_markers(board, hw):
    # Far more than the queue of 8 plus what the socket's buffer holds
    # (about 300 events here).
    n = 1500
    with hw.gpio.events(CHIP, 4, idle_timeout=10) as events:
        for i in range(n):
            board.pull(CHIP, 4, "up" if i % 2 == 0 else "down")
        got, markers = [], []
        while len(got) + sum(markers) < n:
            ev = next(events)
            if "dropped" in ev:
                markers.append(ev["dropped"])
            else:
                got.append(ev)
    assert markers and events.dropped == sum(markers)
    assert len(got) + events.dropped == n
    seqs = [e["seq"] for e in got]
    assert seqs == sorted(seqs)


def test_chip_removal_ends_the_stream_with_its_error(board, hw):
    events = hw.gpio.events(CHIP, 4)
    try:
        board.pull(CHIP, 4, "up")
        assert next(events)["edge"] == "rising"
        board.admin("POST", "/v1/sim/gpio/" + CHIP, {"present": False})
        with pytest.raises(hwbroker.Unavailable):
            next(events)
        assert events.closed
    finally:
        events.close()
        board.admin("POST", "/v1/sim/gpio/" + CHIP, {"present": True})


def test_events_asyncio(board, hw):
    async def watch():
        async with hw.gpio.events_async(CHIP, 4, "both") as events:
            # The broker watches the line once the context is entered.
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, board.pull, CHIP, 4, "up")
            await loop.run_in_executor(None, board.pull, CHIP, 4, "down")
            got = []
            async for ev in events:
                got.append(ev)
                if len(got) == 2:
                    break
            with pytest.raises(hwbroker.ClientTimeout):
                await events.read(timeout=0.2)
            return got

    got = asyncio.run(asyncio.wait_for(watch(), 30))
    assert [(e["edge"], e["seq"]) for e in got] == [("rising", 1), ("falling", 2)]


def test_events_asyncio_several_lines_at_once(board, hw):
    from hwbroker import aio

    async def first_event(line):
        async with aio.gpio_events(CHIP, line, "rising", path=hw.path) as events:
            ready.append(line)
            async for ev in events:
                return ev

    async def main():
        tasks = [asyncio.ensure_future(first_event(n)) for n in (4, 5, 6)]
        while len(ready) < 3:
            await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        for n in (6, 4, 5):
            await loop.run_in_executor(None, board.pull, CHIP, n, "up")
        return await asyncio.gather(*tasks)

    ready = []
    got = asyncio.run(asyncio.wait_for(main(), 30))
    assert [(e["line"], e["edge"]) for e in got] == [(4, "rising"), (5, "rising"), (6, "rising")]


def test_events_asyncio_errors(board):
    board.register("narrow", {"labels": {"io.hwbroker.gpio": "gpiochip0=17"}})

    async def main():
        with board.connect("narrow") as narrow:
            with pytest.raises(hwbroker.Forbidden) as e:
                async with narrow.gpio.events_async(CHIP, 4):
                    pass
            assert e.value.hint
            with pytest.raises(hwbroker.BadRequest):
                async for _ in narrow.gpio.events_async(CHIP, 17, "sideways"):
                    pass

    asyncio.run(asyncio.wait_for(main(), 30))
    assert board.line(CHIP, 4)["watchers"] == 0
