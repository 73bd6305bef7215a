/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the host area offers the rest of the daemon. */
#pragma once

#include <jansson.h>

struct daemon;

/* The simulated host's record of what it was asked ([{"action","arg"}]),
 * or NULL when the host backend is not simulated. New reference. */
json_t *host_sim_actions(struct daemon *d);
