/* libhwbroker: C client library for hwbrokerd.
 *
 * Conventions (docs/client-library.md):
 *  - Every call that can fail returns an int: 0 (or a non-negative count) on
 *    success, a negative errno on failure. A refusal by the broker maps its
 *    HTTP status to an errno: 400 -EBADMSG, 403 -EACCES, 404 -ENOENT,
 *    409 -EBUSY, 413 -E2BIG, 422 -EINVAL, 429 -EAGAIN, 502 -EREMOTEIO (I2C
 *    NACK), 503 -ENODEV, 504 -ETIMEDOUT, other 5xx -EIO; connection failures
 *    keep their own errno (-ECONNREFUSED, -ENOENT for a missing socket...).
 *    hwb_error_code()/hwb_error_message()/hwb_error_hint() then describe the
 *    last failure on that handle ("forbidden", the broker's message...).
 *  - Types are opaque. Every returned pointer says who owns it: "caller
 *    frees with X" or "borrowed, valid until Y".
 *  - A struct hwb is one keep-alive connection; use it from one thread at a
 *    time.
 */
#ifndef HWBROKER_H
#define HWBROKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HWB_API __attribute__((visibility("default")))

struct hwb;

/* Connects to path; NULL means $HWBROKER_SOCKET, else
 * /run/hwbroker/hwbroker.sock. Returns NULL with errno set on failure.
 * Caller frees with hwb_close(). */
HWB_API struct hwb *hwb_connect(const char *path);
HWB_API void hwb_close(struct hwb *h);

/* Last failure on h: machine code ("forbidden", "conflict", ... or
 * "transport" for connection errors), message and hint ("" when none).
 * Borrowed, valid until the next call on h. */
HWB_API const char *hwb_error_code(const struct hwb *h);
HWB_API const char *hwb_error_message(const struct hwb *h);
HWB_API const char *hwb_error_hint(const struct hwb *h);
/* HTTP status of the last reply (0 if none). */
HWB_API int hwb_last_status(const struct hwb *h);

/* Generic request: method/path, optional JSON body text (NULL for none).
 * On success *reply (NUL-terminated body, may be NULL) is caller-owned: free().
 * Returns the HTTP status (2xx) or a negative errno as above. */
HWB_API int hwb_request(struct hwb *h, const char *method, const char *path, const char *json_body,
                        char **reply);

/* --- identity --- */
/* Service name of this socket; caller frees *service with free(). *grants_json
 * (may be NULL to skip) is the grants array as JSON text, caller frees. */
HWB_API int hwb_whoami(struct hwb *h, char **service, char **grants_json);

/* --- GPIO ---
 * chip: "gpiochip0", "0" or the chip's label; line: offset. Lines named by
 * their name ("GPIO17") go through hwb_gpio_set_many() or the HTTP API. */

/* Logical value (0/1) of a line, or a negative errno. */
HWB_API int hwb_gpio_get(struct hwb *h, const char *chip, unsigned line);
/* Drives a line as an output (takes its lease; it outlives the connection
 * unless HWB_GPIO_LEASE_CONNECTION is given to hwb_gpio_config). 0 or -errno;
 * -EBUSY when another service holds it (hwb_error_message() names it). */
HWB_API int hwb_gpio_set(struct hwb *h, const char *chip, unsigned line, int value);
/* Several lines of one chip in one request: lines[i] (offsets or names) get
 * values[i]. All are checked before any is driven. */
HWB_API int hwb_gpio_set_many(struct hwb *h, const char *chip, const char *const *lines,
                              const int *values, size_t n);
/* Gives the line back (its lease ends). */
HWB_API int hwb_gpio_release(struct hwb *h, const char *chip, unsigned line);

enum hwb_gpio_direction { HWB_GPIO_INPUT, HWB_GPIO_OUTPUT };
enum hwb_gpio_bias {
	HWB_GPIO_BIAS_AS_IS,
	HWB_GPIO_BIAS_DISABLED,
	HWB_GPIO_BIAS_PULL_UP,
	HWB_GPIO_BIAS_PULL_DOWN
};
enum hwb_gpio_drive { HWB_GPIO_PUSH_PULL, HWB_GPIO_OPEN_DRAIN, HWB_GPIO_OPEN_SOURCE };
#define HWB_GPIO_LEASE_CONNECTION 1u /* flags: the lease ends with this connection */

