/* Persistence of the applied state: STATE/state.json holds every service's
 * compose declaration and each area's durable state (persistent leases).
 * Writes are atomic: temporary file, fsync, rename, fsync of the directory. */
#pragma once

struct broker;

/* Writes the state now. 0 or -errno (logged). */
int state_save(struct broker *b);
/* Restores services (re-deriving their policies) and area state. A corrupt
 * or unreadable file is moved aside (state.json.corrupt-TIME) with an error
 * log and the daemon starts from what it can trust. 0 or -errno. */
int state_load(struct broker *b);
