/* hwbroker gpio ...: lines by offset or name, as plain values for scripts. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hwbroker.h"

static const char gpio_usage[] =
        "Usage: hwbroker gpio COMMAND\n\n"
        "  list                             chips and the lines this service may use\n"
        "  get CHIP LINE                    print the line's value (0 or 1)\n"
        "  set CHIP LINE=VALUE... [--connection]\n"
        "  set CHIP LINE VALUE [--connection]\n"
        "                                   drive lines (one request for several); the lease\n"
        "                                   outlives this command unless --connection\n"
        "  input CHIP LINE [--bias pull-up|pull-down|disabled]   configure as an input\n"
        "  release CHIP LINE                give a line back\n"
        "  watch CHIP LINE [--edge rising|falling|both] [--count N]\n"
        "                                   print edge events, one a line\n\n"
        "CHIP: gpiochip0, 0 or the chip label. LINE: offset (17, 0x11) or name (GPIO17).\n";

static int gpio_path(char *buf, size_t len, const char *chip, const char *line, const char *tail)
{
	char c[128], l[128];

	if (cli_escape(c, sizeof(c), chip) < 0 || (line && cli_escape(l, sizeof(l), line) < 0))
		return -ENAMETOOLONG;
	snprintf(buf, len, "/v1/gpio/%s%s%s%s", c, line ? "/" : "", line ? l : "",
	         tail ? tail : "");
	return 0;
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
			printf("%s [%s] %lld lines\n",
			       json_string_value(json_object_get(chip, "chip")),
			       json_string_value(json_object_get(chip, "label")),
			       (long long)json_integer_value(json_object_get(chip, "num_lines")));
			json_array_foreach(json_object_get(chip, "lines"), k, line)
			{
				const char *holder =
				        json_string_value(json_object_get(line, "holder"));
				printf("\t%lld\t%s%s%s\n",
				       (long long)json_integer_value(json_object_get(line, "line")),
				       json_string_value(json_object_get(line, "name")),
				       holder ? "\theld by " : "", holder ? holder : "");
			}
		}
	}
	json_decref(reply);
	return CLI_OK;
}

static int gpio_get(struct cli *cli, struct hwb *h, const char *chip, const char *line)
{
	char path[300];
	json_t *reply;
	int r;

	if (gpio_path(path, sizeof(path), chip, line, NULL) < 0)
		return cli_usage("hwbroker: chip or line name too long\n");
	r = cli_call(cli, h, "GET", path, NULL, &reply);
	if (r)
		return r;
	if (cli->json)
		cli_print_json(reply);
	else
		printf("%lld\n", (long long)json_integer_value(json_object_get(reply, "value")));
	json_decref(reply);
	return CLI_OK;
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
	json_t *values = json_object(), *reply = NULL;
	char path[300], *body;
	int r, v;

	if (argc == 5 && !strchr(argv[3], '=')) {
		if (gpio_parse_value(argv[4], &v) < 0)
			goto usage;
		json_object_set_new(values, argv[3], json_integer(v));
	} else {
		for (int i = 3; i < argc; i++) {
			char *eq = strchr(argv[i], '=');
			if (!eq || eq == argv[i] || gpio_parse_value(eq + 1, &v) < 0)
				goto usage;
			*eq = '\0';
			json_object_set_new(values, argv[i], json_integer(v));
		}
	}
	if (json_object_size(values) == 1) {
		const char *line = json_object_iter_key(json_object_iter(values));
		if (gpio_path(path, sizeof(path), argv[2], line, tail) < 0)
			goto usage;
		json_t *b = json_pack("{s:O}", "value",
		                      json_object_iter_value(json_object_iter(values)));
		body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
	} else {
		if (gpio_path(path, sizeof(path), argv[2], NULL, tail) < 0)
			goto usage;
		json_t *b = json_pack("{s:O}", "values", values);
		body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
	}
	r = cli_call(cli, h, "PUT", path, body, &reply);
	free(body);
	if (!r && cli->json)
		cli_print_json(reply);
	json_decref(reply);
	json_decref(values);
	return r;
usage:
	json_decref(values);
	return cli_usage(gpio_usage);
}

static int gpio_input(struct cli *cli, struct hwb *h, int argc, char **argv)
{
	const char *bias = "as-is";
	json_t *reply = NULL;
	char path[300], body[128];
	int r;

	if (argc == 6 && !strcmp(argv[4], "--bias"))
		bias = argv[5];
	else if (argc != 4)
		return cli_usage(gpio_usage);
	if (gpio_path(path, sizeof(path), argv[2], argv[3], NULL) < 0 || strlen(bias) > 32 ||
	    strchr(bias, '"') || strchr(bias, '\\'))
		return cli_usage(gpio_usage);
	snprintf(body, sizeof(body), "{\"direction\":\"input\",\"bias\":\"%s\"}", bias);
	r = cli_call(cli, h, "PUT", path, body, &reply);
	if (!r && cli->json)
		cli_print_json(reply);
	json_decref(reply);
	return r;
}

static int gpio_release(struct cli *cli, struct hwb *h, const char *chip, const char *line)
{
	char path[300];

	if (gpio_path(path, sizeof(path), chip, line, NULL) < 0)
		return cli_usage(gpio_usage);
	return cli_call(cli, h, "DELETE", path, NULL, NULL);
}

static int gpio_watch(struct cli *cli, struct hwb *h, int argc, char **argv)
{
	const char *edge = "both";
	long count = -1;
	char tail[64], path[300];
	struct hwb_gpio_event ev;

	for (int i = 4; i < argc; i += 2) {
		if (i + 1 >= argc)
			return cli_usage(gpio_usage);
		if (!strcmp(argv[i], "--edge"))
			edge = argv[i + 1];
		else if (!strcmp(argv[i], "--count"))
			count = strtol(argv[i + 1], NULL, 10);
		else
			return cli_usage(gpio_usage);
	}
	if (strcmp(edge, "both") && strcmp(edge, "rising") && strcmp(edge, "falling"))
		return cli_usage(gpio_usage);
	snprintf(tail, sizeof(tail), "/events?edge=%s", edge);
	if (gpio_path(path, sizeof(path), argv[2], argv[3], tail) < 0)
		return cli_usage(gpio_usage);
	/* Line names are allowed here, so open the stream by path. */
	char *end;
	unsigned long off = strtoul(argv[3], &end, 0);
	struct hwb_gpio_watch *w = NULL;
	if (!*end) {
		enum hwb_gpio_edge e = !strcmp(edge, "rising")    ? HWB_GPIO_EDGE_RISING
		                       : !strcmp(edge, "falling") ? HWB_GPIO_EDGE_FALLING
		                                                  : HWB_GPIO_EDGE_BOTH;
		w = hwb_gpio_watch(h, argv[2], (unsigned)off, e);
		if (!w)
			return cli_fail(cli, h, -errno, "watch");
	} else {
		return cli_usage("hwbroker: gpio watch takes a line offset\n");
	}
	fflush(stdout);
	for (long n = 0; count < 0 || n < count;) {
		int r = hwb_gpio_watch_next(w, &ev, 1);
		if (r == -ENODATA)
			break;
		if (r < 0) {
			fprintf(stderr, "%s: watch ended: %s\n", cli->prog,
			        r == -ENODEV ? "the chip went away" : strerror(-r));
			hwb_gpio_watch_close(w);
			return cli_exit_code(r);
		}
		if (ev.dropped) {
			if (cli->json)
				printf("{\"dropped\":%llu}\n", (unsigned long long)ev.dropped);
			else
				printf("dropped %llu\n", (unsigned long long)ev.dropped);
		} else if (cli->json) {
			printf("{\"line\":%u,\"edge\":\"%s\",\"timestamp_ns\":%llu,\"seq\":%llu}\n",
			       ev.line, ev.edge == HWB_GPIO_EDGE_RISING ? "rising" : "falling",
			       (unsigned long long)ev.timestamp_ns, (unsigned long long)ev.seq);
			n++;
		} else {
			printf("%u %s %llu\n", ev.line,
			       ev.edge == HWB_GPIO_EDGE_RISING ? "rising" : "falling",
			       (unsigned long long)ev.timestamp_ns);
			n++;
		}
		fflush(stdout);
	}
	hwb_gpio_watch_close(w);
	return CLI_OK;
}

