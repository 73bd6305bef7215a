/* SPDX-License-Identifier: GPL-2.0-or-later */
/* I2C for services: combined transfers and SMBus calls, queued on the bus's
 * worker (i2c_queue.c) and answered when they complete. docs/i2c.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "config.h"
#include "i2c_private.h"
#include "log.h"
#include "policy.h"
#include "registry.h"

static struct i2c_area *i2c_area_of(const struct request *req)
{
	return req_daemon(req)->i2c;
}

static int i2c_fail(struct request *req, const struct i2c_job *j)
{
	switch (j->result) {
	case -EREMOTEIO:
		return req_fail(req, -EREMOTEIO,
		                "check the address and the wiring; i2c detect lists answering "
		                "devices",
		                "bus %u: device 0x%02x did not answer (%s)", j->bus, j->addr,
		                strerror(j->status.kerr ? j->status.kerr : EREMOTEIO));
	case -EOPNOTSUPP:
		return req_fail(req, -EOPNOTSUPP, "use another operation, or a transfer",
		                "bus %u: the adapter lacks %s", j->bus, j->status.missing);
	case -ENODEV:
		return req_fail(req, -ENODEV, "the adapter may come back", "bus %u is gone",
		                j->bus);
	case -ENOENT:
		return req_fail(req, -ENODEV, "GET /v1/i2c lists the buses", "bus %u is gone",
		                j->bus);
	case -EBUSY:
		return req_fail(
		        req, -EBUSY, "a kernel driver serves this device (i2cdetect shows UU)",
		        "bus %u: address 0x%02x is used by a kernel driver", j->bus, j->addr);
	default:
		return req_fail(req, j->result, NULL, "bus %u address 0x%02x: %s", j->bus, j->addr,
		                strerror(-j->result));
	}
}

static json_t *i2c_bytes_json(const uint8_t *buf, size_t len)
{
	json_t *a = json_array();

	for (size_t k = 0; k < len; k++)
		json_array_append_new(a, json_integer(buf[k]));
	return a;
}

static json_t *i2c_result_json(const struct i2c_job *j)
{
	json_t *reads;

	if (j->kind == I2C_JOB_TRANSFER) {
		reads = json_array();
		for (size_t i = 0; i < j->n_msgs; i++)
			if (j->msgs[i].read)
				json_array_append_new(
				        reads, i2c_bytes_json(j->msgs[i].buf, j->msgs[i].len));
		return json_pack("{s:o}", "reads", reads);
	}
	switch (j->smbus.op) {
	case I2C_OP_READ_BYTE:
	case I2C_OP_READ_BYTE_DATA:
	case I2C_OP_READ_WORD_DATA:
	case I2C_OP_PROCESS_CALL:
		return json_pack("{s:i}", "value", (int)j->smbus.result);
	case I2C_OP_READ_BLOCK_DATA:
	case I2C_OP_READ_I2C_BLOCK_DATA:
		return json_pack("{s:o}", "data", i2c_bytes_json(j->smbus.data, j->smbus.len));
	default:
		return json_object();
	}
}

static void i2c_reply(struct i2c_job *j)
{
	struct request *req = j->req;

	j->req = NULL;
	if (j->result < 0)
		req_complete(req, i2c_fail(req, j));
	else
		req_complete(req, req_result_json(req, 200, i2c_result_json(j)));
}

/* --- resolve and checks --- */

static bool i2c_bus_exists(struct i2c_area *a, unsigned bus)
{
	unsigned buses[I2C_MAX_BUSES];
	int n = a->ops->list_buses(a->be, buses, I2C_MAX_BUSES);

	for (int i = 0; i < n; i++)
		if (buses[i] == bus)
			return true;
	return false;
}

static int i2c_parse_bus(struct request *req, struct target *t)
{
	unsigned long long bus;
	int r = req_parse_uint(req_param(req, "bus"), 0, 1023, &bus);

	t->want.kind = POLICY_I2C;
	if (r < 0)
		return req_fail(req, r == -ERANGE ? -EINVAL : r,
		                "buses are numbers: 1 for /dev/i2c-1", "bad bus \"%.32s\"",
		                req_param(req, "bus"));
	t->want.bus = (unsigned)bus;
	return 0;
}

