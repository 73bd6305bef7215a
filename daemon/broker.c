/* The area table and the fan-out of registry events to the areas. */
#include "broker.h"

#include "loop.h"
#include "state.h"

const struct area *const broker_areas[] = {
        &area_admin, &area_service, &area_gpio, &area_i2c, &area_uart, &area_host, &area_sim, NULL,
};

void broker_notify_policy_changed(struct broker *b, struct service *svc)
{
	for (size_t i = 0; broker_areas[i]; i++)
		if (broker_areas[i]->policy_changed)
			broker_areas[i]->policy_changed(b, svc);
}

void broker_notify_service_removed(struct broker *b, struct service *svc)
{
	for (size_t i = 0; broker_areas[i]; i++)
		if (broker_areas[i]->service_removed)
			broker_areas[i]->service_removed(b, svc);
}

void broker_notify_conn_closed(struct broker *b, struct service *svc, uint64_t conn_id)
{
	for (size_t i = 0; broker_areas[i]; i++)
		if (broker_areas[i]->conn_closed)
			broker_areas[i]->conn_closed(b, svc, conn_id);
}

/* Writes are coalesced: at most one state write per STATE_SAVE_DELAY_MS, and
 * a pending one is done at shutdown (broker_flush_state). A crash loses at
 * most that much of lease changes; services are saved the same way. */
#define STATE_SAVE_DELAY_MS 100

static struct loop_timer *broker_save_timer;

static void broker_save_now(void *data)
{
	broker_save_timer = NULL;
	state_save(data);
}

void broker_state_changed(struct broker *b)
{
	if (!broker_save_timer)
		broker_save_timer =
		        loop_add_timer(b->loop, STATE_SAVE_DELAY_MS, broker_save_now, b);
}

void broker_flush_state(struct broker *b)
{
	if (!broker_save_timer)
		return;
	loop_cancel_timer(b->loop, broker_save_timer);
	broker_save_timer = NULL;
	state_save(b);
}
