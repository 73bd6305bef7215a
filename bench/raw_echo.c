/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The floor: a newline-framed JSON echo over a unix socket, without HTTP.
 *
 *   raw_echo serve SOCKET
 *       one thread, one epoll loop; each line is parsed with jansson and
 *       dumped back (compact), the least any JSON-over-unix-socket server does.
 *   raw_echo client SOCKET [--clients N] [--warmup N] [--iterations N |
 *                          --duration-ms MS] [--cpu C] [--samples PREFIX]
 *       each client a thread with its own connection doing round trips of a
 *       small JSON object; prints one JSON result line (bench_util.h). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "bench_util.h"

/* The same size and shape as a GPIO line reply, so that the floor moves as
 * many bytes as the broker does. */
#define ECHO_MESSAGE                                                                               \
	"{\"chip\":\"gpiochip0\",\"line\":5,\"name\":\"GPIO5\",\"value\":1,\"direction\":"         \
	"\"output\",\"bias\":\"as-is\",\"active_low\":false,\"drive\":\"push-pull\",\"used\":"     \
	"true,\"holder\":\"bench\",\"lease\":\"persistent\",\"watchers\":0}\n"

#define ECHO_BUF 65536

struct echo_conn {
	int fd;
	char in[ECHO_BUF];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	bool want_out;
};

static void echo_conn_close(int ep, struct echo_conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	free(c);
}

static int echo_conn_flush(int ep, struct echo_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			break;
		}
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	bool want = c->out_len > 0;
	if (want != c->want_out) {
		struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
		c->want_out = want;
	}
	return 0;
}

static int echo_conn_queue(struct echo_conn *c, const char *s, size_t len)
{
	char *out = realloc(c->out, c->out_len + len);

	if (!out)
		return -ENOMEM;
	memcpy(out + c->out_len, s, len);
	c->out = out;
	c->out_len += len;
	return 0;
}

/* Answers every complete line in the input buffer. */
static int echo_conn_process(struct echo_conn *c)
{
	size_t start = 0;
	char *nl;

	while ((nl = memchr(c->in + start, '\n', c->in_len - start))) {
		size_t len = (size_t)(nl - (c->in + start));
		json_error_t err;
		json_t *j = json_loadb(c->in + start, len, 0, &err);
		char *dump = j ? json_dumps(j, JSON_COMPACT) : NULL;
		int r = dump ? echo_conn_queue(c, dump, strlen(dump)) : -EBADMSG;
		if (r == 0)
			r = echo_conn_queue(c, "\n", 1);
		free(dump);
		json_decref(j);
		if (r < 0)
			return r;
		start += len + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	return c->in_len == sizeof(c->in) ? -EMSGSIZE : 0;
}

static int echo_serve(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct epoll_event ev, evs[64];
	int lfd, ep;

	if (strlen(path) >= sizeof(addr.sun_path))
		return 2;
	memcpy(addr.sun_path, path, strlen(path));
	unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(lfd, 128) < 0) {
		perror("raw_echo: listen");
		return 1;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = NULL};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
		perror("raw_echo: epoll");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		int n = epoll_wait(ep, evs, 64, -1);
		if (n < 0 && errno != EINTR) {
			perror("raw_echo: epoll_wait");
			return 1;
		}
		for (int i = 0; i < n; i++) {
			struct echo_conn *c = evs[i].data.ptr;
			if (!c) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					continue;
				c = calloc(1, sizeof(*c));
				if (!c) {
					close(fd);
					continue;
				}
				c->fd = fd;
				ev = (struct epoll_event){.events = EPOLLIN, .data.ptr = c};
				if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
					close(fd);
					free(c);
				}
				continue;
			}
			if (evs[i].events & EPOLLOUT && echo_conn_flush(ep, c) < 0) {
				echo_conn_close(ep, c);
				continue;
			}
			if (!(evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				continue;
			ssize_t r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
			if (r <= 0) {
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				echo_conn_close(ep, c);
				continue;
			}
			c->in_len += (size_t)r;
			if (echo_conn_process(c) < 0 || echo_conn_flush(ep, c) < 0)
				echo_conn_close(ep, c);
		}
	}
}

struct echo_client {
	pthread_t thread;
	const char *path;
	long warmup, iterations;
	uint64_t duration_ns; /* duration mode when non-zero */
	pthread_barrier_t *start;
	struct bench_samples samples;
	uint64_t t_start, t_end;
	long errors, requests;
};

