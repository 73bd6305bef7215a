/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Streaming replies (GPIO events, UART bytes) and HTTP Upgrade, each on its
 * own connection so the handle's keep-alive connection stays free. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_private.h"
#include "http.h"

#define STREAM_BUF      16384
#define STREAM_MAX_LINE 65536

struct hwb_stream {
	int fd;
	bool chunked, eof;
	struct http_dechunk dc;
	char raw[STREAM_BUF]; /* bytes received, not yet decoded */
	size_t raw_off, raw_len;
	char *line; /* decoded bytes waiting for a newline */
	size_t line_len, line_cap;
	size_t line_consumed;
};

/* Reads the whole error reply on fd (until deadline) and sets h's error from it. */
static int stream_fail(struct hwb *h, int fd, const struct http_head *hd, char *rest,
                       size_t rest_len, int64_t deadline)
{
	char buf[4096];
	size_t len = rest_len < sizeof(buf) - 1 ? rest_len : sizeof(buf) - 1;
	ssize_t n;

	memcpy(buf, rest ? rest : "", len);
	while (hd->content_length > (long long)len && len < sizeof(buf) - 1 &&
	       (n = http_recv(fd, buf + len, sizeof(buf) - 1 - len, deadline)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return hwb_error_from_reply(h, hd->status, buf, len);
}

/* Sets h's error for a failed stream or upgrade request and returns r. */
static int stream_request_error(struct hwb *h, const char *path, int r)
{
	if (r == -ETIMEDOUT)
		return hwb_set_error(h, r, "timeout",
		                     "GET %s: no reply from the broker within %d ms", path,
		                     hwb_timeout(h));
	return hwb_set_error(h, r, "transport", "GET %s: %s", path, strerror(-r));
}

struct hwb_stream *hwb_stream_open(struct hwb *h, const char *path, int *err)
{
	int64_t deadline = http_deadline(hwb_timeout(h));
	struct hwb_stream *s;
	struct http_head hd;
	char *rest = NULL;
	size_t rest_len = 0;
	int fd = hwb_socket_connect(hwb_socket_path(h), hwb_timeout(h)), r;

	if (fd < 0) {
		*err = hwb_connect_error(h, fd);
		return NULL;
	}
	r = http_send_request(fd, "GET", path, NULL, NULL, 0, NULL, deadline);
	if (r == 0)
		r = http_read_head(fd, &hd, &rest, &rest_len, deadline);
	if (r < 0) {
		*err = stream_request_error(h, path, r);
		goto close_fd;
	}
	if (hd.status < 200 || hd.status >= 300) {
		*err = stream_fail(h, fd, &hd, rest, rest_len, deadline);
		goto close_fd;
	}
	s = calloc(1, sizeof(*s));
	if (!s || rest_len > sizeof(s->raw)) {
		free(s);
		*err = -ENOMEM;
		goto close_fd;
	}
	s->fd = fd;
	s->chunked = hd.chunked;
	memcpy(s->raw, rest ? rest : "", rest_len);
	s->raw_len = rest_len;
	free(rest);
	return s;
close_fd:
	free(rest);
	close(fd);
	return NULL;
}

int hwb_stream_fd(const struct hwb_stream *s)
{
	return s->fd;
}

/* Decodes buffered raw bytes into out. */
static size_t stream_decode(struct hwb_stream *s, char *out, size_t cap)
{
	size_t used, n;

	if (!s->chunked) {
		n = s->raw_len - s->raw_off < cap ? s->raw_len - s->raw_off : cap;
		memcpy(out, s->raw + s->raw_off, n);
		s->raw_off += n;
		return n;
	}
	ssize_t d =
	        http_dechunk(&s->dc, s->raw + s->raw_off, s->raw_len - s->raw_off, out, cap, &used);
	s->raw_off += used;
	if (d < 0 || s->dc.state == 4)
		s->eof = true;
	return d < 0 ? 0 : (size_t)d;
}

static int stream_fill(struct hwb_stream *s, bool nonblock)
{
	ssize_t n;

	if (s->raw_off == s->raw_len)
		s->raw_off = s->raw_len = 0;
	do
		n = recv(s->fd, s->raw + s->raw_len, sizeof(s->raw) - s->raw_len,
		         nonblock ? MSG_DONTWAIT : 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n == 0) {
		s->eof = true;
		return 0;
	}
	s->raw_len += (size_t)n;
	return 1;
}

ssize_t hwb_stream_read(struct hwb_stream *s, void *buf, size_t len, bool nonblock)
{
	for (;;) {
		size_t n = stream_decode(s, buf, len);
		if (n)
			return (ssize_t)n;
		if (s->eof)
			return 0;
		int r = stream_fill(s, nonblock);
		if (r < 0)
			return r;
	}
}

ssize_t hwb_stream_read_line(struct hwb_stream *s, const char **line, bool nonblock)
{
	/* Drop the line handed out last time. */
	if (s->line_consumed) {
		memmove(s->line, s->line + s->line_consumed, s->line_len - s->line_consumed);
		s->line_len -= s->line_consumed;
		s->line_consumed = 0;
	}
	for (;;) {
		char *nl = s->line ? memchr(s->line, '\n', s->line_len) : NULL;
		if (nl) {
			*nl = '\0';
			s->line_consumed = (size_t)(nl - s->line) + 1;
			*line = s->line;
			return (ssize_t)(nl - s->line);
		}
		if (s->line_len + 4096 > s->line_cap) {
			if (s->line_cap >= STREAM_MAX_LINE)
				return -E2BIG;
			char *nb = realloc(s->line, s->line_cap + 8192);
			if (!nb)
				return -ENOMEM;
			s->line = nb;
			s->line_cap += 8192;
		}
		ssize_t n = hwb_stream_read(s, s->line + s->line_len, s->line_cap - s->line_len,
		                            nonblock);
		if (n <= 0)
			return n;
		s->line_len += (size_t)n;
	}
}

void hwb_stream_close(struct hwb_stream *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s->line);
	free(s);
}

/* The head is read byte by byte: whatever follows it belongs to the raw
 * pipe and must stay in the socket for the caller. */
static int upgrade_read_head(int fd, struct http_head *hd, char *buf, size_t max, int64_t deadline)
{
	size_t used = 0;

	while (used + 1 < max) {
		ssize_t n = http_recv(fd, buf + used, 1, deadline);
		if (n <= 0)
			return n == 0 ? -EPROTO : (int)n;
		used++;
		buf[used] = '\0';
		if (used >= 4 && !memcmp(buf + used - 4, "\r\n\r\n", 4)) {
			int status = 0;
			if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
				return -EPROTO;
			memset(hd, 0, sizeof(*hd));
			hd->status = status;
			hd->content_length = -1;
			const char *cl = strcasestr(buf, "\r\ncontent-length:");
			if (cl)
				hd->content_length = strtoll(cl + 17, NULL, 10);
			return 0;
		}
	}
	return -E2BIG;
}

int hwb_upgrade(struct hwb *h, const char *path, const char *protocol, const char *json_body)
{
	int64_t deadline = http_deadline(hwb_timeout(h));
	char extra[160], head[4096];
	struct http_head hd = {0};
	int fd = hwb_socket_connect(hwb_socket_path(h), hwb_timeout(h)), r;

	if (fd < 0)
		return hwb_connect_error(h, fd);
	snprintf(extra, sizeof(extra), "Connection: Upgrade\r\nUpgrade: %s\r\n", protocol);
	r = http_send_request(fd, json_body ? "POST" : "GET", path,
	                      json_body ? "application/json" : NULL, json_body,
	                      json_body ? strlen(json_body) : 0, extra, deadline);
	if (r == 0)
		r = upgrade_read_head(fd, &hd, head, sizeof(head), deadline);
	if (r < 0) {
		close(fd);
		return stream_request_error(h, path, r);
	}
	if (hd.status != 101) {
		r = stream_fail(h, fd, &hd, NULL, 0, deadline);
		close(fd);
		return r < 0 ? r : -EPROTO;
	}
	return fd;
}
