/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzzes the HTTP edge alone: request heads, whole and in every prefix, the
 * query split and percent-decoding. Besides not crashing, what the parser
 * promises must hold: a head it accepts was never refused while it arrived
 * (no prefix of it is malformed), it fits in what was given, and what it
 * hands on (method, target, header names and values) carries no byte that
 * could end a line or a C string early. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

#define FUZZ_MAX 8192

static void fuzz_check(int cond)
{
	if (!cond)
		abort();
}

static void fuzz_check_text(const char *s)
{
	for (; *s; s++)
		fuzz_check(*s != '\r' && *s != '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[FUZZ_MAX + 1], copy[FUZZ_MAX + 1];
	struct http_head h;
	const char *args[16][2];
	int n;

	if (size > FUZZ_MAX)
		return 0;
	memcpy(buf, data, size);
	n = http_parse_head(buf, size, &h);
	fuzz_check(n == 0 || n == -EBADMSG || n == -ENOBUFS || (n > 0 && (size_t)n <= size));
	if (n <= 0)
		return 0;
	/* Every prefix of an accepted head was "still arriving". */
	for (size_t k = 0; k < (size_t)n; k += 1 + k / 8) {
		struct http_head p;
		memcpy(copy, data, k);
		fuzz_check(http_parse_head(copy, k, &p) == 0);
	}
	fuzz_check(h.target[0] == '/');
	fuzz_check(strlen(h.method) > 0);
	fuzz_check_text(h.target);
	for (size_t i = 0; i < h.n_headers; i++) {
		fuzz_check(h.headers[i].name[0] != '\0');
		fuzz_check_text(h.headers[i].name);
		fuzz_check_text(h.headers[i].value);
	}
	fuzz_check(!h.has_length || h.content_length < 1000000000000000000ull);
	/* Decoding never yields a NUL inside, nor a slash from %2F. */
	size_t before = strlen(h.target), slashes = 0, after;
	for (const char *p = h.target; *p; p++)
		slashes += *p == '/';
	after = http_unescape(h.target);
	fuzz_check(after == strlen(h.target) && after <= before);
	for (const char *p = h.target; *p; p++)
		slashes -= *p == '/';
	fuzz_check(slashes == 0);
	if (h.query) {
		int k = http_split_query(h.query, args, 16);
		fuzz_check(k >= -E2BIG && k <= 16);
		for (int i = 0; i < k; i++)
			fuzz_check(args[i][0][0] != '\0' && args[i][1] != NULL);
	}
	return 0;
}
