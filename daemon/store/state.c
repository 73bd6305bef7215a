/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "area.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "registry.h"
#include "writer.h"

#define STATE_VERSION       1
#define STATE_MAX_BYTES     (8u << 20)
#define STATE_SAVE_DELAY_MS 100

struct state {
	struct daemon *d;
	struct writer *writer;
	struct loop_timer *timer; /* a coalesced save is due */
	bool commit_busy;         /* an admin commit is being written */
	bool save_waiting;        /* a coalesced save waits for that commit */
};

struct state_write {
	struct writer_job job;
	struct state *st;
	char dir[256];
	char *text;
	void (*done)(void *data, int err);
	void *data;
};

struct state *state_new(struct daemon *d)
{
	struct state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->d = d;
	st->writer = d->writer;
	return st;
}

void state_free(struct state *st)
{
	if (!st)
		return;
	state_flush(st);
	free(st);
}

static json_t *state_build(struct daemon *d, json_t *services)
{
	json_t *root = json_object(), *areas = json_object();
	struct service *svc;

	json_object_set_new(root, "version", json_integer(STATE_VERSION));
	if (!services) {
		services = json_object();
		for (size_t i = 0; (svc = registry_at(d->registry, i)); i++)
			json_object_set(services, svc->name, svc->compose);
	}
	json_object_set_new(root, "services", services);
	for (size_t i = 0; d->areas[i]; i++) {
		const struct area *a = d->areas[i];
		json_t *saved = a->save ? a->save(d) : NULL;
		if (saved)
			json_object_set_new(areas, a->name, saved);
	}
	json_object_set_new(root, "areas", areas);
	return root;
}

static int state_write_atomic(const char *dir, const char *name, const char *text)
{
	char path[512], tmp[520];
	size_t len = strlen(text), off = 0;
	int fd, dfd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto close_file;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0)
		err = -errno;
close_file:
	close(fd);
	if (err < 0)
		goto unlink_tmp;
	if (rename(tmp, path) < 0) {
		err = -errno;
		goto unlink_tmp;
	}
	/* The rename itself must survive a power cut. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
unlink_tmp:
	unlink(tmp);
	return err;
}

/* Writer thread. */
static int state_write_run(struct writer_job *job)
{
	struct state_write *w = (struct state_write *)job;

	if (mkdir(w->dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return state_write_atomic(w->dir, "state.json", w->text);
}

static void state_write_done(struct writer_job *job, int err)
{
	struct state_write *w = (struct state_write *)job;
	struct state *st = w->st;

	if (err < 0)
		log_error("state", "cannot save %s/state.json: %s", w->dir, strerror(-err));
	if (w->done) {
		st->commit_busy = false;
		w->done(w->data, err);
		if (st->save_waiting) {
			st->save_waiting = false;
			state_changed(st);
		}
	}
	free(w->text);
	free(w);
}

static int state_queue(struct state *st, json_t *services, void (*done)(void *data, int err),
                       void *data)
{
	json_t *root = state_build(st->d, services);
	struct state_write *w = calloc(1, sizeof(*w));
	int r;

	if (w)
		w->text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(root);
	if (!w || !w->text) {
		free(w);
		return -ENOMEM;
	}
	w->job.run = state_write_run;
	w->job.done = state_write_done;
	w->st = st;
	snprintf(w->dir, sizeof(w->dir), "%s", st->d->cfg->state_dir);
	w->done = done;
	w->data = data;
	r = writer_queue(st->writer, &w->job);
	if (r < 0) {
		free(w->text);
		free(w);
	}
	return r;
}

static void state_save_later(void *data)
{
	struct state *st = data;

	st->timer = NULL;
	/* Built now, it would carry the registry's services over the commit
	 * being written: it waits. */
	if (st->commit_busy) {
		st->save_waiting = true;
		return;
	}
	if (state_queue(st, NULL, NULL, NULL) < 0)
		log_error("state", "cannot queue a state save");
}

void state_changed(struct state *st)
{
	if (!st->timer && !st->save_waiting)
		st->timer = loop_add_timer(st->d->loop, STATE_SAVE_DELAY_MS, state_save_later, st);
}

void state_flush(struct state *st)
{
	bool due = st->timer || st->save_waiting;

	/* A commit being written completes first (its done() may change more). */
	writer_drain(st->writer);
	if (st->timer) {
		loop_cancel_timer(st->d->loop, st->timer);
		st->timer = NULL;
		due = true;
	}
	st->save_waiting = false;
	if (due && state_queue(st, NULL, NULL, NULL) == 0)
		writer_drain(st->writer);
}

int state_commit(struct state *st, json_t *services, void (*done)(void *data, int err), void *data)
{
	int r;

	if (st->commit_busy) {
		json_decref(services);
		return -EBUSY;
	}
	r = state_queue(st, services, done, data);
	if (r == 0)
		st->commit_busy = true;
	return r;
}

int state_commit_busy(const struct state *st)
{
	return st->commit_busy;
}

static void state_move_aside(const char *path, const char *why)
{
	char aside[600];

	snprintf(aside, sizeof(aside), "%s.corrupt-%lld", path, (long long)time(NULL));
	if (rename(path, aside) == 0)
		log_error("state", "%s is unusable (%s): moved to %s; starting without it", path,
		          why, aside);
	else
		log_error("state", "%s is unusable (%s) and cannot be moved aside: %s", path, why,
		          strerror(errno));
}

static void state_restore_services(struct daemon *d, json_t *services)
{
	const char *name;
	json_t *compose;

	json_object_foreach(services, name, compose)
	{
		struct policy *p = NULL;
		json_t *errors = NULL;
		bool created;

		if (!registry_valid_name(name) || !json_is_object(compose)) {
			log_error("state", "skipping saved service with a bad name or body");
			continue;
		}
		if (policy_derive(name, compose, &p, &errors) < 0) {
			char *e = json_dumps(errors, JSON_COMPACT);
			log_error(name, "saved declaration no longer derives (%s): skipped",
			          e ? e : "?");
			free(e);
			json_decref(errors);
			continue;
		}
		json_incref(compose);
		if (registry_apply(d->registry, name, compose, p, &created) < 0) {
			json_decref(compose);
			policy_free(p);
		}
	}
}

int state_load(struct state *st)
{
	struct daemon *d = st->d;
	char path[512];
	json_error_t jerr;
	json_t *root, *services, *areas;
	struct stat sb;

	snprintf(path, sizeof(path), "%s/state.json", d->cfg->state_dir);
	if (stat(path, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("state", "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > STATE_MAX_BYTES) {
		state_move_aside(path, "not a regular file of sane size");
		return 0;
	}
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		char why[200];
		snprintf(why, sizeof(why), "line %d: %s", jerr.line, jerr.text);
		state_move_aside(path, why);
		return 0;
	}
	services = json_object_get(root, "services");
	areas = json_object_get(root, "areas");
	if (!json_is_object(services) || (areas && !json_is_object(areas)) ||
	    json_integer_value(json_object_get(root, "version")) != STATE_VERSION) {
		json_decref(root);
		state_move_aside(path, "unexpected structure or version");
		return 0;
	}
	state_restore_services(d, services);
	for (size_t i = 0; d->areas[i]; i++) {
		const struct area *a = d->areas[i];
		json_t *saved = areas ? json_object_get(areas, a->name) : NULL;
		if (a->restore && saved)
			a->restore(d, saved);
	}
	log_info("state", "restored %zu services from %s", registry_count(d->registry), path);
	json_decref(root);
	return 0;
}
