/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon context and the API areas. Each area (admin, gpio, i2c, uart,
 * host, sim) is one `const struct area`: its route table plus the hooks the
 * core calls. The core knows areas only through the table in the context
 * (daemon/areas.c fills it); it never calls an area by name. */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "route.h"

struct admin_area;
struct audit;
struct config;
struct drv_env;
struct gpio_area;
struct host_area;
struct i2c_area;
struct loop;
struct metrics;
struct registry;
struct service;
struct state;
struct transport;
struct uart_area;
struct writer;

struct daemon {
	struct loop *loop;
	struct config *cfg;
	const struct drv_env *env;       /* what the drivers may ask of the loop and the log */
	const struct area *const *areas; /* NULL-terminated, in init order */
	size_t n_areas_up;               /* started (daemon.c) */
	struct registry *registry;
	struct transport *transport;
	struct audit *audit;
	struct state *state;
	struct writer *writer; /* the disk writes: state and audit */
	struct metrics *metrics;
	/* per-area private state, owned by the area (init/fini) */
	struct admin_area *admin;
	struct gpio_area *gpio;
	struct i2c_area *i2c;
	struct uart_area *uart;
	struct host_area *host;
};

struct area {
	const char *name;
	const struct route *routes;
	size_t n_routes;
	/* Open backends, allocate state. 0 or -errno (the daemon refuses to start). */
	int (*init)(struct daemon *d);
	void (*fini)(struct daemon *d);
	/* The service's policy was replaced: revoke at once every lease and
	 * stream the new policy no longer allows. */
	void (*policy_changed)(struct daemon *d, struct service *svc);
	/* The service is being removed: release everything it holds. */
	void (*service_removed)(struct daemon *d, struct service *svc);
	/* A connection closed: release connection-scoped leases it held. */
	void (*conn_closed)(struct daemon *d, struct service *svc, uint64_t conn_id);
	/* Persistence of the area's durable state (persistent leases...):
	 * save returns a new reference or NULL; restore gets what save gave. */
	json_t *(*save)(struct daemon *d);
	void (*restore)(struct daemon *d, const json_t *saved);
	/* Handles of the service the broker cannot take back (direct mode):
	 * a new JSON array of resource names, for the admin's replies. */
	json_t *(*open_handles)(struct daemon *d, const char *service);
};

#define AREA_ROUTES(table) .routes = (table), .n_routes = sizeof(table) / sizeof((table)[0])

void area_notify_policy_changed(struct daemon *d, struct service *svc);
void area_notify_service_removed(struct daemon *d, struct service *svc);
void area_notify_conn_closed(struct daemon *d, struct service *svc, uint64_t conn_id);
/* Every area's open handles of service, as one new array. */
json_t *area_open_handles(struct daemon *d, const char *service);
