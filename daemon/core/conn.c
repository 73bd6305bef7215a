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
/* A chunk's size line goes ahead of its data: "4000\r\n". */
#define CONN_CHUNK_HEAD 8
#define CONN_STREAM_OUT (CONN_CHUNK_HEAD + TRANSPORT_STREAM_BLOCK + 2)
/* Trailers are ours (an error message): bounded so that they fit. */
#define CONN_TRAILERS_MAX 1024

enum { CONN_CLOSED = -1, CONN_WAIT = 0, CONN_NEXT = 1 };

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

/* A reply of our own before any request object exists (a malformed head):
 * sent, then the connection closes. */
static int conn_refuse(struct conn *c, unsigned status, const char *msg)
{
	char body[256];
	int blen = snprintf(body, sizeof(body),
	                    "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"hint\":\"\"}}\n",
	                    status == 431 ? "too_large" : "bad_request", msg);

	log_info(c->log_ctx, "malformed HTTP request refused (%u)", status);
	c->t->stats.errors_4xx++;
	free(c->out);
	c->out = malloc(512);
	c->out_cap = 512;
	if (!c->out) {
		conn_close_now(c);
		return CONN_CLOSED;
	}
	c->out_off = 0;
	c->out_len = (size_t)snprintf(c->out, 512,
	                              "HTTP/1.1 %u %s\r\nDate: %s\r\nContent-Type: "
	                              "application/json\r\nContent-Length: %d\r\nConnection: "
	                              "close\r\n\r\n%s",
	                              status, http_reason(status), http_date(), blen, body);
	c->close_after = true;
	c->read_closed = true; /* what follows a malformed head is not read */
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

/* --- output --- */

/* Appends to the head being built; a value's line breaks become spaces
 * (a header value never ends the head early). */
static void conn_put(char *buf, size_t size, size_t *len, const char *s, bool value)
{
	for (; *s && *len + 1 < size; s++)
		buf[(*len)++] = value && (*s == '\r' || *s == '\n') ? ' ' : *s;
	buf[*len] = '\0';
}

static void conn_put_header(char *buf, size_t size, size_t *len, const char *name,
                            const char *value)
{
	conn_put(buf, size, len, name, true);
	conn_put(buf, size, len, ": ", false);
	conn_put(buf, size, len, value, true);
	conn_put(buf, size, len, "\r\n", false);
}

/* Decimal, without printf: this runs for every reply. */
static const char *conn_utoa(size_t v, char *end)
{
	*end = '\0';
	do
		*--end = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

static size_t conn_format_head(struct conn *c, struct request *req, char *buf, size_t size)
{
	size_t len = 0;
	char num[24];

	conn_put(buf, size, &len, "HTTP/1.1 ", false);
	conn_put(buf, size, &len, conn_utoa(req->status, num + sizeof(num) - 1), false);
	conn_put(buf, size, &len, " ", false);
	conn_put(buf, size, &len, http_reason(req->status), false);
	conn_put(buf, size, &len, "\r\n", false);
	conn_put_header(buf, size, &len, "Date", http_date());
	for (size_t i = 0; i < req->n_headers; i++)
		conn_put_header(buf, size, &len, req->headers[i][0], req->headers[i][1]);
	if (req->content_type[0])
		conn_put_header(buf, size, &len, "Content-Type", req->content_type);
	if (req->stream) {
		conn_put_header(buf, size, &len, "Cache-Control", "no-cache");
		if (req->stream->chunked)
			conn_put_header(buf, size, &len, "Transfer-Encoding", "chunked");
		else
			c->close_after = true;
	} else if (req->status >= 200 && req->status != 204) {
		conn_put_header(buf, size, &len, "Content-Length",
		                conn_utoa(req->reply_len, num + sizeof(num) - 1));
	}
	if (!req->upgrade && c->close_after)
		conn_put_header(buf, size, &len, "Connection", "close");
	else if (!req->upgrade && !c->head.http11)
		conn_put_header(buf, size, &len, "Connection", "keep-alive");
	conn_put(buf, size, &len, "\r\n", false);
	return len;
}

/* The reply to a ready request: head and body in one write when the socket
 * takes them; what it does not take waits in c->out. */
static int conn_start_reply(struct conn *c)
{
	struct request *req = c->req;
	char head[2048];
	struct iovec iov[2];
	struct msghdr msg = {.msg_iov = iov};
	size_t hlen, total, rest;
	ssize_t n;
	bool body = req->reply_len && strcmp(req->method, "HEAD") != 0;

	req->state = REQ_QUEUED;
	c->state = CONN_WRITING;
	hlen = conn_format_head(c, req, head, sizeof(head));
	iov[0] = (struct iovec){head, hlen};
	iov[1] = (struct iovec){req->reply, body ? req->reply_len : 0};
	total = hlen + iov[1].iov_len;
	msg.msg_iovlen = body ? 2 : 1;
	do
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EAGAIN) {
		conn_close_now(c);
		return CONN_CLOSED;
	}
	if (n < 0)
		n = 0;
	c->active_ms = loop_now_ms();
	rest = total - (size_t)n;
	if (!rest)
		return CONN_NEXT;
	free(c->out);
	c->out = malloc(rest);
	c->out_cap = rest;
	if (!c->out) {
		conn_close_now(c);
		return CONN_CLOSED;
	}
	if ((size_t)n < hlen) {
		memcpy(c->out, head + n, hlen - (size_t)n);
		if (iov[1].iov_len)
			memcpy(c->out + hlen - (size_t)n, iov[1].iov_base, iov[1].iov_len);
	} else {
		memcpy(c->out, (char *)iov[1].iov_base + ((size_t)n - hlen), rest);
	}
	c->out_off = 0;
	c->out_len = rest;
	return CONN_NEXT;
}

/* The next piece of a streaming reply into c->out: CONN_NEXT with bytes to
 * send (or the stream's end queued), CONN_WAIT while fill() has nothing. */
static int conn_stream_produce(struct conn *c, struct stream *s)
{
	char *data, size_line[CONN_CHUNK_HEAD + 1];
	ssize_t n;
	int k;

	if (c->out_cap < CONN_STREAM_OUT + CONN_TRAILERS_MAX) {
		free(c->out);
		c->out_cap = CONN_STREAM_OUT + CONN_TRAILERS_MAX;
		c->out = malloc(c->out_cap);
		if (!c->out) {
			c->close_after = true;
			s->finished = true;
			return CONN_NEXT;
		}
	}
	data = c->out + CONN_CHUNK_HEAD;
	n = s->ops->fill(s->data, data, TRANSPORT_STREAM_BLOCK);
	if (n == 0 && !s->closing) {
		s->waiting = true;
		return CONN_WAIT;
	}
	if (n <= 0 || (size_t)n > TRANSPORT_STREAM_BLOCK) {
		s->finished = true;
		if (!s->chunked) {
			c->close_after = true;
			return CONN_NEXT;
		}
		c->out_off = 0;
		c->out_len = (size_t)snprintf(c->out, CONN_STREAM_OUT + CONN_TRAILERS_MAX,
		                              "0\r\n%.*s\r\n", CONN_TRAILERS_MAX,
		                              s->trailers ? s->trailers : "");
		return CONN_NEXT;
	}
	if (!s->chunked) {
		c->out_off = CONN_CHUNK_HEAD;
		c->out_len = CONN_CHUNK_HEAD + (size_t)n;
		return CONN_NEXT;
	}
	k = snprintf(size_line, sizeof(size_line), "%zx\r\n", (size_t)n);
	memcpy(data - k, size_line, (size_t)k);
	memcpy(data + n, "\r\n", 2);
	c->out_off = CONN_CHUNK_HEAD - (size_t)k;
	c->out_len = CONN_CHUNK_HEAD + (size_t)n + 2;
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
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return CONN_WAIT;
		if (n <= 0) {
			conn_close_now(c);
			return CONN_CLOSED;
		}
		c->out_off += (size_t)n;
		c->active_ms = loop_now_ms();
	}
	c->out_off = c->out_len = 0;
	if (!c->req) { /* our own refusal */
		conn_close_now(c);
		return CONN_CLOSED;
	}
	if (c->stream && !c->stream->finished)
		return conn_stream_produce(c, c->stream);
	if (c->req->upgrade)
		return conn_switch(c);
	return conn_reply_done(c);
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
			r = c->req->state == REQ_READY ? conn_start_reply(c) : CONN_WAIT;
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
