/* SPDX-License-Identifier: GPL-2.0-or-later */
/* io.hwbroker.* label grammars (docs/policy.md, "Labels"):
 *   gpio   CHIP=LINES[;CHIP=LINES]   LINES: * | ITEM[,ITEM]  ITEM: N | N-M | NAME
 *   i2c    BUS=ADDRS[;BUS=ADDRS]     ADDRS: * | ITEM[,ITEM]  ITEM: A | A-B (hex or decimal)
 *   uart   PORT[,PORT]
 *   host   ACTION[,ACTION]           reboot poweroff hostname time units
 *   units  UNIT[,UNIT]
 * Errors carry the 0-based position in the value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_private.h"

struct lex {
	const char *s;
	size_t pos;
	const char *label;
	struct policy_errors *e;
	bool failed;
};

static void lex_ws(struct lex *l)
{
	while (l->s[l->pos] == ' ' || l->s[l->pos] == '\t')
		l->pos++;
}

static bool lex_accept(struct lex *l, char c)
{
	lex_ws(l);
	if (l->s[l->pos] != c)
		return false;
	l->pos++;
	return true;
}

static void lex_fail(struct lex *l, size_t pos, const char *what)
{
	if (l->failed)
		return;
	l->failed = true;
	if (l->s[pos])
		policy_error(l->e, l->label, (long)pos, "%s at position %zu (near \"%.12s\")", what,
		             pos, l->s + pos);
	else
		policy_error(l->e, l->label, (long)pos, "%s at position %zu (end of value)", what,
		             pos);
}

/* A run of characters from set; returns its length (0: none). */
static size_t lex_token(struct lex *l, const char *set, char *out, size_t outlen)
{
	size_t start, len;

	lex_ws(l);
	start = l->pos;
	while (l->s[l->pos] && strchr(set, l->s[l->pos]))
		l->pos++;
	len = l->pos - start;
	if (len >= outlen) {
		lex_fail(l, start, "name too long");
		return 0;
	}
	memcpy(out, l->s + start, len);
	out[len] = '\0';
	return len;
}

#define LEX_DIGITS "0123456789"
#define LEX_NUMBER "0123456789abcdefABCDEFxX"
#define LEX_NAME   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:-"

