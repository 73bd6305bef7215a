/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lease.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A list: leases are few (one per driven line or held port). */
struct lease_table {
	struct lease *head;
};

struct lease_table *lease_table_new(void)
{
	return calloc(1, sizeof(struct lease_table));
}

static void lease_free(struct lease *l)
{
	json_decref(l->data);
	free(l);
}

void lease_table_free(struct lease_table *t)
{
	if (!t)
		return;
	while (t->head) {
		struct lease *l = t->head;
		t->head = l->next;
		lease_free(l);
	}
	free(t);
}

struct lease *lease_find(const struct lease_table *t, const char *resource)
{
	for (struct lease *l = t->head; l; l = l->next)
		if (!strcmp(l->resource, resource))
			return l;
	return NULL;
}

int lease_acquire(struct lease_table *t, const char *resource, const char *holder,
                  enum lease_kind kind, uint64_t conn_id, const char **other)
{
	struct lease *l = lease_find(t, resource);

	if (l && strcmp(l->holder, holder)) {
		if (other)
			*other = l->holder;
		return -EBUSY;
	}
	if (!l) {
		if (strlen(resource) >= sizeof(l->resource) || strlen(holder) >= sizeof(l->holder))
			return -ENAMETOOLONG;
		l = calloc(1, sizeof(*l));
		if (!l)
			return -ENOMEM;
		strcpy(l->resource, resource);
		strcpy(l->holder, holder);
		l->next = t->head;
		t->head = l;
	}
	l->kind = kind;
	l->conn_id = kind == LEASE_CONNECTION ? conn_id : 0;
	return 0;
}

void lease_set_data(struct lease_table *t, const char *resource, json_t *data)
{
	struct lease *l = lease_find(t, resource);

	if (!l) {
		json_decref(data);
		return;
	}
	json_decref(l->data);
	l->data = data;
}

int lease_release(struct lease_table *t, const char *resource)
{
	for (struct lease **pp = &t->head; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->resource, resource)) {
			struct lease *l = *pp;
			*pp = l->next;
			lease_free(l);
			return 0;
		}
	}
	return -ENOENT;
}

void lease_sweep(struct lease_table *t, bool (*fn)(const struct lease *l, void *data), void *data)
{
	struct lease **pp = &t->head;

	while (*pp) {
		struct lease *l = *pp;
		if (fn(l, data)) {
			*pp = l->next;
			lease_free(l);
		} else {
			pp = &l->next;
		}
	}
}

struct lease_end_ctx {
	const char *holder;
	enum lease_end why;
	uint64_t conn_id;
	bool (*still_allowed)(const struct lease *l, void *data);
	void (*drop)(const struct lease *l, enum lease_end why, void *data);
	void *data;
};

static bool lease_end_one(const struct lease *l, void *data)
{
	struct lease_end_ctx *c = data;
	bool end;

	if (strcmp(l->holder, c->holder))
		return false;
	switch (c->why) {
	case LEASE_END_REVOKED:
		end = !c->still_allowed(l, c->data);
		break;
	case LEASE_END_CONN:
		end = l->kind == LEASE_CONNECTION && l->conn_id == c->conn_id;
		break;
	default:
		end = true;
	}
	if (end)
		c->drop(l, c->why, c->data);
	return end;
}

void lease_end_for(struct lease_table *t, const char *holder, enum lease_end why, uint64_t conn_id,
                   bool (*still_allowed)(const struct lease *l, void *data),
                   void (*drop)(const struct lease *l, enum lease_end why, void *data), void *data)
{
	struct lease_end_ctx c = {holder, why, conn_id, still_allowed, drop, data};

	lease_sweep(t, lease_end_one, &c);
}

const char *lease_end_reason(enum lease_end why)
{
	switch (why) {
	case LEASE_END_REVOKED:
		return "revoked: the service's policy changed";
	case LEASE_END_REMOVED:
		return "the service was removed";
	case LEASE_END_CONN:
		return "its connection closed";
	default:
		return "released";
	}
}

json_t *lease_save(const struct lease_table *t)
{
	json_t *list = json_array();

	for (const struct lease *l = t->head; l; l = l->next) {
		if (l->kind != LEASE_PERSISTENT)
			continue;
		json_array_append_new(list, json_pack("{s:s,s:s,s:O?}", "resource", l->resource,
		                                      "holder", l->holder, "data", l->data));
	}
	return json_pack("{s:o}", "leases", list);
}

void lease_restore(struct lease_table *t, const json_t *saved,
                   int (*restore)(const char *resource, const char *holder, const json_t *data,
                                  void *ctx),
                   void *ctx)
{
	json_t *rec;
	size_t i;

	json_array_foreach(json_object_get(saved, "leases"), i, rec)
	{
		const char *resource = json_string_value(json_object_get(rec, "resource"));
		const char *holder = json_string_value(json_object_get(rec, "holder"));
		json_t *data = json_object_get(rec, "data");

		if (!resource || !holder || restore(resource, holder, data, ctx) < 0)
			continue;
		if (lease_acquire(t, resource, holder, LEASE_PERSISTENT, 0, NULL) == 0 && data)
			lease_set_data(t, resource, json_incref(data));
	}
}
