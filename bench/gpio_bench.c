/* GPIO round trips and event latency through libhwbroker against a running
 * hwbrokerd --sim. A measurement, not a test.
 * Usage: gpio_bench SERVICE_SOCKET ADMIN_SOCKET [ITERATIONS]
 * (the service needs gpiochip0 lines 20 and 21). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hwbroker.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void report(const char *what, double *v, int n, double total_us)
{
	qsort(v, (size_t)n, sizeof(*v), cmp);
	printf("%-22s n=%d p50=%.1fus p99=%.1fus max=%.1fus %.0f ops/s\n", what, n, v[n / 2],
	       v[(int)(n * 0.99)], v[n - 1], n / (total_us / 1e6));
}

int main(int argc, char **argv)
{
	int n = argc > 3 ? atoi(argv[3]) : 2000;
	struct hwb *h, *admin;
	double *lat, t0;

	if (argc < 3 || n < 10) {
		fprintf(stderr, "usage: %s SERVICE_SOCKET ADMIN_SOCKET [ITERATIONS]\n", argv[0]);
		return 2;
	}
	h = hwb_connect(argv[1]);
	admin = hwb_connect(argv[2]);
	lat = calloc((size_t)n, sizeof(*lat));
	if (!h || !admin || !lat) {
		perror("connect");
		return 1;
	}
	t0 = now_us();
	for (int i = 0; i < n; i++) {
		double s = now_us();
		if (hwb_gpio_set(h, "gpiochip0", 20, i & 1) < 0) {
			fprintf(stderr, "set: %s\n", hwb_error_message(h));
			return 1;
		}
		lat[i] = now_us() - s;
	}
	report("gpio set round trip", lat, n, now_us() - t0);

	/* Event latency: from the simulated pull to the event in our hands. */
	struct hwb_gpio_watch *w = hwb_gpio_watch(h, "gpiochip0", 21, HWB_GPIO_EDGE_BOTH);
	struct hwb_gpio_event ev = HWB_GPIO_EVENT_INIT;
	int m = n / 4;
	if (!w) {
		fprintf(stderr, "watch: %s\n", hwb_error_message(h));
		return 1;
	}
	t0 = now_us();
	for (int i = 0; i < m; i++) {
		double s = now_us();
		char body[32];
		snprintf(body, sizeof(body), "{\"pull\":\"%s\"}", i & 1 ? "down" : "up");
		if (hwb_request(admin, "POST", "/v1/sim/gpio/gpiochip0/21", body, NULL) < 0)
			return 1;
		int r;
		while ((r = hwb_gpio_watch_next(w, &ev, 0)) == -EAGAIN) {
			struct pollfd p = {hwb_gpio_watch_fd(w), POLLIN, 0};
			poll(&p, 1, 1000);
		}
		if (r < 0)
			return 1;
		lat[i] = now_us() - s;
	}
	report("event (pull to event)", lat, m, now_us() - t0);
	hwb_gpio_watch_close(w);
	hwb_close(admin);
	hwb_close(h);
	free(lat);
	return 0;
}
