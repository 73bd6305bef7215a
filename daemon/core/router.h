/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Route matching over the areas' tables, and body schema validation: the
 * parse-and-validate step of the pipeline (pipeline.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "route.h"

struct area;

#define ROUTER_MAX_PARAMS  6
#define ROUTER_MAX_SEGMENT 128

struct route_params {
	size_t n;
	const char *names[ROUTER_MAX_PARAMS]; /* point into names_buf */
	char names_buf[ROUTER_MAX_PARAMS][32];
	char values[ROUTER_MAX_PARAMS][ROUTER_MAX_SEGMENT];
};

struct route_match {
	const struct route *route;
	const struct area *area;
	unsigned status; /* no route: 404 (no such path) or 405 (path exists) */
	char allow[64];  /* 405: the methods the path has, comma-separated */
};

/* Finds the route for method+path on this socket kind among the areas
 * (NULL-terminated). Returns true with m->route, m->area and params set, or
 * false with m->status. */
bool router_match(const struct area *const *areas, const char *method, const char *path,
                  unsigned socket_kind, bool sim, struct route_params *params,
                  struct route_match *m);
/* 0 or -errno with a message in msg (schema violation). */
int router_validate(const struct schema *schema, const json_t *body, char *msg, size_t msg_len);
const char *router_param(const struct route_params *params, const char *name);

/* "gpio-line", "write", ... (docs/architecture.md). */
const char *route_resource_name(enum route_resource r);
const char *route_access_name(enum route_access a);
/* One line per route: METHOD PATTERN SOCKETS RESOURCE ACCESS (hwbrokerd --routes). */
void router_print(const struct area *const *areas, FILE *out);
