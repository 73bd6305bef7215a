/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hwbroker i2c ...: i2c-tools habits (i2cdetect, i2cdump, i2cget, i2cset,
 * i2ctransfer: their arguments, mode letters and output) through the broker. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hwbroker.h"

#define I2C_BLOCK_MAX 32
#define I2C_XFER_MAX  42 /* i2ctransfer's limit; the broker may take fewer */

static const struct cli_sub i2c_subs[] = {
        {"list", "", "buses and the addresses this service may use"},
        {"detect", "[-y] [-a] [-q|-r] BUS [FIRST LAST]",
         "probe the addresses this service may use: i2cdetect's grid"},
        {"dump", "[-y] [-r FIRST-LAST] BUS ADDR [b|i]",
         "read every register of a device: i2cdump's table"},
        {"get", "[-y] [-a] BUS ADDR [REG [b|w|c|s|i [LENGTH]]]",
         "read a byte, a word or a block, like i2cget"},
        {"set", "[-y] [-a] [-r] [-m MASK] BUS ADDR REG [VALUE...] [c|b|w|s|i]",
         "write a byte, a word or a block, like i2cset"},
        {"transfer", "[-y] [-a] BUS {r|w}LENGTH[@ADDR] [DATA...]...",
         "one combined transaction, like i2ctransfer"},
        {NULL, NULL, NULL},
};

static const char i2c_details[] =
        "BUS: 1 for /dev/i2c-1. ADDR: 0x03-0x77 (with -a 0x00-0x7f; the policy decides).\n"
        "Numbers are decimal or 0x hex; output is hex, as i2c-tools print it. -y is accepted\n"
        "and changes nothing: no command asks for confirmation.\n\n"
        "Modes: b byte data (the default), w word data, c a byte without a register\n"
        "(get: write REG, then read a byte; set: write REG alone), s SMBus block, i I2C block\n"
        "(get: LENGTH bytes, 1-32, default 32). set: -m MASK changes only the bits in MASK,\n"
        "-r reads the value back.\n\n"
        "transfer: each message is rLENGTH or wLENGTH, the first with @ADDR, a write\n"
        "followed by its LENGTH data bytes. A data byte ending in = repeats, + counts up,\n"
        "- counts down, p makes pseudo-random bytes for the rest of its message:\n"
        "  hwbroker i2c transfer 1 w2@0x50 0x00 0x10 r16    hwbroker i2c transfer 1 w9@0x50 0x20 "
        "0x00+\n"
        "Each read prints as one line of hex bytes. (The older form BUS ADDR w:0x20,0x21 r:2\n"
        "still works.)\n\n"
        "detect: ADDR answered, -- no answer, UU in use by a kernel driver, XX the probe\n"
        "failed (the reasons follow the grid, exit status 1); blank: not probed, because this\n"
        "service may not use it or it is outside FIRST-LAST. Probes are a quick write, or a\n"
        "byte read at 0x30-0x37 and 0x50-0x5f and for read-only grants (-q, -r force one).\n"
        "dump: XX marks a register that could not be read.\n";

#define I2C_BAD(sub, ...) cli_bad(&cli_cmd_i2c, sub, __VA_ARGS__)

struct i2c_args {
	const char *sub;
	bool all; /* -a */
	unsigned bus, addr;
};

/* Drops -y (nothing asks for confirmation), takes -a, refuses -f and other
 * unknown options. Options of the subcommand must be taken before. */
static int i2c_common_flags(struct i2c_args *a, int *argc, char **argv)
{
	cli_take_flag(argc, argv, "-y");
	a->all = cli_take_flag(argc, argv, "-a") > 0;
	for (int i = 2; i < *argc; i++) {
		if (argv[i][0] != '-' || !argv[i][1])
			continue;
		if (!strcmp(argv[i], "-f"))
			return I2C_BAD(a->sub, "-f is not available: the broker never takes an "
			                       "address from a kernel driver");
		return I2C_BAD(a->sub, "unknown option '%s'", argv[i]);
	}
	return CLI_OK;
}

static int i2c_bus_arg(struct i2c_args *a, const char *s)
{
	unsigned long v;

	if (!s)
		return I2C_BAD(a->sub, "missing BUS");
	if (cli_parse_num(s, 0, 1023, &v) < 0)
		return I2C_BAD(a->sub, "bad bus '%s' (0-1023)", s);
	a->bus = (unsigned)v;
	return CLI_OK;
}

