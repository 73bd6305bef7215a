/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CHECK(cond) for the C programs the Python tests drive: a failed check
 * prints where and what, and exits 1 (the test reads the status). */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			exit(1);                                                                   \
		}                                                                                  \
	} while (0)
