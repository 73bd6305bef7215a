/* Audit log: records on disk as JSON lines, queries, rotation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit.h"

static void test_records_queries_rotation(void **state)
{
	char dir[] = "/tmp/hwb-audit-XXXXXX", path[128];
	struct audit *a;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	a = audit_open(dir, 2048);
	assert_non_null(a);
	for (int i = 0; i < 40; i++) {
		json_t *rec = json_pack("{s:s,s:i,s:s}", "service", i % 2 ? "odd" : "even", "n", i,
		                        "decision", "deny");
		assert_int_equal(audit_record(a, rec), 0);
		assert_non_null(json_object_get(rec, "time"));
		json_decref(rec);
	}
	/* Rotated: the current file stays under the limit, the previous one exists. */
	snprintf(path, sizeof(path), "%s/audit.log", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size <= 2048);
	snprintf(path, sizeof(path), "%s/audit.log.1", dir);
	assert_int_equal(stat(path, &st), 0);
	json_t *odd = audit_query(a, "odd", 0, 5);
	assert_int_equal(json_array_size(odd), 5);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(odd, 4), "n")), 39);
	json_decref(odd);
	json_t *future = audit_query(a, NULL, 1LL << 62, 0);
	assert_int_equal(json_array_size(future), 0);
	json_decref(future);
	audit_close(a);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_records_queries_rotation)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
