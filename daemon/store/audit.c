/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The audit log: records are formatted on the loop thread and written in
 * batches on the writer thread (one write and one fdatasync per log and
 * batch: a group commit), so neither a flood of denials nor a slow disk
 * stalls the event loop. */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"
#include "writer.h"

#define AUDIT_MAX_LINE   4096
#define AUDIT_QUERY_MAX  1000
#define AUDIT_RATE_SLOTS 256
#define AUDIT_MAX_GENS   16

enum audit_file { AUDIT_EVENTS, AUDIT_DENIALS, AUDIT_FILES };

struct audit_waiter {
	void (*done)(void *data, int err);
	void *data;
	struct audit_waiter *next;
};

/* One writer job: what to append to each log, and who waits for it. */
struct audit_batch {
	struct writer_job job;
	struct audit *a;
	char *buf[AUDIT_FILES];
	size_t len[AUDIT_FILES], cap[AUDIT_FILES];
	struct audit_waiter *waiters, *waiters_tail;
};

/* Touched on the writer thread only, once open. */
struct audit_log {
	char path[512];
	int fd;
	size_t size;
};

struct audit_rate {
	char service[64];
	uint64_t window_ms;
	unsigned count;
	uint64_t dropped;
};

struct audit {
	struct loop *loop;
	struct writer *writer;
	size_t max_bytes;
	unsigned generations;
	unsigned denials_per_sec;
	struct audit_log logs[AUDIT_FILES];
	struct audit_batch *pending; /* filling, on the loop thread */
	bool in_flight;              /* a batch is with the writer */
	struct audit_rate rates[AUDIT_RATE_SLOTS];
	size_t n_rates;
	struct loop_timer *summary_timer;
};

static int audit_open_log(struct audit_log *l)
{
	struct stat st;

	l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (l->fd < 0)
		return -errno;
	l->size = fstat(l->fd, &st) == 0 ? (size_t)st.st_size : 0;
	return 0;
}

struct audit *audit_open(const struct audit_options *opt, struct loop *loop, struct writer *w)
{
	struct audit *a = calloc(1, sizeof(*a));
	static const char *const names[AUDIT_FILES] = {"audit.log", "denials.log"};

	if (!a)
		return NULL;
	a->loop = loop;
	a->writer = w;
	a->max_bytes = opt->max_bytes ? opt->max_bytes : 1u << 20;
	a->generations = opt->generations < AUDIT_MAX_GENS ? opt->generations : AUDIT_MAX_GENS;
	a->denials_per_sec = opt->denials_per_sec;
	for (int i = 0; i < AUDIT_FILES; i++) {
		snprintf(a->logs[i].path, sizeof(a->logs[i].path), "%s/%s", opt->state_dir,
		         names[i]);
		if (audit_open_log(&a->logs[i]) < 0) {
			log_error("audit", "%s: %s", a->logs[i].path, strerror(errno));
			while (i-- > 0)
				close(a->logs[i].fd);
			free(a);
			return NULL;
		}
	}
	return a;
}

/* --- the writer side --- */

/* audit.log -> audit.log.1 -> ... -> audit.log.G; the oldest goes. */
static int audit_rotate(struct audit *a, struct audit_log *l)
{
	char from[530], to[530];

	close(l->fd);
	for (unsigned g = a->generations; g > 0; g--) {
		if (g == 1)
			snprintf(from, sizeof(from), "%s", l->path);
		else
			snprintf(from, sizeof(from), "%s.%u", l->path, g - 1);
		snprintf(to, sizeof(to), "%s.%u", l->path, g);
		if (rename(from, to) < 0 && errno != ENOENT)
			log_warn("audit", "cannot rotate %s: %s", from, strerror(errno));
	}
	if (!a->generations && truncate(l->path, 0) < 0)
		log_warn("audit", "cannot empty %s: %s", l->path, strerror(errno));
	return audit_open_log(l);
}

static int audit_write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		off += (size_t)n;
	}
	return 0;
}

/* Whole lines, rotating between them so that no file grows past max_bytes
 * (one longer line excepted); each file is synced before it is rotated. */
static int audit_append(struct audit *a, struct audit_log *l, const char *buf, size_t len)
{
	int r;

	if (l->fd < 0 && (r = audit_open_log(l)) < 0)
		return r;
	while (len) {
		size_t chunk = 0;
		while (chunk < len) {
			const char *nl = memchr(buf + chunk, '\n', len - chunk);
			size_t next = nl ? (size_t)(nl - buf) + 1 : len;
			if (l->size + next > a->max_bytes && (chunk || l->size))
				break;
			chunk = next;
		}
		if (!chunk) {
			if (fdatasync(l->fd) < 0)
				return -errno;
			if ((r = audit_rotate(a, l)) < 0)
				return r;
			continue;
		}
		if ((r = audit_write_all(l->fd, buf, chunk)) < 0)
			return r;
		l->size += chunk;
		buf += chunk;
		len -= chunk;
	}
	return fdatasync(l->fd) < 0 ? -errno : 0;
}

