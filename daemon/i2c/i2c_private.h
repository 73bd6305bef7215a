/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to the I2C area (i2c_area.c: routes and replies; i2c_queue.c: the
 * per-bus workers and their fair queues). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "i2c.h"
#include "request.h"

#define I2C_MAX_MSGS    16
#define I2C_MAX_MSG_LEN 4096
#define I2C_MAX_TOTAL   16384
/* Waiting jobs per bus, and per service on one bus: one service cannot
 * keep a bus full for the others. */
#define I2C_QUEUE_MAX        64
#define I2C_QUEUE_PER_CALLER 8

struct daemon;
struct i2c_worker;
struct loop_timer;

enum i2c_job_kind { I2C_JOB_TRANSFER, I2C_JOB_SMBUS };
enum i2c_job_state { I2C_JOB_QUEUED, I2C_JOB_RUNNING, I2C_JOB_DONE };

struct i2c_job {
	struct i2c_area *area;
	/* Loop thread: answers the finished job's request (still set). */
	void (*answer)(struct i2c_job *j);
	struct i2c_worker *worker;
	struct request *req; /* NULL once answered */
	struct loop_timer *timer;
	char caller[64];
	unsigned bus, addr;
	bool writes;
	enum i2c_job_kind kind;
	enum i2c_job_state state; /* under the worker's lock */
	struct i2c_xfer_msg msgs[I2C_MAX_MSGS];
	size_t n_msgs;
	uint8_t *buffer;
	struct i2c_smbus smbus;
	struct i2c_status status;
	int result;
	struct i2c_job *next;
};

struct i2c_area {
	struct daemon *d;
	const struct i2c_ops *ops;
	const struct i2c_sim_ops *sim; /* simulated board only */
	struct i2c_backend *be;
	struct i2c_worker *workers;
};

/* i2c_area.c */
/* Resolve step of {bus} (the simulator's controls use it too). */
int i2c_resolve_bus(struct request *req, struct target *t);

/* i2c_queue.c */
/* Queues the job on its bus (the request is answered when it is done, times
 * out, or is revoked). REQ_ASYNC, or a recorded failure (429 when the bus or
 * the caller's share of it is full); the job is freed on failure. */
int i2c_queue_submit(struct request *req, struct i2c_job *j);
/* Drops jobs of caller not started yet: all of them, or those for which
 * still_allowed() is false (a narrower policy). They are answered 403/503. */
void i2c_queue_drop(struct i2c_area *a, const char *caller,
                    bool (*still_allowed)(const struct i2c_job *j, void *data), void *data);
void i2c_queue_fini(struct i2c_area *a);
void i2c_job_free(struct i2c_job *j);
