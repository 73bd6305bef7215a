// SPDX-License-Identifier: LGPL-2.1-or-later
// hwbroker: a client for hwbrokerd, the hardware-access broker (GPIO, I2C,
// UART, host actions over the service's unix socket). No dependencies; Node 18+.
export {
  Client,
  DEFAULT_SOCKET,
  DEFAULT_TIMEOUT,
  GpioEvents,
  SOCKET_ENV,
  UartStream,
  connect,
  socketPath,
} from './lib/client.js';
export { AbortError, ClientTimeoutError, HwbrokerError, TransportError } from './lib/errors.js';
