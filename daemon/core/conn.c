/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Connection bookkeeping: identity (service + peer credentials), limits,
 * suspension, and noticing a client that leaves while its stream sleeps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "area.h"
#include "log.h"
#include "loop.h"
#include "registry.h"
#include "transport_private.h"

struct conn *conn_new(struct transport *t, int fd, struct service *svc, const struct ucred *cred)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->t = t;
	c->id = t->next_conn_id++;
	c->fd = fd;
	c->watch_fd = -1;
	c->svc = svc;
	c->peer.pid = cred->pid;
	c->peer.uid = cred->uid;
	c->peer.gid = cred->gid;
	snprintf(c->log_ctx, sizeof(c->log_ctx), "svc=%s conn=%llu pid=%d",
	         svc ? svc->name : "admin", (unsigned long long)c->id, (int)cred->pid);
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

struct conn *conn_find_fd(struct transport *t, int fd)
{
	for (struct conn *c = t->conns; c; c = c->next)
		if (c->fd == fd)
			return c;
	return NULL;
}

void conn_unwatch(struct conn *c)
{
	/* The fd may be closed already: the loop forgets it all the same. */
	if (c->watch_fd < 0)
		return;
	loop_del_fd(c->t->d->loop, c->watch_fd);
	c->watch_fd = -1;
}

void conn_release(struct conn *c)
{
	struct transport *t = c->t;

	for (struct conn **pp = &t->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	t->n_conns--;
	if (!c->svc)
		t->n_admin_conns--;
	conn_unwatch(c);
	if (c->head_timer)
		loop_cancel_timer(t->d->loop, c->head_timer);
	if (c->stream) /* MHD frees the response (and the stream) itself */
		c->stream->conn = NULL;
	if (!c->in_mhd && c->fd >= 0)
		close(c->fd);
	log_debug(c->log_ctx, "closed");
	if (c->svc) {
		c->svc->n_conns--;
		if (t->hooks.conn_closed)
			t->hooks.conn_closed(t->hooks.ctx, c->svc, c->id);
		service_unref(c->svc);
	}
	free(c);
}

void conn_release_unadopted(struct transport *t)
{
	struct conn *c = t->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (!c->in_mhd) {
			loop_del_fd(t->d->loop, c->fd);
			conn_release(c);
		}
	}
}
