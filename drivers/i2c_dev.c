/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Real I2C through /dev/i2c-N: SMBus with libi2c's i2c_smbus_* calls,
 * combined transactions with I2C_RDWR, and the adapter's I2C_FUNCS checked
 * before each kind of operation. Each bus's fd is used only by its worker. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <i2c/smbus.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "i2c.h"

#define DEV_MAX_MSGS 42 /* I2C_RDWR_IOCTL_MAX_MSGS */

struct dev_slot {
	bool used;
	unsigned bus;
	int fd;
	unsigned long funcs;
};

struct i2c_backend {
	char dev_dir[256];
	pthread_mutex_t lock; /* slot table only */
	struct dev_slot slots[I2C_MAX_BUSES];
};

static int dev_open(struct i2c_backend **out, const struct i2c_params *params)
{
	struct i2c_backend *be = calloc(1, sizeof(*be));

	if (!be)
		return -ENOMEM;
	snprintf(be->dev_dir, sizeof(be->dev_dir), "%s",
	         params && params->dev_dir ? params->dev_dir : "/dev");
	pthread_mutex_init(&be->lock, NULL);
	*out = be;
	return 0;
}

static void dev_close(struct i2c_backend *be)
{
	for (size_t i = 0; i < I2C_MAX_BUSES; i++)
		if (be->slots[i].used && be->slots[i].fd >= 0)
			close(be->slots[i].fd);
	pthread_mutex_destroy(&be->lock);
	free(be);
}

static int dev_list_buses(struct i2c_backend *be, unsigned *buses, size_t max)
{
	DIR *d = opendir(be->dev_dir);
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d)) && n < max) {
		char *end;
		if (strncmp(de->d_name, "i2c-", 4) || !de->d_name[4])
			continue;
		unsigned long b = strtoul(de->d_name + 4, &end, 10);
		if (!*end && b < 1024)
			buses[n++] = (unsigned)b;
	}
	closedir(d);
	return (int)n;
}

static void dev_node(struct i2c_backend *be, unsigned bus, char *path, size_t len)
{
	snprintf(path, len, "%s/i2c-%u", be->dev_dir, bus);
}

/* The bus's slot with an open fd (opened on first use, reopened after the
 * adapter went away). */
static int dev_slot(struct i2c_backend *be, unsigned bus, struct dev_slot **out)
{
	struct dev_slot *s = NULL;
	char path[300];

	pthread_mutex_lock(&be->lock);
	for (size_t i = 0; i < I2C_MAX_BUSES && !s; i++)
		if (be->slots[i].used && be->slots[i].bus == bus)
			s = &be->slots[i];
	for (size_t i = 0; i < I2C_MAX_BUSES && !s; i++) {
		if (!be->slots[i].used) {
			s = &be->slots[i];
			s->used = true;
			s->bus = bus;
			s->fd = -1;
		}
	}
	pthread_mutex_unlock(&be->lock);
	if (!s)
		return -ENOSPC;
	if (s->fd < 0) {
		dev_node(be, bus, path, sizeof(path));
		s->fd = open(path, O_RDWR | O_CLOEXEC);
		if (s->fd < 0)
			return errno == ENOENT ? -ENOENT : -ENODEV;
		if (ioctl(s->fd, I2C_FUNCS, &s->funcs) < 0)
			s->funcs = 0;
	}
	*out = s;
	return 0;
}

/* A kernel error of a transfer: the device did not answer (NACK), or the
 * adapter is gone. i2c-stub answers absent addresses with ENODEV too, so the
 * bus counts as gone only when its device node went away. */
static int dev_error(struct i2c_backend *be, struct dev_slot *s, int err, struct i2c_status *st)
{
	char path[300];
	struct stat sb;

	if (err < 0)
		err = -err;
	dev_node(be, s->bus, path, sizeof(path));
	if (err == ENODEV && stat(path, &sb) < 0) {
		close(s->fd);
		s->fd = -1;
		return -ENODEV;
	}
	if (err == ENXIO || err == EREMOTEIO || err == EIO || err == ENODEV || err == EAGAIN) {
		st->kerr = err;
		return -EREMOTEIO;
	}
	if (err == ETIMEDOUT)
		return -ETIMEDOUT;
	return -err;
}

static int dev_need(const struct dev_slot *s, unsigned long func, const char *name,
                    struct i2c_status *st)
{
	if (s->funcs & func)
		return 0;
	snprintf(st->missing, sizeof(st->missing), "%s", name);
	return -EOPNOTSUPP;
}

static int dev_transfer(struct i2c_backend *be, unsigned bus, unsigned addr,
                        struct i2c_xfer_msg *msgs, size_t n, struct i2c_status *st)
{
	struct i2c_msg km[DEV_MAX_MSGS];
	struct i2c_rdwr_ioctl_data data = {km, (unsigned)n};
	struct dev_slot *s;
	int r = dev_slot(be, bus, &s);

	if (r < 0)
		return r;
	if ((r = dev_need(s, I2C_FUNC_I2C, "I2C_FUNC_I2C", st)) < 0)
		return r;
	if (n > DEV_MAX_MSGS)
		return -E2BIG;
	/* I2C_RDWR does not look at who owns the address; I2C_SLAVE does (EBUSY
	 * when a kernel driver has bound it), so it is asked first, as for SMBus. */
	if (ioctl(s->fd, I2C_SLAVE, (unsigned long)addr) < 0)
		return errno == EBUSY ? -EBUSY : dev_error(be, s, errno, st);
	for (size_t i = 0; i < n; i++) {
		km[i].addr = (uint16_t)addr;
		km[i].flags = msgs[i].read ? I2C_M_RD : 0;
		km[i].len = msgs[i].len;
		km[i].buf = msgs[i].buf;
	}
	if (ioctl(s->fd, I2C_RDWR, &data) < 0)
		return dev_error(be, s, errno, st);
	return 0;
}

