/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UART driver ops. One `const struct uart_ops` per backend (uart_termios.c:
 * ttys under params->dev_dir; uart_sim.c: pseudo-terminals whose far ends are
 * simulated devices), chosen with uart_backend_find(). Both hand out real tty
 * fds that the daemon's loop reads and writes; the line configuration goes
 * through the ops (a simulated port keeps what a pseudo-terminal cannot). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "env.h"

struct uart_backend;

/* What a backend is opened with. */
struct uart_params {
	const char *dev_dir;    /* termios: where the tty nodes are ("/dev") */
	const char *board_file; /* sim: a board file, or NULL for the built-in board */
	const struct drv_env *env;
};

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
	int (*open)(struct uart_backend **out, const struct uart_params *params);
	void (*close)(struct uart_backend *be);
	/* Canonical names of the ports present (at most max). */
	int (*list)(struct uart_backend *be, char (*names)[UART_NAME_MAX], size_t max);
	/* Validates a port name (ttyS0, serial0, /dev/serial/by-id/...) and gives
	 * the canonical kernel name it resolves to. -EINVAL bad name or not a tty
	 * character device, -ENOENT no such port, -ENODEV unplugged. Opens nothing. */
	int (*resolve)(struct uart_backend *be, const char *name, char *canon, size_t len);
	/* Opens the port: O_NOCTTY|O_NONBLOCK, exclusive (TIOCEXCL), raw. */
	int (*port_open)(struct uart_backend *be, const char *canon, int *fd);
	/* Closes what port_open gave (the exclusivity ends with it). */
	void (*port_close)(struct uart_backend *be, const char *canon, int fd);
	/* The line configuration of an open port. */
	int (*config_get)(struct uart_backend *be, const char *canon, int fd,
	                  struct uart_config *out);
	/* Applies c to an open port; *got is what the port kept (a real port
	 * may quietly keep less). -EINVAL (why says it) for values no port takes. */
	int (*config_set)(struct uart_backend *be, const char *canon, int fd,
	                  const struct uart_config *c, struct uart_config *got, char *why,
	                  size_t len);
};

/* The simulated board's controls, beside the ops (simulated backend only). */
struct uart_sim_ops {
	/* Unplug (false) or plug back (true) a port. */
	int (*set_present)(struct uart_backend *be, const char *canon, bool present);
	/* Every port: {"ports":[{"port","model","present","config":{...},
	 * "received":N,"last":[bytes]}]}: what the simulated devices got. */
	json_t *(*snapshot)(struct uart_backend *be);
};

extern const struct uart_ops uart_sim_ops;
extern const struct uart_ops uart_termios_ops;
extern const struct uart_sim_ops uart_sim_control;

const struct uart_ops *uart_backend_find(const char *name);
/* The simulator controls of a backend: non-NULL only for the simulated one. */
const struct uart_sim_ops *uart_backend_sim(const struct uart_ops *ops);

/* termios, shared by both backends (uart_termios.c). */
int uart_termios_open(const char *path, int *fd);
/* -EINVAL with the reason in why (e.g. the supported baud rates). */
int uart_config_check(const struct uart_config *c, char *why, size_t len);
int uart_termios_apply(int fd, const struct uart_config *c, char *why, size_t len);
int uart_termios_read(int fd, struct uart_config *c);
/* Ends exclusivity and closes. */
void uart_termios_close(int fd);
const char *uart_parity_name(enum uart_parity p);
const char *uart_flow_name(enum uart_flow f);
int uart_parity_from_name(const char *s);
int uart_flow_from_name(const char *s);
/* Port names we accept before resolving: ttyS*, ttyAMA*, ttyUSB*, ttyACM*,
 * serial*, /dev/<those>, /dev/serial/by-id/..., /dev/serial/by-path/... */
bool uart_name_valid(const char *name);
