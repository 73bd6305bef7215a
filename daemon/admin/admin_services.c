/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Admin socket: what the device supervisor calls when it applies a release.
 *
 * Every change is derive, commit, apply, answer: all declarations are
 * derived first (nothing changes unless all of them derive), the new state
 * is written to disk off the loop, and only then is it applied and the
 * supervisor answered, so a 2xx survives a crash. Changes are applied one at
 * a time, in the order they arrived.
 *
 * Deriving is pure but not free (tens of microseconds per service), so it
 * runs off the loop too, on the admin's deriver thread: a GPIO request that
 * arrives while a release is derived is not kept waiting. The deriver gets
 * its own deep copy of the declarations (jansson values are not shared
 * between threads) and hands back policies and errors; the loop then
 * commits (writer thread) and applies (loop: it touches the leases). A job
 * enters the queue when it arrives and leaves it in that order: the
 * deriver takes jobs in order, and the head of the queue commits only once
 * derived. A job that does not derive is answered (422) as soon as that is
 * known, without waiting for those before it: it changes nothing. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_private.h"
#include "area.h"
#include "loop.h"
#include "metrics.h"
#include "policy.h"
#include "registry.h"
#include "request.h"
#include "state.h"
#include "writer.h"

#define ADMIN_MOUNT_TARGET "/run/hwbroker"
#define ADMIN_SOCKET_ENV   "/run/hwbroker/hwbroker.sock"

enum admin_op { ADMIN_PUT, ADMIN_DELETE, ADMIN_STATE };

struct admin_job {
	struct writer_job derive; /* first: what the deriver runs */
	struct daemon *d;
	struct admin_area *area;
	struct request *req;
	enum admin_op op;
	char name[64];    /* PUT, DELETE */
	json_t *services; /* the declarations: PUT (one), STATE (all); loop thread */
	/* The deriver's until its done() (the loop does not touch them meanwhile): */
	json_t *derive_in;        /* its own deep copy of services */
	json_t *errors;           /* what did not derive, for the 422 */
	struct policy **policies; /* derived, in the order of services */
	size_t n;
	bool derived; /* may be committed (DELETE: at once) */
	struct admin_job *next;
};

struct admin_area {
	struct daemon *d;
	struct writer *deriver;        /* the thread that derives policies */
	struct admin_job *head, *tail; /* in arrival order: deriving, derived, committing */
	bool stopping;                 /* fini: the deriver stops, jobs are dropped (atomic) */
};

/* open_handles: what the broker could not take back from the service
 * (direct handles); its container must stop to close them. */
json_t *admin_service_json(struct daemon *d, struct service *svc)
{
	return json_pack("{s:s,s:s,s:{s:s,s:s},s:{s:s},s:o,s:i,s:o}", "service", svc->name,
	                 "socket", svc->sock_path, "mount", "source", svc->dir, "target",
	                 ADMIN_MOUNT_TARGET, "environment", "HWBROKER_SOCKET", ADMIN_SOCKET_ENV,
	                 "policy", policy_to_json(svc->policy), "connections", (int)svc->n_conns,
	                 "open_handles", area_open_handles(d, svc->name));
}

static void admin_job_free(struct admin_job *j)
{
	for (size_t i = 0; i < j->n; i++)
		policy_free(j->policies[i]);
	free(j->policies);
	json_decref(j->errors);
	json_decref(j->derive_in);
	json_decref(j->services);
	free(j);
}

/* --- deriving --- */

static int admin_fail_derive(struct request *req, json_t *errors)
{
	size_t n = json_array_size(errors);
	const char *first =
	        json_string_value(json_object_get(json_array_get(errors, 0), "message"));

	req_fail_details(req, errors);
	return req_fail(req, -EINVAL, "fix the listed labels; nothing was applied",
	                "%zu error%s in the declaration%s%s", n, n == 1 ? "" : "s",
	                first ? ": " : "", first ? first : "");
}

/* Derives one declaration; appends errors (with the service name). */
static struct policy *admin_derive(const char *name, json_t *compose, json_t *errors)
{
	struct policy *p = NULL;
	json_t *errs = NULL;

