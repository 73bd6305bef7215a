/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GPIO edge events: one kernel request per watched line shared by its
 * watchers, each with a bounded queue; chips that go away end the streams. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "config.h"
#include "gpio_private.h"
#include "lease.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "registry.h"

struct gpio_watch *gpio_find_watch(struct gpio_area *a, const char *chip, unsigned line)
{
	for (struct gpio_watch *w = a->watches; w; w = w->next)
		if (w->line == line && !strcmp(w->chip, chip))
			return w;
	return NULL;
}

static int gpio_edge_from_name(const char *s)
{
	static const char *const edges[] = {"", "rising", "falling", "both"};

	for (int i = 1; i < 4; i++)
		if (!strcmp(s, edges[i]))
			return i;
	return -1;
}

void gpio_watch_free(struct gpio_area *a, struct gpio_watch *w)
{
	for (struct gpio_watch **pp = &a->watches; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	if (w->fd >= 0) {
		loop_del_fd(a->d->loop, w->fd);
		a->ops->unwatch(a->be, w->chip, w->line);
		gpio_restore_input(a, w->chip, w->line);
	}
	free(w);
}

void gpio_watcher_end(struct gpio_watcher *wr, const char *code, const char *message)
{
	json_t *e = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
	char *text = json_dumps(e, JSON_COMPACT);

	if (text && !wr->ending)
		snprintf(wr->final, sizeof(wr->final), "%s\n", text);
	free(text);
	json_decref(e);
	wr->ending = true;
	stream_close(wr->stream);
}

static void gpio_watcher_push(struct gpio_watcher *wr, const struct gpio_event *ev)
{
	if (!(wr->edge & ev->edge))
		return;
	if (wr->count == wr->cap) { /* the oldest goes */
		wr->head = (wr->head + 1) % wr->cap;
		wr->count--;
		wr->dropped++;
	}
	wr->ring[(wr->head + wr->count) % wr->cap] = *ev;
	wr->count++;
	stream_wake(wr->stream);
}

static void gpio_watch_gone(struct gpio_area *a, struct gpio_watch *w)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "%s went away", w->chip);
	log_warn("gpio", "%s: watched line %u: chip gone; ending its streams", w->chip, w->line);
	if (w->fd >= 0)
		loop_del_fd(a->d->loop, w->fd);
	w->fd = -1;
	for (struct gpio_watcher *wr = w->watchers; wr; wr = wr->next)
		gpio_watcher_end(wr, "unavailable", msg);
}

/* Watched chips are checked once a second: a chip that disappears does not
 * always wake its event fds (Linux 6.1 does not). */
static void gpio_check_presence(void *data)
{
	struct gpio_area *a = data;
	struct gpio_chip_info info;

	a->presence_timer = NULL;
	for (struct gpio_watch *w = a->watches; w; w = w->next)
		if (w->fd >= 0 && a->ops->chip_find(a->be, w->chip, &info) < 0)
			gpio_watch_gone(a, w);
	if (a->watches)
		a->presence_timer = loop_add_timer(a->d->loop, 1000, gpio_check_presence, a);
}

static void gpio_on_events(void *data, int fd, uint32_t events)
{
	struct gpio_watch *w = data;
	struct gpio_area *a = w->watchers ? w->watchers->area : NULL;
	struct gpio_event ev[16];
	int n;

	if (!a)
		return;
	log_debug("gpio", "%s line %u: events 0x%x", w->chip, w->line, events);
	while ((n = a->ops->read_events(a->be, w->chip, w->line, ev, 16)) > 0)
		for (int i = 0; i < n; i++)
			for (struct gpio_watcher *wr = w->watchers; wr; wr = wr->next)
				gpio_watcher_push(wr, &ev[i]);
	if (n < 0 || (events & (EPOLLHUP | EPOLLERR))) {
		gpio_watch_gone(a, w);
		a->ops->unwatch(a->be, w->chip, w->line);
	}
}

