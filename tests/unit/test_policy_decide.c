/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The decision function against a deliberately simple reference: random
 * declarations (devices with random permissions, random narrowing labels)
 * and random requests; both must agree on every request. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

#define BUSES 4
#define CHIPS 3
#define LINES 40

/* The reference: explicit tables, filled the obvious way. */
struct model {
	int i2c[BUSES][128]; /* 0 none, 1 ro, 3 rw */
	int gpio[CHIPS][LINES];
};

static unsigned rnd(unsigned n)
{
	return (unsigned)rand() % n;
}

static void add_list(char *buf, size_t len, unsigned lo, unsigned hi, bool hex)
{
	size_t used = strlen(buf);

	if (lo == hi)
		snprintf(buf + used, len - used, hex ? "0x%x" : "%u", lo);
	else
		snprintf(buf + used, len - used, hex ? "0x%x-0x%x" : "%u-%u", lo, hi);
}

/* One random service: its compose JSON and the model of what it may do. */
static json_t *random_service(struct model *m)
{
	json_t *devices = json_array(), *labels = json_object();
	int dev_i2c[BUSES] = {0}, dev_gpio[CHIPS] = {0};
	char i2c_label[1024] = "", gpio_label[1024] = "", d[64];
	bool have_i2c_label = false, have_gpio_label = false;

	memset(m, 0, sizeof(*m));
	for (unsigned b = 0; b < BUSES; b++) {
		if (rnd(2)) {
			dev_i2c[b] = rnd(2) ? 3 : 1;
			snprintf(d, sizeof(d), "/dev/i2c-%u:/dev/i2c-%u:%s", b, b,
			         dev_i2c[b] == 3 ? "rw" : "r");
			json_array_append_new(devices, json_string(d));
		}
	}
	for (unsigned c = 0; c < CHIPS; c++) {
		if (rnd(2)) {
			dev_gpio[c] = rnd(3) ? 3 : 1;
			snprintf(d, sizeof(d), "/dev/gpiochip%u%s", c,
			         dev_gpio[c] == 3 ? "" : ":/dev/g:r");
			json_array_append_new(devices, json_string(d));
		}
	}
	/* Labels: the reference says what docs/policy.md says. */
	if (rnd(2)) {
		have_i2c_label = true;
		for (unsigned b = 0; b < BUSES; b++) {
			if (!rnd(2))
				continue;
			size_t used = strlen(i2c_label);
			snprintf(i2c_label + used, sizeof(i2c_label) - used,
			         "%s%u=", used ? ";" : "", b);
			if (!rnd(4)) {
				strcat(i2c_label, "*");
				for (unsigned a = 3; a <= 0x77; a++)
					m->i2c[b][a] = dev_i2c[b] ? dev_i2c[b] : 3;
				continue;
			}
			unsigned n = 1 + rnd(3);
			for (unsigned k = 0; k < n; k++) {
				unsigned lo = rnd(128), hi = lo + rnd(5);
				if (hi > 127)
					hi = 127;
				if (k)
					strcat(i2c_label, ",");
				add_list(i2c_label, sizeof(i2c_label), lo, hi, rnd(2));
				for (unsigned a = lo; a <= hi; a++)
					m->i2c[b][a] = dev_i2c[b] ? dev_i2c[b] : 3;
			}
		}
		if (!i2c_label[0]) {
			have_i2c_label = false;
		}
	}
	if (!have_i2c_label)
		for (unsigned b = 0; b < BUSES; b++)
			for (unsigned a = 3; a <= 0x77; a++)
				m->i2c[b][a] = dev_i2c[b];
	if (rnd(2)) {
		have_gpio_label = true;
		for (unsigned c = 0; c < CHIPS; c++) {
			if (!rnd(2))
				continue;
			size_t used = strlen(gpio_label);
			snprintf(gpio_label + used, sizeof(gpio_label) - used,
			         "%sgpiochip%u=", used ? ";" : "", c);
			unsigned n = 1 + rnd(3);
			for (unsigned k = 0; k < n; k++) {
				unsigned lo = rnd(LINES), hi = lo + rnd(4);
				if (hi >= LINES)
					hi = LINES - 1;
				if (k)
					strcat(gpio_label, ",");
				add_list(gpio_label, sizeof(gpio_label), lo, hi, false);
				for (unsigned l = lo; l <= hi; l++)
					m->gpio[c][l] = dev_gpio[c] ? dev_gpio[c] : 3;
			}
		}
		if (!gpio_label[0])
			have_gpio_label = false;
	}
	if (!have_gpio_label)
		for (unsigned c = 0; c < CHIPS; c++)
			for (unsigned l = 0; l < LINES; l++)
				m->gpio[c][l] = dev_gpio[c];
	if (have_i2c_label)
		json_object_set_new(labels, "io.hwbroker.i2c", json_string(i2c_label));
	if (have_gpio_label)
		json_object_set_new(labels, "io.hwbroker.gpio", json_string(gpio_label));
	return json_pack("{s:o,s:o}", "devices", devices, "labels", labels);
}

