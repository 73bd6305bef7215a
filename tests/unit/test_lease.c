/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Leases: one holder, kinds, release, sweeping. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "lease.h"

static bool sweep_conn7(const struct lease *l, void *data)
{
	(*(int *)data)++;
	return l->kind == LEASE_CONNECTION && l->conn_id == 7;
}

static void test_leases(void **state)
{
	struct lease_table *t = lease_table_new();
	const char *other = NULL;
	int seen = 0;

	assert_null(lease_find(t, "gpio:gpiochip0:17"));
	assert_int_equal(lease_acquire(t, "gpio:gpiochip0:17", "a", LEASE_PERSISTENT, 1, NULL), 0);
	assert_int_equal(lease_acquire(t, "gpio:gpiochip0:17", "b", LEASE_PERSISTENT, 2, &other),
	                 -EBUSY);
	assert_string_equal(other, "a");
	/* The holder may change its lease's kind. */
	assert_int_equal(lease_acquire(t, "gpio:gpiochip0:17", "a", LEASE_CONNECTION, 7, NULL), 0);
	assert_int_equal(lease_find(t, "gpio:gpiochip0:17")->kind, LEASE_CONNECTION);
	assert_int_equal(lease_acquire(t, "uart:ttyS0", "b", LEASE_CONNECTION, 8, NULL), 0);
	lease_sweep(t, sweep_conn7, &seen);
	assert_int_equal(seen, 2);
	assert_null(lease_find(t, "gpio:gpiochip0:17"));
	assert_non_null(lease_find(t, "uart:ttyS0"));
	assert_int_equal(lease_release(t, "uart:ttyS0"), 0);
	assert_int_equal(lease_release(t, "uart:ttyS0"), -ENOENT);
	char longname[200];
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(lease_acquire(t, longname, "a", LEASE_PERSISTENT, 0, NULL), -ENAMETOOLONG);
	lease_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_leases)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
