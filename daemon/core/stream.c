/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Streaming replies (chunked, pull model) and HTTP Upgrade. A stream that
 * has nothing to send leaves its connection idle until stream_wake(); the
 * connection (conn.c) asks for the next chunk whenever the socket has taken
 * the previous one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "request_private.h"
#include "transport_private.h"

/* Trailers are ours (why a raw stream ended): kept short. */
#define STREAM_TRAILERS_MAX 1024

struct stream *req_result_stream(struct request *req, const char *content_type,
                                 const struct stream_ops *ops, void *data)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (!s) {
		req_fail(req, -ENOMEM, NULL, "out of memory");
		return NULL;
	}
	s->conn = req->conn;
	s->ops = ops;
	s->data = data;
	s->chunked = req->head->http11;
	if (req_set_result(req, 200, content_type, NULL, 0) < 0) {
		free(s);
		return NULL;
	}
	req->stream = s;
	req->conn->stream = s;
	return s;
}

void stream_wake(struct stream *s)
{
	if (s->conn && s->waiting) {
		s->waiting = false;
		conn_kick(s->conn);
	}
}

void stream_close(struct stream *s)
{
	s->closing = true;
	if (s->conn) {
		s->waiting = false;
		conn_kick(s->conn);
	}
}

void stream_set_trailer(struct stream *s, const char *name, const char *value)
{
	size_t old = s->trailers ? strlen(s->trailers) : 0;
	size_t add = strlen(name) + strlen(value) + 5;
	char *t;

	if (old + add > STREAM_TRAILERS_MAX)
		return;
	t = realloc(s->trailers, old + add);
	if (!t)
		return;
	snprintf(t + old, add, "%s: %s\r\n", name, value);
	/* a value never ends the trailer section early */
	for (char *p = t + old; p < t + old + add - 3; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	s->trailers = t;
}

/* --- upgrade --- */

/* The request is freed: the 101 went out (the switched socket's owner has
 * the upgrade now), or never did (the caller hears of it). */
static void upgrade_request_done(void *data)
{
	struct upgrade *up = data;

	if (up->switched)
		return;
	if (up->fn)
		up->fn(up->data, NULL, -1, NULL, 0);
	free(up);
}

int req_result_upgrade(struct request *req, const char *protocol, upgrade_fn on_upgraded,
                       void *data)
{
	struct upgrade *up = calloc(1, sizeof(*up));
	int r;

	if (!up)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	up->conn = req->conn;
	up->fn = on_upgraded;
	up->data = data;
	r = req_set_result(req, 101, NULL, NULL, 0);
	if (r < 0) {
		free(up);
		return r;
	}
	req_add_header(req, "Upgrade", protocol);
	req_add_header(req, "Connection", "Upgrade");
	req->upgrade = up;
	req->release = upgrade_request_done;
	req->release_data = up;
	return 0;
}

void upgrade_close(struct upgrade *up)
{
	struct conn *c = up->conn;

	free(up);
	if (c) {
		c->up = NULL;
		conn_upgrade_done(c);
	}
}
