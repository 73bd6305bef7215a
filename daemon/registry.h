/* Registered services: name, policy, listening socket, connections. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

struct broker;
struct policy;
struct transport;

struct service {
	char name[64];
	struct policy *policy; /* current policy; replaced on re-apply */
	json_t *compose;       /* the compose service as applied (owned) */
	char dir[256];         /* RUNTIME/services/NAME */
	char sock_path[300];   /* RUNTIME/services/NAME/hwbroker.sock */
	int listen_fd;
	unsigned n_conns;
	struct transport *transport; /* set by transport_add_service */
	unsigned refs;
	bool removed;
};

struct registry;

struct registry *registry_new(struct broker *b);
void registry_free(struct registry *reg);

struct service *registry_find(struct registry *reg, const char *name);
/* Iteration: i from 0 while the result is non-NULL. */
struct service *registry_at(struct registry *reg, size_t i);
size_t registry_count(const struct registry *reg);

/* Creates or re-applies a service with an already derived policy (stolen).
 * Creates the socket on first apply. 0 or -errno. */
int registry_apply(struct registry *reg, const char *name, json_t *compose, struct policy *policy,
                   bool *created);
/* Closes its connections, removes its socket and directory. 0 or -ENOENT. */
int registry_remove(struct registry *reg, const char *name);

void service_ref(struct service *svc);
void service_unref(struct service *svc);
