/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Counters for GET /metrics (Prometheus text format), per service and per
 * area: requests, replies by error code (an I2C NACK is a nack, a lease held
 * elsewhere a conflict), denials, and a latency histogram. Successful
 * operations are counted here, not logged. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct metrics;
struct service;

struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* One rendered reply. svc NULL: the admin socket; area NULL: no route. */
void metrics_count_request(struct metrics *m, const struct service *svc, const char *area,
                           unsigned status, int err, uint64_t latency_ns);
/* One refused request (the policy said no). */
void metrics_count_denial(struct metrics *m, const struct service *svc, const char *area);
/* Forgets the series of a removed service. */
void metrics_forget_service(struct metrics *m, const char *service);

/* Appends the families to buf (grown with realloc). 0 or -ENOMEM. */
int metrics_render(const struct metrics *m, char **buf, size_t *len, size_t *cap);
