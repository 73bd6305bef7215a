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

void lease_table_free(struct lease_table *t)
{
	if (!t)
		return;
	while (t->head) {
		struct lease *l = t->head;
		t->head = l->next;
		free(l);
	}
	free(t);
}

const struct lease *lease_find(const struct lease_table *t, const char *resource)
{
	for (struct lease *l = t->head; l; l = l->next)
		if (!strcmp(l->resource, resource))
			return l;
	return NULL;
}

int lease_acquire(struct lease_table *t, const char *resource, const char *holder,
                  enum lease_kind kind, uint64_t conn_id, const char **other)
{
	struct lease *l = (struct lease *)lease_find(t, resource);

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

int lease_release(struct lease_table *t, const char *resource)
{
	for (struct lease **pp = &t->head; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->resource, resource)) {
			struct lease *l = *pp;
			*pp = l->next;
			free(l);
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
			free(l);
		} else {
			pp = &l->next;
		}
	}
}
