/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Leveled logging to stderr, one record per line: "TIME hwbrokerd LEVEL
 * context: message" with an ISO 8601 timestamp; under journald (stderr is
 * the journal) sd-daemon "<N>" priority prefixes instead of the timestamp;
 * or JSON lines {"time","level","ctx","msg"} (--log-format json). */
#pragma once

#include <stdarg.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

void log_set_level(enum log_level level);
/* "text" or "json". 0 or -EINVAL. */
int log_set_format(const char *name);
int log_parse_level(const char *name, enum log_level *out); /* 0 or -EINVAL */
enum log_level log_get_level(void);

__attribute__((format(printf, 3, 4))) void log_msg(enum log_level level, const char *ctx,
                                                   const char *fmt, ...);

/* ctx: short context such as "svc=sensor req=12" or "gpio". May be NULL. */
#define log_error(ctx, ...) log_msg(LOG_LEVEL_ERROR, ctx, __VA_ARGS__)
#define log_warn(ctx, ...)  log_msg(LOG_LEVEL_WARN, ctx, __VA_ARGS__)
#define log_info(ctx, ...)  log_msg(LOG_LEVEL_INFO, ctx, __VA_ARGS__)
#define log_debug(ctx, ...) log_msg(LOG_LEVEL_DEBUG, ctx, __VA_ARGS__)
