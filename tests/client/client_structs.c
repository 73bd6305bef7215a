/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sized structs of libhwbroker against hwbrokerd --sim. Usage:
 *   client_structs SERVICE_SOCKET ADMIN_SOCKET
 * (service with gpiochip0, bus 1 address 0x50, ttyS0 and host time).
 * A forgotten size is refused before anything reaches the board; a caller
 * built with a larger struct (a newer header) keeps its extra members. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hwbroker.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aull

static char *line_state(struct hwb *h, unsigned line)
{
	char path[64], *reply = NULL;

	snprintf(path, sizeof(path), "/v1/gpio/gpiochip0/%u", line);
	CHECK(hwb_request(h, "GET", path, NULL, &reply) == 200);
	return reply;
}

static void gpio_config(struct hwb *h)
{
	struct hwb_gpio_config unsized = {.direction = HWB_GPIO_OUTPUT, .value = 1};
	struct hwb_gpio_config cfg = HWB_GPIO_CONFIG_INIT;
	char *before = line_state(h, 9), *after;

	CHECK(cfg.size == sizeof(cfg));
	CHECK(hwb_gpio_config(h, "gpiochip0", 9, &unsized) == -EINVAL);
	CHECK(!strcmp(hwb_error_code(h), "invalid"));
	CHECK(strstr(hwb_error_message(h), "size") != NULL);
	after = line_state(h, 9);
	CHECK(!strcmp(before, after)); /* nothing was sent */
	free(after);

	/* Exactly the first version's size is enough. */
	cfg.direction = HWB_GPIO_OUTPUT;
	cfg.value = 1;
	cfg.size = offsetof(struct hwb_gpio_config, flags) + sizeof(cfg.flags);
	CHECK(hwb_gpio_config(h, "gpiochip0", 9, &cfg) == 0);
	CHECK(hwb_gpio_get(h, "gpiochip0", 9) == 1);
	CHECK(hwb_gpio_release(h, "gpiochip0", 9) == 0);
	free(before);
}

static void gpio_event(struct hwb *h, struct hwb *admin)
{
	struct {
		struct hwb_gpio_event ev;
		uint64_t newer; /* a member a later header might add */
	} big = {.ev = {.size = sizeof(big)}, .newer = SENTINEL};
	struct hwb_gpio_event unsized = {.size = 0};
	struct hwb_gpio_watch *w = hwb_gpio_watch(h, "gpiochip0", 5, HWB_GPIO_EDGE_RISING);
	struct pollfd p;
	int r;

	CHECK(w);
	CHECK(hwb_gpio_watch_next(w, &unsized, 0) == -EINVAL);
	CHECK(hwb_request(admin, "POST", "/v1/sim/gpio/gpiochip0/5", "{\"pull\":\"up\"}", NULL) ==
	      200);
	p = (struct pollfd){hwb_gpio_watch_fd(w), POLLIN, 0};
	while ((r = hwb_gpio_watch_next(w, &big.ev, 0)) == -EAGAIN)
		CHECK(poll(&p, 1, 10000) == 1);
	CHECK(r == 0);
	CHECK(big.ev.line == 5 && big.ev.edge == HWB_GPIO_EDGE_RISING && big.ev.seq == 1);
	CHECK(big.ev.size == sizeof(big));
	CHECK(big.newer == SENTINEL);
	hwb_gpio_watch_close(w);
}