static int i2c_addr_parse(const struct i2c_args *a, const char *s, const char *what, unsigned *out)
{
	unsigned long v, lo = a->all ? 0x00 : 0x03, hi = a->all ? 0x7f : 0x77;

	if (!s)
		return I2C_BAD(a->sub, "missing %s", what);
	if (cli_parse_num(s, lo, hi, &v) < 0)
		return I2C_BAD(a->sub, "bad %s '%s' (0x%02lx-0x%02lx)",
		               !strcmp(what, "ADDR") ? "address" : what, s, lo, hi);
	*out = (unsigned)v;
	return CLI_OK;
}

static int i2c_byte_arg(const char *sub, const char *s, const char *what, unsigned long max,
                        unsigned long *out)
{
	if (cli_parse_num(s, 0, max, out) < 0)
		return I2C_BAD(sub, "bad %s '%s' (0x00-0x%0*lx)", what, s, max > 0xff ? 4 : 2, max);
	return CLI_OK;
}

/* A mode letter out of allowed; the p (PEC) suffix of i2c-tools is refused. */
static int i2c_mode_arg(const char *sub, const char *s, const char *allowed, char *mode)
{
	if (strlen(s) == 2 && s[1] == 'p' && strchr(allowed, s[0]))
		return I2C_BAD(sub, "mode '%s': PEC is not available through the broker", s);
	if (strlen(s) != 1 || !strchr(allowed, s[0])) {
		char list[32] = "";
		for (const char *p = allowed; *p; p++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%c",
			         p == allowed ? ""
			         : p[1]       ? ", "
			                      : " or ",
			         *p);
		return I2C_BAD(sub, "bad mode '%s' (%s)", s, list);
	}
	*mode = s[0];
	return CLI_OK;
}

static bool i2c_is_mode(const char *s)
{
	return (strlen(s) == 1 || (strlen(s) == 2 && s[1] == 'p')) && strchr("bwcsi", s[0]);
}

static struct hwb *i2c_connect(struct cli *cli)
{
	return cli_connect(cli);
}

static void i2c_print_bytes(struct cli *cli, const uint8_t *data, int n)
{
	for (int i = 0; i < n; i++)
		printf(cli->json ? "%s%u" : "%s0x%02x", i ? (cli->json ? "," : " ") : "", data[i]);
}

static int i2c_fail(struct cli *cli, struct hwb *h, int r, const char *sub)
{
	char what[32];

	snprintf(what, sizeof(what), "i2c %s", sub);
	return cli_fail(cli, h, r, what);
}

/* i2cget BUS ADDR [REG [MODE [LENGTH]]] */
static int i2c_get(struct cli *cli, int argc, char **argv)
{
	struct i2c_args a = {.sub = "get"};
	unsigned long reg = 0, length = I2C_BLOCK_MAX;
	uint8_t block[I2C_BLOCK_MAX];
	char mode = 'b';
	struct hwb *h;
	int r;

	if ((r = i2c_common_flags(&a, &argc, argv)) || (r = i2c_bus_arg(&a, argv[2])) ||
	    (r = i2c_addr_parse(&a, argc > 3 ? argv[3] : NULL, "ADDR", &a.addr)))
		return r;
	if (argc > 7)
		return I2C_BAD(a.sub, "unexpected argument '%s'", argv[7]);
	if (argc > 4 && (r = i2c_byte_arg(a.sub, argv[4], "register", 0xff, &reg)))
		return r;
	if (argc > 5 && (r = i2c_mode_arg(a.sub, argv[5], "bwcsi", &mode)))
		return r;
	if (argc > 6 && mode != 'i')
		return I2C_BAD(a.sub, "LENGTH '%s' goes only with mode i", argv[6]);
	if (argc > 6 && cli_parse_num(argv[6], 1, I2C_BLOCK_MAX, &length) < 0)
		return I2C_BAD(a.sub, "bad length '%s' (1-32)", argv[6]);
	if (!(h = i2c_connect(cli)))
		return CLI_FAIL;
	if (argc == 4) {
		r = hwb_smbus_read_byte(h, a.bus, a.addr);
	} else if (mode == 'b') {
		r = hwb_smbus_read_byte_data(h, a.bus, a.addr, (uint8_t)reg);
	} else if (mode == 'w') {
		r = hwb_smbus_read_word_data(h, a.bus, a.addr, (uint8_t)reg);
	} else if (mode == 'c') {
		/* i2cget's c: the register goes out alone, then a plain byte read */
		r = hwb_smbus_write_byte(h, a.bus, a.addr, (uint8_t)reg);
		if (r >= 0)
			r = hwb_smbus_read_byte(h, a.bus, a.addr);
	} else if (mode == 's') {
		r = hwb_smbus_read_block_data(h, a.bus, a.addr, (uint8_t)reg, block);
	} else {
		r = hwb_smbus_read_i2c_block_data(h, a.bus, a.addr, (uint8_t)reg, (uint8_t)length,
		                                  block);
	}
	if (r < 0) {
		r = i2c_fail(cli, h, r, a.sub);
	} else if (argc > 5 && (mode == 's' || mode == 'i')) {
		fputs(cli->json ? "{\"data\":[" : "", stdout);
		i2c_print_bytes(cli, block, r);
		fputs(cli->json ? "]}\n" : "\n", stdout);
		r = CLI_OK;
	} else {
		if (cli->json)
			printf("{\"value\":%d}\n", r);
		else
			printf(argc > 5 && mode == 'w' ? "0x%04x\n" : "0x%02x\n", r);
		r = CLI_OK;
	}
	hwb_close(h);
	return r;
}