static void test_random_policies_agree_with_the_reference(void **state)
{
	struct model m;

	srand(20261122);
	for (int round = 0; round < 400; round++) {
		json_t *svc = random_service(&m), *errors = NULL;
		struct policy *p = NULL;
		int r = policy_derive("rnd", svc, &p, &errors);
		if (r != 0)
			fail_msg("derive failed for %s: %s", json_dumps(svc, JSON_COMPACT),
			         json_dumps(errors, JSON_COMPACT));
		for (int q = 0; q < 200; q++) {
			struct policy_decision d;
			struct policy_request req = {0};
			unsigned access = rnd(2) ? POLICY_READ : POLICY_READ | POLICY_WRITE;
			char chip[16];
			int have;
			req.access = access;
			if (rnd(2)) {
				req.kind = POLICY_I2C;
				req.bus = rnd(BUSES);
				req.addr = rnd(128);
				have = m.i2c[req.bus][req.addr];
			} else {
				unsigned c = rnd(CHIPS);
				snprintf(chip, sizeof(chip), "gpiochip%u", c);
				req.kind = POLICY_GPIO;
				req.chip = chip;
				req.line = rnd(LINES);
				have = m.gpio[c][req.line];
			}
			bool expect = have && ((unsigned)have & access) == access;
			bool got = policy_allows(p, &req, &d);
			if (got != expect)
				fail_msg("round %d: %s: %s %u/%u access %u: got %d, reference %d",
				         round, json_dumps(svc, JSON_COMPACT),
				         req.kind == POLICY_I2C ? "i2c" : "gpio",
				         req.kind == POLICY_I2C ? req.bus : 0,
				         req.kind == POLICY_I2C ? req.addr : req.line, access, got,
				         expect);
			assert_int_equal(d.allowed, got);
			if (!got)
				assert_true(d.grant[0] && d.hint[0]);
			else
				assert_true(d.provenance[0] != '\0');
		}
		policy_free(p);
		json_decref(svc);
	}
}

