/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulated board's outside world, on the admin socket of hwbrokerd
 * --sim: pull inputs, unplug chips and ports, slow a bus down, inject I2C
 * faults, read what the simulated host was asked, and a snapshot of the
 * whole board (docs/board.md). It reaches the simulator controls that the
 * drivers keep beside their ops; no service socket serves these routes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "gpio_private.h"
#include "host_area.h"
#include "i2c_private.h"
#include "lease.h"
#include "request.h"
#include "uart_private.h"

static int sim_not_simulated(struct request *req, const char *what)
{
	return req_fail(req, -ENOENT, "run hwbrokerd --sim", "%s is not simulated", what);
}

/* The chip or port may be unplugged: that is what a control brings back. */
static int sim_resolve_gpio_chip(struct request *req, struct target *t)
{
	int r = gpio_resolve_chip(req, t);

	return r == -ENODEV ? 0 : r;
}

static int sim_resolve_uart_port(struct request *req, struct target *t)
{
	int r = uart_resolve_port(req, t);

	return r == -ENODEV ? 0 : r;
}

/* --- GPIO --- */

static int sim_check_pull(struct request *req)
{
	const char *pull = json_string_value(json_object_get(req_json(req), "pull"));

	if (strcmp(pull, "up") && strcmp(pull, "down") && strcmp(pull, "none"))
		return req_fail(req, -EINVAL, NULL, "pull must be up, down or none");
	return 0;
}

static int sim_gpio_pull(struct request *req)
{
	struct gpio_area *a = req_daemon(req)->gpio;
	const struct target *t = req_target(req);
	const char *pull = json_string_value(json_object_get(req_json(req), "pull"));
	int level = !strcmp(pull, "up") ? 1 : !strcmp(pull, "down") ? 0 : -1;
	int r;

	if (!a->sim)
		return sim_not_simulated(req, "GPIO");
	r = a->sim->pull(a->be, t->chip, t->want.line, level);
	if (r < 0)
		return gpio_fail(req, r, t->chip, "line");
	return req_result_json(req, 200, gpio_line_json(a, t));
}

static int sim_gpio_present(struct request *req)
{
	struct gpio_area *a = req_daemon(req)->gpio;
	const struct target *t = req_target(req);
	bool present = json_is_true(json_object_get(req_json(req), "present"));
	int r;

	if (!a->sim)
		return sim_not_simulated(req, "GPIO");
	r = a->sim->set_present(a->be, t->chip, present);
	if (r < 0)
		return gpio_fail(req, r, t->chip, "chip");
	return req_result_json(req, 200,
	                       json_pack("{s:s,s:b}", "chip", t->chip, "present", present));
}

/* --- I2C --- */

static const struct {
	const char *name;
	int err;
} sim_faults[] = {
        {"nack", -EREMOTEIO},    {"io", -EIO}, {"gone", -ENODEV}, {"busy", -EBUSY},
        {"timeout", -ETIMEDOUT},
};

static int sim_fault_err(const char *name)
{
	for (size_t i = 0; name && i < sizeof(sim_faults) / sizeof(sim_faults[0]); i++)
		if (!strcmp(sim_faults[i].name, name))
			return sim_faults[i].err;
	return 0;
}

static int sim_check_i2c(struct request *req)
{
	json_t *body = req_json(req), *fault = json_object_get(body, "fault");
	unsigned long long addr;

	if (!fault)
		return json_object_get(body, "delay_ms")
		               ? 0
		               : req_fail(req, -EINVAL, NULL, "give delay_ms or a fault");
	if (!sim_fault_err(json_string_value(json_object_get(fault, "error"))))
		return req_fail(req, -EINVAL, NULL,
		                "fault.error must be nack, io, gone, busy or timeout");
	if (req_parse_uint(json_string_value(json_object_get(fault, "address")), 0, 0x7f, &addr) <
	    0)
		return req_fail(req, -EINVAL, NULL,
		                "fault.address must be a 7-bit address (\"0x50\")");
	if (json_integer_value(json_object_get(fault, "count")) < 0)
		return req_fail(req, -EINVAL, NULL, "fault.count must not be negative");
	return 0;
}

static int sim_i2c(struct request *req)
{
	struct i2c_area *a = req_daemon(req)->i2c;
	const struct target *t = req_target(req);
	json_t *body = req_json(req), *fault = json_object_get(body, "fault"), *delay;
	unsigned long long addr = 0;
	int r = 0;

	if (!a->sim)
		return sim_not_simulated(req, "I2C");
	if ((delay = json_object_get(body, "delay_ms")))
		r = a->sim->set_delay(a->be, t->want.bus, (unsigned)json_integer_value(delay));
	if (r == 0 && fault) {
		json_t *count = json_object_get(fault, "count");
		req_parse_uint(json_string_value(json_object_get(fault, "address")), 0, 0x7f,
		               &addr);
		r = a->sim->inject_fault(
		        a->be, t->want.bus, (unsigned)addr,
		        sim_fault_err(json_string_value(json_object_get(fault, "error"))),
		        count ? (unsigned)json_integer_value(count) : 1);
		if (r == -ENOENT)
			return req_fail(req, r, NULL, "bus %u has no device at 0x%02llx",
			                t->want.bus, addr);
	}
	if (r < 0)
		return req_fail(req, r, NULL, "bus %u: %s", t->want.bus, strerror(-r));
	return req_result_json(req, 200, json_pack("{s:i}", "bus", (int)t->want.bus));
}

