/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one decision function, and the words for grants and missing grants. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_private.h"

const char *policy_kind_name(enum policy_kind kind)
{
	static const char *const names[] = {"gpio", "i2c", "uart", "host", "unit"};
	return names[kind];
}

static bool decide_in_ranges(const struct policy_grant *g, unsigned v)
{
	for (size_t i = 0; i < g->n_ranges; i++)
		if (v >= g->ranges[i].lo && v <= g->ranges[i].hi)
			return true;
	return false;
}

static bool decide_gpio(const struct policy_grant *g, const struct policy_request *r)
{
	if (strcmp(g->chip, "*") && strcmp(g->chip, r->chip ? r->chip : "") &&
	    !(r->chip_label && !strcmp(g->chip, r->chip_label)))
		return false;
	if (g->all || decide_in_ranges(g, r->line))
		return true;
	for (size_t i = 0; r->line_name && i < g->n_names; i++)
		if (!strcmp(g->names[i], r->line_name))
			return true;
	return false;
}

static bool decide_i2c(const struct policy_grant *g, const struct policy_request *r)
{
	if (!g->any_bus && g->bus != r->bus)
		return false;
	if (g->literal)
		return decide_in_ranges(g, r->addr);
	return g->all && r->addr >= POLICY_I2C_FIRST && r->addr <= POLICY_I2C_LAST;
}

/* Grants may name /dev/serial/by-id/... links: compare on the tty they resolve to. */
static bool decide_uart(const struct policy_grant *g, const struct policy_request *r)
{
	char resolved[PATH_MAX];
	const char *base;

	if (!strcmp(g->port, "*"))
		return true;
	if (!r->port)
		return false;
	if (g->port[0] != '/')
		return !strcmp(g->port, r->port);
	if (!realpath(g->port, resolved))
		return false;
	base = strrchr(resolved, '/');
	return base && !strcmp(base + 1, r->port);
}

static bool decide_matches(const struct policy_grant *g, const struct policy_request *r)
{
	if (g->kind != r->kind)
		return false;
	switch (r->kind) {
	case POLICY_GPIO:
		return decide_gpio(g, r);
	case POLICY_I2C:
		return decide_i2c(g, r);
	case POLICY_UART:
		return decide_uart(g, r);
	case POLICY_HOST:
		return !strcmp(g->action, "*") || (r->action && !strcmp(g->action, r->action));
	case POLICY_UNIT:
		return !strcmp(g->unit, "*") || (r->unit && !strcmp(g->unit, r->unit));
	}
	return false;
}

static const char *decide_access(unsigned access)
{
	return (access & POLICY_WRITE) ? "rw" : "ro";
}

static void decide_describe_request(const struct policy_request *r, char *buf, size_t len)
{
	switch (r->kind) {
	case POLICY_GPIO:
		if (r->line_name && *r->line_name)
			snprintf(buf, len, "gpio %s line %u (%s) %s", r->chip ? r->chip : "?",
			         r->line, r->line_name, decide_access(r->access));
		else
			snprintf(buf, len, "gpio %s line %u %s", r->chip ? r->chip : "?", r->line,
			         decide_access(r->access));
		break;
	case POLICY_I2C:
		snprintf(buf, len, "i2c bus %u address 0x%02x %s", r->bus, r->addr,
		         decide_access(r->access));
		break;
	case POLICY_UART:
		snprintf(buf, len, "uart %s %s", r->port ? r->port : "?", decide_access(r->access));
		break;
	case POLICY_HOST:
		snprintf(buf, len, "host %s", r->action ? r->action : "?");
		break;
	case POLICY_UNIT:
		snprintf(buf, len, "unit %s", r->unit ? r->unit : "?");
		break;
	}
}

/* The chip part of a gpio label entry ("gpiochip0", "0" or a label) names r's chip? */
static bool decide_entry_is_chip(const char *entry, size_t len, const struct policy_request *r)
{
	char chip[72];

	snprintf(chip, sizeof(chip), "%.*s", (int)(len < 64 ? len : 64), entry);
	while (len && chip[len - 1] == ' ')
		chip[--len] = '\0';
	if (strspn(chip, "0123456789") == strlen(chip) && r->chip &&
	    !strncmp(r->chip, "gpiochip", 8) && !strcmp(r->chip + 8, chip))
		return true;
	return (r->chip && !strcmp(chip, r->chip)) ||
	       (r->chip_label && !strcmp(chip, r->chip_label));
}

