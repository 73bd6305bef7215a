/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The fan-out of registry and connection events to the areas. */
#include "area.h"

void area_notify_policy_changed(struct daemon *d, struct service *svc)
{
	for (size_t i = 0; d->areas[i]; i++)
		if (d->areas[i]->policy_changed)
			d->areas[i]->policy_changed(d, svc);
}

void area_notify_service_removed(struct daemon *d, struct service *svc)
{
	for (size_t i = 0; d->areas[i]; i++)
		if (d->areas[i]->service_removed)
			d->areas[i]->service_removed(d, svc);
}

void area_notify_conn_closed(struct daemon *d, struct service *svc, uint64_t conn_id)
{
	for (size_t i = 0; d->areas[i]; i++)
		if (d->areas[i]->conn_closed)
			d->areas[i]->conn_closed(d, svc, conn_id);
}

json_t *area_open_handles(struct daemon *d, const char *service)
{
	json_t *all = json_array();

	for (size_t i = 0; d->areas[i]; i++)
		if (d->areas[i]->open_handles) {
			json_t *some = d->areas[i]->open_handles(d, service);
			json_array_extend(all, some);
			json_decref(some);
		}
	return all;
}
