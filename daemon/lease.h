/* Leases: which service holds a resource ("gpio:gpiochip0:17",
 * "uart:ttyS0"). A persistent lease lasts until released or the service is
 * removed (a value set by a one-shot CLI call stays set); a connection lease
 * ends with its connection. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

enum lease_kind { LEASE_PERSISTENT, LEASE_CONNECTION };

struct lease {
	char resource[96];
	char holder[64];
	enum lease_kind kind;
	uint64_t conn_id; /* LEASE_CONNECTION only */
	struct lease *next;
};

struct lease_table;

struct lease_table *lease_table_new(void);
void lease_table_free(struct lease_table *t);

/* NULL if free. Borrowed until the lease changes. */
const struct lease *lease_find(const struct lease_table *t, const char *resource);
/* Takes the resource for holder, or renews/changes the kind of holder's own
 * lease. -EBUSY when another service holds it (*other: its name, borrowed). */
int lease_acquire(struct lease_table *t, const char *resource, const char *holder,
                  enum lease_kind kind, uint64_t conn_id, const char **other);
/* 0, or -ENOENT when nobody held it. */
int lease_release(struct lease_table *t, const char *resource);
/* Calls fn for every lease; a lease for which fn returns true is removed
 * after the call (fn may act on the resource first). */
void lease_sweep(struct lease_table *t, bool (*fn)(const struct lease *l, void *data), void *data);
