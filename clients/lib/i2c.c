/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* I2C calls of libhwbroker. */
#include <errno.h>
#include <string.h>

#include "client_private.h"

#define I2C_BLOCK_MAX 32

/* Element i of the caller's array, whose stride is its own sizeof. */
static struct hwb_i2c_msg i2c_msg_at(const struct hwb_i2c_msg *msgs, size_t i)
{
	struct hwb_i2c_msg m = {0};

	memcpy(&m, (const char *)msgs + i * msgs->size, HWB_MIN(msgs->size, sizeof(m)));
	return m;
}

HWB_EXPORT int hwb_i2c_transfer(struct hwb *h, unsigned bus, unsigned addr,
                                struct hwb_i2c_msg *msgs, size_t n)
{
	json_t *list, *body, *reply = NULL, *reads;
	char path[96];
	size_t k = 0;
	int r;

	if (n && (!msgs || msgs->size < HWB_SIZE_V1(struct hwb_i2c_msg, read)))
		return hwb_set_error(h, -EINVAL, "invalid",
		                     "struct hwb_i2c_msg: size not set (HWB_I2C_MSG_INIT)");
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		struct hwb_i2c_msg m = i2c_msg_at(msgs, i);
		if (m.read) {
			json_array_append_new(list, json_pack("{s:i}", "read", (int)m.len));
			continue;
		}
		json_t *bytes = json_array();
		for (size_t b = 0; b < m.len; b++)
			json_array_append_new(bytes, json_integer(m.buf[b]));
		json_array_append_new(list, json_pack("{s:o}", "write", bytes));
	}
	body = json_pack("{s:o}", "messages", list);
	hwb_path(path, sizeof(path), "/v1/i2c/%u/%u/transfer", bus, addr);
	r = hwb_call_json(h, "POST", path, body, &reply);
	json_decref(body);
	if (r < 0)
		return r;
	reads = json_object_get(reply, "reads");
	for (size_t i = 0; i < n; i++) {
		struct hwb_i2c_msg m = i2c_msg_at(msgs, i);
		if (!m.read)
			continue;
		json_t *a = json_array_get(reads, k++), *v;
		size_t b;
		json_array_foreach(a, b, v)
		{
			if (b < m.len)
				m.buf[b] = (uint8_t)json_integer_value(v);
		}
	}
	json_decref(reply);
	return 0;
}

/* One SMBus call; returns "value", the count of "data", or 0. */
static int smbus(struct hwb *h, unsigned bus, unsigned addr, json_t *body, uint8_t *data,
                 size_t data_max)
{
	char path[96];
	json_t *reply = NULL, *v;
	int r;

	hwb_path(path, sizeof(path), "/v1/i2c/%u/%u/smbus", bus, addr);
	r = hwb_call_json(h, "POST", path, body, &reply);
	json_decref(body);
	if (r < 0)
		return r;
	r = 0;
	if ((v = json_object_get(reply, "value")))
		r = (int)json_integer_value(v);
	else if ((v = json_object_get(reply, "data")) && data) {
		size_t i;
		json_t *b;
		json_array_foreach(v, i, b)
		{
			if (i < data_max)
				data[i] = (uint8_t)json_integer_value(b);
		}
		r = (int)(json_array_size(v) < data_max ? json_array_size(v) : data_max);
	}
	json_decref(reply);
	return r;
}

static json_t *bytes_json(const uint8_t *values, uint8_t length)
{
	json_t *a = json_array();

	for (uint8_t i = 0; i < length; i++)
		json_array_append_new(a, json_integer(values[i]));
	return a;
}

HWB_EXPORT int hwb_smbus_write_quick(struct hwb *h, unsigned bus, unsigned addr, uint8_t value)
{
	return smbus(h, bus, addr, json_pack("{s:s,s:b}", "op", "quick", "read", value), NULL, 0);
}

HWB_EXPORT int hwb_smbus_read_byte(struct hwb *h, unsigned bus, unsigned addr)
{
	return smbus(h, bus, addr, json_pack("{s:s}", "op", "read_byte"), NULL, 0);
}

