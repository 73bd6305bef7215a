/* PLACEHOLDER: the uart area replaces this file. */
#include "broker.h"

const struct area area_uart = {
        .name = "uart",
};
