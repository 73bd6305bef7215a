/* I2C for services: combined transfers and SMBus calls, each bus served by
 * its own worker thread so a slow or stuck bus never stalls the loop, other
 * buses, GPIO or UART. docs/i2c.md is the reference. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "config.h"
#include "i2c.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "registry.h"

#define I2C_MAX_MSGS    16
#define I2C_MAX_MSG_LEN 4096
#define I2C_MAX_TOTAL   16384
#define I2C_QUEUE_MAX   32

enum job_kind { JOB_TRANSFER, JOB_SMBUS };

struct i2c_job {
	struct i2c_area *area;
	struct request *req;
	struct loop_timer *timer;
	unsigned bus, addr;
	enum job_kind kind;
	struct i2c_xfer_msg msgs[I2C_MAX_MSGS];
	size_t n_msgs;
	uint8_t *buffer;
	struct i2c_smbus smbus;
	struct i2c_status status;
	int result;
	bool replied, worker_done;
	struct i2c_job *next;
};

struct i2c_worker {
	struct i2c_area *area;
	unsigned bus;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct i2c_job *head, *tail;
	size_t queued;
	bool stop;
	struct i2c_worker *next;
};

struct i2c_area {
	struct broker *b;
	const struct i2c_ops *ops;
	struct i2c_backend *be;
	struct i2c_worker *workers;
};

static void i2c_job_free(struct i2c_job *j)
{
	free(j->buffer);
	free(j);
}

static void i2c_reply(struct i2c_job *j)
{
	struct request *req = j->req;
	json_t *body;

	if (j->result == -EREMOTEIO)
		req_error(req, -EREMOTEIO,
		          "check the address and the wiring; i2c detect lists answering devices",
		          "bus %u: device 0x%02x did not answer (%s)", j->bus, j->addr,
		          strerror(j->status.kerr ? j->status.kerr : EREMOTEIO));
	else if (j->result == -EOPNOTSUPP)
		req_error(req, -EOPNOTSUPP, "use another operation, or a transfer",
		          "bus %u: the adapter lacks %s", j->bus, j->status.missing);
	else if (j->result == -ENODEV)
		req_error(req, -ENODEV, "the adapter may come back", "bus %u is gone", j->bus);
	else if (j->result == -ENOENT)
		req_error(req, -ENOENT, "GET /v1/i2c lists the buses", "no I2C bus %u", j->bus);
	else if (j->result == -EBUSY)
		req_error(req, -EBUSY, NULL, "bus %u: address 0x%02x is used by a kernel driver",
		          j->bus, j->addr);
	else if (j->result < 0)
		req_error(req, j->result, NULL, "bus %u address 0x%02x: %s", j->bus, j->addr,
		          strerror(-j->result));
	else if (j->kind == JOB_TRANSFER) {
		json_t *reads = json_array();
		for (size_t i = 0; i < j->n_msgs; i++) {
			if (!j->msgs[i].read)
				continue;
			json_t *a = json_array();
			for (size_t k = 0; k < j->msgs[i].len; k++)
				json_array_append_new(a, json_integer(j->msgs[i].buf[k]));
			json_array_append_new(reads, a);
		}
		req_reply_json(req, 200, json_pack("{s:o}", "reads", reads));
	} else {
		switch (j->smbus.op) {
		case I2C_OP_READ_BYTE:
		case I2C_OP_READ_BYTE_DATA:
		case I2C_OP_READ_WORD_DATA:
		case I2C_OP_PROCESS_CALL:
			body = json_pack("{s:i}", "value", (int)j->smbus.result);
			break;
		case I2C_OP_READ_BLOCK_DATA:
		case I2C_OP_READ_I2C_BLOCK_DATA: {
			json_t *a = json_array();
			for (size_t k = 0; k < j->smbus.len; k++)
				json_array_append_new(a, json_integer(j->smbus.data[k]));
			body = json_pack("{s:o}", "data", a);
			break;
		}
		default:
			body = json_object();
		}
		req_reply_json(req, 200, body);
	}
	j->replied = true;
}

/* Loop thread: the worker finished. */
static void i2c_job_done(void *data)
{
	struct i2c_job *j = data;

	j->worker_done = true;
	if (j->replied) { /* timed out earlier: the client has its 504 */
		i2c_job_free(j);
		return;
	}
	loop_cancel_timer(j->area->b->loop, j->timer);
	i2c_reply(j);
	i2c_job_free(j);
}

