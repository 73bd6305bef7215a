/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One client connection: its identity (service + peer credentials) and the
 * HTTP/1.1 state machine that serves it, one request at a time:
 *
 *   HEAD -> BODY -> HANDLING -> WRITING -> HEAD (keep-alive) or closed
 *                                  \-> UPGRADED (the socket changes hands)
 *
 * The connection is in the loop only for what it waits for: input while a
 * head or body arrives, the client's hangup while a handler works or a
 * stream sleeps, writability while a reply does not fit the socket. Bytes
 * a client sends ahead (pipelining) wait in its buffer: one request at a
 * time. The request pipeline is reached through the transport's hooks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "area.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "registry.h"
#include "request_private.h"
#include "transport_private.h"

/* A head this close to the buffer's end leaves no room to read its body. */
#define CONN_HEAD_ROOM 1024

/* conn_step_*(): CONN_WAIT, CONN_NEXT, or this, with c freed. */
#define CONN_CLOSED (-2)

static void conn_on_io(void *data, int fd, uint32_t events);
static void conn_run(struct conn *c);

/* --- life --- */

struct conn *conn_new(struct transport *t, int fd, struct service *svc, const struct ucred *cred)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->in = malloc(TRANSPORT_HEAD_MAX);
	if (!c->in) {
		free(c);
		return NULL;
	}
	c->t = t;
	c->id = t->next_conn_id++;
	c->fd = fd;
	c->svc = svc;
	c->peer.pid = cred->pid;
	c->peer.uid = cred->uid;
	c->peer.gid = cred->gid;
	c->created_ms = c->active_ms = loop_now_ms();
	snprintf(c->log_ctx, sizeof(c->log_ctx), "svc=%s conn=%llu pid=%d",
	         svc ? svc->name : "admin", (unsigned long long)c->id, (int)cred->pid);
	if (loop_add_fd(t->d->loop, fd, EPOLLIN | EPOLLRDHUP, conn_on_io, c) < 0) {
		free(c->in);
		free(c);
		return NULL;
	}
	c->events = EPOLLIN | EPOLLRDHUP;
	if (svc) {
		service_ref(svc);
		svc->n_conns++;
	}
	c->next = t->conns;
	t->conns = c;
	t->n_conns++;
	if (!svc)
		t->n_admin_conns++;
	log_debug(c->log_ctx, "connected uid=%u gid=%u", (unsigned)cred->uid, (unsigned)cred->gid);
	return c;
}

static void conn_set_events(struct conn *c, uint32_t events)
{
	struct loop *loop = c->t->d->loop;
	int r = 0;

	if (events == c->events)
		return;
	if (!events)
		loop_del_fd(loop, c->fd);
	else if (!c->events)
		r = loop_add_fd(loop, c->fd, events, conn_on_io, c);
	else
		r = loop_mod_fd(loop, c->fd, events);
	if (r < 0) {
		log_warn(c->log_ctx, "epoll: %s; closing", strerror(-r));
		c->doomed = true;
		conn_kick(c);
		return;
	}
	c->events = events;
}

static void conn_unready(struct conn *c)
{
	struct conn **pp = &c->t->ready;

	for (; c->ready && *pp; pp = &(*pp)->ready_next) {
		if (*pp == c) {
			*pp = c->ready_next;
			c->ready = false;
			return;
		}
	}
}

