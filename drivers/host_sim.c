/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Simulated host actions: recorded, never performed; answers come from a
 * small simulated host (its hostname and this machine's clock). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"

#define SIM_MAX_RECORDS 256

struct host_backend {
	const struct drv_env *env;
	char hostname[256];
	json_t *actions;
	struct sim_call *pending;
};

struct sim_call {
	struct host_backend *be;
	host_done_fn done;
	void *data;
	struct host_result res;
	struct drv_timer *timer;
	struct sim_call *next;
};

static const struct host_ops *const host_backends[] = {&host_sim_ops, &host_dbus_ops};

const struct host_ops *host_backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(host_backends) / sizeof(host_backends[0]); i++)
		if (!strcmp(host_backends[i]->name, name))
			return host_backends[i];
	return NULL;
}

const char *host_action_name(enum host_action action)
{
	static const char *const names[] = {"reboot",       "poweroff", "get_hostname",
	                                    "set_hostname", "get_time", "restart_unit"};
	return (unsigned)action < sizeof(names) / sizeof(names[0]) ? names[action] : "?";
}

static int sim_open(struct host_backend **out, const struct host_params *params)
{
	struct host_backend *be = calloc(1, sizeof(*be));

	if (!be)
		return -ENOMEM;
	be->env = params->env;
	snprintf(be->hostname, sizeof(be->hostname), "hwbroker-sim");
	be->actions = json_array();
	*out = be;
	return 0;
}

static void sim_unlink(struct sim_call *c)
{
	for (struct sim_call **pp = &c->be->pending; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

static void sim_finish(void *data)
{
	struct sim_call *c = data;

	sim_unlink(c);
	c->done(c->data, &c->res);
	free(c);
}

static void sim_close(struct host_backend *be)
{
	while (be->pending) {
		struct sim_call *c = be->pending;
		env_timer_cancel(be->env, c->timer);
		c->res.err = -ESHUTDOWN;
		sim_finish(c);
	}
	json_decref(be->actions);
	free(be);
}

static int sim_call(struct host_backend *be, enum host_action action, const char *arg,
                    host_done_fn done, void *data)
{
	struct sim_call *c = calloc(1, sizeof(*c));
	struct timespec ts;

	if (!c)
		return -ENOMEM;
	c->be = be;
	c->done = done;
	c->data = data;
	if (json_array_size(be->actions) == SIM_MAX_RECORDS)
		json_array_remove(be->actions, 0);
	json_array_append_new(be->actions, json_pack("{s:s,s:s?}", "action",
	                                             host_action_name(action), "arg", arg));
	switch (action) {
	case HOST_SET_HOSTNAME:
		snprintf(be->hostname, sizeof(be->hostname), "%s", arg);
		/* fall through */
	case HOST_GET_HOSTNAME:
		snprintf(c->res.hostname, sizeof(c->res.hostname), "%s", be->hostname);
		break;
	case HOST_GET_TIME:
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(c->res.timezone, sizeof(c->res.timezone), "UTC");
		c->res.ntp = c->res.ntp_synchronized = true;
		c->res.time_usec = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
		break;
	case HOST_RESTART_UNIT:
		snprintf(c->res.job, sizeof(c->res.job), "/org/freedesktop/systemd1/job/%zu",
		         json_array_size(be->actions));
		break;
	default:
		break;
	}
	/* Asynchronous like the real thing: the answer comes on a later turn. */
	c->timer = env_timer_add(be->env, 0, sim_finish, c);
	if (!c->timer) {
		free(c);
		return -ENOMEM;
	}
	c->next = be->pending;
	be->pending = c;
	return 0;
}

static json_t *sim_actions(struct host_backend *be)
{
	return json_deep_copy(be->actions);
}

const struct host_ops host_sim_ops = {
        .name = "sim",
        .open = sim_open,
        .close = sim_close,
        .call = sim_call,
};

const struct host_sim_ops host_sim_control = {
        .actions = sim_actions,
};

const struct host_sim_ops *host_backend_sim(const struct host_ops *ops)
{
	return ops == &host_sim_ops ? &host_sim_control : NULL;
}
