# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the blocking and the asyncio streams share: splitting NDJSON, and
turning the broker's end-of-stream errors into exceptions."""
import json

from .errors import TransportError, error_from_json

ERROR_TRAILER = "x-hwbroker-error"
MAX_LINE = 64 * 1024


class LineSplitter:
    """Feeds bytes in, gets complete lines out."""

    def __init__(self):
        self.buf = bytearray()

    def feed(self, data):
        self.buf += data
        if len(self.buf) > MAX_LINE and b"\n" not in self.buf:
            raise TransportError("event line too long")

    def pop(self):
        """The next complete line without its newline, or None."""
        i = self.buf.find(b"\n")
        if i < 0:
            return None
        line = bytes(self.buf[:i])
        del self.buf[:i + 1]
        return line


def decode_event(line):
    """The event of one NDJSON line, None for an empty line; a final error
    line raises its exception."""
    line = line.strip()
    if not line:
        return None
    try:
        ev = json.loads(line.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise TransportError("malformed event line %r" % line[:80])
    if not isinstance(ev, dict):
        raise TransportError("malformed event line %r" % line[:80])
    if "error" in ev:
        raise error_from_json(None, ev["error"])
    return ev


def trailer_error(trailers):
    """The exception an ``X-Hwbroker-Error: code: message`` trailer says, or None."""
    text = trailers.get(ERROR_TRAILER)
    if not text:
        return None
    code, sep, message = text.partition(":")
    if not sep:
        code, message = "unavailable", text
    return error_from_json(None, {"code": code.strip(), "message": message.strip()})
