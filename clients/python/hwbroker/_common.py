# SPDX-License-Identifier: LGPL-2.1-or-later
"""What the blocking client and the asyncio streams share: where the socket
is, the "no timeout given" marker, and path segments."""
import os
from urllib.parse import quote

DEFAULT_SOCKET = "/run/hwbroker/hwbroker.sock"
SOCKET_ENV = "HWBROKER_SOCKET"

# "No timeout given": the client's default applies. None means no timeout.
DEFAULT = object()


def socket_path(path=None):
    """The socket to use: ``path``, else ``$HWBROKER_SOCKET``, else the default."""
    return path or os.environ.get(SOCKET_ENV) or DEFAULT_SOCKET


def seg(value):
    """A path segment: a number as is, a name percent-encoded."""
    if isinstance(value, bool):
        raise TypeError("a line, bus or port cannot be a bool")
    if isinstance(value, int):
        return str(value)
    return quote(str(value), safe="!@:+=,")
