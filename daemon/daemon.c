/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's life: the parts created in order, wired together, restored
 * from the state directory, and torn down in reverse (main.c runs it; the
 * request fuzzer runs it in-process). */
#include "daemon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "audit.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "registry.h"
#include "state.h"
#include "transport.h"
#include "writer.h"

static int daemon_init_areas(struct daemon *d, size_t *n_init)
{
	for (*n_init = 0; d->areas[*n_init]; (*n_init)++) {
		const struct area *a = d->areas[*n_init];
		int r = a->init ? a->init(d) : 0;
		if (r < 0) {
			log_error("main", "%s: cannot start: %s", a->name, strerror(-r));
			return r;
		}
	}
	return 0;
}

static void daemon_fini_areas(struct daemon *d, size_t n_init)
{
	while (n_init-- > 0)
		if (d->areas[n_init]->fini)
			d->areas[n_init]->fini(d);
}

/* --- wiring: registry and transport events to the areas --- */

static int daemon_service_added(void *ctx, struct service *svc)
{
	struct daemon *d = ctx;

	return transport_add_service(d->transport, svc);
}

static void daemon_service_policy_changed(void *ctx, struct service *svc)
{
	area_notify_policy_changed(ctx, svc);
}

static void daemon_service_closing(void *ctx, struct service *svc)
{
	struct daemon *d = ctx;

	transport_remove_service(d->transport, svc);
}

static void daemon_conn_closed(void *ctx, struct service *svc, uint64_t conn_id)
{
	area_notify_conn_closed(ctx, svc, conn_id);
}

int daemon_start(struct daemon *d)
{
	static const struct transport_hooks th = {NULL,          daemon_conn_closed, pipeline_begin,
	                                          pipeline_body, pipeline_finish,    pipeline_end};
	static const struct registry_hooks rh = {
	        NULL, daemon_service_added, daemon_service_policy_changed, daemon_service_closing};
	struct transport_hooks thooks = th;
	struct registry_hooks rhooks = rh;
	struct audit_options ao = {d->cfg->state_dir, d->cfg->audit_max_bytes,
	                           d->cfg->audit_generations, d->cfg->audit_denials};
	int r;

	thooks.ctx = d;
	rhooks.ctx = d;
	d->writer = writer_new(d->loop);
	d->audit = d->writer ? audit_open(&ao, d->loop, d->writer) : NULL;
	if (!d->audit) {
		log_error("main", "cannot open the audit log in %s", d->cfg->state_dir);
		daemon_stop(d);
		return -EIO;
	}
	d->metrics = metrics_new();
	d->transport = d->metrics ? transport_new(d, &thooks) : NULL;
	d->registry = d->transport ? registry_new(d->cfg->runtime_dir, &rhooks) : NULL;
	d->state = d->registry ? state_new(d) : NULL;
	if (!d->state) {
		daemon_stop(d);
		return -ENOMEM;
	}
	r = daemon_init_areas(d, &d->n_areas_up);
	if (r == 0) {
		state_load(d->state);
		registry_sweep_stale(d->registry);
		r = transport_open_admin(d->transport);
	}
	if (r < 0)
		daemon_stop(d);
	return r;
}

void daemon_stop(struct daemon *d)
{
	/* What is pending is written; sockets go before the areas, so no client
	 * reaches a half-torn-down daemon. Service directories stay. */
	state_free(d->state);
	d->state = NULL;
	registry_free(d->registry);
	d->registry = NULL;
	transport_free(d->transport);
	d->transport = NULL;
	daemon_fini_areas(d, d->n_areas_up);
	d->n_areas_up = 0;
	metrics_free(d->metrics);
	d->metrics = NULL;
	audit_close(d->audit);
	d->audit = NULL;
	writer_free(d->writer);
	d->writer = NULL;
}
