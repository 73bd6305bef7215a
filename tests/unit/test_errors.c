/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The errno -> status/code table is the wire contract. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "errors.h"

static void check(int err, unsigned status, const char *code)
{
	struct error_kind k = errors_from_errno(err);
	assert_int_equal(k.status, status);
	assert_string_equal(k.code, code);
	k = errors_from_errno(-err);
	assert_int_equal(k.status, status);
}

static void test_table(void **state)
{
	check(EBADMSG, 400, "bad_request");
	check(EACCES, 403, "forbidden");
	check(ENOENT, 404, "not_found");
	check(EBUSY, 409, "conflict");
	check(EALREADY, 409, "conflict");
	check(E2BIG, 413, "too_large");
	check(EINVAL, 422, "invalid");
	check(EOPNOTSUPP, 422, "invalid");
	check(EAGAIN, 429, "rate_limited");
	check(EREMOTEIO, 502, "nack");
	check(ENODEV, 503, "unavailable");
	check(ETIMEDOUT, 504, "timeout");
	check(ENOMEM, 500, "internal");
	check(0x7fff, 500, "internal");
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_table)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
