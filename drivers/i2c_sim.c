/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulated board's I2C buses: device models behind addresses, NACK
 * elsewhere, SMBus carried over raw messages as the wire would carry it.
 * Default: bus 0 empty; bus 1 with a BME280 at 0x76 and a 24C02 at 0x50. */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "i2c.h"
#include "i2c_sim.h"

#define SIM_MAX_DEVICES 16

struct sim_device {
	unsigned addr;
	const struct i2c_sim_model *model;
	void *state;
	int fault;            /* injected error of the next transfers */
	unsigned fault_count; /* how many transfers still fail */
};

struct sim_bus {
	unsigned number;
	struct sim_device devices[SIM_MAX_DEVICES];
	size_t n_devices;
	unsigned delay_ms;
	pthread_mutex_t lock;
};

struct i2c_backend {
	const struct drv_env *env;
	volatile int closing; /* set by interrupt(): delays end at once */
	struct sim_bus buses[I2C_MAX_BUSES];
	size_t n_buses;
};

static const struct i2c_sim_model *const sim_models[] = {&i2c_sim_bme280, &i2c_sim_eeprom};

static struct sim_bus *sim_add_bus(struct i2c_backend *be, unsigned number)
{
	struct sim_bus *b;

	if (be->n_buses == I2C_MAX_BUSES)
		return NULL;
	b = &be->buses[be->n_buses++];
	b->number = number;
	pthread_mutex_init(&b->lock, NULL);
	return b;
}

static int sim_add_device(struct sim_bus *b, unsigned addr, const char *model)
{
	const struct i2c_sim_model *m = NULL;

	for (size_t i = 0; i < sizeof(sim_models) / sizeof(sim_models[0]); i++)
		if (!strcmp(sim_models[i]->name, model))
			m = sim_models[i];
	if (!m || addr > 0x7f || b->n_devices == SIM_MAX_DEVICES)
		return -EINVAL;
	b->devices[b->n_devices].addr = addr;
	b->devices[b->n_devices].model = m;
	b->devices[b->n_devices].state = m->create();
	if (!b->devices[b->n_devices].state)
		return -ENOMEM;
	b->n_devices++;
	return 0;
}

static int sim_load_board(struct i2c_backend *be, const char *path)
{
	json_t *root = json_load_file(path, 0, NULL), *bus, *dev;
	size_t i, k;
	int r = 0;

	if (!root)
		return -EINVAL;
	json_array_foreach(json_object_get(root, "i2c"), i, bus)
	{
		struct sim_bus *b =
		        sim_add_bus(be, (unsigned)json_integer_value(json_object_get(bus, "bus")));
		if (!b) {
			r = -EINVAL;
			break;
		}
		json_array_foreach(json_object_get(bus, "devices"), k, dev)
		{
			const char *a = json_string_value(json_object_get(dev, "address"));
			unsigned addr =
			        a ? (unsigned)strtoul(a, NULL, 0)
			          : (unsigned)json_integer_value(json_object_get(dev, "address"));
			r = sim_add_device(b, addr,
			                   json_string_value(json_object_get(dev, "model")) ?: "");
			if (r < 0) {
				env_log(be->env, DRV_LOG_ERROR, "i2c",
				        "%s: i2c bus %u: bad device (model bme280 or 24c02, "
				        "address 0x03-0x77)",
				        path, b->number);
				break;
			}
		}
	}
	json_decref(root);
	return r;
}

static void sim_close(struct i2c_backend *be)
{
	for (size_t i = 0; i < be->n_buses; i++) {
		struct sim_bus *b = &be->buses[i];
		for (size_t k = 0; k < b->n_devices; k++)
			b->devices[k].model->destroy(b->devices[k].state);
		pthread_mutex_destroy(&b->lock);
	}
	free(be);
}

static int sim_open(struct i2c_backend **out, const struct i2c_params *params)
{
	struct i2c_backend *be = calloc(1, sizeof(*be));
	struct sim_bus *b;
	int r = 0;

	if (!be)
		return -ENOMEM;
	be->env = params ? params->env : NULL;
	if (params && params->board_file) {
		r = sim_load_board(be, params->board_file);
	} else {
		sim_add_bus(be, 0);
		b = sim_add_bus(be, 1);
		if (sim_add_device(b, 0x76, "bme280") < 0 || sim_add_device(b, 0x50, "24c02") < 0)
			r = -ENOMEM;
	}
	if (r < 0) {
		sim_close(be);
		return r;
	}
	*out = be;
	return 0;
}

