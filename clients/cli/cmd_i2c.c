/* hwbroker i2c ...: i2c-tools habits (i2cget, i2cset, i2ctransfer,
 * i2cdetect) through the broker. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hwbroker.h"

static const char i2c_usage[] =
        "Usage: hwbroker i2c COMMAND\n\n"
        "  list                          buses and addresses this service may use\n"
        "  get BUS ADDR [REG [b|w]]      read a byte (or a register's byte or word)\n"
        "  set BUS ADDR REG VALUE [b|w]  write a register's byte or word\n"
        "  transfer BUS ADDR MSG...      one combined transaction; MSG: w:0xF7[,0x01...] or r:N\n"
        "  detect BUS                    probe the addresses this service may use\n\n"
        "Numbers are decimal or 0x hex. Output is hex, as i2c-tools print it.\n";

static int i2c_num(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	*out = strtoul(s, &end, 0);
	return *end || *out > max ? -EINVAL : 0;
}

static int i2c_fail(struct cli *cli, struct hwb *h, int r, const char *what)
{
	return cli_fail(cli, h, r, what);
}

static int i2c_get(struct cli *cli, struct hwb *h, int argc, char **argv, unsigned bus,
                   unsigned addr)
{
	unsigned long reg;
	bool word = argc == 6 && !strcmp(argv[5], "w");
	int r;

	if (argc == 4) {
		r = hwb_smbus_read_byte(h, bus, addr);
	} else {
		if (i2c_num(argv[4], 255, &reg) < 0 || (argc == 6 && strcmp(argv[5], "b") && !word))
			return cli_usage(i2c_usage);
		r = word ? hwb_smbus_read_word_data(h, bus, addr, (uint8_t)reg)
		         : hwb_smbus_read_byte_data(h, bus, addr, (uint8_t)reg);
	}
	if (r < 0)
		return i2c_fail(cli, h, r, "get");
	if (cli->json)
		printf("{\"value\":%d}\n", r);
	else
		printf(word ? "0x%04x\n" : "0x%02x\n", r);
	return CLI_OK;
}

static int i2c_set(struct cli *cli, struct hwb *h, int argc, char **argv, unsigned bus,
                   unsigned addr)
{
	unsigned long reg, value;
	bool word = argc == 7 && !strcmp(argv[6], "w");
	int r;

	if (argc < 6 || argc > 7 || i2c_num(argv[4], 255, &reg) < 0 ||
	    i2c_num(argv[5], word ? 0xffff : 0xff, &value) < 0 ||
	    (argc == 7 && strcmp(argv[6], "b") && !word))
		return cli_usage(i2c_usage);
	r = word ? hwb_smbus_write_word_data(h, bus, addr, (uint8_t)reg, (uint16_t)value)
	         : hwb_smbus_write_byte_data(h, bus, addr, (uint8_t)reg, (uint8_t)value);
	return r < 0 ? i2c_fail(cli, h, r, "set") : CLI_OK;
}

static int i2c_transfer(struct cli *cli, struct hwb *h, int argc, char **argv, unsigned bus,
                        unsigned addr)
{
	struct hwb_i2c_msg msgs[16];
	static uint8_t bufs[16][256];
	size_t n = 0;
	int r;

	for (int i = 4; i < argc; i++) {
		unsigned long v;
		if (n == 16)
			return cli_usage(i2c_usage);
		if (!strncmp(argv[i], "r:", 2)) {
			if (i2c_num(argv[i] + 2, 256, &v) < 0 || v == 0)
				return cli_usage(i2c_usage);
			msgs[n] = (struct hwb_i2c_msg){bufs[n], (uint16_t)v, 1};
		} else if (!strncmp(argv[i], "w:", 2)) {
			char *save = NULL, *tok, copy[1024];
			uint16_t len = 0;
			snprintf(copy, sizeof(copy), "%s", argv[i] + 2);
			for (tok = strtok_r(copy, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (i2c_num(tok, 255, &v) < 0 || len == 256)
					return cli_usage(i2c_usage);
				bufs[n][len++] = (uint8_t)v;
			}
			msgs[n] = (struct hwb_i2c_msg){bufs[n], len, 0};
		} else {
			return cli_usage(i2c_usage);
		}
		n++;
	}
	if (!n)
		return cli_usage(i2c_usage);
	r = hwb_i2c_transfer(h, bus, addr, msgs, n);
	if (r < 0)
		return i2c_fail(cli, h, r, "transfer");
	for (size_t i = 0; i < n; i++) {
		if (!msgs[i].read)
			continue;
		for (size_t k = 0; k < msgs[i].len; k++)
			printf(cli->json ? "%s%u" : "%s0x%02x",
			       k ? (cli->json ? "," : " ") : (cli->json ? "[" : ""),
			       msgs[i].buf[k]);
		printf(cli->json ? "]\n" : "\n");
	}
	return CLI_OK;
}

static json_t *i2c_allowed(struct cli *cli, struct hwb *h, unsigned bus, int *rc)
{
	json_t *reply, *b, *found = NULL;
	size_t i;

	*rc = cli_call(cli, h, "GET", "/v1/i2c", NULL, &reply);
	if (*rc)
		return NULL;
	json_array_foreach(json_object_get(reply, "buses"), i,
	                   b) if ((unsigned)json_integer_value(json_object_get(b, "bus")) == bus)
	        found = json_incref(json_object_get(b, "addresses"));
	json_decref(reply);
	return found ? found : json_array();
}

/* i2cdetect's grid, over the addresses this service may use only. */
static int i2c_detect(struct cli *cli, struct hwb *h, unsigned bus)
{
	bool allowed[128] = {false}, present[128] = {false};
	json_t *addrs = NULL, *a;
	size_t i;
	int rc;

	addrs = i2c_allowed(cli, h, bus, &rc);
	if (!addrs)
		return rc;
	json_array_foreach(addrs, i, a)
	{
		unsigned long v;
		if (i2c_num(json_string_value(json_object_get(a, "address")), 127, &v) == 0)
			allowed[v] = true;
	}
	json_decref(addrs);
	for (unsigned addr = 0; addr < 128; addr++) {
		if (!allowed[addr])
			continue;
		int r = hwb_smbus_read_byte(h, bus, addr);
		if (r >= 0)
			present[addr] = true;
		else if (r != -EREMOTEIO)
			return i2c_fail(cli, h, r, "detect");
	}
	if (cli->json) {
		printf("[");
		for (unsigned addr = 0, first = 1; addr < 128; addr++)
			if (present[addr]) {
				printf("%s\"0x%02x\"", first ? "" : ",", addr);
				first = 0;
			}
		printf("]\n");
		return CLI_OK;
	}
	printf("     0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f\n");
	for (unsigned row = 0; row < 128; row += 16) {
		printf("%02x:", row);
		for (unsigned addr = row; addr < row + 16; addr++)
			printf(present[addr] ? " %02x" : allowed[addr] ? " --" : "   ", addr);
		printf("\n");
	}
	return CLI_OK;
}

