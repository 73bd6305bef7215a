/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Direct mode: a kernel line handle for lines a service may drive, passed
 * over its own socket (SCM_RIGHTS after an HTTP Upgrade), so its control
 * loop sets and reads them with the kernel's ioctls and no round trip.
 *
 * The broker decides once (policy, label io.hwbroker.gpio.direct, lines
 * free), requests the lines with a consumer label naming the service, and
 * keeps a persistent lease marked "direct" so nobody else is given them.
 * The handle itself is out of reach: it lives until the client closes it or
 * its container stops. The broker learns that the lines came back from the
 * kernel (the consumer label is gone) and drops the lease then: lazily, when
 * someone asks for such a line or lists the chip, and when the admin reads the
 * service (open_handles).
 * docs/gpio.md ("Direct mode") is the reference. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "area.h"
#include "gpio.h"
#include "gpio_private.h"
#include "lease.h"
#include "log.h"
#include "policy.h"
#include "registry.h"
#include "state.h"

#define GPIO_DIRECT_PROTOCOL "hwbroker-fd"
#define GPIO_DIRECT_MAX      64 /* the kernel's GPIOHANDLES_MAX */

/* What waits for the 101: the handle and whose it is. */
struct gpio_direct_pending {
	struct gpio_area *a;
	int fd;
	char service[64]; /* the caller: a service, or "admin" */
	char chip[GPIO_NAME_MAX];
	unsigned offsets[GPIO_DIRECT_MAX];
	size_t n;
};

/* --- the route --- */

static const char *gpio_direct_key(const json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return buf;
	}
	return json_string_value(v);
}

static int gpio_check_upgrade(struct request *req)
{
	const char *upgrade = req_header(req, "Upgrade");

	if (!upgrade || strcasecmp(upgrade, GPIO_DIRECT_PROTOCOL))
		return req_fail(req, -EBADMSG,
		                "send Connection: Upgrade and Upgrade: " GPIO_DIRECT_PROTOCOL,
		                "a direct handle comes after an HTTP Upgrade to %s",
		                GPIO_DIRECT_PROTOCOL);
	return 0;
}

/* POST /v1/direct/gpio/CHIP {"lines":[17,"GPIO27"],"direction":"output",
 * "values":[1,0]}: the body, before anything is resolved. */
int gpio_check_direct(struct request *req)
{
	const json_t *body = req_json(req), *lines = json_object_get(body, "lines");
	const json_t *values = json_object_get(body, "values"), *v;
	struct gpio_line_config cfg;
	size_t i;
	int r;

	if ((r = gpio_check_upgrade(req)) < 0)
		return r;
	if (json_array_size(lines) == 0 || json_array_size(lines) > GPIO_DIRECT_MAX)
		return req_fail(req, -EINVAL, NULL, "\"lines\" must name 1 to %d lines",
		                GPIO_DIRECT_MAX);
	json_array_foreach(lines, i, v)
	{
		if (!(json_is_integer(v) && json_integer_value(v) >= 0) &&
		    !(json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) < 64))
			return req_fail(req, -EINVAL, "lines are offsets (17) or line names",
			                "line %zu of \"lines\" is neither", i);
	}
	if (values && json_array_size(values) != json_array_size(lines))
		return req_fail(req, -EINVAL, NULL, "\"values\" must give one value per line");
	json_array_foreach(values, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1)
			return req_fail(req, -EINVAL, NULL, "value %zu must be 0 or 1", i);
	}
	return gpio_parse_config(req, body, values, &cfg);
}

/* The lines of the body are the target's members: every one is authorized
 * for writing before anything is requested. */
int gpio_resolve_direct(struct request *req, struct target *t)
{
	const json_t *lines = json_object_get(req_json(req), "lines");
	const char *keys[GPIO_DIRECT_MAX];
	char bufs[GPIO_DIRECT_MAX][24];
	size_t n = json_array_size(lines);

	for (size_t i = 0; i < n; i++)
		keys[i] = gpio_direct_key(json_array_get(lines, i), bufs[i], sizeof(bufs[i]));
	return gpio_resolve_members(req, t, keys, n);
}

