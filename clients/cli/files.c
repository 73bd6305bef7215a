/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Files the CLI reads: any of them may be "-" for standard input. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#if HWB_HAVE_YAML
#include "policy.h"
#endif

int cli_read_file(const char *path, size_t max, char **buf, size_t *len)
{
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0, err = 0;
	size_t cap = 0;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	for (;;) {
		if (*len + 1 >= cap) {
			if (cap > max) {
				err = -EFBIG;
				break;
			}
			char *nb = realloc(*buf, cap = cap ? cap * 2 : 65536);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			*buf = nb;
		}
		ssize_t n = read(fd, *buf + *len, cap - *len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		*len += (size_t)n;
	}
	if (fd != 0)
		close(fd);
	if (!err && *len > max)
		err = -EFBIG;
	if (err) {
		free(*buf);
		*buf = NULL;
		*len = 0;
		return err;
	}
	(*buf)[*len] = '\0';
	return 0;
}

#if !HWB_HAVE_YAML
/* Compose files are small; this bounds what a mistaken argument can cost. */
#define COMPOSE_MAX (4u << 20)

/* A compose file in its JSON form (what "docker compose config --format json"
 * prints): YAML is a superset of JSON, so this is also a valid compose file. */
static int compose_load_json(const char *path, const char *name, json_t **out, char *err,
                             size_t errlen)
{
	json_error_t jerr;
	json_t *root, *services;
	char *text;
	size_t len;
	int r = cli_read_file(path, COMPOSE_MAX, &text, &len);

	*out = NULL;
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(-r));
		return r;
	}
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		const char *p = text + strspn(text, " \t\r\n");
		if (*p == '{')
			snprintf(err, errlen, "%s:%d:%d: %s", name, jerr.line, jerr.column,
			         jerr.text);
		else
			snprintf(err, errlen,
			         "%s: not JSON, and this hwbroker was built without YAML support: "
			         "give the compose file as JSON (docker compose config --format "
			         "json)",
			         name);
		free(text);
		return -EINVAL;
	}
	free(text);
	services = json_object_get(root, "services");
	if (!json_is_object(services)) {
		snprintf(err, errlen, "%s:1:1: no 'services:' mapping", name);
		json_decref(root);
		return -EINVAL;
	}
	*out = json_pack("{s:O}", "services", services);
	json_decref(root);
	return 0;
}
#endif

int cli_load_compose(const char *path, json_t **out, char *err, size_t errlen)
{
	const bool in = !strcmp(path, "-");
	const char *name = in ? "<stdin>" : path;

#if HWB_HAVE_YAML
	char raw[1024];
	const char *file = in ? "/dev/stdin" : path;
	int r = compose_load_yaml(file, out, raw, sizeof(raw));

	if (r < 0) {
		/* The loader names the file it opened; say what the user gave. */
		size_t flen = strlen(file);
		snprintf(err, errlen, "%s%s", name, !strncmp(raw, file, flen) ? raw + flen : raw);
	}
	return r;
#else
	return compose_load_json(path, name, out, err, errlen);
#endif
}