HWB_EXPORT int hwb_smbus_write_byte(struct hwb *h, unsigned bus, unsigned addr, uint8_t value)
{
	return smbus(h, bus, addr, json_pack("{s:s,s:i}", "op", "write_byte", "value", value), NULL,
	             0);
}

HWB_EXPORT int hwb_smbus_read_byte_data(struct hwb *h, unsigned bus, unsigned addr, uint8_t command)
{
	return smbus(h, bus, addr,
	             json_pack("{s:s,s:i}", "op", "read_byte_data", "command", command), NULL, 0);
}

HWB_EXPORT int hwb_smbus_write_byte_data(struct hwb *h, unsigned bus, unsigned addr,
                                         uint8_t command, uint8_t value)
{
	return smbus(h, bus, addr,
	             json_pack("{s:s,s:i,s:i}", "op", "write_byte_data", "command", command,
	                       "value", value),
	             NULL, 0);
}

HWB_EXPORT int hwb_smbus_read_word_data(struct hwb *h, unsigned bus, unsigned addr, uint8_t command)
{
	return smbus(h, bus, addr,
	             json_pack("{s:s,s:i}", "op", "read_word_data", "command", command), NULL, 0);
}

HWB_EXPORT int hwb_smbus_write_word_data(struct hwb *h, unsigned bus, unsigned addr,
                                         uint8_t command, uint16_t value)
{
	return smbus(h, bus, addr,
	             json_pack("{s:s,s:i,s:i}", "op", "write_word_data", "command", command,
	                       "value", value),
	             NULL, 0);
}

HWB_EXPORT int hwb_smbus_process_call(struct hwb *h, unsigned bus, unsigned addr, uint8_t command,
                                      uint16_t value)
{
	return smbus(h, bus, addr,
	             json_pack("{s:s,s:i,s:i}", "op", "process_call", "command", command, "value",
	                       value),
	             NULL, 0);
}

HWB_EXPORT int hwb_smbus_read_block_data(struct hwb *h, unsigned bus, unsigned addr,
                                         uint8_t command, uint8_t *values)
{
	return smbus(h, bus, addr,
	             json_pack("{s:s,s:i}", "op", "read_block_data", "command", command), values,
	             I2C_BLOCK_MAX);
}

HWB_EXPORT int hwb_smbus_write_block_data(struct hwb *h, unsigned bus, unsigned addr,
                                          uint8_t command, uint8_t length, const uint8_t *values)
{
	if (length == 0 || length > I2C_BLOCK_MAX)
		return hwb_set_error(h, -EINVAL, "invalid", "block length must be 1 to 32");
	return smbus(h, bus, addr,
	             json_pack("{s:s,s:i,s:o}", "op", "write_block_data", "command", command,
	                       "data", bytes_json(values, length)),
	             NULL, 0);
}

HWB_EXPORT int hwb_smbus_read_i2c_block_data(struct hwb *h, unsigned bus, unsigned addr,
                                             uint8_t command, uint8_t length, uint8_t *values)
{
	if (length == 0 || length > I2C_BLOCK_MAX)
		return hwb_set_error(h, -EINVAL, "invalid", "block length must be 1 to 32");
	return smbus(h, bus, addr,
	             json_pack("{s:s,s:i,s:i}", "op", "read_i2c_block_data", "command", command,
	                       "length", length),
	             values, length);
}

HWB_EXPORT int hwb_smbus_write_i2c_block_data(struct hwb *h, unsigned bus, unsigned addr,
                                              uint8_t command, uint8_t length,
                                              const uint8_t *values)
{
	if (length == 0 || length > I2C_BLOCK_MAX)
		return hwb_set_error(h, -EINVAL, "invalid", "block length must be 1 to 32");
	return smbus(h, bus, addr,
	             json_pack("{s:s,s:i,s:o}", "op", "write_i2c_block_data", "command", command,
	                       "data", bytes_json(values, length)),
	             NULL, 0);
}
