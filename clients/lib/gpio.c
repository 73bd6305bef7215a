/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* GPIO calls of libhwbroker. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client_private.h"

HWB_EXPORT int hwb_gpio_get(struct hwb *h, const char *chip, unsigned line)
{
	char path[256];
	json_t *reply = NULL;
	int r;

	if (hwb_path(path, sizeof(path), "/v1/gpio/%s/%u", chip, line) < 0)
		return hwb_set_error(h, -ENAMETOOLONG, "transport", "chip name too long");
	r = hwb_call_json(h, "GET", path, NULL, &reply);
	if (r < 0)
		return r;
	json_t *v = json_object_get(reply, "value");
	r = json_is_integer(v) ? (int)json_integer_value(v) : -EIO;
	json_decref(reply);
	return r;
}

static int gpio_put(struct hwb *h, const char *chip, unsigned line, json_t *body, unsigned flags)
{
	char path[256];
	int r;

	if (hwb_path(path, sizeof(path), "/v1/gpio/%s/%u%s", chip, line,
	             (flags & HWB_GPIO_LEASE_CONNECTION) ? "?lease=connection" : "") < 0) {
		json_decref(body);
		return hwb_set_error(h, -ENAMETOOLONG, "transport", "chip name too long");
	}
	r = hwb_call_json(h, "PUT", path, body, NULL);
	json_decref(body);
	return r < 0 ? r : 0;
}

HWB_EXPORT int hwb_gpio_set(struct hwb *h, const char *chip, unsigned line, int value)
{
	return gpio_put(h, chip, line, json_pack("{s:i}", "value", value ? 1 : 0), 0);
}

HWB_EXPORT int hwb_gpio_config(struct hwb *h, const char *chip, unsigned line,
                               const struct hwb_gpio_config *cfg)
{
	static const char *const bias[] = {"as-is", "disabled", "pull-up", "pull-down"};
	static const char *const drive[] = {"push-pull", "open-drain", "open-source"};
	struct hwb_gpio_config c = {0};
	json_t *body;

	if (!cfg || cfg->size < HWB_SIZE_V1(struct hwb_gpio_config, flags))
		return hwb_set_error(h, -EINVAL, "invalid",
		                     "struct hwb_gpio_config: size not set (HWB_GPIO_CONFIG_INIT)");
	memcpy(&c, cfg, HWB_MIN(cfg->size, sizeof(c)));
	if ((unsigned)c.bias > 3 || (unsigned)c.drive > 2)
		return hwb_set_error(h, -EINVAL, "invalid", "unknown bias or drive");
	body = json_pack("{s:s,s:s,s:b}", "direction",
	                 c.direction == HWB_GPIO_OUTPUT ? "output" : "input", "bias", bias[c.bias],
	                 "active_low", c.active_low);
	if (c.direction == HWB_GPIO_OUTPUT) {
		json_object_set_new(body, "value", json_integer(c.value ? 1 : 0));
		json_object_set_new(body, "drive", json_string(drive[c.drive]));
	}
	return gpio_put(h, chip, line, body, c.flags);
}

HWB_EXPORT int hwb_gpio_set_many(struct hwb *h, const char *chip, const char *const *lines,
                                 const int *values, size_t n)
{
	char path[256];
	json_t *vals = json_object(), *body;
	int r;

	for (size_t i = 0; i < n; i++)
		json_object_set_new(vals, lines[i], json_integer(values[i] ? 1 : 0));
	body = json_pack("{s:o}", "values", vals);
	if (hwb_path(path, sizeof(path), "/v1/gpio/%s", chip) < 0) {
		json_decref(body);
		return hwb_set_error(h, -ENAMETOOLONG, "transport", "chip name too long");
	}
	r = hwb_call_json(h, "PUT", path, body, NULL);
	json_decref(body);
	return r < 0 ? r : 0;
}

