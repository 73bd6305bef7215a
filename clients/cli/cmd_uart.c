/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hwbroker uart ...: serial ports, binary safe. */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli.h"
#include "hwbroker.h"

static const struct cli_sub uart_subs[] = {
        {"list", "", "ports this service may use, with their holders"},
        {"config", "PORT [--baud N] [--data-bits N] [--parity P] [--stop-bits N] [--flow F]",
         "print the line configuration (\"BAUD BITS PARITY STOP FLOW\"), or change what the "
         "options name"},
        {"write", "PORT DATA|-|--file FILE",
         "send DATA, standard input (-) or a file (binary safe)"},
        {"read", "PORT [--max N] [--timeout MS]", "print what arrives within MS (binary safe)"},
        {"stream", "PORT", "copy received bytes to standard output until the port goes"},
        {"attach", "PORT", "a raw pipe: standard input to the port, the port to standard output"},
        {"release", "PORT", "give the port back"},
        {NULL, NULL, NULL},
};

static const char uart_details[] =
        "PORT: ttyS0, ttyAMA0, ttyUSB0, ttyACM0, serial0... A FILE may be - for standard input.\n"
        "config: --data-bits 5-8, --parity none|even|odd|mark|space, --stop-bits 1|2,\n"
        "--flow none|rtscts|xonxoff.\n";

#define UART_BAD(sub, ...) cli_bad(&cli_cmd_uart, sub, __VA_ARGS__)
#define UART_WRITE_MAX     (16u << 20)

static const char *const parities[] = {"none", "even", "odd", "mark", "space"};
static const char *const flows[] = {"none", "rtscts", "xonxoff"};

static int uart_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

static int uart_write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void uart_print_config(struct cli *cli, const struct hwb_uart_config *c)
{
	if (cli->json)
		printf("{\"baud\":%u,\"data_bits\":%u,\"parity\":\"%s\",\"stop_bits\":%u,\"flow\":"
		       "\"%s\"}\n",
		       c->baud, c->data_bits, parities[c->parity], c->stop_bits, flows[c->flow]);
	else
		printf("%u %u %s %u %s\n", c->baud, c->data_bits, parities[c->parity], c->stop_bits,
		       flows[c->flow]);
}

/* The options of uart config, checked before anything is sent. */
static int uart_config_parse(int argc, char **argv, struct hwb_uart_config *c, unsigned *set)
{
	enum { BAUD = 1, BITS = 2, STOP = 4, PARITY = 8, FLOW = 16 };
	unsigned long v;

	*set = 0;
	for (int i = 3; i < argc; i += 2) {
		const char *o = argv[i], *val = argv[i + 1];
		int k;
		if (i + 1 >= argc)
			return UART_BAD("config", "%s needs a value", o);
		if (!strcmp(o, "--baud")) {
			if (cli_parse_num(val, 1, 100000000, &v) < 0)
				return UART_BAD("config", "bad baud rate '%s'", val);
			c->baud = (unsigned)v;
			*set |= BAUD;
		} else if (!strcmp(o, "--data-bits")) {
			if (cli_parse_num(val, 5, 8, &v) < 0)
				return UART_BAD("config", "bad data bits '%s' (5-8)", val);
			c->data_bits = (unsigned)v;
			*set |= BITS;
		} else if (!strcmp(o, "--stop-bits")) {
			if (cli_parse_num(val, 1, 2, &v) < 0)
				return UART_BAD("config", "bad stop bits '%s' (1 or 2)", val);
			c->stop_bits = (unsigned)v;
			*set |= STOP;
		} else if (!strcmp(o, "--parity")) {
			if ((k = uart_index(parities, 5, val)) < 0)
				return UART_BAD("config",
				                "bad parity '%s' (none, even, odd, mark, space)",
				                val);
			c->parity = (enum hwb_uart_parity)k;
			*set |= PARITY;
		} else if (!strcmp(o, "--flow")) {
			if ((k = uart_index(flows, 3, val)) < 0)
				return UART_BAD("config",
				                "bad flow control '%s' (none, rtscts, xonxoff)",
				                val);
			c->flow = (enum hwb_uart_flow)k;
			*set |= FLOW;
		} else {
			return UART_BAD("config", "unknown option '%s'", o);
		}
	}
	return CLI_OK;
}

