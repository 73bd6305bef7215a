/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The request object: accessors, recorded results and failures, and the
 * rendering of the one reply. Nothing outside the core writes a reply. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "audit.h"
#include "config.h"
#include "errors.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "registry.h"
#include "request_private.h"
#include "transport_private.h"

/* --- accessors --- */

const char *req_method(const struct request *req)
{
	return req->method;
}

const char *req_path(const struct request *req)
{
	return req->path;
}

const char *req_param(const struct request *req, const char *name)
{
	return router_param(&req->params, name);
}

const char *req_query(const struct request *req, const char *key)
{
	return MHD_lookup_connection_value(req->mhd, MHD_GET_ARGUMENT_KIND, key);
}

const char *req_header(const struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->mhd, MHD_HEADER_KIND, name);
}

json_t *req_json(const struct request *req)
{
	return req->json;
}

const void *req_body(const struct request *req, size_t *len)
{
	*len = req->body_len;
	return req->body ? req->body : "";
}

struct service *req_service(const struct request *req)
{
	return req->conn->svc;
}

const char *req_caller(const struct request *req)
{
	return req->conn->svc ? req->conn->svc->name : "admin";
}

const struct peer *req_peer(const struct request *req)
{
	return &req->conn->peer;
}

const struct target *req_target(const struct request *req)
{
	return &req->target;
}

uint64_t req_id(const struct request *req)
{
	return req->id;
}

uint64_t req_conn_id(const struct request *req)
{
	return req->conn->id;
}

struct daemon *req_daemon(const struct request *req)
{
	return req->t->d;
}

const char *req_log_ctx(const struct request *req)
{
	return req->log_ctx;
}

void req_audit_origin(const struct request *req, struct audit_origin *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->service, sizeof(o->service), "%s", req_caller(req));
	o->pid = (int)req->conn->peer.pid;
	o->uid = (int)req->conn->peer.uid;
	o->gid = (int)req->conn->peer.gid;
	o->request = req->id;
	snprintf(o->method, sizeof(o->method), "%s", req->method);
	snprintf(o->path, sizeof(o->path), "%.255s", req->path);
}

int req_audit(struct request *req, const char *event, json_t *fields)
{
	struct audit_origin o;

	req_audit_origin(req, &o);
	return audit_write(req->t->d->audit, &o, event, fields, NULL, NULL);
}

/* --- life --- */

struct request *req_new(struct transport *t, struct conn *c, struct MHD_Connection *mhd,
                        const char *url, const char *method)
{
	struct request *req = calloc(1, sizeof(*req));

	if (!req)
		return NULL;
	req->t = t;
	req->conn = c;
	req->mhd = mhd;
	req->id = t->next_req_id++;
	req->start_ns = loop_now_ns();
	snprintf(req->method, sizeof(req->method), "%s", method);
	if (strlen(url) >= sizeof(req->path))
		req->early_status = 414;
	snprintf(req->path, sizeof(req->path), "%s", url);
	req_sanitize(req->path);
	snprintf(req->log_ctx, sizeof(req->log_ctx), "svc=%s req=%llu pid=%d",
	         c->svc ? c->svc->name : "admin", (unsigned long long)req->id, (int)c->peer.pid);
	t->stats.requests++;
	return req;
}

void req_free(struct request *req)
{
	if (req->response)
		MHD_destroy_response(req->response);
	if (req->release)
		req->release(req->release_data);
	if (req->wait)
		req->wait->req = NULL;
	for (size_t i = 0; i < req->n_headers; i++) {
		free(req->headers[i][0]);
		free(req->headers[i][1]);
	}
	free(req->target.members);
	json_decref(req->details);
	json_decref(req->json);
	free(req->body);
	free(req);
}

/* Messages quote client input (paths, names): keep them printable ASCII so
 * the JSON is always valid and a log line never carries control bytes. */
void req_sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

/* --- failures --- */

int req_fail(struct request *req, int err, const char *hint, const char *fmt, ...)
{
	va_list ap;

	if (err > 0)
		err = -err;
	if (err == 0)
		err = -EIO;
	req->err = err;
	va_start(ap, fmt);
	vsnprintf(req->message, sizeof(req->message), fmt, ap);
	va_end(ap);
	req_sanitize(req->message);
	snprintf(req->hint, sizeof(req->hint), "%s", hint ? hint : "");
	req_sanitize(req->hint);
	return err;
}

void req_fail_details(struct request *req, json_t *details)
{
	json_decref(req->details);
	req->details = details;
}

/* --- results --- */

int req_set_response(struct request *req, unsigned status, struct MHD_Response *resp)
{
	if (!resp)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	if (req->response || req->state == REQ_READY || req->state == REQ_QUEUED) {
		REQ_BUG(req, "%s %s: a second result (%u) recorded", req->method, req->path,
		        status);
		MHD_destroy_response(resp);
		return -EALREADY;
	}
	req->response = resp;
	req->status = status;
	return 0;
}

int req_add_header(struct request *req, const char *name, const char *value)
{
	if (req->n_headers == REQ_MAX_HEADERS)
		return -ENOSPC;
	req->headers[req->n_headers][0] = strdup(name);
	req->headers[req->n_headers][1] = strdup(value);
	req->n_headers++;
	return 0;
}

