/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Audit log: records on disk as JSON lines written by the writer thread,
 * queries, rotation with generations, denials rate-limited and kept apart
 * from host actions, and the completion of a record that could not be
 * written. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit.h"
#include "loop.h"
#include "writer.h"

struct fixture {
	char dir[64];
	struct loop *loop;
	struct writer *writer;
	struct audit *audit;
};

static struct audit_origin origin(const char *service)
{
	struct audit_origin o = {.pid = 42, .uid = 1000, .gid = 1000, .request = 7};

	snprintf(o.service, sizeof(o.service), "%s", service);
	snprintf(o.method, sizeof(o.method), "POST");
	snprintf(o.path, sizeof(o.path), "/v1/host/reboot");
	return o;
}

static void fixture_open(struct fixture *f, size_t max_bytes, unsigned gens, unsigned denials)
{
	struct audit_options opt = {f->dir, max_bytes, gens, denials};

	snprintf(f->dir, sizeof(f->dir), "/tmp/hwb-audit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->loop = loop_new();
	f->writer = writer_new(f->loop);
	assert_non_null(f->writer);
	f->audit = audit_open(&opt, f->loop, f->writer);
	assert_non_null(f->audit);
}

static void fixture_close(struct fixture *f)
{
	char cmd[128];

	audit_close(f->audit);
	writer_free(f->writer);
	loop_free(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
}

static void on_written(void *data, int err)
{
	*(int *)data = err == 0 ? 1 : err;
}

static void test_records_queries_rotation(void **state)
{
	struct fixture f;
	char path[128];
	struct stat st;

	fixture_open(&f, 2048, 3, 1000);
	for (int i = 0; i < 60; i++) {
		struct audit_origin o = origin(i % 2 ? "odd" : "even");
		assert_int_equal(
		        audit_write(f.audit, &o, "done", json_pack("{s:i}", "n", i), NULL, NULL),
		        0);
	}
	audit_flush(f.audit);
	/* Rotated: the current file under the limit, three generations kept. */
	snprintf(path, sizeof(path), "%s/audit.log", f.dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size <= 2048);
	for (int g = 1; g <= 3; g++) {
		snprintf(path, sizeof(path), "%s/audit.log.%d", f.dir, g);
		assert_int_equal(stat(path, &st), 0);
	}
	snprintf(path, sizeof(path), "%s/audit.log.4", f.dir);
	assert_int_equal(stat(path, &st), -1);
	json_t *odd = audit_query(f.audit, "odd", 0, 5);
	assert_int_equal(json_array_size(odd), 5);
	json_t *last = json_array_get(odd, 4);
	assert_int_equal(json_integer_value(json_object_get(last, "n")), 59);
	/* A record stands on its own. */
	assert_string_equal(json_string_value(json_object_get(last, "event")), "done");
	assert_string_equal(json_string_value(json_object_get(last, "path")), "/v1/host/reboot");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(last, "peer"), "pid")),
	                 42);
	assert_non_null(json_object_get(last, "time_us"));
	json_decref(odd);
	json_t *future = audit_query(f.audit, NULL, 1LL << 62, 0);
	assert_int_equal(json_array_size(future), 0);
	json_decref(future);
	fixture_close(&f);
}

/* A flood of denials can neither push host actions out of the log nor be
 * written one by one past the rate: the next record says how many were not. */
static void test_denials_are_rate_limited_and_kept_apart(void **state)
{
	struct fixture f;
	struct audit_origin o = origin("noisy");
	int written = 0;
	size_t denials = 0;
	json_int_t dropped = 0;

	fixture_open(&f, 4096, 1, 5);
	assert_int_equal(audit_write(f.audit, &o, "allow", json_pack("{s:s}", "action", "reboot"),
	                             on_written, &written),
	                 0);
	assert_int_equal(written, 0); /* never before the record is on disk */
	for (int i = 0; i < 500; i++)
		audit_write(f.audit, &o, "deny", json_pack("{s:s}", "refused", "gpio"), NULL, NULL);
	audit_flush(f.audit);
	assert_int_equal(written, 1);
	json_t *all = audit_query(f.audit, NULL, 0, 1000);
	bool host_kept = false;
	size_t i;
	json_t *rec;
	json_array_foreach(all, i, rec)
	{
		const char *event = json_string_value(json_object_get(rec, "event"));
		if (!strcmp(event, "allow"))
			host_kept = true;
		if (!strcmp(event, "deny"))
			denials++;
		dropped += json_integer_value(json_object_get(rec, "dropped"));
	}
	assert_true(host_kept);
	assert_int_equal(denials, 5); /* the rate, within the second the loop took */
	json_decref(all);
	/* Counted, not lost: the summary (once a second) says how many. */
	struct audit_origin later = origin("noisy");
	sleep(1);
	audit_write(f.audit, &later, "deny", json_pack("{s:s}", "refused", "gpio"), NULL, NULL);
	audit_flush(f.audit);
	all = audit_query(f.audit, "noisy", 0, 1000);
	dropped = 0;
	json_array_foreach(all, i, rec) dropped +=
	        json_integer_value(json_object_get(rec, "dropped"));
	assert_int_equal(dropped, 495);
	json_decref(all);
	fixture_close(&f);
}

/* A record that cannot be written says so to whoever waits for it. */
static void test_unwritable_log_reports_the_error(void **state)
{
	struct fixture f;
	struct audit_origin o = origin("s");
	char path[128];
	int written = 0;

	fixture_open(&f, 4096, 1, 5);
	/* The log's directory goes: rotation cannot reopen the file. */
	for (int i = 0; i < 200 && written >= 0; i++) {
		if (i == 1) {
			snprintf(path, sizeof(path), "rm -rf %s", f.dir);
			assert_int_equal(system(path), 0);
		}
		written = 0;
		audit_write(
		        f.audit, &o, "allow",
		        json_pack(
		                "{s:s,s:s}", "action", "reboot", "pad",
		                "................................................................"),
		        on_written, &written);
		audit_flush(f.audit);
	}
	assert_true(written < 0);
	assert_int_equal(mkdir(f.dir, 0700), 0);
	fixture_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_records_queries_rotation),
	        cmocka_unit_test(test_denials_are_rate_limited_and_kept_apart),
	        cmocka_unit_test(test_unwritable_log_reports_the_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
