/* Registered services. Each owns RUNTIME/services/NAME/ and the socket in it;
 * the name was validated (policy_valid_service_name) before any path is built. */
#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "config.h"
#include "log.h"
#include "policy.h"
#include "transport.h"

#define REGISTRY_MAX_SERVICES 256

struct registry {
	struct broker *b;
	struct service **items;
	size_t n;
};

struct registry *registry_new(struct broker *b)
{
	struct registry *reg = calloc(1, sizeof(*reg));
	char dir[300];

	if (!reg)
		return NULL;
	reg->b = b;
	reg->items = calloc(REGISTRY_MAX_SERVICES, sizeof(*reg->items));
	if (!reg->items) {
		free(reg);
		return NULL;
	}
	/* Traversable but not listable: a host process cannot enumerate the
	 * services' sockets (containers see only their own directory anyway). */
	snprintf(dir, sizeof(dir), "%s/services", b->cfg->runtime_dir);
	if (mkdir(dir, 0711) < 0 && errno != EEXIST)
		log_warn("registry", "%s: %s", dir, strerror(errno));
	chmod(dir, 0711);
	return reg;
}

void registry_free(struct registry *reg)
{
	if (!reg)
		return;
	while (reg->n)
		registry_remove(reg, reg->items[reg->n - 1]->name);
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

static int registry_open_socket(struct registry *reg, struct service *svc)
{
	const char *runtime = reg->b->cfg->runtime_dir;
	int fd;

	if ((size_t)snprintf(svc->dir, sizeof(svc->dir), "%s/services/%s", runtime, svc->name) >=
	            sizeof(svc->dir) ||
	    (size_t)snprintf(svc->sock_path, sizeof(svc->sock_path), "%s/hwbroker.sock",
	                     svc->dir) >= 108)
		return -ENAMETOOLONG;
	if (mkdir(svc->dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	/* Containers run as any uid: the socket's path, not its mode, is the gate. */
	fd = transport_listen_unix(svc->sock_path, 0666);
	if (fd < 0)
		return fd;
	svc->listen_fd = fd;
	return transport_add_service(reg->b->transport, svc);
}

int registry_apply(struct registry *reg, const char *name, json_t *compose, struct policy *policy,
                   bool *created)
{
	struct service *svc = registry_find(reg, name);
	int r;

	*created = false;
	if (svc) {
		policy_free(svc->policy);
		svc->policy = policy;
		json_decref(svc->compose);
		svc->compose = compose;
		return 0;
	}
	if (!policy_valid_service_name(name))
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
	if (r < 0) {
		log_error(name, "cannot create its socket: %s", strerror(-r));
		if (svc->listen_fd >= 0)
			close(svc->listen_fd);
		free(svc);
		return r;
	}
	svc->policy = policy;
	svc->compose = compose;
	reg->items[reg->n++] = svc;
	*created = true;
	log_info(name, "registered: %s", svc->sock_path);
	return 0;
}

int registry_remove(struct registry *reg, const char *name)
{
	size_t i;
	struct service *svc;

	for (i = 0; i < reg->n; i++)
		if (!strcmp(reg->items[i]->name, name))
			break;
	if (i == reg->n)
		return -ENOENT;
	svc = reg->items[i];
	memmove(&reg->items[i], &reg->items[i + 1], (reg->n - i - 1) * sizeof(*reg->items));
	reg->n--;
	svc->removed = true;
	if (svc->transport)
		transport_remove_service(svc->transport, svc);
	if (svc->listen_fd >= 0)
		close(svc->listen_fd);
	unlink(svc->sock_path);
	if (rmdir(svc->dir) < 0 && errno != ENOENT)
		log_warn(svc->name, "%s left in place: %s", svc->dir, strerror(errno));
	log_info(svc->name, "removed");
	service_unref(svc);
	return 0;
}
