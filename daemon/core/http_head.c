/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The edge of HTTP that libmicrohttpd does not do our way: a first look at
 * the request head (MHD answers malformed heads in HTML; we answer in JSON),
 * refusals written before MHD sees a connection, and percent-decoding that
 * never produces a NUL or a slash. Pure functions over bytes and an fd. */
#include "http_head.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* MHD's own 400 replies to malformed HTTP are HTML. On a fresh connection we
 * look at the request head first (without consuming it) so that garbage gets
 * our JSON error; later requests on a kept-alive connection are MHD's alone. */
static bool http_is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool http_request_line_ok(const char *buf, size_t len, bool *http11)
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

static bool http_header_ok(const char *line, size_t len, bool *has_host)
{
	const char *colon = memchr(line, ':', len);
	size_t nlen;

	if (!colon || colon == line)
		return false;
	nlen = (size_t)(colon - line);
	for (size_t i = 0; i < nlen; i++)
		if (!http_is_token_char(line[i]))
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
bool http_head_ok(const char *buf, size_t len)
{
	bool http11 = false, has_host = false;
	const char *p, *nl, *e = buf + len;

	if (!http_request_line_ok(buf, len, &http11))
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
		if (!http_header_ok(p, l, &has_host))
			return false;
	}
	return true;
}

void http_refuse(int fd, unsigned status, const char *code, const char *msg)
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
		(void)0; /* the client may be gone already */
	/* Closing with unread input would reset the connection before the
	 * client reads our reply: drain what is there (bounded). */
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 16 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
}

static int http_hex(char c)
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
size_t http_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	char *r = s, *w = s;

	while (*r) {
		int hi, lo;
		if (r[0] == '%' && (hi = http_hex(r[1])) >= 0 && (lo = http_hex(r[2])) >= 0 &&
		    (hi || lo) && !(hi == 2 && (lo == 0xf))) {
			*w++ = (char)(hi * 16 + lo);
			r += 3;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}
