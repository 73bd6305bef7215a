/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal HTTP/1.1 client side for libhwbroker: exactly what the broker
 * speaks, bounded (head 16 KiB, body 16 MiB). Private. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_HEAD (16 * 1024)
#define HTTP_MAX_BODY (16u << 20)

struct http_head {
	int status;
	bool chunked;
	bool close;
	long long content_length; /* -1: none */
};

struct http_reply {
	int status;
	bool close;
	char *body; /* malloc'd, NUL-terminated */
	size_t body_len;
};

/* Chunked-transfer decoder state for streams. */
struct http_dechunk {
	int state; /* 0 size line, 1 data, 2 CRLF after data, 3 trailers, 4 done */
	size_t remaining;
	char line[32];
	size_t line_len;
};

/* Deadlines are CLOCK_MONOTONIC milliseconds: every wait below gives up with
 * -ETIMEDOUT once the deadline passed. HTTP_NO_DEADLINE waits for ever. */
#define HTTP_NO_DEADLINE INT64_MAX
int64_t http_now_ms(void);
/* now + timeout_ms (timeout_ms > 0). */
int64_t http_deadline(int timeout_ms);
/* Waits until fd is ready for events (POLLIN/POLLOUT); 0 or -ETIMEDOUT/-errno. */
int http_wait(int fd, short events, int64_t deadline);
/* recv() that waits at most until deadline for the first byte; 0 at EOF. */
ssize_t http_recv(int fd, void *buf, size_t len, int64_t deadline);

int http_send_request(int fd, const char *method, const char *path, const char *content_type,
                      const void *body, size_t len, const char *extra_headers, int64_t deadline);
/* Reads and parses a response head; bytes read past it go to *rest (malloc'd). */
int http_read_head(int fd, struct http_head *hd, char **rest, size_t *rest_len, int64_t deadline);
/* A whole response (head and body), all of it before deadline. */
int http_read_reply(int fd, struct http_reply *reply, int64_t deadline);
/* Decodes in[0..in_len) into out (at most out_cap); *consumed input bytes.
 * Returns decoded byte count, or -EBADMSG. d->state == 4 at the end. */
ssize_t http_dechunk(struct http_dechunk *d, const char *in, size_t in_len, char *out,
                     size_t out_cap, size_t *consumed);
