/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the HTTP edge only: transport.c, conn.c, request.c, pipeline.c
 * conn_reply.c and stream.c. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "http.h"
#include "request.h"
#include "transport.h"

/* A request head (and what a client sends ahead of our reply) must fit. */
#define TRANSPORT_HEAD_MAX     (16 * 1024)
#define TRANSPORT_STREAM_BLOCK (16 * 1024)
/* Admin connections have their own budget: no service can exhaust it. */
#define TRANSPORT_ADMIN_CONNS 16

struct transport {
	struct daemon *d;
	struct transport_hooks hooks;
	struct loop_timer *sweep_timer; /* head and idle timeouts, while connections exist */
	struct conn *ready;             /* connections to run again (conn_kick) */
	struct request *spare_req;      /* the last request freed, for the next */
	bool ready_scheduled;
	bool stopping; /* transport_free: requests are dropped, not awaited */
	int admin_fd;
	char admin_path[300];
	struct conn *conns;
	unsigned n_conns;           /* in all */
	unsigned n_admin_conns;     /* of those, on the admin socket */
	uint64_t refusal_logged_ms; /* refusals are logged at most once a second */
	uint64_t next_conn_id;
	uint64_t next_req_id;
	struct transport_stats stats;
};

enum conn_state {
	CONN_HEAD,     /* waiting for (the rest of) a request head */
	CONN_BODY,     /* reading the request body */
	CONN_HANDLING, /* the pipeline runs; an async handler may keep it here */
	CONN_WRITING,  /* the reply goes out (a stream stays here until it ends) */
	CONN_UPGRADED, /* the socket belongs to an upgrade until upgrade_close() */
};

struct conn {
	struct transport *t;
	uint64_t id;
	int fd;
	struct service *svc; /* referenced; NULL on the admin socket */
	struct peer peer;
	enum conn_state state;
	uint32_t events; /* our epoll interest now; 0: not in the loop */
	struct request *req;
	struct http_head head;
	char *in;         /* TRANSPORT_HEAD_MAX bytes: the current head, then unread input */
	size_t in_len;    /* bytes in `in` */
	size_t body_left; /* of the current request's body */
	/* reply bytes the socket did not take yet */
	char *out;
	size_t out_len, out_off, out_cap;
	struct stream *stream; /* active streaming reply, if any */
	struct upgrade *up;    /* once switched */
	bool head_seen;        /* a first complete head arrived: the head timeout is over */
	bool read_closed;      /* the client sends no more (EOF or half-close) */
	bool close_after;      /* close once the reply is out */
	bool doomed;           /* close as soon as no handler holds the request */
	bool ready;            /* on t->ready */
	struct conn *ready_next;
	uint64_t created_ms, active_ms;
	char log_ctx[96];
	struct conn *next;
};

struct stream {
	struct conn *conn;
	const struct stream_ops *ops;
	void *data;
	char *trailers; /* "Name: value\r\n"..., sent after the last chunk */
	bool chunked;   /* HTTP/1.0 clients get raw bytes and a close */
	bool closing;   /* stream_close(): end after pending data */
	bool waiting;   /* fill() had nothing: until stream_wake() */
	bool finished;
};

struct upgrade {
	struct conn *conn; /* NULL once the transport closed it */
	upgrade_fn fn;
	void *data;
	bool switched;
};

/* conn.c: life, I/O and the per-connection state machine */
struct conn *conn_new(struct transport *t, int fd, struct service *svc, const struct ucred *cred);
/* Runs the connection again soon (a reply rendered, stream data, a close). */
void conn_kick(struct conn *c);
/* Closes now (requests a handler still holds are closed when it answers,
 * unless the transport is stopping). */
void conn_close(struct conn *c);
/* The head and idle timeouts. */
void conn_check_timeouts(struct conn *c, uint64_t now_ms);
/* The switched socket's owner is done with it. */
void conn_upgrade_done(struct conn *c);

/* request.c: the request that had the stream is gone: closed() runs. */
void stream_free(struct stream *s);

/* conn_reply.c: the output side, which reports and never closes. What a
 * step of the connection's state machine comes to: */
enum conn_step {
	CONN_FAIL = -1, /* the connection must close (the client is gone, no memory) */
	CONN_WAIT = 0,  /* until an event: the socket, a handler, a stream's data */
	CONN_NEXT = 1,  /* go on */
	CONN_DONE = 2,  /* the reply is out */
	CONN_SWITCH = 3 /* the 101 is out: the socket changes hands */
};
/* The reply of the ready request c->req: head and body in one write when
 * the socket takes them, the rest in c->out. 0 or -errno. */
int reply_start(struct conn *c);
/* Writes what waits in c->out, then a stream's next chunk. */
enum conn_step reply_flush(struct conn *c);
/* Our own JSON refusal of a malformed head, into c->out. 0 or -ENOMEM. */
int reply_refuse(struct conn *c, unsigned status, const char *msg);

/* transport.c */
void transport_close_conns(struct transport *t, struct service *svc);
void transport_conn_added(struct transport *t);
