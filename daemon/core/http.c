/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP/1.1 request heads, parsed in place. Strict where leniency would let
 * two readers of the same bytes disagree (request smuggling): one
 * Content-Length or several equal ones, no Transfer-Encoding (our bodies are
 * small and bounded), no folded headers, no control bytes; lenient only
 * about bare LF line ends, which every peer reads the same way. */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

static bool http_is_token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Field values: visible ASCII, space, tab and obs-text; no CR, LF or NUL. */
static bool http_is_value_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* The line at p (up to e): its end before an optional CR, and *next after
 * its LF. NULL while the LF has not arrived. */
static char *http_line_end(char *p, char *e, char **next)
{
	char *nl = memchr(p, '\n', (size_t)(e - p));

	if (!nl)
		return NULL;
	*next = nl + 1;
	return nl > p && nl[-1] == '\r' ? nl - 1 : nl;
}

/* An incomplete request line is refused as soon as it cannot become valid,
 * so that garbage is answered at once rather than at the head timeout. */
static int http_check_partial_line(const char *p, const char *e)
{
	size_t i = 0, n = (size_t)(e - p);

	while (i < n && p[i] >= 'A' && p[i] <= 'Z')
		i++;
	if (i == n)
		return i < sizeof(((struct http_head *)0)->method) ? 0 : -EBADMSG;
	if (i == 0 || i >= sizeof(((struct http_head *)0)->method) || p[i] != ' ')
		return -EBADMSG;
	if (i + 1 < n && p[i + 1] != '/')
		return -EBADMSG;
	return 0;
}

static int http_parse_request_line(char *p, char *end, struct http_head *h)
{
	char *sp = memchr(p, ' ', (size_t)(end - p));
	char *target, *vsp;
	size_t mlen;

	if (!sp)
		return -EBADMSG;
	mlen = (size_t)(sp - p);
	if (mlen == 0 || mlen >= sizeof(h->method))
		return -EBADMSG;
	for (size_t i = 0; i < mlen; i++)
		if (p[i] < 'A' || p[i] > 'Z')
			return -EBADMSG;
	memcpy(h->method, p, mlen);
	h->method[mlen] = '\0';
	target = sp + 1;
	if (target >= end || *target != '/')
		return -EBADMSG;
	for (vsp = target; vsp < end && *vsp != ' '; vsp++)
		if ((unsigned char)*vsp <= 0x20 || (unsigned char)*vsp >= 0x7f)
			return -EBADMSG;
	if (end - vsp != 9 || memcmp(vsp, " HTTP/1.", 8) != 0 || (vsp[8] != '0' && vsp[8] != '1'))
		return -EBADMSG;
	h->http11 = vsp[8] == '1';
	*vsp = '\0';
	h->target = target;
	h->query = strchr(target, '?');
	if (h->query)
		*h->query++ = '\0';
	return 0;
}

/* Does a comma-separated header value name this token? */
static bool http_has_token(const char *value, const char *token)
{
	size_t tlen = strlen(token);

	for (const char *p = value; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *s = p;
		while (*p && *p != ',')
			p++;
		const char *e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if ((size_t)(e - s) == tlen && !strncasecmp(s, token, tlen))
			return true;
	}
	return false;
}

static int http_parse_length(const char *v, struct http_head *h)
{
	unsigned long long n = 0;
	size_t digits = strlen(v);

	if (digits == 0 || digits > 18)
		return -EBADMSG;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EBADMSG;
		n = n * 10 + (unsigned long long)(*p - '0');
	}
	if (h->has_length && h->content_length != n)
		return -EBADMSG;
	h->has_length = true;
	h->content_length = n;
	return 0;
}

