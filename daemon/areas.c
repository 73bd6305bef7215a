/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "areas.h"

#include "area.h"

const struct area *const daemon_areas[] = {
        &area_admin, &area_status, &area_whoami, &area_gpio, &area_i2c,
        &area_uart,  &area_host,   &area_sim,    NULL,
};
