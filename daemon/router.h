/* Table-driven routing and the request API every handler uses.
 *
 * A route names its method, path pattern, which sockets serve it, its body
 * kind and JSON schema; the router matches, validates the body against the
 * schema and only then calls the handler. Handlers never see libmicrohttpd.
 *
 * Handler contract: return 0 after replying, REQ_ASYNC when a reply (or a
 * stream) will follow later on the loop thread, or a negative errno to let the
 * router reply with that error (errors.h) and a generic message. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct request;
struct service;
struct broker;
struct policy_decision;
struct policy_request;

#define REQ_ASYNC 1

#define ROUTE_SERVICE 1u /* service sockets */
#define ROUTE_ADMIN   2u /* admin socket */
#define ROUTE_SIM     4u /* only when hwbrokerd runs the simulated board */

enum body_kind { BODY_NONE, BODY_JSON, BODY_RAW };

enum schema_type {
	SCHEMA_INT,
	SCHEMA_BOOL,
	SCHEMA_STRING,
	SCHEMA_OBJECT,
	SCHEMA_ARRAY,
	SCHEMA_ANY
};

struct schema_field {
	const char *name;
	enum schema_type type;
	bool required;
	long long min, max; /* SCHEMA_INT bounds (both 0: unbounded); STRING/ARRAY: max length */
};

/* A JSON object body: listed fields type-checked; unknown keys refused (422)
 * unless allow_unknown. Terminate fields with {0}. */
struct schema {
	const struct schema_field *fields;
	bool allow_unknown;
	bool allow_empty_body; /* BODY_JSON route that accepts no body at all */
};

typedef int (*route_fn)(struct request *req);

struct route {
	const char *method;  /* "GET", "PUT", "POST", "DELETE" */
	const char *pattern; /* "/v1/gpio/{chip}/{line}": {x} captures one segment */
	unsigned sockets;    /* ROUTE_* mask */
	enum body_kind body;
	const struct schema *schema; /* BODY_JSON only; NULL: any JSON value */
	route_fn handler;
};

struct peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/* --- request accessors (valid until the reply is sent) --- */
const char *req_method(const struct request *req);
const char *req_path(const struct request *req);
const char *req_param(const struct request *req, const char *name); /* path capture or NULL */
const char *req_query(const struct request *req, const char *key);  /* query arg or NULL */
const char *req_header(const struct request *req, const char *name);
json_t *req_json(const struct request *req);                  /* borrowed; NULL if no body */
const void *req_body(const struct request *req, size_t *len); /* raw body bytes */
struct service *req_service(const struct request *req);       /* NULL on the admin socket */
const struct peer *req_peer(const struct request *req);
uint64_t req_id(const struct request *req);
uint64_t req_conn_id(const struct request *req); /* unique per connection, never reused */
struct broker *req_broker(const struct request *req);
const char *req_log_ctx(const struct request *req); /* "svc=NAME req=N pid=P" */

/* Parses a path/query number: decimal or 0x hex, within [min,max].
 * Returns 0 or -EBADMSG (not a number) / -ERANGE (out of range). */
int req_parse_uint(const char *s, unsigned long long min, unsigned long long max,
                   unsigned long long *out);

/* --- replies: exactly one per request; all return 0 --- */
int req_reply_json(struct request *req, unsigned status, json_t *body /* stolen */);
int req_reply_raw(struct request *req, unsigned status, const char *content_type, const void *data,
                  size_t len);
int req_add_header(struct request *req, const char *name, const char *value); /* before reply */
/* {"error":{"code","message","hint"}} with the status errors.h gives for err. hint may be NULL. */
__attribute__((format(printf, 4, 5))) int req_error(struct request *req, int err, const char *hint,
                                                    const char *fmt, ...);

/* The decision point: asks the service's current policy, and on denial writes
 * the audit record and replies 403 (message: missing grant; hint: compose
 * entry). Returns 0 when allowed (nothing sent); REQ_DENIED when the 403 has
 * been sent (the handler then returns 0). On the admin socket everything is
 * allowed. (The container_id cgroup check runs before every handler on a
 * service socket, in the router.) */
#define REQ_DENIED 2
int req_authorize(struct request *req, const struct policy_request *want);

/* --- streams (chunked replies: NDJSON events, raw UART bytes) ---
 * Pull model: the transport calls fill() when it can send; return the number
 * of bytes copied, 0 when nothing is pending (the connection sleeps until
 * stream_wake()), or STREAM_EOF to finish. closed() is called exactly once,
 * when the stream is gone for any reason (finished, client disconnected,
 * stream_close()); the stream pointer is invalid after it. */
#define STREAM_EOF ((ssize_t)-1)
struct stream;
struct stream_ops {
	ssize_t (*fill)(void *data, char *buf, size_t max);
	void (*closed)(void *data);
};
/* Replies 200 with a chunked body; handler then returns 0. NULL on failure
 * (an error reply has been sent). */
struct stream *req_stream(struct request *req, const char *content_type,
                          const struct stream_ops *ops, void *data);
void stream_wake(struct stream *s);
/* Ends the stream after fill() returns 0; used to revoke. closed() follows. */
void stream_close(struct stream *s);
/* Adds an HTTP trailer sent after the last chunk (e.g. why a raw stream
 * ended: X-Hwbroker-Error). Call before fill() returns STREAM_EOF. */
void stream_set_trailer(struct stream *s, const char *name, const char *value);

/* --- HTTP Upgrade (raw byte pipe, UART attach) ---
 * Replies "101 Switching Protocols" (Upgrade: protocol); the handler then
 * returns 0. Once switched, on_upgraded() runs on the loop thread with the
 * connection's socket fd (non-blocking), which belongs to the caller until
 * upgrade_close(up); never close() it directly. extra/extra_len: bytes the
 * client sent after the request head that were already read: treat them as
 * read from fd. If the switch never happens (client gone first),
 * on_upgraded is called with up == NULL and fd == -1 so the caller can
 * release what it reserved. */
struct upgrade;
typedef void (*upgrade_fn)(void *data, struct upgrade *up, int fd, const char *extra,
                           size_t extra_len);
int req_upgrade(struct request *req, const char *protocol, upgrade_fn on_upgraded, void *data);
void upgrade_close(struct upgrade *up);

/* Router internals used by the transport. */
#define ROUTER_MAX_PARAMS  6
#define ROUTER_MAX_SEGMENT 128
struct route_params {
	size_t n;
	const char *names[ROUTER_MAX_PARAMS]; /* point into the route pattern's copy */
	char names_buf[ROUTER_MAX_PARAMS][32];
	char values[ROUTER_MAX_PARAMS][ROUTER_MAX_SEGMENT];
};
/* Finds the route for method+path on this socket kind. Returns it, or NULL
 * with *status 404 (no such path) or 405 (path exists; allow lists the
 * methods, comma-separated). */
const struct route *router_match(const char *method, const char *path, unsigned socket_kind,
                                 bool sim, struct route_params *params, unsigned *status,
                                 char *allow, size_t allow_len);
/* 0 or -errno with a message in msg (schema violation). */
int router_validate(const struct schema *schema, const json_t *body, char *msg, size_t msg_len);
