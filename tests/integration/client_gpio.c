/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exercises libhwbroker's GPIO calls against a running hwbrokerd --sim.
 * Usage: client_gpio SERVICE_SOCKET ADMIN_SOCKET (service "a" with gpiochip0). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hwbroker.h"

static void sim_pull(struct hwb *admin, unsigned line, const char *level)
{
	char path[64], body[32];

	snprintf(path, sizeof(path), "/v1/sim/gpio/gpiochip0/%u", line);
	snprintf(body, sizeof(body), "{\"pull\":\"%s\"}", level);
	CHECK(hwb_request(admin, "POST", path, body, NULL) == 200);
}

int main(int argc, char **argv)
{
	struct hwb *h, *admin;
	struct hwb_gpio_event ev = HWB_GPIO_EVENT_INIT;
	char *service = NULL, *grants = NULL;

	CHECK(argc == 3);
	h = hwb_connect(argv[1]);
	admin = hwb_connect(argv[2]);
	CHECK(h && admin);
	CHECK(hwb_connect("/nonexistent/hwbroker.sock") == NULL && errno == ENOENT);

	CHECK(hwb_whoami(h, &service, &grants) == 0);
	CHECK(!strcmp(service, "a"));
	CHECK(strstr(grants, "gpiochip0") != NULL);
	free(service);
	free(grants);

	CHECK(hwb_gpio_set(h, "gpiochip0", 17, 1) == 0);
	CHECK(hwb_gpio_get(h, "gpiochip0", 17) == 1);
	CHECK(hwb_gpio_set(h, "gpiochip0", 17, 0) == 0);
	CHECK(hwb_gpio_get(h, "gpiochip0", 17) == 0);

	const char *lines[] = {"20", "GPIO21"};
	int values[] = {1, 1};
	CHECK(hwb_gpio_set_many(h, "gpiochip0", lines, values, 2) == 0);
	CHECK(hwb_gpio_get(h, "gpiochip0", 21) == 1);

	/* Errors carry the broker's code and message. */
	CHECK(hwb_gpio_set(h, "gpiochip1", 0, 1) == -EACCES);
	CHECK(!strcmp(hwb_error_code(h), "forbidden"));
	CHECK(strstr(hwb_error_message(h), "gpiochip1") != NULL);
	CHECK(hwb_last_status(h) == 403);
	CHECK(hwb_gpio_get(h, "gpiochip0", 99) == -ENOENT);
	CHECK(hwb_gpio_release(h, "gpiochip0", 30) == -ENOENT);

	struct hwb_gpio_config cfg = {
	        .size = sizeof(cfg), .direction = HWB_GPIO_INPUT, .bias = HWB_GPIO_BIAS_PULL_UP};
	CHECK(hwb_gpio_config(h, "gpiochip0", 8, &cfg) == 0);
	CHECK(hwb_gpio_get(h, "gpiochip0", 8) == 1);
	CHECK(hwb_gpio_release(h, "gpiochip0", 8) == 0);

	/* Watch: poll the fd, then drain with the non-blocking next(). */
	struct hwb_gpio_watch *w = hwb_gpio_watch(h, "gpiochip0", 4, HWB_GPIO_EDGE_BOTH);
	CHECK(w != NULL);
	CHECK(hwb_gpio_watch_next(w, &ev, 0) == -EAGAIN);
	sim_pull(admin, 4, "up");
	sim_pull(admin, 4, "down");
	int seen = 0;
	while (seen < 2) {
		struct pollfd pfd = {hwb_gpio_watch_fd(w), POLLIN, 0};
		CHECK(poll(&pfd, 1, 10000) == 1);
		int r;
		while ((r = hwb_gpio_watch_next(w, &ev, 0)) == 0) {
			seen++;
			CHECK(ev.line == 4);
			CHECK(ev.seq == (uint64_t)seen);
			CHECK(ev.timestamp_ns > 0);
			CHECK(ev.edge ==
			      (seen == 1 ? HWB_GPIO_EDGE_RISING : HWB_GPIO_EDGE_FALLING));
		}
		CHECK(r == -EAGAIN);
	}
	/* The chip goes away: the watch ends with -ENODEV. */
	CHECK(hwb_request(admin, "POST", "/v1/sim/gpio/gpiochip0", "{\"present\":false}", NULL) ==
	      200);
	CHECK(hwb_gpio_watch_next(w, &ev, 1) == -ENODEV);
	hwb_gpio_watch_close(w);
	CHECK(hwb_gpio_set(h, "gpiochip0", 17, 1) == -ENODEV);
	CHECK(hwb_request(admin, "POST", "/v1/sim/gpio/gpiochip0", "{\"present\":true}", NULL) ==
	      200);
	CHECK(hwb_gpio_set(h, "gpiochip0", 17, 1) == 0);

	hwb_close(admin);
	hwb_close(h);
	printf("ok\n");
	return 0;
}