/* Decimal or 0x hex, at most max. */
static bool lex_number(struct lex *l, unsigned max, unsigned *out)
{
	char tok[16];
	size_t start;
	char *end;
	unsigned long v;

	lex_ws(l);
	start = l->pos;
	if (!lex_token(l, LEX_NUMBER, tok, sizeof(tok)) || !(tok[0] >= '0' && tok[0] <= '9')) {
		lex_fail(l, start, "expected a number");
		return false;
	}
	v = strtoul(tok, &end, (tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) ? 16 : 10);
	if (*end || (tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X') && !tok[2])) {
		lex_fail(l, start, "malformed number");
		return false;
	}
	if (v > max) {
		char msg[64];
		snprintf(msg, sizeof(msg), "number larger than %u", max);
		lex_fail(l, start, msg);
		return false;
	}
	*out = (unsigned)v;
	return true;
}

static bool lex_range(struct lex *l, unsigned max, struct policy_grant *g)
{
	struct policy_range r;
	size_t start = l->pos;

	if (!lex_number(l, max, &r.lo))
		return false;
	r.hi = r.lo;
	if (lex_accept(l, '-') && !lex_number(l, max, &r.hi))
		return false;
	if (r.hi < r.lo) {
		lex_fail(l, start, "range ends before it starts");
		return false;
	}
	if (g->n_ranges == POLICY_MAX_RANGES) {
		lex_fail(l, start, "too many ranges");
		return false;
	}
	g->ranges[g->n_ranges++] = r;
	return true;
}

static bool lex_end_or(struct lex *l, char sep)
{
	lex_ws(l);
	if (!l->s[l->pos] || l->s[l->pos] == sep)
		return true;
	lex_fail(l, l->pos, "unexpected character");
	return false;
}

static bool gpio_add_name(struct policy_grant *g, const char *name)
{
	char **names = realloc(g->names, (g->n_names + 1) * sizeof(*names));

	if (!names)
		return false;
	g->names = names;
	g->names[g->n_names] = strdup(name);
	return g->names[g->n_names++] != NULL;
}

/* LINES of one chip into g. */
static void gpio_parse_lines(struct lex *l, struct policy_grant *g)
{
	if (lex_accept(l, '*')) {
		g->all = true;
		return;
	}
	do {
		char name[64];
		size_t start;
		lex_ws(l);
		start = l->pos;
		if (l->s[l->pos] >= '0' && l->s[l->pos] <= '9') {
			if (!lex_range(l, POLICY_MAX_GPIO_LINE, g))
				return;
		} else if (lex_token(l, LEX_NAME, name, sizeof(name))) {
			if (g->n_names >= POLICY_MAX_RANGES || !gpio_add_name(g, name)) {
				lex_fail(l, start, "too many line names");
				return;
			}
		} else {
			lex_fail(l, start, "expected a line offset, range, name or *");
			return;
		}
	} while (lex_accept(l, ','));
}

void labels_parse_gpio(struct policy *p, struct policy_errors *e, const char *value)
{
	struct lex l = {value, 0, "io.hwbroker.gpio", e, false};

	do {
		char chip[64];
		size_t start;
		struct policy_grant *g;
		lex_ws(&l);
		start = l.pos;
		if (!lex_token(&l, LEX_NAME, chip, sizeof(chip))) {
			lex_fail(&l, start, "expected a chip (gpiochipN, N or its label)");
			return;
		}
		if (!lex_accept(&l, '=')) {
			lex_fail(&l, l.pos, "expected '=' after the chip");
			return;
		}
		g = policy_add_grant(p, e, POLICY_GPIO, POLICY_READ | POLICY_WRITE,
		                     "label io.hwbroker.gpio");
		if (!g)
			return;
		if (strspn(chip, LEX_DIGITS) == strlen(chip))
			snprintf(g->chip, sizeof(g->chip), "gpiochip%.40s", chip);
		else
			snprintf(g->chip, sizeof(g->chip), "%s", chip);
		gpio_parse_lines(&l, g);
		if (l.failed || !lex_end_or(&l, ';'))
			return;
	} while (lex_accept(&l, ';') && l.s[l.pos]);
	lex_end_or(&l, '\0');
}

void labels_parse_i2c(struct policy *p, struct policy_errors *e, const char *value)
{
	struct lex l = {value, 0, "io.hwbroker.i2c", e, false};

	do {
		unsigned bus;
		struct policy_grant *g;
		if (!lex_number(&l, POLICY_MAX_BUS, &bus))
			return;
		if (!lex_accept(&l, '=')) {
			lex_fail(&l, l.pos, "expected '=' after the bus number");
			return;
		}
		g = policy_add_grant(p, e, POLICY_I2C, POLICY_READ | POLICY_WRITE,
		                     "label io.hwbroker.i2c");
		if (!g)
			return;
		g->bus = bus;
		if (lex_accept(&l, '*')) {
			g->all = true;
		} else {
			g->literal = true;
			do {
				if (!lex_range(&l, 0x7f, g))
					return;
			} while (lex_accept(&l, ','));
		}
		if (!lex_end_or(&l, ';'))
			return;
	} while (lex_accept(&l, ';') && l.s[l.pos]);
	lex_end_or(&l, '\0');
}

/* A comma list of names from set; calls add for each. */
static void labels_parse_list(struct lex *l, const char *set, const char *what,
                              bool (*add)(struct policy *, struct policy_errors *, const char *),
                              struct policy *p)
{
	do {
		char name[256];
		size_t start;
		lex_ws(l);
		start = l->pos;
		if (!lex_token(l, set, name, sizeof(name))) {
			lex_fail(l, start, what);
			return;
		}
		if (!add(p, l->e, name)) {
			lex_fail(l, start, what);
			return;
		}
		if (!lex_end_or(l, ','))
			return;
	} while (lex_accept(l, ','));
}

static bool uart_add(struct policy *p, struct policy_errors *e, const char *name)
{
	struct policy_grant *g;
	const char *port = name;

	if (!strncmp(name, "/dev/serial/", 12)) {
		if (strstr(name, "/../") || strstr(name, "/./"))
			return false;
	} else {
		if (!strncmp(name, "/dev/", 5))
			port = name + 5;
		if (strchr(port, '/') || !*port)
			return false;
	}
	g = policy_add_grant(p, e, POLICY_UART, POLICY_READ | POLICY_WRITE,
	                     "label io.hwbroker.uart");
	if (g)
		snprintf(g->port, sizeof(g->port), "%s", port);
	return g != NULL;
}

void labels_parse_uart(struct policy *p, struct policy_errors *e, const char *value)
{
	struct lex l = {value, 0, "io.hwbroker.uart", e, false};

	labels_parse_list(&l, LEX_NAME "/+",
	                  "expected a port name (ttyACM0, serial0, /dev/serial/...)", uart_add, p);
}

static bool host_add(struct policy *p, struct policy_errors *e, const char *name)
{
	static const char *const actions[] = {"reboot", "poweroff", "hostname", "time", "units"};
	struct policy_grant *g;

	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(name, actions[i]))
			continue;
		for (size_t j = 0; j < p->n; j++)
			if (p->grants[j].kind == POLICY_HOST && !strcmp(p->grants[j].action, name))
				return true;
		g = policy_add_grant(p, e, POLICY_HOST, POLICY_READ | POLICY_WRITE,
		                     "label io.hwbroker.host");
		if (g)
			snprintf(g->action, sizeof(g->action), "%s", name);
		return g != NULL;
	}
	return false;
}

