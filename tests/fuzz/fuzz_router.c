/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Fuzzes the router's edge: route matching on arbitrary paths and methods,
 * path numbers, and schema validation of arbitrary JSON bodies. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "areas.h"
#include "request.h"
#include "router.h"

static const struct schema_field fields[] = {
        {"value", SCHEMA_INT, false, 0, 1},
        {"messages", SCHEMA_ARRAY, false, 1, 16},
        {"hostname", SCHEMA_STRING, false, 0, 255},
        {0},
};
static const struct schema schema = {.fields = fields};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = {"GET", "PUT", "POST", "DELETE"};
	struct route_params params;
	char allow[64], msg[256], *path;
	unsigned long long v;

	if (size < 1)
		return 0;
	path = strndup((const char *)data + 1, size - 1);
	if (!path)
		return 0;
	for (unsigned kind = ROUTE_SERVICE; kind <= ROUTE_ADMIN; kind <<= 1) {
		struct route_match m;
		router_match(daemon_areas, methods[data[0] % 4], path, kind, data[0] & 0x80,
		             &params, &m);
		/* A match, or a status with (for 405) the methods the path has. */
		if (m.status == 405 && !m.allow[0])
			abort();
		snprintf(allow, sizeof(allow), "%s", m.allow);
	}
	req_parse_uint(path, 0, ~0ull, &v);
	json_t *body = json_loadb((const char *)data, size, 0, NULL);
	if (body) {
		router_validate(&schema, body, msg, sizeof(msg));
		json_decref(body);
	}
	free(path);
	return 0;
}
