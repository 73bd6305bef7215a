/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "bench_util.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *bench_samples_prefix;

void bench_set_samples_prefix(const char *prefix)
{
	bench_samples_prefix = prefix;
}

static void bench_write_samples(const char *name, const struct bench_samples *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s.%s", bench_samples_prefix, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->v, sizeof(*s->v), s->n, f) != s->n || fclose(f) != 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bench_samples_add(struct bench_samples *s, uint64_t ns)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4096;
		uint64_t *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ns;
	return 0;
}

int bench_samples_merge(struct bench_samples *dst, const struct bench_samples *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (bench_samples_add(dst, src->v[i]) < 0)
			return -ENOMEM;
	return 0;
}

void bench_samples_free(struct bench_samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

static int bench_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted samples. */
static double bench_percentile_us(const struct bench_samples *s, double p)
{
	size_t rank;

	if (!s->n)
		return 0;
	rank = (size_t)(p / 100.0 * (double)s->n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > s->n)
		rank = s->n;
	return (double)s->v[rank - 1] / 1000.0;
}

void bench_report(const char *name, struct bench_samples *s, uint64_t elapsed_ns,
                  const char *extra_json)
{
	double sum = 0;

	if (bench_samples_prefix)
		bench_write_samples(name, s);
	qsort(s->v, s->n, sizeof(*s->v), bench_cmp_u64);
	for (size_t i = 0; i < s->n; i++)
		sum += (double)s->v[i];
	printf("{\"name\":\"%s\",\"n\":%zu", name, s->n);
	if (s->n)
		printf(",\"p50_us\":%.2f,\"p99_us\":%.2f,\"max_us\":%.2f,\"mean_us\":%.2f",
		       bench_percentile_us(s, 50), bench_percentile_us(s, 99),
		       (double)s->v[s->n - 1] / 1000.0, sum / (double)s->n / 1000.0);
	if (elapsed_ns)
		printf(",\"ops_s\":%.1f", (double)s->n * 1e9 / (double)elapsed_ns);
	if (extra_json && *extra_json)
		printf(",%s", extra_json);
	printf("}\n");
	fflush(stdout);
}

int bench_pin_cpu(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

long bench_parse_long(const char *opt, const char *value)
{
	char *end;
	long v;

	errno = 0;
	v = value ? strtol(value, &end, 0) : -1;
	if (!value || errno || *end || v < 0) {
		fprintf(stderr, "bad value for %s: '%s'\n", opt, value ? value : "");
		exit(2);
	}
	return v;
}

int bench_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int bench_connect_unix(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd, err;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(addr.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}