static void i2c_job_timeout(void *data)
{
	struct i2c_job *j = data;

	j->timer = NULL;
	req_error(j->req, -ETIMEDOUT, "the device may hold the bus (clock stretching) or be stuck",
	          "bus %u address 0x%02x: no answer within %u ms", j->bus, j->addr,
	          j->area->b->cfg->i2c_timeout_ms);
	j->replied = true;
	if (j->worker_done)
		i2c_job_free(j);
}

static void *i2c_worker_main(void *data)
{
	struct i2c_worker *w = data;
	const struct i2c_ops *ops = w->area->ops;

	for (;;) {
		struct i2c_job *j;
		pthread_mutex_lock(&w->lock);
		while (!w->head && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->head) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		j = w->head;
		w->head = j->next;
		if (!w->head)
			w->tail = NULL;
		w->queued--;
		pthread_mutex_unlock(&w->lock);
		if (j->kind == JOB_TRANSFER)
			j->result = ops->transfer(w->area->be, j->bus, j->addr, j->msgs, j->n_msgs,
			                          &j->status);
		else
			j->result = ops->smbus(w->area->be, j->bus, j->addr, &j->smbus, &j->status);
		if (loop_post(w->area->b->loop, i2c_job_done, j) < 0)
			i2c_job_free(j); /* out of memory: the timeout answers the client */
	}
	return NULL;
}

static struct i2c_worker *i2c_worker_get(struct i2c_area *a, unsigned bus)
{
	struct i2c_worker *w;

	for (w = a->workers; w; w = w->next)
		if (w->bus == bus)
			return w;
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->area = a;
	w->bus = bus;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	if (pthread_create(&w->thread, NULL, i2c_worker_main, w) != 0) {
		free(w);
		return NULL;
	}
	w->next = a->workers;
	a->workers = w;
	return w;
}

static int i2c_submit(struct request *req, struct i2c_job *j)
{
	struct i2c_area *a = j->area;
	struct i2c_worker *w = i2c_worker_get(a, j->bus);

	if (!w) {
		i2c_job_free(j);
		return -ENOMEM;
	}
	pthread_mutex_lock(&w->lock);
	if (w->queued >= I2C_QUEUE_MAX) {
		unsigned bus = j->bus;
		pthread_mutex_unlock(&w->lock);
		i2c_job_free(j);
		return req_error(req, -EAGAIN, "retry later", "bus %u has %d requests waiting", bus,
		                 I2C_QUEUE_MAX);
	}
	j->req = req;
	j->timer = loop_add_timer(a->b->loop, a->b->cfg->i2c_timeout_ms, i2c_job_timeout, j);
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
	w->queued++;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return REQ_ASYNC;
}

static bool i2c_bus_exists(struct i2c_area *a, unsigned bus)
{
	unsigned buses[I2C_MAX_BUSES];
	int n = a->ops->list_buses(a->be, buses, I2C_MAX_BUSES);

	for (int i = 0; i < n; i++)
		if (buses[i] == bus)
			return true;
	return false;
}

/* Bus and address from the path, checked and authorized. */
static struct i2c_job *i2c_job_new(struct request *req, unsigned access)
{
	struct i2c_area *a = req_broker(req)->i2c;
	unsigned long long bus, addr;
	struct i2c_job *j;
	int r;