static ssize_t gpio_watcher_fill(void *data, char *buf, size_t max)
{
	struct gpio_watcher *wr = data;
	struct gpio_watch *w = wr->watch;
	size_t used = 0;

	if (wr->dropped && max >= 40) {
		used += (size_t)snprintf(buf, max, "{\"dropped\":%llu}\n",
		                         (unsigned long long)wr->dropped);
		wr->dropped = 0;
	}
	while (wr->count && max - used >= GPIO_EVENT_LINE) {
		const struct gpio_event *ev = &wr->ring[wr->head];
		used += (size_t)snprintf(
		        buf + used, max - used,
		        "{\"chip\":\"%s\",\"line\":%u,\"name\":\"%s\",\"edge\":\"%s\","
		        "\"timestamp_ns\":%llu,\"seq\":%llu}\n",
		        w ? w->chip : "", ev->offset, w ? w->name : "",
		        ev->edge == GPIO_EDGE_RISING ? "rising" : "falling",
		        (unsigned long long)ev->timestamp_ns, (unsigned long long)++wr->seq);
		wr->head = (wr->head + 1) % wr->cap;
		wr->count--;
	}
	if (used)
		return (ssize_t)used;
	if (wr->ending) {
		if (wr->final[0] && strlen(wr->final) < max) {
			used = strlen(wr->final);
			memcpy(buf, wr->final, used);
			wr->final[0] = '\0';
			return (ssize_t)used;
		}
		return STREAM_EOF;
	}
	return 0;
}

static void gpio_watcher_closed(void *data)
{
	struct gpio_watcher *wr = data;
	struct gpio_watch *w = wr->watch;

	if (w) {
		for (struct gpio_watcher **pp = &w->watchers; *pp; pp = &(*pp)->next) {
			if (*pp == wr) {
				*pp = wr->next;
				break;
			}
		}
		if (!w->watchers)
			gpio_watch_free(wr->area, w);
	}
	free(wr->ring);
	free(wr);
}

static const struct stream_ops gpio_watcher_ops = {gpio_watcher_fill, gpio_watcher_closed};

void gpio_end_watch(struct gpio_area *a, const char *chip, unsigned line, const char *by)
{
	struct gpio_watch *w = gpio_find_watch(a, chip, line);
	char msg[160];

	if (!w)
		return;
	snprintf(msg, sizeof(msg), "%s line %u was taken for output by %s", chip, line, by);
	for (struct gpio_watcher *wr = w->watchers; wr; wr = wr->next) {
		gpio_watcher_end(wr, "conflict", msg);
		wr->watch = NULL;
	}
	w->watchers = NULL;
	gpio_watch_free(a, w);
}

int gpio_check_watch(struct request *req)
{
	const char *edge = req_query(req, "edge");

	if (edge && gpio_edge_from_name(edge) <= 0)
		return req_fail(req, -EBADMSG, "edge=rising, falling or both",
		                "unknown edge \"%.32s\"", edge);
	return 0;
}

static int gpio_watch_new(struct request *req, struct gpio_area *a, const struct target *t,
                          struct gpio_watch **out)
{
	struct gpio_watch *w = calloc(1, sizeof(*w));
	struct gpio_line_config held;
	int r;

	if (!w)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	snprintf(w->chip, sizeof(w->chip), "%s", t->chip);
	snprintf(w->label, sizeof(w->label), "%s", t->chip_label);
	snprintf(w->name, sizeof(w->name), "%s", t->line_name);
	w->line = t->want.line;
	/* A line held as an input (with its bias) is watched with that bias:
	 * the event request replaces the plain one until the last watcher goes
	 * (gpio_watch_free puts it back). */
	held.bias = GPIO_BIAS_AS_IS;
	if (gpio_lease_input(lease_find(a->leases, t->resource), &held))
		a->ops->release(a->be, t->chip, t->want.line);
	r = a->ops->watch(a->be, t->chip, t->want.line, held.bias, &w->fd);
	if (r == 0 && (r = loop_add_fd(a->d->loop, w->fd, EPOLLIN, gpio_on_events, w)) < 0)
		a->ops->unwatch(a->be, t->chip, t->want.line);
	if (r < 0) {
		free(w);
		gpio_restore_input(a, t->chip, t->want.line);
		return gpio_fail(req, r, t->chip, "line");
	}
	w->next = a->watches;
	a->watches = w;
	if (!a->presence_timer)
		a->presence_timer = loop_add_timer(a->d->loop, 1000, gpio_check_presence, a);
	*out = w;
	return 0;
}