struct hwb_gpio_config {
	enum hwb_gpio_direction direction;
	enum hwb_gpio_bias bias;
	enum hwb_gpio_drive drive; /* outputs only */
	int active_low;
	int value; /* outputs: initial value */
	unsigned flags;
};
/* Configures a line (takes its lease). -EINVAL for a configuration the chip
 * cannot do (e.g. open-drain), with the reason in hwb_error_message(). */
HWB_API int hwb_gpio_config(struct hwb *h, const char *chip, unsigned line,
                            const struct hwb_gpio_config *cfg);

/* Edge events, to fit the caller's own event loop: poll hwb_gpio_watch_fd()
 * for POLLIN, then call hwb_gpio_watch_next() until it returns -EAGAIN. */
enum hwb_gpio_edge { HWB_GPIO_EDGE_RISING = 1, HWB_GPIO_EDGE_FALLING = 2, HWB_GPIO_EDGE_BOTH = 3 };
struct hwb_gpio_event {
	unsigned line;
	enum hwb_gpio_edge edge; /* RISING or FALLING */
	uint64_t timestamp_ns;   /* kernel timestamp, CLOCK_MONOTONIC */
	uint64_t seq;            /* per watcher, from 1 */
	uint64_t dropped;        /* >0: a marker: this many events were lost before this point */
};
struct hwb_gpio_watch;
/* Opens a watch on its own connection. Caller frees with hwb_gpio_watch_close(). */
HWB_API struct hwb_gpio_watch *hwb_gpio_watch(struct hwb *h, const char *chip, unsigned line,
                                              enum hwb_gpio_edge edge);
HWB_API int hwb_gpio_watch_fd(const struct hwb_gpio_watch *w);
/* 0 and *ev filled; -EAGAIN when nothing is pending (nonblock); -ENODATA at
 * the end of the stream; another -errno when the stream ended with an error
 * (e.g. -ENODEV: the chip went away; -EACCES: revoked). block != 0 waits. */
HWB_API int hwb_gpio_watch_next(struct hwb_gpio_watch *w, struct hwb_gpio_event *ev, int block);
HWB_API void hwb_gpio_watch_close(struct hwb_gpio_watch *w);

/* --- I2C ---
 * Named like libi2c's i2c_smbus_* calls, with (h, bus, addr) in place of the
 * file descriptor, so porting a sensor driver is a rename. Values and counts
 * are returned as non-negative ints; failures as negative errnos: -EACCES
 * refused by policy, -EREMOTEIO the device did not answer (NACK), -ENODEV
 * bus gone, -ETIMEDOUT no answer in time, -EINVAL the adapter cannot do it. */

struct hwb_i2c_msg {
	uint8_t *buf; /* write: bytes to send; read: filled with len bytes */
	uint16_t len;
	int read; /* non-zero: a read message */
};
/* All messages in one combined transaction (repeated starts). 0 or -errno. */
HWB_API int hwb_i2c_transfer(struct hwb *h, unsigned bus, unsigned addr, struct hwb_i2c_msg *msgs,
                             size_t n);

HWB_API int hwb_smbus_write_quick(struct hwb *h, unsigned bus, unsigned addr, uint8_t value);
HWB_API int hwb_smbus_read_byte(struct hwb *h, unsigned bus, unsigned addr);
HWB_API int hwb_smbus_write_byte(struct hwb *h, unsigned bus, unsigned addr, uint8_t value);
HWB_API int hwb_smbus_read_byte_data(struct hwb *h, unsigned bus, unsigned addr, uint8_t command);
HWB_API int hwb_smbus_write_byte_data(struct hwb *h, unsigned bus, unsigned addr, uint8_t command,
                                      uint8_t value);
HWB_API int hwb_smbus_read_word_data(struct hwb *h, unsigned bus, unsigned addr, uint8_t command);
HWB_API int hwb_smbus_write_word_data(struct hwb *h, unsigned bus, unsigned addr, uint8_t command,
                                      uint16_t value);
HWB_API int hwb_smbus_process_call(struct hwb *h, unsigned bus, unsigned addr, uint8_t command,
                                   uint16_t value);
/* Block calls: values holds up to 32 bytes; reads return the count. */
HWB_API int hwb_smbus_read_block_data(struct hwb *h, unsigned bus, unsigned addr, uint8_t command,
                                      uint8_t *values);