static void gpio_direct_unlease(struct gpio_area *a, const char *chip, const unsigned *offsets,
                                size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char res[96];
		snprintf(res, sizeof(res), "gpio:%s:%u", chip, offsets[i]);
		if (lease_release(a->leases, res) == 0)
			a->n_direct--;
	}
	state_changed(a->d->state);
}

static int gpio_direct_lease_all(struct request *req, struct gpio_area *a, const char *chip,
                                 const unsigned *offsets, size_t n,
                                 const struct gpio_line_config *cfg)
{
	for (size_t i = 0; i < n; i++) {
		char res[96];
		snprintf(res, sizeof(res), "gpio:%s:%u", chip, offsets[i]);
		if (lease_acquire(a->leases, res, req_caller(req), LEASE_PERSISTENT, 0, NULL) < 0) {
			gpio_direct_unlease(a, chip, offsets, i);
			return req_fail(req, -EBUSY, NULL, "%s line %u was taken meanwhile", chip,
			                offsets[i]);
		}
		lease_set_data(a->leases, res,
		               json_pack("{s:b,s:s,s:b}", "direct", 1, "direction",
		                         cfg->direction == GPIO_DIR_OUTPUT ? "output" : "input",
		                         "active_low", cfg->active_low));
		a->n_direct++;
	}
	state_changed(a->d->state);
	return 0;
}

/* The lines may still be given: the policy, checked again now that the 101
 * went out, since it may have changed while the client was slow. */
static bool gpio_direct_still_allowed(struct gpio_direct_pending *p)
{
	struct service *svc = registry_find(p->a->d->registry, p->service);
	struct gpio_chip_info chip;

	if (!strcmp(p->service, "admin"))
		return true; /* the admin socket may do everything */
	if (!svc || p->a->ops->chip_find(p->a->be, p->chip, &chip) < 0)
		return false;
	for (size_t i = 0; i < p->n; i++) {
		struct gpio_line_info li;
		if (p->a->ops->line_info(p->a->be, p->chip, p->offsets[i], &li) < 0 ||
		    !gpio_policy_allows(svc, p->chip, chip.label, p->offsets[i], li.name,
		                        POLICY_READ | POLICY_WRITE | POLICY_DIRECT))
			return false;
	}
	return true;
}

/* One message: a JSON line saying what the handle covers, and the handle. */
static int gpio_direct_send(int sock, const struct gpio_direct_pending *p)
{
	char text[GPIO_DIRECT_MAX * 8 + 128], cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov;
	struct msghdr msg = {0};
	struct cmsghdr *c;
	size_t len;
	ssize_t sent;

	len = (size_t)snprintf(text, sizeof(text), "{\"chip\":\"%s\",\"lines\":[", p->chip);
	for (size_t i = 0; i < p->n; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%u", i ? "," : "",
		                        p->offsets[i]);
	len += (size_t)snprintf(text + len, sizeof(text) - len, "]}\n");
	iov.iov_base = text;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf;
	msg.msg_controllen = sizeof(cbuf);
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &p->fd, sizeof(int));
	/* The socket was idle until now: one short message fits its buffer. */
	sent = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	return sent == (ssize_t)len ? 0 : -EIO;
}

static void gpio_direct_upgraded(void *data, struct upgrade *up, int sock, const char *extra,
                                 size_t extra_len)
{
	struct gpio_direct_pending *p = data;
	bool given = up && gpio_direct_still_allowed(p) && gpio_direct_send(sock, p) == 0;

	(void)extra;
	(void)extra_len;
	/* Given or not, the broker's copy goes: given, the client's copy keeps
	 * the lines; not given, closing it returns them to the kernel. */
	close(p->fd);
	if (given) {
		log_info(p->service, "%s: direct handle on %zu line%s given", p->chip, p->n,
		         p->n == 1 ? "" : "s");
	} else {
		log_warn(p->service, "%s: direct handle not given (client gone or policy changed)",
		         p->chip);
		gpio_direct_unlease(p->a, p->chip, p->offsets, p->n);
	}
	if (up)
		upgrade_close(up);
	free(p);
}

static json_t *gpio_direct_offsets(const struct gpio_direct_pending *p)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(a, json_integer(p->offsets[i]));
	return a;
}

