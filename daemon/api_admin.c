/* Admin socket: what the device supervisor calls when it applies a release.
 * Applying is derive-then-commit: every declaration is derived first, and
 * nothing changes unless all of them derive. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "broker.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "registry.h"
#include "transport.h"

#define ADMIN_MOUNT_TARGET "/run/hwbroker"
#define ADMIN_SOCKET_ENV   "/run/hwbroker/hwbroker.sock"

static uint64_t admin_started_ms;

static json_t *admin_service_json(struct service *svc)
{
	json_t *o =
	        json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s},s:o,s:i}", "service", svc->name, "socket",
	                  svc->sock_path, "mount", "source", svc->dir, "target", ADMIN_MOUNT_TARGET,
	                  "environment", "HWBROKER_SOCKET", ADMIN_SOCKET_ENV, "policy",
	                  policy_to_json(svc->policy), "connections", (int)svc->n_conns);
	return o;
}

static int admin_reply_derive_errors(struct request *req, json_t *errors)
{
	char msg[300];
	size_t n = json_array_size(errors);
	json_t *first = json_array_get(errors, 0);

	snprintf(msg, sizeof(msg), "%zu error%s in the declaration%s%s", n, n == 1 ? "" : "s",
	         first ? ": " : "",
	         first ? json_string_value(json_object_get(first, "message")) ?: "" : "");
	json_t *body =
	        json_pack("{s:{s:s,s:s,s:s,s:o}}", "error", "code", "invalid", "message", msg,
	                  "hint", "fix the listed labels; nothing was applied", "details", errors);
	log_info(req_log_ctx(req), "apply refused: %s", msg);
	return req_reply_json(req, 422, body);
}

/* Derives one declaration; appends errors (with the service name) to errors. */
static struct policy *admin_derive(const char *name, json_t *compose, json_t *errors)
{
	struct policy *p = NULL;
	json_t *errs = NULL;

	if (!policy_valid_service_name(name)) {
		json_array_append_new(
		        errors, json_pack("{s:s,s:s}", "service", name, "message",
		                          "invalid service name: use [a-z0-9][a-z0-9_.-]{0,62}"));
		return NULL;
	}
	if (!json_is_object(compose)) {
		json_array_append_new(errors, json_pack("{s:s,s:s}", "service", name, "message",
		                                        "a service must be a JSON object"));
		return NULL;
	}
	if (policy_derive(name, compose, &p, &errs) < 0) {
		json_array_extend(errors, errs);
		json_decref(errs);
		return NULL;
	}
	return p;
}

static int admin_commit(struct broker *b, const char *name, json_t *compose, struct policy *p,
                        bool *created)
{
	int r;

	json_incref(compose);
	r = registry_apply(b->registry, name, compose, p, created);
	if (r < 0) {
		json_decref(compose);
		policy_free(p);
		return r;
	}
	if (!*created)
		broker_notify_policy_changed(b, registry_find(b->registry, name));
	return 0;
}

static int admin_put_service(struct request *req)
{
	struct broker *b = req_broker(req);
	const char *name = req_param(req, "name");
	json_t *errors = json_array();
	struct policy *p = admin_derive(name, req_json(req), errors);
	bool created;
	int r;

	if (!p)
		return admin_reply_derive_errors(req, errors);
	json_decref(errors);
	r = admin_commit(b, name, req_json(req), p, &created);
	if (r < 0)
		return req_error(req, r, NULL, "cannot register %s: %s", name, strerror(-r));
	broker_state_changed(b);
	log_info(req_log_ctx(req), "service %s %s", name, created ? "registered" : "re-applied");
	return req_reply_json(req, created ? 201 : 200,
	                      admin_service_json(registry_find(b->registry, name)));
}

static void admin_remove(struct broker *b, struct service *svc)
{
	service_ref(svc);
	broker_notify_service_removed(b, svc);
	registry_remove(b->registry, svc->name);
	service_unref(svc);
}

