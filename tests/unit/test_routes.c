/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon's route table against the declaration each row must make: what
 * it touches and the access a service needs. A row added without declaring
 * them, or declaring them wrong, fails here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "area.h"
#include "areas.h"
#include "route.h"

struct expected {
	const char *method, *pattern;
	unsigned sockets;
	enum route_resource resource;
	enum route_access access;
};

#define S  ROUTE_SERVICE
#define A  ROUTE_ADMIN
#define SA (ROUTE_SERVICE | ROUTE_ADMIN)
#define AS (ROUTE_ADMIN | ROUTE_SIM)

static const struct expected expected[] = {
        {"GET", "/v1/services", A, RES_NONE, ACCESS_ADMIN},
        {"GET", "/v1/services/{name}", A, RES_SERVICE, ACCESS_ADMIN},
        {"PUT", "/v1/services/{name}", A, RES_SERVICE, ACCESS_ADMIN},
        {"DELETE", "/v1/services/{name}", A, RES_SERVICE, ACCESS_ADMIN},
        {"PUT", "/v1/state", A, RES_NONE, ACCESS_ADMIN},
        {"GET", "/v1/health", A, RES_NONE, ACCESS_ADMIN},
        {"GET", "/metrics", A, RES_NONE, ACCESS_ADMIN},
        {"GET", "/v1/audit", A, RES_NONE, ACCESS_ADMIN},
        {"GET", "/v1/whoami", S, RES_NONE, ACCESS_NONE},
        {"GET", "/v1/gpio", SA, RES_NONE, ACCESS_NONE},
        {"GET", "/v1/gpio/{chip}/{line}", SA, RES_GPIO_LINE, ACCESS_READ},
        {"PUT", "/v1/gpio/{chip}/{line}", SA, RES_GPIO_LINE, ACCESS_WRITE},
        {"DELETE", "/v1/gpio/{chip}/{line}", SA, RES_GPIO_LINE, ACCESS_WRITE},
        {"PUT", "/v1/gpio/{chip}", SA, RES_GPIO_CHIP, ACCESS_WRITE},
        {"GET", "/v1/gpio/{chip}/{line}/events", SA, RES_GPIO_LINE, ACCESS_READ},
        {"POST", "/v1/direct/gpio/{chip}", SA, RES_GPIO_CHIP, ACCESS_DIRECT},
        {"GET", "/v1/i2c", SA, RES_NONE, ACCESS_NONE},
        {"POST", "/v1/i2c/{bus}/{addr}/transfer", SA, RES_I2C_ADDRESS, ACCESS_BODY},
        {"POST", "/v1/i2c/{bus}/{addr}/smbus", SA, RES_I2C_ADDRESS, ACCESS_BODY},
        {"GET", "/v1/uart", SA, RES_NONE, ACCESS_NONE},
        {"GET", "/v1/uart/{port}/config", SA, RES_UART_PORT, ACCESS_READ},
        {"PUT", "/v1/uart/{port}/config", SA, RES_UART_PORT, ACCESS_WRITE},
        {"POST", "/v1/uart/{port}/write", SA, RES_UART_PORT, ACCESS_WRITE},
        {"GET", "/v1/uart/{port}/read", SA, RES_UART_PORT, ACCESS_READ},
        {"GET", "/v1/uart/{port}/stream", SA, RES_UART_PORT, ACCESS_READ},
        {"GET", "/v1/uart/{port}/attach", SA, RES_UART_PORT, ACCESS_WRITE},
        {"DELETE", "/v1/uart/{port}", SA, RES_UART_PORT, ACCESS_WRITE},
        {"POST", "/v1/host/reboot", SA, RES_HOST_ACTION, ACCESS_HOST},
        {"POST", "/v1/host/poweroff", SA, RES_HOST_ACTION, ACCESS_HOST},
        {"GET", "/v1/host/hostname", SA, RES_HOST_ACTION, ACCESS_READ},
        {"PUT", "/v1/host/hostname", SA, RES_HOST_ACTION, ACCESS_HOST},
        {"GET", "/v1/host/time", SA, RES_HOST_ACTION, ACCESS_READ},
        {"POST", "/v1/host/units/{unit}/restart", SA, RES_UNIT, ACCESS_HOST},
        {"POST", "/v1/sim/gpio/{chip}/{line}", AS, RES_GPIO_LINE, ACCESS_ADMIN},
        {"POST", "/v1/sim/gpio/{chip}", AS, RES_GPIO_CHIP, ACCESS_ADMIN},
        {"POST", "/v1/sim/i2c/{bus}", AS, RES_I2C_BUS, ACCESS_ADMIN},
        {"POST", "/v1/sim/uart/{port}", AS, RES_UART_PORT, ACCESS_ADMIN},
        {"GET", "/v1/sim/board", AS, RES_BOARD, ACCESS_ADMIN},
        {"GET", "/v1/sim/host/actions", A, RES_BOARD, ACCESS_ADMIN},
};
#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

