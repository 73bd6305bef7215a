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

static const char uart_usage[] =
        "Usage: hwbroker uart COMMAND\n\n"
        "  list                                ports this service may use\n"
        "  config PORT [--baud N] [--data-bits N] [--parity none|even|odd|mark|space]\n"
        "              [--stop-bits 1|2] [--flow none|rtscts|xonxoff]\n"
        "                                      print, or change, the line configuration\n"
        "  write PORT DATA|-                   send DATA (or stdin with -)\n"
        "  read PORT [--max N] [--timeout MS]  print what arrives (binary safe)\n"
        "  stream PORT                         copy received bytes to stdout until the end\n"
        "  attach PORT                         a raw pipe: stdin to the port, the port to stdout\n"
        "  release PORT                        give the port back\n";

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

static int uart_config(struct cli *cli, struct hwb *h, int argc, char **argv)
{
	struct hwb_uart_config c;
	int r = hwb_uart_get_config(h, argv[2], &c);

	/* A port hwbrokerd has not opened has no known settings: changes start
	 * from 9600 8N1, as the port would after a reset. */
	if (r == -EBUSY && argc > 3)
		c = (struct hwb_uart_config){9600, 8, HWB_UART_PARITY_NONE, 1, HWB_UART_FLOW_NONE};
	else if (r < 0)
		return cli_fail(cli, h, r, "config");
	if (argc == 3) {
		uart_print_config(cli, &c);
		return CLI_OK;
	}
	for (int i = 3; i < argc; i += 2) {
		int v;
		if (i + 1 >= argc)
			return cli_usage(uart_usage);
		const char *o = argv[i], *val = argv[i + 1];
		if (!strcmp(o, "--baud"))
			c.baud = (unsigned)strtoul(val, NULL, 10);
		else if (!strcmp(o, "--data-bits"))
			c.data_bits = (unsigned)strtoul(val, NULL, 10);
		else if (!strcmp(o, "--stop-bits"))
			c.stop_bits = (unsigned)strtoul(val, NULL, 10);
		else if (!strcmp(o, "--parity") && (v = uart_index(parities, 5, val)) >= 0)
			c.parity = (enum hwb_uart_parity)v;
		else if (!strcmp(o, "--flow") && (v = uart_index(flows, 3, val)) >= 0)
			c.flow = (enum hwb_uart_flow)v;
		else
			return cli_usage(uart_usage);
	}
	r = hwb_uart_config(h, argv[2], &c);
	if (r < 0)
		return cli_fail(cli, h, r, "config");
	return CLI_OK;
}

static int uart_write(struct cli *cli, struct hwb *h, const char *port, const char *data)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int r;

	if (strcmp(data, "-")) {
		r = hwb_uart_write(h, port, data, strlen(data));
	} else {
		for (;;) {
			if (len == cap) {
				char *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
				if (!nb || cap > (16u << 20)) {
					free(nb ? nb : buf);
					return cli_fail(cli, NULL, -E2BIG, "write");
				}
				buf = nb;
			}
			ssize_t n = read(0, buf + len, cap - len);
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		/* The broker takes up to its body limit per request. */
		r = 0;
		for (size_t off = 0; off < len && r >= 0; off += 32768)
			r = hwb_uart_write(h, port, buf + off,
			                   len - off < 32768 ? len - off : 32768);
		free(buf);
	}
	return r < 0 ? cli_fail(cli, h, r, "write") : CLI_OK;
}

static int uart_read(struct cli *cli, struct hwb *h, int argc, char **argv)
{
	size_t max = 4096;
	int timeout = 1000;
	char *buf;
	int r;

	for (int i = 3; i < argc; i += 2) {
		if (i + 1 >= argc)
			return cli_usage(uart_usage);
		if (!strcmp(argv[i], "--max"))
			max = (size_t)strtoul(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--timeout"))
			timeout = (int)strtol(argv[i + 1], NULL, 10);
		else
			return cli_usage(uart_usage);
	}
	if (!max || max > 65536)
		return cli_usage(uart_usage);
	buf = malloc(max);
	if (!buf)
		return CLI_FAIL;
	r = hwb_uart_read(h, argv[2], buf, max, timeout);
	if (r >= 0)
		uart_write_all(1, buf, (size_t)r);
	free(buf);
	return r < 0 ? cli_fail(cli, h, r, "read") : CLI_OK;
}

static int uart_stream(struct cli *cli, struct hwb *h, const char *port)
{
	struct hwb_uart_stream *s = hwb_uart_stream_open(h, port);
	char buf[4096];
	int n;

	if (!s)
		return cli_fail(cli, h, -errno, "stream");
	while ((n = hwb_uart_stream_read(s, buf, sizeof(buf), 0)) > 0)
		if (uart_write_all(1, buf, (size_t)n) < 0)
			break;
	hwb_uart_stream_close(s);
	return n < 0 ? cli_fail(cli, NULL, n, "stream") : CLI_OK;
}

/* stdin -> port, port -> stdout, until both directions are done. */
static int uart_attach(struct cli *cli, struct hwb *h, const char *port)
{
	int fd = hwb_uart_attach(h, port);
	char buf[16384];
	bool in_open = true;

	if (fd < 0)
		return cli_fail(cli, h, fd, "attach");
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
	struct hwb *h;
	int r;

	if (cli_wants_help(argc, argv)) {
		fputs(uart_usage, stdout);
		return CLI_OK;
	}
	if (argc < 2)
		return cli_usage(uart_usage);
	const char *cmd = argv[1];
	if (!((!strcmp(cmd, "list") && argc == 2) || (!strcmp(cmd, "config") && argc >= 3) ||
	      (!strcmp(cmd, "write") && argc == 4) || (!strcmp(cmd, "read") && argc >= 3) ||
	      (!strcmp(cmd, "stream") && argc == 3) || (!strcmp(cmd, "attach") && argc == 3) ||
	      (!strcmp(cmd, "release") && argc == 3)))
		return cli_usage(uart_usage);
	h = cli_connect(cli);
	if (!h)
		return CLI_FAIL;
	if (!strcmp(cmd, "list"))
		r = uart_list(cli, h);
	else if (!strcmp(cmd, "config"))
		r = uart_config(cli, h, argc, argv);
	else if (!strcmp(cmd, "write"))
		r = uart_write(cli, h, argv[2], argv[3]);
	else if (!strcmp(cmd, "read"))
		r = uart_read(cli, h, argc, argv);
	else if (!strcmp(cmd, "stream"))
		r = uart_stream(cli, h, argv[2]);
	else if (!strcmp(cmd, "attach"))
		r = uart_attach(cli, h, argv[2]);
	else {
		r = hwb_uart_release(h, argv[2]);
		r = r < 0 ? cli_fail(cli, h, r, "release") : CLI_OK;
	}
	hwb_close(h);
	return r;
}

const struct cli_command cli_cmd_uart = {
        "uart", "serial ports: list, config, write, read, stream, attach", uart_run};
