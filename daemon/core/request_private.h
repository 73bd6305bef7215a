/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The request object, shared by request.c (accessors, results, rendering),
 * pipeline.c (the MHD side and the pipeline) and stream.c. */
#pragma once

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "request.h"
#include "router.h"

#define REQ_MAX_HEADERS 8

enum req_state {
	REQ_RECEIVING, /* head and body arriving; the pipeline has not run */
	REQ_WAITING,   /* the handler went async */
	REQ_READY,     /* rendered: the one reply waits to be queued */
	REQ_QUEUED,    /* handed to MHD */
};

/* A request waiting for something outside it (an audit record on disk); if
 * the request goes first, req is cleared and the waiter only frees this. */
struct req_wait {
	struct request *req;
};

struct request {
	struct transport *t;
	struct conn *conn;
	struct MHD_Connection *mhd;
	uint64_t id;
	uint64_t start_ns;
	char method[16];
	char path[512];
	struct route_match match;
	struct route_params params;
	unsigned early_status; /* 404/405/413/414 decided before the pipeline */
	char *body;
	size_t body_len, body_cap;
	unsigned long long content_length;
	bool too_large;
	bool draining; /* refused early: the body is read and dropped, then the reply */
	size_t drained;
	json_t *json;
	struct target target;
	enum req_state state;
	/* the outcome: a result, or a recorded failure */
	struct MHD_Response *response;
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
struct request *req_new(struct transport *t, struct conn *c, struct MHD_Connection *mhd,
                        const char *url, const char *method);
void req_free(struct request *req);
/* Records a result response (stream.c too). 0, or -EALREADY after a BUG. */
int req_set_response(struct request *req, unsigned status, struct MHD_Response *resp);
/* Renders the one reply from what the pipeline ended with (0, -errno or
 * REQ_ASYNC) and wakes the connection if it waited. */
void req_render(struct request *req, int r);
/* Renders an error decided before the pipeline (404, 405, 413, 414). */
void req_render_early(struct request *req);
void req_sanitize(char *s);
