/* Host actions for services: reboot, poweroff, hostname, time, unit
 * restarts, one argument-checked action at a time. Every action, allowed or
 * refused, is in the audit log before it is performed. docs/host.md. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "broker.h"
#include "config.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "registry.h"

#define HOST_MAX_RATE 64

struct host_rate {
	char service[64];
	uint64_t stamps[HOST_MAX_RATE]; /* accepted reboots/poweroffs, ms, oldest first */
	size_t n;
	struct host_rate *next;
};

struct host_area {
	struct broker *b;
	const struct host_ops *ops;
	struct host_backend *be;
	bool power_underway;
	bool closing; /* requests are gone: completions only clean up */
	struct host_rate *rates;
};

struct host_job {
	struct host_area *a;
	struct request *req; /* NULL once answered (reboot/poweroff: 202 first) */
	enum host_action action;
	char service[64];
	char arg[256];
	struct loop_timer *timer;
};

static int host_fail(struct request *req, int err, const char *what, const char *message)
{
	switch (err) {
	case -ENODEV:
		return req_error(req, err, "is the D-Bus peer running on the host?",
		                 "%s: D-Bus peer unavailable (%s)", what, message);
	case -ETIMEDOUT:
		return req_error(req, err, NULL, "%s: the D-Bus peer did not answer in time (%s)",
		                 what, message);
	default:
		return req_error(req, err, NULL, "%s failed: %s", what,
		                 *message ? message : strerror(-err));
	}
}

static void host_audit_result(struct host_job *j, const struct host_result *res)
{
	json_t *rec = json_pack("{s:s,s:s,s:s,s:s}", "service", j->service, "action",
	                        host_action_name(j->action), "decision", "allow", "result",
	                        res->err ? "failed" : "done");

	if (res->err)
		json_object_set_new(
		        rec, "error",
		        json_string(res->message[0] ? res->message : strerror(-res->err)));
	if (j->arg[0])
		json_object_set_new(rec, "arg", json_string(j->arg));
	audit_record(j->a->b->audit, rec);
	json_decref(rec);
}

static void host_done(void *data, const struct host_result *res)
{
	struct host_job *j = data;
	struct request *req = j->req;

	host_audit_result(j, res);
	if (res->err)
		log_warn(j->service, "host %s failed: %s", host_action_name(j->action),
		         res->message[0] ? res->message : strerror(-res->err));
	else
		log_info(j->service, "host %s done", host_action_name(j->action));
	if ((j->action == HOST_REBOOT || j->action == HOST_POWEROFF) && res->err)
		j->a->power_underway = false; /* nothing is under way after all */
	if (!req || j->a->closing)
		goto free_job;
	if (res->err) {
		host_fail(req, res->err, host_action_name(j->action), res->message);
	} else if (j->action == HOST_GET_TIME) {
		req_reply_json(req, 200,
		               json_pack("{s:s,s:b,s:b,s:I}", "timezone", res->timezone, "ntp",
		                         res->ntp, "ntp_synchronized", res->ntp_synchronized,
		                         "time_usec", (json_int_t)res->time_usec));
	} else if (j->action == HOST_RESTART_UNIT) {
		req_reply_json(req, 200, json_pack("{s:s,s:s}", "unit", j->arg, "job", res->job));
	} else {
		req_reply_json(req, 200, json_pack("{s:s}", "hostname", res->hostname));
	}
free_job:
	free(j);
}

static struct host_job *host_job_new(struct request *req, enum host_action action, const char *arg)
{
	struct host_job *j = calloc(1, sizeof(*j));
	struct service *svc = req_service(req);

	if (!j)
		return NULL;
	j->a = req_broker(req)->host;
	j->req = req;
	j->action = action;
	snprintf(j->service, sizeof(j->service), "%s", svc ? svc->name : "admin");
	snprintf(j->arg, sizeof(j->arg), "%s", arg ? arg : "");
	return j;
}