static int uart_config(struct cli *cli, struct hwb *h, int argc, char **argv)
{
	struct hwb_uart_config c = HWB_UART_CONFIG_INIT, want = HWB_UART_CONFIG_INIT;
	unsigned set;
	int r = uart_config_parse(argc, argv, &want, &set);

	if (r)
		return r;
	r = hwb_uart_get_config(h, argv[2], &c);
	/* A port hwbrokerd has not opened has no known settings (reading them
	 * would open it): changes start from 9600 8N1, as after a reset. */
	if (r == -EBUSY && set) {
		c = (struct hwb_uart_config)HWB_UART_CONFIG_INIT;
		c.baud = 9600;
		c.data_bits = 8;
		c.parity = HWB_UART_PARITY_NONE;
		c.stop_bits = 1;
		c.flow = HWB_UART_FLOW_NONE;
	} else if (r < 0) {
		return cli_fail(cli, h, r, "uart config");
	}
	if (!set) {
		uart_print_config(cli, &c);
		return CLI_OK;
	}
	/* What the options name changes; the rest stays as the port has it. */
	if (set & 1)
		c.baud = want.baud;
	if (set & 2)
		c.data_bits = want.data_bits;
	if (set & 4)
		c.stop_bits = want.stop_bits;
	if (set & 8)
		c.parity = want.parity;
	if (set & 16)
		c.flow = want.flow;
	r = hwb_uart_config(h, argv[2], &c);
	if (r < 0)
		return cli_fail(cli, h, r, "uart config");
	return CLI_OK;
}

/* DATA as given, or a file ("-": standard input) with file set. */
static int uart_write(struct cli *cli, struct hwb *h, const char *port, const char *data,
                      const char *file)
{
	char *buf = NULL, what[300];
	size_t len = 0;
	int r;

	if (!file) {
		r = hwb_uart_write(h, port, data, strlen(data));
		return r < 0 ? cli_fail(cli, h, r, "uart write") : CLI_OK;
	}
	r = cli_read_file(file, UART_WRITE_MAX, &buf, &len);
	if (r < 0) {
		snprintf(what, sizeof(what), "uart write: %s",
		         strcmp(file, "-") ? file : "<stdin>");
		return cli_fail(cli, NULL, r, what);
	}
	/* The broker takes up to its body limit per request. */
	r = 0;
	for (size_t off = 0; off < len && r >= 0; off += 32768)
		r = hwb_uart_write(h, port, buf + off, len - off < 32768 ? len - off : 32768);
	free(buf);
	return r < 0 ? cli_fail(cli, h, r, "uart write") : CLI_OK;
}

static int uart_read(struct cli *cli, struct hwb *h, const char *port, size_t max, int timeout)
{
	char *buf;
	int r;

	buf = malloc(max);
	if (!buf)
		return CLI_FAIL;
	r = hwb_uart_read(h, port, buf, max, timeout);
	if (r >= 0)
		uart_write_all(1, buf, (size_t)r);
	free(buf);
	return r < 0 ? cli_fail(cli, h, r, "uart read") : CLI_OK;
}

static int uart_stream(struct cli *cli, struct hwb *h, const char *port)
{
	struct hwb_uart_stream *s = hwb_uart_stream_open(h, port);
	char buf[4096];
	int n;

	if (!s)
		return cli_fail(cli, h, -errno, "uart stream");
	while ((n = hwb_uart_stream_read(s, buf, sizeof(buf), 0)) > 0)
		if (uart_write_all(1, buf, (size_t)n) < 0)
			break;
	hwb_uart_stream_close(s);
	return n < 0 ? cli_fail(cli, NULL, n, "uart stream") : CLI_OK;
}

/* stdin -> port, port -> stdout, until both directions are done. */
static int uart_attach(struct cli *cli, struct hwb *h, const char *port)
{
	int fd = hwb_uart_attach(h, port);
	char buf[16384];
	bool in_open = true;

	if (fd < 0)
		return cli_fail(cli, h, fd, "uart attach");
	for (;;) {
		struct pollfd p[2] = {{fd, POLLIN, 0}, {0, in_open ? POLLIN : 0, 0}};
		if (poll(p, 2, -1) < 0)
			break;
		if (p[0].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0 || uart_write_all(1, buf, (size_t)n) < 0)
				break;
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n <= 0) {
				in_open = false;
				shutdown(fd, SHUT_WR);
			} else if (uart_write_all(fd, buf, (size_t)n) < 0) {
				break;
			}
		}
	}
	close(fd);
	return CLI_OK;
}

