/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The request as handlers, resolve steps and checks see it.
 *
 * The error convention (docs/architecture.md, "Errors"): a function that
 * can fail returns 0 (or a count) on success and a negative errno on
 * failure. On a request, a failure also records what the client should read:
 *
 *     return req_fail(req, -EBUSY, "ask its holder", "line %u is held by %s", ...);
 *
 * records the message and hint and returns the errno. Nobody but the core
 * writes a reply: a handler records its result (req_result_json(), a stream,
 * an upgrade) and returns 0, or returns the errno; the core renders exactly
 * one reply from that. A handler that must wait returns REQ_ASYNC and later,
 * on the loop thread, records its result or failure and calls
 * req_complete(). Recording a second result, or completing twice, is a bug:
 * debug and sanitizer builds abort on it. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "route.h"

struct audit_origin;
struct daemon;
struct request;
struct service;

#define REQ_ASYNC 1

struct peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

/* --- what the request is (valid until the reply is sent) --- */
const char *req_method(const struct request *req);
const char *req_path(const struct request *req);
const char *req_param(const struct request *req, const char *name); /* path capture or NULL */
const char *req_query(const struct request *req, const char *key);  /* query arg or NULL */
const char *req_header(const struct request *req, const char *name);
json_t *req_json(const struct request *req);                  /* borrowed; NULL if no body */
const void *req_body(const struct request *req, size_t *len); /* raw body bytes */
struct service *req_service(const struct request *req);       /* NULL on the admin socket */
const char *req_caller(const struct request *req);            /* service name, or "admin" */
const struct peer *req_peer(const struct request *req);
const struct target *req_target(const struct request *req);
uint64_t req_id(const struct request *req);
uint64_t req_conn_id(const struct request *req); /* unique per connection, never reused */
struct daemon *req_daemon(const struct request *req);
const char *req_log_ctx(const struct request *req); /* "svc=NAME req=N pid=P" */

/* Who asked (service, peer, request id, method, path), for audit records
 * written after the request is gone. */
void req_audit_origin(const struct request *req, struct audit_origin *o);
/* An audit record of this request: event and fields (stolen). 0 or -errno. */
int req_audit(struct request *req, const char *event, json_t *fields);

/* Parses a path/query number: decimal or 0x hex, within [min,max].
 * Returns 0 or -EBADMSG (not a number) / -ERANGE (out of range). */
int req_parse_uint(const char *s, unsigned long long min, unsigned long long max,
                   unsigned long long *out);

/* --- failures: record what the client reads, return err --- */
/* {"error":{"code","message","hint"}} with the status errors.h gives for
 * err. hint may be NULL. Returns err (negative). May be called again to
 * replace an earlier message (the last one is rendered). */
__attribute__((format(printf, 4, 5))) int req_fail(struct request *req, int err, const char *hint,
                                                   const char *fmt, ...);
/* Extra fields for the error object (e.g. "details"); stolen. */
void req_fail_details(struct request *req, json_t *details);

/* --- results: exactly one per request; each returns 0 or a negative errno --- */
int req_result_json(struct request *req, unsigned status, json_t *body /* stolen; NULL: {} */);
int req_result_raw(struct request *req, unsigned status, const char *content_type, const void *data,
                   size_t len);
int req_result_empty(struct request *req);                                    /* 204 */
int req_add_header(struct request *req, const char *name, const char *value); /* before render */

/* Async handlers: the result (or req_fail) is recorded; err is 0 or what
 * req_fail returned. Loop thread only. */
void req_complete(struct request *req, int err);

/* A handle for a callback that outlives its request: a request waiting on
 * something outside the loop (an audit record on disk) may go first when
 * the daemon stops. req_wait_new() returns NULL without memory (one wait per
 * request); req_wait_take() frees w and returns the request, or NULL if it
 * went first. */
struct req_wait;
struct req_wait *req_wait_new(struct request *req);
struct request *req_wait_take(struct req_wait *w);

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
/* Records a 200 with a chunked body. NULL with -ENOMEM recorded on failure
 * (closed() is not called then). */
struct stream *req_result_stream(struct request *req, const char *content_type,
                                 const struct stream_ops *ops, void *data);
void stream_wake(struct stream *s);
/* Ends the stream after fill() returns 0; used to revoke. closed() follows. */
void stream_close(struct stream *s);
/* An HTTP trailer sent after the last chunk (why a raw stream ended:
 * X-Hwbroker-Error). Call before fill() returns STREAM_EOF. */
void stream_set_trailer(struct stream *s, const char *name, const char *value);

/* --- HTTP Upgrade (raw byte pipe, UART attach) ---
 * Records "101 Switching Protocols" (Upgrade: protocol). Once switched,
 * on_upgraded() runs on the loop thread with the connection's socket fd
 * (non-blocking), which belongs to the caller until upgrade_close(up); never
 * close() it directly. extra/extra_len: bytes the client sent after the
 * request head that were already read: treat them as read from fd. If the
 * switch never happens (client gone first), on_upgraded is called with up ==
 * NULL and fd == -1 so the caller can release what it reserved. */
struct upgrade;
typedef void (*upgrade_fn)(void *data, struct upgrade *up, int fd, const char *extra,
                           size_t extra_len);
int req_result_upgrade(struct request *req, const char *protocol, upgrade_fn on_upgraded,
                       void *data);
void upgrade_close(struct upgrade *up);