int i2c_resolve_bus(struct request *req, struct target *t)
{
	int r = i2c_parse_bus(req, t);

	if (r < 0)
		return r;
	if (!i2c_bus_exists(i2c_area_of(req), t->want.bus))
		return req_fail(req, -ENOENT, "GET /v1/i2c lists the buses", "no I2C bus %u",
		                t->want.bus);
	return 0;
}

static int i2c_resolve_address(struct request *req, struct target *t)
{
	unsigned long long addr;
	int r = i2c_parse_bus(req, t);

	if (r < 0)
		return r;
	r = req_parse_uint(req_param(req, "addr"), 0, 0x3ff, &addr);
	if (r < 0)
		return req_fail(req, r == -ERANGE ? -EINVAL : r,
		                "addresses are 7-bit: 0x03 to 0x77", "bad address \"%.32s\"",
		                req_param(req, "addr"));
	if (addr > 0x7f)
		return req_fail(req, -EINVAL, "addresses are 7-bit: 0x03 to 0x77",
		                "10-bit addresses are not supported (0x%llx)", addr);
	t->want.addr = (unsigned)addr;
	if (!i2c_bus_exists(i2c_area_of(req), t->want.bus))
		return req_fail(req, -ENOENT, "GET /v1/i2c lists the buses", "no I2C bus %u",
		                t->want.bus);
	return 0;
}

static int i2c_byte_array(const json_t *a, uint8_t *out, size_t max, size_t *n)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a) || json_array_size(a) > max)
		return -1;
	json_array_foreach(a, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 255)
			return -1;
		out[i] = (uint8_t)json_integer_value(v);
	}
	*n = json_array_size(a);
	return 0;
}

/* Every message well formed before anything touches the bus. */
static int i2c_check_transfer(struct request *req)
{
	json_t *msgs = json_object_get(req_json(req), "messages"), *m;
	uint8_t scratch[I2C_MAX_MSG_LEN];
	size_t total = 0, i, n;

	json_array_foreach(msgs, i, m)
	{
		json_t *w = json_object_get(m, "write"), *r = json_object_get(m, "read");
		if (!json_is_object(m) || json_object_size(m) != 1 || (!w && !r))
			return req_fail(req, -EINVAL, "{\"write\":[bytes]} or {\"read\":N}",
			                "message %zu must be a write or a read", i);
		if (r && (!json_is_integer(r) || json_integer_value(r) < 1 ||
		          json_integer_value(r) > I2C_MAX_MSG_LEN))
			return req_fail(req, -EINVAL, NULL, "message %zu: reads are 1 to %d bytes",
			                i, I2C_MAX_MSG_LEN);
		if (w && i2c_byte_array(w, scratch, I2C_MAX_MSG_LEN, &n) < 0)
			return req_fail(req, -EINVAL, NULL,
			                "message %zu: writes are up to %d integers 0 to 255", i,
			                I2C_MAX_MSG_LEN);
		total += w ? n : (size_t)json_integer_value(r);
	}
	if (total > I2C_MAX_TOTAL)
		return req_fail(req, -E2BIG, NULL, "a transfer moves at most %d bytes",
		                I2C_MAX_TOTAL);
	return 0;
}

static bool i2c_transfer_writes(const json_t *body)
{
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(body, "messages"), i, m)
	{
		if (json_object_get(m, "write"))
			return true;
	}
	return false;
}

/* The SMBus call of the body; 0 or a recorded failure. */
static int i2c_parse_smbus(struct request *req, struct i2c_smbus *s)
{
	json_t *body = req_json(req), *v = json_object_get(body, "value");
	const char *name = json_string_value(json_object_get(body, "op"));
	int op = i2c_op_from_name(name);
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	if (op < 0)
		return req_fail(req, -EINVAL, "see docs/i2c.md for the operations",
		                "unknown SMBus op \"%.40s\"", name ? name : "");
	s->op = (enum i2c_op)op;
	s->command = (uint8_t)json_integer_value(json_object_get(body, "command"));
	s->value = (uint16_t)json_integer_value(v);
	switch (s->op) {
	case I2C_OP_WRITE_BYTE:
	case I2C_OP_WRITE_BYTE_DATA:
		if (!json_is_integer(v) || json_integer_value(v) > 255)
			return req_fail(req, -EINVAL, NULL, "\"value\" must be a byte (0 to 255)");
		break;
	case I2C_OP_WRITE_WORD_DATA:
	case I2C_OP_PROCESS_CALL:
		if (!json_is_integer(v))
			return req_fail(req, -EINVAL, NULL,
			                "\"value\" must be a word (0 to 65535)");
		break;
	case I2C_OP_QUICK:
		s->value = json_is_true(json_object_get(body, "read")) ? 1 : 0;
		break;
	case I2C_OP_WRITE_BLOCK_DATA:
	case I2C_OP_WRITE_I2C_BLOCK_DATA:
		if (i2c_byte_array(json_object_get(body, "data"), s->data, I2C_BLOCK_MAX, &n) < 0 ||
		    n == 0)
			return req_fail(req, -EINVAL, NULL,
			                "\"data\" must be 1 to %d bytes (0 to 255)", I2C_BLOCK_MAX);
		s->len = (uint8_t)n;
		break;
	case I2C_OP_READ_I2C_BLOCK_DATA:
		v = json_object_get(body, "length");
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > I2C_BLOCK_MAX)
			return req_fail(req, -EINVAL, NULL, "\"length\" must be 1 to %d",
			                I2C_BLOCK_MAX);
		s->len = (uint8_t)json_integer_value(v);
		break;
	default:
		break;
	}
	return 0;
}