int req_result_raw(struct request *req, unsigned status, const char *content_type, const void *data,
                   size_t len)
{
	struct MHD_Response *resp =
	        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);

	if (resp && content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	return req_set_response(req, status, resp);
}

int req_result_empty(struct request *req)
{
	return req_set_response(req, 204,
	                        MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT));
}

static struct MHD_Response *req_json_response(json_t *body)
{
	struct MHD_Response *resp;
	size_t len;
	/* One reply per line keeps curl output and logs readable. */
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII) : strdup("{}");

	if (!text)
		return NULL;
	len = strlen(text);
	char *withnl = realloc(text, len + 2);
	if (!withnl) {
		free(text);
		return NULL;
	}
	withnl[len] = '\n';
	withnl[len + 1] = '\0';
	resp = MHD_create_response_from_buffer(len + 1, withnl, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(withnl);
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return resp;
}

int req_result_json(struct request *req, unsigned status, json_t *body)
{
	struct MHD_Response *resp = req_json_response(body);

	json_decref(body);
	return req_set_response(req, status, resp);
}

/* --- rendering --- */

static struct MHD_Response *req_error_response(struct request *req, unsigned *status)
{
	struct error_kind kind = errors_from_errno(req->err);
	json_t *error, *body;
	struct MHD_Response *resp;

	if (!req->message[0])
		snprintf(req->message, sizeof(req->message), "%s", kind.code);
	error = json_pack("{s:s,s:s,s:s}", "code", kind.code, "message", req->message, "hint",
	                  req->hint);
	if (error && req->details)
		json_object_set(error, "details", req->details);
	body = json_pack("{s:o}", "error", error);
	resp = req_json_response(body);
	json_decref(body);
	*status = kind.status;
	if (kind.status >= 500)
		log_warn(req->log_ctx, "%s %s: %s (%s)", req->method, req->path, req->message,
		         kind.code);
	else
		log_debug(req->log_ctx, "%s %s: %s (%s)", req->method, req->path, req->message,
		          kind.code);
	return resp;
}

void req_render(struct request *req, int r)
{
	struct MHD_Response *resp;
	unsigned status;

	if (r == REQ_ASYNC) {
		if (req->state == REQ_RECEIVING)
			req->state = REQ_WAITING;
		return;
	}
	if (req->state == REQ_READY || req->state == REQ_QUEUED) {
		REQ_BUG(req, "%s %s: a second reply", req->method, req->path);
		return;
	}
	if (r < 0 && req->response) {
		REQ_BUG(req, "%s %s: a result recorded, then a failure returned", req->method,
		        req->path);
		MHD_destroy_response(req->response);
		req->response = NULL;
	}
	if (r >= 0 && !req->response) {
		REQ_BUG(req, "%s %s: the handler recorded no result", req->method, req->path);
		r = req_fail(req, -EIO, NULL, "internal error: no reply");
	}
	if (r < 0) {
		if (!req->err)
			req->err = r;
		resp = req_error_response(req, &status);
		if (!resp) /* out of memory: MHD closes the connection */
			resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		req->response = resp;
		req->status = status;
	}
	for (size_t i = 0; req->response && i < req->n_headers; i++)
		MHD_add_response_header(req->response, req->headers[i][0], req->headers[i][1]);
	if (req->status >= 500)
		req->t->stats.errors_5xx++;
	else if (req->status >= 400)
		req->t->stats.errors_4xx++;
	metrics_count_request(req->t->d->metrics, req->conn->svc,
	                      req->match.area ? req->match.area->name : NULL, req->status, req->err,
	                      loop_now_ns() - req->start_ns);
	if (req->state == REQ_WAITING) {
		req->state = REQ_READY;
		transport_resume_conn(req->conn);
	} else {
		req->state = REQ_READY;
	}
}

void req_complete(struct request *req, int err)
{
	if (req->state != REQ_WAITING) {
		REQ_BUG(req, "%s %s: completed while not waiting", req->method, req->path);
		return;
	}
	req_render(req, err);
}

void req_render_early(struct request *req)
{
	switch (req->early_status) {
	case 404:
		req_render(req, req_fail(req, -ENOENT, "see docs/api.md for the endpoints",
		                         "no such endpoint: %s", req->path));
		break;
	case 405: {
		json_t *body =
		        json_pack("{s:{s:s,s:s,s:s}}", "error", "code", "method_not_allowed",
		                  "message", "method not allowed here", "hint", req->match.allow);
		req_add_header(req, MHD_HTTP_HEADER_ALLOW, req->match.allow);
		req_result_json(req, 405, body);
		req_render(req, 0);
		break;
	}
	case 413:
		req_render(req, req_fail(req, -E2BIG, "the body limit is the daemon's --max-body",
		                         "request body larger than %zu bytes",
		                         req->t->d->cfg->max_body));
		break;
	default:
		req_render(req, req_fail(req, -ENAMETOOLONG, NULL, "request path too long"));
		break;
	}
}