/* i2cset BUS ADDR REG [VALUE...] [MODE] */
static int i2c_set(struct cli *cli, int argc, char **argv)
{
	struct i2c_args a = {.sub = "set"};
	const char *mask_arg = NULL;
	unsigned long reg, value = 0, mask = 0, v;
	uint8_t block[I2C_BLOCK_MAX];
	int nvalues, r;
	char mode;
	bool readback;
	struct hwb *h;

	if (cli_take_option(&argc, argv, "-m", &mask_arg) < 0)
		return I2C_BAD(a.sub, "-m needs a MASK");
	readback = cli_take_flag(&argc, argv, "-r") > 0;
	if ((r = i2c_common_flags(&a, &argc, argv)) || (r = i2c_bus_arg(&a, argv[2])) ||
	    (r = i2c_addr_parse(&a, argc > 3 ? argv[3] : NULL, "ADDR", &a.addr)))
		return r;
	if (argc < 5)
		return I2C_BAD(a.sub, "missing REG");
	if ((r = i2c_byte_arg(a.sub, argv[4], "register", 0xff, &reg)))
		return r;
	nvalues = argc - 5;
	if (nvalues > 0 && i2c_is_mode(argv[argc - 1])) {
		if ((r = i2c_mode_arg(a.sub, argv[argc - 1], "cbwsi", &mode)))
			return r;
		nvalues--;
	} else {
		mode = nvalues == 0 ? 'c' : 'b';
	}
	if (mode == 'c' && nvalues)
		return I2C_BAD(a.sub, "mode c takes no VALUE ('%s')", argv[5]);
	if ((mode == 'b' || mode == 'w') && nvalues != 1)
		return I2C_BAD(a.sub,
		               nvalues ? "mode %c takes one VALUE (several need s or i)"
		                       : "mode %c needs a VALUE",
		               mode);
	if ((mode == 's' || mode == 'i') && (nvalues < 1 || nvalues > I2C_BLOCK_MAX))
		return I2C_BAD(a.sub, "mode %c takes 1 to 32 VALUEs", mode);
	for (int i = 0; i < nvalues; i++) {
		if ((r = i2c_byte_arg(a.sub, argv[5 + i], "value", mode == 'w' ? 0xffff : 0xff,
		                      &v)))
			return r;
		if (mode == 's' || mode == 'i')
			block[i] = (uint8_t)v;
		value = v;
	}
	if (mask_arg && mode != 'b' && mode != 'w')
		return I2C_BAD(a.sub, "-m goes only with modes b and w");
	if (mask_arg &&
	    (r = i2c_byte_arg(a.sub, mask_arg, "mask", mode == 'w' ? 0xffff : 0xff, &mask)))
		return r;
	if (readback && (mode == 's' || mode == 'i'))
		return I2C_BAD(a.sub, "-r does not go with block modes");
	if (!(h = i2c_connect(cli)))
		return CLI_FAIL;
	if (mask_arg) {
		r = mode == 'w' ? hwb_smbus_read_word_data(h, a.bus, a.addr, (uint8_t)reg)
		                : hwb_smbus_read_byte_data(h, a.bus, a.addr, (uint8_t)reg);
		if (r < 0)
			goto fail;
		value = (value & mask) | ((unsigned long)r & ~mask);
	}
	switch (mode) {
	case 'c':
		r = hwb_smbus_write_byte(h, a.bus, a.addr, (uint8_t)reg);
		break;
	case 'b':
		r = hwb_smbus_write_byte_data(h, a.bus, a.addr, (uint8_t)reg, (uint8_t)value);
		break;
	case 'w':
		r = hwb_smbus_write_word_data(h, a.bus, a.addr, (uint8_t)reg, (uint16_t)value);
		break;
	case 's':
		r = hwb_smbus_write_block_data(h, a.bus, a.addr, (uint8_t)reg, (uint8_t)nvalues,
		                               block);
		break;
	default:
		r = hwb_smbus_write_i2c_block_data(h, a.bus, a.addr, (uint8_t)reg, (uint8_t)nvalues,
		                                   block);
	}
	if (r < 0)
		goto fail;
	r = CLI_OK;
	if (readback) {
		/* i2cset's readback report, its wording included */
		int width = mode == 'w' ? 4 : 2, back;
		if (mode == 'c') {
			value = reg;
			back = hwb_smbus_read_byte(h, a.bus, a.addr);
		} else if (mode == 'w') {
			back = hwb_smbus_read_word_data(h, a.bus, a.addr, (uint8_t)reg);
		} else {
			back = hwb_smbus_read_byte_data(h, a.bus, a.addr, (uint8_t)reg);
		}
		if (back < 0)
			printf("Warning - readback failed\n");
		else if ((unsigned long)back != value)
			printf("Warning - data mismatch - wrote 0x%0*lx, read back 0x%0*x\n", width,
			       value, width, back);
		else
			printf("Value 0x%0*lx written, readback matched\n", width, value);
	}
	hwb_close(h);
	return r;
fail:
	r = i2c_fail(cli, h, r, a.sub);
	hwb_close(h);
	return r;
}

