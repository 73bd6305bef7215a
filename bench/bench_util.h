/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Timing, samples and result output shared by the bench programs. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* A growable array of latency samples in nanoseconds. */
struct bench_samples {
	uint64_t *v;
	size_t n, cap;
};

int bench_samples_add(struct bench_samples *s, uint64_t ns);
/* Appends every sample of src to dst. */
int bench_samples_merge(struct bench_samples *dst, const struct bench_samples *src);
void bench_samples_free(struct bench_samples *s);

/* Sorts the samples and prints one JSON object on stdout:
 * {"name","n","p50_us","p99_us","max_us","mean_us","ops_s", EXTRA...}.
 * ops_s is n over elapsed_ns (omitted when elapsed_ns is 0); extra_json,
 * when not NULL, is appended verbatim after a comma ("\"errors\":0").
 * Exits with status 1 when the samples cannot be written. */
void bench_report(const char *name, struct bench_samples *s, uint64_t elapsed_ns,
                  const char *extra_json);

/* When set, bench_report() also writes the raw samples (native uint64_t
 * nanoseconds) to PREFIX.NAME, so that several runs can be pooled. */
void bench_set_samples_prefix(const char *prefix);

/* Pins the calling process (all of its future threads) to one CPU; -1 leaves it free. */
int bench_pin_cpu(int cpu);

/* Parses a non-negative integer option value; exits with status 2 on garbage. */
long bench_parse_long(const char *opt, const char *value);

/* Writes all of buf (blocking fd). Returns 0 or -errno. */
int bench_write_all(int fd, const void *buf, size_t len);

/* Connects a blocking AF_UNIX stream socket. Returns the fd or -errno. */
int bench_connect_unix(const char *path);