static void test_messages(void **state)
{
	json_t *svc = json_pack("{s:[s],s:{s:s}}", "devices", "/dev/i2c-1:/dev/i2c-1:r", "labels",
	                        "io.hwbroker.gpio", "gpiochip0=GPIO17");
	struct policy *p;
	struct policy_decision d;
	json_t *errors;

	assert_int_equal(policy_derive("s", svc, &p, &errors), 0);
	struct policy_request w = {
	        .kind = POLICY_I2C, .access = POLICY_READ | POLICY_WRITE, .bus = 1, .addr = 0x76};
	assert_false(policy_allows(p, &w, &d));
	assert_string_equal(d.grant, "i2c bus 1 address 0x76 rw");
	assert_non_null(strstr(d.hint, "read-only"));
	struct policy_request r2 = {
	        .kind = POLICY_I2C, .access = POLICY_READ, .bus = 1, .addr = 0x76};
	assert_true(policy_allows(p, &r2, &d));
	assert_string_equal(d.provenance, "devices: /dev/i2c-1:/dev/i2c-1:r");
	struct policy_request g = {.kind = POLICY_GPIO,
	                           .access = POLICY_READ,
	                           .chip = "gpiochip0",
	                           .line = 17,
	                           .line_name = "GPIO17"};
	assert_true(policy_allows(p, &g, &d));
	g.line_name = "GPIO18";
	g.line = 18;
	assert_false(policy_allows(p, &g, &d));
	assert_non_null(strstr(d.hint, "io.hwbroker.gpio"));
	struct policy_request h = {.kind = POLICY_HOST, .action = "reboot"};
	assert_false(policy_allows(p, &h, &d));
	assert_non_null(strstr(d.hint, "SYS_BOOT"));
	struct policy_request rs = {
	        .kind = POLICY_I2C, .access = POLICY_READ, .bus = 1, .addr = 0x01};
	assert_false(policy_allows(p, &rs, &d));
	assert_non_null(strstr(d.hint, "reserved"));
	policy_free(p);
	json_decref(svc);
}

/* A hint names only what would grant the request given what the service
 * already declares: with a label narrowing a kind, a device entry would not
 * help, so the hint widens the label. */
static void test_hints_fit_the_declaration(void **state)
{
	json_t *svc = json_pack("{s:[s,s],s:{s:s,s:s,s:s}}", "devices", "/dev/gpiochip0",
	                        "/dev/i2c-1", "labels", "io.hwbroker.gpio", "gpiochip0=17,18",
	                        "io.hwbroker.i2c", "1=0x76", "io.hwbroker.host", "reboot");
	struct policy_request g = {.kind = POLICY_GPIO,
	                           .access = POLICY_READ | POLICY_WRITE,
	                           .chip = "gpiochip0",
	                           .chip_label = "pinctrl-sim",
	                           .line = 22,
	                           .line_name = "GPIO22"};
	struct policy_request i = {
	        .kind = POLICY_I2C, .access = POLICY_READ, .bus = 1, .addr = 0x50};
	struct policy_request h = {.kind = POLICY_HOST, .action = "hostname"};
	struct policy_decision d;
	struct policy *p;
	json_t *errors;

	assert_int_equal(policy_derive("s", svc, &p, &errors), 0);
	assert_false(policy_allows(p, &g, &d));
	assert_string_equal(d.hint, "widen label io.hwbroker.gpio to \"gpiochip0=17,18,22\"");
	g.chip = "gpiochip1";
	g.chip_label = "sim-expander";
	g.line = 3;
	assert_false(policy_allows(p, &g, &d));
	assert_string_equal(d.hint,
	                    "widen label io.hwbroker.gpio to \"gpiochip0=17,18;gpiochip1=3\"");
	assert_false(policy_allows(p, &i, &d));
	assert_string_equal(d.hint, "widen label io.hwbroker.i2c to \"1=0x76,0x50\"");
	assert_false(policy_allows(p, &h, &d));
	assert_string_equal(d.hint, "widen label io.hwbroker.host to \"reboot,hostname\"");
	policy_free(p);
	json_decref(svc);

	/* Without labels, the device entry is the way (or a label for just that). */
	svc = json_pack("{s:[]}", "devices");
	assert_int_equal(policy_derive("s", svc, &p, &errors), 0);
	assert_false(policy_allows(p, &g, &d));
	assert_null(strstr(d.hint, "widen"));
	assert_non_null(strstr(d.hint, "add devices: /dev/gpiochip1"));
	policy_free(p);
	json_decref(svc);
}

/* A narrowing label never widens: a read-only device entry stays read-only
 * when the label names the chip by its label rather than its kernel name. */