static void i2c_msgs(struct hwb *h)
{
	/* A newer caller's array: a larger stride than this library's struct. */
	struct big_msg {
		struct hwb_i2c_msg m;
		uint64_t newer;
	} msgs[2];
	uint8_t wr[3] = {0x60, 0xc3, 0x3c}, reg = 0x60, rd[2] = {0, 0};
	struct hwb_i2c_msg unsized[1] = {{.buf = wr, .len = 3}};

	/* Forgotten size: refused, and the EEPROM is unchanged. */
	CHECK(hwb_smbus_write_byte_data(h, 1, 0x50, 0x60, 0x11) == 0);
	CHECK(hwb_smbus_write_byte_data(h, 1, 0x50, 0x61, 0x22) == 0);
	CHECK(hwb_i2c_transfer(h, 1, 0x50, unsized, 1) == -EINVAL);
	CHECK(hwb_smbus_read_byte_data(h, 1, 0x50, 0x60) == 0x11);
	CHECK(hwb_smbus_read_byte_data(h, 1, 0x50, 0x61) == 0x22);

	memset(msgs, 0, sizeof(msgs));
	msgs[0] = (struct big_msg){{sizeof(struct big_msg), wr, 3, 0}, SENTINEL};
	CHECK(hwb_i2c_transfer(h, 1, 0x50, &msgs[0].m, 1) == 0);
	msgs[0] = (struct big_msg){{sizeof(struct big_msg), &reg, 1, 0}, SENTINEL};
	msgs[1] = (struct big_msg){{sizeof(struct big_msg), rd, 2, 1}, SENTINEL};
	CHECK(hwb_i2c_transfer(h, 1, 0x50, &msgs[0].m, 2) == 0);
	CHECK(rd[0] == 0xc3 && rd[1] == 0x3c);
	CHECK(msgs[0].newer == SENTINEL && msgs[1].newer == SENTINEL);
}

static void uart_config(struct hwb *h)
{
	struct {
		struct hwb_uart_config c;
		uint64_t newer;
	} big = {.c = {.size = sizeof(big)}, .newer = SENTINEL};
	struct hwb_uart_config unsized = {.baud = 1200, .data_bits = 7, .stop_bits = 2};
	struct hwb_uart_config c = HWB_UART_CONFIG_INIT, now = HWB_UART_CONFIG_INIT;

	/* Settings are read from a port hwbrokerd has open (a write opens it). */
	CHECK(hwb_uart_write(h, "ttyS0", "x", 1) >= 0);
	CHECK(hwb_uart_get_config(h, "ttyS0", &c) == 0);
	CHECK(c.size == sizeof(c) && c.baud > 0 && c.data_bits >= 5);
	CHECK(hwb_uart_config(h, "ttyS0", &unsized) == -EINVAL);
	CHECK(hwb_uart_get_config(h, "ttyS0", &now) == 0);
	CHECK(now.baud == c.baud && now.data_bits == c.data_bits && now.stop_bits == c.stop_bits);
	unsized.size = 0;
	CHECK(hwb_uart_get_config(h, "ttyS0", &unsized) == -EINVAL);
	CHECK(unsized.baud == 1200); /* not written */

	c.baud = c.baud == 9600 ? 19200 : 9600;
	CHECK(hwb_uart_config(h, "ttyS0", &c) == 0);
	CHECK(hwb_uart_get_config(h, "ttyS0", &big.c) == 0);
	CHECK(big.c.baud == c.baud && big.c.size == sizeof(big) && big.newer == SENTINEL);
	CHECK(hwb_uart_release(h, "ttyS0") == 0);
}

static void host_time(struct hwb *h)
{
	struct {
		struct hwb_host_time t;
		uint64_t newer;
	} big = {.t = {.size = sizeof(big)}, .newer = SENTINEL};
	struct hwb_host_time unsized = {.ntp = 7};

	CHECK(hwb_host_time(h, &unsized) == -EINVAL);
	CHECK(unsized.ntp == 7 && unsized.time_usec == 0);
	CHECK(hwb_host_time(h, &big.t) == 0);
	CHECK(big.t.time_usec > 0 && big.t.timezone[0] != '\0');
	CHECK(big.t.size == sizeof(big) && big.newer == SENTINEL);
}

int main(int argc, char **argv)
{
	struct hwb *h, *admin;

	CHECK(argc == 3);
	h = hwb_connect(argv[1]);
	admin = hwb_connect(argv[2]);
	CHECK(h && admin);
	gpio_config(h);
	gpio_event(h, admin);
	i2c_msgs(h);
	uart_config(h);
	host_time(h);
	hwb_close(admin);
	hwb_close(h);
	printf("ok\n");
	return 0;
}
