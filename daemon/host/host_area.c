/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host actions for services: reboot, poweroff, hostname, time, unit
 * restarts, one argument-checked action at a time. Every action, allowed or
 * refused, is in the audit log before it is performed. docs/host.md. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "audit.h"
#include "config.h"
#include "host.h"
#include "host_area.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "registry.h"
#include "request.h"

#define HOST_MAX_RATE 64

struct host_rate {
	char service[64];
	unsigned which;                 /* enum host_limit */
	uint64_t stamps[HOST_MAX_RATE]; /* accepted actions, ms, oldest first */
	size_t n;
	struct host_rate *next;
};

struct host_area {
	struct daemon *d;
	const struct host_ops *ops;
	const struct host_sim_ops *sim; /* simulated host only */
	struct host_backend *be;
	bool power_underway;
	bool closing; /* requests are gone: completions only clean up */
	struct host_rate *rates;
};

struct host_job {
	struct host_area *a;
	struct request *req; /* NULL once answered (reboot/poweroff: 202 first) */
	struct audit_origin origin;
	enum host_action action;
	char arg[256];
	struct loop_timer *timer;
};

static int host_fail(struct request *req, int err, const char *what, const char *message)
{
	switch (err) {
	case -ENODEV:
		return req_fail(req, err, "is the D-Bus peer running on the host?",
		                "%s: D-Bus peer unavailable (%s)", what, message);
	case -ETIMEDOUT:
		return req_fail(req, err, NULL, "%s: the D-Bus peer did not answer in time (%s)",
		                what, message);
	default:
		return req_fail(req, err, NULL, "%s failed: %s", what,
		                *message ? message : strerror(-err));
	}
}

/* The outcome, on record with who asked (the request may be answered already). */
static void host_audit_result(struct host_job *j, const struct host_result *res)
{
	json_t *fields = json_pack("{s:s}", "action", host_action_name(j->action));

	if (res->err)
		json_object_set_new(
		        fields, "error",
		        json_string(res->message[0] ? res->message : strerror(-res->err)));
	if (j->arg[0])
		json_object_set_new(fields, "arg", json_string(j->arg));
	audit_write(j->a->d->audit, &j->origin, res->err ? "failed" : "done", fields, NULL, NULL);
}

static void host_done(void *data, const struct host_result *res)
{
	struct host_job *j = data;
	struct request *req = j->req;

	if (j->action != HOST_GET_HOSTNAME && j->action != HOST_GET_TIME)
		host_audit_result(j, res);
	if (res->err)
		log_warn(j->origin.service, "host %s failed: %s", host_action_name(j->action),
		         res->message[0] ? res->message : strerror(-res->err));
	else if (j->action != HOST_GET_HOSTNAME && j->action != HOST_GET_TIME)
		log_info(j->origin.service, "host %s done", host_action_name(j->action));
	if ((j->action == HOST_REBOOT || j->action == HOST_POWEROFF) && res->err)
		j->a->power_underway = false; /* nothing is under way after all */
	if (!req || j->a->closing)
		goto free_job;
	if (res->err)
		req_complete(req,
		             host_fail(req, res->err, host_action_name(j->action), res->message));
	else if (j->action == HOST_GET_TIME)
		req_complete(req,
		             req_result_json(req, 200,
		                             json_pack("{s:s,s:b,s:b,s:I}", "timezone",
		                                       res->timezone, "ntp", res->ntp,
		                                       "ntp_synchronized", res->ntp_synchronized,
		                                       "time_usec", (json_int_t)res->time_usec)));
	else if (j->action == HOST_RESTART_UNIT)
		req_complete(req, req_result_json(
		                          req, 200,
		                          json_pack("{s:s,s:s}", "unit", j->arg, "job", res->job)));
	else
		req_complete(req, req_result_json(req, 200,
		                                  json_pack("{s:s}", "hostname", res->hostname)));
free_job:
	free(j);
}

static struct host_job *host_job_new(struct request *req, enum host_action action, const char *arg)
{
	struct host_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->a = req_daemon(req)->host;
	j->req = req;
	j->action = action;
	req_audit_origin(req, &j->origin);
	snprintf(j->arg, sizeof(j->arg), "%s", arg ? arg : "");
	return j;
}

/* Starts the call now and answers when it completes. */
static int host_start(struct request *req, enum host_action action, const char *arg)
{
	struct host_job *j = host_job_new(req, action, arg);
	struct host_area *a = req_daemon(req)->host;
	int r;

	if (!j)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	r = a->ops->call(a->be, action, j->arg[0] ? j->arg : NULL, host_done, j);
	if (r < 0) {
		free(j);
		return host_fail(req, r, host_action_name(action),
		                 "the system bus is not reachable");
	}
	return REQ_ASYNC;
}

/* --- rate limits --- */

/* What each limit counts: a crash-looping service must not reboot-loop the
 * device, rename it in a loop or keep a unit restarting. */
enum host_limit { HOST_LIMIT_POWER, HOST_LIMIT_HOSTNAME, HOST_LIMIT_UNIT, HOST_LIMIT_COUNT };

