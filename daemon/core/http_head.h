/* SPDX-License-Identifier: GPL-2.0-or-later */
/* First look at a request head, early refusals, percent-decoding. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct MHD_Connection;

/* The head as far as it is in buf: every header a token, a colon and a
 * value; a numeric Content-Length, no Transfer-Encoding; Host in HTTP/1.1.
 * True while it is still arriving. */
bool http_head_ok(const char *buf, size_t len);
/* Writes a JSON error reply with Connection: close on a fresh socket and
 * drains what the client sent (best effort; the caller closes fd). */
void http_refuse(int fd, unsigned status, const char *code, const char *msg);
/* MHD's unescape callback: "%00" and "%2F" stay encoded. */
size_t http_unescape(void *cls, struct MHD_Connection *c, char *s);
