/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Options: defaults, config file, flags winning, --sim BOARD, bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static int load(struct config *cfg, char **argv)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	return config_load(cfg, argc, argv);
}

static void test_defaults(void **state)
{
	struct config cfg;
	char *argv[] = {"hwbrokerd", NULL};

	assert_int_equal(load(&cfg, argv), 0);
	assert_string_equal(cfg.runtime_dir, "/run/hwbroker");
	assert_string_equal(cfg.state_dir, "/var/lib/hwbroker");
	assert_false(cfg.sim);
	assert_string_equal(cfg.host_backend, "dbus");
	assert_int_equal(cfg.max_body, 65536);
	assert_int_equal(cfg.max_conns_per_service, 16);
	config_free(&cfg);
}

static void test_sim_with_board_and_host_default(void **state)
{
	struct config cfg;
	char *argv[] = {"hwbrokerd", "--sim", "board.json", "--runtime-dir=/tmp/x", NULL};

	assert_int_equal(load(&cfg, argv), 0);
	assert_true(cfg.sim);
	assert_string_equal(cfg.board_file, "board.json");
	assert_string_equal(cfg.runtime_dir, "/tmp/x");
	assert_string_equal(cfg.host_backend, "sim");
	config_free(&cfg);
}

static void test_file_then_flags_win(void **state)
{
	struct config cfg;
	char path[] = "/tmp/hwb-config-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fprintf(f, "# comment\n\nmax_body = 2048\nidle-timeout = 5\nlog-level = \"debug\"\n");
	fclose(f);
	char *argv[] = {"hwbrokerd", "--config", path, "--idle-timeout", "7", NULL};
	assert_int_equal(load(&cfg, argv), 0);
	assert_int_equal(cfg.max_body, 2048);
	assert_int_equal(cfg.idle_timeout_s, 7);
	assert_string_equal(cfg.log_level, "debug");
	config_free(&cfg);
	unlink(path);
}

static void test_bad_input(void **state)
{
	struct config cfg;
	char *unknown[] = {"hwbrokerd", "--nope", NULL};
	char *bad_num[] = {"hwbrokerd", "--max-conns", "-3", NULL};
	char *missing[] = {"hwbrokerd", "--state-dir", NULL};
	char *bad_host[] = {"hwbrokerd", "--host", "ssh", NULL};
	char *relative[] = {"hwbrokerd", "--runtime-dir", "run", NULL};
	char *small[] = {"hwbrokerd", "--max-body", "10", NULL};

	assert_int_equal(load(&cfg, unknown), -EINVAL);
	assert_int_equal(load(&cfg, bad_num), -EINVAL);
	assert_int_equal(load(&cfg, missing), -EINVAL);
	assert_int_equal(load(&cfg, bad_host), -EINVAL);
	assert_int_equal(load(&cfg, relative), -EINVAL);
	assert_int_equal(load(&cfg, small), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_defaults),
	        cmocka_unit_test(test_sim_with_board_and_host_default),
	        cmocka_unit_test(test_file_then_flags_win),
	        cmocka_unit_test(test_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
