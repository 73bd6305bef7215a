/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the GPIO area's files share about lines and their leases: the
 * configuration names, a line's configuration from a body, who may take a
 * line, held inputs, and direct leases (a handle passed to a service holds
 * its lines until the kernel says it closed). It calls none of the area's
 * other files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "gpio.h"
#include "gpio_private.h"
#include "lease.h"
#include "log.h"
#include "state.h"

const char *const gpio_dir_names[3] = {"as-is", "input", "output"};
const char *const gpio_bias_names[4] = {"as-is", "disabled", "pull-up", "pull-down"};
const char *const gpio_drive_names[3] = {"push-pull", "open-drain", "open-source"};

int gpio_name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

/* --- a line and who may take it --- */

int gpio_check_free(struct request *req, struct gpio_area *a, const char *chip, unsigned line)
{
	char res[96];
	const struct lease *l;

	snprintf(res, sizeof(res), "gpio:%s:%u", chip, line);
	l = gpio_direct_lease(a, res);
	if (l && gpio_lease_is_direct(l))
		return req_fail(req, -EBUSY, "it is free again once that service closes its handle",
		                "%s line %u is driven directly by service %s", chip, line,
		                l->holder);
	if (l && strcmp(l->holder, req_caller(req)))
		return req_fail(req, -EBUSY, "wait until it is released, or ask its holder",
		                "%s line %u is held by service %s", chip, line, l->holder);
	return 0;
}

int gpio_parse_config(struct request *req, const json_t *body, const json_t *value,
                      struct gpio_line_config *cfg)
{
	const char *dir = json_string_value(json_object_get(body, "direction"));
	const char *bias = json_string_value(json_object_get(body, "bias"));
	const char *drive = json_string_value(json_object_get(body, "drive"));
	int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->direction = value ? GPIO_DIR_OUTPUT : GPIO_DIR_INPUT;
	if (dir) {
		i = NAME_INDEX(gpio_dir_names, dir);
		if (i < GPIO_DIR_INPUT)
			return req_fail(req, -EINVAL, NULL,
			                "direction must be \"input\" or \"output\"");
		cfg->direction = (enum gpio_direction)i;
	}
	if (!value && !dir)
		return req_fail(req, -EINVAL, "{\"value\":1} or {\"direction\":\"input\"}",
		                "give a value or a direction");
	if (cfg->direction == GPIO_DIR_INPUT && value)
		return req_fail(req, -EINVAL, NULL, "an input has no value to set");
	if (bias && (i = NAME_INDEX(gpio_bias_names, bias)) < 0)
		return req_fail(req, -EINVAL, NULL,
		                "bias must be as-is, disabled, pull-up or pull-down");
	cfg->bias = bias ? (enum gpio_bias)i : GPIO_BIAS_AS_IS;
	if (drive && (i = NAME_INDEX(gpio_drive_names, drive)) < 0)
		return req_fail(req, -EINVAL, NULL,
		                "drive must be push-pull, open-drain or open-source");
	if (drive && cfg->direction == GPIO_DIR_INPUT)
		return req_fail(req, -EINVAL, NULL, "drive applies to outputs only");
	cfg->drive = drive ? (enum gpio_drive)i : GPIO_DRIVE_PUSH_PULL;
	cfg->active_low = json_is_true(json_object_get(body, "active_low"));
	cfg->value = (int)json_integer_value(value);
	return 0;
}

bool gpio_lease_input(const struct lease *l, struct gpio_line_config *cfg)
{
	const char *dir = l ? json_string_value(json_object_get(l->data, "direction")) : NULL;
	int bias;

	if (!dir || strcmp(dir, "input") || gpio_lease_is_direct(l))
		return false;
	bias = NAME_INDEX(gpio_bias_names, json_string_value(json_object_get(l->data, "bias")));
	memset(cfg, 0, sizeof(*cfg));
	cfg->direction = GPIO_DIR_INPUT;
	cfg->bias = bias < 0 ? GPIO_BIAS_AS_IS : (enum gpio_bias)bias;
	cfg->active_low = json_is_true(json_object_get(l->data, "active_low"));
	return true;
}

void gpio_restore_input(struct gpio_area *a, const char *chip, unsigned line)
{
	struct gpio_line_config cfg;
	char res[96];
	int value = 0;

	snprintf(res, sizeof(res), "gpio:%s:%u", chip, line);
	if (gpio_lease_input(lease_find(a->leases, res), &cfg) &&
	    a->ops->request(a->be, chip, &line, &value, 1, &cfg) < 0)
		log_warn("gpio", "%s line %u: the held input could not be requested again", chip,
		         line);
}

bool gpio_parse_resource(const char *resource, char *chip, size_t len, unsigned *line)
{
	const char *colon = strrchr(resource, ':');
	unsigned long long v;

	if (strncmp(resource, "gpio:", 5) || !colon || colon == resource + 4 ||
	    (size_t)(colon - resource - 5) >= len || req_parse_uint(colon + 1, 0, 65535, &v) < 0)
		return false;
	memcpy(chip, resource + 5, (size_t)(colon - resource - 5));
	chip[colon - resource - 5] = '\0';
	*line = (unsigned)v;
	return true;
}

/* --- direct leases --- */

bool gpio_lease_is_direct(const struct lease *l)
{
	return l && json_is_true(json_object_get(l->data, "direct"));
}

/* The kernel's consumer label of a direct handle: it names the service
 * (truncated to the kernel's 32 bytes), which is how the broker tells its
 * handle from anyone else's. */
void gpio_direct_consumer(char *buf, size_t len, const char *service)
{
	snprintf(buf, len, "hwb-direct:%.20s", service);
}

bool gpio_direct_alive(struct gpio_area *a, const char *chip, unsigned line, const char *service)
{
	struct gpio_line_info info;
	char consumer[GPIO_NAME_MAX];

	if (a->ops->line_info(a->be, chip, line, &info) < 0)
		return false;
	gpio_direct_consumer(consumer, sizeof(consumer), service);
	return info.used && !strcmp(info.consumer, consumer);
}

static bool gpio_direct_closed(const struct lease *l, void *data)
{
	struct gpio_area *a = data;
	char chip[GPIO_NAME_MAX];
	unsigned line;

	if (!gpio_lease_is_direct(l))
		return false;
	if (gpio_parse_resource(l->resource, chip, sizeof(chip), &line) &&
	    gpio_direct_alive(a, chip, line, l->holder))
		return false;
	log_info(l->holder, "%s: direct handle closed", l->resource + 5);
	a->n_direct--;
	return true;
}

void gpio_direct_reap(struct gpio_area *a)
{
	size_t before = a->n_direct;

	if (!before)
		return;
	lease_sweep(a->leases, gpio_direct_closed, a);
	if (a->n_direct != before)
		state_changed(a->d->state);
}

const struct lease *gpio_direct_lease(struct gpio_area *a, const char *resource)
{
	const struct lease *l = lease_find(a->leases, resource);

	if (gpio_lease_is_direct(l)) {
		gpio_direct_reap(a);
		l = lease_find(a->leases, resource);
	}
	return l;
}
