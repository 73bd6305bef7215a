/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP over unix sockets with libmicrohttpd, driven from our epoll loop.
 *
 * Why our own accept loop: each service has its own socket and the socket is
 * the identity, so we accept, read SO_PEERCRED, attach a struct conn and hand
 * the fd to one MHD daemon with MHD_add_connection(). MHD's epoll fd sits in
 * our loop; MHD_run() is called when it is readable, when its timeout
 * expires, and after anything that resumes a connection (transport_kick). */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <microhttpd.h>
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
#include "http_head.h"
#include "log.h"
#include "loop.h"
#include "registry.h"
#include "transport_private.h"
#include "unix_socket.h"

static void transport_run_mhd(void *data);

void transport_kick(struct transport *t)
{
	if (t->kick_pending)
		return;
	t->kick_pending = true;
	if (loop_defer(t->d->loop, transport_run_mhd, t) < 0)
		t->kick_pending = false;
}

static void transport_arm_timer(struct transport *t);

static void transport_mhd_timeout(void *data)
{
	struct transport *t = data;

	t->mhd_timer = NULL;
	transport_run_mhd(t);
}

static void transport_arm_timer(struct transport *t)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (t->mhd_timer) {
		loop_cancel_timer(t->d->loop, t->mhd_timer);
		t->mhd_timer = NULL;
	}
	if (MHD_get_timeout(t->mhd, &ms) == MHD_YES)
		t->mhd_timer = loop_add_timer(t->d->loop, ms, transport_mhd_timeout, t);
}

static void transport_run_mhd(void *data)
{
	struct transport *t = data;

	t->kick_pending = false;
	if (!t->mhd)
		return;
	MHD_run(t->mhd);
	transport_arm_timer(t);
}

static void transport_on_mhd_epoll(void *data, int fd, uint32_t events)
{
	transport_run_mhd(data);
}

/* --- suspended connections --- */

static void transport_watch(struct conn *c, loop_fd_fn fn)
{
	if (c->watch_fd >= 0 || c->fd < 0)
		return;
	if (loop_add_fd(c->t->d->loop, c->fd, EPOLLRDHUP, fn, c) == 0)
		c->watch_fd = c->fd;
}

static void transport_on_stream_hup(void *data, int fd, uint32_t events)
{
	struct conn *c = data;

	conn_unwatch(c);
	if (c->stream)
		c->stream->peer_gone = true;
	transport_resume_conn(c);
}

/* The client stopped sending with the body incomplete: it will never
 * complete it. Shut the socket so that MHD closes the connection now. */
static void transport_on_body_hup(void *data, int fd, uint32_t events)
{
	struct conn *c = data;

	conn_unwatch(c);
	log_debug(c->log_ctx, "the client shut its side before the body was complete");
	if (c->fd >= 0)
		shutdown(c->fd, SHUT_RDWR);
	transport_kick(c->t);
}

void transport_watch_body(struct conn *c)
{
	transport_watch(c, transport_on_body_hup);
}

void transport_body_arrived(struct conn *c)
{
	conn_unwatch(c);
}

void transport_head_arrived(struct conn *c)
{
	if (!c->head_timer)
		return;
	loop_cancel_timer(c->t->d->loop, c->head_timer);
	c->head_timer = NULL;
}

/* From accept to a complete first request head: a client that connects and
 * sends nothing (or half a head) does not keep a slot. */
static void transport_head_timeout(void *data)
{
	struct conn *c = data;

	c->head_timer = NULL;
	log_debug(c->log_ctx, "no complete request head within the head timeout: closed");
	if (!c->in_mhd) {
		loop_del_fd(c->t->d->loop, c->fd);
		conn_release(c);
		return;
	}
	shutdown(c->fd, SHUT_RDWR);
	transport_kick(c->t);
}

void transport_suspend_conn(struct conn *c)
{
	if (c->suspended || c->t->stopping)
		return;
	MHD_suspend_connection(c->mhd);
	c->suspended = true;
	/* MHD stops watching a suspended connection; a streaming client that
	 * leaves must still release what it holds, so we watch for the hangup. */
	if (c->stream)
		transport_watch(c, transport_on_stream_hup);
}

void transport_resume_conn(struct conn *c)
{
	if (!c->suspended)
		return;
	conn_unwatch(c);
	c->suspended = false;
	MHD_resume_connection(c->mhd);
	transport_kick(c->t);
}

void transport_close_conns(struct transport *t, struct service *svc)
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
			transport_resume_conn(c);
		}
	}
}

/* --- connections --- */

static void transport_hand_to_mhd(struct conn *c)
{
	struct transport *t = c->t;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	t->adding = c;
	if (MHD_add_connection(t->mhd, c->fd, (struct sockaddr *)&addr, sizeof(addr)) != MHD_YES) {
		/* MHD closed the fd and called no notifier: we own c, not its fd. */
		log_warn(c->log_ctx, "connection refused by the HTTP layer");
		t->adding = NULL;
		c->fd = -1;
		conn_release(c);
		return;
	}
	t->adding = NULL;
	transport_kick(t);
}

