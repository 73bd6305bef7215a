/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libhwbroker's timeouts. Usage:
 *   client_timeout stall SOCKET    a broker that accepts and never answers
 *   client_timeout trickle SOCKET  a broker whose reply never ends
 *   client_timeout backlog SOCKET  a broker whose backlog is full ($HWBROKER_TIMEOUT_MS set)
 *   client_timeout slowbus SERVICE_SOCKET ADMIN_SOCKET
 *                                  hwbrokerd --sim, service with bus 1 address 0x76
 * Prints "ok" when every check passed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hwbroker.h"

/* The last call on h ran out of time on the client side: no reply at all. */
static void check_client_timeout(struct hwb *h)
{
	CHECK(!strcmp(hwb_error_code(h), "timeout"));
	CHECK(hwb_last_status(h) == 0);
	CHECK(strstr(hwb_error_message(h), "no reply") != NULL);
}

static void stall(const char *sock)
{
	struct hwb *h = hwb_connect(sock);
	char *reply = NULL;
	char buf[16];

	CHECK(h);
	CHECK(hwb_get_timeout(h) == HWB_DEFAULT_TIMEOUT_MS);
	CHECK(hwb_set_timeout(h, 0) == -EINVAL);
	CHECK(hwb_set_timeout(h, -5) == -EINVAL);
	CHECK(hwb_set_timeout(NULL, 100) == -EINVAL);
	CHECK(hwb_get_timeout(h) == HWB_DEFAULT_TIMEOUT_MS);
	CHECK(hwb_set_timeout(h, 200) == 0);
	CHECK(hwb_get_timeout(h) == 200);

	CHECK(hwb_request(h, "GET", "/v1/whoami", NULL, &reply) == -ETIMEDOUT);
	CHECK(reply == NULL);
	check_client_timeout(h);
	CHECK(strstr(hwb_error_message(h), "200 ms") != NULL);
	/* The next call starts on a fresh connection, and is bounded the same way. */
	CHECK(hwb_smbus_read_byte_data(h, 1, 0x76, 0xD0) == -ETIMEDOUT);
	check_client_timeout(h);
	CHECK(hwb_gpio_get(h, "gpiochip0", 17) == -ETIMEDOUT);
	/* A UART read waits its own timeout_ms on top of the handle's. */
	CHECK(hwb_uart_read(h, "ttyS0", buf, sizeof(buf), 100) == -ETIMEDOUT);
	check_client_timeout(h);
	CHECK(strstr(hwb_error_message(h), "300 ms") != NULL);

	/* Opening a stream or an attach is bounded by the handle's timeout too. */
	errno = 0;
	CHECK(hwb_gpio_watch(h, "gpiochip0", 4, HWB_GPIO_EDGE_BOTH) == NULL);
	CHECK(errno == ETIMEDOUT);
	CHECK(!strcmp(hwb_error_code(h), "timeout"));
	errno = 0;
	CHECK(hwb_uart_stream_open(h, "ttyS0") == NULL);
	CHECK(errno == ETIMEDOUT);
	CHECK(hwb_uart_attach(h, "ttyS0") == -ETIMEDOUT);
	CHECK(!strcmp(hwb_error_code(h), "timeout"));
	hwb_close(h);
}

static void trickle(const char *sock)
{
	struct hwb *h = hwb_connect(sock);
	char *reply = NULL;

	CHECK(h);
	CHECK(hwb_set_timeout(h, 300) == 0);
	/* Bytes keep coming, but the whole reply is bounded, not each read. */
	CHECK(hwb_request(h, "GET", "/v1/whoami", NULL, &reply) == -ETIMEDOUT);
	CHECK(reply == NULL);
	check_client_timeout(h);
	hwb_close(h);
}

static void backlog(const char *sock)
{
	errno = 0;
	CHECK(hwb_connect(sock) == NULL);
	CHECK(errno == ETIMEDOUT);
}

static void slowbus(const char *sock, const char *admin_sock)
{
	struct hwb *h = hwb_connect(sock), *admin = hwb_connect(admin_sock);
	char *service = NULL;
	int r = -1;

	CHECK(h && admin);
	CHECK(hwb_request(admin, "POST", "/v1/sim/i2c/1", "{\"delay_ms\":3000}", NULL) == 200);
	/* The broker gives up first (its I2C timeout is 1 s): its 504 and message. */
	CHECK(hwb_smbus_read_byte_data(h, 1, 0x76, 0xD0) == -ETIMEDOUT);
	CHECK(hwb_last_status(h) == 504);
	CHECK(!strcmp(hwb_error_code(h), "timeout"));
	/* A handle timeout below the broker's: the client gives up first. */
	CHECK(hwb_set_timeout(h, 300) == 0);
	CHECK(hwb_smbus_read_byte_data(h, 1, 0x76, 0xD0) == -ETIMEDOUT);
	check_client_timeout(h);
	/* The handle goes on working on a fresh connection. */
	CHECK(hwb_set_timeout(h, HWB_DEFAULT_TIMEOUT_MS) == 0);
	CHECK(hwb_whoami(h, &service, NULL) == 0);
	CHECK(!strcmp(service, "sensor"));
	free(service);
	CHECK(hwb_request(admin, "POST", "/v1/sim/i2c/1", "{\"delay_ms\":0}", NULL) == 200);
	/* Transfers already queued behind the slow ones may still time out. */
	for (int i = 0; i < 50 && r != 0x60; i++)
		r = hwb_smbus_read_byte_data(h, 1, 0x76, 0xD0);
	CHECK(r == 0x60);
	hwb_close(admin);
	hwb_close(h);
}

int main(int argc, char **argv)
{
	CHECK(argc >= 3);
	if (!strcmp(argv[1], "stall"))
		stall(argv[2]);
	else if (!strcmp(argv[1], "trickle"))
		trickle(argv[2]);
	else if (!strcmp(argv[1], "backlog"))
		backlog(argv[2]);
	else if (!strcmp(argv[1], "slowbus") && argc == 4)
		slowbus(argv[2], argv[3]);
	else
		CHECK(!"unknown mode");
	printf("ok\n");
	return 0;
}