	r = req_parse_uint(req_param(req, "bus"), 0, 1023, &bus);
	if (r < 0) {
		req_error(req, r == -ERANGE ? -ENOENT : r, "buses are numbers: 1 for /dev/i2c-1",
		          "bad bus \"%.32s\"", req_param(req, "bus"));
		return NULL;
	}
	r = req_parse_uint(req_param(req, "addr"), 0, 0x3ff, &addr);
	if (r < 0) {
		req_error(req, r, "addresses are 7-bit: 0x03 to 0x77", "bad address \"%.32s\"",
		          req_param(req, "addr"));
		return NULL;
	}
	if (addr > 0x7f) {
		req_error(req, -EINVAL, "addresses are 7-bit: 0x03 to 0x77",
		          "10-bit addresses are not supported (0x%llx)", addr);
		return NULL;
	}
	struct policy_request want = {
	        .kind = POLICY_I2C, .access = access, .bus = (unsigned)bus, .addr = (unsigned)addr};
	if (req_authorize(req, &want))
		return NULL;
	if (!i2c_bus_exists(a, (unsigned)bus)) {
		req_error(req, -ENOENT, "GET /v1/i2c lists the buses", "no I2C bus %llu", bus);
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		req_error(req, -ENOMEM, NULL, "out of memory");
		return NULL;
	}
	j->area = a;
	j->bus = (unsigned)bus;
	j->addr = (unsigned)addr;
	return j;
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

static int i2c_transfer(struct request *req)
{
	json_t *msgs = json_object_get(req_json(req), "messages"), *m;
	size_t total = 0, i, off = 0;
	bool writes = false;
	struct i2c_job *j;

	if (json_array_size(msgs) == 0 || json_array_size(msgs) > I2C_MAX_MSGS)
		return req_error(req, -EINVAL, NULL, "\"messages\" must have 1 to %d entries",
		                 I2C_MAX_MSGS);
	/* Validate everything before touching the bus. */
	json_array_foreach(msgs, i, m)
	{
		json_t *w = json_object_get(m, "write"), *r = json_object_get(m, "read");
		if (!json_is_object(m) || json_object_size(m) != 1 || (!w && !r))
			return req_error(req, -EINVAL, "{\"write\":[bytes]} or {\"read\":N}",
			                 "message %zu must be a write or a read", i);
		size_t len = w ? json_array_size(w) : (size_t)json_integer_value(r);
		if ((w && !json_is_array(w)) || (r && !json_is_integer(r)) ||
		    (r && (json_integer_value(r) < 1 || json_integer_value(r) > I2C_MAX_MSG_LEN)) ||
		    len > I2C_MAX_MSG_LEN)
			return req_error(req, -EINVAL, NULL,
			                 "message %zu: reads are 1 to %d bytes, writes up to %d", i,
			                 I2C_MAX_MSG_LEN, I2C_MAX_MSG_LEN);
		writes |= w != NULL;
		total += len;
	}
	if (total > I2C_MAX_TOTAL)
		return req_error(req, -E2BIG, NULL, "a transfer moves at most %d bytes",
		                 I2C_MAX_TOTAL);
	j = i2c_job_new(req, writes ? POLICY_READ | POLICY_WRITE : POLICY_READ);
	if (!j)
		return 0;
	j->buffer = malloc(total ? total : 1);
	if (!j->buffer) {
		i2c_job_free(j);
		return -ENOMEM;
	}
	j->kind = JOB_TRANSFER;
	json_array_foreach(msgs, i, m)
	{
		json_t *w = json_object_get(m, "write");
		size_t n = 0;
		j->msgs[i].buf = j->buffer + off;
		if (w) {
			if (i2c_byte_array(w, j->msgs[i].buf, I2C_MAX_MSG_LEN, &n) < 0) {
				i2c_job_free(j);
				return req_error(req, -EINVAL, NULL,
				                 "message %zu: bytes are integers 0 to 255", i);
			}
		} else {
			n = (size_t)json_integer_value(json_object_get(m, "read"));
			j->msgs[i].read = true;
		}
		j->msgs[i].len = (uint16_t)n;
		off += n;
	}
	j->n_msgs = json_array_size(msgs);
	return i2c_submit(req, j);
}

static int i2c_smbus_call(struct request *req)
{
	json_t *body = req_json(req), *v;
	int op = i2c_op_from_name(json_string_value(json_object_get(body, "op")));
	struct i2c_smbus s = {0};
	struct i2c_job *j;
	size_t n = 0;

	if (op < 0)
		return req_error(req, -EINVAL, "see docs/i2c.md for the operations",
		                 "unknown SMBus op \"%.40s\"",
		                 json_string_value(json_object_get(body, "op")) ?: "");
	s.op = (enum i2c_op)op;
	s.command = (uint8_t)json_integer_value(json_object_get(body, "command"));
	v = json_object_get(body, "value");
	s.value = (uint16_t)json_integer_value(v);
	switch (s.op) {
	case I2C_OP_WRITE_BYTE:
	case I2C_OP_WRITE_BYTE_DATA:
		if (!json_is_integer(v) || json_integer_value(v) > 255)
			return req_error(req, -EINVAL, NULL, "\"value\" must be a byte (0 to 255)");
		break;
	case I2C_OP_WRITE_WORD_DATA:
	case I2C_OP_PROCESS_CALL:
		if (!json_is_integer(v))
			return req_error(req, -EINVAL, NULL,
			                 "\"value\" must be a word (0 to 65535)");
		break;
	case I2C_OP_QUICK:
		s.value = json_is_true(json_object_get(body, "read")) ? 1 : 0;
		break;
	case I2C_OP_WRITE_BLOCK_DATA:
	case I2C_OP_WRITE_I2C_BLOCK_DATA:
		if (i2c_byte_array(json_object_get(body, "data"), s.data, I2C_BLOCK_MAX, &n) < 0 ||
		    n == 0)
			return req_error(req, -EINVAL, NULL,
			                 "\"data\" must be 1 to %d bytes (0 to 255)",
			                 I2C_BLOCK_MAX);
		s.len = (uint8_t)n;
		break;
	case I2C_OP_READ_I2C_BLOCK_DATA:
		v = json_object_get(body, "length");
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > I2C_BLOCK_MAX)
			return req_error(req, -EINVAL, NULL, "\"length\" must be 1 to %d",
			                 I2C_BLOCK_MAX);
		s.len = (uint8_t)json_integer_value(v);
		break;
	default:
		break;
	}
	j = i2c_job_new(req, i2c_op_writes(s.op) ? POLICY_READ | POLICY_WRITE : POLICY_READ);
	if (!j)
		return 0;
	j->kind = JOB_SMBUS;
	j->smbus = s;
	return i2c_submit(req, j);
}

