/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Persistence of the applied state: STATE/state.json holds every service's
 * compose declaration and each area's durable state (persistent leases).
 * Writes are atomic (temporary file, fsync, rename, fsync of the directory)
 * and happen on the writer thread, never on the event loop.
 *
 * Two kinds of change: an admin change (services registered, re-labelled,
 * removed) is committed before it is applied and answered, so what the
 * supervisor was told survives a crash; lease changes are coalesced (one
 * write per 100 ms at most) and may lose the last 100 ms in a crash. */
#pragma once

#include <jansson.h>

struct daemon;
struct state;

struct state *state_new(struct daemon *d);
/* Writes what is pending, waits for the writer. */
void state_free(struct state *st);

/* Something coalesced (a lease) changed: write it soon. */
void state_changed(struct state *st);
/* Writes a pending change now and waits for it (at shutdown). */
void state_flush(struct state *st);

/* Writes the state with services (the whole map of declarations, stolen)
 * in place of the registry's; done(data, err) runs on the loop thread when
 * it is on disk (err 0) or could not be written (-errno, the file is
 * unchanged). The caller applies the change in memory in done(). One commit
 * at a time: -EBUSY while one is being written. */
int state_commit(struct state *st, json_t *services, void (*done)(void *data, int err), void *data);
/* Is a commit being written? */
int state_commit_busy(const struct state *st);

/* Restores services (re-deriving their policies) and area state. A corrupt
 * or unreadable file is moved aside (state.json.corrupt-TIME) with an error
 * log and the daemon starts from what it can trust. 0 or -errno. */
int state_load(struct state *st);