struct i2c_xfer {
	struct hwb_i2c_msg msgs[I2C_XFER_MAX];
	size_t n;
	int addr; /* -1: none given yet */
};

/* Every buffer, also of a message left half-parsed. */
static void i2c_xfer_free(struct i2c_xfer *x)
{
	for (size_t i = 0; i < I2C_XFER_MAX; i++)
		free(x->msgs[i].buf);
}

/* i2ctransfer's message syntax: {r|w}LENGTH[@ADDR], a write followed by its
 * data bytes, each optionally suffixed =, +, - or p to fill the rest. */
static int i2c_xfer_parse(struct i2c_args *a, struct i2c_xfer *x, int argc, char **argv)
{
	struct hwb_i2c_msg *m = NULL;
	size_t filled = 0;
	char *end;

	x->addr = -1;
	for (int i = 3; i < argc; i++) {
		const char *arg = argv[i];
		if (m) { /* a data byte of the write being filled */
			unsigned long d = strtoul(arg, &end, 0);
			if (end == arg || *arg == '-' || d > 0xff)
				return I2C_BAD(a->sub, "bad data byte '%s' (0x00-0xff)", arg);
			if (*end && (end[1] || !strchr("=+-p", *end)))
				return I2C_BAD(a->sub, "bad suffix in '%s' (=, +, - or p)", arg);
			uint8_t b = (uint8_t)d;
			while (filled < m->len) {
				m->buf[filled++] = b;
				if (!*end)
					break;
				if (*end == '+')
					b++;
				else if (*end == '-')
					b--;
				else if (*end == 'p') { /* i2ctransfer's 8-bit sequence */
					b = (uint8_t)((b ^ 27) + 13);
					b = (uint8_t)((b << 1) | (b >> 7));
				}
			}
			if (filled == m->len) {
				m = NULL;
				x->n++;
			}
			continue;
		}
		if (arg[0] != 'r' && arg[0] != 'w')
			return I2C_BAD(a->sub,
			               "bad message '%s' (rLENGTH or wLENGTH, e.g. w1@0x50)", arg);
		if (arg[1] == '?')
			return I2C_BAD(a->sub,
			               "'%s': a length from the first byte read is not "
			               "available through the broker",
			               arg);
		unsigned long len = strtoul(arg + 1, &end, 0);
		if (end == arg + 1 || arg[1] == '-' || len > 0xffff)
			return I2C_BAD(a->sub, "bad length in '%s'", arg);
		if (*end && *end != '@')
			return I2C_BAD(a->sub,
			               "bad message '%s' (rLENGTH[@ADDR] or wLENGTH[@ADDR])", arg);
		if (*end) {
			unsigned addr = 0;
			int r = i2c_addr_parse(a, end + 1, "address", &addr);
			if (r)
				return r;
			if (x->addr >= 0 && (unsigned)x->addr != addr)
				return I2C_BAD(a->sub,
				               "'%s': messages to 0x%02x and 0x%02x: one transfer "
				               "reaches one address through the broker",
				               arg, x->addr, addr);
			x->addr = (int)addr;
		}
		if (x->addr < 0)
			return I2C_BAD(a->sub,
			               "'%s': no address yet (the first message needs one, "
			               "e.g. w1@0x50)",
			               arg);
		if (x->n == I2C_XFER_MAX)
			return I2C_BAD(a->sub, "more than %d messages", I2C_XFER_MAX);
		m = &x->msgs[x->n];
		*m = (struct hwb_i2c_msg)HWB_I2C_MSG_INIT;
		m->len = (uint16_t)len;
		m->read = arg[0] == 'r';
		m->buf = malloc(len ? len : 1);
		if (!m->buf)
			return CLI_FAIL;
		filled = 0;
		if (m->read || !len) {
			m = NULL;
			x->n++;
		}
	}
	if (m) {
		return I2C_BAD(a->sub, "incomplete message: %zu of %u data bytes", filled, m->len);
	}
	if (!x->n)
		return I2C_BAD(a->sub, "no message");
	return CLI_OK;
}