static void host_limit_of(const struct host_area *a, enum host_limit which, unsigned *limit,
                          unsigned *window_s)
{
	const struct config *cfg = a->d->cfg;

	switch (which) {
	case HOST_LIMIT_POWER:
		*limit = cfg->reboot_limit;
		*window_s = cfg->reboot_window_s;
		break;
	case HOST_LIMIT_HOSTNAME:
		*limit = cfg->hostname_limit;
		*window_s = cfg->hostname_window_s;
		break;
	default:
		*limit = cfg->unit_restart_limit;
		*window_s = cfg->unit_restart_window_s;
	}
}

static struct host_rate *host_rate_for(struct host_area *a, const char *service,
                                       enum host_limit which)
{
	struct host_rate *r;

	for (r = a->rates; r; r = r->next)
		if (r->which == (unsigned)which && !strcmp(r->service, service))
			return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	snprintf(r->service, sizeof(r->service), "%s", service);
	r->which = (unsigned)which;
	r->next = a->rates;
	a->rates = r;
	return r;
}

/* 0 (and counted), or a recorded 429 (audited as refused). */
static int host_rate_take(struct request *req, enum host_limit which)
{
	static const char *const what[] = {"reboots or poweroffs", "hostname changes",
	                                   "unit restarts"};
	static const char *const opts[] = {"--reboot-limit and --reboot-window",
	                                   "--hostname-limit and --hostname-window",
	                                   "--unit-restart-limit and --unit-restart-window"};
	struct host_area *a = req_daemon(req)->host;
	struct host_rate *r = host_rate_for(a, req_caller(req), which);
	uint64_t now = loop_now_ms();
	unsigned limit, window_s;
	char hint[96];

	host_limit_of(a, which, &limit, &window_s);
	if (!r)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	while (r->n && now - r->stamps[0] >= (uint64_t)window_s * 1000) {
		memmove(r->stamps, r->stamps + 1, (r->n - 1) * sizeof(r->stamps[0]));
		r->n--;
	}
	if (limit > HOST_MAX_RATE)
		limit = HOST_MAX_RATE;
	if (r->n < limit) {
		r->stamps[r->n++] = now;
		return 0;
	}
	req_audit(req, "refused",
	          json_pack("{s:s,s:s}", "action",
	                    req_target(req)->want.action ? req_target(req)->want.action
	                                                 : "restart_unit",
	                    "reason", "rate limited"));
	snprintf(hint, sizeof(hint), "see hwbrokerd %s", opts[which]);
	return req_fail(req, -EAGAIN, hint, "more than %u %s within %u s", limit, what[which],
	                window_s);
}

/* --- reboot and poweroff --- */

static void host_power_go(void *data)
{
	struct host_job *j = data;
	struct host_area *a = j->a;
	struct host_result res = {0};
	int r;

	j->timer = NULL;
	r = a->ops->call(a->be, j->action, NULL, host_done, j);
	if (r < 0) {
		res.err = r;
		snprintf(res.message, sizeof(res.message), "the system bus is not reachable");
		host_done(j, &res);
	}
}

static int host_power(struct request *req, enum host_action action)
{
	struct host_area *a = req_daemon(req)->host;
	const char *reason = json_string_value(json_object_get(req_json(req), "reason"));
	struct host_job *j;
	int r;

	if (a->power_underway) {
		req_audit(req, "refused",
		          json_pack("{s:s,s:s}", "action", host_action_name(action), "reason",
		                    "a reboot or poweroff is under way"));
		return req_fail(req, -EALREADY, NULL, "a reboot or poweroff is already under way");
	}
	if ((r = host_rate_take(req, HOST_LIMIT_POWER)) < 0)
		return r;
	j = host_job_new(req, action, NULL);
	if (!j)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	log_info(req_log_ctx(req), "host %s accepted (reason: %s)", host_action_name(action),
	         reason ? reason : "none");
	a->power_underway = true;
	j->req = NULL;
	/* The client gets its 202 first; the call goes out on a later turn. */
	j->timer = loop_add_timer(a->d->loop, 0, host_power_go, j);
	return req_result_json(
	        req, 202,
	        json_pack("{s:s,s:s}", "action", host_action_name(action), "status", "accepted"));
}

static int host_reboot(struct request *req)
{
	return host_power(req, HOST_REBOOT);
}

static int host_poweroff(struct request *req)
{
	return host_power(req, HOST_POWEROFF);
}

/* --- hostname, time, units --- */

