/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hwbroker gpio ...: lines by offset or name, with the habits of libgpiod's
 * tools (gpiodetect, gpioinfo, gpioget, gpioset, gpiomon). */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hwbroker.h"

/* One stream per watched line, each a connection of the service's own. */
#define GPIO_WATCH_MAX 64

static const struct cli_sub gpio_subs[] = {
        {"list", "", "chips and the lines this service may use, with their holders"},
        {"detect", "", "the chips this service sees, like gpiodetect"},
        {"info", "[CHIP...]", "each line this service may use, like gpioinfo"},
        {"get", "CHIP LINE...", "the lines' values on one line, like gpioget"},
        {"set", "CHIP LINE=VALUE... [--connection]",
         "drive lines in one request (also: set CHIP LINE VALUE); the lease outlives the "
         "command unless --connection"},
        {"input", "CHIP LINE [--bias pull-up|pull-down|disabled|as-is]",
         "configure a line as an input"},
        {"release", "CHIP LINE...", "give lines back (their leases end)"},
        {"watch", "CHIP LINE... [--edge rising|falling|both] [--count N]",
         "print edge events as they come, like gpiomon"},
        {NULL, NULL, NULL},
};

static const char gpio_details[] =
        "CHIP: gpiochip0, 0 or the chip's label. LINE: offset (17, 0x11) or name (GPIO17).\n"
        "VALUE: 0, 1, low, high, off or on. info, detect and list show only what this\n"
        "service may read.\n";

#define GPIO_BAD(sub, ...) cli_bad(&cli_cmd_gpio, sub, __VA_ARGS__)

static int gpio_path(char *buf, size_t len, const char *chip, const char *line, const char *tail)
{
	char c[128], l[128];

	if (cli_escape(c, sizeof(c), chip) < 0 || (line && cli_escape(l, sizeof(l), line) < 0))
		return -ENAMETOOLONG;
	snprintf(buf, len, "/v1/gpio/%s%s%s%s", c, line ? "/" : "", line ? l : "",
	         tail ? tail : "");
	return 0;
}