static int i2c_list(struct request *req)
{
	struct i2c_area *a = req_broker(req)->i2c;
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
	return req_reply_json(req, 200, json_pack("{s:o}", "buses", list));
}

static int i2c_sim_delay(struct request *req)
{
	struct i2c_area *a = req_broker(req)->i2c;
	unsigned long long bus;
	json_int_t ms = json_integer_value(json_object_get(req_json(req), "delay_ms"));

	if (!a->ops->sim_delay)
		return req_error(req, -ENOENT, NULL, "not a simulated board");
	if (req_parse_uint(req_param(req, "bus"), 0, 1023, &bus) < 0 ||
	    a->ops->sim_delay(a->be, (unsigned)bus, (unsigned)ms) < 0)
		return req_error(req, -ENOENT, NULL, "no I2C bus %.32s", req_param(req, "bus"));
	return req_reply_json(req, 200,
	                      json_pack("{s:i,s:i}", "bus", (int)bus, "delay_ms", (int)ms));
}

static int i2c_init(struct broker *b)
{
	struct i2c_area *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->b = b;
	a->ops = i2c_backend_find(b->cfg->sim ? "sim" : "dev");
	r = a->ops->open(&a->be, b->cfg);
	if (r < 0) {
		free(a);
		return r;
	}
	b->i2c = a;
	return 0;
}

static void i2c_fini(struct broker *b)
{
	struct i2c_area *a = b->i2c;

	if (!a)
		return;
	while (a->workers) {
		struct i2c_worker *w = a->workers;
		a->workers = w->next;
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		/* Jobs not started are dropped: their clients are gone with the transport. */
		while (w->head) {
			struct i2c_job *j = w->head;
			w->head = j->next;
			if (j->timer)
				loop_cancel_timer(b->loop, j->timer);
			i2c_job_free(j);
		}
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		/* A job in progress finishes first (a transfer is bounded by the
		 * adapter's own timeout). */
		pthread_join(w->thread, NULL);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
		free(w);
	}
	a->ops->close(a->be);
	free(a);
	b->i2c = NULL;
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
static const struct schema i2c_delay_schema = {
        .fields = (const struct schema_field[]){{"delay_ms", SCHEMA_INT, true, 0, 60000}, {0}},
};

#define ANY (ROUTE_SERVICE | ROUTE_ADMIN)
static const struct route i2c_routes[] = {
        {"GET", "/v1/i2c", ANY, BODY_NONE, NULL, i2c_list},
        {"POST", "/v1/i2c/{bus}/{addr}/transfer", ANY, BODY_JSON, &i2c_transfer_schema,
         i2c_transfer},
        {"POST", "/v1/i2c/{bus}/{addr}/smbus", ANY, BODY_JSON, &i2c_smbus_schema, i2c_smbus_call},
        {"POST", "/v1/sim/i2c/{bus}", ROUTE_ADMIN | ROUTE_SIM, BODY_JSON, &i2c_delay_schema,
         i2c_sim_delay},
};

const struct area area_i2c = {
        .name = "i2c",
        .routes = i2c_routes,
        .n_routes = sizeof(i2c_routes) / sizeof(i2c_routes[0]),
        .init = i2c_init,
        .fini = i2c_fini,
};
