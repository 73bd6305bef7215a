/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* UART calls of libhwbroker. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_private.h"

static const char *const parity_names[] = {"none", "even", "odd", "mark", "space"};
static const char *const flow_names[] = {"none", "rtscts", "xonxoff"};

static int uart_path(struct hwb *h, char *buf, size_t len, const char *port, const char *tail)
{
	size_t used;

	if (hwb_path(buf, len, "/v1/uart/%s", port) < 0 ||
	    (used = strlen(buf)) + strlen(tail) >= len)
		return hwb_set_error(h, -ENAMETOOLONG, "invalid", "port name too long");
	memcpy(buf + used, tail, strlen(tail) + 1);
	return 0;
}

#define UART_CONFIG_V1 HWB_SIZE_V1(struct hwb_uart_config, flow)

HWB_EXPORT int hwb_uart_config(struct hwb *h, const char *port, const struct hwb_uart_config *cfg)
{
	struct hwb_uart_config c = {0};
	char path[256];
	json_t *body;
	int r;

	if (!cfg || cfg->size < UART_CONFIG_V1)
		return hwb_set_error(h, -EINVAL, "invalid",
		                     "struct hwb_uart_config: size not set (HWB_UART_CONFIG_INIT)");
	memcpy(&c, cfg, HWB_MIN(cfg->size, sizeof(c)));
	if ((unsigned)c.parity > 4 || (unsigned)c.flow > 2)
		return hwb_set_error(h, -EINVAL, "invalid", "unknown parity or flow control");
	if ((r = uart_path(h, path, sizeof(path), port, "/config")) < 0)
		return r;
	body = json_pack("{s:i,s:i,s:s,s:i,s:s}", "baud", (int)c.baud, "data_bits",
	                 (int)c.data_bits, "parity", parity_names[c.parity], "stop_bits",
	                 (int)c.stop_bits, "flow", flow_names[c.flow]);
	r = hwb_call_json(h, "PUT", path, body, NULL);
	json_decref(body);
	return r < 0 ? r : 0;
}

static int uart_name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return 0;
}

HWB_EXPORT int hwb_uart_get_config(struct hwb *h, const char *port, struct hwb_uart_config *out)
{
	struct hwb_uart_config c = {.size = sizeof(c)};
	char path[256];
	json_t *reply = NULL;
	int r;

	if (!out || out->size < UART_CONFIG_V1)
		return hwb_set_error(h, -EINVAL, "invalid",
		                     "struct hwb_uart_config: size not set (HWB_UART_CONFIG_INIT)");
	if ((r = uart_path(h, path, sizeof(path), port, "/config")) < 0)
		return r;
	r = hwb_call_json(h, "GET", path, NULL, &reply);
	if (r < 0)
		return r;
	c.baud = (unsigned)json_integer_value(json_object_get(reply, "baud"));
	c.data_bits = (unsigned)json_integer_value(json_object_get(reply, "data_bits"));
	c.stop_bits = (unsigned)json_integer_value(json_object_get(reply, "stop_bits"));
	c.parity = (enum hwb_uart_parity)uart_name_index(
	        parity_names, 5, json_string_value(json_object_get(reply, "parity")));
	c.flow = (enum hwb_uart_flow)uart_name_index(
	        flow_names, 3, json_string_value(json_object_get(reply, "flow")));
	json_decref(reply);
	memcpy((char *)out + sizeof(out->size), (char *)&c + sizeof(c.size),
	       HWB_MIN(out->size, sizeof(c)) - sizeof(c.size));
	return 0;
}

HWB_EXPORT int hwb_uart_write(struct hwb *h, const char *port, const void *buf, size_t len)
{
	char path[256];
	int r;

	if ((r = uart_path(h, path, sizeof(path), port, "/write")) < 0)
		return r;
	r = hwb_call_raw(h, "POST", path, "application/octet-stream", buf, len, NULL, NULL);
	return r < 0 ? r : (int)len;
}

HWB_EXPORT int hwb_uart_read(struct hwb *h, const char *port, void *buf, size_t max, int timeout_ms)
{
	char path[256], tail[64];
	void *data = NULL;
	size_t len = 0;
	int r;

	snprintf(tail, sizeof(tail), "/read?max=%zu&timeout_ms=%d", max,
	         timeout_ms < 0 ? 0 : timeout_ms);
	if ((r = uart_path(h, path, sizeof(path), port, tail)) < 0)
		return r;
	r = hwb_call_raw_wait(h, "GET", path, NULL, NULL, 0, timeout_ms < 0 ? 0 : timeout_ms, &data,
	                      &len);
	if (r < 0)
		return r;
	if (len > max)
		len = max;
	memcpy(buf, data, len);
	free(data);
	return (int)len;
}

HWB_EXPORT int hwb_uart_release(struct hwb *h, const char *port)
{
	char path[256];
	int r;

	if ((r = uart_path(h, path, sizeof(path), port, "")) < 0)
		return r;
	r = hwb_call_json(h, "DELETE", path, NULL, NULL);
	return r < 0 ? r : 0;
}

struct hwb_uart_stream {
	struct hwb_stream *s;
};

HWB_EXPORT struct hwb_uart_stream *hwb_uart_stream_open(struct hwb *h, const char *port)
{
	struct hwb_uart_stream *us;
	char path[256];
	int err = 0;

	if (uart_path(h, path, sizeof(path), port, "/stream") < 0) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	us = calloc(1, sizeof(*us));
	if (!us) {
		errno = ENOMEM;
		return NULL;
	}
	us->s = hwb_stream_open(h, path, &err);
	if (!us->s) {
		free(us);
		errno = -err;
		return NULL;
	}
	return us;
}

HWB_EXPORT int hwb_uart_stream_fd(const struct hwb_uart_stream *s)
{
	return hwb_stream_fd(s->s);
}

HWB_EXPORT int hwb_uart_stream_read(struct hwb_uart_stream *s, void *buf, size_t len, int nonblock)
{
	return (int)hwb_stream_read(s->s, buf, len, nonblock);
}

HWB_EXPORT void hwb_uart_stream_close(struct hwb_uart_stream *s)
{
	if (!s)
		return;
	hwb_stream_close(s->s);
	free(s);
}

HWB_EXPORT int hwb_uart_attach(struct hwb *h, const char *port)
{
	char path[256];
	int r;

	if ((r = uart_path(h, path, sizeof(path), port, "/attach")) < 0)
		return r;
	return hwb_upgrade(h, path, "hwbroker-uart", NULL);
}
