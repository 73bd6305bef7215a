# SPDX-License-Identifier: LGPL-2.1-or-later
"""The blocking client: one keep-alive connection to the service's socket."""
import json
import socket
import threading
from urllib.parse import urlencode

from . import _http
from ._common import DEFAULT, DEFAULT_SOCKET, SOCKET_ENV, seg, socket_path  # noqa: F401
from ._streams import LineSplitter, decode_event, trailer_error
from .errors import ClientTimeout, HwbrokerError, TransportError, error_from_reply

def connect(path=None, timeout=5.0):
    """Connects to the broker and returns a :class:`Client`.

    ``path`` defaults to ``$HWBROKER_SOCKET``, else ``/run/hwbroker/hwbroker.sock``.
    ``timeout`` (seconds, None for none) bounds every call unless the call
    gives its own. Raises :class:`TransportError` when the socket cannot be
    reached.
    """
    client = Client(path, timeout)
    try:
        client.open()
    except BaseException:
        client.close()
        raise
    return client


def addr_seg(value):
    return "0x%02x" % value if isinstance(value, int) and not isinstance(value, bool) \
        else seg(value)


def lease_query(lease):
    if lease is None:
        return {}
    if lease not in ("persistent", "connection"):
        raise ValueError('lease must be "persistent" or "connection"')
    return {"lease": lease}


def _drop_none(d):
    return {k: v for k, v in d.items() if v is not None}


def _byte_list(data, what):
    if isinstance(data, str):
        raise TypeError("%s must be bytes or a list of integers, not str" % what)
    return list(bytes(data))


class UartData(bytes):
    """Bytes read from a port; ``dropped`` counts bytes the broker had to drop
    before them because its buffer was full (0 normally)."""

    dropped = 0


