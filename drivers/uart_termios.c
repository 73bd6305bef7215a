/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Serial ports through termios: raw mode and the full line configuration,
 * for real ttys (this backend) and the simulated board's ptys alike. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "uart.h"

static const struct {
	unsigned rate;
	speed_t code;
} uart_rates[] = {
        {1200, B1200},       {1800, B1800},       {2400, B2400},       {4800, B4800},
        {9600, B9600},       {19200, B19200},     {38400, B38400},     {57600, B57600},
        {115200, B115200},   {230400, B230400},   {460800, B460800},   {500000, B500000},
        {576000, B576000},   {921600, B921600},   {1000000, B1000000}, {1152000, B1152000},
        {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
        {3500000, B3500000}, {4000000, B4000000},
};
#define N_RATES (sizeof(uart_rates) / sizeof(uart_rates[0]))

static const char *const parity_names[] = {"none", "even", "odd", "mark", "space"};
static const char *const flow_names[] = {"none", "rtscts", "xonxoff"};

const char *uart_parity_name(enum uart_parity p)
{
	return (unsigned)p < 5 ? parity_names[p] : "?";
}

const char *uart_flow_name(enum uart_flow f)
{
	return (unsigned)f < 3 ? flow_names[f] : "?";
}

int uart_parity_from_name(const char *s)
{
	for (int i = 0; s && i < 5; i++)
		if (!strcmp(s, parity_names[i]))
			return i;
	return -1;
}

int uart_flow_from_name(const char *s)
{
	for (int i = 0; s && i < 3; i++)
		if (!strcmp(s, flow_names[i]))
			return i;
	return -1;
}

int uart_termios_open(const char *path, int *out)
{
	struct termios t;
	int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? -ENOENT : errno == EBUSY ? -EBUSY : -ENODEV;
	if (!isatty(fd) || tcgetattr(fd, &t) < 0) {
		close(fd);
		return -EINVAL;
	}
	/* Nobody else (without CAP_SYS_ADMIN) may open it while we hold it. */
	ioctl(fd, TIOCEXCL);
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		close(fd);
		return -EIO;
	}
	*out = fd;
	return 0;
}

static speed_t uart_rate_code(unsigned baud)
{
	for (size_t i = 0; i < N_RATES; i++)
		if (uart_rates[i].rate == baud)
			return uart_rates[i].code;
	return 0;
}

int uart_config_check(const struct uart_config *c, char *why, size_t len)
{
	if (!uart_rate_code(c->baud)) {
		size_t used =
		        (size_t)snprintf(why, len, "unsupported baud rate %u; supported:", c->baud);
		for (size_t i = 0; i < N_RATES && used < len; i++)
			used += (size_t)snprintf(why + used, len - used, " %u", uart_rates[i].rate);
		return -EINVAL;
	}
	if (c->data_bits < 5 || c->data_bits > 8) {
		snprintf(why, len, "data_bits must be 5, 6, 7 or 8");
		return -EINVAL;
	}
	if (c->stop_bits != 1 && c->stop_bits != 2) {
		snprintf(why, len, "stop_bits must be 1 or 2");
		return -EINVAL;
	}
	if ((unsigned)c->parity > UART_PARITY_SPACE || (unsigned)c->flow > UART_FLOW_XONXOFF) {
		snprintf(why, len, "unknown parity or flow control");
		return -EINVAL;
	}
	return 0;
}

int uart_termios_apply(int fd, const struct uart_config *c, char *why, size_t len)
{
	static const tcflag_t sizes[] = {CS5, CS6, CS7, CS8};
	speed_t code = uart_rate_code(c->baud);
	struct termios t;
	int r = uart_config_check(c, why, len);

	if (r < 0)
		return r;
	if (tcgetattr(fd, &t) < 0)
		return -ENODEV;
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CMSPAR | CSTOPB | CRTSCTS);
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY | INPCK);
	t.c_cflag |= CLOCAL | CREAD | sizes[c->data_bits - 5];
	switch (c->parity) {
	case UART_PARITY_EVEN:
		t.c_cflag |= PARENB;
		break;
	case UART_PARITY_ODD:
		t.c_cflag |= PARENB | PARODD;
		break;
	case UART_PARITY_MARK:
		t.c_cflag |= PARENB | PARODD | CMSPAR;
		break;
	case UART_PARITY_SPACE:
		t.c_cflag |= PARENB | CMSPAR;
		break;
	default:
		break;
	}
	if (c->parity != UART_PARITY_NONE)
		t.c_iflag |= INPCK;
	if (c->stop_bits == 2)
		t.c_cflag |= CSTOPB;
	if (c->flow == UART_FLOW_RTSCTS)
		t.c_cflag |= CRTSCTS;
	else if (c->flow == UART_FLOW_XONXOFF)
		t.c_iflag |= IXON | IXOFF;
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, code);
	cfsetospeed(&t, code);
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		snprintf(why, len, "the port refused the configuration: %s", strerror(errno));
		return errno == EINVAL ? -EINVAL : -ENODEV;
	}
	return 0;
}