/* RFC 1123 labels; at most 64 characters in all (the static hostname limit). */
static const char *host_hostname_problem(const char *h)
{
	size_t len = strlen(h), label = 0;

	if (len == 0)
		return "the hostname is empty";
	if (len > 64)
		return "the hostname is longer than 64 characters";
	for (size_t i = 0; i < len; i++) {
		char c = h[i];
		if (c == '.') {
			if (label == 0)
				return "empty label (two dots, or a dot at either end)";
			if (h[i - 1] == '-')
				return "a label ends with '-'";
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-')
			return "only letters, digits, '-' and '.' are allowed";
		if (c == '-' && label == 0)
			return "a label starts with '-'";
		if (++label > 63)
			return "a label is longer than 63 characters";
	}
	if (h[len - 1] == '.')
		return "empty label (two dots, or a dot at either end)";
	if (h[len - 1] == '-')
		return "a label ends with '-'";
	return NULL;
}

static int host_check_hostname(struct request *req)
{
	const char *h = json_string_value(json_object_get(req_json(req), "hostname"));
	const char *problem = host_hostname_problem(h);

	if (problem)
		return req_fail(req, -EINVAL, "RFC 1123: labels of letters, digits and '-'",
		                "invalid hostname: %s", problem);
	return 0;
}

static int host_get_hostname(struct request *req)
{
	return host_start(req, HOST_GET_HOSTNAME, NULL);
}

static int host_set_hostname(struct request *req)
{
	int r = host_rate_take(req, HOST_LIMIT_HOSTNAME);

	if (r < 0)
		return r;
	return host_start(req, HOST_SET_HOSTNAME,
	                  json_string_value(json_object_get(req_json(req), "hostname")));
}

static int host_get_time(struct request *req)
{
	return host_start(req, HOST_GET_TIME, NULL);
}

static int host_resolve_unit(struct request *req, struct target *t)
{
	const char *unit = req_param(req, "unit");

	t->want.kind = POLICY_UNIT;
	if (!policy_valid_unit_name(unit))
		return req_fail(req, -EINVAL, "unit names carry their type: my-agent.service",
		                "invalid unit name \"%.64s\"", unit);
	t->want.unit = unit;
	return 0;
}

static int host_restart_unit(struct request *req)
{
	int r = host_rate_take(req, HOST_LIMIT_UNIT);

	if (r < 0)
		return r;
	return host_start(req, HOST_RESTART_UNIT, req_param(req, "unit"));
}

/* The simulated host's record, for the simulator's controls. */
json_t *host_sim_actions(struct daemon *d)
{
	struct host_area *a = d->host;

	return a && a->sim ? a->sim->actions(a->be) : NULL;
}

static int host_init(struct daemon *d)
{
	struct host_area *a = calloc(1, sizeof(*a));
	struct host_params params = {d->cfg->dbus_timeout_ms, d->env};
	int r;

	if (!a)
		return -ENOMEM;
	a->d = d;
	a->ops = host_backend_find(d->cfg->host_backend);
	if (!a->ops) {
		free(a);
		return -EINVAL;
	}
	a->sim = host_backend_sim(a->ops);
	r = a->ops->open(&a->be, &params);
	if (r < 0) {
		free(a);
		return r;
	}
	d->host = a;
	return 0;
}

static void host_fini(struct daemon *d)
{
	struct host_area *a = d->host;

	if (!a)
		return;
	a->closing = true;
	a->ops->close(a->be);
	while (a->rates) {
		struct host_rate *r = a->rates;
		a->rates = r->next;
		free(r);
	}
	free(a);
	d->host = NULL;
}

static const struct schema host_power_schema = {
        .fields = (const struct schema_field[]){{"reason", SCHEMA_STRING, false, 0, 256}, {0}},
        .allow_empty_body = true,
};
static const struct schema host_hostname_schema = {
        .fields = (const struct schema_field[]){{"hostname", SCHEMA_STRING, true, 0, 255}, {0}},
};

#define HOST_ROUTE(m, path, act, acc)                                                              \
	.method = (m), .pattern = (path), .sockets = ROUTE_ANY, .resource = RES_HOST_ACTION,       \
	.access = (acc), .action = (act)

static const struct route host_routes[] = {
        {HOST_ROUTE("POST", "/v1/host/reboot", "reboot", ACCESS_HOST), .body = BODY_JSON,
         .schema = &host_power_schema, .handler = host_reboot},
        {HOST_ROUTE("POST", "/v1/host/poweroff", "poweroff", ACCESS_HOST), .body = BODY_JSON,
         .schema = &host_power_schema, .handler = host_poweroff},
        {HOST_ROUTE("GET", "/v1/host/hostname", "hostname", ACCESS_READ),
         .handler = host_get_hostname},
        {HOST_ROUTE("PUT", "/v1/host/hostname", "hostname", ACCESS_HOST), .body = BODY_JSON,
         .schema = &host_hostname_schema, .check = host_check_hostname,
         .handler = host_set_hostname},
        {HOST_ROUTE("GET", "/v1/host/time", "time", ACCESS_READ), .handler = host_get_time},
        {.method = "POST",
         .pattern = "/v1/host/units/{unit}/restart",
         .sockets = ROUTE_ANY,
         .resource = RES_UNIT,
         .access = ACCESS_HOST,
         .resolve = host_resolve_unit,
         .handler = host_restart_unit},
};

const struct area area_host = {
        .name = "host",
        AREA_ROUTES(host_routes),
        .init = host_init,
        .fini = host_fini,
};