class Client:
    """One keep-alive HTTP/1.1 connection to a hwbroker socket.

    Calls block until the reply or their timeout. Use one client per thread
    (calls are serialized by a lock). Event and UART streams open connections
    of their own, so the client stays usable while they run.
    """

    def __init__(self, path=None, timeout=5.0):
        self.path = socket_path(path)
        self.timeout = timeout
        self._conn = _http.Connection(self.path)
        self._lock = threading.Lock()
        self.gpio = Gpio(self)
        self.i2c = I2c(self)
        self.uart = Uart(self)
        self.host = Host(self)

    def open(self):
        """Opens the connection now rather than at the first call."""
        with self._lock:
            if self._conn.sock is None:
                self._conn._open(_http.deadline_of(self.timeout))

    def close(self):
        with self._lock:
            self._conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<hwbroker.Client %s>" % self.path

    def _timeout(self, timeout):
        return self.timeout if timeout is DEFAULT else timeout

    def call(self, method, path, body=None, *, data=None, query=None, timeout=DEFAULT,
             extra_time=0.0):
        """One request; returns the :class:`_http.Response` of a success and
        raises the matching :class:`HwbrokerError` for anything else."""
        headers = {}
        payload = None
        if body is not None:
            payload = json.dumps(body, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            payload = bytes(data)
            headers["Content-Type"] = "application/octet-stream"
        q = _drop_none(query or {})
        target = path + ("?" + urlencode(q) if q else "")
        t = self._timeout(timeout)
        if t is not None:
            t += extra_time
        with self._lock:
            resp = self._conn.request(method, target, payload, headers, t)
        if resp.status >= 300:
            raise error_from_reply(resp.status, resp.body)
        return resp

    def request(self, method, path, body=None, *, data=None, query=None, timeout=DEFAULT):
        """Any endpoint: ``body`` is sent as JSON, ``data`` as raw bytes. Returns
        the decoded JSON reply, the raw bytes of a non-JSON one, or None when
        the reply is empty."""
        resp = self.call(method, path, body, data=data, query=query, timeout=timeout)
        if not resp.body:
            return None
        if "json" in resp.headers.get("content-type", ""):
            return _decode_json(resp.body)
        return resp.body

    def _json(self, method, path, body=None, **kw):
        resp = self.call(method, path, body, **kw)
        return _decode_json(resp.body) if resp.body else None

    def whoami(self, *, timeout=DEFAULT):
        """``{"service": NAME, "grants": [...], "peer": {...}}``."""
        return self._json("GET", "/v1/whoami", timeout=timeout)

    def _open_stream(self, target, timeout):
        resp = _http.open_stream(self.path, "GET", target, self._timeout(timeout))
        if resp.status != 200:
            try:
                body = resp.read_all(_http.deadline_of(self._timeout(timeout)))
            except (OSError, EOFError, TransportError):
                body = b""
            finally:
                resp.close()
            raise error_from_reply(resp.status, body)
        return resp


def _decode_json(body):
    try:
        return json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise TransportError("malformed JSON reply %r" % body[:80])


class _Stream:
    """A streaming reply read on its own connection."""

    def __init__(self, client, target, timeout, idle_timeout):
        self.idle_timeout = idle_timeout
        self._resp = client._open_stream(target, timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self):
        return self

    def close(self):
        """Ends the stream (the broker notices the closed connection)."""
        if self._resp is not None:
            self._resp.close()
            self._resp = None

    @property
    def closed(self):
        return self._resp is None

    def _chunk(self, timeout):
        """The next chunk, or None at the end (after raising the error the
        stream ended with, if any)."""
        if self._resp is None:
            return None
        t = self.idle_timeout if timeout is DEFAULT else timeout
        try:
            chunk = self._resp.read_chunk(_http.deadline_of(t))
        except socket.timeout:
            raise ClientTimeout("nothing arrived within %ss" % t)
        except EOFError:
            self.close()
            raise TransportError("the broker closed the stream")
        except OSError as e:
            self.close()
            raise TransportError("stream: %s" % (e.strerror or e))
        if chunk is None:
            err = trailer_error(self._resp.trailers)
            self.close()
            if err is not None:
                raise err
        return chunk


class GpioEvents(_Stream):
    """Edge events of one line, as dicts::

        {"chip":"gpiochip0","line":4,"name":"GPIO4","edge":"rising",
         "timestamp_ns":5212412888312,"seq":1}

    When the consumer was too slow and the broker dropped events, the next
    item is ``{"dropped": N}`` (and ``self.dropped`` adds N up). Iteration ends
    when the broker ends the stream; a stream ended by an error (the chip went
    away, the policy no longer allows the line) raises it.

    With ``idle_timeout`` (or ``read(timeout)``), waiting longer than that
    for the next event raises :class:`ClientTimeout`; the stream stays open
    and reading can go on.
    """

    def __init__(self, client, target, timeout, idle_timeout):
        super().__init__(client, target, timeout, idle_timeout)
        self.dropped = 0
        self._lines = LineSplitter()

    def read(self, timeout=DEFAULT):
        """The next event (or drop marker), or None when the stream ended."""
        while True:
            line = self._lines.pop()
            if line is not None:
                try:
                    ev = decode_event(line)
                except HwbrokerError:
                    self.close()  # an error line is the stream's last
                    raise
                if ev is None:
                    continue
                if "dropped" in ev:
                    self.dropped += int(ev["dropped"])
                return ev
            chunk = self._chunk(timeout)
            if chunk is None:
                return None
            self._lines.feed(chunk)

    def __next__(self):
        ev = self.read()
        if ev is None:
            raise StopIteration
        return ev


class UartStream(_Stream):
    """Bytes from a port as they arrive, one ``bytes`` chunk per item. A stream
    the broker ends because the port went away raises :class:`Unavailable`."""

    def read(self, timeout=DEFAULT):
        """The next chunk, or b"" when the stream ended."""
        return self._chunk(timeout) or b""

    def __next__(self):
        chunk = self._chunk(DEFAULT)
        if chunk is None:
            raise StopIteration
        return chunk


class _Area:
    def __init__(self, client):
        self._c = client


class Gpio(_Area):
    """``client.gpio``: lines of GPIO chips. ``chip`` is a name (``"gpiochip0"``),
    number or label; ``line`` an offset or a line name (``"GPIO17"``)."""

    def list(self, *, timeout=DEFAULT):
        """The chips and the lines this service may read:
        ``[{"chip","label","num_lines","lines":[{"line","name","holder"}]}]``."""
        return self._c._json("GET", "/v1/gpio", timeout=timeout)["chips"]

    def get(self, chip, line, *, timeout=DEFAULT):
        """The line: ``{"chip","line","name","value","direction","bias",
        "active_low","drive","holder","lease",...}``."""
        return self._c._json("GET", "/v1/gpio/%s/%s" % (seg(chip), seg(line)),
                             timeout=timeout)

    def configure(self, chip, line, *, value=None, direction=None, bias=None,
                  active_low=None, drive=None, lease=None, timeout=DEFAULT):
        """Configures the line and takes its lease (``lease="connection"`` for
        one that ends with this client's connection). Returns the line."""
        body = _drop_none({"value": None if value is None else int(value),
                           "direction": direction, "bias": bias,
                           "active_low": active_low, "drive": drive})
        return self._c._json("PUT", "/v1/gpio/%s/%s" % (seg(chip), seg(line)), body,
                             query=lease_query(lease), timeout=timeout)

    def set(self, chip, line, value, *, active_low=None, drive=None, lease=None,
            timeout=DEFAULT):
        """Drives the line as an output (taking its lease); returns the line."""
        return self.configure(chip, line, value=value, active_low=active_low, drive=drive,
                              lease=lease, timeout=timeout)

    def input(self, chip, line, bias=None, *, active_low=None, lease=None, timeout=DEFAULT):
        """Makes the line an input with ``bias`` (``"pull-up"``, ``"pull-down"``,
        ``"disabled"``, ``"as-is"``); returns the line."""
        return self.configure(chip, line, direction="input", bias=bias,
                              active_low=active_low, lease=lease, timeout=timeout)

    def set_many(self, chip, values, *, lease=None, timeout=DEFAULT):
        """Drives several lines of one chip in one kernel call, ``values`` a
        dict ``{line: value}``. Every line is checked before any is driven.
        Returns ``{offset: value}``."""
        body = {"values": {str(k): int(v) for k, v in values.items()}}
        reply = self._c._json("PUT", "/v1/gpio/%s" % seg(chip), body,
                              query=lease_query(lease), timeout=timeout)
        return {int(k) if k.isdigit() else k: v for k, v in reply["values"].items()}

    def release(self, chip, line, *, timeout=DEFAULT):
        """Ends the lease; the line is released."""
        self._c.call("DELETE", "/v1/gpio/%s/%s" % (seg(chip), seg(line)), timeout=timeout)

    def events(self, chip, line, edge="both", *, idle_timeout=None, timeout=DEFAULT):
        """Watches the line: returns a :class:`GpioEvents` iterator (and context
        manager) once the broker watches it. ``edge`` is ``"rising"``,
        ``"falling"`` or ``"both"``."""
        target = "/v1/gpio/%s/%s/events?%s" % (seg(chip), seg(line), urlencode({"edge": edge}))
        return GpioEvents(self._c, target, timeout, idle_timeout)

    def events_async(self, chip, line, edge="both", *, idle_timeout=None, timeout=DEFAULT):
        """The same as an asyncio async iterator; see :mod:`hwbroker.aio`."""
        from .aio import AsyncGpioEvents

        target = "/v1/gpio/%s/%s/events?%s" % (seg(chip), seg(line), urlencode({"edge": edge}))
        return AsyncGpioEvents(self._c.path, target, self._c._timeout(timeout), idle_timeout)


class I2c(_Area):
    """``client.i2c``: devices on I2C buses. ``addr`` is a 7-bit address."""

    def list(self, *, timeout=DEFAULT):
        """``[{"bus":1,"addresses":[{"address":"0x76","access":"rw"}]}]``."""
        return self._c._json("GET", "/v1/i2c", timeout=timeout)["buses"]

    def transfer(self, bus, addr, messages, *, timeout=DEFAULT):
        """One combined transaction (repeated starts, one stop). Each message is
        ``{"write": bytes}`` or ``{"read": n}``; bytes alone mean a write and an
        int alone a read. Returns one ``bytes`` per read message, in order."""
        msgs = []
        for m in messages:
            if isinstance(m, int) and not isinstance(m, bool):
                msgs.append({"read": m})
            elif isinstance(m, (bytes, bytearray, memoryview)):
                msgs.append({"write": list(bytes(m))})
            elif isinstance(m, dict) and "write" in m:
                msgs.append({"write": _byte_list(m["write"], "write")})
            elif isinstance(m, dict) and "read" in m:
                msgs.append({"read": m["read"]})
            else:
                raise TypeError("a message is {'write': bytes} or {'read': n}, not %r" % (m,))
        reply = self._c._json("POST", "/v1/i2c/%s/%s/transfer" % (seg(bus), addr_seg(addr)),
                              {"messages": msgs}, timeout=timeout)
        return [bytes(r) for r in reply["reads"]]

    def smbus(self, bus, addr, op, *, timeout=DEFAULT, **fields):
        """Any SMBus operation by name; returns the reply (``{"value":..}``,
        ``{"data":[..]}`` or ``{}``)."""
        body = dict(op=op, **_drop_none(fields))
        return self._c._json("POST", "/v1/i2c/%s/%s/smbus" % (seg(bus), addr_seg(addr)), body,
                             timeout=timeout)

    def quick(self, bus, addr, read=False, *, timeout=DEFAULT):
        """SMBus quick command (the R/W bit alone)."""
        self.smbus(bus, addr, "quick", read=bool(read), timeout=timeout)

    write_quick = quick

    def read_byte(self, bus, addr, *, timeout=DEFAULT):
        return self.smbus(bus, addr, "read_byte", timeout=timeout)["value"]

    def write_byte(self, bus, addr, value, *, timeout=DEFAULT):
        self.smbus(bus, addr, "write_byte", value=value, timeout=timeout)

    def read_byte_data(self, bus, addr, command, *, timeout=DEFAULT):
        return self.smbus(bus, addr, "read_byte_data", command=command, timeout=timeout)["value"]

    def write_byte_data(self, bus, addr, command, value, *, timeout=DEFAULT):
        self.smbus(bus, addr, "write_byte_data", command=command, value=value, timeout=timeout)

    def read_word_data(self, bus, addr, command, *, timeout=DEFAULT):
        return self.smbus(bus, addr, "read_word_data", command=command, timeout=timeout)["value"]

    def write_word_data(self, bus, addr, command, value, *, timeout=DEFAULT):
        self.smbus(bus, addr, "write_word_data", command=command, value=value, timeout=timeout)

    def process_call(self, bus, addr, command, value, *, timeout=DEFAULT):
        """Writes a word and reads one back; returns it."""
        return self.smbus(bus, addr, "process_call", command=command, value=value,
                          timeout=timeout)["value"]

    def read_block_data(self, bus, addr, command, *, timeout=DEFAULT):
        """SMBus block read (the device sends the count); returns bytes."""
        return bytes(self.smbus(bus, addr, "read_block_data", command=command,
                                timeout=timeout)["data"])

    def write_block_data(self, bus, addr, command, data, *, timeout=DEFAULT):
        self.smbus(bus, addr, "write_block_data", command=command,
                   data=_byte_list(data, "data"), timeout=timeout)

    def read_i2c_block_data(self, bus, addr, command, length, *, timeout=DEFAULT):
        """``length`` (1-32) bytes from register ``command``; returns bytes."""
        return bytes(self.smbus(bus, addr, "read_i2c_block_data", command=command,
                                length=length, timeout=timeout)["data"])

    def write_i2c_block_data(self, bus, addr, command, data, *, timeout=DEFAULT):
        self.smbus(bus, addr, "write_i2c_block_data", command=command,
                   data=_byte_list(data, "data"), timeout=timeout)


class Uart(_Area):
    """``client.uart``: serial ports (``"ttyS0"``, ``"ttyUSB0"``, ...)."""

    def list(self, *, timeout=DEFAULT):
        """``[{"port","holder","open","buffered","dropped","streams"}]``."""
        return self._c._json("GET", "/v1/uart", timeout=timeout)["ports"]

    def get_config(self, port, *, timeout=DEFAULT):
        """``{"baud","data_bits","parity","stop_bits","flow"}``."""
        return self._c._json("GET", "/v1/uart/%s/config" % seg(port), timeout=timeout)

    def configure(self, port, *, baud=None, data_bits=None, parity=None, stop_bits=None,
                  flow=None, lease=None, timeout=DEFAULT):
        """Applies the given settings (taking the port's lease) and returns the
        configuration the port now has. A setting the port did not take is
        :class:`Invalid`."""
        body = _drop_none({"baud": baud, "data_bits": data_bits, "parity": parity,
                           "stop_bits": stop_bits, "flow": flow})
        return self._c._json("PUT", "/v1/uart/%s/config" % seg(port), body,
                             query=lease_query(lease), timeout=timeout)

    def write(self, port, data, *, lease=None, timeout=DEFAULT):
        """Writes bytes (a str is sent as UTF-8); returns how many were written."""
        if isinstance(data, str):
            data = data.encode("utf-8")
        reply = self._c._json("POST", "/v1/uart/%s/write" % seg(port), data=bytes(data),
                              query=lease_query(lease), timeout=timeout)
        return reply["written"]

    def read(self, port, max=4096, timeout_ms=1000, *, timeout=DEFAULT):
        """What arrives (up to ``max`` bytes) within ``timeout_ms``, as
        :class:`UartData` (bytes, possibly empty). The call's own timeout is
        counted on top of ``timeout_ms``."""
        resp = self._c.call("GET", "/v1/uart/%s/read" % seg(port),
                            query={"max": max, "timeout_ms": timeout_ms}, timeout=timeout,
                            extra_time=timeout_ms / 1000.0)
        out = UartData(resp.body)
        try:
            out.dropped = int(resp.headers.get("x-hwbroker-dropped", "0"))
        except ValueError:
            pass
        return out

    def stream(self, port, *, idle_timeout=None, timeout=DEFAULT):
        """Bytes as they arrive: a :class:`UartStream` iterator of chunks."""
        return UartStream(self._c, "/v1/uart/%s/stream" % seg(port), timeout, idle_timeout)

    def stream_async(self, port, *, idle_timeout=None, timeout=DEFAULT):
        """The same as an asyncio async iterator; see :mod:`hwbroker.aio`."""
        from .aio import AsyncUartStream

        return AsyncUartStream(self._c.path, "/v1/uart/%s/stream" % seg(port),
                               self._c._timeout(timeout), idle_timeout)

    def release(self, port, *, timeout=DEFAULT):
        """Releases and closes the port."""
        self._c.call("DELETE", "/v1/uart/%s" % seg(port), timeout=timeout)


class Host(_Area):
    """``client.host``: host actions."""

    def reboot(self, reason=None, *, timeout=DEFAULT):
        """Asks for a reboot; the broker accepts it (202) before it happens."""
        return self._c._json("POST", "/v1/host/reboot", _drop_none({"reason": reason}),
                             timeout=timeout)

    def poweroff(self, reason=None, *, timeout=DEFAULT):
        return self._c._json("POST", "/v1/host/poweroff", _drop_none({"reason": reason}),
                             timeout=timeout)

    def hostname(self, *, timeout=DEFAULT):
        return self._c._json("GET", "/v1/host/hostname", timeout=timeout)["hostname"]

    def set_hostname(self, hostname, *, timeout=DEFAULT):
        """Sets the static hostname; returns it."""
        return self._c._json("PUT", "/v1/host/hostname", {"hostname": hostname},
                             timeout=timeout)["hostname"]

    def time(self, *, timeout=DEFAULT):
        """``{"timezone","ntp","ntp_synchronized","time_usec"}``."""
        return self._c._json("GET", "/v1/host/time", timeout=timeout)

    def restart_unit(self, unit, *, timeout=DEFAULT):
        """Restarts a systemd unit the policy names; returns ``{"unit","job"}``."""
        return self._c._json("POST", "/v1/host/units/%s/restart" % seg(unit), timeout=timeout)