static void transport_on_first_bytes(void *data, int fd, uint32_t events)
{
	struct conn *c = data;
	char buf[8192];
	ssize_t n;

	loop_del_fd(c->t->d->loop, fd);
	n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
	if (n <= 0) {
		conn_release(c);
		return;
	}
	/* A client that hung up before its request head was complete will never
	 * complete it; MHD would only notice at the idle timeout. */
	if ((events & (EPOLLRDHUP | EPOLLHUP)) && !memmem(buf, (size_t)n, "\r\n\r\n", 4) &&
	    !memmem(buf, (size_t)n, "\n\n", 2)) {
		log_debug(c->log_ctx, "incomplete request before hangup");
		conn_release(c);
		return;
	}
	if (!http_head_ok(buf, (size_t)n)) {
		log_info(c->log_ctx, "malformed HTTP request refused");
		c->t->stats.errors_4xx++;
		http_refuse(fd, 400, "bad_request",
		            "malformed HTTP request (request bodies need a Content-Length)");
		conn_release(c);
		return;
	}
	transport_hand_to_mhd(c);
}

/* Limits, the connection, its head timeout and the first look at its head.
 * 0, or -errno with fd closed. */
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
	c->head_timer = loop_add_timer(t->d->loop, (uint64_t)t->d->cfg->head_timeout_s * 1000,
	                               transport_head_timeout, c);
	if (loop_add_fd(t->d->loop, fd, EPOLLIN | EPOLLRDHUP, transport_on_first_bytes, c) < 0)
		transport_hand_to_mhd(c);
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

/* MHD tells us when a connection starts and ends. */
static void transport_notify_connection(void *cls, struct MHD_Connection *connection,
                                        void **socket_context,
                                        enum MHD_ConnectionNotificationCode toe)
{
	struct transport *t = cls;
	struct conn *c;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		c = t->adding;
		t->adding = NULL;
		if (!c) {
			const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
			        connection, MHD_CONNECTION_INFO_CONNECTION_FD);
			c = ci ? conn_find_fd(t, ci->connect_fd) : NULL;
		}
		if (c) {
			c->mhd = connection;
			c->in_mhd = true;
		}
		*socket_context = c;
		return;
	}
	c = *socket_context;
	if (!c)
		return;
	/* MHD closes the fd itself. */
	c->fd = -1;
	conn_release(c);
}

static void transport_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	/* MHD retries TCP options on every reply to an added unix socket and
	 * reports each failure: not worth formatting unless debugging. */
	if (log_get_level() < LOG_LEVEL_DEBUG)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* MHD treats every added socket as TCP; its TCP-option notes mean nothing here. */
	if (strstr(msg, "TCP_") || strstr(msg, "push the data"))
		return;
	log_debug("mhd", "%s", msg);
}

struct transport *transport_new(struct daemon *d, const struct transport_hooks *hooks)
{
	struct transport *t = calloc(1, sizeof(*t));
	const union MHD_DaemonInfo *info;

	if (!t)
		return NULL;
	t->d = d;
	t->hooks = *hooks;
	t->admin_fd = -1;
	t->next_conn_id = 1;
	t->next_req_id = 1;
	t->mhd = MHD_start_daemon(
	        MHD_USE_NO_LISTEN_SOCKET | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	                MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG,
	        0, NULL, NULL, t->hooks.access, t, MHD_OPTION_EXTERNAL_LOGGER, transport_mhd_log, t,
	        MHD_OPTION_NOTIFY_CONNECTION, transport_notify_connection, t,
	        MHD_OPTION_NOTIFY_COMPLETED, t->hooks.completed, t, MHD_OPTION_CONNECTION_TIMEOUT,
	        (unsigned)d->cfg->idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
	        (unsigned)d->cfg->max_conns + 8, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	        (size_t)TRANSPORT_CONN_MEMORY, MHD_OPTION_UNESCAPE_CALLBACK, http_unescape, t,
	        MHD_OPTION_END);
	if (!t->mhd) {
		log_error("transport", "libmicrohttpd failed to start");
		goto free_transport;
	}
	info = MHD_get_daemon_info(t->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || loop_add_fd(d->loop, info->epoll_fd, EPOLLIN, transport_on_mhd_epoll, t) < 0) {
		log_error("transport", "cannot watch libmicrohttpd's epoll fd");
		goto stop_mhd;
	}
	t->mhd_epfd = info->epoll_fd;
	return t;

stop_mhd:
	MHD_stop_daemon(t->mhd);
free_transport:
	free(t);
	return NULL;
}

void transport_free(struct transport *t)
{
	if (!t)
		return;
	if (t->mhd_timer)
		loop_cancel_timer(t->d->loop, t->mhd_timer);
	if (t->admin_fd >= 0) {
		loop_del_fd(t->d->loop, t->admin_fd);
		close(t->admin_fd);
		unlink(t->admin_path);
	}
	/* Connections not yet handed to MHD are ours to close. */
	conn_release_unadopted(t);
	t->stopping = true;
	/* MHD refuses to stop with suspended connections (requests waiting on
	 * I2C, a UART read, an audit record, a sleeping stream): they are
	 * resumed to be closed; what waited for them is told by the areas' fini. */
	for (struct conn *c = t->conns; c; c = c->next) {
		if (c->fd >= 0)
			shutdown(c->fd, SHUT_RDWR);
		if (c->stream)
			c->stream->peer_gone = true;
		if (c->suspended) {
			conn_unwatch(c);
			c->suspended = false;
			MHD_resume_connection(c->mhd);
		}
	}
	MHD_run(t->mhd);
	loop_del_fd(t->d->loop, t->mhd_epfd);
	MHD_stop_daemon(t->mhd); /* notifies every connection closed */
	t->mhd = NULL;
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
	transport_kick(t);
}

void transport_get_stats(const struct transport *t, struct transport_stats *out)
{
	*out = t->stats;
	out->connections = t->n_conns;
}
