/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The request object, shared by request.c (accessors, results, rendering),
 * pipeline.c, conn.c (which sends the reply) and stream.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "request.h"
#include "router.h"

#define REQ_MAX_HEADERS 8
#define REQ_MAX_ARGS    16

enum req_state {
	REQ_RECEIVING, /* head and body arriving; the pipeline has not run */
	REQ_WAITING,   /* the handler went async */
	REQ_READY,     /* rendered: the one reply waits to be queued */
	REQ_QUEUED,    /* being sent */
};

/* request.h: a handle on a waiting request that may go first. */
struct req_wait {
	struct request *req;
};

struct request {
	struct transport *t;
	struct conn *conn;
	const struct http_head *head; /* in the connection's buffer, until the reply is out */
	uint64_t id;
	uint64_t start_ns;
	char method[16];
	char path[512];
	char query[512];
	const char *args[REQ_MAX_ARGS][2];
	size_t n_args;
	struct route_match match;
	struct route_params params;
	unsigned early_status; /* 404/405/413/414 decided before the pipeline */
	char *body;
	size_t body_len, body_cap;
	unsigned long long content_length;
	bool too_large;
	bool draining; /* refused early: the body is read and dropped, then the reply */
	json_t *json;
	struct target target;
	enum req_state state;
	/* the outcome: a result (a body, a stream or an upgrade), or a failure */
	bool has_result;
	char *reply;
	size_t reply_len;
	char content_type[64];
	struct stream *stream;
	struct upgrade *upgrade;
	unsigned status;
	int err;
	char message[512];
	char hint[512];
	json_t *details;
	size_t n_headers;
	char *headers[REQ_MAX_HEADERS][2];
	/* Waiting for the host action's audit record: told when the request goes. */
	struct req_wait *wait;
	/* Run when the request is freed (an upgrade that never switched lets go). */
	void (*release)(void *data);
	void *release_data;
	char log_ctx[128];
};

/* Debug and sanitizer builds (HWB_STRICT) abort on programming errors in
 * the request path, so the suite catches them; release builds log them. */
#ifdef HWB_STRICT
#define REQ_BUG(req, ...)                                                                          \
	do {                                                                                       \
		log_error((req)->log_ctx, "BUG: " __VA_ARGS__);                                    \
		abort();                                                                           \
	} while (0)
#else
#define REQ_BUG(req, ...) log_error((req)->log_ctx, "BUG: " __VA_ARGS__)
#endif

/* request.c */
struct request *req_new(struct transport *t, struct conn *c, const struct http_head *head);
void req_free(struct request *req);
/* Records a result (stream.c too): the body is taken (freed on failure).
 * 0, or -EALREADY after a BUG. */
int req_set_result(struct request *req, unsigned status, const char *content_type, char *body,
                   size_t len);
/* Renders the one reply from what the pipeline ended with (0, -errno or
 * REQ_ASYNC) and wakes the connection if it waited. */
void req_render(struct request *req, int r);
/* Renders an error decided before the pipeline (404, 405, 413, 414). */
void req_render_early(struct request *req);
void req_sanitize(char *s);
