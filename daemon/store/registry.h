/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Registered services: name, policy, directory and listening socket.
 *
 * A service's directory RUNTIME/services/NAME is bind-mounted into its
 * container, so it must keep its inode for the service's whole life: it is
 * created on the first registration, kept across daemon restarts (only the
 * socket inside is recreated), and removed only when the supervisor removes
 * the service. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

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

/* What the registry tells its owner. */
struct registry_hooks {
	void *ctx;
	/* The socket listens: start accepting. 0 or -errno (the apply fails). */
	int (*added)(void *ctx, struct service *svc);
	/* The policy was replaced: revoke what it no longer allows. */
	void (*policy_changed)(void *ctx, struct service *svc);
	/* Stop accepting and close its connections (removal and shutdown; what
	 * the service holds is the owner's business: removal releases it,
	 * shutdown keeps it for the next start). */
	void (*closing)(void *ctx, struct service *svc);
};

struct registry;

struct registry *registry_new(const char *runtime_dir, const struct registry_hooks *hooks);
/* Shutdown: closes the sockets, keeps every directory (containers have them
 * mounted; the next start recreates the sockets in them). */
void registry_free(struct registry *reg);

struct service *registry_find(struct registry *reg, const char *name);
/* Iteration: i from 0 while the result is non-NULL. */
struct service *registry_at(struct registry *reg, size_t i);
size_t registry_count(const struct registry *reg);

/* May this name be registered? [a-z0-9][a-z0-9_.-]{0,62}, and not a name
 * the daemon uses for itself ("admin"). */
bool registry_valid_name(const char *name);

/* Creates or re-applies a service with an already derived policy (stolen).
 * Creates the socket on first apply. 0 or -errno. */
int registry_apply(struct registry *reg, const char *name, json_t *compose, struct policy *policy,
                   bool *created);
/* Closes its connections, removes its socket and directory. 0 or -ENOENT. */
int registry_remove(struct registry *reg, const char *name);
/* Removes the directories under RUNTIME/services of services not registered
 * (left by a removal a crash interrupted). Call after restoring the state. */
void registry_sweep_stale(struct registry *reg);

void service_ref(struct service *svc);
void service_unref(struct service *svc);