static const char *gpio_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long long gpio_int(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

/* A chip argument names a chip by kernel name, number or label. */
static bool gpio_chip_matches(const json_t *chip, const char *want)
{
	const char *name = gpio_str(chip, "chip") ?: "", *label = gpio_str(chip, "label") ?: "";

	return !strcmp(name, want) || !strcmp(label, want) ||
	       (!strncmp(name, "gpiochip", 8) && !strcmp(name + 8, want));
}

static int gpio_list(struct cli *cli, struct hwb *h)
{
	json_t *reply, *chip, *line;
	size_t i, k;
	int r = cli_call(cli, h, "GET", "/v1/gpio", NULL, &reply);

	if (r)
		return r;
	if (cli->json) {
		cli_print_json(reply);
	} else {
		json_array_foreach(json_object_get(reply, "chips"), i, chip)
		{
			printf("%s [%s] %lld lines\n", gpio_str(chip, "chip"),
			       gpio_str(chip, "label"), gpio_int(chip, "num_lines"));
			json_array_foreach(json_object_get(chip, "lines"), k, line)
			{
				const char *holder = gpio_str(line, "holder");
				printf("\t%lld\t%s%s%s\n", gpio_int(line, "line"),
				       gpio_str(line, "name"), holder ? "\theld by " : "",
				       holder ? holder : "");
			}
		}
	}
	json_decref(reply);
	return CLI_OK;
}

/* gpiodetect: "gpiochip0 [pinctrl-bcm2711] (58 lines)". */
static int gpio_detect(struct cli *cli, struct hwb *h)
{
	json_t *reply, *chip;
	size_t i;
	int r = cli_call(cli, h, "GET", "/v1/gpio", NULL, &reply);

	if (r)
		return r;
	json_array_foreach(json_object_get(reply, "chips"), i, chip)
	{
		if (cli->json)
			printf("{\"chip\":\"%s\",\"label\":\"%s\",\"num_lines\":%lld}\n",
			       gpio_str(chip, "chip"), gpio_str(chip, "label"),
			       gpio_int(chip, "num_lines"));
		else
			printf("%s [%s] (%lld lines)\n", gpio_str(chip, "chip"),
			       gpio_str(chip, "label"), gpio_int(chip, "num_lines"));
	}
	json_decref(reply);
	return CLI_OK;
}

/* gpioinfo's column printer: right-aligned in width, unless this or an
 * earlier column of the line overflowed, after which nothing is padded. */
static void gpio_column(bool *overflow, unsigned width, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void gpio_column(bool *overflow, unsigned width, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (*overflow || !*buf || strlen(buf) - 1 >= width) {
		*overflow = true;
		fputs(buf, stdout);
	} else {
		printf("%*s", (int)width, buf);
	}
}

static void gpio_info_line(const json_t *l)
{
	static const struct {
		const char *key, *value, *flag;
	} flags[] = {{"drive", "open-drain", "open-drain"},
	             {"drive", "open-source", "open-source"},
	             {"bias", "pull-up", "pull-up"},
	             {"bias", "pull-down", "pull-down"},
	             {"bias", "disabled", "bias-disabled"}};
	const char *name = gpio_str(l, "name"), *consumer = gpio_str(l, "consumer");
	const char *holder = gpio_str(l, "holder");
	bool used = json_is_true(json_object_get(l, "used")), overflow = false, any = false;

	printf("\tline ");
	gpio_column(&overflow, 3, "%lld", gpio_int(l, "line"));
	printf(": ");
	if (name && *name)
		gpio_column(&overflow, 12, "\"%s\"", name);
	else
		gpio_column(&overflow, 12, "unnamed");
	printf(" ");
	/* Without the broker's consumer, name what is known to use the line. */
	if (!consumer || !*consumer)
		consumer = holder ? holder : gpio_int(l, "watchers") > 0 ? "hwbrokerd" : NULL;
	if (!used)
		gpio_column(&overflow, 12, "unused");
	else if (consumer)
		gpio_column(&overflow, 12, "\"%s\"", consumer);
	else
		gpio_column(&overflow, 12, "kernel");
	printf(" ");
	gpio_column(&overflow, 8, "%s ",
	            !strcmp(gpio_str(l, "direction") ?: "", "output") ? "output" : "input");
	gpio_column(&overflow, 13, "%s ",
	            json_is_true(json_object_get(l, "active_low")) ? "active-low" : "active-high");
	if (used) {
		printf("[used");
		any = true;
	}
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (strcmp(gpio_str(l, flags[i].key) ?: "", flags[i].value))
			continue;
		printf("%s%s", any ? " " : "[", flags[i].flag);
		any = true;
	}
	printf("%s\n", any ? "]" : "");
}

/* The line as gpioinfo needs it: the list's entry when the broker puts the
 * configuration there, else the line's own GET. New reference or NULL. */
static json_t *gpio_info_fetch(struct cli *cli, struct hwb *h, const char *chip, json_t *entry,
                               int *rc)
{
	char path[300], off[32];
	json_t *line;

	*rc = CLI_OK;
	if (json_object_get(entry, "direction"))
		return json_incref(entry);
	snprintf(off, sizeof(off), "%lld", gpio_int(entry, "line"));
	if (gpio_path(path, sizeof(path), chip, off, NULL) < 0)
		return NULL;
	*rc = cli_call(cli, h, "GET", path, NULL, &line);
	return *rc ? NULL : line;
}

static int gpio_info(struct cli *cli, struct hwb *h, int argc, char **argv)
{
	json_t *reply, *chip, *entry;
	bool *seen = calloc((size_t)argc, sizeof(bool));
	size_t i, k;
	int r = seen ? cli_call(cli, h, "GET", "/v1/gpio", NULL, &reply) : CLI_FAIL;

	if (r) {
		free(seen);
		return r;
	}
	json_array_foreach(json_object_get(reply, "chips"), i, chip)
	{
		bool wanted = argc == 2;
		for (int a = 2; a < argc; a++)
			if (gpio_chip_matches(chip, argv[a]))
				wanted = seen[a] = true;
		if (!wanted)
			continue;
		if (!cli->json)
			printf("%s - %lld lines:\n", gpio_str(chip, "chip"),
			       gpio_int(chip, "num_lines"));
		json_array_foreach(json_object_get(chip, "lines"), k, entry)
		{
			json_t *line = gpio_info_fetch(cli, h, gpio_str(chip, "chip"), entry, &r);
			if (!line)
				goto out;
			if (cli->json) {
				json_object_set(line, "chip", json_object_get(chip, "chip"));
				cli_print_json(line);
			} else {
				gpio_info_line(line);
			}
			json_decref(line);
		}
	}
	for (int a = 2; a < argc; a++) {
		if (seen[a])
			continue;
		fprintf(stderr, "%s: gpio info: no chip '%s' with lines this service may use\n",
		        cli->prog, argv[a]);
		r = CLI_FAIL;
	}
out:
	free(seen);
	json_decref(reply);
	return r;
}

/* gpioget: every value on one line, "0 1 1". */
static int gpio_get(struct cli *cli, struct hwb *h, int argc, char **argv)
{
	json_t *replies = json_array(), *reply;
	char path[300];
	size_t i;
	int r = CLI_OK;

	for (int a = 3; a < argc && r == CLI_OK; a++) {
		if (gpio_path(path, sizeof(path), argv[2], argv[a], NULL) < 0) {
			r = GPIO_BAD("get", "chip or line name too long");
			break;
		}
		r = cli_call(cli, h, "GET", path, NULL, &reply);
		if (r == CLI_OK)
			json_array_append_new(replies, reply ? reply : json_object());
	}
	if (r == CLI_OK) {
		json_array_foreach(replies, i, reply)
		{
			if (cli->json)
				cli_print_json(reply);
			else
				printf("%s%lld", i ? " " : "", gpio_int(reply, "value"));
		}
		if (!cli->json)
			printf("\n");
	}
	json_decref(replies);
	return r;
}

static int gpio_parse_value(const char *s, int *v)
{
	if (!strcmp(s, "0") || !strcmp(s, "low") || !strcmp(s, "off"))
		*v = 0;
	else if (!strcmp(s, "1") || !strcmp(s, "high") || !strcmp(s, "on"))
		*v = 1;
	else
		return -EINVAL;
	return 0;
}

/* set CHIP LINE=V [LINE=V...] | set CHIP LINE V */
static int gpio_set(struct cli *cli, struct hwb *h, int argc, char **argv, bool conn)
{
	const char *tail = conn ? "?lease=connection" : NULL;
	json_t *values = json_object(), *reply = NULL, *b;
	char path[300], *body;
	int r, v;

	if (argc == 5 && !strchr(argv[3], '=')) {
		if (gpio_parse_value(argv[4], &v) < 0) {
			r = GPIO_BAD("set", "bad value '%s' (0, 1, low, high, off, on)", argv[4]);
			goto out;
		}
		json_object_set_new(values, argv[3], json_integer(v));
	} else {
		for (int i = 3; i < argc; i++) {
			char *eq = strchr(argv[i], '=');
			if (!eq || eq == argv[i]) {
				r = GPIO_BAD("set", "bad argument '%s' (LINE=VALUE)", argv[i]);
				goto out;
			}
			if (gpio_parse_value(eq + 1, &v) < 0) {
				r = GPIO_BAD("set",
				             "bad value '%s' in '%s' (0, 1, low, high, off, on)",
				             eq + 1, argv[i]);
				goto out;
			}
			*eq = '\0';
			json_object_set_new(values, argv[i], json_integer(v));
		}
	}
	if (json_object_size(values) == 1) {
		const char *line = json_object_iter_key(json_object_iter(values));
		if (gpio_path(path, sizeof(path), argv[2], line, tail) < 0) {
			r = GPIO_BAD("set", "chip or line name too long");
			goto out;
		}
		b = json_pack("{s:O}", "value", json_object_iter_value(json_object_iter(values)));
	} else {
		if (gpio_path(path, sizeof(path), argv[2], NULL, tail) < 0) {
			r = GPIO_BAD("set", "chip name too long");
			goto out;
		}
		b = json_pack("{s:O}", "values", values);
	}
	body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	r = cli_call(cli, h, "PUT", path, body, &reply);
	free(body);
	if (!r && cli->json)
		cli_print_json(reply);
	json_decref(reply);
out:
	json_decref(values);
	return r;
}

static int gpio_input(struct cli *cli, struct hwb *h, int argc, char **argv)
{
	static const char *const biases[] = {"as-is", "disabled", "pull-up", "pull-down"};
	const char *bias = "as-is";
	json_t *reply = NULL;
	char path[300], body[128];
	size_t i;
	int r = cli_take_option(&argc, argv, "--bias", &bias);

	if (r < 0)
		return GPIO_BAD("input", "--bias needs a value");
	if (argc > 4)
		return GPIO_BAD("input", "unexpected argument '%s'", argv[4]);
	for (i = 0; i < 4 && strcmp(bias, biases[i]); i++)
		;
	if (i == 4)
		return GPIO_BAD("input", "bad bias '%s' (pull-up, pull-down, disabled, as-is)",
		                bias);
	if (gpio_path(path, sizeof(path), argv[2], argv[3], NULL) < 0)
		return GPIO_BAD("input", "chip or line name too long");
	snprintf(body, sizeof(body), "{\"direction\":\"input\",\"bias\":\"%s\"}", bias);
	r = cli_call(cli, h, "PUT", path, body, &reply);
	if (!r && cli->json)
		cli_print_json(reply);
	json_decref(reply);
	return r;
}

static int gpio_release(struct cli *cli, struct hwb *h, int argc, char **argv)
{
	char path[300];
	int r = CLI_OK;

	for (int a = 3; a < argc && r == CLI_OK; a++) {
		if (gpio_path(path, sizeof(path), argv[2], argv[a], NULL) < 0)
			return GPIO_BAD("release", "chip or line name too long");
		r = cli_call(cli, h, "DELETE", path, NULL, NULL);
	}
	return r;
}

/* A line argument as an offset: numbers directly, names through the line's GET. */
static int gpio_line_offset(struct cli *cli, struct hwb *h, const char *chip, const char *line,
                            unsigned *off)
{
	char path[300];
	unsigned long v;
	json_t *reply;
	int r;

	if (cli_parse_num(line, 0, 0xffff, &v) == 0) {
		*off = (unsigned)v;
		return CLI_OK;
	}
	if (gpio_path(path, sizeof(path), chip, line, NULL) < 0)
		return GPIO_BAD("watch", "chip or line name too long");
	r = cli_call(cli, h, "GET", path, NULL, &reply);
	if (r)
		return r;
	*off = (unsigned)gpio_int(reply, "line");
	json_decref(reply);
	return CLI_OK;
}

/* Events read from all streams after one poll(), printed in time order. */
struct gpio_batch {
	struct hwb_gpio_event *ev;
	size_t n, cap;
};

static int gpio_batch_add(struct gpio_batch *b, const struct hwb_gpio_event *ev)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct hwb_gpio_event *nb = realloc(b->ev, cap * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		b->ev = nb;
		b->cap = cap;
	}
	b->ev[b->n++] = *ev;
	return 0;
}