static int echo_round_trip(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	int r = bench_write_all(fd, ECHO_MESSAGE, sizeof(ECHO_MESSAGE) - 1);

	if (r < 0)
		return r;
	for (;;) {
		ssize_t n = recv(fd, buf + got, cap - got, 0);
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		got += (size_t)n;
		if (buf[got - 1] == '\n')
			return 0;
		if (got == cap)
			return -EMSGSIZE;
	}
}

static void *echo_client_main(void *data)
{
	struct echo_client *c = data;
	char buf[4096];
	int fd = bench_connect_unix(c->path);

	if (fd < 0) {
		fprintf(stderr, "raw_echo: connect %s: %s\n", c->path, strerror(-fd));
		c->errors++;
	} else {
		/* A server that never answers fails the row instead of hanging the run. */
		struct timeval tv = {.tv_sec = 10};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	for (long i = 0; fd >= 0 && i < c->warmup; i++, c->requests++)
		if (echo_round_trip(fd, buf, sizeof(buf)) < 0)
			c->errors++;
	pthread_barrier_wait(c->start);
	c->t_start = bench_now_ns();
	for (long i = 0; fd >= 0; i++) {
		uint64_t t0 = bench_now_ns();
		if (c->duration_ns ? t0 - c->t_start >= c->duration_ns : i >= c->iterations)
			break;
		c->requests++;
		if (echo_round_trip(fd, buf, sizeof(buf)) < 0) {
			c->errors++;
			break;
		}
		bench_samples_add(&c->samples, bench_now_ns() - t0);
	}
	c->t_end = bench_now_ns();
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int echo_client(int argc, char **argv)
{
	long clients = 1, warmup = 200, iterations = 2000, cpu = -1;
	long duration_ms = 0;
	struct bench_samples all = {0};
	pthread_barrier_t start;
	uint64_t t0 = UINT64_MAX, t1 = 0;
	long errors = 0, requests = 0;
	char extra[128];

	for (int i = 3; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--clients"))
			clients = bench_parse_long(argv[i], v);
		else if (!strcmp(argv[i], "--warmup"))
			warmup = bench_parse_long(argv[i], v);
		else if (!strcmp(argv[i], "--iterations"))
			iterations = bench_parse_long(argv[i], v);
		else if (!strcmp(argv[i], "--duration-ms"))
			duration_ms = bench_parse_long(argv[i], v);
		else if (!strcmp(argv[i], "--cpu"))
			cpu = bench_parse_long(argv[i], v);
		else if (!strcmp(argv[i], "--samples") && v)
			bench_set_samples_prefix(v);
		else {
			fprintf(stderr, "raw_echo: unknown option %s\n", argv[i]);
			return 2;
		}
		i++;
	}
	if (clients < 1 || clients > 1024 || bench_pin_cpu((int)cpu) < 0)
		return 2;
	struct echo_client *cs = calloc((size_t)clients, sizeof(*cs));
	if (!cs)
		return 1;
	pthread_barrier_init(&start, NULL, (unsigned)clients + 1);
	for (long i = 0; i < clients; i++) {
		cs[i] = (struct echo_client){.path = argv[2],
		                             .warmup = warmup,
		                             .iterations = iterations,
		                             .duration_ns = (uint64_t)duration_ms * 1000000u,
		                             .start = &start};
		pthread_create(&cs[i].thread, NULL, echo_client_main, &cs[i]);
	}
	pthread_barrier_wait(&start);
	for (long i = 0; i < clients; i++) {
		pthread_join(cs[i].thread, NULL);
		bench_samples_merge(&all, &cs[i].samples);
		bench_samples_free(&cs[i].samples);
		errors += cs[i].errors;
		requests += cs[i].requests;
		if (cs[i].t_start < t0)
			t0 = cs[i].t_start;
		if (cs[i].t_end > t1)
			t1 = cs[i].t_end;
	}
	snprintf(extra, sizeof(extra), "\"errors\":%ld,\"clients\":%ld,\"requests\":%ld", errors,
	         clients, requests);
	bench_report("raw_echo", &all, t1 > t0 ? t1 - t0 : 0, extra);
	bench_samples_free(&all);
	free(cs);
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 3 && !strcmp(argv[1], "serve"))
		return echo_serve(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "client"))
		return echo_client(argc, argv);
	fprintf(stderr, "usage: raw_echo serve SOCKET | raw_echo client SOCKET [--clients N] "
	                "[--warmup N] [--iterations N | --duration-ms MS] [--cpu C]\n"
	                "       [--samples PREFIX]\n");
	return 2;
}
