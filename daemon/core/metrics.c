/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per (service, area) series in a small open-addressing table: the request
 * path adds to a series without allocating once it exists. */
#include "metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "registry.h"

#define METRICS_SLOTS 2048 /* series: services x areas, bounded */
#define METRICS_CODES 16

static const char *const metrics_codes[METRICS_CODES] = {
        "ok",          "bad_request", "forbidden", "not_found",    "method_not_allowed",
        "conflict",    "too_large",   "invalid",   "rate_limited", "nack",
        "unavailable", "timeout",     "internal",  NULL,
};

/* Upper bounds of the latency buckets, in microseconds. */
static const unsigned metrics_buckets_us[] = {50,    100,   250,   500,    1000,   2500,   5000,
                                              10000, 25000, 50000, 100000, 250000, 1000000};
#define METRICS_BUCKETS (sizeof(metrics_buckets_us) / sizeof(metrics_buckets_us[0]))

struct metrics_series {
	bool used;
	char service[64];
	char area[16];
	uint64_t replies[METRICS_CODES];
	uint64_t denials;
	uint64_t buckets[METRICS_BUCKETS + 1];
	uint64_t latency_sum_us;
};

struct metrics {
	struct metrics_series slots[METRICS_SLOTS];
	uint64_t dropped; /* series that did not fit */
};

struct metrics *metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

void metrics_free(struct metrics *m)
{
	free(m);
}