static int gpio_run(struct cli *cli, int argc, char **argv)
{
	bool conn = false;
	struct hwb *h;
	int r, n = 0;

	if (cli_wants_help(argc, argv)) {
		fputs(gpio_usage, stdout);
		return CLI_OK;
	}
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--connection"))
			conn = true;
		else
			argv[n++] = argv[i];
	}
	argc = n;
	if (argc < 2)
		return cli_usage(gpio_usage);
	const char *cmd = argv[1];
	if (!((!strcmp(cmd, "list") && argc == 2) || (!strcmp(cmd, "get") && argc == 4) ||
	      (!strcmp(cmd, "set") && argc >= 4) || (!strcmp(cmd, "input") && argc >= 4) ||
	      (!strcmp(cmd, "release") && argc == 4) || (!strcmp(cmd, "watch") && argc >= 4)))
		return cli_usage(gpio_usage);
	h = cli_connect(cli);
	if (!h)
		return CLI_FAIL;
	if (!strcmp(cmd, "list"))
		r = gpio_list(cli, h);
	else if (!strcmp(cmd, "get"))
		r = gpio_get(cli, h, argv[2], argv[3]);
	else if (!strcmp(cmd, "set"))
		r = gpio_set(cli, h, argc, argv, conn);
	else if (!strcmp(cmd, "input"))
		r = gpio_input(cli, h, argc, argv);
	else if (!strcmp(cmd, "release"))
		r = gpio_release(cli, h, argv[2], argv[3]);
	else
		r = gpio_watch(cli, h, argc, argv);
	hwb_close(h);
	return r;
}

const struct cli_command cli_cmd_gpio = {"gpio", "GPIO lines: list, get, set, release, watch",
                                         gpio_run};