static int gpio_event_cmp(const void *a, const void *b)
{
	const struct hwb_gpio_event *x = a, *y = b;

	if (x->timestamp_ns != y->timestamp_ns)
		return x->timestamp_ns < y->timestamp_ns ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static void gpio_report_dropped(struct cli *cli, const char *arg, unsigned line, uint64_t dropped)
{
	if (cli->json)
		printf("{\"line\":%u,\"dropped\":%llu}\n", line, (unsigned long long)dropped);
	else
		fprintf(stderr, "%s: gpio watch: line %s: %llu events lost\n", cli->prog, arg,
		        (unsigned long long)dropped);
}

static void gpio_print_event(struct cli *cli, const struct hwb_gpio_event *ev)
{
	bool rising = ev->edge == HWB_GPIO_EDGE_RISING;

	if (cli->json)
		printf("{\"line\":%u,\"edge\":\"%s\",\"timestamp_ns\":%llu,\"seq\":%llu}\n",
		       ev->line, rising ? "rising" : "falling",
		       (unsigned long long)ev->timestamp_ns, (unsigned long long)ev->seq);
	else /* gpiomon's own format */
		printf("event: %s offset: %u timestamp: [%8llu.%09llu]\n",
		       rising ? " RISING EDGE" : "FALLING EDGE", ev->line,
		       (unsigned long long)(ev->timestamp_ns / 1000000000u),
		       (unsigned long long)(ev->timestamp_ns % 1000000000u));
}

/* One stream per line, multiplexed with poll(); --count counts events of
 * all lines together, as gpiomon's --num-events does. */
static int gpio_watch(struct cli *cli, struct hwb *h, int argc, char **argv)
{
	struct hwb_gpio_watch *w[GPIO_WATCH_MAX] = {NULL};
	struct pollfd pfd[GPIO_WATCH_MAX];
	unsigned offsets[GPIO_WATCH_MAX];
	const char *edge = "both", *count_arg = NULL;
	enum hwb_gpio_edge e;
	unsigned long count = 0;
	int n = 0, r = CLI_OK;

	if (cli_take_option(&argc, argv, "--edge", &edge) < 0)
		return GPIO_BAD("watch", "--edge needs a value");
	if (cli_take_option(&argc, argv, "--count", &count_arg) < 0)
		return GPIO_BAD("watch", "--count needs a value");
	if (count_arg && cli_parse_num(count_arg, 1, 1ul << 62, &count) < 0)
		return GPIO_BAD("watch", "bad count '%s' (1 or more)", count_arg);
	if (!strcmp(edge, "rising"))
		e = HWB_GPIO_EDGE_RISING;
	else if (!strcmp(edge, "falling"))
		e = HWB_GPIO_EDGE_FALLING;
	else if (!strcmp(edge, "both"))
		e = HWB_GPIO_EDGE_BOTH;
	else
		return GPIO_BAD("watch", "bad edge '%s' (rising, falling, both)", edge);
	if (argc < 4)
		return GPIO_BAD("watch", "missing LINE");
	for (int a = 3; a < argc; a++)
		if (argv[a][0] == '-')
			return GPIO_BAD("watch", "unknown option '%s'", argv[a]);
	if (argc - 3 > GPIO_WATCH_MAX)
		return GPIO_BAD("watch", "at most %d lines", GPIO_WATCH_MAX);
	for (int a = 3; a < argc; a++, n++) {
		r = gpio_line_offset(cli, h, argv[2], argv[a], &offsets[n]);
		if (r)
			goto close_watches;
		w[n] = hwb_gpio_watch(h, argv[2], offsets[n], e);
		if (!w[n]) {
			char what[160];
			snprintf(what, sizeof(what), "gpio watch: line %s", argv[a]);
			r = cli_fail(cli, h, -errno, what);
			goto close_watches;
		}
		pfd[n] = (struct pollfd){hwb_gpio_watch_fd(w[n]), POLLIN, 0};
	}
	fflush(stdout);
	for (unsigned long seen = 0; r == CLI_OK && (!count || seen < count);) {
		struct gpio_batch batch = {0};
		int failed = -1, err = 0;
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = cli_fail(cli, NULL, -errno, "gpio watch");
			break;
		}
		/* Every stream, not only those poll() named: the broker wrote the
		 * events in order, so whatever came before the latest one is here. */
		for (int i = 0; i < n && failed < 0; i++) {
			struct hwb_gpio_event ev = HWB_GPIO_EVENT_INIT;
			while ((err = hwb_gpio_watch_next(w[i], &ev, 0)) == 0) {
				if (ev.dropped) {
					gpio_report_dropped(cli, argv[3 + i], offsets[i],
					                    ev.dropped);
				} else if (gpio_batch_add(&batch, &ev) < 0) {
					err = -ENOMEM;
					break;
				}
			}
			if (err != -EAGAIN)
				failed = i;
		}
		/* gpiomon prints one request's events in the kernel's order. */
		if (batch.n)
			qsort(batch.ev, batch.n, sizeof(*batch.ev), gpio_event_cmp);
		for (size_t k = 0; k < batch.n && (!count || seen < count); k++, seen++)
			gpio_print_event(cli, &batch.ev[k]);
		fflush(stdout);
		free(batch.ev);
		if (failed < 0 || (count && seen >= count))
			continue;
		if (err == -ENODATA) {
			fprintf(stderr, "%s: gpio watch: line %s: the stream ended\n", cli->prog,
			        argv[3 + failed]);
			r = CLI_FAIL;
		} else {
			fprintf(stderr, "%s: gpio watch: line %s: %s\n", cli->prog,
			        argv[3 + failed],
			        err == -ENODEV ? "the chip went away" : strerror(-err));
			r = cli_exit_code(err);
		}
	}
close_watches:
	for (int i = 0; i < n; i++)
		hwb_gpio_watch_close(w[i]);
	return r;
}

