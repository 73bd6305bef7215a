/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GPIO targets: the resolve steps that turn {chip} and {line} (and the
 * lines a group write names) into canonical targets, and what the area's
 * files share about grants and driver errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "gpio.h"
#include "gpio_private.h"
#include "policy.h"
#include "registry.h"

static struct gpio_area *gpio_area_of(const struct request *req)
{
	return req_daemon(req)->gpio;
}

int gpio_fail(struct request *req, int err, const char *chip, const char *what)
{
	switch (err) {
	case -ENOENT:
		return req_fail(req, err, "GET /v1/gpio lists chips and lines", "%s: no such %s",
		                chip, what);
	case -ENODEV:
		return req_fail(req, err, "the chip may come back (USB expander, module)",
		                "%s is not present", chip);
	case -EOPNOTSUPP:
		return req_fail(req, err, NULL, "%s: the chip does not support this configuration",
		                chip);
	case -EBUSY:
		return req_fail(req, err, NULL, "%s: the line is in use outside hwbrokerd", chip);
	default:
		return req_fail(req, err, NULL, "%s: %s", chip, strerror(-err));
	}
}

bool gpio_policy_allows(struct service *svc, const char *chip, const char *label, unsigned line,
                        const char *name, unsigned access)
{
	struct policy_request want = {
	        .kind = POLICY_GPIO,
	        .access = access,
	        .chip = chip,
	        .chip_label = label,
	        .line = line,
	        .line_name = name,
	};
	struct policy_decision d;

	return svc && policy_allows(svc->policy, &want, &d);
}

/* --- resolve steps --- */

static void gpio_target_init(struct target *t)
{
	t->want.kind = POLICY_GPIO;
	t->want.chip = t->chip;
	t->want.chip_label = t->chip_label;
	t->want.line = GPIO_NO_LINE;
	t->want.line_name = t->line_name;
}

int gpio_resolve_chip(struct request *req, struct target *t)
{
	struct gpio_area *a = gpio_area_of(req);
	const char *chip = req_param(req, "chip");
	struct gpio_chip_info info;
	int r;

	gpio_target_init(t);
	r = a->ops->chip_find(a->be, chip, &info);
	if (r < 0) {
		/* As named: "7" is gpiochip7, anything else may be a label. */
		if (strspn(chip, "0123456789") == strlen(chip))
			snprintf(t->chip, sizeof(t->chip), "gpiochip%.16s", chip);
		else
			snprintf(t->chip, sizeof(t->chip), "%s", chip);
		snprintf(t->chip_label, sizeof(t->chip_label), "%s", chip);
		return gpio_fail(req, r, chip, "chip");
	}
	snprintf(t->chip, sizeof(t->chip), "%s", info.name);
	snprintf(t->chip_label, sizeof(t->chip_label), "%s", info.label);
	t->num_lines = info.num_lines;
	return 0;
}

static void gpio_resource(struct target *t)
{
	snprintf(t->resource, sizeof(t->resource), "gpio:%s:%u", t->chip, t->want.line);
}

/* One line of a resolved chip, by offset (17, 0x11) or name (GPIO17). On
 * failure *line and name say what was named. */
static int gpio_resolve_one(struct request *req, struct target *t, const char *text, unsigned *line,
                            char *name, size_t name_len)
{
	struct gpio_area *a = gpio_area_of(req);
	struct gpio_line_info info;
	unsigned long long v;
	int r;

	*line = GPIO_NO_LINE;
	name[0] = '\0';
	if (text[0] >= '0' && text[0] <= '9') {
		r = req_parse_uint(text, 0, 65535, &v);
		if (r < 0)
			return req_fail(req, -EBADMSG, "lines are offsets (17, 0x11) or line names",
			                "malformed line \"%.32s\"", text);
		*line = (unsigned)v;
		if (v >= t->num_lines)
			return req_fail(req, -ENOENT, "GET /v1/gpio lists the lines",
			                "%s has no line %s (it has %u)", t->chip, text,
			                t->num_lines);
	} else {
		snprintf(name, name_len, "%s", text);
		r = a->ops->line_find(a->be, t->chip, text, line);
		if (r < 0) {
			*line = GPIO_NO_LINE;
			return gpio_fail(req, r, t->chip, "line name");
		}
	}
	r = a->ops->line_info(a->be, t->chip, *line, &info);
	if (r < 0)
		return gpio_fail(req, r, t->chip, "line");
	snprintf(name, name_len, "%s", info.name);
	return 0;
}

int gpio_resolve_line(struct request *req, struct target *t)
{
	int r = gpio_resolve_chip(req, t);

	if (r < 0) {
		/* The line as named, for the authorization of a missing chip. */
		const char *line = req_param(req, "line");
		unsigned long long v;
		if (req_parse_uint(line, 0, 65535, &v) == 0)
			t->want.line = (unsigned)v;
		else
			snprintf(t->line_name, sizeof(t->line_name), "%.60s", line);
		return r;
	}
	r = gpio_resolve_one(req, t, req_param(req, "line"), &t->want.line, t->line_name,
	                     sizeof(t->line_name));
	gpio_resource(t);
	return r;
}

int gpio_resolve_members(struct request *req, struct target *t, const char *const *keys, size_t n)
{
	int r = gpio_resolve_chip(req, t);

	t->members = calloc(n ? n : 1, sizeof(*t->members));
	if (!t->members)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct target_member *m = &t->members[i];
		t->n_members = i + 1;
		if (r < 0) { /* the chip is missing: authorize the lines as named */
			unsigned long long off;
			m->line = req_parse_uint(keys[i], 0, 65535, &off) == 0 ? (unsigned)off
			                                                       : GPIO_NO_LINE;
			snprintf(m->name, sizeof(m->name), "%.60s", keys[i]);
			continue;
		}
		r = gpio_resolve_one(req, t, keys[i], &m->line, m->name, sizeof(m->name));
		if (r < 0)
			return r;
		for (size_t k = 0; k < i; k++)
			if (t->members[k].line == m->line)
				return req_fail(req, -EINVAL, NULL, "line %u named twice", m->line);
	}
	return r;
}

/* PUT /v1/gpio/CHIP {"values":{"17":1,"GPIO27":0}}: every named line is a
 * member of the target, authorized before anything is driven. */
int gpio_resolve_group(struct request *req, struct target *t)
{
	json_t *values = json_object_get(req_json(req), "values"), *v;
	const char *keys[GPIO_MAX_GROUP], *key;
	size_t n = 0;

	json_object_foreach(values, key, v)
	{
		if (n < GPIO_MAX_GROUP)
			keys[n++] = key;
	}
	return gpio_resolve_members(req, t, keys, n);
}
