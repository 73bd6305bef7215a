/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The request pipeline, the same for every request:
 *
 *   parse and validate  route match (404/405), body bound (413), JSON and
 *                       schema, the route's own checks (400/422)
 *   resolve             the path becomes a canonical target (route.h)
 *   authorize, audit    the caller's current policy on that target; a
 *                       denial is audited and answered 403; a host action
 *                       is audited before it runs
 *   handler             acts through the driver ops, records its result
 *   render              the core writes the one reply (request.c)
 *
 * and the transport's side that feeds it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "audit.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "policy.h"
#include "registry.h"
#include "request_private.h"
#include "transport_private.h"

#define REQ_DRAIN_MAX (1u << 20)

/* --- parse and validate --- */

static int pipeline_parse_body(struct request *req)
{
	const struct route *r = req->match.route;
	json_error_t jerr;
	char msg[256];
	int err;

	if (r->body != BODY_JSON)
		return 0;
	if (req->body_len == 0) {
		if (r->schema && r->schema->allow_empty_body)
			return 0;
		return req_fail(req, -EBADMSG,
		                "send a JSON object with Content-Type: application/json",
		                "a JSON body is required");
	}
	req->json = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req->json)
		return req_fail(req, -EBADMSG, NULL, "malformed JSON at line %d column %d: %s",
		                jerr.line, jerr.column, jerr.text);
	err = router_validate(r->schema, req->json, msg, sizeof(msg));
	if (err < 0)
		return req_fail(req, err, NULL, "%s", msg);
	return 0;
}

/* --- resolve --- */

static int pipeline_resolve(struct request *req)
{
	const struct route *r = req->match.route;
	struct target *t = &req->target;

	switch (r->resource) {
	case RES_NONE:
	case RES_BOARD:
		return 0;
	case RES_HOST_ACTION:
		t->want.kind = POLICY_HOST;
		t->want.action = r->action;
		return 0;
	default:
		if (!r->resolve) {
			REQ_BUG(req, "%s %s: route without a resolve step", req->method,
			        r->pattern);
			return req_fail(req, -EIO, NULL, "internal error: route not resolvable");
		}
		return r->resolve(req, t);
	}
}

/* --- authorize and audit --- */

/* Does one component of a cgroup path name the container? Engines spell
 * it docker-ID.scope, libpod-ID.scope, cri-containerd-ID.scope, crio-ID.scope
 * (systemd driver) or plain ID (cgroupfs driver: /docker/ID). A short id
 * (12 or more characters) names the container whose full id it begins. */
static bool pipeline_component_is(const char *comp, size_t len, const char *id)
{
	static const char *const prefixes[] = {"docker-", "libpod-", "cri-containerd-", "crio-",
	                                       "containerd-"};
	size_t idlen = strlen(id);

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t pl = strlen(prefixes[i]);
		if (len > pl && !strncmp(comp, prefixes[i], pl)) {
			comp += pl;
			len -= pl;
			break;
		}
	}
	if (len > 6 && !strncmp(comp + len - 6, ".scope", 6))
		len -= 6;
	if (len == idlen)
		return !strncmp(comp, id, len);
	return idlen >= 12 && len == 64 && idlen < len && !strncmp(comp, id, idlen) &&
	       strspn(comp, "0123456789abcdef") >= len;
}

/* A service registered with a container_id only accepts peers whose cgroup
 * names that container: a process that got hold of the socket some other
 * way is refused. Each line is HIERARCHY:CONTROLLERS:PATH; the id must be a
 * whole component of the path, not a substring of one. */
static bool pipeline_peer_in_container(const struct request *req, const char *container_id)
{
	char path[64], line[1024];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)req->conn->peer.pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');
		p = p ? strchr(p + 1, ':') : NULL;
		if (!p)
			continue;
		for (char *comp = strtok(p + 1, "/\n"); comp && !found; comp = strtok(NULL, "/\n"))
			found = pipeline_component_is(comp, strlen(comp), container_id);
	}
	fclose(f);
	return found;
}