/* Starts the call now and answers when it completes. */
static int host_start(struct request *req, enum host_action action, const char *arg)
{
	struct host_job *j = host_job_new(req, action, arg);
	struct host_area *a = req_broker(req)->host;
	int r;

	if (!j)
		return -ENOMEM;
	r = a->ops->call(a->be, action, j->arg[0] ? j->arg : NULL, host_done, j);
	if (r < 0) {
		free(j);
		return host_fail(req, r, host_action_name(action),
		                 "the system bus is not reachable");
	}
	return REQ_ASYNC;
}

static int host_authorize(struct request *req, const char *action)
{
	struct policy_request want = {
	        .kind = POLICY_HOST, .access = POLICY_READ | POLICY_WRITE, .action = action};
	return req_authorize(req, &want);
}

/* --- reboot and poweroff --- */

static struct host_rate *host_rate_for(struct host_area *a, const char *service)
{
	struct host_rate *r;

	for (r = a->rates; r; r = r->next)
		if (!strcmp(r->service, service))
			return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	snprintf(r->service, sizeof(r->service), "%s", service);
	r->next = a->rates;
	a->rates = r;
	return r;
}

/* A crash-looping service must not reboot-loop the device. */
static bool host_rate_allows(struct host_area *a, const char *service)
{
	struct host_rate *r = host_rate_for(a, service);
	uint64_t now = loop_now_ms(), window = (uint64_t)a->b->cfg->reboot_window_s * 1000;
	unsigned limit = a->b->cfg->reboot_limit;

	if (!r)
		return false;
	while (r->n && now - r->stamps[0] >= window) {
		memmove(r->stamps, r->stamps + 1, (r->n - 1) * sizeof(r->stamps[0]));
		r->n--;
	}
	if (limit > HOST_MAX_RATE)
		limit = HOST_MAX_RATE;
	if (r->n >= limit)
		return false;
	r->stamps[r->n++] = now;
	return true;
}

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
	struct host_area *a = req_broker(req)->host;
	const char *name = host_action_name(action);
	const char *reason = json_string_value(json_object_get(req_json(req), "reason"));
	struct service *svc = req_service(req);
	struct host_job *j;

	if (host_authorize(req, name))
		return 0;
	json_t *args = json_pack("{s:s?}", "reason", reason);
	if (a->power_underway) {
		audit_request(a->b->audit, req, name, args, "deny",
		              "a reboot or poweroff is under way");
		json_decref(args);
		return req_error(req, -EALREADY, NULL, "a reboot or poweroff is already under way");
	}
	if (!host_rate_allows(a, svc ? svc->name : "admin")) {
		audit_request(a->b->audit, req, name, args, "deny", "rate limited");
		json_decref(args);
		return req_error(req, -EAGAIN, "see hwbrokerd --reboot-limit and --reboot-window",
		                 "more than %u reboots or poweroffs within %u s",
		                 a->b->cfg->reboot_limit, a->b->cfg->reboot_window_s);
	}
	j = host_job_new(req, action, NULL);
	if (!j) {
		json_decref(args);
		return -ENOMEM;
	}
	/* On disk before it happens: the record must survive the reboot. */
	audit_request(a->b->audit, req, name, args, "allow", "accepted");
	json_decref(args);
	log_info(req_log_ctx(req), "host %s accepted (reason: %s)", name, reason ? reason : "none");
	a->power_underway = true;
	j->req = NULL;
	/* The client gets its 202 first; the call goes out on a later turn. */
	j->timer = loop_add_timer(a->b->loop, 0, host_power_go, j);
	return req_reply_json(req, 202,
	                      json_pack("{s:s,s:s}", "action", name, "status", "accepted"));
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

static int host_get_hostname(struct request *req)
{
	if (host_authorize(req, "hostname"))
		return 0;
	return host_start(req, HOST_GET_HOSTNAME, NULL);
}

