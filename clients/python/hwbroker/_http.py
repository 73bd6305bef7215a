# SPDX-License-Identifier: LGPL-2.1-or-later
"""A small HTTP/1.1 client over one AF_UNIX stream socket.

http.client would do for plain requests, but it drops the trailers that end a
UART stream and cannot tell a keep-alive connection the broker closed while
idle from a reply that broke halfway; this one can, in about as many lines.
"""
import errno
import socket
import time

from .errors import ClientTimeout, TransportError

MAX_HEAD = 64 * 1024
USER_AGENT = "hwbroker-python"

# A keep-alive connection the broker closed while idle fails in one of these
# ways before any byte of the reply arrives; the request is then sent again.
_STALE_ERRNOS = (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN)


class _Stale(Exception):
    """The connection was closed by the broker before it answered."""


def deadline_of(timeout):
    return None if timeout is None else time.monotonic() + timeout


def encode_head(method, target, headers):
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: hwbroker",
             "User-Agent: " + USER_AGENT]
    for k, v in headers.items():
        lines.append("%s: %s" % (k, v))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def parse_head(data):
    """``(status, reason, headers)`` from a response head (without the final
    empty line); header names lower-cased, repeated ones joined by commas."""
    lines = data.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise TransportError("malformed status line %r" % lines[0][:80])
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise TransportError("malformed header line %r" % line[:80])
        name, value = name.strip().lower(), value.strip()
        headers[name] = headers[name] + ", " + value if name in headers else value
    return int(parts[1]), parts[2] if len(parts) > 2 else "", headers


def parse_trailers(data):
    return parse_head(b"HTTP/1.1 200 -\r\n" + data)[2] if data else {}


def body_framing(method, status, headers):
    """``("none"|"chunked"|"length"|"close", length)`` for a response."""
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return "none", 0
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return "chunked", 0
    if "content-length" in headers:
        try:
            n = int(headers["content-length"])
        except ValueError:
            raise TransportError("bad Content-Length %r" % headers["content-length"])
        if n < 0:
            raise TransportError("bad Content-Length %r" % headers["content-length"])
        return "length", n
    return "close", 0


def wants_close(headers):
    return "close" in headers.get("connection", "").lower()


class Response:
    def __init__(self, status, reason, headers, body=b"", trailers=None):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.trailers = trailers or {}


