/* The request path: MHD access handler -> route match -> body (bounded) ->
 * JSON parse and schema check -> handler -> reply. Replies may come later
 * (REQ_ASYNC): the connection is suspended and resumed when they do. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "broker.h"
#include "config.h"
#include "errors.h"
#include "log.h"
#include "policy.h"
#include "registry.h"
#include "transport_private.h"

#define REQ_MAX_HEADERS 8
#define REQ_DRAIN_MAX   (1u << 20)

enum req_state { REQ_RECEIVING, REQ_WAITING, REQ_READY, REQ_QUEUED };

struct request {
	struct transport *t;
	struct conn *conn;
	struct MHD_Connection *mhd;
	uint64_t id;
	char method[16];
	char path[512];
	const struct route *route;
	struct route_params params;
	unsigned early_status;
	char allow[64];
	char *body;
	size_t body_len, body_cap;
	bool too_large;
	bool draining; /* refused early: the body is read and dropped, then the reply */
	size_t drained;
	json_t *json;
	enum req_state state;
	struct MHD_Response *response;
	unsigned status;
	size_t n_headers;
	char *headers[REQ_MAX_HEADERS][2];
	struct upgrade *upgrade;
	char log_ctx[128];
};

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
	for (size_t i = 0; i < req->params.n; i++)
		if (!strcmp(req->params.names[i], name))
			return req->params.values[i];
	return NULL;
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

const struct peer *req_peer(const struct request *req)
{
	return &req->conn->peer;
}

uint64_t req_id(const struct request *req)
{
	return req->id;
}

uint64_t req_conn_id(const struct request *req)
{
	return req->conn->id;
}

struct broker *req_broker(const struct request *req)
{
	return req->t->b;
}

const char *req_log_ctx(const struct request *req)
{
	return req->log_ctx;
}

/* --- replies --- */

static void req_count_status(struct request *req, unsigned status)
{
	if (status >= 500)
		req->t->stats.errors_5xx++;
	else if (status >= 400)
		req->t->stats.errors_4xx++;
}

/* Installs the response; wakes the connection if the handler went async. */
static int req_set_response(struct request *req, unsigned status, struct MHD_Response *resp)
{
	if (!resp)
		return -ENOMEM;
	if (req->state == REQ_READY || req->state == REQ_QUEUED) {
		/* A second reply is a bug in a handler: keep the first. */
		log_error(req->log_ctx, "second reply (%u) dropped", status);
		MHD_destroy_response(resp);
		return 0;
	}
	for (size_t i = 0; i < req->n_headers; i++)
		MHD_add_response_header(resp, req->headers[i][0], req->headers[i][1]);
	req->response = resp;
	req->status = status;
	req_count_status(req, status);
	log_debug(req->log_ctx, "%s %s -> %u", req->method, req->path, status);
	if (req->state == REQ_WAITING) {
		req->state = REQ_READY;
		conn_resume(req->conn);
	} else {
		req->state = REQ_READY;
	}
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

int req_reply_raw(struct request *req, unsigned status, const char *content_type, const void *data,
                  size_t len)
{
	struct MHD_Response *resp =
	        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);

	if (resp && content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	return req_set_response(req, status, resp);
}

int req_reply_json(struct request *req, unsigned status, json_t *body)
{
	char *text = NULL;
	size_t len = 0;
	struct MHD_Response *resp;

	if (status == 204) {
		json_decref(body);
		return req_set_response(
		        req, status,
		        MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT));
	}
	if (body)
		text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	if (!text)
		text = strdup("{}");
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len] = '\0';
	/* One reply per line keeps curl output and logs readable. */
	char *withnl = realloc(text, len + 2);
	if (!withnl) {
		free(text);
		return -ENOMEM;
	}
	withnl[len] = '\n';
	withnl[len + 1] = '\0';
	resp = MHD_create_response_from_buffer(len + 1, withnl, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(withnl);
		return -ENOMEM;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	return req_set_response(req, status, resp);
}

/* Messages quote client input (paths, names): keep them printable ASCII so
 * the JSON is always valid and a log line never carries control bytes. */
