/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The load client of the benchmarks: a minimal HTTP/1.1 keep-alive client
 * over AF_UNIX (write the request, read the head, then a Content-Length or
 * chunked body), the same code for the libmicrohttpd echo and for hwbrokerd,
 * so that their figures compare. Each mode prints JSON result lines
 * (bench_util.h) on stdout; --samples PREFIX also writes the raw samples.
 *
 *   hwb_load http SOCKET --req "METHOD PATH" [--body DATA] [--req ...]
 *                 [--clients N] [--warmup N] [--iterations N | --duration-ms MS]
 *                 [--cpu C] [--interval-us US] [--name NAME]
 *       round trips; several --req are cycled through (a set alternating 0/1);
 *       --interval-us paces each client (a pause after every reply).
 *   hwb_load events SOCKET ADMIN_SOCKET --chip CHIP --line N [--watchers W]
 *                 [--warmup N] [--iterations N] [--burst N] [--cpu C]
 *       simulated edge (admin pull) to the event in the client's hands, on W
 *       streams of one line; counts lost events (seq gaps, dropped markers).
 *   hwb_load uart SOCKET --port PORT [--bytes N] [--warmup N] [--iterations N]
 *       a write on one connection until the bytes are back on a stream.
 *   hwb_load idle --req "METHOD PATH" --per-socket K SOCKET...
 *       K connections per socket, each after one request; holds them open
 *       until stdin closes.
 *   hwb_load spawn [--warmup N] [--iterations N] [--cpu C] -- COMMAND ARGS...
 *       whole processes (fork, exec, wait), as a shell script runs them.
 *   hwb_load storm DAEMON [--starts N] [--clients N] [--dir DIR] [-- DAEMON_ARGS...]
 *       daemon starts; at READY=1 N clients connect at once and each does a
 *       request; counts crashes and refused clients. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define HTTP_BUF    (256 * 1024)
#define MAX_REQS    16
#define MAX_SOCKETS 1024

/* --- the HTTP client --- */

enum chunk_state { CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, CHUNK_DONE };

struct http_conn {
	int fd;
	char *buf;
	size_t off, len; /* unread bytes are buf[off, len) */
	/* A chunked stream being decoded. */
	enum chunk_state chunk;
	size_t chunk_left;
};

struct http_reply {
	int status;
	const char *body; /* inside the connection's buffer until the next read */
	size_t body_len;
	bool chunked;
};

static int http_open(struct http_conn *c, const char *path)
{
	/* A server that never answers fails the row instead of hanging the run. */
	struct timeval tv = {.tv_sec = 10};

	*c = (struct http_conn){.fd = -1};
	c->buf = malloc(HTTP_BUF);
	if (!c->buf)
		return -ENOMEM;
	c->fd = bench_connect_unix(path);
	if (c->fd < 0)
		return c->fd;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return 0;
}

static void http_close(struct http_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
}

