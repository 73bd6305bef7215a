/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a backend may ask of whoever runs it: watch an fd, run a timer, hand
 * work back to the owner's thread, and log. The drivers are a library below
 * the daemon: they never include a daemon header, and the daemon passes this
 * environment to every backend's open() (daemon/core/driver_env.c). Tests
 * can pass their own. */
#pragma once

#include <stdarg.h>
#include <stdint.h>
#include <sys/epoll.h>

struct drv_timer;

typedef void (*drv_fd_fn)(void *data, int fd, uint32_t events);
typedef void (*drv_fn)(void *data);

enum drv_log_level { DRV_LOG_ERROR, DRV_LOG_WARN, DRV_LOG_INFO, DRV_LOG_DEBUG };

struct drv_env {
	void *ctx;
	/* events: EPOLLIN/EPOLLOUT; callbacks run on the owner's thread. 0 or -errno. */
	int (*fd_add)(void *ctx, int fd, uint32_t events, drv_fd_fn fn, void *data);
	int (*fd_mod)(void *ctx, int fd, uint32_t events);
	void (*fd_del)(void *ctx, int fd);
	/* One-shot; the handle is valid until it fires or is cancelled. NULL: no memory. */
	struct drv_timer *(*timer_add)(void *ctx, uint64_t delay_ms, drv_fn fn, void *data);
	void (*timer_cancel)(void *ctx, struct drv_timer *timer);
	/* Any thread: run fn(data) on the owner's thread soon. 0 or -errno. */
	int (*post)(void *ctx, drv_fn fn, void *data);
	/* A log line; what is the area ("gpio", "host", ...). */
	void (*log)(void *ctx, enum drv_log_level level, const char *what, const char *fmt,
	            va_list ap);
};

static inline int env_fd_add(const struct drv_env *env, int fd, uint32_t events, drv_fd_fn fn,
                             void *data)
{
	return env->fd_add(env->ctx, fd, events, fn, data);
}

static inline int env_fd_mod(const struct drv_env *env, int fd, uint32_t events)
{
	return env->fd_mod(env->ctx, fd, events);
}

static inline void env_fd_del(const struct drv_env *env, int fd)
{
	env->fd_del(env->ctx, fd);
}

static inline struct drv_timer *env_timer_add(const struct drv_env *env, uint64_t delay_ms,
                                              drv_fn fn, void *data)
{
	return env->timer_add(env->ctx, delay_ms, fn, data);
}

static inline void env_timer_cancel(const struct drv_env *env, struct drv_timer *timer)
{
	if (timer)
		env->timer_cancel(env->ctx, timer);
}

static inline int env_post(const struct drv_env *env, drv_fn fn, void *data)
{
	return env->post(env->ctx, fn, data);
}

__attribute__((format(printf, 4, 5))) static inline void
env_log(const struct drv_env *env, enum drv_log_level level, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (!env || !env->log)
		return;
	va_start(ap, fmt);
	env->log(env->ctx, level, what, fmt, ap);
	va_end(ap);
}
