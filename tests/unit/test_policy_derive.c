/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Derivation from realistic compose files: each case is a compose file, the
 * service to derive and the grants expected ("kind resource access", in
 * order) or the error expected (label and position). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"

struct derive_case {
	const char *name;
	const char *yaml;
	const char *expect; /* "kind resource access;..." or "ERR label position" */
};

static const struct derive_case cases[] = {
        {"i2c sensor", "services:\n  s:\n    devices: [\"/dev/i2c-1\"]\n    cap_add: [SYS_RAWIO]\n",
         "i2c bus 1 addresses 0x03-0x77 rw"},
        {"gps logger", "services:\n  s:\n    devices:\n      - /dev/ttyACM0\n", "uart ttyACM0 rw"},
        {"kiosk", "services:\n  s:\n    privileged: true\n",
         "gpio all chips, all lines rw;i2c all buses, addresses 0x03-0x77 rw;uart all ports rw;"
         "host all host actions -;unit all units -"},
        {"wifi-connect",
         "services:\n  s:\n    labels:\n      io.balena.features.dbus: '1'\n"
         "    cap_add: [NET_ADMIN]\n    network_mode: host\n",
         "host hostname -;host time -;host reboot -;host poweroff -"},
        {"reboot helper",
         "services:\n  s:\n    labels:\n      io.balena.features.supervisor-api: 1\n",
         "host reboot -;host poweroff -"},
        {"legacy resin dbus", "services:\n  s:\n    labels:\n      io.resin.features.dbus: 1\n",
         "host hostname -;host time -;host reboot -;host poweroff -"},
        {"legacy resin supervisor",
         "services:\n  s:\n    labels:\n      - io.resin.features.supervisor-api=true\n",
         "host reboot -;host poweroff -"},
        {"read-only i2c", "services:\n  s:\n    devices: [\"/dev/i2c-1:/dev/i2c-1:r\"]\n",
         "i2c bus 1 addresses 0x03-0x77 ro"},
        {"rm perms", "services:\n  s:\n    devices: [\"/dev/i2c-1:/dev/i2c-1:rm\"]\n",
         "i2c bus 1 addresses 0x03-0x77 ro"},
        {"rwm perms", "services:\n  s:\n    devices: [\"/dev/i2c-1:/dev/i2c-1:rwm\"]\n",
         "i2c bus 1 addresses 0x03-0x77 rw"},
        {"narrowing i2c",
         "services:\n  s:\n    devices: [/dev/i2c-1]\n    labels:\n      io.hwbroker.i2c: "
         "\"1=0x76\"\n",
         "i2c bus 1 addresses 0x76 rw"},
        {"narrowing keeps read-only",
         "services:\n  s:\n    devices: [\"/dev/i2c-1:/dev/i2c-1:r\"]\n"
         "    labels:\n      io.hwbroker.i2c: \"1=0x48,0x76\"\n",
         "i2c bus 1 addresses 0x48,0x76 ro"},
        {"narrowing drops other buses",
         "services:\n  s:\n    devices: [/dev/i2c-0, /dev/i2c-1]\n"
         "    labels:\n      io.hwbroker.i2c: \"1=0x40-0x4f\"\n",
         "i2c bus 1 addresses 0x40-0x4f rw"},
        {"label grants without device",
         "services:\n  s:\n    labels:\n      io.hwbroker.i2c: \"1=*\"\n",
         "i2c bus 1 addresses 0x03-0x77 rw"},
        {"reserved addresses only by name",
         "services:\n  s:\n    labels:\n      io.hwbroker.i2c: \"2=0x00-0x02,0x78\"\n",
         "i2c bus 2 addresses 0x00-0x02,0x78 rw"},
        {"gpio chip", "services:\n  s:\n    devices: [/dev/gpiochip0]\n",
         "gpio gpiochip0 all lines rw"},
        {"gpio narrowing",
         "services:\n  s:\n    devices: [/dev/gpiochip0]\n    labels:\n"
         "      io.hwbroker.gpio: \"gpiochip0=17,18,22-27;gpiochip1=*\"\n",
         "gpio gpiochip0 lines 17,18,22-27 rw;gpio gpiochip1 all lines rw"},
        {"gpio names",
         "services:\n  s:\n    labels:\n      io.hwbroker.gpio: \"0=GPIO17, GPIO27\"\n",
         "gpio gpiochip0 lines GPIO17,GPIO27 rw"},
        {"gpiomem", "services:\n  s:\n    devices: [/dev/gpiomem]\n",
         "gpio all chips, all lines rw"},
        {"dev mem with rawio",
         "services:\n  s:\n    devices: [/dev/mem]\n    cap_add: [SYS_RAWIO]\n",
         "gpio all chips, all lines rw"},
        {"dev mem without rawio", "services:\n  s:\n    devices: [/dev/mem]\n", ""},
        {"cap prefix", "services:\n  s:\n    cap_add: [CAP_SYS_BOOT]\n",
         "host reboot -;host poweroff -"},
        {"cap lower case", "services:\n  s:\n    cap_add: [sys_boot]\n",
         "host reboot -;host poweroff -"},
        {"labels as list", "services:\n  s:\n    labels:\n      - \"io.hwbroker.uart=ttyUSB0\"\n",
         "uart ttyUSB0 rw"},
        {"passthrough devices",
         "services:\n  s:\n    devices: [/dev/dri, \"/dev/snd:/dev/snd\", /dev/video0, "
         "/dev/fuse]\n",
         ""},
        {"host label",
         "services:\n  s:\n    labels:\n      io.hwbroker.host: \"reboot,hostname,time\"\n",
         "host reboot -;host hostname -;host time -"},
        {"units label",
         "services:\n  s:\n    labels:\n      io.hwbroker.units: "
         "\"my-agent.service,backup@1.timer\"\n",
         "unit my-agent.service -;unit backup@1.timer -"},
        {"host to container path", "services:\n  s:\n    devices: [\"/dev/ttyUSB0:/dev/ttyGPS\"]\n",
         "uart ttyUSB0 rw"},
        {"serial alias", "services:\n  s:\n    devices: [/dev/serial0, /dev/ttyAMA0]\n",
         "uart serial0 rw;uart ttyAMA0 rw"},
        {"by-id",
         "services:\n  s:\n    devices: [/dev/serial/by-id/usb-FTDI_FT232R_A1-if00-port0]\n",
         "uart /dev/serial/by-id/usb-FTDI_FT232R_A1-if00-port0 rw"},
        {"uart narrowing",
         "services:\n  s:\n    devices: [/dev/ttyUSB0, /dev/ttyUSB1]\n"
         "    labels:\n      io.hwbroker.uart: ttyUSB1\n",
         "uart ttyUSB1 rw"},
        {"anchors", "x-dev: &dev /dev/i2c-1\nservices:\n  s:\n    devices: [*dev]\n",
         "i2c bus 1 addresses 0x03-0x77 rw"},
        {"merge keys",
         "x-common: &common\n  cap_add: [SYS_BOOT]\n  restart: always\n"
         "services:\n  s:\n    <<: *common\n    image: x\n",
         "host reboot -;host poweroff -"},
        {"version 3 unknown keys",
         "version: '3.8'\nservices:\n  s:\n    image: a\n    deploy:\n"
         "      resources: {limits: {cpus: '0.5'}}\n    devices: [/dev/i2c-3]\n",
         "i2c bus 3 addresses 0x03-0x77 rw"},
        {"boolean label",
         "services:\n  s:\n    labels:\n      io.balena.features.supervisor-api: true\n",
         "host reboot -;host poweroff -"},
        {"false label", "services:\n  s:\n    labels:\n      io.balena.features.dbus: 'false'\n",
         ""},
        {"truthy words",
         "services:\n  s:\n    labels:\n      io.balena.features.supervisor-api: 'On'\n"
         "      io.resin.features.dbus: 'YES'\n",
         "host reboot -;host poweroff -;host hostname -;host time -"},
        {"privileged quoted", "services:\n  s:\n    privileged: \"true\"\n",
         "gpio all chips, all lines rw;i2c all buses, addresses 0x03-0x77 rw;uart all ports rw;"
         "host all host actions -;unit all units -"},
        {"nothing", "services:\n  s:\n    image: nginx\n    ports: ['80:80']\n", ""},
        {"malformed i2c", "services:\n  s:\n    labels:\n      io.hwbroker.i2c: \"1=0x76,zz\"\n",
         "ERR io.hwbroker.i2c 7"},
        {"malformed gpio range",
         "services:\n  s:\n    labels:\n      io.hwbroker.gpio: \"gpiochip0=1-\"\n",
         "ERR io.hwbroker.gpio 12"},
        {"reversed gpio range",
         "services:\n  s:\n    labels:\n      io.hwbroker.gpio: \"gpiochip0=5-3\"\n",
         "ERR io.hwbroker.gpio 10"},
        {"unknown hwbroker label", "services:\n  s:\n    labels:\n      io.hwbroker.spi: \"0\"\n",
         "ERR io.hwbroker.spi -1"},
        {"bad host action",
         "services:\n  s:\n    labels:\n      io.hwbroker.host: \"reboot,dance\"\n",
         "ERR io.hwbroker.host 7"},
        {"bad unit", "services:\n  s:\n    labels:\n      io.hwbroker.units: \"my agent\"\n",
         "ERR io.hwbroker.units 0"},
        {"10-bit address", "services:\n  s:\n    labels:\n      io.hwbroker.i2c: \"1=0x80\"\n",
         "ERR io.hwbroker.i2c 2"},
        {"missing equals", "services:\n  s:\n    labels:\n      io.hwbroker.i2c: \"1\"\n",
         "ERR io.hwbroker.i2c 1"},
        {"bad device permissions", "services:\n  s:\n    devices: [\"/dev/i2c-1:/dev/i2c-1:x\"]\n",
         "ERR - -1"},
        {"relative device", "services:\n  s:\n    devices: [\"i2c-1\"]\n", "ERR - -1"},
};