static void test_narrowing_label_keeps_read_only(void **state)
{
	json_t *svc = json_pack("{s:[s,s],s:{s:s}}", "devices", "/dev/gpiochip0:/dev/gpiochip0:r",
	                        "/dev/i2c/1", "labels", "io.hwbroker.gpio", "pinctrl-bcm2711=17");
	struct policy_request g = {.kind = POLICY_GPIO,
	                           .access = POLICY_READ,
	                           .chip = "gpiochip0",
	                           .chip_label = "pinctrl-bcm2711",
	                           .line = 17,
	                           .line_name = "GPIO17"};
	struct policy_request i = {
	        .kind = POLICY_I2C, .access = POLICY_READ | POLICY_WRITE, .bus = 1, .addr = 0x76};
	struct policy_decision d;
	struct policy *p;
	json_t *errors;

	assert_int_equal(policy_derive("s", svc, &p, &errors), 0);
	assert_true(policy_allows(p, &g, &d));
	g.access = POLICY_READ | POLICY_WRITE;
	assert_false(policy_allows(p, &g, &d));
	assert_non_null(strstr(d.hint, "read-only"));
	/* The narrowed device grant itself grants nothing more. */
	g.line = 18;
	g.line_name = "GPIO18";
	g.access = POLICY_READ;
	assert_false(policy_allows(p, &g, &d));
	/* /dev/i2c/1 (the udev alias) is bus 1. */
	assert_true(policy_allows(p, &i, &d));
	assert_string_equal(d.provenance, "devices: /dev/i2c/1");
	policy_free(p);
	json_decref(svc);
}

/* A direct handle needs the label and a read-write grant on the line; the
 * label alone grants nothing, and privileged does not imply it. */
static void test_direct_needs_label_and_grant(void **state)
{
	struct policy_request g = {.kind = POLICY_GPIO,
	                           .access = POLICY_READ | POLICY_WRITE | POLICY_DIRECT,
	                           .chip = "gpiochip0",
	                           .chip_label = "sim",
	                           .line = 17,
	                           .line_name = "GPIO17"};
	static const char *const cases[][3] = {
	        /* devices, direct label, expected */
	        {"/dev/gpiochip0", "1", "allowed"},
	        {"/dev/gpiochip0", "0", "denied"},
	        {"/dev/gpiochip0", NULL, "denied"},
	        {"/dev/gpiochip0:/dev/gpiochip0:r", "1", "denied"},
	        {NULL, "1", "denied"},
	        {"privileged", NULL, "denied"},
	};
	struct policy_decision d;
	struct policy *p;
	json_t *errors;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *svc = json_object(), *labels = json_object();
		if (cases[i][0] && !strcmp(cases[i][0], "privileged"))
			json_object_set_new(svc, "privileged", json_true());
		else if (cases[i][0])
			json_object_set_new(svc, "devices", json_pack("[s]", cases[i][0]));
		if (cases[i][1])
			json_object_set_new(labels, "io.hwbroker.gpio.direct",
			                    json_string(cases[i][1]));
		json_object_set_new(svc, "labels", labels);
		assert_int_equal(policy_derive("s", svc, &p, &errors), 0);
		assert_int_equal(policy_allows(p, &g, &d), !strcmp(cases[i][2], "allowed"));
		if (!d.allowed && cases[i][0] && cases[i][1] && !strcmp(cases[i][1], "0"))
			assert_non_null(strstr(d.hint, "io.hwbroker.gpio.direct"));
		policy_free(p);
		json_decref(svc);
	}
	/* A value that is neither yes nor no is an error, not a silent no. */
	json_t *bad = json_pack("{s:{s:s}}", "labels", "io.hwbroker.gpio.direct", "maybe");
	assert_int_equal(policy_derive("s", bad, &p, &errors), -EINVAL);
	json_decref(errors);
	json_decref(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_random_policies_agree_with_the_reference),
	        cmocka_unit_test(test_messages),
	        cmocka_unit_test(test_hints_fit_the_declaration),
	        cmocka_unit_test(test_narrowing_label_keeps_read_only),
	        cmocka_unit_test(test_direct_needs_label_and_grant),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