/* name: value, made two C strings in place. */
static int http_parse_header(char *p, char *end, struct http_head *h)
{
	char *colon = memchr(p, ':', (size_t)(end - p));
	char *v, *ve;

	if (*p == ' ' || *p == '\t')
		return -EBADMSG; /* obsolete line folding */
	if (!colon || colon == p)
		return -EBADMSG;
	for (char *n = p; n < colon; n++)
		if (!http_is_token_char((unsigned char)*n))
			return -EBADMSG;
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	for (ve = end; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
		;
	for (char *c = v; c < ve; c++)
		if (!http_is_value_char((unsigned char)*c))
			return -EBADMSG;
	if (h->n_headers == HTTP_MAX_HEADERS)
		return -ENOBUFS;
	*colon = '\0';
	*ve = '\0';
	h->headers[h->n_headers].name = p;
	h->headers[h->n_headers].value = v;
	h->n_headers++;
	if (!strcasecmp(p, "content-length"))
		return http_parse_length(v, h);
	if (!strcasecmp(p, "transfer-encoding"))
		return -EBADMSG;
	if (!strcasecmp(p, "connection")) {
		if (http_has_token(v, "close"))
			h->keep_alive = false;
		else if (http_has_token(v, "keep-alive"))
			h->keep_alive = true;
	} else if (!strcasecmp(p, "expect") && !strcasecmp(v, "100-continue")) {
		h->expect_continue = true;
	}
	return 0;
}

int http_parse_head(char *buf, size_t len, struct http_head *h)
{
	char *e = buf + len, *p = buf, *next, *end;
	bool has_host = false;
	int r;

	memset(h, 0, sizeof(*h));
	end = http_line_end(p, e, &next);
	if (!end)
		return http_check_partial_line(buf, e);
	/* Nothing is written into buf until the whole head is here: a partial
	 * head is parsed again from the start when more arrives. */
	if (!memmem(buf, len, "\n\r\n", 3) && !memmem(buf, len, "\n\n", 2))
		return http_check_partial_line(p, end);
	if ((r = http_parse_request_line(p, end, h)) < 0)
		return r;
	h->keep_alive = h->http11;
	for (p = next;; p = next) {
		end = http_line_end(p, e, &next);
		if (!end)
			return -EBADMSG; /* cannot happen: the blank line is in buf */
		if (end == p)
			break;
		for (char *c = p; c < end; c++)
			if (*c == '\r' || *c == '\0')
				return -EBADMSG;
		if ((r = http_parse_header(p, end, h)) < 0)
			return r;
		if (!strcasecmp(h->headers[h->n_headers - 1].name, "host"))
			has_host = true;
	}
	if (h->http11 && !has_host)
		return -EBADMSG;
	h->len = (size_t)(next - buf);
	return (int)h->len;
}

const char *http_head_get(const struct http_head *h, const char *name)
{
	for (size_t i = 0; i < h->n_headers; i++)
		if (!strcasecmp(h->headers[i].name, name))
			return h->headers[i].value;
	return NULL;
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

/* Decodes s[0..n) into out; "%00" and "%2F" are kept as they are. */
static size_t http_decode(const char *s, size_t n, char *out)
{
	char *w = out;

	for (size_t i = 0; i < n;) {
		int hi, lo;
		if (s[i] == '%' && i + 2 < n && (hi = http_hex(s[i + 1])) >= 0 &&
		    (lo = http_hex(s[i + 2])) >= 0 && (hi || lo) && !(hi == 2 && lo == 0xf)) {
			*w++ = (char)(hi * 16 + lo);
			i += 3;
			continue;
		}
		*w++ = s[i++];
	}
	*w = '\0';
	return (size_t)(w - out);
}

size_t http_unescape(char *s)
{
	return http_decode(s, strlen(s), s);
}

int http_split_query(char *query, const char *(*args)[2], size_t max)
{
	size_t n = 0;

	for (char *p = query; p && *p;) {
		char *amp = strchr(p, '&'), *eq;

		if (amp)
			*amp = '\0';
		eq = strchr(p, '=');
		if (*p && eq != p) { /* a pair without a key names nothing */
			if (n == max)
				return -E2BIG;
			if (eq)
				*eq = '\0';
			http_unescape(p);
			args[n][0] = p;
			args[n][1] = eq ? eq + 1 : "";
			if (eq)
				http_unescape(eq + 1);
			n++;
		}
		p = amp ? amp + 1 : NULL;
	}
	return (int)n;
}

static const struct {
	unsigned status;
	const char *reason;
} http_reasons[] = {
        {100, "Continue"},
        {101, "Switching Protocols"},
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {204, "No Content"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {410, "Gone"},
        {411, "Length Required"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {415, "Unsupported Media Type"},
        {422, "Unprocessable Content"},
        {423, "Locked"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {507, "Insufficient Storage"},
};

const char *http_reason(unsigned status)
{
	for (size_t i = 0; i < sizeof(http_reasons) / sizeof(http_reasons[0]); i++)
		if (http_reasons[i].status == status)
			return http_reasons[i].reason;
	return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
}

const char *http_date(void)
{
	static char date[40];
	static time_t cached = -1;
	time_t now = time(NULL);
	struct tm tm;

	if (now != cached && gmtime_r(&now, &tm)) {
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		cached = now;
	}
	return date;
}

size_t http_format_refusal(char *buf, size_t size, unsigned status, const char *code,
                           const char *msg)
{
	char body[256];
	int blen = snprintf(body, sizeof(body),
	                    "{\"error\":{\"code\":\"%s\",\"message\":\"%s\",\"hint\":\"\"}}\n",
	                    code, msg);
	int n = snprintf(buf, size,
	                 "HTTP/1.1 %u %s\r\nDate: %s\r\nContent-Type: application/json\r\n"
	                 "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
	                 status, http_reason(status), http_date(), blen, body);

	return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

void http_refuse(int fd, unsigned status, const char *code, const char *msg)
{
	char buf[HTTP_REFUSAL_MAX];
	size_t n = http_format_refusal(buf, sizeof(buf), status, code, msg);

	/* Best effort: the socket is fresh, its buffer has room. */
	if (send(fd, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		(void)0; /* the client may be gone already */
	/* Closing with unread input would reset the connection before the
	 * client reads our reply: drain what is there (bounded). */
	shutdown(fd, SHUT_WR);
	for (int i = 0; i < 16 && recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0; i++)
		;
}
