/* PLACEHOLDER: the i2c area replaces this file. */
#include "broker.h"

const struct area area_i2c = {
        .name = "i2c",
};
