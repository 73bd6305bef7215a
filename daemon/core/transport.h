/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sockets and HTTP: the admin socket and every service socket are accepted
 * on in our loop; each connection speaks HTTP/1.1 (conn.c). The socket a
 * connection arrived on is its identity. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct conn;
struct daemon;
struct http_head;
struct request;
struct service;
struct transport;

/* What the transport tells its owner, and who serves the requests. */
struct transport_hooks {
	void *ctx;
	/* A connection of svc closed (its connection-scoped leases end). */
	void (*conn_closed)(void *ctx, struct service *svc, uint64_t conn_id);
	/* The request pipeline (pipeline.h). */
	struct request *(*begin)(struct transport *t, struct conn *c, const struct http_head *head);
	void (*body)(struct request *req, const char *data, size_t size);
	void (*finish)(struct request *req);
	void (*end)(struct request *req, bool completed);
};

struct transport *transport_new(struct daemon *d, const struct transport_hooks *hooks);
void transport_free(struct transport *t);

/* Creates the admin socket RUNTIME/admin.sock. 0 or -errno. */
int transport_open_admin(struct transport *t);

/* Starts/stops accepting on a service's socket (svc->listen_fd). */
int transport_add_service(struct transport *t, struct service *svc);
/* Stops accepting and closes every connection of the service. */
void transport_remove_service(struct transport *t, struct service *svc);

/* A connected socket as if it had been accepted on svc's socket (NULL: the
 * admin socket), with these credentials: the request fuzzer feeds it. */
int transport_adopt(struct transport *t, int fd, struct service *svc, pid_t pid, uid_t uid,
                    gid_t gid);

/* Counters for /v1/health and /metrics. */
struct transport_stats {
	unsigned connections;
	uint64_t requests;
	uint64_t errors_4xx;
	uint64_t errors_5xx;
	uint64_t refused_connections;
};
void transport_get_stats(const struct transport *t, struct transport_stats *out);