HWB_API int hwb_smbus_write_block_data(struct hwb *h, unsigned bus, unsigned addr, uint8_t command,
                                       uint8_t length, const uint8_t *values);
HWB_API int hwb_smbus_read_i2c_block_data(struct hwb *h, unsigned bus, unsigned addr,
                                          uint8_t command, uint8_t length, uint8_t *values);
HWB_API int hwb_smbus_write_i2c_block_data(struct hwb *h, unsigned bus, unsigned addr,
                                           uint8_t command, uint8_t length, const uint8_t *values);

/* --- UART ---
 * port: ttyS0, ttyAMA0, ttyUSB0, ttyACM0, serial0 (the broker resolves it). */
enum hwb_uart_parity {
	HWB_UART_PARITY_NONE,
	HWB_UART_PARITY_EVEN,
	HWB_UART_PARITY_ODD,
	HWB_UART_PARITY_MARK,
	HWB_UART_PARITY_SPACE
};
enum hwb_uart_flow { HWB_UART_FLOW_NONE, HWB_UART_FLOW_RTSCTS, HWB_UART_FLOW_XONXOFF };
struct hwb_uart_config {
	unsigned baud;      /* 1200 .. 4000000, standard rates */
	unsigned data_bits; /* 5 .. 8 */
	enum hwb_uart_parity parity;
	unsigned stop_bits; /* 1 or 2 */
	enum hwb_uart_flow flow;
};
/* Applies a configuration (takes the port's lease). -EINVAL with the reason
 * (e.g. the supported baud rates) in hwb_error_message(). */
HWB_API int hwb_uart_config(struct hwb *h, const char *port, const struct hwb_uart_config *cfg);
HWB_API int hwb_uart_get_config(struct hwb *h, const char *port, struct hwb_uart_config *out);
/* Queues len bytes for transmission; returns len or -errno. */
HWB_API int hwb_uart_write(struct hwb *h, const char *port, const void *buf, size_t len);
/* Bytes received (at most max), waiting up to timeout_ms for the first.
 * Returns the count (0: nothing arrived) or -errno. */
HWB_API int hwb_uart_read(struct hwb *h, const char *port, void *buf, size_t max, int timeout_ms);
/* Gives the port back. */
HWB_API int hwb_uart_release(struct hwb *h, const char *port);

/* Received bytes as they arrive, on their own connection: poll
 * hwb_uart_stream_fd() for POLLIN, then read until -EAGAIN. Caller frees with
 * hwb_uart_stream_close(). */
struct hwb_uart_stream;
HWB_API struct hwb_uart_stream *hwb_uart_stream_open(struct hwb *h, const char *port);
HWB_API int hwb_uart_stream_fd(const struct hwb_uart_stream *s);
/* Count, 0 at the end of the stream (the port went away or was released),
 * -EAGAIN when nonblock and nothing is pending, or -errno. */
HWB_API int hwb_uart_stream_read(struct hwb_uart_stream *s, void *buf, size_t len, int nonblock);
HWB_API void hwb_uart_stream_close(struct hwb_uart_stream *s);

/* A raw bidirectional byte pipe to the port (HTTP Upgrade): returns a socket
 * fd the caller reads, writes and close()s; -errno on failure. */
HWB_API int hwb_uart_attach(struct hwb *h, const char *port);

/* --- host actions ---
 * Reboot and poweroff return once the broker accepted them (202); the action
 * follows. -EBUSY: one is already under way; -EAGAIN: rate limited. */
HWB_API int hwb_host_reboot(struct hwb *h, const char *reason /* may be NULL */);
HWB_API int hwb_host_poweroff(struct hwb *h, const char *reason);
/* *hostname: caller frees with free(). */
HWB_API int hwb_host_get_hostname(struct hwb *h, char **hostname);
/* -EINVAL (with the reason in hwb_error_message()) for a name that is not RFC 1123. */
HWB_API int hwb_host_set_hostname(struct hwb *h, const char *hostname);
struct hwb_host_time {
	char timezone[64];
	int ntp; /* NTP enabled */
	int ntp_synchronized;
	uint64_t time_usec; /* CLOCK_REALTIME, microseconds */
};
HWB_API int hwb_host_time(struct hwb *h, struct hwb_host_time *out);
/* Restarts a unit the policy names (io.hwbroker.units). */
HWB_API int hwb_host_restart_unit(struct hwb *h, const char *unit);

#ifdef __cplusplus
}
#endif

#endif /* HWBROKER_H */
