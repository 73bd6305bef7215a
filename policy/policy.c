/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy object: grants with provenance, JSON form, lifetime. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_private.h"

void policy_error(struct policy_errors *e, const char *label, long position, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	json_t *err;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Quoted input may hold anything: keep the JSON valid. */
	for (char *c = msg; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			*c = '?';
	err = json_pack("{s:s,s:s}", "service", e->service, "message", msg);
	if (!err)
		return;
	if (label)
		json_object_set_new(err, "label", json_string(label));
	if (position >= 0)
		json_object_set_new(err, "position", json_integer(position));
	json_array_append_new(e->list, err);
}

struct policy_grant *policy_add_grant(struct policy *p, struct policy_errors *e,
                                      enum policy_kind kind, unsigned access,
                                      const char *provenance)
{
	struct policy_grant *g;

	if (p->n == POLICY_MAX_GRANTS) {
		policy_error(e, NULL, -1, "more than %d grants", POLICY_MAX_GRANTS);
		return NULL;
	}
	/* Grow as needed: a grant is ~3 KiB and most services have a few. */
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;
		if (cap > POLICY_MAX_GRANTS)
			cap = POLICY_MAX_GRANTS;
		g = realloc(p->grants, cap * sizeof(*p->grants));
		if (!g)
			return NULL;
		p->grants = g;
		p->cap = cap;
	}
	g = &p->grants[p->n++];
	memset(g, 0, sizeof(*g));
	g->kind = kind;
	g->access = access;
	snprintf(g->provenance, sizeof(g->provenance), "%s", provenance);
	return g;
}

void policy_grant_clear(struct policy_grant *g)
{
	for (size_t i = 0; i < g->n_names; i++)
		free(g->names[i]);
	free(g->names);
	g->names = NULL;
	g->n_names = 0;
}

int policy_keep_ceiling(struct policy *p, size_t i)
{
	struct policy_grant *c = realloc(p->ceilings, (p->n_ceilings + 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	p->ceilings = c;
	p->ceilings[p->n_ceilings++] = p->grants[i];
	memmove(&p->grants[i], &p->grants[i + 1], (p->n - i - 1) * sizeof(*p->grants));
	p->n--;
	return 0;
}

void policy_remove_grant(struct policy *p, size_t i)
{
	policy_grant_clear(&p->grants[i]);
	memmove(&p->grants[i], &p->grants[i + 1], (p->n - i - 1) * sizeof(*p->grants));
	p->n--;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		policy_grant_clear(&p->grants[i]);
	free(p->grants);
	for (size_t i = 0; i < p->n_ceilings; i++)
		policy_grant_clear(&p->ceilings[i]);
	free(p->ceilings);
	json_decref(p->passthrough);
	free(p->container_id);
	for (size_t i = 0; i <= POLICY_UNIT; i++)
		free(p->labels[i]);
	free(p);
}

const char *policy_container_id(const struct policy *p)
{
	return p ? p->container_id : NULL;
}

static const char *policy_access_name(unsigned access)
{
	return (access & POLICY_WRITE) ? "rw" : "ro";
}

json_t *policy_to_json(const struct policy *p)
{
	json_t *grants = json_array(), *root;

	for (size_t i = 0; i < p->n; i++) {
		const struct policy_grant *g = &p->grants[i];
		char resource[512];
		policy_describe_grant(g, resource, sizeof(resource));
		json_t *o = json_pack("{s:s,s:s,s:s,s:b}", "kind", policy_kind_name(g->kind),
		                      "resource", resource, "provenance", g->provenance, "broad",
		                      g->broad);
		if (g->kind == POLICY_GPIO || g->kind == POLICY_I2C || g->kind == POLICY_UART)
			json_object_set_new(o, "access",
			                    json_string(policy_access_name(g->access)));
		json_array_append_new(grants, o);
	}
	root = json_pack("{s:o,s:O,s:b}", "grants", grants, "passthrough", p->passthrough, "broad",
	                 p->broad);
	if (p->container_id)
		json_object_set_new(root, "container_id", json_string(p->container_id));
	if (p->direct_gpio)
		json_object_set_new(root, "direct", json_pack("[s]", "gpio"));
	return root;
}

bool policy_valid_service_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > 63)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}