static int admin_delete_service(struct request *req)
{
	struct broker *b = req_broker(req);
	struct service *svc = registry_find(b->registry, req_param(req, "name"));

	if (!svc)
		return req_error(req, -ENOENT, "GET /v1/services lists them", "no service named %s",
		                 req_param(req, "name"));
	admin_remove(b, svc);
	broker_state_changed(b);
	return req_reply_json(req, 204, NULL);
}

static int admin_get_service(struct request *req)
{
	struct service *svc = registry_find(req_broker(req)->registry, req_param(req, "name"));

	if (!svc)
		return req_error(req, -ENOENT, "GET /v1/services lists them", "no service named %s",
		                 req_param(req, "name"));
	return req_reply_json(req, 200, admin_service_json(svc));
}

static int admin_list_services(struct request *req)
{
	struct registry *reg = req_broker(req)->registry;
	json_t *list = json_array();
	struct service *svc;

	for (size_t i = 0; (svc = registry_at(reg, i)); i++) {
		json_t *pj = policy_to_json(svc->policy);
		json_array_append_new(list, json_pack("{s:s,s:s,s:i,s:b}", "name", svc->name,
		                                      "socket", svc->sock_path, "connections",
		                                      (int)svc->n_conns, "broad",
		                                      json_is_true(json_object_get(pj, "broad"))));
		json_decref(pj);
	}
	return req_reply_json(req, 200, json_pack("{s:o}", "services", list));
}

/* PUT /v1/state: the whole release. All or nothing. */
static int admin_put_state(struct request *req)
{
	struct broker *b = req_broker(req);
	json_t *services = json_object_get(req_json(req), "services");
	json_t *errors, *reply, *removed, *compose;
	const char *name;
	size_t n = json_object_size(services), i = 0;
	struct policy **policies;
	struct service *svc;

	if (!json_is_object(services))
		return req_error(req, -EINVAL, "{\"services\":{NAME:{...}}}",
		                 "\"services\" must be an object");
	policies = calloc(n ? n : 1, sizeof(*policies));
	if (!policies)
		return -ENOMEM;
	errors = json_array();
	json_object_foreach(services, name, compose) policies[i++] =
	        admin_derive(name, compose, errors);
	if (json_array_size(errors)) {
		for (i = 0; i < n; i++)
			policy_free(policies[i]);
		free(policies);
		return admin_reply_derive_errors(req, errors);
	}
	json_decref(errors);
	removed = json_array();
	/* Remove first: a release that drops A and adds B never holds both. */
	for (i = registry_count(b->registry); i-- > 0;) {
		svc = registry_at(b->registry, i);
		if (!json_object_get(services, svc->name)) {
			json_array_append_new(removed, json_string(svc->name));
			admin_remove(b, svc);
		}
	}
	reply = json_object();
	i = 0;
	json_object_foreach(services, name, compose)
	{
		bool created;
		int r = admin_commit(b, name, compose, policies[i++], &created);
		if (r < 0)
			log_error(name, "not applied: %s", strerror(-r));
		else
			json_object_set_new(reply, name,
			                    admin_service_json(registry_find(b->registry, name)));
	}
	free(policies);
	broker_state_changed(b);
	log_info(req_log_ctx(req), "state applied: %zu services, %zu removed", n,
	         json_array_size(removed));
	return req_reply_json(req, 200,
	                      json_pack("{s:o,s:o}", "services", reply, "removed", removed));
}

static int admin_health(struct request *req)
{
	struct broker *b = req_broker(req);
	struct transport_stats st;

	transport_get_stats(b->transport, &st);
	return req_reply_json(
	        req, 200,
	        json_pack("{s:s,s:s,s:b,s:s,s:i,s:i,s:I}", "status", "ok", "version", HWB_VERSION,
	                  "sim", b->cfg->sim, "host_backend", b->cfg->host_backend, "services",
	                  (int)registry_count(b->registry), "connections", (int)st.connections,
	                  "uptime_s", (json_int_t)((loop_now_ms() - admin_started_ms) / 1000)));
}

