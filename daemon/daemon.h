/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Starting and stopping the daemon around its event loop. */
#pragma once

struct daemon;

/* d->loop, d->cfg, d->env and d->areas set: creates the writer, audit log,
 * metrics, transport, registry and state, starts the areas, restores the
 * state and opens the admin socket. 0, or -errno with everything undone. */
int daemon_start(struct daemon *d);
/* Writes what is pending and tears everything down; safe on a partial start. */
void daemon_stop(struct daemon *d);