static void req_sanitize(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

static json_t *req_error_body(const char *code, const char *message, const char *hint)
{
	return json_pack("{s:{s:s,s:s,s:s}}", "error", "code", code, "message", message, "hint",
	                 hint ? hint : "");
}

int req_error(struct request *req, int err, const char *hint, const char *fmt, ...)
{
	struct error_kind kind = errors_from_errno(err);
	char msg[512], hint_buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	req_sanitize(msg);
	if (hint) {
		snprintf(hint_buf, sizeof(hint_buf), "%s", hint);
		req_sanitize(hint_buf);
		hint = hint_buf;
	}
	if (kind.status >= 500)
		log_warn(req->log_ctx, "%s %s: %s (%s)", req->method, req->path, msg, kind.code);
	else
		log_info(req->log_ctx, "%s %s: %s (%s)", req->method, req->path, msg, kind.code);
	req_reply_json(req, kind.status, req_error_body(kind.code, msg, hint));
	return 0;
}

/* --- authorization --- */

/* A service registered with a container_id only accepts peers whose cgroup
 * names that container: a process that got hold of the socket some other
 * way is refused. */
static bool req_peer_in_container(const struct request *req, const char *container_id)
{
	char path[64], line[1024];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)req->conn->peer.pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, container_id) != NULL;
	fclose(f);
	return found;
}

/* Runs before every handler on a service socket. */
static int req_check_container(struct request *req)
{
	struct service *svc = req->conn->svc;
	const char *cid = svc ? policy_container_id(svc->policy) : NULL;

	if (!cid || req_peer_in_container(req, cid))
		return 0;
	audit_request(req->t->b->audit, req, "container-check", NULL, "deny",
	              "peer not in the service's container");
	req_error(req, -EACCES, "the socket must be used from the service's own container",
	          "peer pid %d is not in container %.12s", (int)req->conn->peer.pid, cid);
	return REQ_DENIED;
}

int req_authorize(struct request *req, const struct policy_request *want)
{
	struct service *svc = req->conn->svc;
	struct policy_decision d;

	if (!svc)
		return 0;
	if (policy_allows(svc->policy, want, &d))
		return 0;
	json_t *args = json_pack("{s:s}", "missing_grant", d.grant);
	audit_request(req->t->b->audit, req, "policy", args, "deny", d.grant);
	json_decref(args);
	req_error(req, -EACCES, d.hint, "service %s has no grant for %s", svc->name, d.grant);
	return REQ_DENIED;
}

/* --- the MHD side --- */

static struct request *req_new(struct transport *t, struct MHD_Connection *connection,
                               const char *url, const char *method)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *c = ci ? ci->socket_context : NULL;
	struct request *req;

	if (!c)
		return NULL;
	req = calloc(1, sizeof(*req));
	if (!req)
		return NULL;
	req->t = t;
	req->conn = c;
	req->mhd = connection;
	req->id = t->next_req_id++;
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

static void req_route(struct request *req)
{
	unsigned kind = req->conn->svc ? ROUTE_SERVICE : ROUTE_ADMIN;

	if (req->early_status)
		return;
	req->route = router_match(req->method, req->path, kind, req->t->b->cfg->sim, &req->params,
	                          &req->early_status, req->allow, sizeof(req->allow));
	if (req->route)
		req->early_status = 0;
}

static void req_early_reply(struct request *req)
{
	switch (req->early_status) {
	case 404:
		req_error(req, -ENOENT, "see docs/api.md for the endpoints", "no such endpoint: %s",
		          req->path);
		break;
	case 405:
		req_add_header(req, MHD_HTTP_HEADER_ALLOW, req->allow);
		req_reply_json(req, 405,
		               req_error_body("method_not_allowed", "method not allowed here",
		                              req->allow));
		break;
	case 413:
		req_error(req, -E2BIG, "the body limit is the daemon's --max-body",
		          "request body larger than %zu bytes", req->t->b->cfg->max_body);
		break;
	default:
		req_reply_json(req, 414,
		               req_error_body("too_large", "request path too long", NULL));
		break;
	}
}

