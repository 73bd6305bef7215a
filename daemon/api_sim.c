/* PLACEHOLDER: the sim area replaces this file. */
#include "broker.h"

const struct area area_sim = {
        .name = "sim",
};
