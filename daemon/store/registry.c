/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Registered services. Each owns RUNTIME/services/NAME/ and the socket in it;
 * the name is validated (registry_valid_name) before any path is built. */
#include "registry.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "policy.h"
#include "unix_socket.h"

#define REGISTRY_MAX_SERVICES 256
#define REGISTRY_SOCKET       "hwbroker.sock"

struct registry {
	char services_dir[256];
	struct registry_hooks hooks;
	struct service **items;
	size_t n;
};

struct registry *registry_new(const char *runtime_dir, const struct registry_hooks *hooks)
{
	struct registry *reg = calloc(1, sizeof(*reg));

	if (!reg)
		return NULL;
	reg->hooks = *hooks;
	reg->items = calloc(REGISTRY_MAX_SERVICES, sizeof(*reg->items));
	if (!reg->items) {
		free(reg);
		return NULL;
	}
	/* Traversable but not listable: a host process cannot enumerate the
	 * services' sockets (containers see only their own directory anyway). */
	snprintf(reg->services_dir, sizeof(reg->services_dir), "%s/services", runtime_dir);
	if (mkdir(reg->services_dir, 0711) < 0 && errno != EEXIST)
		log_warn("registry", "%s: %s", reg->services_dir, strerror(errno));
	chmod(reg->services_dir, 0711);
	return reg;
}

static void registry_close_socket(struct service *svc)
{
	if (svc->listen_fd >= 0)
		close(svc->listen_fd);
	svc->listen_fd = -1;
}

void registry_free(struct registry *reg)
{
	if (!reg)
		return;
	for (size_t i = 0; i < reg->n; i++) {
		struct service *svc = reg->items[i];
		svc->removed = true;
		if (reg->hooks.closing)
			reg->hooks.closing(reg->hooks.ctx, svc);
		registry_close_socket(svc);
		service_unref(svc);
	}
	free(reg->items);
	free(reg);
}

struct service *registry_find(struct registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->n; i++)
		if (!strcmp(reg->items[i]->name, name))
			return reg->items[i];
	return NULL;
}

struct service *registry_at(struct registry *reg, size_t i)
{
	return i < reg->n ? reg->items[i] : NULL;
}

size_t registry_count(const struct registry *reg)
{
	return reg->n;
}

bool registry_valid_name(const char *name)
{
	/* "admin" names the admin socket's caller in leases, limits and the audit log. */
	return policy_valid_service_name(name) && strcmp(name, "admin") != 0;
}

void service_ref(struct service *svc)
{
	svc->refs++;
}

void service_unref(struct service *svc)
{
	if (--svc->refs)
		return;
	policy_free(svc->policy);
	json_decref(svc->compose);
	free(svc);
}

/* The directory is reused when it exists: a container may have it mounted. */
static int registry_open_socket(struct registry *reg, struct service *svc)
{
	struct stat st;
	int fd;

	if ((size_t)snprintf(svc->dir, sizeof(svc->dir), "%s/%s", reg->services_dir, svc->name) >=
	            sizeof(svc->dir) ||
	    (size_t)snprintf(svc->sock_path, sizeof(svc->sock_path), "%s/" REGISTRY_SOCKET,
	                     svc->dir) >= 108)
		return -ENAMETOOLONG;
	if (mkdir(svc->dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(svc->dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	/* Containers run as any uid: the socket's path, not its mode, is the gate. */
	fd = unix_socket_listen(svc->sock_path, 0666);
	if (fd < 0)
		return fd;
	svc->listen_fd = fd;
	return 0;
}

static int registry_create(struct registry *reg, const char *name, json_t *compose,
                           struct policy *policy)
{
	struct service *svc;
	int r;

	if (!registry_valid_name(name))
		return -EINVAL;
	if (reg->n == REGISTRY_MAX_SERVICES)
		return -ENOSPC;
	svc = calloc(1, sizeof(*svc));
	if (!svc)
		return -ENOMEM;
	snprintf(svc->name, sizeof(svc->name), "%s", name);
	svc->refs = 1;
	svc->listen_fd = -1;
	r = registry_open_socket(reg, svc);
	if (r == 0 && reg->hooks.added)
		r = reg->hooks.added(reg->hooks.ctx, svc);
	if (r < 0) {
		log_error(name, "cannot create its socket: %s", strerror(-r));
		registry_close_socket(svc);
		free(svc);
		return r;
	}
	svc->policy = policy;
	svc->compose = compose;
	reg->items[reg->n++] = svc;
	log_info(name, "registered: %s", svc->sock_path);
	return 0;
}

int registry_apply(struct registry *reg, const char *name, json_t *compose, struct policy *policy,
                   bool *created)
{
	struct service *svc = registry_find(reg, name);
	int r;

	*created = false;
	if (!svc) {
		r = registry_create(reg, name, compose, policy);
		*created = r == 0;
		return r;
	}
	policy_free(svc->policy);
	svc->policy = policy;
	json_decref(svc->compose);
	svc->compose = compose;
	if (reg->hooks.policy_changed)
		reg->hooks.policy_changed(reg->hooks.ctx, svc);
	return 0;
}

int registry_remove(struct registry *reg, const char *name)
{
	struct service *svc;
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (!strcmp(reg->items[i]->name, name))
			break;
	if (i == reg->n)
		return -ENOENT;
	svc = reg->items[i];
	memmove(&reg->items[i], &reg->items[i + 1], (reg->n - i - 1) * sizeof(*reg->items));
	reg->n--;
	svc->removed = true;
	if (reg->hooks.closing)
		reg->hooks.closing(reg->hooks.ctx, svc);
	registry_close_socket(svc);
	unlink(svc->sock_path);
	if (rmdir(svc->dir) < 0 && errno != ENOENT)
		log_warn(svc->name, "%s left in place: %s", svc->dir, strerror(errno));
	log_info(svc->name, "removed");
	service_unref(svc);
	return 0;
}

void registry_sweep_stale(struct registry *reg)
{
	DIR *d = opendir(reg->services_dir);
	struct dirent *e;
	char path[600];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || registry_find(reg, e->d_name) ||
		    !policy_valid_service_name(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s/" REGISTRY_SOCKET, reg->services_dir,
		         e->d_name);
		unlink(path);
		snprintf(path, sizeof(path), "%s/%s", reg->services_dir, e->d_name);
		if (rmdir(path) == 0)
			log_info("registry", "removed %s: no such service", path);
	}
	closedir(d);
}
