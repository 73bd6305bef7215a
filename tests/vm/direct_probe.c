/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Direct mode in the VM rig, against gpio-sim (tests/vm/scenarios/gpio.sh):
 *
 *   direct_probe check SOCKET CHIP LINE SIM_VALUE_FILE
 *       takes a direct handle on LINE, drives 1, 0, 1 and checks that the
 *       simulator (its sysfs value file) and hwb_gpio_direct_get() see each
 *   direct_probe hold SOCKET CHIP LINE VALUE
 *       takes a handle driving VALUE, prints "held", keeps it until SIGTERM
 *   direct_probe bench SOCKET CHIP LINE N
 *       N writes through a direct handle, then N through libgpiod 1.6 on the
 *       same line; prints both rates and their ratio (bench/vm-direct)
 *
 * Exit status: 0 ok, 1 a check failed, 2 the broker refused (the error on
 * stderr). */
#include <errno.h>
#include <gpiod.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hwbroker.h"

static struct hwb_gpio_direct *probe_open(const char *sock, const char *chip, const char *line,
                                          int value)
{
	struct hwb *h = hwb_connect(sock);
	const char *lines[] = {line};
	struct hwb_gpio_direct *d;

	if (!h) {
		fprintf(stderr, "connect %s: %s\n", sock, strerror(errno));
		exit(2);
	}
	d = hwb_gpio_direct_open(h, chip, lines, 1, NULL, &value);
	if (!d) {
		fprintf(stderr, "direct: %s (%s; hint: %s)\n", hwb_error_message(h),
		        strerror(errno), hwb_error_hint(h) ? hwb_error_hint(h) : "-");
		exit(2);
	}
	hwb_close(h); /* the handle does not need the connection */
	return d;
}

static int read_sim(const char *path)
{
	FILE *f = fopen(path, "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int probe_check(char **argv)
{
	struct hwb_gpio_direct *d = probe_open(argv[2], argv[3], argv[4], 0);
	static const int seq[] = {1, 0, 1};

	for (size_t i = 0; i < 3; i++) {
		int got = -1;
		if (hwb_gpio_direct_set(d, &seq[i]) < 0 || hwb_gpio_direct_get(d, &got) < 0) {
			fprintf(stderr, "ioctl: %s\n", strerror(errno));
			return 1;
		}
		if (got != seq[i] || read_sim(argv[5]) != seq[i]) {
			fprintf(stderr, "wrote %d, read back %d, simulator %d\n", seq[i], got,
			        read_sim(argv[5]));
			return 1;
		}
	}
	printf("checked line %d\n", hwb_gpio_direct_offset(d, 0));
	hwb_gpio_direct_close(d);
	return 0;
}

static volatile sig_atomic_t stop;
static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int probe_hold(char **argv)
{
	struct hwb_gpio_direct *d = probe_open(argv[2], argv[3], argv[4], atoi(argv[5]));

	signal(SIGTERM, on_term);
	printf("held\n");
	fflush(stdout);
	while (!stop)
		pause();
	hwb_gpio_direct_close(d);
	return 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int probe_bench(char **argv)
{
	long n = atol(argv[5]);
	unsigned offset = (unsigned)atoi(argv[4]);
	struct hwb_gpio_direct *d = probe_open(argv[2], argv[3], argv[4], 0);
	struct gpiod_chip *chip;
	struct gpiod_line *line;
	double t0, direct_s, gpiod_s;

	t0 = now_s();
	for (long i = 0; i < n; i++) {
		int v = (int)(i & 1);
		if (hwb_gpio_direct_set(d, &v) < 0)
			return 1;
	}
	direct_s = now_s() - t0;
	hwb_gpio_direct_close(d);

	chip = gpiod_chip_open_lookup(argv[3]);
	line = chip ? gpiod_chip_get_line(chip, offset) : NULL;
	if (!line || gpiod_line_request_output(line, "direct-probe", 0) < 0) {
		fprintf(stderr, "libgpiod: %s\n", strerror(errno));
		return 1;
	}
	t0 = now_s();
	for (long i = 0; i < n; i++)
		if (gpiod_line_set_value(line, (int)(i & 1)) < 0)
			return 1;
	gpiod_s = now_s() - t0;
	gpiod_chip_close(chip);
	printf("direct %.0f writes/s, libgpiod %.0f writes/s, ratio %.3f\n", n / direct_s,
	       n / gpiod_s, gpiod_s / direct_s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "check"))
		return probe_check(argv);
	if (argc == 6 && !strcmp(argv[1], "hold"))
		return probe_hold(argv);
	if (argc == 6 && !strcmp(argv[1], "bench"))
		return probe_bench(argv);
	fprintf(stderr, "usage: direct_probe check|hold|bench SOCKET CHIP LINE ARG\n");
	return 2;
}
