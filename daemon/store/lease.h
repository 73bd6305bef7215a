/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Leases: which service holds a resource ("gpio:gpiochip0:17",
 * "uart:ttyS0"). A persistent lease lasts until released or the service is
 * removed (a value set by a one-shot CLI call stays set) and survives a
 * restart with the data its area keeps on it (the line's configuration, the
 * port's settings); a connection lease ends with its connection. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

enum lease_kind { LEASE_PERSISTENT, LEASE_CONNECTION };

struct lease {
	char resource[96];
	char holder[64];
	enum lease_kind kind;
	uint64_t conn_id; /* LEASE_CONNECTION only */
	json_t *data;     /* the area's record of what the holder set (owned), or NULL */
	struct lease *next;
};

/* Why leases of a holder end (lease_end_for). */
enum lease_end {
	LEASE_END_REVOKED,  /* the service's new policy no longer allows it */
	LEASE_END_REMOVED,  /* the service was removed */
	LEASE_END_CONN,     /* its connection closed (connection leases) */
	LEASE_END_RELEASED, /* given back */
};

struct lease_table;

struct lease_table *lease_table_new(void);
void lease_table_free(struct lease_table *t);

/* NULL if free. Borrowed until the lease changes. */
struct lease *lease_find(const struct lease_table *t, const char *resource);
/* Takes the resource for holder, or renews/changes the kind of holder's own
 * lease. -EBUSY when another service holds it (*other: its name, borrowed). */
int lease_acquire(struct lease_table *t, const char *resource, const char *holder,
                  enum lease_kind kind, uint64_t conn_id, const char **other);
/* Replaces the lease's data (stolen). No-op (data freed) if nobody holds it. */
void lease_set_data(struct lease_table *t, const char *resource, json_t *data);
/* 0, or -ENOENT when nobody held it. */
int lease_release(struct lease_table *t, const char *resource);
/* Calls fn for every lease; a lease for which fn returns true is removed
 * after the call (fn may act on the resource first). */
void lease_sweep(struct lease_table *t, bool (*fn)(const struct lease *l, void *data), void *data);

/* Ends leases of holder: all of them (REMOVED), the connection leases of
 * conn_id (CONN), or those still_allowed() refuses (REVOKED). drop() runs for
 * each before it goes, to give the resource back. */
void lease_end_for(struct lease_table *t, const char *holder, enum lease_end why, uint64_t conn_id,
                   bool (*still_allowed)(const struct lease *l, void *data),
                   void (*drop)(const struct lease *l, enum lease_end why, void *data), void *data);
/* "revoked by the new policy", ... for logs and stream endings. */
const char *lease_end_reason(enum lease_end why);

/* Persistent leases as {"leases":[{"resource","holder","data"}]} (new reference). */
json_t *lease_save(const struct lease_table *t);
/* For each saved lease, restore(resource, holder, data) puts the resource
 * back as it was; when it returns 0 the holder gets the lease back with its
 * data. Records that do not parse are skipped (logged by restore). */
void lease_restore(struct lease_table *t, const json_t *saved,
                   int (*restore)(const char *resource, const char *holder, const json_t *data,
                                  void *ctx),
                   void *ctx);