static int host_set_hostname(struct request *req)
{
	struct host_area *a = req_broker(req)->host;
	const char *h = json_string_value(json_object_get(req_json(req), "hostname"));
	const char *problem = host_hostname_problem(h);
	json_t *args = json_pack("{s:s}", "hostname", h);

	if (host_authorize(req, "hostname")) {
		json_decref(args);
		return 0;
	}
	if (problem) {
		audit_request(a->b->audit, req, "set_hostname", args, "deny", problem);
		json_decref(args);
		return req_error(req, -EINVAL, "RFC 1123: labels of letters, digits and '-'",
		                 "invalid hostname: %s", problem);
	}
	audit_request(a->b->audit, req, "set_hostname", args, "allow", "accepted");
	json_decref(args);
	return host_start(req, HOST_SET_HOSTNAME, h);
}

static int host_get_time(struct request *req)
{
	if (host_authorize(req, "time"))
		return 0;
	return host_start(req, HOST_GET_TIME, NULL);
}

static int host_restart_unit(struct request *req)
{
	struct host_area *a = req_broker(req)->host;
	const char *unit = req_param(req, "unit");
	struct policy_request want = {
	        .kind = POLICY_UNIT, .access = POLICY_READ | POLICY_WRITE, .unit = unit};
	json_t *args = json_pack("{s:s}", "unit", unit);

	if (!policy_valid_unit_name(unit)) {
		audit_request(a->b->audit, req, "restart_unit", args, "deny", "invalid unit name");
		json_decref(args);
		return req_error(req, -EINVAL, "unit names carry their type: my-agent.service",
		                 "invalid unit name \"%.64s\"", unit);
	}
	if (req_authorize(req, &want)) {
		json_decref(args);
		return 0;
	}
	audit_request(a->b->audit, req, "restart_unit", args, "allow", "accepted");
	json_decref(args);
	return host_start(req, HOST_RESTART_UNIT, unit);
}

static int host_sim_actions(struct request *req)
{
	struct host_area *a = req_broker(req)->host;

	if (!a->ops->sim_actions)
		return req_error(req, -ENOENT, "run hwbrokerd with --host sim",
		                 "host actions are not simulated");
	return req_reply_json(req, 200, json_pack("{s:o}", "actions", a->ops->sim_actions(a->be)));
}

static int host_init(struct broker *b)
{
	struct host_area *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->b = b;
	a->ops = host_backend_find(b->cfg->host_backend);
	if (!a->ops) {
		free(a);
		return -EINVAL;
	}
	r = a->ops->open(&a->be, b->loop, b->cfg);
	if (r < 0) {
		free(a);
		return r;
	}
	b->host = a;
	return 0;
}

static void host_fini(struct broker *b)
{
	struct host_area *a = b->host;

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
	b->host = NULL;
}

static const struct schema host_power_schema = {
        .fields = (const struct schema_field[]){{"reason", SCHEMA_STRING, false, 0, 256}, {0}},
        .allow_empty_body = true,
};
static const struct schema host_hostname_schema = {
        .fields = (const struct schema_field[]){{"hostname", SCHEMA_STRING, true, 0, 255}, {0}},
};

#define ANY (ROUTE_SERVICE | ROUTE_ADMIN)
static const struct route host_routes[] = {
        {"POST", "/v1/host/reboot", ANY, BODY_JSON, &host_power_schema, host_reboot},
        {"POST", "/v1/host/poweroff", ANY, BODY_JSON, &host_power_schema, host_poweroff},
        {"GET", "/v1/host/hostname", ANY, BODY_NONE, NULL, host_get_hostname},
        {"PUT", "/v1/host/hostname", ANY, BODY_JSON, &host_hostname_schema, host_set_hostname},
        {"GET", "/v1/host/time", ANY, BODY_NONE, NULL, host_get_time},
        {"POST", "/v1/host/units/{unit}/restart", ANY, BODY_NONE, NULL, host_restart_unit},
        {"GET", "/v1/sim/host/actions", ROUTE_ADMIN, BODY_NONE, NULL, host_sim_actions},
};

const struct area area_host = {
        .name = "host",
        .routes = host_routes,
        .n_routes = sizeof(host_routes) / sizeof(host_routes[0]),
        .init = host_init,
        .fini = host_fini,
};