static int pipeline_check_container(struct request *req)
{
	struct service *svc = req->conn->svc;
	const char *cid = svc ? policy_container_id(svc->policy) : NULL;
	json_t *fields;

	if (!cid || pipeline_peer_in_container(req, cid))
		return 0;
	fields = json_pack("{s:s,s:s}", "refused", "container-check", "reason",
	                   "peer not in the service's container");
	req_audit(req, "deny", fields);
	metrics_count_denial(req->t->d->metrics, svc,
	                     req->match.area ? req->match.area->name : NULL);
	return req_fail(req, -EACCES, "the socket must be used from the service's own container",
	                "peer pid %d is not in container %.12s", (int)req->conn->peer.pid, cid);
}

static unsigned pipeline_policy_access(const struct request *req)
{
	const struct route *r = req->match.route;

	switch (r->access) {
	case ACCESS_READ:
		return POLICY_READ;
	case ACCESS_BODY:
		return r->body_writes && r->body_writes(req->json) ? POLICY_READ | POLICY_WRITE
		                                                   : POLICY_READ;
	case ACCESS_DIRECT:
		return POLICY_READ | POLICY_WRITE | POLICY_DIRECT;
	default:
		return POLICY_READ | POLICY_WRITE;
	}
}

static int pipeline_deny(struct request *req, const struct policy_decision *d)
{
	struct service *svc = req->conn->svc;
	json_t *fields =
	        json_pack("{s:s,s:s,s:s}", "refused", policy_kind_name(req->target.want.kind),
	                  "missing_grant", d->grant, "hint", d->hint);

	req_audit(req, "deny", fields);
	metrics_count_denial(req->t->d->metrics, svc, req->match.area->name);
	return req_fail(req, -EACCES, d->hint, "service %s has no grant for %s", svc->name,
	                d->grant);
}

/* 0 when the caller may go on to the handler. */
static int pipeline_authorize(struct request *req)
{
	const struct route *r = req->match.route;
	struct service *svc = req->conn->svc;
	struct policy_decision d;

	if (!svc)
		return 0; /* the admin socket may do everything */
	switch (r->access) {
	case ACCESS_NONE:
		return 0;
	case ACCESS_ADMIN:
		REQ_BUG(req, "%s %s: an admin route on a service socket", req->method, r->pattern);
		return req_fail(req, -EACCES, NULL, "admin only");
	default:
		break;
	}
	req->target.want.access = pipeline_policy_access(req);
	for (size_t i = 0; i < req->target.n_members; i++) {
		struct policy_request member = req->target.want;
		member.line = req->target.members[i].line;
		member.line_name = req->target.members[i].name;
		if (!policy_allows(svc->policy, &member, &d))
			return pipeline_deny(req, &d);
	}
	if (!req->target.n_members && !policy_allows(svc->policy, &req->target.want, &d))
		return pipeline_deny(req, &d);
	return 0;
}

/* The handler, then the reply (or the wait for it). */
static void pipeline_handle(struct request *req)
{
	int err = req->match.route->handler(req);

	if (req->state == REQ_WAITING && err != REQ_ASYNC)
		req_complete(req, err);
	else
		req_render(req, err);
}

static void pipeline_host_audited(void *data, int err)
{
	struct request *req = req_wait_take(data);

	if (!req)
		return; /* the daemon stopped first */
	if (err < 0) {
		req_complete(req, req_fail(req, -ENODEV,
		                           "the audit log cannot be written: see hwbrokerd's log",
		                           "refused: the action could not be put on record (%s)",
		                           strerror(-err)));
		return;
	}
	pipeline_handle(req);
}

/* Host actions are on record, on disk, before they happen; one that cannot
 * be put on record is refused. REQ_ASYNC while the record is written. */
