/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP/1.1 as hwbrokerd speaks it: request heads parsed in place, reply
 * heads written, percent-decoding that never yields a NUL or a slash.
 * Pure functions over bytes (the request fuzzer and test_http drive them). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define HTTP_MAX_HEADERS 32

struct http_header {
	const char *name; /* NUL-terminated in the parsed buffer */
	const char *value;
};

struct http_head {
	char method[16];
	char *target; /* path, then '?' and the query: NUL-terminated in the buffer */
	char *query;  /* after '?', or NULL */
	bool http11;
	bool keep_alive; /* what the client asked, after its version's default */
	bool expect_continue;
	bool has_length;
	unsigned long long content_length;
	size_t n_headers;
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t len; /* bytes of the head, its blank line included */
};

/* Parses the head at the start of buf, writing NULs into it so that the
 * target and every header are C strings. Returns the head's length (> 0)
 * when it is complete and well-formed, 0 while it may still be arriving,
 * -EBADMSG when it is malformed (bad request line, header syntax, control
 * bytes, a bad or contradictory Content-Length, Transfer-Encoding, no Host
 * in HTTP/1.1), -ENOBUFS for more than HTTP_MAX_HEADERS headers. */
int http_parse_head(char *buf, size_t len, struct http_head *h);

/* The value of a header (case-insensitive name), or NULL. */
const char *http_head_get(const struct http_head *h, const char *name);

/* Splits a query ("a=1&b=2") in place into at most max decoded pairs (a
 * key without '=' has the value ""; a pair without a key is skipped).
 * Returns the number of pairs, or -E2BIG when there are more. */
int http_split_query(char *query, const char *(*args)[2], size_t max);

/* Percent-decodes s in place. "%00" and "%2F" stay encoded: decoded they
 * would cut a C string short or split a path segment. Returns the length. */
size_t http_unescape(char *s);

/* The reason phrase of a status ("Not Found"). */
const char *http_reason(unsigned status);

/* The Date header's value for now (cached per second). */
const char *http_date(void);

/* A whole JSON error reply with Connection: close (our messages, not the
 * client's bytes): its length, at most size - 1. */
#define HTTP_REFUSAL_MAX 640
size_t http_format_refusal(char *buf, size_t size, unsigned status, const char *code,
                           const char *msg);
/* Writes that reply on a fresh socket and drains what the client sent
 * (best effort; the caller closes fd). */
void http_refuse(int fd, unsigned status, const char *code, const char *msg);