/* label with item added to the KEY=LIST entry whose key matches (or a new
 * "KEY=item" entry): how the service's own label would grant r. */
static void decide_widen(const char *label, const char *key, const char *item, bool gpio,
                         const struct policy_request *r, char *buf, size_t len)
{
	const char *entry = label;
	size_t used = 0;
	bool added = false;

	buf[0] = '\0';
	while (entry && *entry) {
		const char *end = strchr(entry, ';'), *eq = strchr(entry, '=');
		size_t elen = end ? (size_t)(end - entry) : strlen(entry);
		bool match = false;
		if (eq && eq < entry + elen) {
			const char *k = entry;
			while (*k == ' ')
				k++;
			match = gpio ? decide_entry_is_chip(k, (size_t)(eq - k), r)
			             : (size_t)(eq - k) == strlen(key) &&
			                        !strncmp(k, key, strlen(key));
		}
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%.*s%s%s",
		                         used ? ";" : "", (int)elen, entry, match ? "," : "",
		                         match ? item : "");
		added |= match;
		entry = end ? end + 1 : NULL;
	}
	if (!added)
		snprintf(buf + used, used < len ? len - used : 0, "%s%s=%s", used ? ";" : "", key,
		         item);
}

static void decide_hint(const struct policy *p, const struct policy_request *r,
                        bool read_only_match, char *buf, size_t len)
{
	const char *chip = r->chip ? r->chip : "gpiochip0";
	const char *label = p ? p->labels[r->kind] : NULL;
	char item[80], widened[200];

	if (read_only_match) {
		snprintf(buf, len,
		         "the grant is read-only: its devices: entry has permissions without 'w' "
		         "(use :rw or :rwm)");
		return;
	}
	switch (r->kind) {
	case POLICY_GPIO:
		/* A label makes the kind's grants exactly its entries: adding a
		 * device would not help a service that has one. */
		if (r->line_name && *r->line_name && r->line > 1023)
			snprintf(item, sizeof(item), "%s", r->line_name);
		else
			snprintf(item, sizeof(item), "%u", r->line);
		if (label) {
			decide_widen(label, chip, item, true, r, widened, sizeof(widened));
			snprintf(buf, len, "widen label io.hwbroker.gpio to \"%s\"", widened);
		} else {
			snprintf(
			        buf, len,
			        "add devices: /dev/%s (the whole chip), or label io.hwbroker.gpio: "
			        "\"%s=%s\" (that line only)",
			        chip, chip, item);
		}
		break;
	case POLICY_I2C:
		snprintf(item, sizeof(item), "0x%02x", r->addr);
		snprintf(widened, sizeof(widened), "%u", r->bus);
		if (label) {
			char key[16];
			snprintf(key, sizeof(key), "%u", r->bus);
			decide_widen(label, key, item, false, r, widened, sizeof(widened));
			snprintf(buf, len, "widen label io.hwbroker.i2c to \"%s\"", widened);
		} else if (r->addr < POLICY_I2C_FIRST || r->addr > POLICY_I2C_LAST) {
			snprintf(buf, len,
			         "reserved I2C addresses need an explicit label io.hwbroker.i2c: "
			         "\"%u=0x%02x\"",
			         r->bus, r->addr);
		} else {
			snprintf(buf, len,
			         "add devices: /dev/i2c-%u (the whole bus), or label "
			         "io.hwbroker.i2c: "
			         "\"%u=0x%02x\" (that address only)",
			         r->bus, r->bus, r->addr);
		}
		break;
	case POLICY_UART:
		if (label)
			snprintf(buf, len, "widen label io.hwbroker.uart to \"%s,%s\"", label,
			         r->port ? r->port : "ttyX");
		else
			snprintf(buf, len, "add devices: /dev/%s", r->port ? r->port : "ttyX");
		break;
	case POLICY_HOST:
		if (label)
			snprintf(buf, len, "widen label io.hwbroker.host to \"%s,%s\"", label,
			         r->action ? r->action : "?");
		else if (r->action &&
		         (!strcmp(r->action, "reboot") || !strcmp(r->action, "poweroff")))
			snprintf(buf, len,
			         "add cap_add: SYS_BOOT, label io.balena.features.supervisor-api: "
			         "\"1\" or label io.hwbroker.host: \"%s\"",
			         r->action);
		else
			snprintf(buf, len,
			         "add label io.hwbroker.host: \"%s\" (or io.balena.features.dbus: "
			         "\"1\", which grants more)",
			         r->action ? r->action : "?");
		break;
	case POLICY_UNIT:
		if (label)
			snprintf(buf, len, "widen label io.hwbroker.units to \"%s,%s\"", label,
			         r->unit ? r->unit : "?");
		else
			snprintf(buf, len, "add label io.hwbroker.units: \"%s\"",
			         r->unit ? r->unit : "?");
		break;
	}
}