static const struct expected *find_expected(const struct route *r)
{
	for (size_t i = 0; i < N_EXPECTED; i++)
		if (!strcmp(expected[i].method, r->method) &&
		    !strcmp(expected[i].pattern, r->pattern))
			return &expected[i];
	return NULL;
}

static void test_every_row_declares_what_it_touches(void **state)
{
	size_t seen = 0;

	for (size_t a = 0; daemon_areas[a]; a++) {
		for (size_t i = 0; i < daemon_areas[a]->n_routes; i++) {
			const struct route *r = &daemon_areas[a]->routes[i];
			const struct expected *e = find_expected(r);
			if (!e)
				fail_msg("%s %s: not in this test's table", r->method, r->pattern);
			if (r->sockets != e->sockets || r->resource != e->resource ||
			    r->access != e->access)
				fail_msg("%s %s: declares sockets %u resource %d access %d, "
				         "expected "
				         "%u %d %d",
				         r->method, r->pattern, r->sockets, r->resource, r->access,
				         e->sockets, e->resource, e->access);
			assert_non_null(r->handler);
			seen++;
		}
	}
	assert_int_equal(seen, N_EXPECTED);
}

/* What the pipeline relies on, per row. */
static void test_rows_are_complete(void **state)
{
	for (size_t a = 0; daemon_areas[a]; a++) {
		for (size_t i = 0; i < daemon_areas[a]->n_routes; i++) {
			const struct route *r = &daemon_areas[a]->routes[i];
			bool resolves = r->resource != RES_NONE && r->resource != RES_BOARD &&
			                r->resource != RES_HOST_ACTION;
			if (resolves && !r->resolve)
				fail_msg("%s %s: a target without a resolve step", r->method,
				         r->pattern);
			if (r->access == ACCESS_BODY && !r->body_writes)
				fail_msg("%s %s: access from the body without body_writes",
				         r->method, r->pattern);
			if (r->access == ACCESS_ADMIN && (r->sockets & ROUTE_SERVICE))
				fail_msg("%s %s: admin access on a service socket", r->method,
				         r->pattern);
			if (r->resource == RES_HOST_ACTION && !r->action)
				fail_msg("%s %s: a host route without its action", r->method,
				         r->pattern);
			/* Only lists filtered by the grants and identity need nothing. */
			if ((r->sockets & ROUTE_SERVICE) && r->access == ACCESS_NONE &&
			    r->resource != RES_NONE)
				fail_msg("%s %s: touches a resource without declaring access",
				         r->method, r->pattern);
			if (r->body == BODY_JSON && !r->schema && r->resource != RES_SERVICE)
				fail_msg("%s %s: a JSON body without a schema", r->method,
				         r->pattern);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_every_row_declares_what_it_touches),
	        cmocka_unit_test(test_rows_are_complete),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