static int sim_list_buses(struct i2c_backend *be, unsigned *buses, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < be->n_buses && n < max; i++)
		buses[n++] = be->buses[i].number;
	return (int)n;
}

static struct sim_bus *sim_bus(struct i2c_backend *be, unsigned bus)
{
	for (size_t i = 0; i < be->n_buses; i++)
		if (be->buses[i].number == bus)
			return &be->buses[i];
	return NULL;
}

/* In slices, so that a shutdown does not wait out a long simulated delay. */
static int sim_sleep_ms(struct i2c_backend *be, unsigned ms)
{
	while (ms && !__atomic_load_n(&be->closing, __ATOMIC_RELAXED)) {
		unsigned slice = ms < 20 ? ms : 20;
		struct timespec ts = {0, (long)slice * 1000000L};
		while (nanosleep(&ts, &ts) < 0)
			;
		ms -= slice;
	}
	return ms ? -ESHUTDOWN : 0;
}

static void sim_interrupt(struct i2c_backend *be)
{
	__atomic_store_n(&be->closing, 1, __ATOMIC_RELAXED);
}

static int sim_transfer(struct i2c_backend *be, unsigned bus, unsigned addr,
                        struct i2c_xfer_msg *msgs, size_t n, struct i2c_status *st)
{
	struct sim_bus *b = sim_bus(be, bus);
	struct sim_device *d = NULL;
	unsigned delay;
	int r = 0;

	if (!b)
		return -ENOENT;
	pthread_mutex_lock(&b->lock);
	delay = b->delay_ms;
	pthread_mutex_unlock(&b->lock);
	if (delay && sim_sleep_ms(be, delay) < 0) /* a slow bus or a clock-stretching part */
		return -ESHUTDOWN;
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->n_devices; i++)
		if (b->devices[i].addr == addr)
			d = &b->devices[i];
	if (!d) {
		st->kerr = ENXIO; /* what an adapter reports for an unanswered address */
		r = -EREMOTEIO;
		goto unlock;
	}
	if (d->fault_count) {
		d->fault_count--;
		r = d->fault;
		if (r == -EREMOTEIO)
			st->kerr = ENXIO;
		goto unlock;
	}
	for (size_t i = 0; i < n && r == 0; i++)
		r = msgs[i].read ? d->model->read(d->state, msgs[i].buf, msgs[i].len)
		                 : d->model->write(d->state, msgs[i].buf, msgs[i].len);
unlock:
	pthread_mutex_unlock(&b->lock);
	return r;
}

/* SMBus over raw messages, byte for byte as on the wire. */
static int sim_smbus(struct i2c_backend *be, unsigned bus, unsigned addr, struct i2c_smbus *s,
                     struct i2c_status *st)
{
	uint8_t w[2 + I2C_BLOCK_MAX], rd[1 + I2C_BLOCK_MAX];
	struct i2c_xfer_msg m[2] = {{false, 0, w}, {true, 0, rd}};
	size_t n = 2;
	int r;