/* --- UART --- */

static int sim_uart_present(struct request *req)
{
	struct uart_area *a = req_daemon(req)->uart;
	const struct target *t = req_target(req);
	bool present = json_is_true(json_object_get(req_json(req), "present"));
	int r;

	if (!a->sim)
		return sim_not_simulated(req, "UART");
	/* Unplugged, our fd sees the hangup in the loop, as with a real USB adapter. */
	r = a->sim->set_present(a->be, t->port, present);
	if (r < 0)
		return req_fail(req, r, NULL, "%s: %s", t->port, strerror(-r));
	return req_result_json(req, 200,
	                       json_pack("{s:s,s:b}", "port", t->port, "present", present));
}

/* --- host and the whole board --- */

static int sim_host_actions(struct request *req)
{
	json_t *actions = host_sim_actions(req_daemon(req));

	if (!actions)
		return req_fail(req, -ENOENT, "run hwbrokerd with --host sim",
		                "host actions are not simulated");
	return req_result_json(req, 200, json_pack("{s:o}", "actions", actions));
}

static json_t *sim_holder(struct lease_table *leases, const char *resource)
{
	const struct lease *l = lease_find(leases, resource);

	return l ? json_string(l->holder) : json_null();
}

/* The GPIO snapshot with each line's holder. */
static json_t *sim_gpio_board(struct gpio_area *a)
{
	json_t *snap = a->sim->snapshot(a->be), *chip, *line;
	size_t i, k;
	char res[96];

	json_array_foreach(json_object_get(snap, "chips"), i, chip)
	{
		const char *name = json_string_value(json_object_get(chip, "chip"));
		json_array_foreach(json_object_get(chip, "lines"), k, line)
		{
			snprintf(res, sizeof(res), "gpio:%s:%d", name,
			         (int)json_integer_value(json_object_get(line, "line")));
			json_object_set_new(line, "holder", sim_holder(a->leases, res));
		}
	}
	return snap;
}

static json_t *sim_uart_board(struct uart_area *a)
{
	json_t *snap = a->sim->snapshot(a->be), *port;
	size_t i;
	char res[96];

	json_array_foreach(json_object_get(snap, "ports"), i, port)
	{
		snprintf(res, sizeof(res), "uart:%s",
		         json_string_value(json_object_get(port, "port")));
		json_object_set_new(port, "holder", sim_holder(a->leases, res));
	}
	return snap;
}

static int sim_board(struct request *req)
{
	struct daemon *d = req_daemon(req);
	json_t *board;

	if (!d->gpio->sim || !d->i2c->sim || !d->uart->sim)
		return sim_not_simulated(req, "the board");
	board = json_pack("{s:o,s:o,s:o}", "gpio", sim_gpio_board(d->gpio), "i2c",
	                  d->i2c->sim->snapshot(d->i2c->be), "uart", sim_uart_board(d->uart));
	json_object_set_new(board, "host_actions", host_sim_actions(d) ?: json_null());
	return req_result_json(req, 200, board);
}

static const struct schema sim_pull_schema = {
        .fields = (const struct schema_field[]){{"pull", SCHEMA_STRING, true, 1, 8}, {0}},
};
static const struct schema sim_present_schema = {
        .fields = (const struct schema_field[]){{"present", SCHEMA_BOOL, true, 0, 0}, {0}},
};
static const struct schema sim_i2c_schema = {
        .fields = (const struct schema_field[]){{"delay_ms", SCHEMA_INT, false, 0, 60000},
                                                {"fault", SCHEMA_OBJECT, false, 0, 0},
                                                {0}},
};

#define SIM_ROUTE(m, path, res)                                                                    \
	.method = (m), .pattern = (path), .sockets = ROUTE_ADMIN | ROUTE_SIM, .resource = (res),   \
	.access = ACCESS_ADMIN

static const struct route sim_routes[] = {
        {SIM_ROUTE("POST", "/v1/sim/gpio/{chip}/{line}", RES_GPIO_LINE), .body = BODY_JSON,
         .schema = &sim_pull_schema, .check = sim_check_pull, .resolve = gpio_resolve_line,
         .handler = sim_gpio_pull},
        {SIM_ROUTE("POST", "/v1/sim/gpio/{chip}", RES_GPIO_CHIP), .body = BODY_JSON,
         .schema = &sim_present_schema, .resolve = sim_resolve_gpio_chip,
         .handler = sim_gpio_present},
        {SIM_ROUTE("POST", "/v1/sim/i2c/{bus}", RES_I2C_BUS), .body = BODY_JSON,
         .schema = &sim_i2c_schema, .check = sim_check_i2c, .resolve = i2c_resolve_bus,
         .handler = sim_i2c},
        {SIM_ROUTE("POST", "/v1/sim/uart/{port}", RES_UART_PORT), .body = BODY_JSON,
         .schema = &sim_present_schema, .resolve = sim_resolve_uart_port,
         .handler = sim_uart_present},
        {SIM_ROUTE("GET", "/v1/sim/board", RES_BOARD), .handler = sim_board},
        /* The host may be simulated without the board (--host sim). */
        {.method = "GET",
         .pattern = "/v1/sim/host/actions",
         .sockets = ROUTE_ADMIN,
         .resource = RES_BOARD,
         .access = ACCESS_ADMIN,
         .handler = sim_host_actions},
};

const struct area area_sim = {
        .name = "sim",
        AREA_ROUTES(sim_routes),
};
