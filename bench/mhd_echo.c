/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A libmicrohttpd JSON echo on a unix socket: what HTTP costs on its own.
 *
 *   mhd_echo SOCKET [--external]
 *
 * One thread. The body of a request (or, for a request without one, a small
 * object shaped like a GPIO line reply) is parsed with jansson and dumped
 * back. By default MHD runs its own epoll thread on our listening socket
 * (MHD_OPTION_LISTEN_SOCKET); with --external it is arranged as hwbrokerd
 * arranged it before it spoke HTTP itself: our epoll loop accepts, hands each
 * fd to MHD with MHD_add_connection() and calls MHD_run() when MHD's epoll
 * fd is readable. */
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define ECHO_LINE                                                                                  \
	"{\"chip\":\"gpiochip0\",\"line\":5,\"name\":\"GPIO5\",\"value\":1,\"direction\":"         \
	"\"output\",\"bias\":\"as-is\",\"active_low\":false,\"drive\":\"push-pull\",\"used\":"     \
	"true,\"holder\":\"bench\",\"lease\":\"persistent\",\"watchers\":0}"
#define ECHO_MAX_BODY (64 * 1024)
/* As hwbrokerd sizes it (daemon/transport_private.h). */
#define ECHO_CONN_MEMORY (32 * 1024)

struct echo_request {
	char *body;
	size_t len;
	bool too_large;
};

static enum MHD_Result echo_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                    const char *method, const char *version,
                                    const char *upload_data, size_t *upload_data_size,
                                    void **req_cls)
{
	struct echo_request *r = *req_cls;
	struct MHD_Response *resp;
	json_error_t err;
	json_t *j;
	char *dump;
	unsigned status = MHD_HTTP_OK;
	enum MHD_Result ret;

	if (!r) {
		r = calloc(1, sizeof(*r));
		*req_cls = r;
		return r ? MHD_YES : MHD_NO;
	}
	if (*upload_data_size) {
		if (r->len + *upload_data_size > ECHO_MAX_BODY) {
			r->too_large = true;
		} else {
			char *b = realloc(r->body, r->len + *upload_data_size);
			if (!b)
				return MHD_NO;
			memcpy(b + r->len, upload_data, *upload_data_size);
			r->body = b;
			r->len += *upload_data_size;
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	j = r->len ? json_loadb(r->body, r->len, 0, &err) : json_loads(ECHO_LINE, 0, &err);
	if (!j || r->too_large) {
		status = r->too_large ? 413 : MHD_HTTP_BAD_REQUEST;
		json_decref(j);
		j = json_pack("{s:{s:s}}", "error", "code", "bad_request");
	}
	dump = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!dump)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(strlen(dump), dump, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(dump);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void echo_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                           enum MHD_RequestTerminationCode toe)
{
	struct echo_request *r = *req_cls;

	if (r) {
		free(r->body);
		free(r);
	}
	*req_cls = NULL;
}

static void echo_log(void *cls, const char *fmt, va_list ap)
{
	/* MHD treats every socket as TCP and says so: nothing to hear here. */
}

static int echo_listen(const char *path)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -1;
	memcpy(addr.sun_path, path, strlen(path));
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 128) < 0)
		return -1;
	return fd;
}

static int echo_run_external(int lfd)
{
	struct MHD_Daemon *d = MHD_start_daemon(
	        MHD_USE_NO_LISTEN_SOCKET | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	                MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG,
	        0, NULL, NULL, echo_handler, NULL, MHD_OPTION_EXTERNAL_LOGGER, echo_log, NULL,
	        MHD_OPTION_NOTIFY_COMPLETED, echo_completed, NULL,
	        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)ECHO_CONN_MEMORY,
	        MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
	const union MHD_DaemonInfo *info;
	struct epoll_event ev, evs[16];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (!d || ep < 0)
		return 1;
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
	ev = (struct epoll_event){.events = EPOLLIN, .data.u32 = 0};
	if (!info || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		return 1;
	ev = (struct epoll_event){.events = EPOLLIN, .data.u32 = 1};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, info->epoll_fd, &ev) < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		MHD_UNSIGNED_LONG_LONG ms;
		int timeout = MHD_get_timeout(d, &ms) == MHD_YES ? (int)ms : -1;
		int n = epoll_wait(ep, evs, 16, timeout);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 != 0)
				continue;
			int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			struct sockaddr_un peer = {.sun_family = AF_UNIX};
			if (fd >= 0)
				MHD_add_connection(d, fd, (struct sockaddr *)&peer, sizeof(peer));
		}
		MHD_run(d);
	}
}

int main(int argc, char **argv)
{
	bool external = argc > 2 && !strcmp(argv[2], "--external");
	struct MHD_Daemon *d;
	int lfd;
	sigset_t set;
	int sig;

	if (argc < 2) {
		fprintf(stderr, "usage: mhd_echo SOCKET [--external]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	lfd = echo_listen(argv[1]);
	if (lfd < 0) {
		perror("mhd_echo: listen");
		return 1;
	}
	if (external)
		return echo_run_external(lfd);
	/* Blocked before MHD starts its thread, so that only sigwait() gets them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0,
	                     NULL, NULL, echo_handler, NULL, MHD_OPTION_LISTEN_SOCKET, lfd,
	                     MHD_OPTION_EXTERNAL_LOGGER, echo_log, NULL,
	                     MHD_OPTION_NOTIFY_COMPLETED, echo_completed, NULL,
	                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)ECHO_CONN_MEMORY,
	                     MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "mhd_echo: libmicrohttpd failed to start\n");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	/* The work happens on MHD's thread; this one waits for the end. */
	sigwait(&set, &sig);
	MHD_stop_daemon(d);
	return 0;
}