	w[0] = s->command;
	switch (s->op) {
	case I2C_OP_QUICK:
		m[0].read = s->value;
		n = 1;
		break;
	case I2C_OP_READ_BYTE:
		m[0] = m[1];
		m[0].len = 1;
		n = 1;
		break;
	case I2C_OP_WRITE_BYTE:
		w[0] = (uint8_t)s->value;
		m[0].len = 1;
		n = 1;
		break;
	case I2C_OP_READ_BYTE_DATA:
		m[0].len = 1;
		m[1].len = 1;
		break;
	case I2C_OP_WRITE_BYTE_DATA:
		w[1] = (uint8_t)s->value;
		m[0].len = 2;
		n = 1;
		break;
	case I2C_OP_READ_WORD_DATA:
		m[0].len = 1;
		m[1].len = 2;
		break;
	case I2C_OP_WRITE_WORD_DATA:
	case I2C_OP_PROCESS_CALL:
		w[1] = s->value & 0xff;
		w[2] = (uint8_t)(s->value >> 8);
		m[0].len = 3;
		m[1].len = 2;
		n = s->op == I2C_OP_PROCESS_CALL ? 2 : 1;
		break;
	case I2C_OP_READ_BLOCK_DATA:
		m[0].len = 1;
		m[1].len = 1 + I2C_BLOCK_MAX;
		break;
	case I2C_OP_WRITE_BLOCK_DATA:
		w[1] = s->len;
		memcpy(w + 2, s->data, s->len);
		m[0].len = (uint16_t)(2 + s->len);
		n = 1;
		break;
	case I2C_OP_READ_I2C_BLOCK_DATA:
		m[0].len = 1;
		m[1].len = s->len;
		break;
	case I2C_OP_WRITE_I2C_BLOCK_DATA:
		memcpy(w + 1, s->data, s->len);
		m[0].len = (uint16_t)(1 + s->len);
		n = 1;
		break;
	default:
		return -EINVAL;
	}
	r = sim_transfer(be, bus, addr, m, n, st);
	if (r < 0)
		return r;
	switch (s->op) {
	case I2C_OP_READ_BYTE:
		s->result = rd[0];
		break;
	case I2C_OP_READ_BYTE_DATA:
		s->result = rd[0];
		break;
	case I2C_OP_READ_WORD_DATA:
	case I2C_OP_PROCESS_CALL:
		s->result = (uint16_t)(rd[0] | rd[1] << 8);
		break;
	case I2C_OP_READ_BLOCK_DATA:
		/* The device's first byte is the count. */
		if (rd[0] == 0 || rd[0] > I2C_BLOCK_MAX)
			return -EPROTO;
		s->len = rd[0];
		memcpy(s->data, rd + 1, s->len);
		break;
	case I2C_OP_READ_I2C_BLOCK_DATA:
		memcpy(s->data, rd, s->len);
		break;
	default:
		break;
	}
	return 0;
}

static int sim_set_delay(struct i2c_backend *be, unsigned bus, unsigned delay_ms)
{
	struct sim_bus *b = sim_bus(be, bus);

	if (!b)
		return -ENOENT;
	pthread_mutex_lock(&b->lock);
	b->delay_ms = delay_ms;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

const struct i2c_ops i2c_sim_ops = {
        .name = "sim",
        .open = sim_open,
        .close = sim_close,
        .list_buses = sim_list_buses,
        .transfer = sim_transfer,
        .smbus = sim_smbus,
        .interrupt = sim_interrupt,
};

static int sim_inject_fault(struct i2c_backend *be, unsigned bus, unsigned addr, int err,
                            unsigned count)
{
	struct sim_bus *b = sim_bus(be, bus);
	int r = -ENOENT;

	if (!b)
		return -ENOENT;
	if (err != -EREMOTEIO && err != -EIO && err != -ENODEV && err != -ETIMEDOUT &&
	    err != -EBUSY)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < b->n_devices; i++) {
		if (b->devices[i].addr != addr)
			continue;
		b->devices[i].fault = err;
		b->devices[i].fault_count = count;
		r = 0;
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

static json_t *sim_snapshot(struct i2c_backend *be)
{
	json_t *buses = json_array();

	for (size_t i = 0; i < be->n_buses; i++) {
		struct sim_bus *b = &be->buses[i];
		json_t *devices = json_array();
		pthread_mutex_lock(&b->lock);
		for (size_t k = 0; k < b->n_devices; k++) {
			const struct sim_device *d = &b->devices[k];
			json_t *o = d->model->snapshot(d->state);
			json_object_set_new(o, "address", json_integer(d->addr));
			json_object_set_new(o, "model", json_string(d->model->name));
			json_array_append_new(devices, o);
		}
		pthread_mutex_unlock(&b->lock);
		json_array_append_new(
		        buses, json_pack("{s:i,s:o}", "bus", (int)b->number, "devices", devices));
	}
	return json_pack("{s:o}", "buses", buses);
}

const struct i2c_sim_ops i2c_sim_control = {
        .set_delay = sim_set_delay,
        .inject_fault = sim_inject_fault,
        .snapshot = sim_snapshot,
};
