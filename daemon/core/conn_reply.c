/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A connection's output: the reply head, the one write of head and body,
 * what the socket did not take, the chunks of a streaming reply and its
 * trailers, and our own refusal of a malformed head. It never closes a
 * connection: it says what happened and conn.c acts on it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "loop.h"
#include "request_private.h"
#include "transport_private.h"

/* A chunk's size line goes ahead of its data: "4000\r\n". */
#define REPLY_CHUNK_HEAD 8
#define REPLY_STREAM_OUT (REPLY_CHUNK_HEAD + TRANSPORT_STREAM_BLOCK + 2)
/* Trailers are ours (an error message): bounded so that they fit. */
#define REPLY_TRAILERS_MAX 1024

/* Appends to the head being built; a value's line breaks become spaces
 * (a header value never ends the head early). */
static void reply_put(char *buf, size_t size, size_t *len, const char *s, bool value)
{
	for (; *s && *len + 1 < size; s++)
		buf[(*len)++] = value && (*s == '\r' || *s == '\n') ? ' ' : *s;
	buf[*len] = '\0';
}

static void reply_put_header(char *buf, size_t size, size_t *len, const char *name,
                             const char *value)
{
	reply_put(buf, size, len, name, true);
	reply_put(buf, size, len, ": ", false);
	reply_put(buf, size, len, value, true);
	reply_put(buf, size, len, "\r\n", false);
}

/* Decimal, without printf: this runs for every reply. */
static const char *reply_utoa(size_t v, char *end)
{
	*end = '\0';
	do
		*--end = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

static size_t reply_format_head(struct conn *c, struct request *req, char *buf, size_t size)
{
	size_t len = 0;
	char num[24];

	reply_put(buf, size, &len, "HTTP/1.1 ", false);
	reply_put(buf, size, &len, reply_utoa(req->status, num + sizeof(num) - 1), false);
	reply_put(buf, size, &len, " ", false);
	reply_put(buf, size, &len, http_reason(req->status), false);
	reply_put(buf, size, &len, "\r\n", false);
	reply_put_header(buf, size, &len, "Date", http_date());
	for (size_t i = 0; i < req->n_headers; i++)
		reply_put_header(buf, size, &len, req->headers[i][0], req->headers[i][1]);
	if (req->content_type[0])
		reply_put_header(buf, size, &len, "Content-Type", req->content_type);
	if (req->stream) {
		reply_put_header(buf, size, &len, "Cache-Control", "no-cache");
		if (req->stream->chunked)
			reply_put_header(buf, size, &len, "Transfer-Encoding", "chunked");
		else
			c->close_after = true;
	} else if (req->status >= 200 && req->status != 204) {
		reply_put_header(buf, size, &len, "Content-Length",
		                 reply_utoa(req->reply_len, num + sizeof(num) - 1));
	}
	if (!req->upgrade && c->close_after)
		reply_put_header(buf, size, &len, "Connection", "close");
	else if (!req->upgrade && !c->head.http11)
		reply_put_header(buf, size, &len, "Connection", "keep-alive");
	reply_put(buf, size, &len, "\r\n", false);
	return len;
}

int reply_start(struct conn *c)
{
	struct request *req = c->req;
	char head[2048];
	struct iovec iov[2];
	struct msghdr msg = {.msg_iov = iov};
	size_t hlen, total, rest;
	ssize_t n;
	bool body = req->reply_len && strcmp(req->method, "HEAD") != 0;

	req->state = REQ_QUEUED;
	hlen = reply_format_head(c, req, head, sizeof(head));
	iov[0] = (struct iovec){head, hlen};
	iov[1] = (struct iovec){req->reply, body ? req->reply_len : 0};
	total = hlen + iov[1].iov_len;
	msg.msg_iovlen = body ? 2 : 1;
	do
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EAGAIN)
		return -errno;
	if (n < 0)
		n = 0;
	c->active_ms = loop_now_ms();
	rest = total - (size_t)n;
	if (!rest)
		return 0;
	free(c->out);
	c->out = malloc(rest);
	c->out_cap = rest;
	if (!c->out)
		return -ENOMEM;
	if ((size_t)n < hlen) {
		memcpy(c->out, head + n, hlen - (size_t)n);
		if (iov[1].iov_len)
			memcpy(c->out + hlen - (size_t)n, iov[1].iov_base, iov[1].iov_len);
	} else {
		memcpy(c->out, (char *)iov[1].iov_base + ((size_t)n - hlen), rest);
	}
	c->out_off = 0;
	c->out_len = rest;
	return 0;
}

/* The next piece of a streaming reply into c->out: CONN_NEXT with bytes to
 * send (or the stream's end queued), CONN_WAIT while fill() has nothing. */
static enum conn_step reply_stream_next(struct conn *c, struct stream *s)
{
	char *data, size_line[REPLY_CHUNK_HEAD + 1];
	ssize_t n;
	int k;

	if (c->out_cap < REPLY_STREAM_OUT + REPLY_TRAILERS_MAX) {
		free(c->out);
		c->out = malloc(REPLY_STREAM_OUT + REPLY_TRAILERS_MAX);
		c->out_cap = c->out ? REPLY_STREAM_OUT + REPLY_TRAILERS_MAX : 0;
		if (!c->out) {
			c->close_after = true;
			s->finished = true;
			return CONN_NEXT;
		}
	}
	data = c->out + REPLY_CHUNK_HEAD;
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
		c->out_len = (size_t)snprintf(c->out, REPLY_STREAM_OUT + REPLY_TRAILERS_MAX,
		                              "0\r\n%.*s\r\n", REPLY_TRAILERS_MAX,
		                              s->trailers ? s->trailers : "");
		return CONN_NEXT;
	}
	if (!s->chunked) {
		c->out_off = REPLY_CHUNK_HEAD;
		c->out_len = REPLY_CHUNK_HEAD + (size_t)n;
		return CONN_NEXT;
	}
	k = snprintf(size_line, sizeof(size_line), "%zx\r\n", (size_t)n);
	memcpy(data - k, size_line, (size_t)k);
	memcpy(data + n, "\r\n", 2);
	c->out_off = REPLY_CHUNK_HEAD - (size_t)k;
	c->out_len = REPLY_CHUNK_HEAD + (size_t)n + 2;
	return CONN_NEXT;
}

int reply_refuse(struct conn *c, unsigned status, const char *msg)
{
	free(c->out);
	c->out = malloc(HTTP_REFUSAL_MAX);
	c->out_cap = c->out ? HTTP_REFUSAL_MAX : 0;
	if (!c->out)
		return -ENOMEM;
	c->out_off = 0;
	c->out_len = http_format_refusal(c->out, HTTP_REFUSAL_MAX, status,
	                                 status == 431 ? "too_large" : "bad_request", msg);
	return 0;
}

enum conn_step reply_flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return CONN_WAIT;
		if (n <= 0)
			return CONN_FAIL;
		c->out_off += (size_t)n;
		c->active_ms = loop_now_ms();
	}
	c->out_off = c->out_len = 0;
	if (!c->req) /* our own refusal: the connection ends with it */
		return CONN_FAIL;
	if (c->stream && !c->stream->finished)
		return reply_stream_next(c, c->stream);
	return c->req->upgrade ? CONN_SWITCH : CONN_DONE;
}
