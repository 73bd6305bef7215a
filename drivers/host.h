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

struct config;
struct loop;
struct host_backend;

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
	int (*open)(struct host_backend **out, struct loop *loop, const struct config *cfg);
	/* Pending calls complete with -ESHUTDOWN before close returns. */
	void (*close)(struct host_backend *be);
	/* arg: the hostname (SET_HOSTNAME) or unit (RESTART_UNIT), else NULL.
	 * 0 when started (done will run), or -errno (done will not run). */
	int (*call)(struct host_backend *be, enum host_action action, const char *arg,
	            host_done_fn done, void *data);
	/* Simulated only: what was asked, oldest first (new reference). */
	json_t *(*sim_actions)(struct host_backend *be);
};

extern const struct host_ops host_sim_ops;
extern const struct host_ops host_dbus_ops;

const struct host_ops *host_backend_find(const char *name);
const char *host_action_name(enum host_action action);