static int i2c_check_smbus(struct request *req)
{
	struct i2c_smbus s;

	return i2c_parse_smbus(req, &s);
}

static bool i2c_smbus_writes(const json_t *body)
{
	int op = i2c_op_from_name(json_string_value(json_object_get(body, "op")));

	return op >= 0 && i2c_op_writes((enum i2c_op)op);
}

/* --- handlers --- */

static struct i2c_job *i2c_job_new(struct request *req)
{
	const struct target *t = req_target(req);
	struct i2c_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->area = i2c_area_of(req);
	j->answer = i2c_reply;
	j->bus = t->want.bus;
	j->addr = t->want.addr;
	j->writes = t->want.access & POLICY_WRITE;
	snprintf(j->caller, sizeof(j->caller), "%s", req_caller(req));
	return j;
}

static int i2c_transfer(struct request *req)
{
	json_t *msgs = json_object_get(req_json(req), "messages"), *m;
	struct i2c_job *j = i2c_job_new(req);
	size_t total = 0, i, off = 0, n;

	if (!j)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	json_array_foreach(msgs, i, m)
	{
		json_t *w = json_object_get(m, "write");
		total += w ? json_array_size(w)
		           : (size_t)json_integer_value(json_object_get(m, "read"));
	}
	j->buffer = malloc(total ? total : 1);
	if (!j->buffer) {
		i2c_job_free(j);
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	}
	j->kind = I2C_JOB_TRANSFER;
	json_array_foreach(msgs, i, m)
	{
		json_t *w = json_object_get(m, "write");
		j->msgs[i].buf = j->buffer + off;
		if (w) {
			i2c_byte_array(w, j->msgs[i].buf, I2C_MAX_MSG_LEN, &n); /* checked */
		} else {
			n = (size_t)json_integer_value(json_object_get(m, "read"));
			j->msgs[i].read = true;
		}
		j->msgs[i].len = (uint16_t)n;
		off += n;
	}
	j->n_msgs = json_array_size(msgs);
	return i2c_queue_submit(req, j);
}

static int i2c_smbus_call(struct request *req)
{
	struct i2c_job *j = i2c_job_new(req);

	if (!j)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	j->kind = I2C_JOB_SMBUS;
	i2c_parse_smbus(req, &j->smbus); /* checked */
	return i2c_queue_submit(req, j);
}

static int i2c_list(struct request *req)
{
	struct i2c_area *a = i2c_area_of(req);
	struct service *svc = req_service(req);
	unsigned buses[I2C_MAX_BUSES];
	int n = a->ops->list_buses(a->be, buses, I2C_MAX_BUSES);
	json_t *list = json_array();

	for (int i = 0; i < n; i++) {
		json_t *addrs = json_array();
		for (unsigned addr = 0; addr < 0x80; addr++) {
			struct policy_request want = {.kind = POLICY_I2C,
			                              .access = POLICY_READ,
			                              .bus = buses[i],
			                              .addr = addr};
			struct policy_request want_w = want;
			struct policy_decision d;
			char text[8];
			want_w.access = POLICY_READ | POLICY_WRITE;
			if (svc && !policy_allows(svc->policy, &want, &d))
				continue;
			if (!svc && (addr < 0x03 || addr > 0x77))
				continue;
			snprintf(text, sizeof(text), "0x%02x", addr);
			json_array_append_new(
			        addrs,
			        json_pack("{s:s,s:s}", "address", text, "access",
			                  !svc || policy_allows(svc->policy, &want_w, &d) ? "rw"
			                                                                  : "ro"));
		}
		if (svc && !json_array_size(addrs)) {
			json_decref(addrs);
			continue;
		}
		json_array_append_new(
		        list, json_pack("{s:i,s:o}", "bus", (int)buses[i], "addresses", addrs));
	}
	return req_result_json(req, 200, json_pack("{s:o}", "buses", list));
}

