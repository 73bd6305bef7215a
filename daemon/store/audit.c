/* Audit log: one JSON object per line in STATE/audit.log, fdatasync'ed
 * before audit_record() returns; rotated to audit.log.1 past max_bytes. */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define AUDIT_MAX_LINE  4096
#define AUDIT_QUERY_MAX 1000

struct audit {
	char path[512];
	char rotated[520];
	size_t max_bytes;
	int fd;
	size_t size;
};

static int audit_open_fd(struct audit *a)
{
	struct stat st;

	a->fd = open(a->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (a->fd < 0)
		return -errno;
	a->size = fstat(a->fd, &st) == 0 ? (size_t)st.st_size : 0;
	return 0;
}

struct audit *audit_open(const char *state_dir, size_t max_bytes)
{
	struct audit *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	snprintf(a->path, sizeof(a->path), "%s/audit.log", state_dir);
	snprintf(a->rotated, sizeof(a->rotated), "%s.1", a->path);
	a->max_bytes = max_bytes ? max_bytes : 1u << 20;
	if (audit_open_fd(a) < 0) {
		log_error("audit", "%s: %s", a->path, strerror(errno));
		free(a);
		return NULL;
	}
	return a;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

static void audit_rotate(struct audit *a)
{
	close(a->fd);
	if (rename(a->path, a->rotated) < 0)
		log_warn("audit", "cannot rotate %s: %s", a->path, strerror(errno));
	if (audit_open_fd(a) < 0)
		log_error("audit", "%s: %s", a->path, strerror(errno));
}

int audit_record(struct audit *a, json_t *rec)
{
	struct timespec ts;
	struct tm tm;
	char when[64], *line;
	size_t len;
	int r = 0;

	if (!a || a->fd < 0)
		return -EBADF;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%06ldZ", ts.tv_nsec / 1000);
	json_object_set_new(rec, "time", json_string(when));
	json_object_set_new(rec, "time_us",
	                    json_integer((json_int_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000));
	line = json_dumps(rec, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!line)
		return -ENOMEM;
	len = strlen(line);
	if (len >= AUDIT_MAX_LINE) {
		free(line);
		return -E2BIG;
	}
	line[len++] = '\n';
	if (a->size + len > a->max_bytes && a->size > 0)
		audit_rotate(a);
	if (write(a->fd, line, len) != (ssize_t)len || fdatasync(a->fd) < 0) {
		r = -errno;
		log_error("audit", "write %s: %s", a->path, strerror(errno));
	} else {
		a->size += len;
	}
	free(line);
	return r;
}

int audit_write(struct audit *a, const struct audit_origin *o, const char *event, json_t *fields)
{
	json_t *rec = json_pack("{s:s,s:{s:i,s:i,s:i},s:I,s:s,s:s,s:s}", "service", o->service,
	                        "peer", "pid", o->pid, "uid", o->uid, "gid", o->gid, "request",
	                        (json_int_t)o->request, "method", o->method, "path", o->path,
	                        "event", event);
	int r;

	if (!rec) {
		json_decref(fields);
		return -ENOMEM;
	}
	if (fields)
		json_object_update(rec, fields);
	json_decref(fields);
	r = audit_record(a, rec);
	json_decref(rec);
	return r;
}

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

json_t *audit_query(struct audit *a, const char *service, long long since_us, size_t limit)
{
	json_t *all = json_array(), *out = json_array();
	size_t n, first;

	if (!limit)
		limit = 100;
	if (limit > AUDIT_QUERY_MAX)
		limit = AUDIT_QUERY_MAX;
	audit_read_file(a->rotated, service, since_us, all);
	audit_read_file(a->path, service, since_us, all);
	n = json_array_size(all);
	first = n > limit ? n - limit : 0;
	for (size_t i = first; i < n; i++)
		json_array_append(out, json_array_get(all, i));
	json_decref(all);
	return out;
}
