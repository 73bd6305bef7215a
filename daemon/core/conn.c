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

static void conn_unwatch_hup(struct conn *c, int fd)
{
	if (!c->hup_watch)
		return;
	loop_del_fd(c->t->d->loop, fd);
	c->hup_watch = false;
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
	if (c->hup_watch) {
		/* The fd may be closed already; removing it from epoll is still correct. */
		loop_del_fd(t->d->loop, c->fd >= 0 ? c->fd : -1);
		c->hup_watch = false;
	}
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

static void conn_on_hup(void *data, int fd, uint32_t events)
{
	struct conn *c = data;

	conn_unwatch_hup(c, fd);
	if (c->stream)
		c->stream->peer_gone = true;
	conn_resume(c);
}

void conn_suspend(struct conn *c)
{
	if (c->suspended)
		return;
	MHD_suspend_connection(c->mhd);
	c->suspended = true;
	/* MHD stops watching a suspended connection; a streaming client that
	 * leaves must still release what it holds, so we watch for the hangup. */
	if (c->stream && c->fd >= 0 &&
	    loop_add_fd(c->t->d->loop, c->fd, EPOLLRDHUP, conn_on_hup, c) == 0)
		c->hup_watch = true;
}

void conn_resume(struct conn *c)
{
	if (!c->suspended)
		return;
	conn_unwatch_hup(c, c->fd);
	c->suspended = false;
	MHD_resume_connection(c->mhd);
	transport_kick_conn(c);
}

void conn_close_service(struct transport *t, struct service *svc)
{
	struct conn *c = t->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->svc != svc)
			continue;
		if (!c->in_mhd) {
			loop_del_fd(t->d->loop, c->fd);
			conn_release(c);
			continue;
		}
		log_debug(c->log_ctx, "closing: service removed");
		if (c->fd >= 0)
			shutdown(c->fd, SHUT_RDWR);
		if (c->stream) {
			c->stream->peer_gone = true;
			conn_resume(c);
		}
	}
}
