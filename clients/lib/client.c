/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libhwbroker transport: HTTP/1.1 over a unix stream socket, keep-alive,
 * bounded everywhere, errors mapped once (hwbroker.h). */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "client_private.h"
#include "http.h"

#define HWB_DEFAULT_SOCKET "/run/hwbroker/hwbroker.sock"

struct hwb {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int timeout_ms;
	int last_status;
	char code[32];
	char message[512];
	char hint[512];
};

HWB_EXPORT const char *hwb_version(void)
{
	return HWB_VERSION_STRING;
}

int hwb_socket_connect(const char *path, int timeout_ms)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A unix connect() waits while the listener's backlog is full (a broker
	 * that stopped accepting); SO_SNDTIMEO bounds that wait, after which
	 * connect() fails with EAGAIN. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
		close(fd);
		return err;
	}
	/* Later waits are poll()s against a deadline; a blocking write on the
	 * caller's own fd (hwb_uart_attach) must not time out behind its back. */
	tv = (struct timeval){0, 0};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* $HWBROKER_TIMEOUT_MS when it is a positive number, else the default. */
static int hwb_default_timeout(void)
{
	const char *env = getenv("HWBROKER_TIMEOUT_MS");
	char *end;
	long v;

	if (!env || !*env)
		return HWB_DEFAULT_TIMEOUT_MS;
	errno = 0;
	v = strtol(env, &end, 10);
	if (*end || errno || v <= 0 || v > INT_MAX)
		return HWB_DEFAULT_TIMEOUT_MS;
	return (int)v;
}

HWB_EXPORT struct hwb *hwb_connect(const char *path)
{
	struct hwb *h;
	int fd, timeout = hwb_default_timeout();

	if (!path || !*path)
		path = getenv("HWBROKER_SOCKET");
	if (!path || !*path)
		path = HWB_DEFAULT_SOCKET;
	fd = hwb_socket_connect(path, timeout);
	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	h->fd = fd;
	h->timeout_ms = timeout;
	snprintf(h->path, sizeof(h->path), "%s", path);
	return h;
}

HWB_EXPORT int hwb_set_timeout(struct hwb *h, int ms)
{
	if (!h || ms <= 0)
		return -EINVAL;
	h->timeout_ms = ms;
	return 0;
}

HWB_EXPORT int hwb_get_timeout(const struct hwb *h)
{
	return h ? h->timeout_ms : HWB_DEFAULT_TIMEOUT_MS;
}

HWB_EXPORT void hwb_close(struct hwb *h)
{
	if (!h)
		return;
	if (h->fd >= 0)
		close(h->fd);
	free(h);
}

const char *hwb_socket_path(const struct hwb *h)
{
	return h->path;
}

HWB_EXPORT const char *hwb_error_code(const struct hwb *h)
{
	return h ? h->code : "";
}

HWB_EXPORT const char *hwb_error_message(const struct hwb *h)
{
	return h ? h->message : "";
}

HWB_EXPORT const char *hwb_error_hint(const struct hwb *h)
{
	return h ? h->hint : "";
}

HWB_EXPORT int hwb_last_status(const struct hwb *h)
{
	return h ? h->last_status : 0;
}

int hwb_set_error(struct hwb *h, int err, const char *code, const char *fmt, ...)
{
	va_list ap;

	snprintf(h->code, sizeof(h->code), "%s", code ? code : "");
	va_start(ap, fmt);
	vsnprintf(h->message, sizeof(h->message), fmt, ap);
	va_end(ap);
	h->hint[0] = '\0';
	return err;
}

static void hwb_clear_error(struct hwb *h)
{
	h->code[0] = h->message[0] = h->hint[0] = '\0';
}

