/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Streaming replies (chunked, pull model) and HTTP Upgrade. A stream that
 * has nothing to send suspends its connection (the pattern libmicrohttpd
 * prescribes for "no data yet") until stream_wake(). */
#include <errno.h>
#include <stdlib.h>

#include "area.h"
#include "config.h"
#include "log.h"
#include "request_private.h"
#include "transport_private.h"

static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	ssize_t n;

	if (s->peer_gone || !s->conn)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = s->ops->fill(s->data, buf, max);
	if (n > 0)
		return n;
	if (n == STREAM_EOF || n < 0 || s->closing)
		return MHD_CONTENT_READER_END_OF_STREAM;
	transport_suspend_conn(s->conn);
	return 0;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;

	if (s->conn)
		s->conn->stream = NULL;
	s->ops->closed(s->data);
	free(s);
}

struct stream *req_result_stream(struct request *req, const char *content_type,
                                 const struct stream_ops *ops, void *data)
{
	struct stream *s = calloc(1, sizeof(*s));
	struct MHD_Response *resp;
	struct conn *c = req->conn;

	if (!s) {
		req_fail(req, -ENOMEM, NULL, "out of memory");
		return NULL;
	}
	s->conn = c;
	s->ops = ops;
	s->data = data;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, TRANSPORT_STREAM_BLOCK,
	                                         stream_reader, s, stream_free);
	if (!resp) {
		free(s);
		req_fail(req, -ENOMEM, NULL, "out of memory");
		return NULL;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	s->response = resp;
	if (req_set_response(req, 200, resp) < 0) {
		/* MHD freed the response, and with it s: closed() was called. */
		return NULL;
	}
	c->stream = s;
	/* MHD frees a closed connection when it next visits it, and it visits
	 * only connections with events or with their own timeout. A stream
	 * ends when its client is gone, with no event to come: its own
	 * timeout (a second longer than the others') has the connection freed,
	 * and its connection leases ended, on the next run instead of at the
	 * idle timeout. */
	MHD_set_connection_option(c->mhd, MHD_CONNECTION_OPTION_TIMEOUT,
	                          c->t->d->cfg->idle_timeout_s + 1);
	return s;
}

void stream_wake(struct stream *s)
{
	if (s->conn && s->conn->suspended)
		transport_resume_conn(s->conn);
}

void stream_set_trailer(struct stream *s, const char *name, const char *value)
{
	if (s->response)
		MHD_add_response_footer(s->response, name, value);
}

void stream_close(struct stream *s)
{
	s->closing = true;
	stream_wake(s);
}

/* --- upgrade --- */

/* Two owners: the request (until MHD completes it) and the switched pipe
 * (until upgrade_close). The struct lives until both let go. */
struct upgrade_box {
	struct upgrade up;
	int refs;
};

static void upgrade_unref(struct upgrade *up)
{
	struct upgrade_box *box = (struct upgrade_box *)up;

	if (--box->refs == 0)
		free(box);
}

static void upgrade_handler(void *cls, struct MHD_Connection *connection, void *con_cls,
                            const char *extra_in, size_t extra_in_size, MHD_socket sock,
                            struct MHD_UpgradeResponseHandle *urh)
{
	struct upgrade *up = cls;
	struct upgrade_box *box = (struct upgrade_box *)up;

	up->urh = urh;
	up->switched = true;
	box->refs++;
	up->fn(up->data, up, sock, extra_in, extra_in_size);
}

/* The request is freed: the 101 went out (the pipe owns the upgrade now),
 * or never did (the caller hears of it). */
static void upgrade_request_done(void *data)
{
	struct upgrade *up = data;

	if (!up->switched && up->fn) {
		up->fn(up->data, NULL, -1, NULL, 0);
		up->fn = NULL;
	}
	upgrade_unref(up);
}

int req_result_upgrade(struct request *req, const char *protocol, upgrade_fn on_upgraded,
                       void *data)
{
	struct upgrade_box *box = calloc(1, sizeof(*box));
	struct MHD_Response *resp;
	int r;

	if (!box)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	box->refs = 1;
	box->up.t = req->conn->t;
	box->up.fn = on_upgraded;
	box->up.data = data;
	resp = MHD_create_response_for_upgrade(upgrade_handler, &box->up);
	if (!resp) {
		free(box);
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, protocol);
	r = req_set_response(req, 101, resp);
	if (r < 0) {
		free(box);
		return r;
	}
	req->release = upgrade_request_done;
	req->release_data = &box->up;
	return 0;
}

void upgrade_close(struct upgrade *up)
{
	struct transport *t = up->t;

	MHD_upgrade_action(up->urh, MHD_UPGRADE_ACTION_CLOSE);
	upgrade_unref(up);
	/* MHD finishes the close on its next run. */
	transport_kick(t);
}
