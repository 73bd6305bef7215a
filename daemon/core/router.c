/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Route matching over the areas' tables, and body schema validation. */
#include "router.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "request.h"

#define ROUTER_MAX_SEGMENTS 12

static int router_split_copy(const char *path, char *buf, size_t buflen, char *seg[], size_t max)
{
	size_t n = 0, len = strlen(path);
	char *p;

	if (len >= buflen || path[0] != '/')
		return -1;
	memcpy(buf, path, len + 1);
	p = buf + 1;
	while (*p) {
		if (n == max)
			return -1;
		seg[n++] = p;
		p = strchr(p, '/');
		if (!p)
			break;
		*p++ = '\0';
		if (*p == '/')
			return -1;
	}
	if (n > 0 && !*seg[n - 1]) /* trailing slash */
		n--;
	return (int)n;
}

static bool router_segments_match(const struct route *r, char *const pseg[], int pn,
                                  struct route_params *params)
{
	char patbuf[256];
	char *rseg[ROUTER_MAX_SEGMENTS];
	int rn = router_split_copy(r->pattern, patbuf, sizeof(patbuf), rseg, ROUTER_MAX_SEGMENTS);

	if (rn != pn)
		return false;
	if (params)
		params->n = 0;
	for (int i = 0; i < rn; i++) {
		size_t len = strlen(rseg[i]);
		if (rseg[i][0] == '{' && rseg[i][len - 1] == '}') {
			if (!*pseg[i] || strlen(pseg[i]) >= ROUTER_MAX_SEGMENT)
				return false;
			if (params && params->n < ROUTER_MAX_PARAMS) {
				size_t k = params->n++;
				snprintf(params->names_buf[k], sizeof(params->names_buf[k]), "%.*s",
				         (int)(len - 2), rseg[i] + 1);
				params->names[k] = params->names_buf[k];
				strcpy(params->values[k], pseg[i]);
			}
			continue;
		}
		if (strcmp(rseg[i], pseg[i]) != 0)
			return false;
	}
	return true;
}

static bool router_route_visible(const struct route *r, unsigned socket_kind, bool sim)
{
	if (!(r->sockets & socket_kind))
		return false;
	if ((r->sockets & ROUTE_SIM) && !sim)
		return false;
	return true;
}

bool router_match(const struct area *const *areas, const char *method, const char *path,
                  unsigned socket_kind, bool sim, struct route_params *params,
                  struct route_match *m)
{
	char pathbuf[1024];
	char *pseg[ROUTER_MAX_SEGMENTS];
	int pn = router_split_copy(path, pathbuf, sizeof(pathbuf), pseg, ROUTER_MAX_SEGMENTS);
	bool path_found = false;

	memset(m, 0, sizeof(*m));
	m->status = 404;
	if (pn < 0)
		return false;
	for (size_t a = 0; areas[a]; a++) {
		const struct area *area = areas[a];
		for (size_t i = 0; i < area->n_routes; i++) {
			const struct route *r = &area->routes[i];
			if (!router_route_visible(r, socket_kind, sim))
				continue;
			if (!router_segments_match(r, pseg, pn, NULL))
				continue;
			if (strcmp(r->method, method) == 0) {
				router_segments_match(r, pseg, pn, params);
				m->route = r;
				m->area = area;
				m->status = 0;
				return true;
			}
			/* Same path, other method: collect for the 405 Allow header. */
			if (!strstr(m->allow, r->method)) {
				size_t used = strlen(m->allow);
				snprintf(m->allow + used, sizeof(m->allow) - used, "%s%s",
				         used ? ", " : "", r->method);
			}
			path_found = true;
		}
	}
	if (path_found)
		m->status = 405;
	return false;
}

const char *router_param(const struct route_params *params, const char *name)
{
	for (size_t i = 0; i < params->n; i++)
		if (!strcmp(params->names[i], name))
			return params->values[i];
	return NULL;
}

static const char *router_type_name(enum schema_type t)
{
	static const char *const names[] = {"integer", "boolean", "string", "object", "array"};
	return (size_t)t < sizeof(names) / sizeof(names[0]) ? names[t] : "any";
}

static bool router_type_ok(enum schema_type t, const json_t *v)
{
	switch (t) {
	case SCHEMA_INT:
		return json_is_integer(v);
	case SCHEMA_BOOL:
		return json_is_boolean(v);
	case SCHEMA_STRING:
		return json_is_string(v);
	case SCHEMA_OBJECT:
		return json_is_object(v);
	case SCHEMA_ARRAY:
		return json_is_array(v);
	case SCHEMA_ANY:
		return true;
	}
	return false;
}

