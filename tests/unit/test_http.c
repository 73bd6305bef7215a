/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Request heads as hwbrokerd reads them: what is accepted, what is refused
 * (and where two readers of the same bytes could disagree), and the
 * percent-decoding that never yields a NUL or a slash. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static char buf[8192];

static int parse(const char *text, struct http_head *h)
{
	size_t len = strlen(text);

	memcpy(buf, text, len + 1);
	return http_parse_head(buf, len, h);
}

static void test_a_whole_head(void **state)
{
	struct http_head h;
	const char *text = "PUT /v1/gpio/gpiochip0/5?lease=connection HTTP/1.1\r\n"
	                   "Host: x\r\nContent-Length:  11 \r\nX-Empty:\r\n\r\n{\"value\":1}";
	int n = parse(text, &h);

	assert_int_equal(n, (int)(strstr(text, "{") - text));
	assert_string_equal(h.method, "PUT");
	assert_string_equal(h.target, "/v1/gpio/gpiochip0/5");
	assert_string_equal(h.query, "lease=connection");
	assert_true(h.http11);
	assert_true(h.keep_alive);
	assert_true(h.has_length);
	assert_int_equal(h.content_length, 11);
	assert_string_equal(http_head_get(&h, "content-length"), "11");
	assert_string_equal(http_head_get(&h, "X-EMPTY"), "");
	assert_null(http_head_get(&h, "Upgrade"));
	/* the body is untouched */
	assert_string_equal(buf + n, "{\"value\":1}");
}

static void test_versions_and_connection(void **state)
{
	struct http_head h;

	assert_true(parse("GET / HTTP/1.0\r\n\r\n", &h) > 0);
	assert_false(h.http11);
	assert_false(h.keep_alive);
	assert_true(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &h) > 0);
	assert_true(h.keep_alive);
	assert_true(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n", &h) > 0);
	assert_false(h.keep_alive);
	assert_true(parse("GET / HTTP/1.1\nHost: x\n\n", &h) > 0); /* bare LF */
	assert_true(parse("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
	                  "Content-Length: 5\r\n\r\n",
	                  &h) > 0);
	assert_true(h.expect_continue);
}

static void test_incomplete_heads_wait(void **state)
{
	struct http_head h;

	assert_int_equal(parse("", &h), 0);
	assert_int_equal(parse("GE", &h), 0);
	assert_int_equal(parse("GET /v1/wh", &h), 0);
	assert_int_equal(parse("GET /v1/whoami HTTP/1.1\r\nHost: x\r\n", &h), 0);
	/* nothing was written into a head still arriving */
	assert_string_equal(buf, "GET /v1/whoami HTTP/1.1\r\nHost: x\r\n");
}

static void test_malformed_heads_are_refused(void **state)
{
	static const char *bad[] = {
	        "get / HTTP/1.1\r\nHost: x\r\n\r\n",
	        "GET\r\n\r\n",
	        "GET /v1/whoami FTP/9\r\n\r\n",
	        "GET /v1/whoami HTTP/2.0\r\nHost: x\r\n\r\n",
	        "GET http://x/v1/whoami HTTP/1.1\r\nHost: x\r\n\r\n",
	        "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
	        "GET / HTTP/1.1\r\n\r\n", /* no Host */
	        "GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",
	        "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
	        "GET / HTTP/1.1\r\nHost: x\r\n folded: 1\r\n\r\n",
	        "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
	        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
	        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
	        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n",
	        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n",
	        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
	        "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	};
	struct http_head h;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &h) != -EBADMSG)
			fail_msg("not refused: %s", bad[i]);
	/* garbage is refused before a head could be complete */
	assert_int_equal(parse("\x16\x03\x01\x02", &h), -EBADMSG);
	assert_int_equal(parse("GET x", &h), -EBADMSG);
	/* equal duplicates agree */
	assert_true(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
	                  "Content-Length: 2\r\n\r\n",
	                  &h) > 0);
	assert_int_equal(h.content_length, 2);
}

static void test_too_many_headers(void **state)
{
	struct http_head h;
	size_t len = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nHost: x\r\n");

	for (int i = 0; i < HTTP_MAX_HEADERS; i++)
		len += (size_t)sprintf(buf + len, "X-%d: %d\r\n", i, i);
	len += (size_t)sprintf(buf + len, "\r\n");
	assert_int_equal(http_parse_head(buf, len, &h), -ENOBUFS);
}

static void test_unescape_keeps_nul_and_slash_encoded(void **state)
{
	char s[64];

	strcpy(s, "/v1/gpio/gpio%63hip0/%35");
	http_unescape(s);
	assert_string_equal(s, "/v1/gpio/gpiochip0/5");
	strcpy(s, "/a%00b/c%2Fd%2fe%");
	http_unescape(s);
	assert_string_equal(s, "/a%00b/c%2Fd%2fe%");
	strcpy(s, "%4");
	http_unescape(s);
	assert_string_equal(s, "%4");
}

static void test_query_pairs(void **state)
{
	char q[] = "edge=both&&lease=conn%65ction&=nokey&flag&a%3Db=1";
	const char *args[4][2];
	char many[] = "a&b&c&d&e";

	assert_int_equal(http_split_query(q, args, 4), 4);
	assert_string_equal(args[0][0], "edge");
	assert_string_equal(args[0][1], "both");
	assert_string_equal(args[1][1], "connection");
	assert_string_equal(args[2][0], "flag");
	assert_string_equal(args[2][1], "");
	assert_string_equal(args[3][0], "a=b");
	assert_int_equal(http_split_query(many, args, 4), -E2BIG);
}

static void test_reasons(void **state)
{
	assert_string_equal(http_reason(404), "Not Found");
	assert_string_equal(http_reason(431), "Request Header Fields Too Large");
	assert_string_equal(http_reason(499), "Client Error");
	assert_int_equal(strlen(http_date()), 29);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_a_whole_head),
	        cmocka_unit_test(test_versions_and_connection),
	        cmocka_unit_test(test_incomplete_heads_wait),
	        cmocka_unit_test(test_malformed_heads_are_refused),
	        cmocka_unit_test(test_too_many_headers),
	        cmocka_unit_test(test_unescape_keeps_nul_and_slash_encoded),
	        cmocka_unit_test(test_query_pairs),
	        cmocka_unit_test(test_reasons),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