static int gpio_run(struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[1];
	bool conn = cli_take_flag(&argc, argv, "--connection") > 0;
	struct hwb *h;
	int r;

	if (conn && strcmp(cmd, "set"))
		return GPIO_BAD(cmd, "--connection is an option of gpio set");
	if ((!strcmp(cmd, "list") || !strcmp(cmd, "detect")) && argc > 2)
		return GPIO_BAD(cmd, "unexpected argument '%s'", argv[2]);
	if ((!strcmp(cmd, "get") || !strcmp(cmd, "set") || !strcmp(cmd, "input") ||
	     !strcmp(cmd, "release") || !strcmp(cmd, "watch")) &&
	    argc < 4)
		return GPIO_BAD(cmd, argc < 3 ? "missing CHIP" : "missing LINE");
	h = cli_connect(cli);
	if (!h)
		return CLI_FAIL;
	if (!strcmp(cmd, "list"))
		r = gpio_list(cli, h);
	else if (!strcmp(cmd, "detect"))
		r = gpio_detect(cli, h);
	else if (!strcmp(cmd, "info"))
		r = gpio_info(cli, h, argc, argv);
	else if (!strcmp(cmd, "get"))
		r = gpio_get(cli, h, argc, argv);
	else if (!strcmp(cmd, "set"))
		r = gpio_set(cli, h, argc, argv, conn);
	else if (!strcmp(cmd, "input"))
		r = gpio_input(cli, h, argc, argv);
	else if (!strcmp(cmd, "release"))
		r = gpio_release(cli, h, argc, argv);
	else
		r = gpio_watch(cli, h, argc, argv);
	hwb_close(h);
	return r;
}

const struct cli_command cli_cmd_gpio = {
        "gpio", "GPIO lines: list, detect, info, get, set, input, release, watch", gpio_subs,
        gpio_details, gpio_run};
