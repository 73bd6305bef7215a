/* SPDX-License-Identifier: GPL-2.0-or-later */
/* I2C driver ops. One `const struct i2c_ops` per backend (i2c_sim.c: the
 * simulated board; i2c_dev.c: /dev/i2c-N through i2c-dev and libi2c), chosen
 * with i2c_backend_find(). Ops BLOCK and run on the bus's worker thread (one
 * thread per bus: a bus is serial anyway); different buses may run at once.
 * Returns: 0 (or a value) or a negative errno: -ENOENT no such bus,
 * -ENODEV bus gone, -EREMOTEIO the device did not answer (NACK; the kernel's
 * errno is kept in *kerr), -EOPNOTSUPP the adapter lacks a capability (its
 * I2C_FUNC_* name in *missing). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"

struct i2c_backend;

/* What a backend is opened with. */
struct i2c_params {
	const char *dev_dir;    /* dev: where the i2c-N nodes are ("/dev") */
	const char *board_file; /* sim: a board file, or NULL for the built-in board */
	const struct drv_env *env;
};

#define I2C_MAX_BUSES 64
#define I2C_BLOCK_MAX 32

struct i2c_xfer_msg {
	bool read;
	uint16_t len;
	uint8_t *buf;
};

enum i2c_op {
	I2C_OP_QUICK,
	I2C_OP_READ_BYTE,
	I2C_OP_WRITE_BYTE,
	I2C_OP_READ_BYTE_DATA,
	I2C_OP_WRITE_BYTE_DATA,
	I2C_OP_READ_WORD_DATA,
	I2C_OP_WRITE_WORD_DATA,
	I2C_OP_PROCESS_CALL,
	I2C_OP_READ_BLOCK_DATA,
	I2C_OP_WRITE_BLOCK_DATA,
	I2C_OP_READ_I2C_BLOCK_DATA,
	I2C_OP_WRITE_I2C_BLOCK_DATA,
	I2C_OP_COUNT
};

struct i2c_smbus {
	enum i2c_op op;
	uint8_t command;
	uint16_t value;              /* byte/word to write; quick: 0 write, 1 read */
	uint8_t len;                 /* block length (in: to write/read; out: read) */
	uint8_t data[I2C_BLOCK_MAX]; /* block data */
	uint16_t result;             /* byte/word read */
};

/* Outcome details of one operation, for the error message. */
struct i2c_status {
	int kerr;         /* the kernel's errno for a NACK */
	char missing[48]; /* the I2C_FUNC_* the adapter lacks */
};

struct i2c_ops {
	const char *name;
	int (*open)(struct i2c_backend **out, const struct i2c_params *params);
	void (*close)(struct i2c_backend *be);
	/* Bus numbers present now (at most max). Loop thread. */
	int (*list_buses)(struct i2c_backend *be, unsigned *buses, size_t max);
	/* One combined transaction (repeated starts, one stop). Worker thread. */
	int (*transfer)(struct i2c_backend *be, unsigned bus, unsigned addr,
	                struct i2c_xfer_msg *msgs, size_t n, struct i2c_status *st);
	int (*smbus)(struct i2c_backend *be, unsigned bus, unsigned addr, struct i2c_smbus *s,
	             struct i2c_status *st);
	/* Optional, any thread: shutting down; transfers waiting inside the
	 * backend give up now (-ESHUTDOWN). A real adapter bounds its own. */
	void (*interrupt)(struct i2c_backend *be);
};

/* The simulated board's controls, beside the ops (simulated backend only).
 * Safe from the loop thread while workers run transfers. */
struct i2c_sim_ops {
	/* Every transfer on bus takes delay_ms (a slow or clock-stretching part). */
	int (*set_delay)(struct i2c_backend *be, unsigned bus, unsigned delay_ms);
	/* The next count transfers to addr on bus fail with err (-EREMOTEIO: a
	 * NACK; -EIO: a bus error; -ENODEV: the adapter went away; -EBUSY: a
	 * kernel driver owns the address; -ETIMEDOUT: the adapter timed out). */
	int (*inject_fault)(struct i2c_backend *be, unsigned bus, unsigned addr, int err,
	                    unsigned count);
	/* Buses and the devices' lasting state (EEPROM contents, configuration
	 * registers; not measurements or address pointers). New reference. */
	json_t *(*snapshot)(struct i2c_backend *be);
};

extern const struct i2c_ops i2c_sim_ops;
extern const struct i2c_ops i2c_dev_ops;
extern const struct i2c_sim_ops i2c_sim_control;

const struct i2c_ops *i2c_backend_find(const char *name);
/* The simulator controls of a backend: non-NULL only for the simulated one. */
const struct i2c_sim_ops *i2c_backend_sim(const struct i2c_ops *ops);
/* "read_byte_data" <-> I2C_OP_READ_BYTE_DATA */
const char *i2c_op_name(enum i2c_op op);
int i2c_op_from_name(const char *name);
/* Does the op write to the device? (quick and read_* do not) */
bool i2c_op_writes(enum i2c_op op);