static unsigned metrics_hash(const char *service, const char *area)
{
	unsigned h = 2166136261u;

	for (const char *p = service; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	h = (h ^ '/') * 16777619u;
	for (const char *p = area; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

static struct metrics_series *metrics_series(struct metrics *m, const struct service *svc,
                                             const char *area)
{
	const char *service = svc ? svc->name : "admin";
	unsigned h;

	if (!m)
		return NULL;
	area = area ? area : "none";
	h = metrics_hash(service, area);
	for (unsigned i = 0; i < METRICS_SLOTS; i++) {
		struct metrics_series *s = &m->slots[(h + i) % METRICS_SLOTS];
		if (!s->used) {
			s->used = true;
			snprintf(s->service, sizeof(s->service), "%s", service);
			snprintf(s->area, sizeof(s->area), "%s", area);
			return s;
		}
		if (!strcmp(s->service, service) && !strcmp(s->area, area))
			return s;
	}
	m->dropped++;
	return NULL;
}

static size_t metrics_code_index(unsigned status, int err)
{
	const char *code = status < 400    ? "ok"
	                   : status == 405 ? "method_not_allowed"
	                                   : errors_from_errno(err).code;

	for (size_t i = 0; metrics_codes[i]; i++)
		if (!strcmp(metrics_codes[i], code))
			return i;
	return 12; /* internal */
}

void metrics_count_request(struct metrics *m, const struct service *svc, const char *area,
                           unsigned status, int err, uint64_t latency_ns)
{
	struct metrics_series *s = metrics_series(m, svc, area);
	uint64_t us = latency_ns / 1000;
	size_t b = 0;

	if (!s)
		return;
	s->replies[metrics_code_index(status, err)]++;
	while (b < METRICS_BUCKETS && us > metrics_buckets_us[b])
		b++;
	s->buckets[b]++;
	s->latency_sum_us += us;
}

void metrics_count_denial(struct metrics *m, const struct service *svc, const char *area)
{
	struct metrics_series *s = metrics_series(m, svc, area);

	if (s)
		s->denials++;
}

/* Linear probing: after a slot is emptied, the rest of its cluster moves
 * up where its probe chain allows, so lookups stay correct without
 * tombstones (and without touching the whole table). */
static void metrics_delete_slot(struct metrics *m, size_t hole)
{
	size_t j = hole;

	m->slots[hole].used = false;
	for (;;) {
		j = (j + 1) % METRICS_SLOTS;
		struct metrics_series *s = &m->slots[j];
		if (!s->used)
			return;
		size_t home = metrics_hash(s->service, s->area) % METRICS_SLOTS;
		/* s may fill the hole when its home is not within (hole, j]. */
		bool in_between =
		        hole < j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (in_between)
			continue;
		m->slots[hole] = *s;
		s->used = false;
		hole = j;
	}
}

void metrics_forget_service(struct metrics *m, const char *service)
{
	if (!m)
		return;
	for (size_t i = 0; i < METRICS_SLOTS; i++) {
		/* A moved-up series may land on i again: look at i until it is another's. */
		while (m->slots[i].used && !strcmp(m->slots[i].service, service))
			metrics_delete_slot(m, i);
	}
}

__attribute__((format(printf, 4, 5))) static int metrics_printf(char **buf, size_t *len,
                                                                size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(*buf + *len, *cap - *len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return -EINVAL;
		if (*len + (size_t)n < *cap) {
			*len += (size_t)n;
			return 0;
		}
		size_t ncap = (*cap ? *cap * 2 : 4096) + (size_t)n;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = ncap;
	}
}

#define EMIT(...)                                                                                  \
	do {                                                                                       \
		if (metrics_printf(buf, len, cap, __VA_ARGS__) < 0)                                \
			return -ENOMEM;                                                            \
	} while (0)

int metrics_render(const struct metrics *m, char **buf, size_t *len, size_t *cap)
{
	EMIT("# HELP hwbroker_replies_total Replies by service, area and code (ok or the JSON "
	     "error code).\n# TYPE hwbroker_replies_total counter\n");
	for (size_t i = 0; i < METRICS_SLOTS; i++) {
		const struct metrics_series *s = &m->slots[i];
		for (size_t c = 0; s->used && metrics_codes[c]; c++)
			if (s->replies[c])
				EMIT("hwbroker_replies_total{service=\"%s\",area=\"%s\",code=\"%"
				     "s\"} "
				     "%llu\n",
				     s->service, s->area, metrics_codes[c],
				     (unsigned long long)s->replies[c]);
	}
	EMIT("# HELP hwbroker_denials_total Requests the policy refused.\n"
	     "# TYPE hwbroker_denials_total counter\n");
	for (size_t i = 0; i < METRICS_SLOTS; i++) {
		const struct metrics_series *s = &m->slots[i];
		if (s->used && s->denials)
			EMIT("hwbroker_denials_total{service=\"%s\",area=\"%s\"} %llu\n",
			     s->service, s->area, (unsigned long long)s->denials);
	}
	EMIT("# HELP hwbroker_request_seconds Time from the request head to the reply.\n"
	     "# TYPE hwbroker_request_seconds histogram\n");
	for (size_t i = 0; i < METRICS_SLOTS; i++) {
		const struct metrics_series *s = &m->slots[i];
		uint64_t cumulative = 0;
		if (!s->used)
			continue;
		for (size_t b = 0; b <= METRICS_BUCKETS; b++) {
			cumulative += s->buckets[b];
			if (b < METRICS_BUCKETS)
				EMIT("hwbroker_request_seconds_bucket{service=\"%s\",area=\"%s\","
				     "le=\"%g\"} %llu\n",
				     s->service, s->area, metrics_buckets_us[b] / 1e6,
				     (unsigned long long)cumulative);
			else
				EMIT("hwbroker_request_seconds_bucket{service=\"%s\",area=\"%s\","
				     "le=\"+Inf\"} %llu\n",
				     s->service, s->area, (unsigned long long)cumulative);
		}
		EMIT("hwbroker_request_seconds_sum{service=\"%s\",area=\"%s\"} %.6f\n", s->service,
		     s->area, s->latency_sum_us / 1e6);
		EMIT("hwbroker_request_seconds_count{service=\"%s\",area=\"%s\"} %llu\n",
		     s->service, s->area, (unsigned long long)cumulative);
	}
	EMIT("# HELP hwbroker_metrics_series_dropped_total Series that did not fit the table.\n"
	     "# TYPE hwbroker_metrics_series_dropped_total counter\n"
	     "hwbroker_metrics_series_dropped_total %llu\n",
	     (unsigned long long)m->dropped);
	return 0;
}