/* The form before i2ctransfer's syntax: BUS ADDR w:0xF7[,...] r:N. */
static int i2c_xfer_parse_old(struct i2c_args *a, struct i2c_xfer *x, int argc, char **argv)
{
	int r = i2c_addr_parse(a, argv[3], "ADDR", &a->addr);

	if (r)
		return r;
	x->addr = (int)a->addr;
	for (int i = 4; i < argc; i++, x->n++) {
		struct hwb_i2c_msg *m = &x->msgs[x->n];
		unsigned long v;
		if (x->n == I2C_XFER_MAX)
			return I2C_BAD(a->sub, "more than %d messages", I2C_XFER_MAX);
		*m = (struct hwb_i2c_msg)HWB_I2C_MSG_INIT;
		if (!(m->buf = malloc(256)))
			return CLI_FAIL;
		if (!strncmp(argv[i], "r:", 2)) {
			if (cli_parse_num(argv[i] + 2, 1, 256, &v) < 0)
				return I2C_BAD(a->sub, "bad read '%s' (r:1 to r:256)", argv[i]);
			m->len = (uint16_t)v;
			m->read = 1;
		} else if (!strncmp(argv[i], "w:", 2)) {
			char *save = NULL, *tok, copy[1024];
			snprintf(copy, sizeof(copy), "%s", argv[i] + 2);
			for (tok = strtok_r(copy, ",", &save); tok;
			     tok = strtok_r(NULL, ",", &save)) {
				if (cli_parse_num(tok, 0, 255, &v) < 0 || m->len == 256)
					return I2C_BAD(a->sub, "bad byte '%s' in '%s'", tok,
					               argv[i]);
				m->buf[m->len++] = (uint8_t)v;
			}
		} else {
			return I2C_BAD(a->sub, "bad message '%s' (w:BYTE[,BYTE...] or r:N)",
			               argv[i]);
		}
	}
	if (!x->n)
		return I2C_BAD(a->sub, "no message");
	return CLI_OK;
}

static int i2c_transfer(struct cli *cli, int argc, char **argv)
{
	struct i2c_args a = {.sub = "transfer"};
	struct i2c_xfer x = {.n = 0}; /* all buffers NULL until parsed */
	unsigned long dummy;
	struct hwb *h = NULL;
	bool first = true;
	int r;

	if ((r = i2c_common_flags(&a, &argc, argv)) || (r = i2c_bus_arg(&a, argv[2])))
		return r;
	if (argc < 4)
		return I2C_BAD(a.sub, "missing a message (e.g. w1@0x50 0x00 r2)");
	r = cli_parse_num(argv[3], 0, 0x7f, &dummy) == 0 ? i2c_xfer_parse_old(&a, &x, argc, argv)
	                                                 : i2c_xfer_parse(&a, &x, argc, argv);
	if (r)
		goto out;
	if (!(h = i2c_connect(cli))) {
		r = CLI_FAIL;
		goto out;
	}
	r = hwb_i2c_transfer(h, a.bus, (unsigned)x.addr, x.msgs, x.n);
	if (r < 0) {
		r = i2c_fail(cli, h, r, a.sub);
		goto out;
	}
	if (cli->json)
		printf("{\"reads\":[");
	for (size_t i = 0; i < x.n; i++) {
		if (!x.msgs[i].read)
			continue;
		if (cli->json) {
			printf("%s[", first ? "" : ",");
			i2c_print_bytes(cli, x.msgs[i].buf, x.msgs[i].len);
			printf("]");
		} else if (x.msgs[i].len) { /* i2ctransfer prints nothing for r0 */
			i2c_print_bytes(cli, x.msgs[i].buf, x.msgs[i].len);
			printf("\n");
		}
		first = false;
	}
	if (cli->json)
		printf("]}\n");
	r = CLI_OK;
out:
	hwb_close(h);
	i2c_xfer_free(&x);
	return r;
}

