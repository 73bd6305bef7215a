/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <sys/types.h>

/* A listening unix socket at path (a stale one is removed) with mode,
 * non-blocking and close-on-exec. The fd, or -errno. */
int unix_socket_listen(const char *path, mode_t mode);
