/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Direct mode of libhwbroker: the broker checks the policy once and passes
 * a kernel line handle over the socket (SCM_RIGHTS after an HTTP Upgrade);
 * from then on a set or a get is one ioctl of <linux/gpio.h>, the
 * character-device ABI libgpiod 1.6 speaks. */
#include <errno.h>
#include <jansson.h>
#include <linux/gpio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client_private.h"
#include "http.h"

#define DIRECT_PROTOCOL "hwbroker-fd"

struct hwb_gpio_direct {
	int fd;
	size_t n;
	unsigned offsets[GPIOHANDLES_MAX];
};

static char *direct_body(const char *const *lines, size_t n, const struct hwb_gpio_config *cfg,
                         const int *values)
{
	static const char *const bias[] = {"as-is", "disabled", "pull-up", "pull-down"};
	static const char *const drive[] = {"push-pull", "open-drain", "open-source"};
	json_t *body = json_object(), *ls = json_array(), *vs = json_array();
	char *text;

	for (size_t i = 0; i < n; i++) {
		json_array_append_new(ls, json_string(lines[i]));
		json_array_append_new(vs, json_integer(values && values[i] ? 1 : 0));
	}
	json_object_set_new(body, "lines", ls);
	json_object_set_new(body, "direction",
	                    json_string(cfg->direction == HWB_GPIO_OUTPUT ? "output" : "input"));
	json_object_set_new(body, "bias", json_string(bias[cfg->bias]));
	json_object_set_new(body, "active_low", json_boolean(cfg->active_low));
	if (cfg->direction == HWB_GPIO_OUTPUT) {
		json_object_set_new(body, "values", vs);
		json_object_set_new(body, "drive", json_string(drive[cfg->drive]));
	} else {
		json_decref(vs);
	}
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}

/* The broker's one message after the 101: {"chip","lines":[offsets]}\n with
 * the handle attached. */
static int direct_receive(struct hwb *h, int sock, struct hwb_gpio_direct *d, size_t n)
{
	char text[1024], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {text, sizeof(text) - 1};
	struct msghdr msg = {.msg_iov = &iov,
	                     .msg_iovlen = 1,
	                     .msg_control = cbuf,
	                     .msg_controllen = sizeof(cbuf)};
	int64_t deadline = http_deadline(hwb_timeout(h));
	struct cmsghdr *c;
	json_t *info, *offs;
	ssize_t got;
	int r;

	if ((r = http_wait(sock, POLLIN, deadline)) < 0)
		return hwb_set_error(h, r, "transport", "no handle from the broker");
	got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (got <= 0)
		return hwb_set_error(h, -EPROTO, "transport", "the broker closed without a handle");
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)))
		return hwb_set_error(h, -EPROTO, "transport", "the broker sent no handle");
	memcpy(&d->fd, CMSG_DATA(c), sizeof(int));
	text[got] = '\0';
	info = json_loads(text, JSON_DISABLE_EOF_CHECK, NULL);
	offs = json_object_get(info, "lines");
	if (json_array_size(offs) != n) {
		json_decref(info);
		return hwb_set_error(h, -EPROTO, "transport", "the handle covers other lines");
	}
	for (size_t i = 0; i < n; i++)
		d->offsets[i] = (unsigned)json_integer_value(json_array_get(offs, i));
	d->n = n;
	json_decref(info);
	return 0;
}

HWB_EXPORT struct hwb_gpio_direct *hwb_gpio_direct_open(struct hwb *h, const char *chip,
                                                        const char *const *lines, size_t n,
                                                        const struct hwb_gpio_config *cfg,
                                                        const int *values)
{
	struct hwb_gpio_config c = {.size = sizeof(c), .direction = HWB_GPIO_OUTPUT};
	struct hwb_gpio_direct *d = NULL;
	char path[256], *body = NULL;
	int sock = -1, r;

	if (cfg && cfg->size < HWB_SIZE_V1(struct hwb_gpio_config, flags))
		r = hwb_set_error(h, -EINVAL, "invalid", "struct hwb_gpio_config: size not set");
	else if (n == 0 || n > GPIOHANDLES_MAX || !lines)
		r = hwb_set_error(h, -EINVAL, "invalid", "1 to %d lines", GPIOHANDLES_MAX);
	else if (hwb_path(path, sizeof(path), "/v1/direct/gpio/%s", chip) < 0)
		r = hwb_set_error(h, -ENAMETOOLONG, "transport", "chip name too long");
	else
		r = 0;
	if (r < 0)
		goto fail;
	if (cfg)
		memcpy(&c, cfg, HWB_MIN(cfg->size, sizeof(c)));
	if ((unsigned)c.bias > 3 || (unsigned)c.drive > 2) {
		r = hwb_set_error(h, -EINVAL, "invalid", "unknown bias or drive");
		goto fail;
	}
	body = direct_body(lines, n, &c, values);
	d = calloc(1, sizeof(*d));
	if (!body || !d) {
		r = hwb_set_error(h, -ENOMEM, "transport", "out of memory");
		goto free_body;
	}
	d->fd = -1;
	sock = hwb_upgrade(h, path, DIRECT_PROTOCOL, body);
	if (sock < 0) {
		r = sock;
		goto free_body;
	}
	r = direct_receive(h, sock, d, n);
	close(sock);
	if (r < 0)
		goto free_body;
	free(body);
	return d;
free_body:
	free(body);
	if (d && d->fd >= 0)
		close(d->fd);
	free(d);
fail:
	errno = -r;
	return NULL;
}

HWB_EXPORT int hwb_gpio_direct_set(struct hwb_gpio_direct *d, const int *values)
{
	struct gpiohandle_data data;

	for (size_t i = 0; i < d->n; i++)
		data.values[i] = (uint8_t)(values[i] ? 1 : 0);
	return ioctl(d->fd, GPIOHANDLE_SET_LINE_VALUES_IOCTL, &data) < 0 ? -errno : 0;
}

HWB_EXPORT int hwb_gpio_direct_get(struct hwb_gpio_direct *d, int *values)
{
	struct gpiohandle_data data;

	if (ioctl(d->fd, GPIOHANDLE_GET_LINE_VALUES_IOCTL, &data) < 0)
		return -errno;
	for (size_t i = 0; i < d->n; i++)
		values[i] = data.values[i];
	return 0;
}

HWB_EXPORT int hwb_gpio_direct_fd(const struct hwb_gpio_direct *d)
{
	return d->fd;
}

HWB_EXPORT int hwb_gpio_direct_offset(const struct hwb_gpio_direct *d, size_t i)
{
	return i < d->n ? (int)d->offsets[i] : -EINVAL;
}

HWB_EXPORT void hwb_gpio_direct_close(struct hwb_gpio_direct *d)
{
	if (!d)
		return;
	close(d->fd);
	free(d);
}