static int admin_metrics(struct request *req)
{
	struct broker *b = req_broker(req);
	struct transport_stats st;
	char text[2048];
	int n;

	transport_get_stats(b->transport, &st);
	n = snprintf(text, sizeof(text),
	             "# HELP hwbroker_services Registered services.\n"
	             "# TYPE hwbroker_services gauge\nhwbroker_services %zu\n"
	             "# HELP hwbroker_connections Open connections.\n"
	             "# TYPE hwbroker_connections gauge\nhwbroker_connections %u\n"
	             "# HELP hwbroker_requests_total Requests received.\n"
	             "# TYPE hwbroker_requests_total counter\nhwbroker_requests_total %llu\n"
	             "# HELP hwbroker_errors_total Error replies by class.\n"
	             "# TYPE hwbroker_errors_total counter\n"
	             "hwbroker_errors_total{class=\"4xx\"} %llu\n"
	             "hwbroker_errors_total{class=\"5xx\"} %llu\n"
	             "# HELP hwbroker_refused_connections_total Connections over a limit.\n"
	             "# TYPE hwbroker_refused_connections_total counter\n"
	             "hwbroker_refused_connections_total %llu\n",
	             registry_count(b->registry), st.connections, (unsigned long long)st.requests,
	             (unsigned long long)st.errors_4xx, (unsigned long long)st.errors_5xx,
	             (unsigned long long)st.refused_connections);
	return req_reply_raw(req, 200, "text/plain; version=0.0.4", text, (size_t)n);
}

/* GET /v1/audit?service=NAME&since=MICROSECONDS&limit=N */
static int admin_audit(struct request *req)
{
	const char *service = req_query(req, "service");
	const char *since = req_query(req, "since"), *limit = req_query(req, "limit");
	unsigned long long since_us = 0, n = 100;

	if (since && req_parse_uint(since, 0, ~0ull >> 1, &since_us) < 0)
		return req_error(req, -EBADMSG, "since is microseconds since the epoch",
		                 "malformed since");
	if (limit && req_parse_uint(limit, 1, 1000, &n) < 0)
		return req_error(req, -EBADMSG, "limit is 1 to 1000", "malformed limit");
	return req_reply_json(req, 200,
	                      json_pack("{s:o}", "records",
	                                audit_query(req_broker(req)->audit, service,
	                                            (long long)since_us, (size_t)n)));
}

static int admin_init(struct broker *b)
{
	admin_started_ms = loop_now_ms();
	return 0;
}

static const struct schema admin_state_schema = {
        .fields = (const struct schema_field[]){{"services", SCHEMA_OBJECT, true, 0, 0}, {0}},
};

static const struct route admin_routes[] = {
        {"GET", "/v1/services", ROUTE_ADMIN, BODY_NONE, NULL, admin_list_services},
        {"GET", "/v1/services/{name}", ROUTE_ADMIN, BODY_NONE, NULL, admin_get_service},
        {"PUT", "/v1/services/{name}", ROUTE_ADMIN, BODY_JSON, NULL, admin_put_service},
        {"DELETE", "/v1/services/{name}", ROUTE_ADMIN, BODY_NONE, NULL, admin_delete_service},
        {"PUT", "/v1/state", ROUTE_ADMIN, BODY_JSON, &admin_state_schema, admin_put_state},
        {"GET", "/v1/health", ROUTE_ADMIN, BODY_NONE, NULL, admin_health},
        {"GET", "/metrics", ROUTE_ADMIN, BODY_NONE, NULL, admin_metrics},
        {"GET", "/v1/audit", ROUTE_ADMIN, BODY_NONE, NULL, admin_audit},
};

const struct area area_admin = {
        .name = "admin",
        .routes = admin_routes,
        .n_routes = sizeof(admin_routes) / sizeof(admin_routes[0]),
        .init = admin_init,
};
