#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "config.h"
#include "log.h"
#include "policy.h"
#include "registry.h"

#define STATE_VERSION   1
#define STATE_MAX_BYTES (8u << 20)

static int state_mkdirs(const char *dir)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static json_t *state_build(struct broker *b)
{
	json_t *root = json_object(), *services = json_object(), *areas = json_object();
	struct service *svc;

	json_object_set_new(root, "version", json_integer(STATE_VERSION));
	for (size_t i = 0; (svc = registry_at(b->registry, i)); i++)
		json_object_set(services, svc->name, svc->compose);
	json_object_set_new(root, "services", services);
	for (size_t i = 0; broker_areas[i]; i++) {
		const struct area *a = broker_areas[i];
		json_t *saved = a->save ? a->save(b) : NULL;
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

int state_save(struct broker *b)
{
	json_t *root = state_build(b);
	char *text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
	int r;

	json_decref(root);
	if (!text)
		return -ENOMEM;
	r = state_mkdirs(b->cfg->state_dir);
	if (r == 0)
		r = state_write_atomic(b->cfg->state_dir, "state.json", text);
	free(text);
	if (r < 0)
		log_error("state", "cannot save %s/state.json: %s", b->cfg->state_dir,
		          strerror(-r));
	return r;
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

static void state_restore_services(struct broker *b, json_t *services)
{
	const char *name;
	json_t *compose;

	json_object_foreach(services, name, compose)
	{
		struct policy *p = NULL;
		json_t *errors = NULL;
		bool created;

		if (!policy_valid_service_name(name) || !json_is_object(compose)) {
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
		if (registry_apply(b->registry, name, compose, p, &created) < 0) {
			json_decref(compose);
			policy_free(p);
		}
	}
}

int state_load(struct broker *b)
{
	char path[512];
	json_error_t jerr;
	json_t *root, *services, *areas;
	struct stat st;

	snprintf(path, sizeof(path), "%s/state.json", b->cfg->state_dir);
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		log_error("state", "%s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > STATE_MAX_BYTES) {
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
	state_restore_services(b, services);
	for (size_t i = 0; broker_areas[i]; i++) {
		const struct area *a = broker_areas[i];
		json_t *saved = areas ? json_object_get(areas, a->name) : NULL;
		if (a->restore && saved)
			a->restore(b, saved);
	}
	log_info("state", "restored %zu services from %s", registry_count(b->registry), path);
	json_decref(root);
	return 0;
}
