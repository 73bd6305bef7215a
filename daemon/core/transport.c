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
#include "log.h"
#include "loop.h"
#include "registry.h"
#include "transport_private.h"

static void transport_run_mhd(void *data);

void transport_kick(struct transport *t)
{
	if (t->kick_pending)
		return;
	t->kick_pending = true;
	if (loop_post(t->d->loop, transport_run_mhd, t) < 0)
		t->kick_pending = false;
}

void transport_kick_conn(struct conn *c)
{
	transport_kick(c->t);
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

/* --- connections --- */

static void transport_refuse(int fd, unsigned status, const char *code, const char *msg)
{
	char buf[512];
	char body[256];
	int blen = snprintf(body, sizeof(body),
	                    "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"hint\":\"\"}}\n",
	                    code, msg);
	int n = snprintf(buf, sizeof(buf),
	                 "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\nContent-Length: "
	                 "%d\r\nConnection: close\r\n\r\n%s",
	                 status, status == 400 ? "Bad Request" : "Service Unavailable", blen, body);
	/* Best effort: the socket is fresh, its buffer has room. */
	if (send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("transport", "refusal not sent: %s", strerror(errno));
	/* Closing with unread input would reset the connection before the
	 * client reads our reply: drain what is there (bounded). */
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 16 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
}

static void transport_hand_to_mhd(struct conn *c)
{
	struct transport *t = c->t;
	struct sockaddr_un addr = {.sun_family = AF_UNIX};

	t->adding = c;
	if (MHD_add_connection(t->mhd, c->fd, (struct sockaddr *)&addr, sizeof(addr)) != MHD_YES) {
		/* MHD closed the fd and called no notifier: we own c still. */
		log_warn(c->log_ctx, "connection refused by the HTTP layer");
		t->adding = NULL;
		conn_release(c);
		return;
	}
	t->adding = NULL;
	transport_kick(t);
}

/* MHD's own 400 replies to malformed HTTP are HTML. On a fresh connection we
 * look at the request head first (without consuming it) so that garbage gets
 * our JSON error; later requests on a kept-alive connection are MHD's alone. */
static bool transport_is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool transport_request_line_ok(const char *buf, size_t len, bool *http11)
{
	size_t i = 0;
	const char *nl;
	size_t end;

	while (i < len && buf[i] >= 'A' && buf[i] <= 'Z')
		i++;
	if (i == 0 || i > 16)
		return false;
	if (i == len)
		return true; /* method still arriving */
	if (buf[i] != ' ')
		return false;
	i++;
	if (i < len && buf[i] != '/' && buf[i] != '*')
		return false;
	nl = memchr(buf, '\n', len);
	if (!nl)
		return true; /* line still arriving: MHD bounds it */
	end = (size_t)(nl - buf);
	if (end > 0 && buf[end - 1] == '\r')
		end--;
	if (end < 9 + i || memcmp(buf + end - 9, " HTTP/1.", 8) != 0 ||
	    (buf[end - 1] != '0' && buf[end - 1] != '1'))
		return false;
	*http11 = buf[end - 1] == '1';
	return true;
}

static bool transport_header_ok(const char *line, size_t len, bool *has_host)
{
	const char *colon = memchr(line, ':', len);
	size_t nlen;

	if (!colon || colon == line)
		return false;
	nlen = (size_t)(colon - line);
	for (size_t i = 0; i < nlen; i++)
		if (!transport_is_token_char(line[i]))
			return false;
	const char *v = colon + 1, *e = line + len;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	if (nlen == 4 && !strncasecmp(line, "host", 4))
		*has_host = true;
	/* Bodies are small and bounded: we take them with a Content-Length only
	 * (libmicrohttpd would answer a broken chunked upload in HTML). */
	if (nlen == 17 && !strncasecmp(line, "transfer-encoding", 17))
		return false;
	if (nlen == 14 && !strncasecmp(line, "content-length", 14)) {
		if (v == e)
			return false;
		for (const char *p = v; p < e; p++)
			if ((*p < '0' || *p > '9') && *p != ' ' && *p != '\t')
				return false;
	}
	return true;
}

/* The head if complete in buf: every header a token, a colon and a value;
 * numeric Content-Length; Host in HTTP/1.1. */
static bool transport_head_ok(const char *buf, size_t len)
{
	bool http11 = false, has_host = false;
	const char *p, *nl, *e = buf + len;

	if (!transport_request_line_ok(buf, len, &http11))
		return false;
	p = memchr(buf, '\n', len);
	if (!p)
		return true;
	for (p++; p < e; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(e - p));
		if (!nl)
			return true; /* head incomplete in what we peeked: MHD decides */
		size_t l = (size_t)(nl - p);
		if (l && p[l - 1] == '\r')
			l--;
		if (l == 0)
			return !http11 || has_host;
		if (!transport_header_ok(p, l, &has_host))
			return false;
	}
	return true;
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
	if (!transport_head_ok(buf, (size_t)n)) {
		log_info(c->log_ctx, "malformed HTTP request refused");
		c->t->stats.errors_4xx++;
		transport_refuse(fd, 400, "bad_request",
		                 "malformed HTTP request (request bodies need a Content-Length)");
		conn_release(c);
		return;
	}
	transport_hand_to_mhd(c);
}

static void transport_accept(struct transport *t, int lfd, struct service *svc)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct conn *c;

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
	if (t->n_conns >= t->d->cfg->max_conns ||
	    (svc && svc->n_conns >= t->d->cfg->max_conns_per_service)) {
		t->stats.refused_connections++;
		log_warn(svc ? svc->name : "admin", "connection limit reached; refusing pid %d",
		         (int)cred.pid);
		transport_refuse(fd, 503, "unavailable", "too many connections");
		close(fd);
		return;
	}
	c = conn_new(t, fd, svc, &cred);
	if (!c) {
		close(fd);
		return;
	}
	if (loop_add_fd(t->d->loop, fd, EPOLLIN | EPOLLRDHUP, transport_on_first_bytes, c) < 0)
		transport_hand_to_mhd(c);
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

static int transport_hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decoding for paths and query values. "%00" and "%2F" stay encoded:
 * decoded they would cut a C string short ("a%00b" naming service "a") or
 * split a path segment; left alone they fail every name check instead. */
static size_t transport_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *r = s, *w = s;

	while (*r) {
		int hi, lo;
		if (r[0] == '%' && (hi = transport_hex(r[1])) >= 0 &&
		    (lo = transport_hex(r[2])) >= 0 && (hi || lo) && !(hi == 2 && (lo == 0xf))) {
			*w++ = (char)(hi * 16 + lo);
			r += 3;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}

static void transport_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

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
	        0, NULL, NULL, transport_access_handler, t, MHD_OPTION_EXTERNAL_LOGGER,
	        transport_mhd_log, t, MHD_OPTION_NOTIFY_CONNECTION, transport_notify_connection, t,
	        MHD_OPTION_NOTIFY_COMPLETED, transport_request_completed, t,
	        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)d->cfg->idle_timeout_s,
	        MHD_OPTION_CONNECTION_LIMIT, (unsigned)d->cfg->max_conns + 8,
	        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)TRANSPORT_CONN_MEMORY,
	        MHD_OPTION_UNESCAPE_CALLBACK, transport_unescape, t, MHD_OPTION_END);
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
	loop_del_fd(t->d->loop, t->mhd_epfd);
	MHD_stop_daemon(t->mhd); /* notifies every connection closed */
	t->mhd = NULL;
	free(t);
}

int transport_listen_unix(const char *path, mode_t mode)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	mode_t old_mask;
	int fd, r;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT)
		goto fail;
	/* The socket is created with its final mode: no moment in which a
	 * broader one could be connected to (the loop thread is the only one
	 * creating files while the umask is narrowed). */
	old_mask = umask(~mode & 0777);
	r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_mask);
	if (r < 0)
		goto fail;
	if (listen(fd, 64) < 0)
		goto unlink_path;
	return fd;

unlink_path:
	unlink(path);
fail:;
	int err = -errno;
	close(fd);
	return err;
}

int transport_open_admin(struct transport *t)
{
	const struct config *cfg = t->d->cfg;
	mode_t mode = 0600;
	int fd;

	snprintf(t->admin_path, sizeof(t->admin_path), "%s/admin.sock", cfg->runtime_dir);
	if (cfg->admin_group)
		mode = 0660;
	fd = transport_listen_unix(t->admin_path, mode);
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
	conn_close_service(t, svc);
	transport_kick(t);
}

void transport_get_stats(const struct transport *t, struct transport_stats *out)
{
	*out = t->stats;
	out->connections = t->n_conns;
}