static int req_take_body(struct request *req, const char *data, size_t size)
{
	size_t max = req->t->b->cfg->max_body;

	if (req->too_large || req->body_len + size > max) {
		req->too_large = true;
		return 0;
	}
	if (req->body_len + size + 1 > req->body_cap) {
		size_t cap = req->body_cap ? req->body_cap : 1024;
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

static int req_parse_body(struct request *req)
{
	const struct route *r = req->route;
	json_error_t jerr;
	char msg[256];
	int err;

	if (r->body != BODY_JSON)
		return 0;
	if (req->body_len == 0) {
		if (r->schema && r->schema->allow_empty_body)
			return 0;
		req_error(req, -EBADMSG, "send a JSON object with Content-Type: application/json",
		          "a JSON body is required");
		return -EBADMSG;
	}
	req->json = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req->json) {
		req_error(req, -EBADMSG, NULL, "malformed JSON at line %d column %d: %s", jerr.line,
		          jerr.column, jerr.text);
		return -EBADMSG;
	}
	err = router_validate(r->schema, req->json, msg, sizeof(msg));
	if (err < 0) {
		req_error(req, err, NULL, "%s", msg);
		return err;
	}
	return 0;
}

static void req_run_handler(struct request *req)
{
	int r;

	if (req_check_container(req) == REQ_DENIED || req_parse_body(req) < 0)
		return;
	r = req->route->handler(req);
	if (r == REQ_ASYNC) {
		if (req->state == REQ_RECEIVING)
			req->state = REQ_WAITING;
		return;
	}
	if (r < 0 && req->state == REQ_RECEIVING) {
		struct error_kind k = errors_from_errno(r);
		req_error(req, r, NULL, "%s", k.code);
	} else if (req->state == REQ_RECEIVING) {
		log_error(req->log_ctx, "handler for %s %s sent no reply", req->method, req->path);
		req_error(req, -EIO, NULL, "internal error: no reply");
	}
}

static enum MHD_Result req_queue(struct request *req)
{
	enum MHD_Result ret = MHD_queue_response(req->mhd, req->status, req->response);

	MHD_destroy_response(req->response);
	req->response = NULL;
	req->state = REQ_QUEUED;
	return ret;
}

enum MHD_Result transport_access_handler(void *cls, struct MHD_Connection *connection,
                                         const char *url, const char *method, const char *version,
                                         const char *upload_data, size_t *upload_data_size,
                                         void **con_cls)
{
	struct transport *t = cls;
	struct request *req = *con_cls;

	if (!req) {
		req = req_new(t, connection, url, method);
		if (!req)
			return MHD_NO;
		*con_cls = req;
		req_route(req);
		const char *cl =
		        MHD_lookup_connection_value(connection, MHD_HEADER_KIND, "Content-Length");
		unsigned long long len = cl ? strtoull(cl, NULL, 10) : 0;
		if (!req->early_status && len > t->b->cfg->max_body)
			req->early_status = 413;
		if (req->early_status) {
			/* A refused request's body is read and dropped first (a client
			 * still sending would otherwise see its connection reset before
			 * our answer); one too big to bother is answered at once. */
			if (len && len <= REQ_DRAIN_MAX) {
				req->draining = true;
				return MHD_YES;
			}
			req_early_reply(req);
			return req_queue(req);
		}
		return MHD_YES;
	}
	if (req->draining && *upload_data_size) {
		req->drained += *upload_data_size;
		*upload_data_size = 0;
		if (req->drained <= REQ_DRAIN_MAX)
			return MHD_YES;
		req->draining = false;
		req_early_reply(req);
		return req_queue(req);
	}
	if (req->draining) {
		req->draining = false;
		req_early_reply(req);
		return req_queue(req);
	}
	if (req->state == REQ_QUEUED) {
		*upload_data_size = 0; /* discard the rest of a refused upload */
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (req_take_body(req, upload_data, *upload_data_size) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		if (req->too_large) {
			req->early_status = 413;
			req->draining = true;
			req->drained = req->body_len;
		}
		return MHD_YES;
	}
	if (req->state == REQ_RECEIVING)
		req_run_handler(req);
	if (req->state == REQ_WAITING) {
		conn_suspend(req->conn);
		return MHD_YES;
	}
	if (req->state == REQ_READY)
		return req_queue(req);
	return MHD_YES;
}

void upgrade_request_done(struct upgrade *up);

void transport_request_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                                 enum MHD_RequestTerminationCode toe)
{
	struct request *req = *con_cls;

	if (!req)
		return;
	*con_cls = NULL;
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_debug(req->log_ctx, "%s %s ended early (%d)", req->method, req->path, (int)toe);
	if (req->response)
		MHD_destroy_response(req->response);
	if (req->upgrade)
		upgrade_request_done(req->upgrade);
	for (size_t i = 0; i < req->n_headers; i++) {
		free(req->headers[i][0]);
		free(req->headers[i][1]);
	}
	json_decref(req->json);
	free(req->body);
	free(req);
}

/* stream.c needs these. */
struct conn *request_conn(struct request *req)
{
	return req->conn;
}

int request_set_response(struct request *req, unsigned status, struct MHD_Response *resp)
{
	return req_set_response(req, status, resp);
}

void request_set_upgrade(struct request *req, struct upgrade *up)
{
	req->upgrade = up;
}