static int pipeline_audit_host_action(struct request *req)
{
	const struct route *r = req->match.route;
	struct audit_origin o;
	struct req_wait *w;
	json_t *fields;
	int err;

	fields = json_pack("{s:s}", "action", r->resource == RES_UNIT ? "restart_unit" : r->action);
	if (req->target.want.unit)
		json_object_set_new(fields, "unit", json_string(req->target.want.unit));
	if (req->json)
		json_object_set(fields, "args", req->json);
	w = req_wait_new(req);
	if (!w) {
		json_decref(fields);
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	}
	req_audit_origin(req, &o);
	err = audit_write(req->t->d->audit, &o, "allow", fields, pipeline_host_audited, w);
	if (err < 0) {
		req_wait_take(w);
		return req_fail(
		        req, -ENODEV, "the audit log cannot be written: see hwbrokerd's log",
		        "refused: the action could not be put on record (%s)", strerror(-err));
	}
	return REQ_ASYNC;
}

static void pipeline_run(struct request *req)
{
	const struct route *r = req->match.route;
	int err, resolved;

	err = req->conn->svc ? pipeline_check_container(req) : 0;
	if (err == 0)
		err = pipeline_parse_body(req);
	if (err == 0 && r->check)
		err = r->check(req);
	if (err < 0) {
		req_render(req, err);
		return;
	}
	/* A target that does not exist is still authorized as named: a service
	 * learns that it is missing only when a grant covers it. */
	resolved = pipeline_resolve(req);
	if (resolved < 0 && resolved != -ENOENT && resolved != -ENODEV) {
		req_render(req, resolved);
		return;
	}
	err = pipeline_authorize(req);
	if (err == 0 && resolved < 0)
		err = resolved;
	if (err == 0 && r->access == ACCESS_HOST)
		err = pipeline_audit_host_action(req);
	if (err == 0)
		pipeline_handle(req);
	else
		req_render(req, err);
}

/* --- the transport's side --- */

static void pipeline_route(struct request *req)
{
	unsigned kind = req->conn->svc ? ROUTE_SERVICE : ROUTE_ADMIN;

	if (req->early_status)
		return;
	if (!router_match(req->t->d->areas, req->method, req->path, kind, req->t->d->cfg->sim,
	                  &req->params, &req->match))
		req->early_status = req->match.status;
}

static int pipeline_take_body(struct request *req, const char *data, size_t size)
{
	size_t max = req->t->d->cfg->max_body;

	if (req->too_large || req->body_len + size > max) {
		req->too_large = true;
		return 0;
	}
	if (req->body_len + size + 1 > req->body_cap) {
		/* the Content-Length, bounded by max_body: one allocation */
		size_t cap = req->body_cap ? req->body_cap : req->content_length + 1;
		while (cap < req->body_len + size + 1)
			cap *= 2;
		char *nb = realloc(req->body, cap);
		if (!nb)
			return -ENOMEM;
		req->body = nb;
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, data, size);
	req->body_len += size;
	req->body[req->body_len] = '\0';
	return 0;
}

struct request *pipeline_begin(struct transport *t, struct conn *c, const struct http_head *head)
{
	struct request *req = req_new(t, c, head);
	unsigned long long len = head->content_length;

	if (!req)
		return NULL;
	pipeline_route(req);
	req->content_length = len;
	if (!req->early_status && len > t->d->cfg->max_body)
		req->early_status = 413;
	if (!req->early_status)
		return req;
	/* A refused request's body is read and dropped first (a client still
	 * sending would otherwise see its connection reset before our answer);
	 * one too big to bother is answered at once. */
	if (len && len <= REQ_DRAIN_MAX)
		req->draining = true;
	else
		req_render_early(req);
	return req;
}

void pipeline_body(struct request *req, const char *data, size_t size)
{
	if (req->draining || req->state != REQ_RECEIVING)
		return;
	if (pipeline_take_body(req, data, size) < 0) {
		req_render(req, req_fail(req, -ENOMEM, NULL, "out of memory"));
		return;
	}
	if (req->too_large) {
		req->early_status = 413;
		req->draining = true;
	}
}

void pipeline_finish(struct request *req)
{
	if (req->state != REQ_RECEIVING)
		return;
	if (req->draining)
		req_render_early(req);
	else
		pipeline_run(req);
}

void pipeline_end(struct request *req, bool completed)
{
	if (!completed)
		log_debug(req->log_ctx, "%s %s ended early", req->method, req->path);
	req_free(req);
}
