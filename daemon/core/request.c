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
#include "http.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "registry.h"
#include "request_private.h"
#include "transport_private.h"

/* Under AddressSanitizer every request is freed, so that a use after free is
 * caught rather than hidden by reuse. */
#if defined(__SANITIZE_ADDRESS__)
#define REQ_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REQ_SANITIZED 1
#endif
#endif
#ifndef REQ_SANITIZED
#define REQ_SANITIZED 0
#endif

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
	for (size_t i = 0; i < req->n_args; i++)
		if (!strcmp(req->args[i][0], key))
			return req->args[i][1];
	return NULL;
}

const char *req_header(const struct request *req, const char *name)
{
	return http_head_get(req->head, name);
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

struct request *req_new(struct transport *t, struct conn *c, const struct http_head *head)
{
	/* The last request freed is reused: a request is a few KiB, and a
	 * fresh allocation that size costs malloc a consolidation each time. */
	struct request *req = t->spare_req ? t->spare_req : malloc(sizeof(*req));
	size_t tlen = strlen(head->target), qlen = head->query ? strlen(head->query) : 0;
	int n;

	if (!req)
		return NULL;
	t->spare_req = NULL;
	memset(req, 0, sizeof(*req));
	req->t = t;
	req->conn = c;
	req->head = head;
	req->id = t->next_req_id++;
	req->start_ns = loop_now_ns();
	memcpy(req->method, head->method, sizeof(req->method));
	if (tlen >= sizeof(req->path) || qlen >= sizeof(req->query)) {
		req->early_status = 414;
		tlen = tlen < sizeof(req->path) ? tlen : sizeof(req->path) - 1;
	}
	memcpy(req->path, head->target, tlen);
	http_unescape(req->path);
	req_sanitize(req->path);
	if (head->query && !req->early_status) {
		memcpy(req->query, head->query, qlen + 1);
		n = http_split_query(req->query, req->args, REQ_MAX_ARGS);
		if (n < 0)
			req->early_status = 414;
		req->n_args = n < 0 ? 0 : (size_t)n;
	}
	snprintf(req->log_ctx, sizeof(req->log_ctx), "svc=%s req=%llu pid=%d",
	         c->svc ? c->svc->name : "admin", (unsigned long long)req->id, (int)c->peer.pid);
	t->stats.requests++;
	return req;
}

void stream_free(struct stream *s)
{
	if (s->conn)
		s->conn->stream = NULL;
	s->ops->closed(s->data);
	free(s->trailers);
	free(s);
}

void req_free(struct request *req)
{
	free(req->reply);
	if (req->stream)
		stream_free(req->stream);
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
	if (!req->t->spare_req && !REQ_SANITIZED)
		req->t->spare_req = req;
	else
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

struct req_wait *req_wait_new(struct request *req)
{
	struct req_wait *w;

	if (req->wait)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (w) {
		w->req = req;
		req->wait = w;
	}
	return w;
}

struct request *req_wait_take(struct req_wait *w)
{
	struct request *req = w->req;

	free(w);
	if (req)
		req->wait = NULL;
	return req;
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

int req_set_result(struct request *req, unsigned status, const char *content_type, char *body,
                   size_t len)
{
	if (req->has_result || req->state == REQ_READY || req->state == REQ_QUEUED) {
		REQ_BUG(req, "%s %s: a second result (%u) recorded", req->method, req->path,
		        status);
		free(body);
		return -EALREADY;
	}
	req->has_result = true;
	req->status = status;
	req->reply = body;
	req->reply_len = len;
	snprintf(req->content_type, sizeof(req->content_type), "%s",
	         content_type ? content_type : "");
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
	char *copy = malloc(len ? len : 1);

	if (!copy)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	memcpy(copy, data, len);
	return req_set_result(req, status, content_type, copy, len);
}

int req_result_empty(struct request *req)
{
	return req_set_result(req, 204, NULL, NULL, 0);
}

/* One reply per line keeps curl output and logs readable. */
static char *req_json_text(json_t *body, size_t *len)
{
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII) : strdup("{}");
	char *withnl;

	if (!text)
		return NULL;
	*len = strlen(text);
	withnl = realloc(text, *len + 2);
	if (!withnl) {
		free(text);
		return NULL;
	}
	withnl[(*len)++] = '\n';
	withnl[*len] = '\0';
	return withnl;
}

int req_result_json(struct request *req, unsigned status, json_t *body)
{
	size_t len;
	char *text = req_json_text(body, &len);

	json_decref(body);
	if (!text)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	return req_set_result(req, status, "application/json", text, len);
}

/* --- rendering --- */

static void req_drop_result(struct request *req)
{
	free(req->reply);
	req->reply = NULL;
	req->reply_len = 0;
	if (req->stream) {
		stream_free(req->stream);
		req->stream = NULL;
	}
	req->has_result = false;
}

/* The error body; the status is the errno's. */
static void req_error_result(struct request *req)
{
	struct error_kind kind = errors_from_errno(req->err);
	json_t *error, *body;
	size_t len = 0;

	if (!req->message[0])
		snprintf(req->message, sizeof(req->message), "%s", kind.code);
	error = json_pack("{s:s,s:s,s:s}", "code", kind.code, "message", req->message, "hint",
	                  req->hint);
	if (error && req->details)
		json_object_set(error, "details", req->details);
	body = json_pack("{s:o}", "error", error);
	req->reply = req_json_text(body, &len);
	json_decref(body);
	/* out of memory: the status alone, with an empty body */
	req->reply_len = req->reply ? len : 0;
	snprintf(req->content_type, sizeof(req->content_type), "application/json");
	req->has_result = true;
	req->status = kind.status;
	if (kind.status >= 500)
		log_warn(req->log_ctx, "%s %s: %s (%s)", req->method, req->path, req->message,
		         kind.code);
	else
		log_debug(req->log_ctx, "%s %s: %s (%s)", req->method, req->path, req->message,
		          kind.code);
}

void req_render(struct request *req, int r)
{
	if (r == REQ_ASYNC) {
		if (req->state == REQ_RECEIVING)
			req->state = REQ_WAITING;
		return;
	}
	if (req->state == REQ_READY || req->state == REQ_QUEUED) {
		REQ_BUG(req, "%s %s: a second reply", req->method, req->path);
		return;
	}
	if (r < 0 && req->has_result) {
		REQ_BUG(req, "%s %s: a result recorded, then a failure returned", req->method,
		        req->path);
		req_drop_result(req);
	}
	if (r >= 0 && !req->has_result) {
		REQ_BUG(req, "%s %s: the handler recorded no result", req->method, req->path);
		r = req_fail(req, -EIO, NULL, "internal error: no reply");
	}
	if (r < 0) {
		if (!req->err)
			req->err = r;
		req_error_result(req);
	}
	if (req->status >= 500)
		req->t->stats.errors_5xx++;
	else if (req->status >= 400)
		req->t->stats.errors_4xx++;
	metrics_count_request(req->t->d->metrics, req->conn->svc,
	                      req->match.area ? req->match.area->name : NULL, req->status, req->err,
	                      loop_now_ns() - req->start_ns);
	if (req->state == REQ_WAITING) {
		req->state = REQ_READY;
		conn_kick(req->conn);
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
		req_add_header(req, "Allow", req->match.allow);
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
		req_render(req, req_fail(req, -ENAMETOOLONG, NULL,
		                         "request target too long: a path and a query of up to "
		                         "%zu bytes each, and up to %d query arguments",
		                         sizeof(req->path) - 1, REQ_MAX_ARGS));
		break;
	}
}
