/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the HTTP edge only: transport.c, conn.c, request.c, pipeline.c
 * and stream.c. */
#pragma once

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "request.h"
#include "transport.h"

/* Per-connection memory MHD may use for the request head and its buffers. */
#define TRANSPORT_CONN_MEMORY  (16 * 1024)
#define TRANSPORT_STREAM_BLOCK (16 * 1024)
/* Admin connections have their own budget: no service can exhaust it. */
#define TRANSPORT_ADMIN_CONNS 16

struct transport {
	struct daemon *d;
	struct transport_hooks hooks;
	struct MHD_Daemon *mhd;
	int mhd_epfd;
	struct loop_timer *mhd_timer;
	bool kick_pending;
	bool stopping; /* transport_free: nothing is suspended any more */
	int admin_fd;
	char admin_path[300];
	struct conn *conns;
	struct conn *adding;        /* the connection MHD_add_connection is adopting */
	unsigned n_conns;           /* in all */
	unsigned n_admin_conns;     /* of those, on the admin socket */
	uint64_t refusal_logged_ms; /* refusals are logged at most once a second */
	uint64_t next_conn_id;
	uint64_t next_req_id;
	struct transport_stats stats;
};

struct conn {
	struct transport *t;
	uint64_t id;
	int fd;              /* -1 once MHD closed it */
	struct service *svc; /* referenced; NULL on the admin socket */
	struct peer peer;
	struct MHD_Connection *mhd;
	bool in_mhd; /* adopted by MHD: MHD closes it */
	bool suspended;
	/* fd in our own loop (besides MHD's) to notice a client that leaves:
	 * while a stream sleeps, or while a request body is still arriving. */
	int watch_fd;
	struct loop_timer *head_timer; /* until the first request head is complete */
	struct stream *stream;         /* active streaming reply, if any */
	char log_ctx[96];
	struct conn *next;
};

struct stream {
	struct conn *conn;
	struct MHD_Response *response;
	const struct stream_ops *ops;
	void *data;
	bool closing;   /* stream_close(): end after pending data */
	bool peer_gone; /* the client went away while we slept */
	bool finished;
};

struct upgrade {
	struct transport *t;
	struct MHD_UpgradeResponseHandle *urh;
	upgrade_fn fn;
	void *data;
	bool switched;
};

/* conn.c: bookkeeping (transport.c drives them) */
struct conn *conn_new(struct transport *t, int fd, struct service *svc, const struct ucred *cred);
struct conn *conn_find_fd(struct transport *t, int fd);
/* Drops the connection: notifies the areas, unlinks, closes fd if MHD does not own it. */
void conn_release(struct conn *c);
void conn_release_unadopted(struct transport *t);

/* transport.c */
/* Closes every connection of svc (its streams end at once). */
void transport_close_conns(struct transport *t, struct service *svc);
/* A request waits (async handler, sleeping stream): MHD leaves it alone. */
void transport_suspend_conn(struct conn *c);
void transport_resume_conn(struct conn *c);
/* The first request head is complete: the head timeout is over. */
void transport_head_arrived(struct conn *c);
/* A request body is arriving: a client that shuts its sending side before
 * the body is complete is closed at once, not at the idle timeout. */
void transport_watch_body(struct conn *c);
void transport_body_arrived(struct conn *c);
/* conn.c: removes our own watch of the connection's fd (hangup), if any. */
void conn_unwatch(struct conn *c);
/* Runs MHD soon (after resumes, closes, new connections). */
void transport_kick(struct transport *t);
