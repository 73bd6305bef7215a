/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "driver_env.h"

#include <stdio.h>

#include "log.h"
#include "loop.h"

static int driver_env_fd_add(void *ctx, int fd, uint32_t events, drv_fd_fn fn, void *data)
{
	return loop_add_fd(ctx, fd, events, fn, data);
}

static int driver_env_fd_mod(void *ctx, int fd, uint32_t events)
{
	return loop_mod_fd(ctx, fd, events);
}

static void driver_env_fd_del(void *ctx, int fd)
{
	loop_del_fd(ctx, fd);
}

/* A loop timer is the driver's timer: the type is opaque on both sides. */
static struct drv_timer *driver_env_timer_add(void *ctx, uint64_t delay_ms, drv_fn fn, void *data)
{
	return (struct drv_timer *)loop_add_timer(ctx, delay_ms, fn, data);
}

static void driver_env_timer_cancel(void *ctx, struct drv_timer *timer)
{
	loop_cancel_timer(ctx, (struct loop_timer *)timer);
}

static int driver_env_post(void *ctx, drv_fn fn, void *data)
{
	return loop_post(ctx, fn, data);
}

static void driver_env_log(void *ctx, enum drv_log_level level, const char *what, const char *fmt,
                           va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_msg((enum log_level)level, what, "%s", msg);
}

void driver_env_init(struct drv_env *env, struct loop *loop)
{
	*env = (struct drv_env){
	        .ctx = loop,
	        .fd_add = driver_env_fd_add,
	        .fd_mod = driver_env_fd_mod,
	        .fd_del = driver_env_fd_del,
	        .timer_add = driver_env_timer_add,
	        .timer_cancel = driver_env_timer_cancel,
	        .post = driver_env_post,
	        .log = driver_env_log,
	};
}
