/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sockets: our own accept loop over the admin socket and every service
 * socket, because each service has its own socket and the socket is the
 * identity. A connection is accepted, its peer's credentials read, its
 * limits checked, and from then on it serves itself (conn.c). One timer
 * sweeps the head and idle timeouts while connections exist. */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "area.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "registry.h"
#include "transport_private.h"
#include "unix_socket.h"

/* Timeouts are counted in seconds: a sweep a second keeps them to within one. */
#define TRANSPORT_SWEEP_MS 1000

static void transport_sweep(void *data)
{
	struct transport *t = data;
	uint64_t now = loop_now_ms();
	struct conn *c = t->conns, *next;

	t->sweep_timer = NULL;
	for (; c; c = next) {
		next = c->next;
		conn_check_timeouts(c, now);
	}
	if (t->conns)
		t->sweep_timer = loop_add_timer(t->d->loop, TRANSPORT_SWEEP_MS, transport_sweep, t);
}

void transport_close_conns(struct transport *t, struct service *svc)
{
	for (struct conn *c = t->conns; c; c = c->next) {
		if (c->svc != svc)
			continue;
		log_debug(c->log_ctx, "closing: service removed");
		/* An upgraded socket's owner sees the end and lets go; the others
		 * close on their next turn, not inside the caller's removal. */
		shutdown(c->fd, SHUT_RDWR);
		if (c->state != CONN_UPGRADED) {
			c->doomed = true;
			conn_kick(c);
		}
	}
}

/* --- connections --- */

/* Limits, then the connection. 0, or -errno with fd closed. */
static int transport_take(struct transport *t, int fd, struct service *svc,
                          const struct ucred *cred)
{
	struct conn *c;

	if (svc ? (t->n_conns - t->n_admin_conns >= t->d->cfg->max_conns ||
	           svc->n_conns >= t->d->cfg->max_conns_per_service)
	        : t->n_admin_conns >= TRANSPORT_ADMIN_CONNS) {
		t->stats.refused_connections++;
		if (loop_now_ms() - t->refusal_logged_ms >= 1000) {
			t->refusal_logged_ms = loop_now_ms();
			log_warn(svc ? svc->name : "admin",
			         "connection limit reached; refusing pid %d (and more this second)",
			         (int)cred->pid);
		}
		http_refuse(fd, 503, "unavailable", "too many connections");
		close(fd);
		return -EMFILE;
	}
	c = conn_new(t, fd, svc, cred);
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	if (!t->sweep_timer)
		t->sweep_timer = loop_add_timer(t->d->loop, TRANSPORT_SWEEP_MS, transport_sweep, t);
	return 0;
}

static void transport_accept(struct transport *t, int lfd, struct service *svc)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("transport", "accept: %s", strerror(errno));
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		log_warn("transport", "SO_PEERCRED: %s", strerror(errno));
		close(fd);
		return;
	}
	transport_take(t, fd, svc, &cred);
}

int transport_adopt(struct transport *t, int fd, struct service *svc, pid_t pid, uid_t uid,
                    gid_t gid)
{
	struct ucred cred = {pid, uid, gid};

	return transport_take(t, fd, svc, &cred);
}

static void transport_on_admin_listen(void *data, int fd, uint32_t events)
{
	transport_accept(data, fd, NULL);
}

static void transport_on_service_listen(void *data, int fd, uint32_t events)
{
	struct service *svc = data;

	transport_accept(svc->transport, fd, svc);
}

struct transport *transport_new(struct daemon *d, const struct transport_hooks *hooks)
{
	struct transport *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->d = d;
	t->hooks = *hooks;
	t->admin_fd = -1;
	t->next_conn_id = 1;
	t->next_req_id = 1;
	return t;
}

void transport_free(struct transport *t)
{
	if (!t)
		return;
	if (t->admin_fd >= 0) {
		loop_del_fd(t->d->loop, t->admin_fd);
		close(t->admin_fd);
		unlink(t->admin_path);
	}
	/* Requests still waiting (on I2C, a UART read, an audit record) end
	 * with their connections; what waited for them is told by the areas'
	 * fini. */
	t->stopping = true;
	while (t->conns)
		conn_close(t->conns);
	if (t->sweep_timer)
		loop_cancel_timer(t->d->loop, t->sweep_timer);
	free(t->spare_req);
	free(t);
}

int transport_open_admin(struct transport *t)
{
	const struct config *cfg = t->d->cfg;
	mode_t mode = 0600;
	int fd;

	snprintf(t->admin_path, sizeof(t->admin_path), "%s/admin.sock", cfg->runtime_dir);
	if (cfg->admin_group)
		mode = 0660;
	fd = unix_socket_listen(t->admin_path, mode);
	if (fd < 0) {
		log_error("transport", "%s: %s", t->admin_path, strerror(-fd));
		return fd;
	}
	if (cfg->admin_group) {
		struct group *gr = getgrnam(cfg->admin_group);
		if (!gr || chown(t->admin_path, (uid_t)-1, gr->gr_gid) < 0) {
			log_error("transport", "admin group %s: %s", cfg->admin_group,
			          gr ? strerror(errno) : "no such group");
			close(fd);
			unlink(t->admin_path);
			return -EINVAL;
		}
	}
	t->admin_fd = fd;
	return loop_add_fd(t->d->loop, fd, EPOLLIN, transport_on_admin_listen, t);
}

int transport_add_service(struct transport *t, struct service *svc)
{
	svc->transport = t;
	return loop_add_fd(t->d->loop, svc->listen_fd, EPOLLIN, transport_on_service_listen, svc);
}

void transport_remove_service(struct transport *t, struct service *svc)
{
	loop_del_fd(t->d->loop, svc->listen_fd);
	transport_close_conns(t, svc);
}

void transport_get_stats(const struct transport *t, struct transport_stats *out)
{
	*out = t->stats;
	out->connections = t->n_conns;
}