int hwb_status_errno(int status)
{
	switch (status) {
	case 400:
		return -EBADMSG;
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 405:
		return -EOPNOTSUPP;
	case 409:
		return -EBUSY;
	case 413:
	case 414:
		return -E2BIG;
	case 422:
		return -EINVAL;
	case 429:
		return -EAGAIN;
	case 502:
		return -EREMOTEIO;
	case 503:
		return -ENODEV;
	case 504:
		return -ETIMEDOUT;
	default:
		return status >= 400 ? -EIO : 0;
	}
}

/* Fills h's error from an error reply and returns the mapped errno. */
int hwb_error_from_reply(struct hwb *h, int status, const char *body, size_t len)
{
	json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *e = json_object_get(j, "error");

	h->last_status = status;
	snprintf(h->code, sizeof(h->code), "%s",
	         json_string_value(json_object_get(e, "code")) ?: "http_error");
	snprintf(h->message, sizeof(h->message), "%s",
	         json_string_value(json_object_get(e, "message")) ?: "");
	if (!h->message[0])
		snprintf(h->message, sizeof(h->message), "HTTP status %d", status);
	snprintf(h->hint, sizeof(h->hint), "%s",
	         json_string_value(json_object_get(e, "hint")) ?: "");
	json_decref(j);
	return hwb_status_errno(status);
}

int hwb_timeout(const struct hwb *h)
{
	return h->timeout_ms;
}

int hwb_connect_error(struct hwb *h, int err)
{
	if (err == -ETIMEDOUT)
		return hwb_set_error(h, err, "timeout",
		                     "cannot connect to %s: no answer within %d ms (is the broker "
		                     "stalled?)",
		                     h->path, h->timeout_ms);
	return hwb_set_error(h, err, "transport", "cannot connect to %s: %s", h->path,
	                     strerror(-err));
}

static int hwb_reconnect(struct hwb *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = hwb_socket_connect(h->path, h->timeout_ms);
	return h->fd < 0 ? h->fd : 0;
}

/* One exchange; retried once on a fresh connection when the broker had
 * closed the idle one before any byte of the reply came back. The whole
 * exchange, retry included, ends by one deadline. */
static int hwb_exchange(struct hwb *h, const char *method, const char *path,
                        const char *content_type, const void *body, size_t len, int extra_ms,
                        struct http_reply *reply)
{
	int64_t deadline = http_deadline(
	        h->timeout_ms > INT_MAX - extra_ms ? INT_MAX : h->timeout_ms + extra_ms);
	int r;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (h->fd < 0 && (r = hwb_reconnect(h)) < 0)
			return hwb_connect_error(h, r);
		r = http_send_request(h->fd, method, path, content_type, body, len, NULL, deadline);
		if (r == 0)
			r = http_read_reply(h->fd, reply, deadline);
		if (r == 0) {
			if (reply->close) {
				close(h->fd);
				h->fd = -1;
			}
			return 0;
		}
		/* Whatever the broker still sends on this connection belongs to
		 * the abandoned request: the next one needs a fresh connection. */
		close(h->fd);
		h->fd = -1;
		if (r != -EPIPE && r != -ECONNRESET && r != -ENOTCONN)
			break;
	}
	if (r == -ETIMEDOUT)
		return hwb_set_error(h, r, "timeout",
		                     "%s %s: no reply from the broker within %d ms", method, path,
		                     h->timeout_ms + extra_ms);
	return hwb_set_error(h, r, "transport", "%s %s: %s", method, path, strerror(-r));
}

int hwb_call_raw_wait(struct hwb *h, const char *method, const char *path, const char *content_type,
                      const void *body, size_t len, int extra_ms, void **reply, size_t *reply_len)
{
	struct http_reply rep = {0};
	int r;

	hwb_clear_error(h);
	h->last_status = 0;
	if (reply)
		*reply = NULL;
	if (reply_len)
		*reply_len = 0;
	r = hwb_exchange(h, method, path, content_type, body, len, extra_ms, &rep);
	if (r < 0)
		return r;
	h->last_status = rep.status;
	if (rep.status >= 300) {
		r = hwb_error_from_reply(h, rep.status, rep.body, rep.body_len);
		free(rep.body);
		return r;
	}
	if (reply) {
		*reply = rep.body;
		rep.body = NULL;
	}
	if (reply_len)
		*reply_len = rep.body_len;
	free(rep.body);
	return rep.status;
}

