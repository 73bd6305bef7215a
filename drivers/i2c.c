/* SPDX-License-Identifier: GPL-2.0-or-later */
/* I2C backend table and op names. */
#include <string.h>

#include "i2c.h"

static const struct i2c_ops *const i2c_backends[] = {&i2c_sim_ops, &i2c_dev_ops};

static const char *const i2c_op_names[I2C_OP_COUNT] = {
        "quick",           "read_byte",        "write_byte",          "read_byte_data",
        "write_byte_data", "read_word_data",   "write_word_data",     "process_call",
        "read_block_data", "write_block_data", "read_i2c_block_data", "write_i2c_block_data",
};

const struct i2c_ops *i2c_backend_find(const char *name)
{
	for (size_t i = 0; i < sizeof(i2c_backends) / sizeof(i2c_backends[0]); i++)
		if (!strcmp(i2c_backends[i]->name, name))
			return i2c_backends[i];
	return NULL;
}

const char *i2c_op_name(enum i2c_op op)
{
	return (unsigned)op < I2C_OP_COUNT ? i2c_op_names[op] : "?";
}

int i2c_op_from_name(const char *name)
{
	for (int i = 0; name && i < I2C_OP_COUNT; i++)
		if (!strcmp(i2c_op_names[i], name))
			return i;
	return -1;
}

bool i2c_op_writes(enum i2c_op op)
{
	switch (op) {
	case I2C_OP_WRITE_BYTE:
	case I2C_OP_WRITE_BYTE_DATA:
	case I2C_OP_WRITE_WORD_DATA:
	case I2C_OP_PROCESS_CALL:
	case I2C_OP_WRITE_BLOCK_DATA:
	case I2C_OP_WRITE_I2C_BLOCK_DATA:
		return true;
	default:
		return false;
	}
}

const struct i2c_sim_ops *i2c_backend_sim(const struct i2c_ops *ops)
{
	return ops == &i2c_sim_ops ? &i2c_sim_control : NULL;
}
