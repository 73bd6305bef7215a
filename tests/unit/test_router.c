/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Router: route matching, 404/405, schema validation, path numbers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "area.h"
#include "areas.h"
#include "request.h"
#include "router.h"

/* The old shape of the call, over the daemon's own area table. */
static const struct route *match(const char *method, const char *path, unsigned kind, bool sim,
                                 struct route_params *p, unsigned *status, char *allow,
                                 size_t allow_len)
{
	struct route_match m;
	bool found = router_match(daemon_areas, method, path, kind, sim, p, &m);

	*status = m.status;
	snprintf(allow, allow_len, "%s", m.allow);
	return found ? m.route : NULL;
}

static void test_match_captures_segments(void **state)
{
	struct route_params p;
	unsigned status;
	char allow[64];
	const struct route *r;

	r = match("GET", "/v1/services/sensor", ROUTE_ADMIN, false, &p, &status, allow,
	          sizeof(allow));
	assert_non_null(r);
	assert_string_equal(r->pattern, "/v1/services/{name}");
	assert_int_equal(p.n, 1);
	assert_string_equal(p.names[0], "name");
	assert_string_equal(p.values[0], "sensor");
	/* A trailing slash names the same resource. */
	assert_non_null(match("GET", "/v1/services/", ROUTE_ADMIN, false, &p, &status, allow,
	                      sizeof(allow)));
}

static void test_match_respects_socket_kind(void **state)
{
	struct route_params p;
	unsigned status;
	char allow[64];

	assert_null(match("GET", "/v1/services", ROUTE_SERVICE, false, &p, &status, allow,
	                  sizeof(allow)));
	assert_int_equal(status, 404);
	assert_null(
	        match("GET", "/v1/whoami", ROUTE_ADMIN, false, &p, &status, allow, sizeof(allow)));
	assert_int_equal(status, 404);
	assert_non_null(match("GET", "/v1/whoami", ROUTE_SERVICE, false, &p, &status, allow,
	                      sizeof(allow)));
}

static void test_wrong_method_is_405_with_allow(void **state)
{
	struct route_params p;
	unsigned status;
	char allow[64];

	assert_null(match("POST", "/v1/services/x", ROUTE_ADMIN, false, &p, &status, allow,
	                  sizeof(allow)));
	assert_int_equal(status, 405);
	assert_non_null(strstr(allow, "GET"));
	assert_non_null(strstr(allow, "PUT"));
	assert_non_null(strstr(allow, "DELETE"));
}

static void test_malformed_paths_do_not_match(void **state)
{
	struct route_params p;
	unsigned status;
	char allow[64];
	char longseg[300];

	const char *bad[] = {"", "v1/whoami", "//v1/whoami", "/v1//whoami", "/v1/whoami/x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_null(match("GET", bad[i], ROUTE_SERVICE, false, &p, &status, allow,
		                  sizeof(allow)));
	memset(longseg, 'a', sizeof(longseg));
	memcpy(longseg, "/v1/services/", 13);
	longseg[sizeof(longseg) - 1] = '\0';
	assert_null(match("GET", longseg, ROUTE_ADMIN, false, &p, &status, allow, sizeof(allow)));
}

static const struct schema_field fields[] = {
        {"value", SCHEMA_INT, true, 0, 1},
        {"name", SCHEMA_STRING, false, 1, 8},
        {"list", SCHEMA_ARRAY, false, 0, 2},
        {0},
};
static const struct schema schema = {.fields = fields};

static int validate(const char *text)
{
	char msg[128];
	json_t *j = json_loads(text, 0, NULL);
	int r = router_validate(&schema, j, msg, sizeof(msg));
	json_decref(j);
	return r;
}

static void test_schema(void **state)
{
	assert_int_equal(validate("{\"value\":1}"), 0);
	assert_int_equal(validate("{\"value\":0,\"name\":\"abc\",\"list\":[1,2]}"), 0);
	assert_int_equal(validate("{}"), -EINVAL);                    /* required */
	assert_int_equal(validate("{\"value\":2}"), -EINVAL);         /* range */
	assert_int_equal(validate("{\"value\":\"1\"}"), -EINVAL);     /* type */
	assert_int_equal(validate("{\"value\":1,\"x\":1}"), -EINVAL); /* unknown */
	assert_int_equal(validate("{\"value\":1,\"name\":\"\"}"), -EINVAL);
	assert_int_equal(validate("{\"value\":1,\"list\":[1,2,3]}"), -EINVAL);
	assert_int_equal(validate("[1]"), -EINVAL);
}

static void test_parse_uint(void **state)
{
	unsigned long long v;

	assert_int_equal(req_parse_uint("17", 0, 100, &v), 0);
	assert_int_equal(v, 17);
	assert_int_equal(req_parse_uint("0x76", 0, 127, &v), 0);
	assert_int_equal(v, 0x76);
	assert_int_equal(req_parse_uint("0X7f", 0, 127, &v), 0);
	assert_int_equal(req_parse_uint("0x80", 0, 127, &v), -ERANGE);
	assert_int_equal(req_parse_uint("99999999999999999999999", 0, ~0ull, &v), -ERANGE);
	const char *bad[] = {"", "-1", "+1", " 1", "1 ", "0x", "1e3", "0b1", "seventeen", "1.0"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(req_parse_uint(bad[i], 0, ~0ull, &v), -EBADMSG);
	assert_int_equal(req_parse_uint(NULL, 0, 1, &v), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_match_captures_segments),
	        cmocka_unit_test(test_match_respects_socket_kind),
	        cmocka_unit_test(test_wrong_method_is_405_with_allow),
	        cmocka_unit_test(test_malformed_paths_do_not_match),
	        cmocka_unit_test(test_schema),
	        cmocka_unit_test(test_parse_uint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
