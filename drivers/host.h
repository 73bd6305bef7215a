/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host actions driver ops: reboot, poweroff, hostname, time, unit restarts.
 * One `const struct host_ops` per backend (host_dbus.c: logind, hostnamed,
 * timedated and systemd over the system bus; host_sim.c: records actions),
 * chosen with host_backend_find(). Calls are asynchronous: call() starts the
 * work and done() runs later on the loop thread, never inside call(). Errors
 * in the result: -ENODEV peer or bus missing, -ETIMEDOUT no answer in time,
 * -EINVAL refused arguments, -EIO anything else (message says what). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "env.h"

struct host_backend;

/* What a backend is opened with. */
struct host_params {
	unsigned timeout_ms; /* dbus: per call */
	const struct drv_env *env;
};

enum host_action {
	HOST_REBOOT,
	HOST_POWEROFF,
	HOST_GET_HOSTNAME,
	HOST_SET_HOSTNAME,
	HOST_GET_TIME,
	HOST_RESTART_UNIT,
};

struct host_result {
	int err;
	char message[256]; /* on error: the peer's error name and text */
	char hostname[256];
	char job[256]; /* restart: systemd's job object path */
	char timezone[64];
	bool ntp, ntp_synchronized;
	uint64_t time_usec;
};

typedef void (*host_done_fn)(void *data, const struct host_result *res);

struct host_ops {
	const char *name;
	int (*open)(struct host_backend **out, const struct host_params *params);
	/* Pending calls complete with -ESHUTDOWN before close returns. */
	void (*close)(struct host_backend *be);
	/* arg: the hostname (SET_HOSTNAME) or unit (RESTART_UNIT), else NULL.
	 * 0 when started (done will run), or -errno (done will not run). */
	int (*call)(struct host_backend *be, enum host_action action, const char *arg,
	            host_done_fn done, void *data);
};

/* The simulated host, beside the ops (simulated backend only). */
struct host_sim_ops {
	/* What was asked, oldest first: [{"action","arg"}] (new reference). */
	json_t *(*actions)(struct host_backend *be);
};

extern const struct host_ops host_sim_ops;
extern const struct host_ops host_dbus_ops;
extern const struct host_sim_ops host_sim_control;

const struct host_ops *host_backend_find(const char *name);
/* The simulator controls of a backend: non-NULL only for the simulated one. */
const struct host_sim_ops *host_backend_sim(const struct host_ops *ops);
const char *host_action_name(enum host_action action);
