# SPDX-License-Identifier: LGPL-2.1-or-later
"""Exceptions: one class per error code of the broker, plus transport errors.

Every error the broker answers has the shape
``{"error":{"code":"...","message":"...","hint":"..."}}``; the matching class
carries those fields and the HTTP status.
"""

__all__ = [
    "HwbrokerError", "BadRequest", "Forbidden", "NotFound", "MethodNotAllowed", "Conflict",
    "TooLarge", "Invalid", "RateLimited", "Internal", "Nack", "Unavailable", "Timeout",
    "TransportError", "ClientTimeout", "error_from_reply",
]


class HwbrokerError(Exception):
    """Base class of every error this package raises.

    ``code`` is the broker's error code (``"forbidden"``, ``"conflict"``, ... or
    ``"transport"``), ``message`` and ``hint`` its explanation, ``status`` the
    HTTP status (``None`` when no reply came back), ``details`` any extra list
    the broker gave (e.g. every bad label of a declaration).
    """

    code = "error"
    status = None

    def __init__(self, message, *, code=None, hint="", status=None, details=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.hint = hint or ""
        self.details = details

    def __str__(self):
        text = "%s: %s" % (self.code, self.message)
        if self.hint:
            text += " (hint: %s)" % self.hint
        return text

    def __repr__(self):
        return "%s(code=%r, status=%r, message=%r, hint=%r)" % (
            type(self).__name__, self.code, self.status, self.message, self.hint)


class BadRequest(HwbrokerError):
    """400: the request was malformed (bad JSON, bad number, unknown query value)."""
    code, status = "bad_request", 400


class Forbidden(HwbrokerError):
    """403: the policy refuses; ``message`` names the missing grant, ``hint`` the
    compose entry that would give it."""
    code, status = "forbidden", 403


class NotFound(HwbrokerError):
    """404: no such chip, line, bus or port."""
    code, status = "not_found", 404


class MethodNotAllowed(HwbrokerError):
    """405: the endpoint exists, the method does not."""
    code, status = "method_not_allowed", 405


class Conflict(HwbrokerError):
    """409: another service holds the line or port (the message names it), or a
    reboot is already under way."""
    code, status = "conflict", 409


class TooLarge(HwbrokerError):
    """413: the body or a transfer is over a limit."""
    code, status = "too_large", 413


class Invalid(HwbrokerError):
    """422: well-formed but not acceptable (a value out of range, an unknown
    field, a configuration the device cannot do)."""
    code, status = "invalid", 422


class RateLimited(HwbrokerError):
    """429: a queue is full or a rate limit (reboots) was reached."""
    code, status = "rate_limited", 429


class Internal(HwbrokerError):
    """500: the broker failed unexpectedly."""
    code, status = "internal", 500


class Nack(HwbrokerError):
    """502: the I2C device did not answer."""
    code, status = "nack", 502


class Unavailable(HwbrokerError):
    """503: the device went away, a D-Bus peer is missing, or too many
    connections."""
    code, status = "unavailable", 503


class Timeout(HwbrokerError):
    """504: the broker gave up waiting for the device or the D-Bus peer.

    ``ClientTimeout`` is a subclass, so ``except Timeout`` catches both."""
    code, status = "timeout", 504


class TransportError(HwbrokerError):
    """The broker could not be reached or the connection broke: no reply."""
    code = "transport"


class ClientTimeout(TransportError, Timeout):
    """No reply within the call's timeout (the client gave up; ``status`` is None).

    The connection is closed, since a late reply could still come on it; the
    next call opens a new one."""
    code = "timeout"
    status = None


_BY_CODE = {cls.code: cls for cls in (
    BadRequest, Forbidden, NotFound, MethodNotAllowed, Conflict, TooLarge, Invalid,
    RateLimited, Internal, Nack, Unavailable, Timeout)}
_BY_STATUS = {cls.status: cls for cls in _BY_CODE.values()}


def _error_class(code, status):
    return _BY_CODE.get(code) or _BY_STATUS.get(status) or HwbrokerError


def error_from_json(status, err):
    """The exception for an ``{"code","message","hint"}`` object."""
    if not isinstance(err, dict):
        err = {}
    code = err.get("code") if isinstance(err.get("code"), str) else None
    message = err.get("message") if isinstance(err.get("message"), str) else None
    cls = _error_class(code, status)
    return cls(message or "HTTP status %s" % status, code=code or cls.code,
               hint=err.get("hint") if isinstance(err.get("hint"), str) else "",
               status=status, details=err.get("details"))


def error_from_reply(status, body):
    """The exception for an error reply: its JSON error if it has one, else one
    chosen by the status."""
    import json

    err = None
    try:
        doc = json.loads(body.decode("utf-8")) if body else None
        if isinstance(doc, dict):
            err = doc.get("error")
    except (ValueError, UnicodeDecodeError):
        pass
    return error_from_json(status, err)
