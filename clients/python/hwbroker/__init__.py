# SPDX-License-Identifier: LGPL-2.1-or-later
"""Client for hwbrokerd, the hardware-access broker: GPIO, I2C, UART and host
actions over the service's unix socket (``$HWBROKER_SOCKET``).

    import hwbroker

    with hwbroker.connect() as hw:
        chip_id = hw.i2c.read_byte_data(1, 0x76, 0xD0)
        hw.gpio.set("gpiochip0", 17, 1)

Standard library only; Python 3.9 or later.
"""
from .client import (DEFAULT_SOCKET, SOCKET_ENV, Client, GpioEvents, UartData, UartStream,
                     connect)
from .errors import (BadRequest, ClientTimeout, Conflict, Forbidden, HwbrokerError, Internal,
                     Invalid, MethodNotAllowed, Nack, NotFound, RateLimited, Timeout, TooLarge,
                     TransportError, Unavailable)

__version__ = "0.1.0"

__all__ = [
    "connect", "Client", "GpioEvents", "UartStream", "UartData", "DEFAULT_SOCKET", "SOCKET_ENV",
    "HwbrokerError", "BadRequest", "Forbidden", "NotFound", "MethodNotAllowed", "Conflict",
    "TooLarge", "Invalid", "RateLimited", "Internal", "Nack", "Unavailable", "Timeout",
    "TransportError", "ClientTimeout",
]
