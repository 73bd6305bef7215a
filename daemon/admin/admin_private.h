/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the admin area's files share. */
#pragma once

struct daemon;

#include <jansson.h>

struct service;

/* A service as the supervisor sees it: socket, mount, environment, policy. */
json_t *admin_service_json(struct daemon *d, struct service *svc);