static int gpio_direct_pending_new(struct request *req, const struct target *t,
                                   struct gpio_direct_pending **out)
{
	struct gpio_direct_pending *p = calloc(1, sizeof(*p));

	if (!p)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	p->a = req_daemon(req)->gpio;
	p->fd = -1;
	snprintf(p->service, sizeof(p->service), "%s", req_caller(req));
	snprintf(p->chip, sizeof(p->chip), "%.31s", t->chip);
	p->n = t->n_members;
	for (size_t i = 0; i < p->n; i++)
		p->offsets[i] = t->members[i].line;
	*out = p;
	return 0;
}

int gpio_direct_open(struct request *req)
{
	struct gpio_area *a = req_daemon(req)->gpio;
	const struct target *t = req_target(req);
	const json_t *body = req_json(req), *values = json_object_get(body, "values");
	struct gpio_direct_pending *p = NULL;
	struct gpio_line_config cfg;
	char consumer[GPIO_NAME_MAX];
	int vals[GPIO_DIRECT_MAX] = {0}, r;

	for (size_t i = 0; i < t->n_members; i++) {
		if ((r = gpio_check_free(req, a, t->chip, t->members[i].line)) < 0)
			return r;
		/* The broker's own request (a line the caller set through the API)
		 * would stand in the kernel's way: the caller gives it back first. */
		char res[96];
		snprintf(res, sizeof(res), "gpio:%s:%u", t->chip, t->members[i].line);
		if (lease_find(a->leases, res))
			return req_fail(req, -EBUSY, "DELETE /v1/gpio/CHIP/LINE gives it back",
			                "%s line %u is held through the API by this service",
			                t->chip, t->members[i].line);
		if (gpio_find_watch(a, t->chip, t->members[i].line))
			return req_fail(req, -EBUSY, "end the event streams of this line first",
			                "%s line %u is watched", t->chip, t->members[i].line);
		vals[i] = (int)json_integer_value(json_array_get(values, i));
	}
	if (!a->ops->direct)
		return req_fail(req, -EOPNOTSUPP, "use PUT /v1/gpio/CHIP on this board",
		                "%s: this GPIO backend has no kernel line handles", t->chip);
	gpio_parse_config(req, body, values, &cfg);
	if ((r = gpio_direct_pending_new(req, t, &p)) < 0)
		return r;
	gpio_direct_consumer(consumer, sizeof(consumer), p->service);
	r = a->ops->direct(a->be, t->chip, p->offsets, p->n, &cfg, vals, consumer, &p->fd);
	if (r < 0) {
		free(p);
		return gpio_fail(req, r, t->chip, "line");
	}
	if ((r = gpio_direct_lease_all(req, a, t->chip, p->offsets, p->n, &cfg)) < 0)
		goto close_fd;
	req_audit(req, "direct",
	          json_pack("{s:s,s:o,s:s}", "chip", t->chip, "lines", gpio_direct_offsets(p),
	                    "direction", cfg.direction == GPIO_DIR_OUTPUT ? "output" : "input"));
	if ((r = req_result_upgrade(req, GPIO_DIRECT_PROTOCOL, gpio_direct_upgraded, p)) < 0) {
		gpio_direct_unlease(a, t->chip, p->offsets, p->n);
		goto close_fd;
	}
	return 0;
close_fd:
	close(p->fd);
	free(p);
	return r;
}

struct gpio_direct_list {
	json_t *out;
	const char *service;
};

static bool gpio_direct_list_one(const struct lease *l, void *data)
{
	struct gpio_direct_list *list = data;

	if (gpio_lease_is_direct(l) && !strcmp(l->holder, list->service))
		json_array_append_new(list->out, json_string(l->resource));
	return false;
}

/* The resources of every direct handle svc still holds open: what a
 * new policy or a removal could not take back. */
json_t *gpio_direct_open_handles(struct daemon *d, const char *service)
{
	struct gpio_area *a = d->gpio;
	struct gpio_direct_list list = {json_array(), service};

	if (!a || !a->n_direct)
		return list.out;
	gpio_direct_reap(a);
	lease_sweep(a->leases, gpio_direct_list_one, &list);
	return list.out;
}
