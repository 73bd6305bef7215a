/* The daemon context and the area table. Each API area (admin, service,
 * gpio, i2c, uart, host, sim) is one `const struct area` in its api_*.c: its
 * routes plus hooks the core calls; the core knows areas only through this
 * table (broker.c). */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "router.h"

struct loop;
struct config;
struct registry;
struct transport;
struct audit;
struct service;
struct gpio_area;
struct i2c_area;
struct uart_area;
struct host_area;

struct broker {
	struct loop *loop;
	struct config *cfg;
	struct registry *registry;
	struct transport *transport;
	struct audit *audit;
	/* per-area private state, owned by the area (init/fini) */
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
	int (*init)(struct broker *b);
	void (*fini)(struct broker *b);
	/* The service's policy was replaced: revoke at once every lease and
	 * stream the new policy no longer allows. */
	void (*policy_changed)(struct broker *b, struct service *svc);
	/* The service is being removed: release everything it holds. */
	void (*service_removed)(struct broker *b, struct service *svc);
	/* A connection closed: release connection-scoped leases it held. */
	void (*conn_closed)(struct broker *b, struct service *svc, uint64_t conn_id);
	/* Persistence of the area's durable state (persistent leases...):
	 * save returns a new reference or NULL; restore gets what save gave. */
	json_t *(*save)(struct broker *b);
	void (*restore)(struct broker *b, const json_t *saved);
};

extern const struct area area_admin, area_service, area_gpio, area_i2c, area_uart, area_host,
        area_sim;

/* NULL-terminated table of every area, in init order. */
extern const struct area *const broker_areas[];

void broker_notify_policy_changed(struct broker *b, struct service *svc);
void broker_notify_service_removed(struct broker *b, struct service *svc);
void broker_notify_conn_closed(struct broker *b, struct service *svc, uint64_t conn_id);
/* Ask for the state file to be rewritten (coalesced, within 100 ms). */
void broker_state_changed(struct broker *b);
/* Writes a pending state change now (at shutdown). */
void broker_flush_state(struct broker *b);