static char *fixture(const char *yaml)
{
	char *path = strdup("/tmp/hwb-compose-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	return path;
}

static void grants_text(json_t *policy, char *out, size_t len)
{
	json_t *g;
	size_t i, used = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(policy, "grants"), i, g)
	{
		const char *access = json_string_value(json_object_get(g, "access"));
		used += (size_t)snprintf(out + used, len - used, "%s%s %s %s", i ? ";" : "",
		                         json_string_value(json_object_get(g, "kind")),
		                         json_string_value(json_object_get(g, "resource")),
		                         access ? access : "-");
	}
}

static void test_cases(void **state)
{
	char err[256], got[2048];

	assert_true(sizeof(cases) / sizeof(cases[0]) >= 40);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct derive_case *c = &cases[i];
		char *path = fixture(c->yaml);
		json_t *compose, *errors = NULL;
		struct policy *p = NULL;
		int r = compose_load_yaml(path, &compose, err, sizeof(err));

		unlink(path);
		free(path);
		if (r != 0)
			fail_msg("%s: YAML: %s", c->name, err);
		r = policy_derive("s", json_object_get(json_object_get(compose, "services"), "s"),
		                  &p, &errors);
		if (!strncmp(c->expect, "ERR ", 4)) {
			char label[64];
			long pos;
			if (r != -EINVAL)
				fail_msg("%s: expected an error", c->name);
			assert_null(p);
			sscanf(c->expect + 4, "%63s %ld", label, &pos);
			json_t *e = json_array_get(errors, 0);
			const char *l = json_string_value(json_object_get(e, "label"));
			if (strcmp(label, "-") ? (!l || strcmp(l, label)) : l != NULL)
				fail_msg("%s: error label %s, expected %s", c->name, l ? l : "-",
				         label);
			json_t *jp = json_object_get(e, "position");
			if ((jp ? json_integer_value(jp) : -1) != pos)
				fail_msg("%s: error position %lld, expected %ld (%s)", c->name,
				         jp ? (long long)json_integer_value(jp) : -1LL, pos,
				         json_string_value(json_object_get(e, "message")));
			assert_string_equal(json_string_value(json_object_get(e, "service")), "s");
			json_decref(errors);
		} else {
			if (r != 0)
				fail_msg("%s: derive failed: %s", c->name,
				         json_dumps(errors, JSON_COMPACT));
			json_t *pj = policy_to_json(p);
			grants_text(pj, got, sizeof(got));
			if (strcmp(got, c->expect))
				fail_msg("%s:\n  got      %s\n  expected %s", c->name, got,
				         c->expect);
			json_decref(pj);
			policy_free(p);
		}
		json_decref(compose);
	}
}

