# SPDX-License-Identifier: LGPL-2.1-or-later
"""asyncio streams: GPIO events and UART data as async iterators.

Each stream is a connection of its own (``asyncio.open_unix_connection``), so
an event loop can watch many lines and ports at once::

    async with hw.gpio.events_async("gpiochip0", 4, "rising") as events:
        async for ev in events:
            print(ev["edge"], ev["timestamp_ns"])

``async with`` returns once the broker watches the line; ``async for``
alone opens the stream at the first iteration.
"""
import asyncio

from ._http import MAX_HEAD, body_framing, encode_head, parse_head, parse_trailers
from ._streams import LineSplitter, decode_event, trailer_error
from ._common import DEFAULT, seg, socket_path
from .errors import ClientTimeout, HwbrokerError, TransportError, error_from_reply

__all__ = ["AsyncGpioEvents", "AsyncUartStream", "gpio_events", "uart_stream"]


async def _bounded(aw, timeout, what):
    try:
        return await asyncio.wait_for(aw, timeout)
    except asyncio.TimeoutError:
        raise ClientTimeout(what)


class _AsyncStream:
    def __init__(self, path, target, timeout, idle_timeout):
        self.path = path
        self.target = target
        self.timeout = timeout
        self.idle_timeout = idle_timeout
        self.trailers = {}
        self._reader = None
        self._writer = None
        self._opened = False
        self._done = False
        self._framing = None
        self._left = 0  # of a Content-Length body
        self._size = None  # of the chunk whose data comes next
        self._trailer_lines = None

    async def open(self):
        """Connects and sends the request; returns once the broker answered
        (the watch or stream is in place). Raises the broker's error."""
        if self._opened:
            return self
        self._opened = True
        try:
            await _bounded(self._open(), self.timeout,
                           "GET %s: no reply within %ss" % (self.target, self.timeout))
        except BaseException:
            await self.aclose()
            raise
        return self

    async def _open(self):
        try:
            self._reader, self._writer = await asyncio.open_unix_connection(self.path)
            self._writer.write(encode_head("GET", self.target, {}))
            await self._writer.drain()
            head = await self._reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            raise TransportError("GET %s: the broker closed the connection" % self.target)
        except asyncio.LimitOverrunError:
            raise TransportError("GET %s: reply header too long" % self.target)
        except OSError as e:
            raise TransportError("GET %s: %s" % (self.target, e.strerror or e))
        status, _, headers = parse_head(head[:-4])
        self._framing, self._left = body_framing("GET", status, headers)
        if status != 200:
            body = b""
            try:
                if self._framing == "length":
                    body = await self._reader.readexactly(min(self._left, MAX_HEAD))
                elif self._framing == "chunked":
                    parts = []
                    while True:
                        chunk = await self._next_chunk()
                        if chunk is None:
                            break
                        parts.append(chunk)
                    body = b"".join(parts)
            except (asyncio.IncompleteReadError, OSError):
                pass
            raise error_from_reply(status, body)

    async def _next_chunk(self):
        """The next bytes of the body, or None at its end. Resumable after a
        cancellation: StreamReader consumes nothing until a read completes."""
        r = self._reader
        if self._done:
            return None
        if self._framing == "length":
            if self._left == 0:
                self._done = True
                return None
            data = await r.read(min(self._left, 65536))
            if not data:
                raise TransportError("the broker closed the stream")
            self._left -= len(data)
            return data
        if self._framing == "close":
            data = await r.read(65536)
            if not data:
                self._done = True
                return None
            return data
        if self._framing != "chunked":
            self._done = True
            return None
        while True:
            if self._trailer_lines is not None:
                line = (await r.readuntil(b"\r\n"))[:-2]
                if line:
                    self._trailer_lines.append(line)
                    continue
                self.trailers = parse_trailers(b"\r\n".join(self._trailer_lines))
                self._done = True
                return None
            if self._size is None:
                line = (await r.readuntil(b"\r\n"))[:-2]
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    size = -1
                if size < 0:
                    raise TransportError("malformed chunk size %r" % line[:40])
                if size == 0:
                    self._trailer_lines = []
                    continue
                self._size = size
            data = await r.readexactly(self._size + 2)
            self._size = None
            if data[-2:] != b"\r\n":
                raise TransportError("malformed chunk")
            if len(data) > 2:
                return data[:-2]

    async def _chunk(self, timeout):
        if not self._opened:
            await self.open()
        if self._reader is None:
            return None
        t = self.idle_timeout if timeout is DEFAULT else timeout
        try:
            chunk = await asyncio.wait_for(self._next_chunk(), t)
        except asyncio.TimeoutError:
            raise ClientTimeout("nothing arrived within %ss" % t)
        except asyncio.IncompleteReadError:
            await self.aclose()
            raise TransportError("the broker closed the stream")
        except asyncio.LimitOverrunError:
            await self.aclose()
            raise TransportError("malformed stream")
        except OSError as e:
            await self.aclose()
            raise TransportError("stream: %s" % (e.strerror or e))
        if chunk is None:
            err = trailer_error(self.trailers)
            await self.aclose()
            if err is not None:
                raise err
        return chunk

    async def aclose(self):
        """Ends the stream."""
        w, self._writer, self._reader = self._writer, None, None
        if w is not None:
            w.close()
            try:
                await w.wait_closed()
            except OSError:
                pass

    async def __aenter__(self):
        return await self.open()

    async def __aexit__(self, *exc):
        await self.aclose()

    def __aiter__(self):
        return self


class AsyncGpioEvents(_AsyncStream):
    """Edge events of one line as dicts; ``{"dropped": N}`` when the broker
    dropped events (``self.dropped`` adds them up). See
    :class:`hwbroker.client.GpioEvents`."""

    def __init__(self, path, target, timeout, idle_timeout):
        super().__init__(path, target, timeout, idle_timeout)
        self.dropped = 0
        self._lines = LineSplitter()

    async def read(self, timeout=DEFAULT):
        """The next event, or None when the stream ended."""
        while True:
            line = self._lines.pop()
            if line is not None:
                try:
                    ev = decode_event(line)
                except HwbrokerError:
                    await self.aclose()  # an error line is the stream's last
                    raise
                if ev is None:
                    continue
                if "dropped" in ev:
                    self.dropped += int(ev["dropped"])
                return ev
            chunk = await self._chunk(timeout)
            if chunk is None:
                return None
            self._lines.feed(chunk)

    async def __anext__(self):
        ev = await self.read()
        if ev is None:
            raise StopAsyncIteration
        return ev


class AsyncUartStream(_AsyncStream):
    """Bytes from a port as they arrive, one chunk per item."""

    async def read(self, timeout=DEFAULT):
        """The next chunk, or b"" when the stream ended."""
        return await self._chunk(timeout) or b""

    async def __anext__(self):
        chunk = await self._chunk(DEFAULT)
        if chunk is None:
            raise StopAsyncIteration
        return chunk


def gpio_events(chip, line, edge="both", *, path=None, timeout=5.0, idle_timeout=None):
    """An :class:`AsyncGpioEvents` without a blocking client."""
    from urllib.parse import urlencode


    target = "/v1/gpio/%s/%s/events?%s" % (seg(chip), seg(line), urlencode({"edge": edge}))
    return AsyncGpioEvents(socket_path(path), target, timeout, idle_timeout)


def uart_stream(port, *, path=None, timeout=5.0, idle_timeout=None):
    """An :class:`AsyncUartStream` without a blocking client."""

    return AsyncUartStream(socket_path(path), "/v1/uart/%s/stream" % seg(port), timeout,
                           idle_timeout)