void labels_parse_host(struct policy *p, struct policy_errors *e, const char *value)
{
	struct lex l = {value, 0, "io.hwbroker.host", e, false};

	labels_parse_list(&l, LEX_NAME, "expected one of reboot, poweroff, hostname, time, units",
	                  host_add, p);
}

bool labels_valid_unit(const char *name)
{
	static const char *const suffixes[] = {".service", ".socket", ".timer", ".target",
	                                       ".path",    ".mount",  ".scope"};
	size_t len = strlen(name);

	if (len < 3 || len > 255 || name[0] == '.' || name[0] == '-')
		return false;
	if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_.@\\-") !=
	    len)
		return false;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = strlen(suffixes[i]);
		if (len > sl && !strcmp(name + len - sl, suffixes[i]))
			return true;
	}
	return false;
}

static bool unit_add(struct policy *p, struct policy_errors *e, const char *name)
{
	struct policy_grant *g;

	if (!labels_valid_unit(name))
		return false;
	g = policy_add_grant(p, e, POLICY_UNIT, POLICY_READ | POLICY_WRITE,
	                     "label io.hwbroker.units");
	if (g)
		snprintf(g->unit, sizeof(g->unit), "%s", name);
	return g != NULL;
}

void labels_parse_units(struct policy *p, struct policy_errors *e, const char *value)
{
	struct lex l = {value, 0, "io.hwbroker.units", e, false};

	labels_parse_list(&l, LEX_NAME "@\\",
	                  "expected a unit name with its type (my-agent.service)", unit_add, p);
}

bool labels_truthy(const char *value)
{
	if (!value)
		return false;
	return !strcasecmp(value, "1") || !strcasecmp(value, "true") || !strcasecmp(value, "yes") ||
	       !strcasecmp(value, "on");
}

bool policy_valid_unit_name(const char *name)
{
	return name && labels_valid_unit(name);
}

bool labels_falsy(const char *value)
{
	static const char *const no[] = {"0", "false", "no", "off"};

	for (size_t i = 0; value && i < sizeof(no) / sizeof(no[0]); i++)
		if (!strcasecmp(value, no[i]))
			return true;
	return false;
}