static void test_provenance_passthrough_and_broad(void **state)
{
	json_t *svc = json_pack("{s:[s,s,s],s:[s]}", "devices", "/dev/i2c-1:/dev/i2c-1:r",
	                        "/dev/dri", "/dev/mem", "cap_add", "SYS_RAWIO");
	struct policy *p;
	json_t *errors = NULL, *pj, *g;

	assert_int_equal(policy_derive("x", svc, &p, &errors), 0);
	pj = policy_to_json(p);
	g = json_array_get(json_object_get(pj, "grants"), 0);
	assert_string_equal(json_string_value(json_object_get(g, "provenance")),
	                    "devices: /dev/i2c-1:/dev/i2c-1:r");
	g = json_array_get(json_object_get(pj, "grants"), 1);
	assert_string_equal(json_string_value(json_object_get(g, "provenance")),
	                    "devices: /dev/mem with cap_add: SYS_RAWIO");
	assert_true(json_is_true(json_object_get(g, "broad")));
	assert_true(json_is_true(json_object_get(pj, "broad")));
	assert_string_equal(
	        json_string_value(json_object_get(
	                json_array_get(json_object_get(pj, "passthrough"), 0), "device")),
	        "/dev/dri");
	json_decref(pj);
	policy_free(p);
	json_decref(svc);
}