int hwb_call_raw(struct hwb *h, const char *method, const char *path, const char *content_type,
                 const void *body, size_t len, void **reply, size_t *reply_len)
{
	return hwb_call_raw_wait(h, method, path, content_type, body, len, 0, reply, reply_len);
}

int hwb_call_json(struct hwb *h, const char *method, const char *path, const json_t *body,
                  json_t **reply)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL, *out = NULL;
	size_t out_len = 0;
	json_error_t jerr;
	int r;

	if (body && !text)
		return hwb_set_error(h, -ENOMEM, "transport", "out of memory");
	if (reply)
		*reply = NULL;
	r = hwb_call_raw(h, method, path, text ? "application/json" : NULL, text,
	                 text ? strlen(text) : 0, (void **)&out, &out_len);
	free(text);
	if (r < 0)
		return r;
	if (reply && out_len) {
		*reply = json_loadb(out, out_len, 0, &jerr);
		if (!*reply) {
			free(out);
			return hwb_set_error(h, -EBADMSG, "transport", "malformed JSON reply: %s",
			                     jerr.text);
		}
	}
	free(out);
	return r;
}

int hwb_path(char *buf, size_t len, const char *fmt, ...)
{
	static const char safe[] =
	        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
	size_t used = 0;
	va_list ap;

	va_start(ap, fmt);
	for (const char *f = fmt; *f; f++) {
		char tmp[32];
		const char *arg = NULL;
		if (*f != '%') {
			if (used + 1 >= len)
				goto too_long;
			buf[used++] = *f;
			continue;
		}
		f++;
		if (*f == 's') {
			arg = va_arg(ap, const char *);
			for (const unsigned char *p = (const unsigned char *)(arg ? arg : ""); *p;
			     p++) {
				if (used + 4 >= len)
					goto too_long;
				if (strchr(safe, *p) && *p)
					buf[used++] = (char)*p;
				else
					used += (size_t)snprintf(buf + used, len - used, "%%%02X",
					                         *p);
			}
			continue;
		}
		if (*f == 'u')
			snprintf(tmp, sizeof(tmp), "%u", va_arg(ap, unsigned));
		else if (*f == 'd')
			snprintf(tmp, sizeof(tmp), "%d", va_arg(ap, int));
		else if (*f == '%')
			snprintf(tmp, sizeof(tmp), "%%");
		else
			goto too_long;
		if (used + strlen(tmp) >= len)
			goto too_long;
		memcpy(buf + used, tmp, strlen(tmp));
		used += strlen(tmp);
	}
	va_end(ap);
	buf[used] = '\0';
	return 0;
too_long:
	va_end(ap);
	return -ENAMETOOLONG;
}

HWB_EXPORT int hwb_request(struct hwb *h, const char *method, const char *path,
                           const char *json_body, char **reply)
{
	return hwb_call_raw(h, method, path, json_body ? "application/json" : NULL, json_body,
	                    json_body ? strlen(json_body) : 0, (void **)reply, NULL);
}

HWB_EXPORT int hwb_whoami(struct hwb *h, char **service, char **grants_json)
{
	json_t *reply = NULL;
	int r = hwb_call_json(h, "GET", "/v1/whoami", NULL, &reply);

	if (service)
		*service = NULL;
	if (grants_json)
		*grants_json = NULL;
	if (r < 0)
		return r;
	if (service)
		*service = strdup(json_string_value(json_object_get(reply, "service")) ?: "");
	if (grants_json)
		*grants_json = json_dumps(json_object_get(reply, "grants"), JSON_COMPACT);
	json_decref(reply);
	return 0;
}