/* One recv() into the buffer. Returns bytes read, 0 at EOF, or -errno. */
static ssize_t http_fill(struct http_conn *c)
{
	ssize_t n;

	if (c->off == c->len) {
		c->off = c->len = 0;
	} else if (c->len == HTTP_BUF) {
		memmove(c->buf, c->buf + c->off, c->len - c->off);
		c->len -= c->off;
		c->off = 0;
	}
	if (c->len == HTTP_BUF)
		return -EMSGSIZE;
	do
		n = recv(c->fd, c->buf + c->len, HTTP_BUF - c->len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	c->len += (size_t)n;
	return n;
}

static const char *http_find_header(const char *head, size_t len, const char *name)
{
	size_t nlen = strlen(name);

	for (const char *p = head; p && p < head + len;) {
		const char *nl = memchr(p, '\n', (size_t)(head + len - p));
		if (!nl)
			break;
		if ((size_t)(nl - p) > nlen && !strncasecmp(p, name, nlen) && p[nlen] == ':') {
			p += nlen + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
		p = nl + 1;
	}
	return NULL;
}

/* Parses a reply from the buffer: 1 when complete (a chunked reply: when its
 * head is complete), 0 when more bytes are needed, or -errno. */
static int http_parse_reply(struct http_conn *c, struct http_reply *r)
{
	const char *start = c->buf + c->off, *end;
	size_t avail = c->len - c->off, head_len, clen = 0;
	const char *v;

	end = memmem(start, avail, "\r\n\r\n", 4);
	if (!end)
		return 0;
	head_len = (size_t)(end - start) + 4;
	if (avail < 12 || memcmp(start, "HTTP/1.", 7) != 0)
		return -EPROTO;
	r->status = atoi(start + 9);
	v = http_find_header(start, head_len, "Transfer-Encoding");
	r->chunked = v && !strncasecmp(v, "chunked", 7);
	if (r->chunked) {
		c->off += head_len;
		c->chunk = CHUNK_SIZE;
		r->body = NULL;
		r->body_len = 0;
		return 1;
	}
	v = http_find_header(start, head_len, "Content-Length");
	if (v)
		clen = strtoul(v, NULL, 10);
	if (avail < head_len + clen)
		return head_len + clen > HTTP_BUF ? -EMSGSIZE : 0;
	r->body = start + head_len;
	r->body_len = clen;
	c->off += head_len + clen;
	return 1;
}

static int http_read_reply(struct http_conn *c, struct http_reply *r)
{
	for (;;) {
		int p = http_parse_reply(c, r);
		if (p)
			return p < 0 ? p : 0;
		ssize_t n = http_fill(c);
		if (n <= 0)
			return n < 0 ? (int)n : -ECONNRESET;
	}
}

/* Decodes chunked data already in the buffer into out. Returns the bytes
 * decoded (0: more input needed), or -EPIPE at the end of the stream. */
static ssize_t http_decode_chunks(struct http_conn *c, char *out, size_t cap)
{
	size_t done = 0;

	while (done < cap && c->off < c->len) {
		char *p = c->buf + c->off, *nl;
		size_t avail = c->len - c->off, n;
		switch (c->chunk) {
		case CHUNK_SIZE:
			nl = memchr(p, '\n', avail);
			if (!nl)
				return (ssize_t)done;
			c->chunk_left = strtoul(p, NULL, 16);
			c->off += (size_t)(nl - p) + 1;
			c->chunk = c->chunk_left ? CHUNK_DATA : CHUNK_DONE;
			break;
		case CHUNK_DATA:
			n = avail < c->chunk_left ? avail : c->chunk_left;
			if (n > cap - done)
				n = cap - done;
			memcpy(out + done, p, n);
			done += n;
			c->off += n;
			c->chunk_left -= n;
			if (!c->chunk_left)
				c->chunk = CHUNK_DATA_END;
			break;
		case CHUNK_DATA_END:
			nl = memchr(p, '\n', avail);
			if (!nl)
				return (ssize_t)done;
			c->off += (size_t)(nl - p) + 1;
			c->chunk = CHUNK_SIZE;
			break;
		case CHUNK_DONE:
			return done ? (ssize_t)done : -EPIPE;
		}
	}
	if (c->chunk == CHUNK_DONE && !done)
		return -EPIPE;
	return (ssize_t)done;
}

/* Blocks until some chunked data arrives. */
static ssize_t http_read_chunks(struct http_conn *c, char *out, size_t cap)
{
	for (;;) {
		ssize_t d = http_decode_chunks(c, out, cap);
		if (d)
			return d;
		ssize_t n = http_fill(c);
		if (n <= 0)
			return n < 0 ? n : -ECONNRESET;
	}
}

struct http_request {
	char *text;
	size_t len;
};

static int http_format(struct http_request *r, const char *method_path, const char *body,
                       size_t body_len, const char *type)
{
	char head[1024];
	int n;

	if (body)
		n = snprintf(head, sizeof(head),
		             "%s HTTP/1.1\r\nHost: hwbroker\r\nContent-Type: %s\r\n"
		             "Content-Length: %zu\r\n\r\n",
		             method_path, type, body_len);
	else
		n = snprintf(head, sizeof(head), "%s HTTP/1.1\r\nHost: hwbroker\r\n\r\n",
		             method_path);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -ENAMETOOLONG;
	r->len = (size_t)n + (body ? body_len : 0);
	r->text = malloc(r->len);
	if (!r->text)
		return -ENOMEM;
	memcpy(r->text, head, (size_t)n);
	if (body)
		memcpy(r->text + n, body, body_len);
	return 0;
}

/* One request, one complete reply. */
static int http_round_trip(struct http_conn *c, const struct http_request *req,
                           struct http_reply *r)
{
	int e = bench_write_all(c->fd, req->text, req->len);

	return e < 0 ? e : http_read_reply(c, r);
}

/* --- options --- */

struct options {
	const char *name;
	const char *socket;
	const char *admin;
	struct http_request reqs[MAX_REQS];
	int n_reqs;
	long clients, warmup, iterations, duration_ms, cpu, interval_us;
	const char *chip;
	long line, watchers, burst, bytes, per_socket, starts;
	const char *port, *dir;
	const char *positional[MAX_SOCKETS];
	int n_positional;
	char **rest; /* after "--" */
	int n_rest;
};

static void usage(void)
{
	fprintf(stderr, "usage: hwb_load http|events|uart|idle|spawn|storm ... (see the source's "
	                "opening comment)\n");
	exit(2);
}

static void options_parse(struct options *o, int argc, char **argv)
{
	const char *pending = NULL;

	*o = (struct options){.clients = 1,
	                      .warmup = 200,
	                      .iterations = 2000,
	                      .cpu = -1,
	                      .line = -1,
	                      .watchers = 1,
	                      .bytes = 16,
	                      .per_socket = 1,
	                      .starts = 5};
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		long *num = NULL;
		if (!strcmp(a, "--")) {
			o->rest = argv + i + 1;
			o->n_rest = argc - i - 1;
			break;
		}
		if (a[0] != '-' || a[1] != '-') {
			if (o->n_positional == MAX_SOCKETS)
				usage();
			o->positional[o->n_positional++] = a;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--req")) {
			if (pending && o->n_reqs < MAX_REQS &&
			    http_format(&o->reqs[o->n_reqs++], pending, NULL, 0, NULL) < 0)
				usage();
			pending = v;
		} else if (!strcmp(a, "--body")) {
			if (!pending || o->n_reqs == MAX_REQS ||
			    http_format(&o->reqs[o->n_reqs++], pending, v, strlen(v),
			                "application/json") < 0)
				usage();
			pending = NULL;
		} else if (!strcmp(a, "--name")) {
			o->name = v;
		} else if (!strcmp(a, "--chip")) {
			o->chip = v;
		} else if (!strcmp(a, "--port")) {
			o->port = v;
		} else if (!strcmp(a, "--dir")) {
			o->dir = v;
		} else if (!strcmp(a, "--samples")) {
			bench_set_samples_prefix(v);
		} else if (!strcmp(a, "--clients")) {
			num = &o->clients;
		} else if (!strcmp(a, "--warmup")) {
			num = &o->warmup;
		} else if (!strcmp(a, "--iterations")) {
			num = &o->iterations;
		} else if (!strcmp(a, "--duration-ms")) {
			num = &o->duration_ms;
		} else if (!strcmp(a, "--cpu")) {
			num = &o->cpu;
		} else if (!strcmp(a, "--interval-us")) {
			num = &o->interval_us;
		} else if (!strcmp(a, "--line")) {
			num = &o->line;
		} else if (!strcmp(a, "--watchers")) {
			num = &o->watchers;
		} else if (!strcmp(a, "--burst")) {
			num = &o->burst;
		} else if (!strcmp(a, "--bytes")) {
			num = &o->bytes;
		} else if (!strcmp(a, "--per-socket")) {
			num = &o->per_socket;
		} else if (!strcmp(a, "--starts")) {
			num = &o->starts;
		} else {
			fprintf(stderr, "hwb_load: unknown option %s\n", a);
			usage();
		}
		if (num)
			*num = bench_parse_long(a, v);
	}
	if (pending && (o->n_reqs == MAX_REQS ||
	                http_format(&o->reqs[o->n_reqs++], pending, NULL, 0, NULL) < 0))
		usage();
	if (o->clients < 1 || o->clients > 4096)
		usage();
	if (bench_pin_cpu((int)o->cpu) < 0) {
		perror("hwb_load: sched_setaffinity");
		exit(2);
	}
}

/* --- http: round trips from N clients --- */

struct http_client {
	pthread_t thread;
	const struct options *o;
	pthread_barrier_t *start;
	struct bench_samples samples;
	uint64_t t_start, t_end;
	long errors, requests;
	int last_status;
	char last_body[200];
};

static int http_client_step(struct http_client *c, struct http_conn *conn, long i)
{
	struct http_reply r = {0};
	int e = http_round_trip(conn, &c->o->reqs[i % c->o->n_reqs], &r);

	c->requests++;
	if (e < 0)
		return e;
	if (r.chunked) /* a one-shot request never streams: an error of the setup */
		return -EPROTO;
	if (r.status < 200 || r.status > 299) {
		c->last_status = r.status;
		snprintf(c->last_body, sizeof(c->last_body), "%.*s",
		         (int)(r.body_len < 150 ? r.body_len : 150), r.body);
		c->errors++;
	}
	return 0;
}

static void *http_client_main(void *data)
{
	struct http_client *c = data;
	const struct options *o = c->o;
	struct http_conn conn;
	int e = http_open(&conn, o->socket);

	if (e < 0) {
		fprintf(stderr, "hwb_load: connect %s: %s\n", o->socket, strerror(-e));
		c->errors++;
	}
	for (long i = 0; e == 0 && i < o->warmup; i++)
		if ((e = http_client_step(c, &conn, i)) < 0)
			c->errors++;
	pthread_barrier_wait(c->start);
	c->t_start = bench_now_ns();
	for (long i = 0; e == 0; i++) {
		uint64_t t0 = bench_now_ns();
		if (o->duration_ms ? t0 - c->t_start >= (uint64_t)o->duration_ms * 1000000u
		                   : i >= o->iterations)
			break;
		if ((e = http_client_step(c, &conn, o->warmup + i)) < 0) {
			fprintf(stderr, "hwb_load: %s: %s\n", o->socket, strerror(-e));
			c->errors++;
			break;
		}
		bench_samples_add(&c->samples, bench_now_ns() - t0);
		if (o->interval_us)
			usleep((useconds_t)o->interval_us);
	}
	c->t_end = bench_now_ns();
	http_close(&conn);
	return NULL;
}

static int mode_http(struct options *o)
{
	struct bench_samples all = {0};
	pthread_barrier_t start;
	uint64_t t0 = UINT64_MAX, t1 = 0;
	long errors = 0, requests = 0;
	char extra[128];

	if (o->n_positional != 1 || !o->n_reqs)
		usage();
	o->socket = o->positional[0];
	struct http_client *cs = calloc((size_t)o->clients, sizeof(*cs));
	if (!cs)
		return 1;
	pthread_barrier_init(&start, NULL, (unsigned)o->clients + 1);
	for (long i = 0; i < o->clients; i++) {
		cs[i] = (struct http_client){.o = o, .start = &start};
		pthread_create(&cs[i].thread, NULL, http_client_main, &cs[i]);
	}
	pthread_barrier_wait(&start);
	for (long i = 0; i < o->clients; i++) {
		pthread_join(cs[i].thread, NULL);
		bench_samples_merge(&all, &cs[i].samples);
		bench_samples_free(&cs[i].samples);
		errors += cs[i].errors;
		requests += cs[i].requests;
		if (cs[i].last_status)
			fprintf(stderr, "hwb_load: status %d: %s\n", cs[i].last_status,
			        cs[i].last_body);
		if (cs[i].t_start < t0)
			t0 = cs[i].t_start;
		if (cs[i].t_end > t1)
			t1 = cs[i].t_end;
	}
	snprintf(extra, sizeof(extra), "\"errors\":%ld,\"clients\":%ld,\"requests\":%ld", errors,
	         o->clients, requests);
	bench_report(o->name ? o->name : "http", &all, t1 > t0 ? t1 - t0 : 0, extra);
	bench_samples_free(&all);
	free(cs);
	return errors ? 1 : 0;
}

/* --- events: edge to event, on W watchers of one line --- */

struct watcher {
	struct http_conn conn;
	char line[4096];
	size_t line_len;
	long last_seq;
	long gaps;    /* events missing from the seq numbering */
	long dropped; /* announced by {"dropped":N} */
	long received;
};

/* Consumes whatever arrived on a watcher's stream. Returns 0 or -errno. */
static int watcher_pump(struct watcher *w, bool *got_event)
{
	char data[8192];
	ssize_t n = http_fill(&w->conn);

	if (n <= 0)
		return n < 0 ? (int)n : -ECONNRESET;
	while ((n = http_decode_chunks(&w->conn, data, sizeof(data))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (data[i] != '\n') {
				if (w->line_len < sizeof(w->line) - 1)
					w->line[w->line_len++] = data[i];
				continue;
			}
			w->line[w->line_len] = '\0';
			w->line_len = 0;
			const char *p;
			if ((p = strstr(w->line, "\"dropped\":"))) {
				w->dropped += atol(p + 10);
			} else if ((p = strstr(w->line, "\"seq\":"))) {
				long seq = atol(p + 6);
				if (seq > w->last_seq + 1)
					w->gaps += seq - w->last_seq - 1;
				w->last_seq = seq;
				w->received++;
				*got_event = true;
			} else if (strstr(w->line, "\"error\"")) {
				fprintf(stderr, "hwb_load: stream error: %s\n", w->line);
				return -EPIPE;
			}
		}
	}
	return n == -EPIPE ? -EPIPE : 0;
}

struct event_run {
	struct watcher *ws;
	long n_watchers;
	struct http_conn admin;
	struct http_request pull[2];
	long pulls; /* edges caused so far: the seq every watcher should reach */
	long timeouts;
};

/* Waits for the pending admin reply (when admin_pending) and, when wait_all,
 * for every watcher to have seen edge number er->pulls. first/all get the
 * time from t0 to the first watcher's event and to the last one's. */
static int event_wait(struct event_run *er, bool admin_pending, bool wait_all, uint64_t t0,
                      uint64_t *first, uint64_t *all)
{
	static struct pollfd pfd[1 + 1024];
	uint64_t deadline = bench_now_ns() + 2000000000u;
	long waiting = 0;
	int e;

	*first = *all = 0;
	for (long i = 0; i < er->n_watchers; i++)
		if (er->ws[i].last_seq < er->pulls)
			waiting++;
	while (admin_pending || (wait_all && waiting > 0)) {
		uint64_t now = bench_now_ns();
		if (now >= deadline) {
			er->timeouts++;
			return admin_pending ? -ETIMEDOUT : 0;
		}
		pfd[0] = (struct pollfd){.fd = admin_pending ? er->admin.fd : -1, .events = POLLIN};
		for (long i = 0; i < er->n_watchers; i++)
			pfd[1 + i] = (struct pollfd){.fd = er->ws[i].conn.fd, .events = POLLIN};
		if (poll(pfd, (nfds_t)(1 + er->n_watchers), (int)((deadline - now) / 1000000 + 1)) <
		    0)
			return -errno;
		now = bench_now_ns();
		for (long i = 0; i < er->n_watchers; i++) {
			struct watcher *w = &er->ws[i];
			bool got = false, was_waiting = w->last_seq < er->pulls;
			if (!(pfd[1 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if ((e = watcher_pump(w, &got)) < 0)
				return e;
			if (was_waiting && w->last_seq >= er->pulls) {
				waiting--;
				if (!*first)
					*first = now - t0;
				if (!waiting)
					*all = now - t0;
			}
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			struct http_reply r = {0};
			int p;
			if (http_fill(&er->admin) <= 0)
				return -ECONNRESET;
			if ((p = http_parse_reply(&er->admin, &r)) < 0)
				return p;
			if (p == 1) {
				if (r.status < 200 || r.status > 299) {
					fprintf(stderr, "hwb_load: pull: %d %.*s\n", r.status,
					        (int)r.body_len, r.body);
					return -EIO;
				}
				admin_pending = false;
			}
		}
	}
	return 0;
}

/* Sends one pull (an edge: they alternate up and down) and waits. */
static int event_pull(struct event_run *er, bool wait_all, uint64_t *first, uint64_t *all)
{
	const struct http_request *req = &er->pull[er->pulls & 1];
	uint64_t t0 = bench_now_ns();
	int e = bench_write_all(er->admin.fd, req->text, req->len);

	if (e < 0)
		return e;
	er->pulls++;
	return event_wait(er, true, wait_all, t0, first, all);
}

static long event_received(const struct event_run *er)
{
	long n = 0;

	for (long i = 0; i < er->n_watchers; i++)
		n += er->ws[i].received;
	return n;
}

static int mode_events(struct options *o)
{
	struct event_run er = {0};
	struct bench_samples first = {0}, all = {0};
	char path[256], body[64], extra[512];
	long lost = 0, dropped = 0, received = 0, burst_expected = 0, burst_received = 0;
	int e = 0;

	if (o->n_positional != 2 || !o->chip || o->line < 0 || o->watchers < 1 ||
	    o->watchers > 1024)
		usage();
	er.n_watchers = o->watchers;
	er.ws = calloc((size_t)o->watchers, sizeof(*er.ws));
	if (!er.ws)
		return 1;
	if ((e = http_open(&er.admin, o->positional[1])) < 0) {
		fprintf(stderr, "hwb_load: admin: %s\n", strerror(-e));
		return 1;
	}
	/* A known level first, so that every later pull is an edge. */
	snprintf(path, sizeof(path), "POST /v1/sim/gpio/%s/%ld", o->chip, o->line);
	for (int i = 0; i < 2; i++) {
		snprintf(body, sizeof(body), "{\"pull\":\"%s\"}", i ? "down" : "up");
		http_format(&er.pull[i], path, body, strlen(body), "application/json");
	}
	struct http_reply r = {0};
	if ((e = http_round_trip(&er.admin, &er.pull[1], &r)) < 0 || r.status != 200) {
		fprintf(stderr, "hwb_load: initial pull failed (%d)\n", e < 0 ? e : r.status);
		return 1;
	}
	snprintf(path, sizeof(path), "GET /v1/gpio/%s/%ld/events?edge=both", o->chip, o->line);
	struct http_request watch;
	http_format(&watch, path, NULL, 0, NULL);
	for (long i = 0; i < o->watchers; i++) {
		struct watcher *w = &er.ws[i];
		if ((e = http_open(&w->conn, o->positional[0])) < 0 ||
		    (e = http_round_trip(&w->conn, &watch, &r)) < 0 || r.status != 200 ||
		    !r.chunked) {
			fprintf(stderr, "hwb_load: watcher %ld: %s (status %d) %.*s\n", i,
			        strerror(e < 0 ? -e : EPROTO), e < 0 ? 0 : r.status,
			        e < 0 ? 0 : (int)r.body_len, e < 0 ? "" : r.body);
			return 1;
		}
	}
	for (long i = 0; i < o->warmup + o->iterations; i++) {
		uint64_t f, a;
		if ((e = event_pull(&er, true, &f, &a)) < 0)
			break;
		if (i >= o->warmup && f && a) {
			bench_samples_add(&first, f);
			bench_samples_add(&all, a);
		}
	}
	/* The burst: pulls as fast as the admin answers them, the streams read as
	 * they come; then every watcher should reach the last edge. */
	long received_before = event_received(&er);
	for (long i = 0; e == 0 && i < o->burst; i++) {
		uint64_t f, a;
		e = event_pull(&er, false, &f, &a);
	}
	if (e == 0 && o->burst) {
		uint64_t f, a;
		e = event_wait(&er, false, true, bench_now_ns(), &f, &a);
	}
	burst_expected = o->burst * o->watchers;
	burst_received = event_received(&er) - received_before;
	for (long i = 0; i < o->watchers; i++) {
		lost += er.ws[i].gaps + (er.pulls - er.ws[i].last_seq);
		dropped += er.ws[i].dropped;
		received += er.ws[i].received;
		http_close(&er.ws[i].conn);
	}
	snprintf(extra, sizeof(extra),
	         "\"watchers\":%ld,\"events_expected\":%ld,\"events_received\":%ld,"
	         "\"events_lost\":%ld,\"dropped_markers\":%ld,\"timeouts\":%ld,"
	         "\"burst_expected\":%ld,\"burst_received\":%ld,\"errors\":%d,"
	         "\"requests\":%ld",
	         o->watchers, er.pulls * o->watchers, received, lost, dropped, er.timeouts,
	         burst_expected, burst_received, e < 0 ? 1 : 0, er.pulls + 1 + o->watchers);
	if (e < 0)
		fprintf(stderr, "hwb_load: events: %s\n", strerror(-e));
	bench_report("event_first", &first, 0, extra);
	bench_report("event_all", &all, 0, extra);
	bench_samples_free(&first);
	bench_samples_free(&all);
	http_close(&er.admin);
	free(er.pull[0].text);
	free(er.pull[1].text);
	free(watch.text);
	free(er.ws);
	return e < 0 || er.timeouts ? 1 : 0;
}

/* --- uart: write to read latency on a loopback port --- */

static int mode_uart(struct options *o)
{
	struct http_conn writer, reader;
	struct http_request write_req, stream_req;
	struct http_reply r = {0};
	struct bench_samples s = {0};
	char path[256], data[65536], payload[4096], extra[128];
	long errors = 0;
	int e;

	if (o->n_positional != 1 || !o->port || o->bytes < 1 || o->bytes > 4096)
		usage();
	for (long i = 0; i < o->bytes; i++)
		payload[i] = (char)('a' + i % 26);
	snprintf(path, sizeof(path), "POST /v1/uart/%s/write", o->port);
	http_format(&write_req, path, payload, (size_t)o->bytes, "application/octet-stream");
	snprintf(path, sizeof(path), "GET /v1/uart/%s/stream", o->port);
	http_format(&stream_req, path, NULL, 0, NULL);
	if ((e = http_open(&writer, o->positional[0])) < 0 ||
	    (e = http_open(&reader, o->positional[0])) < 0) {
		fprintf(stderr, "hwb_load: connect: %s\n", strerror(-e));
		return 1;
	}
	/* The write takes the port's lease; the stream then reads in it. */
	if ((e = http_round_trip(&writer, &write_req, &r)) < 0 || r.status != 200 ||
	    (e = http_round_trip(&reader, &stream_req, &r)) < 0 || r.status != 200 || !r.chunked) {
		fprintf(stderr, "hwb_load: uart setup failed: %s / %d %.*s\n",
		        e < 0 ? strerror(-e) : "", e < 0 ? 0 : r.status,
		        e < 0 ? 0 : (int)r.body_len, e < 0 ? "" : r.body);
		return 1;
	}
	/* What the setup write echoed (it may have been buffered before the stream). */
	for (long got = 0; got < o->bytes;) {
		ssize_t n = http_read_chunks(&reader, data, sizeof(data));
		if (n < 0)
			return 1;
		got += n;
	}
	for (long i = 0; i < o->warmup + o->iterations; i++) {
		uint64_t t0 = bench_now_ns();
		if ((e = http_round_trip(&writer, &write_req, &r)) < 0 || r.status != 200) {
			errors++;
			break;
		}
		long got = 0;
		while (got < o->bytes) {
			ssize_t n = http_read_chunks(&reader, data, sizeof(data));
			if (n < 0) {
				e = (int)n;
				break;
			}
			got += n;
		}
		if (e < 0) {
			errors++;
			break;
		}
		if (i >= o->warmup)
			bench_samples_add(&s, bench_now_ns() - t0);
	}
	snprintf(extra, sizeof(extra), "\"errors\":%ld,\"bytes\":%ld,\"requests\":%ld", errors,
	         o->bytes, o->warmup + o->iterations + 2);
	bench_report("uart", &s, 0, extra);
	bench_samples_free(&s);
	http_close(&writer);
	http_close(&reader);
	free(write_req.text);
	free(stream_req.text);
	return errors ? 1 : 0;
}

/* --- idle: many kept-alive connections --- */

static int mode_idle(struct options *o)
{
	long opened = 0, failed = 0, n = (long)o->n_positional * o->per_socket;
	int *fds = malloc((size_t)(n ? n : 1) * sizeof(*fds));
	char c;

	if (!o->n_positional || o->n_reqs != 1 || !fds)
		usage();
	for (int s = 0; s < o->n_positional; s++) {
		for (long k = 0; k < o->per_socket; k++) {
			struct http_conn conn;
			struct http_reply r = {0};
			if (http_open(&conn, o->positional[s]) < 0 ||
			    http_round_trip(&conn, &o->reqs[0], &r) < 0 || r.status != 200) {
				http_close(&conn);
				failed++;
				continue;
			}
			/* Keep the fd, drop the buffer: we only hold the connection. */
			fds[opened++] = conn.fd;
			conn.fd = -1;
			http_close(&conn);
		}
	}
	printf("{\"name\":\"idle\",\"opened\":%ld,\"failed\":%ld}\n", opened, failed);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (long i = 0; i < opened; i++)
		close(fds[i]);
	free(fds);
	return failed ? 1 : 0;
}

/* --- spawn: whole processes --- */

static int mode_spawn(struct options *o)
{
	struct bench_samples s = {0};
	long errors = 0;
	char extra[64];
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (!o->n_rest || devnull < 0)
		usage();
	for (long i = 0; i < o->warmup + o->iterations; i++) {
		int status;
		uint64_t t0 = bench_now_ns();
		pid_t pid = fork();
		if (pid == 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
			execvp(o->rest[0], o->rest);
			_exit(127);
		}
		if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			errors++;
			continue;
		}
		if (i >= o->warmup)
			bench_samples_add(&s, bench_now_ns() - t0);
	}
	snprintf(extra, sizeof(extra), "\"errors\":%ld,\"requests\":%ld", errors,
	         o->warmup + o->iterations);
	bench_report(o->name ? o->name : "spawn", &s, 0, extra);
	bench_samples_free(&s);
	close(devnull);
	return errors ? 1 : 0;
}

/* --- storm: daemon starts with simultaneous clients --- */

enum storm_outcome { STORM_OK, STORM_REFUSED, STORM_ERROR };

struct storm_client {
	pthread_t thread;
	pthread_barrier_t *go, *done;
	const char *socket;
	const struct http_request *req;
	volatile bool quit;
	struct http_conn conn; /* held open across the daemon's SIGTERM */
	enum storm_outcome outcome;
	char detail[160];
};

static enum storm_outcome storm_request(struct storm_client *c)
{
	struct http_conn *conn = &c->conn;
	struct http_reply r = {0};
	struct timeval tv = {.tv_sec = 5};
	int e = http_open(conn, c->socket);

	if (e < 0) {
		snprintf(c->detail, sizeof(c->detail), "connect: %s", strerror(-e));
		return STORM_REFUSED;
	}
	setsockopt(conn->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	e = http_round_trip(conn, c->req, &r);
	if (e < 0) {
		snprintf(c->detail, sizeof(c->detail), "request: %s", strerror(-e));
		return e == -EAGAIN ? STORM_ERROR : STORM_REFUSED;
	}
	snprintf(c->detail, sizeof(c->detail), "%d %.*s", r.status,
	         (int)(r.body_len < 120 ? r.body_len : 120), r.body);
	if (r.status == 503)
		return STORM_REFUSED;
	return r.status >= 200 && r.status <= 299 ? STORM_OK : STORM_ERROR;
}

static void *storm_client_main(void *data)
{
	struct storm_client *c = data;

	for (;;) {
		pthread_barrier_wait(c->go);
		if (c->quit)
			return NULL;
		c->outcome = storm_request(c);
		pthread_barrier_wait(c->done);
	}
}

static pid_t storm_spawn(const struct options *o, const char *daemon, const char *dir,
                         const char *notify_path, int log_fd)
{
	char runtime[300], state[300];
	char *argv[64];
	int n = 0;
	pid_t pid;

	snprintf(runtime, sizeof(runtime), "%s/run", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	argv[n++] = (char *)daemon;
	argv[n++] = "--sim";
	argv[n++] = "--runtime-dir";
	argv[n++] = runtime;
	argv[n++] = "--state-dir";
	argv[n++] = state;
	argv[n++] = "--log-level";
	argv[n++] = "warn";
	for (int i = 0; i < o->n_rest && n < 63; i++)
		argv[n++] = o->rest[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		setenv("NOTIFY_SOCKET", notify_path, 1);
		dup2(log_fd, 1);
		dup2(log_fd, 2);
		execv(daemon, argv);
		_exit(127);
	}
	return pid;
}

/* Waits for READY=1. Returns 0, -ETIMEDOUT, or -ECHILD when the daemon died
 * (its status in *status). */
static int storm_wait_ready(int notify_fd, pid_t pid, int *status)
{
	uint64_t deadline = bench_now_ns() + 10000000000u;

	while (bench_now_ns() < deadline) {
		struct pollfd p = {.fd = notify_fd, .events = POLLIN};
		char msg[512];
		if (poll(&p, 1, 20) > 0) {
			ssize_t n = recv(notify_fd, msg, sizeof(msg) - 1, 0);
			if (n > 0) {
				msg[n] = '\0';
				if (strstr(msg, "READY=1"))
					return 0;
			}
			continue;
		}
		if (waitpid(pid, status, WNOHANG) == pid)
			return -ECHILD;
	}
	return -ETIMEDOUT;
}

/* SIGTERM and the exit status; a daemon that does not stop in 10 s is killed. */
static int storm_stop(pid_t pid, int *status)
{
	kill(pid, SIGTERM);
	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return -ETIMEDOUT;
}

static int storm_register(const struct options *o, const char *daemon, const char *dir,
                          const char *notify_path, int notify_fd, int log_fd)
{
	char admin[320], path[320];
	struct http_conn conn;
	struct http_request req;
	struct http_reply r = {0};
	const char *body = "{\"devices\":[\"/dev/gpiochip0\"]}";
	int status, e;
	pid_t pid = storm_spawn(o, daemon, dir, notify_path, log_fd);

	if (pid < 0 || storm_wait_ready(notify_fd, pid, &status) < 0)
		return -EIO;
	snprintf(admin, sizeof(admin), "%s/run/admin.sock", dir);
	snprintf(path, sizeof(path), "PUT /v1/services/storm");
	http_format(&req, path, body, strlen(body), "application/json");
	e = http_open(&conn, admin);
	if (e == 0)
		e = http_round_trip(&conn, &req, &r);
	if (e == 0 && r.status != 200 && r.status != 201)
		e = -EIO;
	http_close(&conn);
	free(req.text);
	if (storm_stop(pid, &status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		e = e ? e : -EIO;
	return e;
}

static int mode_storm(struct options *o)
{
	char dir[256], notify_path[320], log_path[320], sock[320], extra[1024];
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct http_request req;
	struct bench_samples ready = {0};
	pthread_barrier_t go, done;
	long crashes = 0, not_ready = 0, hangs = 0, ok = 0, refused = 0, errors = 0;
	int notify_fd, log_fd, status;
	const char *daemon;

	if (o->n_positional != 1)
		usage();
	daemon = o->positional[0];
	if (o->dir)
		snprintf(dir, sizeof(dir), "%s", o->dir);
	else
		snprintf(dir, sizeof(dir), "/tmp/hwb-storm-XXXXXX");
	if (!o->dir && !mkdtemp(dir)) {
		perror("hwb_load: mkdtemp");
		return 1;
	}
	snprintf(notify_path, sizeof(notify_path), "%s/notify.sock", dir);
	snprintf(log_path, sizeof(log_path), "%s/hwbrokerd.log", dir);
	snprintf(sock, sizeof(sock), "%s/run/services/storm/hwbroker.sock", dir);
	memcpy(addr.sun_path, notify_path, strlen(notify_path));
	unlink(notify_path);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (notify_fd < 0 || log_fd < 0 ||
	    bind(notify_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("hwb_load: notify socket");
		return 1;
	}
	/* Registered once: every later start restores it from the state directory,
	 * so the service socket must be there at READY=1. */
	if (storm_register(o, daemon, dir, notify_path, notify_fd, log_fd) < 0) {
		fprintf(stderr, "hwb_load: storm: cannot register the service (log: %s)\n",
		        log_path);
		return 1;
	}
	http_format(&req, "GET /v1/gpio/gpiochip0/5", NULL, 0, NULL);
	struct storm_client *cs = calloc((size_t)o->clients, sizeof(*cs));
	if (!cs)
		return 1;
	pthread_barrier_init(&go, NULL, (unsigned)o->clients + 1);
	pthread_barrier_init(&done, NULL, (unsigned)o->clients + 1);
	for (long i = 0; i < o->clients; i++) {
		cs[i] = (struct storm_client){
		        .go = &go, .done = &done, .socket = sock, .req = &req, .conn = {.fd = -1}};
		pthread_create(&cs[i].thread, NULL, storm_client_main, &cs[i]);
	}
	for (long s = 0; s < o->starts; s++) {
		uint64_t t0 = bench_now_ns();
		pid_t pid = storm_spawn(o, daemon, dir, notify_path, log_fd);
		int r = pid < 0 ? -EIO : storm_wait_ready(notify_fd, pid, &status);
		if (r == -ECHILD) {
			crashes++;
			fprintf(stderr, "hwb_load: start %ld: died before READY (status 0x%x)\n", s,
			        status);
			continue;
		}
		if (r < 0) {
			not_ready++;
			fprintf(stderr, "hwb_load: start %ld: not ready\n", s);
			storm_stop(pid, &status);
			continue;
		}
		bench_samples_add(&ready, bench_now_ns() - t0);
		pthread_barrier_wait(&go);
		pthread_barrier_wait(&done);
		for (long i = 0; i < o->clients; i++) {
			if (cs[i].outcome == STORM_OK) {
				ok++;
				continue;
			}
			if (cs[i].outcome == STORM_REFUSED)
				refused++;
			else
				errors++;
			fprintf(stderr, "hwb_load: start %ld client %ld: %s\n", s, i, cs[i].detail);
		}
		/* The clients' connections are still open: the daemon stops with them. */
		int stopped = storm_stop(pid, &status);
		for (long i = 0; i < o->clients; i++)
			http_close(&cs[i].conn);
		if (stopped < 0) {
			hangs++;
			fprintf(stderr, "hwb_load: start %ld: did not stop on SIGTERM\n", s);
		} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			crashes++;
			if (WIFSIGNALED(status))
				fprintf(stderr, "hwb_load: start %ld: killed by signal %d\n", s,
				        WTERMSIG(status));
			else
				fprintf(stderr, "hwb_load: start %ld: exit status %d\n", s,
				        WEXITSTATUS(status));
		}
	}
	for (long i = 0; i < o->clients; i++)
		cs[i].quit = true;
	pthread_barrier_wait(&go);
	for (long i = 0; i < o->clients; i++)
		pthread_join(cs[i].thread, NULL);
	snprintf(extra, sizeof(extra),
	         "\"starts\":%ld,\"crashes\":%ld,\"not_ready\":%ld,\"hangs\":%ld,"
	         "\"clients_ok\":%ld,\"clients_refused\":%ld,\"clients_failed\":%ld,"
	         "\"log\":\"%s\"",
	         o->starts, crashes, not_ready, hangs, ok, refused, errors, log_path);
	/* The samples: start to READY=1. */
	bench_report("storm", &ready, 0, extra);
	bench_samples_free(&ready);
	free(cs);
	free(req.text);
	close(notify_fd);
	close(log_fd);
	return crashes || not_ready || hangs || refused || errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct options *o);
	} modes[] = {{"http", mode_http}, {"events", mode_events}, {"uart", mode_uart},
	             {"idle", mode_idle}, {"spawn", mode_spawn},   {"storm", mode_storm}};
	struct options o;
	int status = 2;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		usage();
	options_parse(&o, argc, argv);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (!strcmp(argv[1], modes[i].name))
			status = modes[i].run(&o);
	for (int i = 0; i < o.n_reqs; i++)
		free(o.reqs[i].text);
	if (status == 2)
		usage();
	return status;
}
