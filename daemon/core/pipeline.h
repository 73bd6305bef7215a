/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The request pipeline (pipeline.c), as the transport drives it through its
 * hooks: one call per head, per piece of body, at the body's end, and when
 * the reply is out (or the connection gone). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct conn;
struct http_head;
struct request;
struct transport;

/* A complete head: the request, routed (404/405/413/414 decided, rendered
 * at once when its body is too big to read). NULL: out of memory. head
 * stays valid until pipeline_end(). */
struct request *pipeline_begin(struct transport *t, struct conn *c, const struct http_head *head);
void pipeline_body(struct request *req, const char *data, size_t size);
/* The whole body arrived: the pipeline runs (the reply may come later). */
void pipeline_finish(struct request *req);
/* The reply went out (completed) or the connection went first: frees req. */
void pipeline_end(struct request *req, bool completed);