static void test_all_errors_are_collected(void **state)
{
	json_t *svc = json_pack("{s:{s:s,s:s}}", "labels", "io.hwbroker.i2c", "1=zz",
	                        "io.hwbroker.gpio", "chip=");
	struct policy *p = NULL;
	json_t *errors = NULL;

	assert_int_equal(policy_derive("x", svc, &p, &errors), -EINVAL);
	assert_null(p);
	assert_int_equal(json_array_size(errors), 2);
	json_decref(errors);
	json_decref(svc);
}

static void test_container_id(void **state)
{
	json_t *ok = json_pack("{s:s}", "container_id", "0123456789abcdef");
	json_t *bad = json_pack("{s:s}", "container_id", "../../etc");
	struct policy *p = NULL;
	json_t *errors = NULL;

	assert_int_equal(policy_derive("x", ok, &p, &errors), 0);
	assert_string_equal(policy_container_id(p), "0123456789abcdef");
	policy_free(p);
	assert_int_equal(policy_derive("x", bad, &p, &errors), -EINVAL);
	json_decref(errors);
	json_decref(ok);
	json_decref(bad);
}

static void test_yaml_errors_and_bombs(void **state)
{
	char err[256];
	json_t *out;
	char *path = fixture("services:\n  s:\n    devices: [/dev/i2c-1\n    labels: {}\n");

	assert_int_equal(compose_load_yaml(path, &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, ":4:")); /* file:line:column */
	unlink(path);
	free(path);
	/* A "billion laughs" document is refused, not expanded. */
	path = fixture(
	        "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	        "services: {s: {labels: [*f]}}\n");
	assert_int_equal(compose_load_yaml(path, &out, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "expands"));
	unlink(path);
	free(path);
	path = fixture("just: a map\n");
	assert_int_equal(compose_load_yaml(path, &out, err, sizeof(err)), -EINVAL);
	unlink(path);
	free(path);
	assert_true(compose_load_yaml("/nonexistent.yml", &out, err, sizeof(err)) < 0);
}

static void test_service_names(void **state)
{
	assert_true(policy_valid_service_name("sensor"));
	assert_true(policy_valid_service_name("a1_b.c-d"));
	assert_true(policy_valid_service_name("0"));
	const char *bad[] = {
	        "",    "Upper", "-x",
	        ".x",  "_x",    "a/b",
	        "a b", "..",    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(policy_valid_service_name(bad[i]));
	assert_true(policy_valid_unit_name("my-agent.service"));
	assert_false(policy_valid_unit_name("../x.service"));
	assert_false(policy_valid_unit_name("noext"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_cases),
	        cmocka_unit_test(test_provenance_passthrough_and_broad),
	        cmocka_unit_test(test_all_errors_are_collected),
	        cmocka_unit_test(test_container_id),
	        cmocka_unit_test(test_yaml_errors_and_bombs),
	        cmocka_unit_test(test_service_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