HWB_EXPORT int hwb_gpio_release(struct hwb *h, const char *chip, unsigned line)
{
	char path[256];
	int r;

	if (hwb_path(path, sizeof(path), "/v1/gpio/%s/%u", chip, line) < 0)
		return hwb_set_error(h, -ENAMETOOLONG, "transport", "chip name too long");
	r = hwb_call_json(h, "DELETE", path, NULL, NULL);
	return r < 0 ? r : 0;
}

struct hwb_gpio_watch {
	struct hwb_stream *s;
	int error; /* the stream's final error, once seen */
};

HWB_EXPORT struct hwb_gpio_watch *hwb_gpio_watch(struct hwb *h, const char *chip, unsigned line,
                                                 enum hwb_gpio_edge edge)
{
	static const char *const edges[] = {"", "rising", "falling", "both"};
	struct hwb_gpio_watch *w;
	char path[256];
	int err = 0;

	if ((unsigned)edge > 3 || edge == 0) {
		hwb_set_error(h, -EINVAL, "invalid", "unknown edge");
		errno = EINVAL;
		return NULL;
	}
	if (hwb_path(path, sizeof(path), "/v1/gpio/%s/%u/events?edge=%s", chip, line, edges[edge]) <
	    0) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	/* hwb_path escapes '?' and '=' inside %s only; the literal ones stay. */
	w = calloc(1, sizeof(*w));
	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	w->s = hwb_stream_open(h, path, &err);
	if (!w->s) {
		free(w);
		errno = -err;
		return NULL;
	}
	return w;
}

HWB_EXPORT int hwb_gpio_watch_fd(const struct hwb_gpio_watch *w)
{
	return hwb_stream_fd(w->s);
}

static int gpio_error_errno(const char *code)
{
	static const struct {
		const char *code;
		int status;
	} map[] = {{"unavailable", 503}, {"forbidden", 403}, {"not_found", 404}};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (code && !strcmp(code, map[i].code))
			return hwb_status_errno(map[i].status);
	return -EIO;
}

HWB_EXPORT int hwb_gpio_watch_next(struct hwb_gpio_watch *w, struct hwb_gpio_event *out, int block)
{
	struct hwb_gpio_event ev_all = {.size = sizeof(ev_all)}, *ev = &ev_all;
	const char *line;
	ssize_t n;
	json_t *j;

	if (!out || out->size < HWB_SIZE_V1(struct hwb_gpio_event, dropped))
		return -EINVAL;
	if (w->error)
		return w->error;
	for (;;) {
		line = NULL;
		n = hwb_stream_read_line(w->s, &line, !block);
		if (n < 0)
			return (int)n;
		if (!line)
			return w->error = -ENODATA; /* the stream ended */
		if (n == 0)
			continue;
		j = json_loads(line, 0, NULL);
		if (j)
			break;
	}
	if (json_object_get(j, "error")) {
		w->error = gpio_error_errno(
		        json_string_value(json_object_get(json_object_get(j, "error"), "code")));
		json_decref(j);
		return w->error;
	}
	ev->dropped = (uint64_t)json_integer_value(json_object_get(j, "dropped"));
	ev->line = (unsigned)json_integer_value(json_object_get(j, "line"));
	const char *edge = json_string_value(json_object_get(j, "edge"));
	ev->edge = edge && !strcmp(edge, "falling") ? HWB_GPIO_EDGE_FALLING : HWB_GPIO_EDGE_RISING;
	ev->timestamp_ns = (uint64_t)json_integer_value(json_object_get(j, "timestamp_ns"));
	ev->seq = (uint64_t)json_integer_value(json_object_get(j, "seq"));
	json_decref(j);
	/* Only as much as the caller's struct holds; its size stays as it was. */
	memcpy((char *)out + sizeof(out->size), (char *)ev + sizeof(ev->size),
	       HWB_MIN(out->size, sizeof(*ev)) - sizeof(ev->size));
	return 0;
}

HWB_EXPORT void hwb_gpio_watch_close(struct hwb_gpio_watch *w)
{
	if (!w)
		return;
	hwb_stream_close(w->s);
	free(w);
}