/* A label grant may not exceed the device grant it narrowed (if one covers
 * this resource): the access the ceilings leave, or all when none covers it. */
static unsigned decide_ceiling(const struct policy *p, const struct policy_grant *g,
                               const struct policy_request *r)
{
	unsigned access = 0;
	bool covered = false;

	if (strncmp(g->provenance, "label io.hwbroker.", 18))
		return g->access;
	for (size_t i = 0; i < p->n_ceilings; i++) {
		if (!decide_matches(&p->ceilings[i], r))
			continue;
		covered = true;
		access |= p->ceilings[i].access;
	}
	return covered ? g->access & access : g->access;
}

bool policy_allows(const struct policy *p, const struct policy_request *r,
                   struct policy_decision *d)
{
	bool read_only_match = false;
	unsigned want = r->access ? r->access & (POLICY_READ | POLICY_WRITE) : POLICY_READ;

	memset(d, 0, sizeof(*d));
	if ((r->access & POLICY_DIRECT) && !(p && p->direct_gpio)) {
		snprintf(d->grant, sizeof(d->grant), "direct GPIO handles");
		snprintf(d->hint, sizeof(d->hint),
		         "label io.hwbroker.gpio.direct: \"1\" (with a read-write grant on the "
		         "lines)");
		return false;
	}
	for (size_t i = 0; p && i < p->n; i++) {
		const struct policy_grant *g = &p->grants[i];
		if (!decide_matches(g, r))
			continue;
		if ((decide_ceiling(p, g, r) & want) != want) {
			read_only_match = true;
			continue;
		}
		d->allowed = true;
		policy_describe_grant(g, d->grant, sizeof(d->grant));
		snprintf(d->provenance, sizeof(d->provenance), "%s", g->provenance);
		return true;
	}
	decide_describe_request(r, d->grant, sizeof(d->grant));
	decide_hint(p, r, read_only_match, d->hint, sizeof(d->hint));
	return false;
}

static void describe_ranges(const struct policy_grant *g, char *buf, size_t len, bool hex)
{
	size_t used = strlen(buf);

	for (size_t i = 0; i < g->n_ranges && used + 16 < len; i++) {
		const struct policy_range *r = &g->ranges[i];
		const char *sep = i ? "," : "";
		if (r->lo == r->hi)
			used += (size_t)snprintf(buf + used, len - used, hex ? "%s0x%02x" : "%s%u",
			                         sep, r->lo);
		else
			used += (size_t)snprintf(buf + used, len - used,
			                         hex ? "%s0x%02x-0x%02x" : "%s%u-%u", sep, r->lo,
			                         r->hi);
	}
	for (size_t i = 0; i < g->n_names && used + 8 < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		                         (i || g->n_ranges) ? "," : "", g->names[i]);
}

void policy_describe_grant(const struct policy_grant *g, char *buf, size_t len)
{
	switch (g->kind) {
	case POLICY_GPIO:
		if (!strcmp(g->chip, "*"))
			snprintf(buf, len, "all chips, all lines");
		else if (g->all)
			snprintf(buf, len, "%s all lines", g->chip);
		else {
			snprintf(buf, len, "%s lines ", g->chip);
			describe_ranges(g, buf, len, false);
		}
		break;
	case POLICY_I2C:
		if (g->any_bus)
			snprintf(buf, len, "all buses, addresses 0x03-0x77");
		else if (g->all)
			snprintf(buf, len, "bus %u addresses 0x03-0x77", g->bus);
		else {
			snprintf(buf, len, "bus %u addresses ", g->bus);
			describe_ranges(g, buf, len, true);
		}
		break;
	case POLICY_UART:
		snprintf(buf, len, "%s", !strcmp(g->port, "*") ? "all ports" : g->port);
		break;
	case POLICY_HOST:
		snprintf(buf, len, "%s", !strcmp(g->action, "*") ? "all host actions" : g->action);
		break;
	case POLICY_UNIT:
		snprintf(buf, len, "%s", !strcmp(g->unit, "*") ? "all units" : g->unit);
		break;
	}
}