int gpio_watch_line(struct request *req)
{
	struct gpio_area *a = req_daemon(req)->gpio;
	const struct target *t = req_target(req);
	const char *edge = req_query(req, "edge");
	const struct lease *l = lease_find(a->leases, t->resource);
	struct gpio_watcher *wr;
	struct gpio_watch *w;
	int r;

	struct gpio_line_info info;
	struct gpio_line_config held;
	bool held_input = gpio_lease_input(l, &held);

	if (l && !held_input)
		return req_fail(req, -EBUSY, "release the line first",
		                "%s line %u is driven (held by %s); only inputs can be watched",
		                t->chip, t->want.line, l->holder);
	/* Watching requests the line as an input: reading must not turn an
	 * output (set up outside hwbrokerd) into one. */
	if (!held_input && a->ops->line_info(a->be, t->chip, t->want.line, &info) == 0 &&
	    info.config.direction == GPIO_DIR_OUTPUT && !gpio_find_watch(a, t->chip, t->want.line))
		return req_fail(req, -EBUSY, "only inputs can be watched",
		                "%s line %u is an output; watching it would make it an input",
		                t->chip, t->want.line);
	w = gpio_find_watch(a, t->chip, t->want.line);
	if (!w && (r = gpio_watch_new(req, a, t, &w)) < 0)
		return r;
	wr = calloc(1, sizeof(*wr));
	if (wr)
		wr->ring = calloc(a->d->cfg->event_queue, sizeof(*wr->ring));
	if (!wr || !wr->ring) {
		free(wr);
		if (!w->watchers)
			gpio_watch_free(a, w);
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	}
	wr->watch = w;
	wr->area = a;
	wr->cap = a->d->cfg->event_queue;
	wr->edge = edge ? (enum gpio_edge)gpio_edge_from_name(edge) : GPIO_EDGE_BOTH;
	wr->conn_id = req_conn_id(req);
	snprintf(wr->service, sizeof(wr->service), "%s", req_caller(req));
	wr->next = w->watchers;
	w->watchers = wr;
	wr->stream = req_result_stream(req, "application/x-ndjson", &gpio_watcher_ops, wr);
	if (!wr->stream) {
		gpio_watcher_closed(wr);
		return -ENOMEM;
	}
	log_debug(req_log_ctx(req), "watching %s line %u (%s)", t->chip, t->want.line,
	          edge ? edge : "both");
	return 0;
}

void gpio_sweep_watchers(struct gpio_area *a, struct service *svc, bool policy_only)
{
	for (struct gpio_watch *w = a->watches; w; w = w->next) {
		for (struct gpio_watcher *wr = w->watchers; wr; wr = wr->next) {
			if (strcmp(wr->service, svc->name) || wr->ending)
				continue;
			if (policy_only && gpio_policy_allows(svc, w->chip, w->label, w->line,
			                                      w->name, POLICY_READ))
				continue;
			gpio_watcher_end(wr, "forbidden",
			                 policy_only ? "revoked: the service's policy changed"
			                             : "the service was removed");
		}
	}
}

void gpio_events_fini(struct gpio_area *a)
{
	if (a->presence_timer)
		loop_cancel_timer(a->d->loop, a->presence_timer);
	while (a->watches) {
		struct gpio_watch *w = a->watches;
		/* Streams are gone with the transport; detach what is left. */
		for (struct gpio_watcher *wr = w->watchers; wr; wr = wr->next)
			wr->watch = NULL;
		w->watchers = NULL;
		gpio_watch_free(a, w);
	}
}
