/* UART driver ops. One `const struct uart_ops` per backend (uart_termios.c:
 * ttys under cfg->dev_dir; uart_sim.c: pseudo-terminals whose far ends are
 * simulated devices), chosen with uart_backend_find(). Both hand out real tty
 * fds configured by the same termios code (uart_termios_*), so the loop
 * reads and writes them the same way. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct config;
struct loop;
struct uart_backend;

#define UART_NAME_MAX 64

enum uart_parity {
	UART_PARITY_NONE,
	UART_PARITY_EVEN,
	UART_PARITY_ODD,
	UART_PARITY_MARK,
	UART_PARITY_SPACE
};
enum uart_flow { UART_FLOW_NONE, UART_FLOW_RTSCTS, UART_FLOW_XONXOFF };

struct uart_config {
	unsigned baud;
	unsigned data_bits; /* 5..8 */
	enum uart_parity parity;
	unsigned stop_bits; /* 1 or 2 */
	enum uart_flow flow;
};

struct uart_ops {
	const char *name;
	int (*open)(struct uart_backend **out, struct loop *loop, const struct config *cfg);
	void (*close)(struct uart_backend *be);
	/* Canonical names of the ports present (at most max). */
	int (*list)(struct uart_backend *be, char (*names)[UART_NAME_MAX], size_t max);
	/* Validates a port name (ttyS0, serial0, /dev/serial/by-id/...) and gives
	 * the canonical kernel name it resolves to. -EINVAL bad name or not a tty
	 * character device, -ENOENT no such port. */
	int (*resolve)(struct uart_backend *be, const char *name, char *canon, size_t len);
	/* Opens the port: O_NOCTTY|O_NONBLOCK, exclusive (TIOCEXCL), raw. */
	int (*port_open)(struct uart_backend *be, const char *canon, int *fd);
	/* Simulated board only: unplug (false) or plug back (true) a port. */
	int (*sim_set_present)(struct uart_backend *be, const char *canon, bool present);
};

extern const struct uart_ops uart_sim_ops;
extern const struct uart_ops uart_termios_ops;

const struct uart_ops *uart_backend_find(const char *name);

/* termios, shared by both backends (uart_termios.c). */
int uart_termios_open(const char *path, int *fd);
/* -EINVAL with the reason in why (e.g. the supported baud rates). */
int uart_termios_apply(int fd, const struct uart_config *c, char *why, size_t len);
int uart_termios_read(int fd, struct uart_config *c);
const char *uart_parity_name(enum uart_parity p);
const char *uart_flow_name(enum uart_flow f);
int uart_parity_from_name(const char *s);
int uart_flow_from_name(const char *s);
/* Port names we accept before resolving: ttyS*, ttyAMA*, ttyUSB*, ttyACM*,
 * serial*, /dev/<those>, /dev/serial/by-id/..., /dev/serial/by-path/... */
bool uart_name_valid(const char *name);
