/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "http.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t http_deadline(int timeout_ms)
{
	return http_now_ms() + timeout_ms;
}

int http_wait(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline == HTTP_NO_DEADLINE ? -1 : deadline - http_now_ms();
		struct pollfd p = {fd, events, 0};

		if (deadline != HTTP_NO_DEADLINE && left <= 0)
			return -ETIMEDOUT;
		int n = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n < 0 && errno != EINTR)
			return -errno;
		/* POLLHUP/POLLERR: the next send/recv reports what happened. */
		if (n > 0)
			return 0;
	}
}

/* The socket stays in blocking mode (stream reads use it so); every call
 * here is MSG_DONTWAIT and waits in poll() against the deadline instead. */
static int http_write_all(int fd, const void *buf, size_t len, int64_t deadline)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			int r = http_wait(fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int http_send_request(int fd, const char *method, const char *path, const char *content_type,
                      const void *body, size_t len, const char *extra_headers, int64_t deadline)
{
	char head[2048];
	int n;

	n = snprintf(head, sizeof(head),
	             "%s %s HTTP/1.1\r\nHost: hwbroker\r\nUser-Agent: libhwbroker\r\n%s%s%s"
	             "Content-Length: %zu\r\n%s\r\n",
	             method, path, content_type ? "Content-Type: " : "",
	             content_type ? content_type : "", content_type ? "\r\n" : "", len,
	             extra_headers ? extra_headers : "");
	if (n < 0 || (size_t)n >= sizeof(head))
		return -ENAMETOOLONG;
	int r = http_write_all(fd, head, (size_t)n, deadline);
	if (r == 0 && len)
		r = http_write_all(fd, body, len, deadline);
	return r;
}

ssize_t http_recv(int fd, void *buf, size_t len, int64_t deadline)
{
	for (;;) {
		ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		int r = http_wait(fd, POLLIN, deadline);
		if (r < 0)
			return r;
	}
}

static void http_parse_head(char *head, struct http_head *hd)
{
	char *save = NULL, *line = strtok_r(head, "\r\n", &save);

	hd->status = 0;
	hd->chunked = hd->close = false;
	hd->content_length = -1;
	if (line && !strncmp(line, "HTTP/1.", 7) && strlen(line) >= 12) {
		hd->status = atoi(line + 9);
		if (line[7] == '0')
			hd->close = true;
	}
	while ((line = strtok_r(NULL, "\r\n", &save))) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		char *v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (!strcasecmp(line, "Content-Length"))
			hd->content_length = strtoll(v, NULL, 10);
		else if (!strcasecmp(line, "Transfer-Encoding") && strcasestr(v, "chunked"))
			hd->chunked = true;
		else if (!strcasecmp(line, "Connection") && strcasestr(v, "close"))
			hd->close = true;
	}
}

int http_read_head(int fd, struct http_head *hd, char **rest, size_t *rest_len, int64_t deadline)
{
	char *buf = malloc(HTTP_MAX_HEAD + 1), *end;
	size_t used = 0;

	*rest = NULL;
	*rest_len = 0;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n = http_recv(fd, buf + used, HTTP_MAX_HEAD - used, deadline);
		if (n <= 0) {
			free(buf);
			/* EOF before a reply: the peer closed an idle keep-alive connection. */
			return n == 0 ? (used ? -EPROTO : -ECONNRESET) : (int)n;
		}
		used += (size_t)n;
		buf[used] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end)
			break;
		if (used == HTTP_MAX_HEAD) {
			free(buf);
			return -E2BIG;
		}
	}
	size_t head_len = (size_t)(end - buf) + 4;
	if (used > head_len) {
		*rest_len = used - head_len;
		*rest = malloc(*rest_len + 1);
		if (!*rest) {
			free(buf);
			return -ENOMEM;
		}
		memcpy(*rest, buf + head_len, *rest_len);
	}
	end[2] = '\0';
	http_parse_head(buf, hd);
	free(buf);
	return hd->status >= 100 ? 0 : -EPROTO;
}

