/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The environment the daemon gives its drivers (drivers/env.h): the event
 * loop's fds, timers and post queue, and the log. */
#pragma once

#include "env.h"

struct loop;

/* Fills env for loop; env must outlive every backend opened with it. */
void driver_env_init(struct drv_env *env, struct loop *loop);