/* Errors about the whole device or the broker, not one register (refused,
 * no such bus, a kernel driver owns the device, no reply): dump stops. */
static bool i2c_fatal(struct hwb *h, int r)
{
	return r == -EACCES || r == -ENOENT || r == -EBUSY || hwb_last_status(h) == 0;
}

/* i2cdump [-r FIRST-LAST] BUS ADDR [b|i]: the 16x16 table and its ASCII column. */
static int i2c_dump(struct cli *cli, int argc, char **argv)
{
	struct i2c_args a = {.sub = "dump"};
	const char *range = NULL;
	unsigned long first = 0, last = 0xff;
	int data[256];
	char mode = 'b';
	struct hwb *h;
	int r;

	if (cli_take_option(&argc, argv, "-r", &range) < 0)
		return I2C_BAD(a.sub, "-r needs FIRST-LAST");
	if ((r = i2c_common_flags(&a, &argc, argv)) || (r = i2c_bus_arg(&a, argv[2])) ||
	    (r = i2c_addr_parse(&a, argc > 3 ? argv[3] : NULL, "ADDR", &a.addr)))
		return r;
	if (argc > 5)
		return I2C_BAD(a.sub, "unexpected argument '%s'", argv[5]);
	if (argc > 4 && (r = i2c_mode_arg(a.sub, argv[4], "bi", &mode)))
		return r;
	if (range) {
		char lo[16], hi[16];
		const char *dash = strchr(range, '-');
		if (!dash || (size_t)(dash - range) >= sizeof(lo) || strlen(dash + 1) >= sizeof(hi))
			return I2C_BAD(a.sub, "bad range '%s' (FIRST-LAST, e.g. 0x00-0x3f)", range);
		snprintf(lo, sizeof(lo), "%.*s", (int)(dash - range), range);
		snprintf(hi, sizeof(hi), "%s", dash + 1);
		if (cli_parse_num(lo, 0, 0xff, &first) < 0 ||
		    cli_parse_num(hi, 0, 0xff, &last) < 0 || first > last)
			return I2C_BAD(a.sub, "bad range '%s' (FIRST-LAST, 0x00-0xff)", range);
	}
	if (!(h = i2c_connect(cli)))
		return CLI_FAIL;
	for (int i = 0; i < 256; i++)
		data[i] = -1;
	for (unsigned long reg = first; reg <= last;) {
		if (mode == 'b') {
			r = hwb_smbus_read_byte_data(h, a.bus, a.addr, (uint8_t)reg);
			if (r >= 0)
				data[reg] = r;
			reg++;
		} else {
			uint8_t block[I2C_BLOCK_MAX];
			unsigned long n =
			        last - reg + 1 < I2C_BLOCK_MAX ? last - reg + 1 : I2C_BLOCK_MAX;
			r = hwb_smbus_read_i2c_block_data(h, a.bus, a.addr, (uint8_t)reg,
			                                  (uint8_t)n, block);
			for (int i = 0; i < r; i++)
				data[reg + (unsigned long)i] = block[i];
			reg += n;
		}
		if (r < 0 && i2c_fatal(h, r)) {
			r = i2c_fail(cli, h, r, a.sub);
			hwb_close(h);
			return r;
		}
	}
	hwb_close(h);
	if (cli->json) {
		printf("{\"bus\":%u,\"address\":\"0x%02x\",\"data\":[", a.bus, a.addr);
		for (int i = 0; i < 256; i++) {
			fputs(i ? "," : "", stdout);
			if (data[i] < 0)
				fputs("null", stdout);
			else
				printf("%d", data[i]);
		}
		printf("]}\n");
		return CLI_OK;
	}
	printf("     0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f    0123456789abcdef\n");
	for (unsigned row = (unsigned)first & ~0xfu; row <= last; row += 16) {
		printf("%02x: ", row);
		for (unsigned i = row; i < row + 16; i++) {
			if (i < first || i > last)
				printf("   ");
			else if (data[i] < 0)
				printf("XX ");
			else
				printf("%02x ", data[i]);
		}
		printf("   ");
		for (unsigned i = row; i < row + 16; i++) {
			int c = data[i];
			if (i < first || i > last)
				putchar(' ');
			else if (c < 0)
				putchar('X');
			else if (c == 0x00 || c == 0xff)
				putchar('.');
			else if (c < 32 || c >= 127)
				putchar('?');
			else
				putchar(c);
		}
		putchar('\n');
	}
	return CLI_OK;
}