static int uart_list(struct cli *cli, struct hwb *h)
{
	json_t *reply, *p;
	size_t i;
	int r = cli_call(cli, h, "GET", "/v1/uart", NULL, &reply);

	if (r)
		return r;
	if (cli->json)
		cli_print_json(reply);
	else
		json_array_foreach(json_object_get(reply, "ports"), i, p)
		{
			const char *holder = json_string_value(json_object_get(p, "holder"));
			printf("%s%s%s\n", json_string_value(json_object_get(p, "port")),
			       holder ? "\theld by " : "", holder ? holder : "");
		}
	json_decref(reply);
	return CLI_OK;
}

static int uart_run(struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[1], *file = NULL, *max_arg = NULL, *timeout_arg = NULL;
	unsigned long max = 4096, timeout = 1000;
	struct hwb *h;
	int r;

	if (!strcmp(cmd, "write") && cli_take_option(&argc, argv, "--file", &file) < 0)
		return UART_BAD(cmd, "--file needs a FILE (- for standard input)");
	if (!strcmp(cmd, "read")) {
		if (cli_take_option(&argc, argv, "--max", &max_arg) < 0 ||
		    cli_take_option(&argc, argv, "--timeout", &timeout_arg) < 0)
			return UART_BAD(cmd, "%s needs a value", argv[argc - 1]);
		if (max_arg && cli_parse_num(max_arg, 1, 65536, &max) < 0)
			return UART_BAD(cmd, "bad --max '%s' (1-65536)", max_arg);
		if (timeout_arg && cli_parse_num(timeout_arg, 0, 600000, &timeout) < 0)
			return UART_BAD(cmd, "bad --timeout '%s' (0-600000 ms)", timeout_arg);
	}
	if (!strcmp(cmd, "list")) {
		if (argc > 2)
			return UART_BAD(cmd, "unexpected argument '%s'", argv[2]);
	} else if (argc < 3) {
		return UART_BAD(cmd, "missing PORT");
	}
	if (!strcmp(cmd, "write")) {
		if (argc == 4 && !strcmp(argv[3], "-") && !file)
			file = argv[3];
		else if (file && argc > 3)
			return UART_BAD(cmd, "DATA '%s' and --file exclude each other", argv[3]);
		else if (!file && argc < 4)
			return UART_BAD(cmd, "missing DATA (or - or --file FILE)");
		else if (argc > (file ? 3 : 4))
			return UART_BAD(cmd, "unexpected argument '%s'", argv[file ? 3 : 4]);
	} else if (!strcmp(cmd, "config")) {
		struct hwb_uart_config c = HWB_UART_CONFIG_INIT;
		unsigned set;
		if ((r = uart_config_parse(argc, argv, &c, &set)))
			return r;
	} else if (strcmp(cmd, "list") && argc > 3) {
		return UART_BAD(cmd, "unexpected argument '%s'", argv[3]);
	}
	h = cli_connect(cli);
	if (!h)
		return CLI_FAIL;
	if (!strcmp(cmd, "list"))
		r = uart_list(cli, h);
	else if (!strcmp(cmd, "config"))
		r = uart_config(cli, h, argc, argv);
	else if (!strcmp(cmd, "write"))
		r = uart_write(cli, h, argv[2], argv[3], file);
	else if (!strcmp(cmd, "read"))
		r = uart_read(cli, h, argv[2], max, (int)timeout);
	else if (!strcmp(cmd, "stream"))
		r = uart_stream(cli, h, argv[2]);
	else if (!strcmp(cmd, "attach"))
		r = uart_attach(cli, h, argv[2]);
	else {
		r = hwb_uart_release(h, argv[2]);
		r = r < 0 ? cli_fail(cli, h, r, "uart release") : CLI_OK;
	}
	hwb_close(h);
	return r;
}

const struct cli_command cli_cmd_uart = {
        "uart", "serial ports: list, config, write, read, stream, attach, release", uart_subs,
        uart_details, uart_run};