/* Writer thread. */
static int audit_batch_run(struct writer_job *job)
{
	struct audit_batch *b = (struct audit_batch *)job;
	int err = 0, r;

	for (int i = 0; i < AUDIT_FILES; i++) {
		if (!b->len[i])
			continue;
		r = audit_append(b->a, &b->a->logs[i], b->buf[i], b->len[i]);
		if (r < 0) {
			log_error("audit", "write %s: %s", b->a->logs[i].path, strerror(-r));
			err = r;
		}
	}
	return err;
}

static void audit_batch_free(struct audit_batch *b)
{
	while (b->waiters) {
		struct audit_waiter *w = b->waiters;
		b->waiters = w->next;
		free(w);
	}
	for (int i = 0; i < AUDIT_FILES; i++)
		free(b->buf[i]);
	free(b);
}

static void audit_submit(struct audit *a);

/* Loop thread: the batch is on disk (or not). */
static void audit_batch_done(struct writer_job *job, int err)
{
	struct audit_batch *b = (struct audit_batch *)job;
	struct audit *a = b->a;

	for (struct audit_waiter *w = b->waiters; w; w = w->next)
		w->done(w->data, err);
	audit_batch_free(b);
	a->in_flight = false;
	audit_submit(a);
}

static void audit_submit(struct audit *a)
{
	struct audit_batch *b = a->pending;

	if (a->in_flight || !b)
		return;
	a->pending = NULL;
	b->job.run = audit_batch_run;
	b->job.done = audit_batch_done;
	if (writer_queue(a->writer, &b->job) < 0) {
		audit_batch_done(&b->job, -ESHUTDOWN);
		return;
	}
	a->in_flight = true;
}

void audit_flush(struct audit *a)
{
	/* A batch done submits the next: drain until nothing is left. */
	while (a->pending || a->in_flight) {
		audit_submit(a);
		writer_drain(a->writer);
	}
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	if (a->summary_timer)
		loop_cancel_timer(a->loop, a->summary_timer);
	audit_flush(a); /* what is queued is written, and its waiters hear of it */
	for (int i = 0; i < AUDIT_FILES; i++)
		if (a->logs[i].fd >= 0)
			close(a->logs[i].fd);
	free(a);
}

/* --- the loop side --- */

static int audit_add(struct audit *a, enum audit_file file, const char *line, size_t len,
                     void (*done)(void *data, int err), void *data)
{
	struct audit_batch *b = a->pending;

	if (!b && !(b = a->pending = calloc(1, sizeof(*b))))
		return -ENOMEM;
	b->a = a;
	if (b->len[file] + len > b->cap[file]) {
		size_t cap = b->cap[file] ? b->cap[file] * 2 : 4096;
		while (cap < b->len[file] + len)
			cap *= 2;
		char *nb = realloc(b->buf[file], cap);
		if (!nb)
			return -ENOMEM;
		b->buf[file] = nb;
		b->cap[file] = cap;
	}
	if (done) {
		struct audit_waiter *w = calloc(1, sizeof(*w));
		if (!w)
			return -ENOMEM;
		w->done = done;
		w->data = data;
		if (b->waiters_tail)
			b->waiters_tail->next = w;
		else
			b->waiters = w;
		b->waiters_tail = w;
	}
	if (len) /* an empty record only waits (audit_sync) */
		memcpy(b->buf[file] + b->len[file], line, len);
	b->len[file] += len;
	audit_submit(a);
	return 0;
}

int audit_sync(struct audit *a, void (*done)(void *data, int err), void *data)
{
	if (!a->pending && !a->in_flight)
		return 1;
	/* An empty record in the batch still being filled: its waiter hears
	 * when that batch, after every earlier one, is on disk. */
	return audit_add(a, AUDIT_EVENTS, "", 0, done, data);
}

