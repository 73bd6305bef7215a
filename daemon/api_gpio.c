/* PLACEHOLDER: the gpio area replaces this file. */
#include "broker.h"

const struct area area_gpio = {
        .name = "gpio",
};