int uart_termios_read(int fd, struct uart_config *c)
{
	struct termios t;
	speed_t code;

	if (tcgetattr(fd, &t) < 0)
		return -ENODEV;
	code = cfgetospeed(&t);
	c->baud = 0;
	for (size_t i = 0; i < N_RATES; i++)
		if (uart_rates[i].code == code)
			c->baud = uart_rates[i].rate;
	switch (t.c_cflag & CSIZE) {
	case CS5:
		c->data_bits = 5;
		break;
	case CS6:
		c->data_bits = 6;
		break;
	case CS7:
		c->data_bits = 7;
		break;
	default:
		c->data_bits = 8;
	}
	if (!(t.c_cflag & PARENB))
		c->parity = UART_PARITY_NONE;
	else if (t.c_cflag & CMSPAR)
		c->parity = (t.c_cflag & PARODD) ? UART_PARITY_MARK : UART_PARITY_SPACE;
	else
		c->parity = (t.c_cflag & PARODD) ? UART_PARITY_ODD : UART_PARITY_EVEN;
	c->stop_bits = (t.c_cflag & CSTOPB) ? 2 : 1;
	c->flow = (t.c_cflag & CRTSCTS) ? UART_FLOW_RTSCTS
	          : (t.c_iflag & IXON)  ? UART_FLOW_XONXOFF
	                                : UART_FLOW_NONE;
	return 0;
}

bool uart_name_valid(const char *name)
{
	static const char *const prefixes[] = {"ttyS", "ttyAMA", "ttyUSB", "ttyACM", "serial"};
	const char *base = name;
	size_t len = strlen(name);

	if (len == 0 || len >= UART_NAME_MAX * 2 || strstr(name, ".."))
		return false;
	if (!strncmp(name, "/dev/serial/by-id/", 18) ||
	    !strncmp(name, "/dev/serial/by-path/", 20)) {
		const char *leaf = strrchr(name, '/') + 1;
		return *leaf && strspn(leaf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                             "0123456789_.:+-") == strlen(leaf);
	}
	if (!strncmp(name, "/dev/", 5))
		base = name + 5;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i]);
		if (!strncmp(base, prefixes[i], pl) && base[pl] &&
		    strspn(base + pl, "0123456789") == strlen(base + pl))
			return true;
	}
	return false;
}

/* --- the real backend --- */

struct uart_backend {
	char dev_dir[256];
};

static int termios_open_backend(struct uart_backend **out, const struct uart_params *params)
{
	struct uart_backend *be = calloc(1, sizeof(*be));

	if (!be)
		return -ENOMEM;
	snprintf(be->dev_dir, sizeof(be->dev_dir), "%s",
	         params && params->dev_dir ? params->dev_dir : "/dev");
	*out = be;
	return 0;
}

static void termios_close_backend(struct uart_backend *be)
{
	free(be);
}

static int termios_list(struct uart_backend *be, char (*names)[UART_NAME_MAX], size_t max)
{
	static const char *const prefixes[] = {"ttyS", "ttyAMA", "ttyUSB", "ttyACM"};
	char path[512];
	size_t n = 0;

	for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
		for (unsigned i = 0; i < 32 && n < max; i++) {
			struct stat st;
			snprintf(path, sizeof(path), "%s/%s%u", be->dev_dir, prefixes[p], i);
			if (stat(path, &st) == 0 && S_ISCHR(st.st_mode))
				snprintf(names[n++], UART_NAME_MAX, "%s%u", prefixes[p], i);
		}
	}
	return (int)n;
}

static int termios_resolve(struct uart_backend *be, const char *name, char *canon, size_t len)
{
	char path[512], real[PATH_MAX];
	struct stat st;
	const char *base;

	if (!uart_name_valid(name))
		return -EINVAL;
	if (!strncmp(name, "/dev/serial/", 12))
		snprintf(path, sizeof(path), "%s/%s", be->dev_dir, name + 5);
	else
		snprintf(path, sizeof(path), "%s/%s", be->dev_dir,
		         !strncmp(name, "/dev/", 5) ? name + 5 : name);
	/* Symlinks (serial0, by-id) resolve to the tty the policy is checked on. */
	if (!realpath(path, real))
		return -ENOENT;
	if (stat(real, &st) < 0 || !S_ISCHR(st.st_mode))
		return -EINVAL;
	base = strrchr(real, '/') + 1;
	if (strncmp(base, "tty", 3) || strlen(base) >= len)
		return -EINVAL;
	snprintf(canon, len, "%s", base);
	return 0;
}

static int termios_port_open(struct uart_backend *be, const char *canon, int *fd)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", be->dev_dir, canon);
	return uart_termios_open(path, fd);
}

void uart_termios_close(int fd)
{
	if (fd < 0)
		return;
	ioctl(fd, TIOCNXCL); /* the next open (ours) must not find it exclusive */
	close(fd);
}

static void termios_port_close(struct uart_backend *be, const char *canon, int fd)
{
	uart_termios_close(fd);
}

static int termios_config_get(struct uart_backend *be, const char *canon, int fd,
                              struct uart_config *out)
{
	return uart_termios_read(fd, out);
}

static int termios_config_set(struct uart_backend *be, const char *canon, int fd,
                              const struct uart_config *c, struct uart_config *got, char *why,
                              size_t len)
{
	int r = uart_termios_apply(fd, c, why, len);

	if (r < 0)
		return r;
	return uart_termios_read(fd, got);
}

const struct uart_ops uart_termios_ops = {
        .name = "termios",
        .open = termios_open_backend,
        .close = termios_close_backend,
        .list = termios_list,
        .resolve = termios_resolve,
        .port_open = termios_port_open,
        .port_close = termios_port_close,
        .config_get = termios_config_get,
        .config_set = termios_config_set,
};

const struct uart_ops *uart_backend_find(const char *name)
{
	static const struct uart_ops *const backends[] = {&uart_sim_ops, &uart_termios_ops};

	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

const struct uart_sim_ops *uart_backend_sim(const struct uart_ops *ops)
{
	return ops == &uart_sim_ops ? &uart_sim_control : NULL;
}