static void audit_stamp(json_t *rec)
{
	struct timespec ts;
	struct tm tm;
	char when[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%06ldZ", ts.tv_nsec / 1000);
	json_object_set_new(rec, "time", json_string(when));
	json_object_set_new(rec, "time_us",
	                    json_integer((json_int_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000));
}

static struct audit_rate *audit_rate_of(struct audit *a, const char *service)
{
	for (size_t i = 0; i < a->n_rates; i++)
		if (!strcmp(a->rates[i].service, service))
			return &a->rates[i];
	if (a->n_rates == AUDIT_RATE_SLOTS)
		return &a->rates[AUDIT_RATE_SLOTS - 1]; /* shared by the rest: still bounded */
	snprintf(a->rates[a->n_rates].service, sizeof(a->rates[0].service), "%s", service);
	return &a->rates[a->n_rates++];
}

static void audit_summarize(void *data);

/* May this denial be written one by one? Counts it otherwise. */
static bool audit_rate_take(struct audit *a, struct audit_rate *r, uint64_t *dropped)
{
	uint64_t now = loop_now_ms();

	if (now - r->window_ms >= 1000) {
		r->window_ms = now;
		r->count = 0;
	}
	if (r->count < a->denials_per_sec) {
		r->count++;
		*dropped = r->dropped;
		r->dropped = 0;
		return true;
	}
	r->dropped++;
	if (!a->summary_timer)
		a->summary_timer = loop_add_timer(a->loop, 1000, audit_summarize, a);
	return false;
}

static int audit_emit(struct audit *a, enum audit_file file, json_t *rec,
                      void (*done)(void *data, int err), void *data)
{
	char *line;
	size_t len;
	int r;

	audit_stamp(rec);
	line = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!line)
		return -ENOMEM;
	len = strlen(line);
	if (len >= AUDIT_MAX_LINE) {
		free(line);
		return -E2BIG;
	}
	line[len++] = '\n';
	r = audit_add(a, file, line, len, done, data);
	free(line);
	return r;
}

/* Denials not written one by one, said once a second while there are any. */
static void audit_summarize(void *data)
{
	struct audit *a = data;

	a->summary_timer = NULL;
	for (size_t i = 0; i < a->n_rates; i++) {
		struct audit_rate *r = &a->rates[i];
		if (!r->dropped)
			continue;
		json_t *rec =
		        json_pack("{s:s,s:s,s:I,s:s}", "service", r->service, "event", "deny",
		                  "dropped", (json_int_t)r->dropped, "note",
		                  "denials over the rate, counted and not written one by one");
		r->dropped = 0;
		if (rec)
			audit_emit(a, AUDIT_DENIALS, rec, NULL, NULL);
		json_decref(rec);
	}
}

int audit_write(struct audit *a, const struct audit_origin *o, const char *event, json_t *fields,
                void (*done)(void *data, int err), void *data)
{
	bool denial = !strcmp(event, "deny");
	uint64_t dropped = 0;
	json_t *rec;
	int r;

	if (!a) {
		json_decref(fields);
		return -EBADF;
	}
	if (denial && !audit_rate_take(a, audit_rate_of(a, o->service), &dropped)) {
		json_decref(fields);
		if (done)
			done(data, 0); /* counted: as written as it will be */
		return 0;
	}
	rec = json_pack("{s:s,s:{s:i,s:i,s:i},s:I,s:s,s:s,s:s}", "service", o->service, "peer",
	                "pid", o->pid, "uid", o->uid, "gid", o->gid, "request",
	                (json_int_t)o->request, "method", o->method, "path", o->path, "event",
	                event);
	if (!rec) {
		json_decref(fields);
		return -ENOMEM;
	}
	if (fields)
		json_object_update(rec, fields);
	json_decref(fields);
	if (dropped)
		json_object_set_new(rec, "dropped", json_integer((json_int_t)dropped));
	r = audit_emit(a, denial ? AUDIT_DENIALS : AUDIT_EVENTS, rec, done, data);
	json_decref(rec);
	return r;
}

/* --- reading --- */

static void audit_read_file(const char *path, const char *service, long long since_us, json_t *out)
{
	char line[AUDIT_MAX_LINE + 2];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		json_t *rec = json_loads(line, 0, NULL);
		if (!rec)
			continue;
		if ((service &&
		     strcmp(json_string_value(json_object_get(rec, "service")) ?: "", service)) ||
		    json_integer_value(json_object_get(rec, "time_us")) < since_us) {
			json_decref(rec);
			continue;
		}
		json_array_append_new(out, rec);
	}
	fclose(f);
}

static void audit_read_log(struct audit *a, const struct audit_log *l, const char *service,
                           long long since_us, json_t *out)
{
	char path[530];

	for (unsigned g = a->generations; g > 0; g--) {
		snprintf(path, sizeof(path), "%s.%u", l->path, g);
		audit_read_file(path, service, since_us, out);
	}
	audit_read_file(l->path, service, since_us, out);
}

static int audit_by_time(const void *x, const void *y)
{
	json_int_t a = json_integer_value(json_object_get(*(json_t *const *)x, "time_us"));
	json_int_t b = json_integer_value(json_object_get(*(json_t *const *)y, "time_us"));

	return a < b ? -1 : a > b;
}

json_t *audit_query(struct audit *a, const char *service, long long since_us, size_t limit)
{
	json_t *all = json_array(), *out = json_array(), **recs;
	size_t n, first;

	if (!limit)
		limit = 100;
	if (limit > AUDIT_QUERY_MAX)
		limit = AUDIT_QUERY_MAX;
	for (int i = 0; i < AUDIT_FILES; i++)
		audit_read_log(a, &a->logs[i], service, since_us, all);
	n = json_array_size(all);
	recs = calloc(n ? n : 1, sizeof(*recs));
	if (recs) {
		for (size_t i = 0; i < n; i++)
			recs[i] = json_array_get(all, i);
		/* Stable enough: records of one log are already in order. */
		qsort(recs, n, sizeof(*recs), audit_by_time);
		first = n > limit ? n - limit : 0;
		for (size_t i = first; i < n; i++)
			json_array_append(out, recs[i]);
		free(recs);
	}
	json_decref(all);
	return out;
}