/* Frees the connection: the request it had ends, the areas hear of it. */
static void conn_close_now(struct conn *c)
{
	struct transport *t = c->t;
	struct request *req = c->req;

	conn_unready(c);
	c->req = NULL;
	if (req)
		t->hooks.end(req, false);
	if (c->up) /* its owner's upgrade_close() has nothing left to close */
		c->up->conn = NULL;
	conn_set_events(c, 0);
	close(c->fd);
	for (struct conn **pp = &t->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	t->n_conns--;
	if (!c->svc)
		t->n_admin_conns--;
	log_debug(c->log_ctx, "closed");
	if (c->svc) {
		c->svc->n_conns--;
		if (t->hooks.conn_closed)
			t->hooks.conn_closed(t->hooks.ctx, c->svc, c->id);
		service_unref(c->svc);
	}
	free(c->in);
	free(c->out);
	free(c);
}

void conn_close(struct conn *c)
{
	/* A handler still holds the request: it answers first (and nobody
	 * reads the answer). */
	if (c->req && c->req->state == REQ_WAITING && !c->t->stopping) {
		c->doomed = true;
		return;
	}
	conn_close_now(c);
}

static void conn_run_ready(void *data)
{
	struct transport *t = data;
	struct conn *c;

	t->ready_scheduled = false;
	while ((c = t->ready)) {
		t->ready = c->ready_next;
		c->ready = false;
		conn_run(c);
	}
}

void conn_kick(struct conn *c)
{
	struct transport *t = c->t;

	if (c->ready || t->stopping)
		return;
	c->ready = true;
	c->ready_next = t->ready;
	t->ready = c;
	if (!t->ready_scheduled && loop_defer(t->d->loop, conn_run_ready, t) == 0)
		t->ready_scheduled = true;
}

void conn_check_timeouts(struct conn *c, uint64_t now_ms)
{
	const struct config *cfg = c->t->d->cfg;
	uint64_t idle = now_ms - c->active_ms;
	bool expired = false;

	switch (c->state) {
	case CONN_HEAD:
		if (!c->head_seen)
			expired = now_ms - c->created_ms >= (uint64_t)cfg->head_timeout_s * 1000;
		else
			expired = idle >= (uint64_t)cfg->idle_timeout_s * 1000;
		break;
	case CONN_BODY:
		expired = idle >= (uint64_t)cfg->idle_timeout_s * 1000;
		break;
	case CONN_WRITING: /* a client that stopped reading; a sleeping stream is fine */
		expired = c->out_off < c->out_len && idle >= (uint64_t)cfg->idle_timeout_s * 1000;
		break;
	default:
		break;
	}
	if (expired) {
		log_debug(c->log_ctx, "%s timeout: closed",
		          c->head_seen ? "idle" : "no complete request head within the head");
		conn_close(c);
	}
}

void conn_upgrade_done(struct conn *c)
{
	if (c->state != CONN_UPGRADED) {
		c->doomed = true; /* still inside the switch: closed right after */
		return;
	}
	conn_close_now(c);
}

/* --- input --- */

static void conn_read(struct conn *c)
{
	size_t space = TRANSPORT_HEAD_MAX - c->in_len;
	ssize_t n;

	if (!space || c->read_closed)
		return;
	n = recv(c->fd, c->in + c->in_len, space, MSG_DONTWAIT);
	if (n > 0) {
		c->in_len += (size_t)n;
		c->active_ms = loop_now_ms();
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		c->read_closed = true;
	}
}

/* A malformed head is answered, then the connection closes: what follows
 * it is not read. */
static int conn_refuse(struct conn *c, unsigned status, const char *msg)
{
	log_info(c->log_ctx, "malformed HTTP request refused (%u)", status);
	c->t->stats.errors_4xx++;
	if (reply_refuse(c, status, msg) < 0) {
		conn_close_now(c);
		return CONN_CLOSED;
	}
	c->close_after = true;
	c->read_closed = true;
	c->state = CONN_WRITING;
	return CONN_NEXT;
}

static int conn_step_head(struct conn *c)
{
	struct transport *t = c->t;
	int r;

	if (c->in_len == 0) {
		if (!c->read_closed)
			return CONN_WAIT;
		conn_close_now(c);
		return CONN_CLOSED;
	}
	r = http_parse_head(c->in, c->in_len, &c->head);
	if (r == 0 && c->in_len < TRANSPORT_HEAD_MAX) {
		if (!c->read_closed)
			return CONN_WAIT;
		log_debug(c->log_ctx, "incomplete request before hangup");
		conn_close_now(c);
		return CONN_CLOSED;
	}
	if (r == 0 || r == -ENOBUFS || r > TRANSPORT_HEAD_MAX - CONN_HEAD_ROOM)
		return conn_refuse(c, 431, "request head too large");
	if (r < 0)
		return conn_refuse(c, 400,
		                   "malformed HTTP request (request bodies need a Content-Length)");
	c->head_seen = true;
	c->req = t->hooks.begin(t, c, &c->head);
	if (!c->req) {
		conn_close_now(c);
		return CONN_CLOSED;
	}
	c->body_left = c->head.content_length;
	c->close_after = !c->head.keep_alive;
	if (c->req->state == REQ_READY) {
		/* refused before its body, which is not read */
		if (c->body_left)
			c->close_after = true;
		c->state = CONN_HANDLING;
		return CONN_NEXT;
	}
	if (c->head.expect_continue && c->body_left && c->head.http11 && c->in_len == c->head.len)
		send(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL | MSG_DONTWAIT);
	c->state = CONN_BODY;
	return CONN_NEXT;
}

static int conn_step_body(struct conn *c)
{
	size_t avail = c->in_len - c->head.len;
	size_t take = avail < c->body_left ? avail : c->body_left;
	char *body = c->in + c->head.len;

	if (take) {
		c->t->hooks.body(c->req, body, take);
		memmove(body, body + take, avail - take);
		c->in_len -= take;
		c->body_left -= take;
	}
	if (c->body_left) {
		if (!c->read_closed)
			return CONN_WAIT;
		/* the client stopped sending with the body incomplete */
		log_debug(c->log_ctx, "the client shut its side before the body was complete");
		conn_close_now(c);
		return CONN_CLOSED;
	}
	c->state = CONN_HANDLING;
	c->t->hooks.finish(c->req);
	return CONN_NEXT;
}

/* The 101 is out: the socket goes to the upgrade's owner, with what the
 * client sent after its head. */
static int conn_switch(struct conn *c)
{
	struct request *req = c->req;
	struct upgrade *up = req->upgrade;

	conn_set_events(c, 0);
	c->req = NULL;
	c->up = up;
	up->switched = true;
	up->fn(up->data, up, c->fd, c->in + c->head.len, c->in_len - c->head.len);
	c->state = CONN_UPGRADED;
	c->t->hooks.end(req, true);
	if (c->doomed) { /* upgrade_close() already */
		conn_close_now(c);
		return CONN_CLOSED;
	}
	return CONN_WAIT;
}

/* The reply is out: the next request, or the end. */
static int conn_reply_done(struct conn *c)
{
	struct request *req = c->req;

	c->req = NULL;
	c->t->hooks.end(req, true);
	free(c->out);
	c->out = NULL;
	c->out_off = c->out_len = c->out_cap = 0;
	if (c->close_after) {
		conn_close_now(c);
		return CONN_CLOSED;
	}
	memmove(c->in, c->in + c->head.len, c->in_len - c->head.len);
	c->in_len -= c->head.len;
	memset(&c->head, 0, sizeof(c->head));
	c->active_ms = loop_now_ms();
	c->state = CONN_HEAD;
	return CONN_NEXT;
}

static int conn_step_write(struct conn *c)
{
	switch (reply_flush(c)) {
	case CONN_WAIT:
		return CONN_WAIT;
	case CONN_NEXT:
		return CONN_NEXT;
	case CONN_SWITCH:
		return conn_switch(c);
	case CONN_DONE:
		return conn_reply_done(c);
	default:
		conn_close_now(c);
		return CONN_CLOSED;
	}
}

/* --- the state machine --- */

static uint32_t conn_interest(const struct conn *c)
{
	uint32_t hup = c->read_closed ? 0 : EPOLLRDHUP;

	switch (c->state) {
	case CONN_HEAD:
	case CONN_BODY:
		return c->read_closed ? 0 : EPOLLIN | EPOLLRDHUP;
	case CONN_HANDLING:
		return hup;
	case CONN_WRITING:
		return c->out_off < c->out_len ? EPOLLOUT | hup : hup;
	default:
		return 0;
	}
}

static void conn_run(struct conn *c)
{
	int r = CONN_NEXT;

	while (r == CONN_NEXT) {
		if (c->doomed && !(c->req && c->req->state == REQ_WAITING)) {
			conn_close_now(c);
			return;
		}
		switch (c->state) {
		case CONN_HEAD:
			r = conn_step_head(c);
			break;
		case CONN_BODY:
			r = conn_step_body(c);
			break;
		case CONN_HANDLING:
			if (c->req->state != REQ_READY) {
				r = CONN_WAIT;
				break;
			}
			if (reply_start(c) < 0) {
				conn_close_now(c);
				return;
			}
			c->state = CONN_WRITING;
			r = CONN_NEXT;
			break;
		case CONN_WRITING:
			r = conn_step_write(c);
			break;
		case CONN_UPGRADED:
			return;
		}
	}
	if (r == CONN_WAIT)
		conn_set_events(c, conn_interest(c));
}

static void conn_on_io(void *data, int fd, uint32_t events)
{
	struct conn *c = data;

	if (events & EPOLLERR) {
		/* out of the loop first: the error stays reported while a handler
		 * still holds the request */
		c->read_closed = true;
		conn_set_events(c, 0);
		conn_close(c);
		return;
	}
	if (c->state == CONN_HEAD || c->state == CONN_BODY) {
		conn_read(c);
	} else if (events & (EPOLLRDHUP | EPOLLHUP)) {
		/* While a stream runs, a client that hangs up is gone; otherwise
		 * it may still read the reply it waits for. */
		c->read_closed = true;
		if (c->stream) {
			conn_close(c);
			return;
		}
	}
	conn_run(c);
}