ssize_t http_dechunk(struct http_dechunk *d, const char *in, size_t in_len, char *out,
                     size_t out_cap, size_t *consumed)
{
	size_t i = 0, o = 0;

	while (i < in_len && d->state != 4) {
		char c = in[i];
		switch (d->state) {
		case 0: /* size line */
		case 3: /* trailer lines after the last chunk */
			i++;
			if (c == '\n') {
				d->line[d->line_len] = '\0';
				if (d->state == 3) {
					if (d->line_len == 0 ||
					    (d->line_len == 1 && d->line[0] == '\r'))
						d->state = 4;
					d->line_len = 0;
					break;
				}
				char *e;
				unsigned long long sz = strtoull(d->line, &e, 16);
				if (e == d->line || sz > (1ull << 30))
					return -EBADMSG;
				d->line_len = 0;
				d->remaining = (size_t)sz;
				d->state = sz ? 1 : 3;
			} else if (d->line_len + 1 < sizeof(d->line)) {
				d->line[d->line_len++] = c;
			}
			break;
		case 1: {
			size_t take = in_len - i;
			if (take > d->remaining)
				take = d->remaining;
			if (take > out_cap - o)
				take = out_cap - o;
			if (!take)
				goto out;
			memcpy(out + o, in + i, take);
			o += take;
			i += take;
			d->remaining -= take;
			if (!d->remaining)
				d->state = 2;
			break;
		}
		case 2:
			i++;
			if (c == '\n')
				d->state = 0;
			break;
		}
	}
out:
	*consumed = i;
	return (ssize_t)o;
}

static int http_append(struct http_reply *r, const char *data, size_t len)
{
	if (r->body_len + len > HTTP_MAX_BODY)
		return -E2BIG;
	char *nb = realloc(r->body, r->body_len + len + 1);
	if (!nb)
		return -ENOMEM;
	r->body = nb;
	if (len)
		memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return 0;
}

int http_read_reply(int fd, struct http_reply *reply, int64_t deadline)
{
	struct http_head hd;
	struct http_dechunk dc = {0};
	char *rest = NULL, buf[16384], out[16384];
	size_t rest_len = 0;
	int r;

	memset(reply, 0, sizeof(*reply));
	r = http_read_head(fd, &hd, &rest, &rest_len, deadline);
	if (r < 0)
		return r;
	reply->status = hd.status;
	reply->close = hd.close;
	if (hd.status == 204 || hd.status == 304 || hd.status < 200)
		hd.content_length = 0;
	const char *in = rest;
	size_t in_len = rest_len;
	for (;;) {
		if (hd.chunked) {
			while (in_len && dc.state != 4) {
				size_t used;
				ssize_t n = http_dechunk(&dc, in, in_len, out, sizeof(out), &used);
				if (n < 0 || (r = http_append(reply, out, (size_t)n)) < 0) {
					r = n < 0 ? (int)n : r;
					goto fail;
				}
				in += used;
				in_len -= used;
			}
			if (dc.state == 4)
				break;
		} else {
			if ((r = http_append(reply, in, in_len)) < 0)
				goto fail;
			in_len = 0;
			if (hd.content_length >= 0 &&
			    (long long)reply->body_len >= hd.content_length)
				break;
		}
		ssize_t n = http_recv(fd, buf, sizeof(buf), deadline);
		if (n < 0) {
			r = (int)n;
			goto fail;
		}
		if (n == 0) {
			if (!hd.chunked && hd.content_length < 0)
				break; /* body delimited by close */
			r = -EPROTO;
			goto fail;
		}
		in = buf;
		in_len = (size_t)n;
	}
	if (!reply->body)
		http_append(reply, "", 0);
	free(rest);
	return 0;
fail:
	free(rest);
	free(reply->body);
	reply->body = NULL;
	return r;
}