/* Addresses of bus this service may use: allowed[a] = 1 (ro) or 2 (rw). */
static int i2c_allowed(struct cli *cli, struct hwb *h, unsigned bus, int allowed[128], bool *found)
{
	json_t *reply, *b, *e;
	size_t i, k;
	int rc = cli_call(cli, h, "GET", "/v1/i2c", NULL, &reply);

	*found = false;
	if (rc)
		return rc;
	json_array_foreach(json_object_get(reply, "buses"), i, b)
	{
		if ((unsigned)json_integer_value(json_object_get(b, "bus")) != bus)
			continue;
		*found = true;
		json_array_foreach(json_object_get(b, "addresses"), k, e)
		{
			unsigned long v;
			const char *access = json_string_value(json_object_get(e, "access"));
			if (cli_parse_num(json_string_value(json_object_get(e, "address")), 0, 127,
			                  &v) == 0)
				allowed[v] = access && !strcmp(access, "ro") ? 1 : 2;
		}
	}
	json_decref(reply);
	return CLI_OK;
}

enum i2c_probe { PROBE_NONE, PROBE_PRESENT, PROBE_ABSENT, PROBE_BUSY, PROBE_FAILED };

/* i2cdetect [-a] [-q|-r] BUS [FIRST LAST]: its grid, over the addresses this
 * service may use. One address failing does not stop the scan. */