static int i2c_list(struct cli *cli, struct hwb *h)
{
	json_t *reply, *b, *a;
	size_t i, k;
	int r = cli_call(cli, h, "GET", "/v1/i2c", NULL, &reply);

	if (r)
		return r;
	if (cli->json)
		cli_print_json(reply);
	else
		json_array_foreach(json_object_get(reply, "buses"), i, b)
		{
			printf("%lld", (long long)json_integer_value(json_object_get(b, "bus")));
			json_array_foreach(json_object_get(b, "addresses"), k, a) printf(
			        " %s%s", json_string_value(json_object_get(a, "address")),
			        strcmp(json_string_value(json_object_get(a, "access")) ?: "", "ro")
			                ? ""
			                : "(ro)");
			printf("\n");
		}
	json_decref(reply);
	return CLI_OK;
}

static int i2c_run(struct cli *cli, int argc, char **argv)
{
	unsigned long bus = 0, addr = 0;
	struct hwb *h;
	int r;

	if (cli_wants_help(argc, argv)) {
		fputs(i2c_usage, stdout);
		return CLI_OK;
	}
	if (argc < 2)
		return cli_usage(i2c_usage);
	const char *cmd = argv[1];
	bool list = !strcmp(cmd, "list") && argc == 2, detect = !strcmp(cmd, "detect") && argc == 3;
	bool rw = (!strcmp(cmd, "get") || !strcmp(cmd, "set") || !strcmp(cmd, "transfer")) &&
	          argc >= 4;
	if (!list && !detect && !rw)
		return cli_usage(i2c_usage);
	if ((detect || rw) && i2c_num(argv[2], 1023, &bus) < 0)
		return cli_usage(i2c_usage);
	if (rw && i2c_num(argv[3], 0x7f, &addr) < 0)
		return cli_usage(i2c_usage);
	if (!strcmp(cmd, "get") && argc != 4 && argc != 5 && argc != 6)
		return cli_usage(i2c_usage);
	h = cli_connect(cli);
	if (!h)
		return CLI_FAIL;
	if (list)
		r = i2c_list(cli, h);
	else if (detect)
		r = i2c_detect(cli, h, (unsigned)bus);
	else if (!strcmp(cmd, "get"))
		r = i2c_get(cli, h, argc, argv, (unsigned)bus, (unsigned)addr);
	else if (!strcmp(cmd, "set"))
		r = i2c_set(cli, h, argc, argv, (unsigned)bus, (unsigned)addr);
	else
		r = i2c_transfer(cli, h, argc, argv, (unsigned)bus, (unsigned)addr);
	hwb_close(h);
	return r;
}

const struct cli_command cli_cmd_i2c = {"i2c", "I2C: list, get, set, transfer, detect", i2c_run};