static const struct {
	unsigned long func;
	const char *name;
} dev_funcs[I2C_OP_COUNT] = {
        [I2C_OP_QUICK] = {I2C_FUNC_SMBUS_QUICK, "I2C_FUNC_SMBUS_QUICK"},
        [I2C_OP_READ_BYTE] = {I2C_FUNC_SMBUS_READ_BYTE, "I2C_FUNC_SMBUS_READ_BYTE"},
        [I2C_OP_WRITE_BYTE] = {I2C_FUNC_SMBUS_WRITE_BYTE, "I2C_FUNC_SMBUS_WRITE_BYTE"},
        [I2C_OP_READ_BYTE_DATA] = {I2C_FUNC_SMBUS_READ_BYTE_DATA, "I2C_FUNC_SMBUS_READ_BYTE_DATA"},
        [I2C_OP_WRITE_BYTE_DATA] = {I2C_FUNC_SMBUS_WRITE_BYTE_DATA,
                                    "I2C_FUNC_SMBUS_WRITE_BYTE_DATA"},
        [I2C_OP_READ_WORD_DATA] = {I2C_FUNC_SMBUS_READ_WORD_DATA, "I2C_FUNC_SMBUS_READ_WORD_DATA"},
        [I2C_OP_WRITE_WORD_DATA] = {I2C_FUNC_SMBUS_WRITE_WORD_DATA,
                                    "I2C_FUNC_SMBUS_WRITE_WORD_DATA"},
        [I2C_OP_PROCESS_CALL] = {I2C_FUNC_SMBUS_PROC_CALL, "I2C_FUNC_SMBUS_PROC_CALL"},
        [I2C_OP_READ_BLOCK_DATA] = {I2C_FUNC_SMBUS_READ_BLOCK_DATA,
                                    "I2C_FUNC_SMBUS_READ_BLOCK_DATA"},
        [I2C_OP_WRITE_BLOCK_DATA] = {I2C_FUNC_SMBUS_WRITE_BLOCK_DATA,
                                     "I2C_FUNC_SMBUS_WRITE_BLOCK_DATA"},
        [I2C_OP_READ_I2C_BLOCK_DATA] = {I2C_FUNC_SMBUS_READ_I2C_BLOCK,
                                        "I2C_FUNC_SMBUS_READ_I2C_BLOCK"},
        [I2C_OP_WRITE_I2C_BLOCK_DATA] = {I2C_FUNC_SMBUS_WRITE_I2C_BLOCK,
                                         "I2C_FUNC_SMBUS_WRITE_I2C_BLOCK"},
};

static int dev_smbus(struct i2c_backend *be, unsigned bus, unsigned addr, struct i2c_smbus *sm,
                     struct i2c_status *st)
{
	struct dev_slot *s;
	int r = dev_slot(be, bus, &s), fd;

	if (r < 0)
		return r;
	if ((unsigned)sm->op >= I2C_OP_COUNT)
		return -EINVAL;
	if ((r = dev_need(s, dev_funcs[sm->op].func, dev_funcs[sm->op].name, st)) < 0)
		return r;
	fd = s->fd;
	if (ioctl(fd, I2C_SLAVE, (unsigned long)addr) < 0)
		return errno == EBUSY ? -EBUSY : dev_error(be, s, errno, st);
	switch (sm->op) {
	case I2C_OP_QUICK:
		r = i2c_smbus_write_quick(fd, (uint8_t)sm->value);
		break;
	case I2C_OP_READ_BYTE:
		r = i2c_smbus_read_byte(fd);
		break;
	case I2C_OP_WRITE_BYTE:
		r = i2c_smbus_write_byte(fd, (uint8_t)sm->value);
		break;
	case I2C_OP_READ_BYTE_DATA:
		r = i2c_smbus_read_byte_data(fd, sm->command);
		break;
	case I2C_OP_WRITE_BYTE_DATA:
		r = i2c_smbus_write_byte_data(fd, sm->command, (uint8_t)sm->value);
		break;
	case I2C_OP_READ_WORD_DATA:
		r = i2c_smbus_read_word_data(fd, sm->command);
		break;
	case I2C_OP_WRITE_WORD_DATA:
		r = i2c_smbus_write_word_data(fd, sm->command, sm->value);
		break;
	case I2C_OP_PROCESS_CALL:
		r = i2c_smbus_process_call(fd, sm->command, sm->value);
		break;
	case I2C_OP_READ_BLOCK_DATA:
		r = i2c_smbus_read_block_data(fd, sm->command, sm->data);
		if (r >= 0)
			sm->len = (uint8_t)r;
		break;
	case I2C_OP_WRITE_BLOCK_DATA:
		r = i2c_smbus_write_block_data(fd, sm->command, sm->len, sm->data);
		break;
	case I2C_OP_READ_I2C_BLOCK_DATA:
		r = i2c_smbus_read_i2c_block_data(fd, sm->command, sm->len, sm->data);
		if (r >= 0)
			sm->len = (uint8_t)r;
		break;
	case I2C_OP_WRITE_I2C_BLOCK_DATA:
		r = i2c_smbus_write_i2c_block_data(fd, sm->command, sm->len, sm->data);
		break;
	default:
		return -EINVAL;
	}
	if (r < 0)
		return dev_error(be, s, r, st);
	sm->result = (uint16_t)r;
	return 0;
}

const struct i2c_ops i2c_dev_ops = {
        .name = "dev",
        .open = dev_open,
        .close = dev_close,
        .list_buses = dev_list_buses,
        .transfer = dev_transfer,
        .smbus = dev_smbus,
};