static int i2c_detect(struct cli *cli, int argc, char **argv)
{
	struct i2c_args a = {.sub = "detect"};
	int allowed[128] = {0}, r, rc = CLI_OK;
	enum i2c_probe result[128] = {PROBE_NONE};
	json_t *failures = json_array();
	unsigned first, last;
	bool quick, read, found;
	struct hwb *h = NULL;

	quick = cli_take_flag(&argc, argv, "-q") > 0;
	read = cli_take_flag(&argc, argv, "-r") > 0;
	if ((r = i2c_common_flags(&a, &argc, argv)) || (r = i2c_bus_arg(&a, argv[2])))
		goto out;
	first = a.all ? 0x00 : 0x03;
	last = a.all ? 0x7f : 0x77;
	if (quick && read) {
		r = I2C_BAD(a.sub, "-q and -r exclude each other");
		goto out;
	}
	if (argc == 4 || argc > 5) {
		r = argc == 4 ? I2C_BAD(a.sub, "FIRST without LAST")
		              : I2C_BAD(a.sub, "unexpected argument '%s'", argv[5]);
		goto out;
	}
	if (argc == 5 && ((r = i2c_addr_parse(&a, argv[3], "FIRST", &first)) ||
	                  (r = i2c_addr_parse(&a, argv[4], "LAST", &last))))
		goto out;
	if (first > last) {
		r = I2C_BAD(a.sub, "FIRST 0x%02x is above LAST 0x%02x", first, last);
		goto out;
	}
	if (!(h = i2c_connect(cli))) {
		r = CLI_FAIL;
		goto out;
	}
	if ((r = i2c_allowed(cli, h, a.bus, allowed, &found)))
		goto out;
	if (!found) {
		fprintf(stderr,
		        "%s: i2c detect: bus %u: no address on it is available to this service "
		        "(i2c list shows what is)\n",
		        cli->prog, a.bus);
		r = CLI_FAIL;
		goto out;
	}
	for (unsigned addr = first; addr <= last; addr++) {
		if (!allowed[addr])
			continue;
		/* i2cdetect's choice, except that a quick write needs write access */
		bool by_read =
		        read || (!quick && ((addr >= 0x30 && addr <= 0x37) ||
		                            (addr >= 0x50 && addr <= 0x5f) || allowed[addr] == 1));
		r = by_read ? hwb_smbus_read_byte(h, a.bus, addr)
		            : hwb_smbus_write_quick(h, a.bus, addr, 0);
		if (r >= 0) {
			result[addr] = PROBE_PRESENT;
		} else if (r == -EREMOTEIO) {
			result[addr] = PROBE_ABSENT;
		} else if (r == -EBUSY && hwb_last_status(h) == 409) {
			result[addr] = PROBE_BUSY;
		} else if (hwb_last_status(h) == 0) { /* no broker reply: nothing else will work */
			r = i2c_fail(cli, h, r, a.sub);
			goto out;
		} else {
			result[addr] = PROBE_FAILED;
			json_array_append_new(failures,
			                      json_pack("{s:i,s:s,s:s,s:i}", "address", (int)addr,
			                                "code", hwb_error_code(h), "message",
			                                hwb_error_message(h), "exit",
			                                cli_exit_code(r)));
		}
	}
	if (cli->json) {
		static const char *const keys[] = {NULL, "present", "absent", "busy"};
		json_t *out = json_pack("{s:i,s:[],s:[],s:[],s:[]}", "bus", (int)a.bus, "present",
		                        "absent", "busy", "failed");
		size_t i;
		json_t *f;
		char text[8];
		for (unsigned addr = 0; addr < 128; addr++) {
			snprintf(text, sizeof(text), "0x%02x", addr);
			if (result[addr] >= PROBE_PRESENT && result[addr] <= PROBE_BUSY)
				json_array_append_new(json_object_get(out, keys[result[addr]]),
				                      json_string(text));
		}
		json_array_foreach(failures, i, f)
		{
			snprintf(text, sizeof(text), "0x%02x",
			         (unsigned)json_integer_value(json_object_get(f, "address")));
			json_array_append_new(json_object_get(out, "failed"),
			                      json_pack("{s:s,s:O,s:O}", "address", text, "code",
			                                json_object_get(f, "code"), "message",
			                                json_object_get(f, "message")));
		}
		cli_print_json(out);
		json_decref(out);
	} else {
		printf("     0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f\n");
		for (unsigned row = 0; row < 128; row += 16) {
			printf("%02x: ", row);
			for (unsigned addr = row; addr < row + 16; addr++) {
				switch (result[addr]) {
				case PROBE_PRESENT:
					printf("%02x ", addr);
					break;
				case PROBE_ABSENT:
					printf("-- ");
					break;
				case PROBE_BUSY:
					printf("UU ");
					break;
				case PROBE_FAILED:
					printf("XX ");
					break;
				default:
					printf("   ");
				}
			}
			printf("\n");
		}
	}
	size_t i;
	json_t *f;
	json_array_foreach(failures, i, f)
	{
		fprintf(stderr, "%s: i2c detect: 0x%02x: %s\n", cli->prog,
		        (unsigned)json_integer_value(json_object_get(f, "address")),
		        json_string_value(json_object_get(f, "message")));
		if (rc == CLI_OK)
			rc = (int)json_integer_value(json_object_get(f, "exit"));
	}
	r = rc;
out:
	json_decref(failures);
	hwb_close(h);
	return r;
}

static int i2c_list(struct cli *cli, int argc, char **argv)
{
	json_t *reply, *b, *a;
	struct hwb *h;
	size_t i, k;
	int r;

	if (argc > 2)
		return I2C_BAD("list", "unexpected argument '%s'", argv[2]);
	if (!(h = i2c_connect(cli)))
		return CLI_FAIL;
	r = cli_call(cli, h, "GET", "/v1/i2c", NULL, &reply);
	hwb_close(h);
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
	const char *cmd = argv[1];

	if (!strcmp(cmd, "list"))
		return i2c_list(cli, argc, argv);
	if (!strcmp(cmd, "detect"))
		return i2c_detect(cli, argc, argv);
	if (!strcmp(cmd, "dump"))
		return i2c_dump(cli, argc, argv);
	if (!strcmp(cmd, "get"))
		return i2c_get(cli, argc, argv);
	if (!strcmp(cmd, "set"))
		return i2c_set(cli, argc, argv);
	return i2c_transfer(cli, argc, argv);
}

const struct cli_command cli_cmd_i2c = {"i2c", "I2C: list, detect, dump, get, set, transfer",
                                        i2c_subs, i2c_details, i2c_run};
