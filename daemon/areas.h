/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Every API area of the daemon, in init order. */
#pragma once

struct area;

extern const struct area area_admin, area_status, area_whoami, area_gpio, area_i2c, area_uart,
        area_host, area_sim;

/* NULL-terminated. */
extern const struct area *const daemon_areas[];
