/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GPIO backend table. */
#include <string.h>

#include "gpio.h"

static const struct gpio_ops *const gpio_backends[] = {&gpio_sim_ops, &gpio_gpiod_ops};

const struct gpio_ops *gpio_backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(gpio_backends) / sizeof(gpio_backends[0]); i++)
		if (!strcmp(gpio_backends[i]->name, name))
			return gpio_backends[i];
	return NULL;
}

const struct gpio_sim_ops *gpio_backend_sim(const struct gpio_ops *ops)
{
	return ops == &gpio_sim_ops ? &gpio_sim_control : NULL;
}
