/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private to libhwbroker: the transport every area's calls go through. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "hwbroker.h"

#define HWB_EXPORT __attribute__((visibility("default")))

/* One request on the handle's keep-alive connection (reconnects once if the
 * broker closed an idle connection). body is borrowed (NULL: no body).
 * On 2xx: returns the status and *reply (NULL if the body was empty or
 * reply==NULL) which the caller owns (json_decref). On an error reply: sets
 * the handle's error from the JSON error body and returns the mapped -errno.
 * Path components must already be escaped by the caller (hwb_path()). */
int hwb_call_json(struct hwb *h, const char *method, const char *path, const json_t *body,
                  json_t **reply);

/* Same with a raw body (content_type may be NULL) and a raw reply (*reply
 * malloc'd, NUL-terminated for convenience, *reply_len bytes of data). */
int hwb_call_raw(struct hwb *h, const char *method, const char *path, const char *content_type,
                 const void *body, size_t len, void **reply, size_t *reply_len);

/* hwb_call_raw() for a request the broker itself holds up to extra_ms
 * (UART reads): the handle's timeout plus extra_ms bounds it. */
int hwb_call_raw_wait(struct hwb *h, const char *method, const char *path, const char *content_type,
                      const void *body, size_t len, int extra_ms, void **reply, size_t *reply_len);

/* The handle's timeout, its socket path, and a connection bounded by it. */
int hwb_timeout(const struct hwb *h);
const char *hwb_socket_path(const struct hwb *h);
int hwb_socket_connect(const char *path, int timeout_ms);
/* Sets h's error for a failed connect (err from hwb_socket_connect) and returns err. */
int hwb_connect_error(struct hwb *h, int err);
/* Fills h's error from an error reply and returns the mapped errno. */
int hwb_error_from_reply(struct hwb *h, int status, const char *body, size_t len);
int hwb_status_errno(int status);

/* Sized structs (hwbroker.h): the caller's size must cover at least the
 * first version's members, which end at LAST. */
#define HWB_SIZE_V1(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))
#define HWB_MIN(a, b)           ((a) < (b) ? (a) : (b))

/* Builds "/v1/..." from printf-style parts, percent-escaping %s arguments
 * that are not safe path characters. Returns 0 or -ENAMETOOLONG. */
int hwb_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Sets the handle's error (code, message, hint may be NULL) and returns err. */
int hwb_set_error(struct hwb *h, int err, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Streaming GET on a new, dedicated connection to the same socket: sends the
 * request, reads the response head; on a non-2xx reply sets h's error and
 * returns NULL with *err = -errno. The stream decodes chunked transfer
 * encoding. Caller frees with hwb_stream_close(). */
struct hwb_stream;
struct hwb_stream *hwb_stream_open(struct hwb *h, const char *path, int *err);
int hwb_stream_fd(const struct hwb_stream *s); /* poll this for POLLIN */
/* Copies decoded body bytes that are available without blocking (when
 * nonblock) or waits for at least one byte. Returns the count, 0 at the end
 * of the stream, -EAGAIN when nonblock and nothing is ready, or -errno. */
ssize_t hwb_stream_read(struct hwb_stream *s, void *buf, size_t len, bool nonblock);
/* Next complete line (without '\n') into *line (borrowed until the next call).
 * Returns its length, 0 at end of stream, -EAGAIN (nonblock), or -errno. */
ssize_t hwb_stream_read_line(struct hwb_stream *s, const char **line, bool nonblock);
void hwb_stream_close(struct hwb_stream *s);

/* HTTP Upgrade on a new connection (GET, or POST with a JSON body): on 101
 * returns the raw socket fd, which the caller closes. The reply head is read
 * exactly: whatever the broker sends after it is still in the socket. */
int hwb_upgrade(struct hwb *h, const char *path, const char *protocol, const char *json_body);