static int router_check_field(const struct schema_field *f, const json_t *v, char *msg,
                              size_t msg_len)
{
	if (!router_type_ok(f->type, v)) {
		snprintf(msg, msg_len, "\"%s\" must be %s %s", f->name,
		         f->type == SCHEMA_INT || f->type == SCHEMA_ARRAY ? "an" : "a",
		         router_type_name(f->type));
		return -EINVAL;
	}
	if (f->min == 0 && f->max == 0)
		return 0;
	if (f->type == SCHEMA_INT) {
		json_int_t n = json_integer_value(v);
		if (n < f->min || n > f->max) {
			snprintf(msg, msg_len, "\"%s\" must be between %lld and %lld", f->name,
			         f->min, f->max);
			return -EINVAL;
		}
	} else if (f->type == SCHEMA_STRING) {
		size_t len = json_string_length(v);
		if ((long long)len < f->min || (long long)len > f->max) {
			snprintf(msg, msg_len, "\"%s\" must be %lld to %lld characters long",
			         f->name, f->min, f->max);
			return -EINVAL;
		}
	} else if (f->type == SCHEMA_ARRAY) {
		size_t len = json_array_size(v);
		if ((long long)len < f->min || (long long)len > f->max) {
			snprintf(msg, msg_len, "\"%s\" must have %lld to %lld elements", f->name,
			         f->min, f->max);
			return -EINVAL;
		}
	}
	return 0;
}

int router_validate(const struct schema *schema, const json_t *body, char *msg, size_t msg_len)
{
	const char *key;
	json_t *v;

	if (!schema)
		return 0;
	if (!json_is_object(body)) {
		snprintf(msg, msg_len, "the body must be a JSON object");
		return -EINVAL;
	}
	for (const struct schema_field *f = schema->fields; f && f->name; f++) {
		v = json_object_get(body, f->name);
		if (!v) {
			if (f->required) {
				snprintf(msg, msg_len, "\"%s\" is required", f->name);
				return -EINVAL;
			}
			continue;
		}
		int r = router_check_field(f, v, msg, msg_len);
		if (r < 0)
			return r;
	}
	if (schema->allow_unknown)
		return 0;
	json_object_foreach((json_t *)body, key, v)
	{
		const struct schema_field *f;
		for (f = schema->fields; f && f->name; f++)
			if (!strcmp(f->name, key))
				break;
		if (!f || !f->name) {
			snprintf(msg, msg_len, "unknown field \"%.64s\"", key);
			return -EINVAL;
		}
	}
	return 0;
}

int req_parse_uint(const char *s, unsigned long long min, unsigned long long max,
                   unsigned long long *out)
{
	unsigned long long v = 0;
	int base = 10;
	const char *p = s;

	if (!s || !*s)
		return -EBADMSG;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (!*p)
			return -EBADMSG;
	}
	/* Hand-rolled: strtoull accepts signs, spaces and overflows silently. */
	for (; *p; p++) {
		unsigned d;
		if (*p >= '0' && *p <= '9')
			d = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = (unsigned)(*p - 'A' + 10);
		else
			return -EBADMSG;
		if (v > (~0ull - d) / (unsigned)base)
			return -ERANGE;
		v = v * (unsigned)base + d;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

const char *route_resource_name(enum route_resource r)
{
	static const char *const names[] = {"none",    "gpio-chip", "gpio-line",   "i2c-address",
	                                    "i2c-bus", "uart-port", "host-action", "unit",
	                                    "service", "board"};

	return (size_t)r < sizeof(names) / sizeof(names[0]) ? names[r] : "?";
}

const char *route_access_name(enum route_access a)
{
	static const char *const names[] = {"none", "read",   "write", "body",
	                                    "host", "direct", "admin"};

	return (size_t)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}

void router_print(const struct area *const *areas, FILE *out)
{
	for (size_t a = 0; areas[a]; a++) {
		for (size_t i = 0; i < areas[a]->n_routes; i++) {
			const struct route *r = &areas[a]->routes[i];
			char sockets[32];
			snprintf(sockets, sizeof(sockets), "%s%s%s%s",
			         (r->sockets & ROUTE_SERVICE) ? "service" : "",
			         (r->sockets & ROUTE_SERVICE) && (r->sockets & ROUTE_ADMIN) ? ","
			                                                                    : "",
			         (r->sockets & ROUTE_ADMIN) ? "admin" : "",
			         (r->sockets & ROUTE_SIM) ? ",sim" : "");
			fprintf(out, "%s %s %s %s %s\n", r->method, r->pattern, sockets,
			        route_resource_name(r->resource), route_access_name(r->access));
		}
	}
}