class SocketReader:
    """Buffered reads from a socket, each bounded by a deadline."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.received = 0  # bytes received since the last request was sent

    def _recv(self, deadline):
        if deadline is None:
            self.sock.settimeout(None)
        else:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out")
            self.sock.settimeout(left)
        data = self.sock.recv(65536)
        self.received += len(data)
        return data

    def fill(self, deadline):
        """Reads more into the buffer; False at end of stream."""
        data = self._recv(deadline)
        if not data:
            return False
        self.buf += data
        return True

    def read_until(self, sep, deadline, limit):
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + len(sep)]
                return out
            if len(self.buf) > limit:
                raise TransportError("reply header too long")
            if not self.fill(deadline):
                raise EOFError

    def read_exact(self, n, deadline):
        while len(self.buf) < n:
            if not self.fill(deadline):
                raise EOFError
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_some(self, deadline):
        """What is buffered, else what one recv brings; b"" at end of stream."""
        if not self.buf and not self.fill(deadline):
            return b""
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def read_to_end(self, deadline):
        while self.fill(deadline):
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out


class ChunkedDecoder:
    """Reads one chunk at a time from a chunked body; trailers at the end.

    Its state survives a timeout: reading can go on after one."""

    def __init__(self, reader):
        self.reader = reader
        self.done = False
        self.size = None  # of the chunk whose data comes next
        self.trailer_lines = None  # while reading trailers
        self.trailers = {}

    def next_chunk(self, deadline):
        """The next non-empty chunk, or None after the last one."""
        while not self.done:
            if self.trailer_lines is not None:
                line = self.reader.read_until(b"\r\n", deadline, MAX_HEAD)
                if line:
                    self.trailer_lines.append(line)
                    continue
                self.trailers = parse_trailers(b"\r\n".join(self.trailer_lines))
                self.done = True
                break
            if self.size is None:
                line = self.reader.read_until(b"\r\n", deadline, MAX_HEAD)
                try:
                    self.size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self.size = -1
                if self.size < 0:
                    raise TransportError("malformed chunk size %r" % line[:40])
                if self.size == 0:
                    self.trailer_lines = []
                    continue
            data = self.reader.read_exact(self.size + 2, deadline)
            self.size = None
            if data[-2:] != b"\r\n":
                raise TransportError("malformed chunk")
            if len(data) > 2:
                return data[:-2]
        return None


def connect_unix(path, deadline):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if deadline is not None:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
        sock.connect(path)
    except socket.timeout:
        sock.close()
        raise ClientTimeout("connecting to %s timed out" % path)
    except OSError as e:
        sock.close()
        raise TransportError("cannot connect to %s: %s" % (path, e.strerror or e))
    return sock


class Connection:
    """One keep-alive connection, opened on first use and again after the
    broker closed it."""

    def __init__(self, path):
        self.path = path
        self.sock = None
        self.reader = None
        self.used = False  # an exchange completed on this socket

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None
                self.reader = None

    def _open(self, deadline):
        self.close()
        self.sock = connect_unix(self.path, deadline)
        self.reader = SocketReader(self.sock)
        self.used = False

    def request(self, method, target, body=None, headers=None, timeout=None):
        """Sends one request and reads the whole reply. Retries once on a new
        connection when a reused one turns out to have been closed."""
        deadline = deadline_of(timeout)
        for attempt in (0, 1):
            if self.sock is None:
                self._open(deadline)
            reused = self.used
            try:
                return self._exchange(method, target, body, headers or {}, deadline)
            except _Stale as e:
                self.close()
                if not reused or attempt:
                    raise TransportError("%s %s: the broker closed the connection (%s)"
                                         % (method, target, e))
            except socket.timeout:
                self.close()
                raise ClientTimeout("%s %s: no reply within %ss" % (method, target, timeout))
            except TransportError:
                self.close()
                raise
            except OSError as e:
                self.close()
                raise TransportError("%s %s: %s" % (method, target, e.strerror or e))
        raise AssertionError("unreachable")

    def _exchange(self, method, target, body, headers, deadline):
        hdrs = dict(headers)
        if body is not None or method in ("POST", "PUT", "PATCH"):
            hdrs["Content-Length"] = str(len(body or b""))
        data = encode_head(method, target, hdrs) + (body or b"")
        self.reader.received = 0
        try:
            if deadline is not None:
                self.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            self.sock.sendall(data)
        except OSError as e:
            if isinstance(e, socket.timeout):
                raise
            if e.errno in _STALE_ERRNOS:
                raise _Stale(e.strerror)
            raise
        try:
            head = self.reader.read_until(b"\r\n\r\n", deadline, MAX_HEAD)
        except EOFError:
            if self.reader.received == 0:
                raise _Stale("end of stream")
            raise TransportError("the broker closed the connection in the reply header")
        except OSError as e:
            if not isinstance(e, socket.timeout) and e.errno in _STALE_ERRNOS \
                    and self.reader.received == 0:
                raise _Stale(e.strerror)
            raise
        status, reason, rheaders = parse_head(head)
        framing, length = body_framing(method, status, rheaders)
        trailers = {}
        try:
            if framing == "length":
                rbody = self.reader.read_exact(length, deadline)
            elif framing == "chunked":
                dec = ChunkedDecoder(self.reader)
                parts = []
                while True:
                    chunk = dec.next_chunk(deadline)
                    if chunk is None:
                        break
                    parts.append(chunk)
                rbody, trailers = b"".join(parts), dec.trailers
            elif framing == "close":
                rbody = self.reader.read_to_end(deadline)
            else:
                rbody = b""
        except EOFError:
            raise TransportError("the broker closed the connection in the reply body")
        self.used = True
        if framing == "close" or wants_close(rheaders):
            self.close()
        return Response(status, reason, rheaders, rbody, trailers)


class StreamResponse:
    """A streaming reply on a connection of its own (events, UART streams)."""

    def __init__(self, sock, reader, status, reason, headers):
        self.sock = sock
        self.reader = reader
        self.status = status
        self.reason = reason
        self.headers = headers
        framing, self.length = body_framing("GET", status, headers)
        self.decoder = ChunkedDecoder(reader) if framing == "chunked" else None
        self.framing = framing
        self.finished = False

    @property
    def trailers(self):
        return self.decoder.trailers if self.decoder else {}

    def read_chunk(self, deadline):
        """The next bytes of the body, or None at its end."""
        if self.finished:
            return None
        if self.decoder is not None:
            data = self.decoder.next_chunk(deadline)
        elif self.framing == "length":
            data = self.reader.read_exact(self.length, deadline) if self.length else b""
            self.length = 0
            data = data or None
        elif self.framing == "close":
            data = self.reader.read_some(deadline) or None
        else:
            data = None
        if data is None:
            self.finished = True
        return data

    def read_all(self, deadline):
        parts = []
        while True:
            chunk = self.read_chunk(deadline)
            if chunk is None:
                return b"".join(parts)
            parts.append(chunk)

    def close(self):
        if self.sock is not None:
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.sock.close()
            self.sock = None


def open_stream(path, method, target, timeout):
    """Opens a new connection, sends a request and reads the reply head;
    the body is read from the returned StreamResponse."""
    deadline = deadline_of(timeout)
    sock = connect_unix(path, deadline)
    reader = SocketReader(sock)
    try:
        if deadline is not None:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
        sock.sendall(encode_head(method, target, {}))
        head = reader.read_until(b"\r\n\r\n", deadline, MAX_HEAD)
        status, reason, headers = parse_head(head)
    except socket.timeout:
        sock.close()
        raise ClientTimeout("%s %s: no reply within %ss" % (method, target, timeout))
    except EOFError:
        sock.close()
        raise TransportError("%s %s: the broker closed the connection" % (method, target))
    except OSError as e:
        sock.close()
        raise TransportError("%s %s: %s" % (method, target, e.strerror or e))
    except TransportError:
        sock.close()
        raise
    return StreamResponse(sock, reader, status, reason, headers)
