/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The request pipeline (pipeline.c): libmicrohttpd's callbacks, given to
 * the transport by whoever creates it. */
#pragma once

#include <microhttpd.h>

enum MHD_Result pipeline_access_handler(void *cls, struct MHD_Connection *connection,
                                        const char *url, const char *method, const char *version,
                                        const char *upload_data, size_t *upload_data_size,
                                        void **con_cls);
void pipeline_request_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                                enum MHD_RequestTerminationCode toe);