	if (!registry_valid_name(name)) {
		json_array_append_new(
		        errors, json_pack("{s:s,s:s}", "service", name, "message",
		                          "invalid service name: use [a-z0-9][a-z0-9_.-]{0,62}, "
		                          "not \"admin\""));
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

/* Deriver thread: derives every declaration of j's copy into j->policies
 * (the same order as j->services: a deep copy keeps the keys' order). Only
 * pure code here: no request, no daemon. 0, -EINVAL (j->errors says why),
 * -ENOMEM, or -ECANCELED when the daemon stops meanwhile. */
static int admin_derive_run(struct writer_job *wj)
{
	struct admin_job *j = (struct admin_job *)wj;
	json_t *compose;
	const char *name;

	j->errors = json_array();
	if (!j->errors)
		return -ENOMEM;
	json_object_foreach(j->derive_in, name, compose)
	{
		if (__atomic_load_n(&j->area->stopping, __ATOMIC_RELAXED))
			return -ECANCELED;
		j->policies[j->n++] = admin_derive(name, compose, j->errors);
	}
	return json_array_size(j->errors) ? -EINVAL : 0;
}

/* --- applying (after the commit) --- */

static void admin_remove(struct daemon *d, struct request *req, struct service *svc)
{
	service_ref(svc);
	area_notify_service_removed(d, svc);
	metrics_forget_service(d->metrics, svc->name);
	req_audit(req, "removed", json_pack("{s:s}", "subject", svc->name));
	registry_remove(d->registry, svc->name);
	service_unref(svc);
}

/* Applies declaration i of j; its policy goes to the registry. */
static int admin_apply_one(struct admin_job *j, size_t i, const char *name, json_t *compose,
                           bool *created)
{
	struct service *svc = registry_find(j->d->registry, name);
	int r;

	/* Unchanged (the same declaration derives the same policy): nothing to
	 * apply, nothing to put on record. */
	if (svc && json_equal(svc->compose, compose)) {
		policy_free(j->policies[i]);
		j->policies[i] = NULL;
		*created = false;
		return 0;
	}
	r = registry_apply(j->d->registry, name, json_incref(compose), j->policies[i], created);
	if (r < 0) {
		json_decref(compose);
		policy_free(j->policies[i]);
	}
	j->policies[i] = NULL;
	if (r == 0)
		req_audit(j->req, *created ? "registered" : "updated",
		          json_pack("{s:s,s:O}", "subject", name, "declaration", compose));
	return r;
}

static int admin_apply_put(struct admin_job *j)
{
	json_t *compose = json_object_get(j->services, j->name);
	bool created;
	int r = admin_apply_one(j, 0, j->name, compose, &created);

	if (r < 0)
		return req_fail(j->req, r, NULL, "saved, but %s could not be set up: %s", j->name,
		                strerror(-r));
	return req_result_json(j->req, created ? 201 : 200,
	                       admin_service_json(j->d, registry_find(j->d->registry, j->name)));
}

static int admin_apply_delete(struct admin_job *j)
{
	struct service *svc = registry_find(j->d->registry, j->name);

	if (svc)
		admin_remove(j->d, j->req, svc);
	return req_result_empty(j->req);
}

static int admin_apply_state(struct admin_job *j)
{
	struct daemon *d = j->d;
	json_t *reply = json_object(), *removed = json_array(), *compose;
	struct service *svc;
	const char *name;
	size_t i = 0;
	bool created;

	/* Remove first: a release that drops A and adds B never holds both. */
	for (size_t k = registry_count(d->registry); k-- > 0;) {
		svc = registry_at(d->registry, k);
		if (!json_object_get(j->services, svc->name)) {
			json_array_append_new(removed, json_string(svc->name));
			admin_remove(d, j->req, svc);
		}
	}
	json_object_foreach(j->services, name, compose)
	{
		if (admin_apply_one(j, i++, name, compose, &created) < 0)
			continue;
		json_object_set_new(reply, name,
		                    admin_service_json(d, registry_find(d->registry, name)));
	}
	return req_result_json(j->req, 200,
	                       json_pack("{s:o,s:o}", "services", reply, "removed", removed));
}

static void admin_start_next(struct daemon *d);

static void admin_start_next_cb(void *data)
{
	admin_start_next(data);
}

static void admin_committed(void *data, int err)
{
	struct admin_job *j = data;
	struct daemon *d = j->d;
	int r;

	if (err < 0)
		r = req_fail(j->req, -EIO, "see hwbrokerd's log; the previous state stays in force",
		             "cannot save the state: %s; nothing was applied", strerror(-err));
	else if (j->op == ADMIN_PUT)
		r = admin_apply_put(j);
	else if (j->op == ADMIN_DELETE)
		r = admin_apply_delete(j);
	else
		r = admin_apply_state(j);
	req_complete(j->req, r);
	admin_job_free(j);
	/* The next commit starts from the loop, not from here: when the daemon
	 * stops, the state's last drain runs this with the loop stopped, and
	 * the jobs still queued are only dropped (admin_fini). */
	if (loop_defer(d->loop, admin_start_next_cb, d) < 0)
		admin_start_next(d);
}

/* The declarations as they will be once j is applied. */
static json_t *admin_next_services(struct admin_job *j)
{
	json_t *all;
	struct service *svc;

	if (j->op == ADMIN_STATE)
		return json_incref(j->services);
	all = json_object();
	for (size_t i = 0; (svc = registry_at(j->d->registry, i)); i++)
		json_object_set(all, svc->name, svc->compose);
	if (j->op == ADMIN_PUT)
		json_object_set(all, j->name, json_object_get(j->services, j->name));
	else
		json_object_del(all, j->name);
	return all;
}

/* Starts the commit of j; a job that fails at once is answered and freed. */
static void admin_start(struct admin_job *j)
{
	int r;

	if (j->op == ADMIN_DELETE && !registry_find(j->d->registry, j->name)) {
		req_complete(j->req, req_fail(j->req, -ENOENT, "GET /v1/services lists them",
		                              "no service named %s", j->name));
		admin_job_free(j);
		return;
	}
	r = state_commit(j->d->state, admin_next_services(j), admin_committed, j);
	if (r < 0) {
		req_complete(j->req,
		             req_fail(j->req, r, NULL, "cannot save the state: %s", strerror(-r)));
		admin_job_free(j);
	}
}

static void admin_start_next(struct daemon *d)
{
	struct admin_area *a = d->admin;
	struct admin_job *j;

	while ((j = a->head) && j->derived && !state_commit_busy(d->state)) {
		a->head = j->next;
		if (!a->head)
			a->tail = NULL;
		admin_start(j);
	}
}

static void admin_unlink(struct admin_area *a, struct admin_job *j)
{
	struct admin_job **pp = &a->head, *prev = NULL;

	while (*pp && *pp != j) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (!*pp)
		return;
	*pp = j->next;
	if (a->tail == j)
		a->tail = prev;
	j->next = NULL;
}

/* Loop thread (or admin_fini, after the deriver stopped): j is derived. */
static void admin_derived(struct writer_job *wj, int err)
{
	struct admin_job *j = (struct admin_job *)wj;
	struct admin_area *a = j->area;
	int r;

	json_decref(j->derive_in);
	j->derive_in = NULL;
	if (__atomic_load_n(&a->stopping, __ATOMIC_RELAXED))
		return; /* its request is gone; admin_fini frees it */
	if (err < 0) {
		admin_unlink(a, j);
		if (err == -EINVAL) {
			r = admin_fail_derive(j->req, j->errors);
			j->errors = NULL;
		} else {
			r = req_fail(j->req, -ENOMEM, NULL, "out of memory");
		}
		req_complete(j->req, r);
		admin_job_free(j);
	} else {
		j->derived = true;
	}
	admin_start_next(a->d);
}

/* Hands j's declarations to the deriver. 0 or a recorded failure. */
static int admin_queue_derive(struct request *req, struct admin_job *j)
{
	struct admin_area *a = j->area;
	int r;

	j->policies = calloc(json_object_size(j->services) + 1, sizeof(*j->policies));
	j->derive_in = json_deep_copy(j->services);
	if (!j->policies || !j->derive_in)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	j->derive.run = admin_derive_run;
	j->derive.done = admin_derived;
	r = writer_queue(a->deriver, &j->derive);
	if (r < 0)
		return req_fail(req, r, NULL, "cannot derive the declarations: %s", strerror(-r));
	return 0;
}

/* Queues j behind the changes that came before it: derived (off the loop)
 * while those commit, committed once they are applied. */
static int admin_submit(struct request *req, struct admin_job *j)
{
	struct admin_area *a = j->area;
	int r;

	if (j->derived) {
		r = 0;
	} else {
		r = j->services ? admin_queue_derive(req, j)
		                : req_fail(req, -ENOMEM, NULL, "out of memory");
	}
	if (r < 0) {
		admin_job_free(j);
		return r;
	}
	j->next = NULL;
	if (a->tail)
		a->tail->next = j;
	else
		a->head = j;
	a->tail = j;
	admin_start_next(j->d);
	return REQ_ASYNC;
}

static struct admin_job *admin_job_new(struct request *req, enum admin_op op)
{
	struct admin_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->d = req_daemon(req);
	j->area = j->d->admin;
	j->req = req;
	j->op = op;
	snprintf(j->name, sizeof(j->name), "%s", req_param(req, "name") ?: "");
	return j;
}

/* --- handlers --- */

static int admin_put_service(struct request *req)
{
	struct admin_job *j = admin_job_new(req, ADMIN_PUT);

	if (!j)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	j->services = json_pack("{s:O}", req_param(req, "name"), req_json(req));
	return admin_submit(req, j);
}

static int admin_delete_service(struct request *req)
{
	struct admin_job *j = admin_job_new(req, ADMIN_DELETE);

	if (!j)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	j->derived = true; /* nothing to derive */
	return admin_submit(req, j);
}

static int admin_put_state(struct request *req)
{
	struct admin_job *j = admin_job_new(req, ADMIN_STATE);

	if (!j)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	j->services = json_incref(json_object_get(req_json(req), "services"));
	return admin_submit(req, j);
}

static int admin_resolve_service(struct request *req, struct target *t)
{
	t->service = registry_find(req_daemon(req)->registry, req_param(req, "name"));
	if (!t->service)
		return req_fail(req, -ENOENT, "GET /v1/services lists them", "no service named %s",
		                req_param(req, "name"));
	return 0;
}

/* PUT: the service may not exist yet; the name is checked when derived. */
static int admin_resolve_name(struct request *req, struct target *t)
{
	t->service = registry_find(req_daemon(req)->registry, req_param(req, "name"));
	return 0;
}

static int admin_get_service(struct request *req)
{
	return req_result_json(req, 200,
	                       admin_service_json(req_daemon(req), req_target(req)->service));
}

static int admin_list_services(struct request *req)
{
	struct registry *reg = req_daemon(req)->registry;
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
	return req_result_json(req, 200, json_pack("{s:o}", "services", list));
}

static int admin_init(struct daemon *d)
{
	struct admin_area *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->d = d;
	a->deriver = writer_new(d->loop);
	if (!a->deriver) {
		free(a);
		return -ENOMEM;
	}
	d->admin = a;
	return 0;
}

/* Jobs still waiting belong to requests the transport has closed: the
 * deriver drops what it has not derived, is joined, and every job is freed
 * unapplied. */
static void admin_fini(struct daemon *d)
{
	struct admin_area *a = d->admin;

	if (!a)
		return;
	__atomic_store_n(&a->stopping, true, __ATOMIC_RELAXED);
	writer_free(a->deriver);
	while (a->head) {
		struct admin_job *j = a->head;
		a->head = j->next;
		admin_job_free(j);
	}
	free(a);
	d->admin = NULL;
}

static const struct schema admin_state_schema = {
        .fields = (const struct schema_field[]){{"services", SCHEMA_OBJECT, true, 0, 0}, {0}},
};

#define ADMIN_ROUTE(m, path, res)                                                                  \
	.method = (m), .pattern = (path), .sockets = ROUTE_ADMIN, .resource = (res),               \
	.access = ACCESS_ADMIN

static const struct route admin_routes[] = {
        {ADMIN_ROUTE("GET", "/v1/services", RES_NONE), .handler = admin_list_services},
        {ADMIN_ROUTE("GET", "/v1/services/{name}", RES_SERVICE), .resolve = admin_resolve_service,
         .handler = admin_get_service},
        {ADMIN_ROUTE("PUT", "/v1/services/{name}", RES_SERVICE), .body = BODY_JSON,
         .resolve = admin_resolve_name, .handler = admin_put_service},
        {ADMIN_ROUTE("DELETE", "/v1/services/{name}", RES_SERVICE),
         .resolve = admin_resolve_service, .handler = admin_delete_service},
        {ADMIN_ROUTE("PUT", "/v1/state", RES_NONE), .body = BODY_JSON,
         .schema = &admin_state_schema, .handler = admin_put_state},
};

const struct area area_admin = {
        .name = "admin",
        AREA_ROUTES(admin_routes),
        .init = admin_init,
        .fini = admin_fini,
};