/* --- hooks --- */

static bool i2c_job_still_allowed(const struct i2c_job *j, void *data)
{
	struct service *svc = data;
	struct policy_request want = {
	        .kind = POLICY_I2C,
	        .access = j->writes ? POLICY_READ | POLICY_WRITE : POLICY_READ,
	        .bus = j->bus,
	        .addr = j->addr,
	};
	struct policy_decision d;

	return policy_allows(svc->policy, &want, &d);
}

static void i2c_policy_changed(struct daemon *d, struct service *svc)
{
	i2c_queue_drop(d->i2c, svc->name, i2c_job_still_allowed, svc);
}

static void i2c_service_removed(struct daemon *d, struct service *svc)
{
	i2c_queue_drop(d->i2c, svc->name, NULL, NULL);
}

static int i2c_init(struct daemon *d)
{
	struct i2c_area *a = calloc(1, sizeof(*a));
	struct i2c_params params = {d->cfg->dev_dir, d->cfg->board_file, d->env};
	int r;

	if (!a)
		return -ENOMEM;
	a->d = d;
	a->ops = i2c_backend_find(d->cfg->sim ? "sim" : "dev");
	a->sim = i2c_backend_sim(a->ops);
	r = a->ops->open(&a->be, &params);
	if (r < 0) {
		free(a);
		return r;
	}
	d->i2c = a;
	return 0;
}

static void i2c_fini(struct daemon *d)
{
	struct i2c_area *a = d->i2c;

	if (!a)
		return;
	i2c_queue_fini(a);
	a->ops->close(a->be);
	free(a);
	d->i2c = NULL;
}

static const struct schema i2c_transfer_schema = {
        .fields = (const struct schema_field[]){{"messages", SCHEMA_ARRAY, true, 1, I2C_MAX_MSGS},
                                                {0}},
};
static const struct schema i2c_smbus_schema = {
        .fields = (const struct schema_field[]){{"op", SCHEMA_STRING, true, 1, 32},
                                                {"command", SCHEMA_INT, false, 0, 255},
                                                {"value", SCHEMA_INT, false, 0, 65535},
                                                {"data", SCHEMA_ARRAY, false, 0, I2C_BLOCK_MAX},
                                                {"length", SCHEMA_INT, false, 1, I2C_BLOCK_MAX},
                                                {"read", SCHEMA_BOOL, false, 0, 0},
                                                {0}},
};

static const struct route i2c_routes[] = {
        {.method = "GET",
         .pattern = "/v1/i2c",
         .sockets = ROUTE_ANY,
         .resource = RES_NONE,
         .access = ACCESS_NONE,
         .handler = i2c_list},
        {.method = "POST",
         .pattern = "/v1/i2c/{bus}/{addr}/transfer",
         .sockets = ROUTE_ANY,
         .body = BODY_JSON,
         .schema = &i2c_transfer_schema,
         .check = i2c_check_transfer,
         .resource = RES_I2C_ADDRESS,
         .access = ACCESS_BODY,
         .resolve = i2c_resolve_address,
         .body_writes = i2c_transfer_writes,
         .handler = i2c_transfer},
        {.method = "POST",
         .pattern = "/v1/i2c/{bus}/{addr}/smbus",
         .sockets = ROUTE_ANY,
         .body = BODY_JSON,
         .schema = &i2c_smbus_schema,
         .check = i2c_check_smbus,
         .resource = RES_I2C_ADDRESS,
         .access = ACCESS_BODY,
         .resolve = i2c_resolve_address,
         .body_writes = i2c_smbus_writes,
         .handler = i2c_smbus_call},
};

const struct area area_i2c = {
        .name = "i2c",
        AREA_ROUTES(i2c_routes),
        .init = i2c_init,
        .fini = i2c_fini,
        .policy_changed = i2c_policy_changed,
        .service_removed = i2c_service_removed,
};
