/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Real GPIO through libgpiod 1.6 (character device v1 ABI). Kept small and
 * direct: the kernel-device tests in tests/vm drive it against gpio-sim.
 * Chips are opened lazily from params->dev_dir and dropped when they fail with
 * ENODEV, so an unplugged chip that returns works again. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gpiod.h>
#include <linux/gpio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpio.h"

#define GPIOD_MAX_CHIPS 32
#define GPIOD_CONSUMER  "hwbrokerd"

/* Lines requested together share one kernel request, whose values are set
 * and read by position: a group is kept as a whole, or split into
 * single-line requests before one of its lines is released or reconfigured
 * alone, so an operation on one line never reaches its neighbours. */
struct gpiod_group {
	struct gpiod_line_bulk bulk;
	int values[GPIOD_LINE_BULK_MAX_LINES]; /* logical, as last set */
	int request_type, flags;
	struct gpiod_group *next;
};

struct gpiod_slot {
	char name[GPIO_NAME_MAX];
	struct gpiod_chip *chip;
	dev_t rdev; /* the node it was opened from: a new chip may reuse the name */
	struct gpiod_group *groups;
};

struct gpio_backend {
	char dev_dir[256];
	struct gpiod_slot slots[GPIOD_MAX_CHIPS];
};

static int gpiod_be_open(struct gpio_backend **out, const struct gpio_params *params)
{
	struct gpio_backend *be = calloc(1, sizeof(*be));

	if (!be)
		return -ENOMEM;
	snprintf(be->dev_dir, sizeof(be->dev_dir), "%s",
	         params && params->dev_dir ? params->dev_dir : "/dev");
	*out = be;
	return 0;
}

static void gpiod_drop(struct gpiod_slot *s);

static void gpiod_be_close(struct gpio_backend *be)
{
	for (size_t i = 0; i < GPIOD_MAX_CHIPS; i++)
		if (be->slots[i].chip)
			gpiod_drop(&be->slots[i]);
	free(be);
}

static void gpiod_groups_forget(struct gpiod_slot *s)
{
	while (s->groups) {
		struct gpiod_group *g = s->groups;
		s->groups = g->next;
		free(g);
	}
}

static void gpiod_drop(struct gpiod_slot *s)
{
	gpiod_groups_forget(s);
	if (s->chip)
		gpiod_chip_close(s->chip);
	s->chip = NULL;
	s->name[0] = '\0';
}

/* Opens every gpiochipN in dev_dir not open yet; forgets vanished ones. */
static void gpiod_scan(struct gpio_backend *be)
{
	DIR *d = opendir(be->dev_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[512];
		bool known = false;
		size_t free_slot = GPIOD_MAX_CHIPS;
		if (strncmp(de->d_name, "gpiochip", 8) ||
		    strspn(de->d_name + 8, "0123456789") != strlen(de->d_name + 8))
			continue;
		for (size_t i = 0; i < GPIOD_MAX_CHIPS; i++) {
			if (be->slots[i].chip && !strcmp(be->slots[i].name, de->d_name))
				known = true;
			if (!be->slots[i].chip && free_slot == GPIOD_MAX_CHIPS)
				free_slot = i;
		}
		if (known || free_slot == GPIOD_MAX_CHIPS)
			continue;
		snprintf(path, sizeof(path), "%s/%s", be->dev_dir, de->d_name);
		struct gpiod_chip *chip = gpiod_chip_open(path);
		if (!chip)
			continue;
		struct stat st;
		be->slots[free_slot].rdev = stat(path, &st) == 0 ? st.st_rdev : 0;
		be->slots[free_slot].chip = chip;
		snprintf(be->slots[free_slot].name, GPIO_NAME_MAX, "%.31s", de->d_name);
	}
	closedir(d);
}

/* A chip whose node went away (or is another device now) is gone: the
 * kernel of some versions never wakes its event fds, so we look. */
static bool gpiod_slot_alive(struct gpio_backend *be, struct gpiod_slot *s)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", be->dev_dir, s->name);
	if (stat(path, &st) == 0 && st.st_rdev == s->rdev)
		return true;
	gpiod_drop(s);
	return false;
}

static struct gpiod_slot *gpiod_lookup(struct gpio_backend *be, const char *chip)
{
	for (size_t i = 0; i < GPIOD_MAX_CHIPS; i++)
		if (be->slots[i].chip)
			gpiod_slot_alive(be, &be->slots[i]);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < GPIOD_MAX_CHIPS; i++) {
			struct gpiod_slot *s = &be->slots[i];
			if (!s->chip)
				continue;
			if (!strcmp(s->name, chip) || !strcmp(gpiod_chip_label(s->chip), chip) ||
			    !strcmp(s->name + 8, chip))
				return s;
		}
		gpiod_scan(be);
	}
	return NULL;
}

/* libgpiod reports a removed chip as ENODEV: forget it so it can come back. */
static int gpiod_err(struct gpiod_slot *s)
{
	int err = errno ? errno : EIO;

	if (err == ENODEV || err == ENXIO)
		gpiod_drop(s);
	return err == ENXIO ? -ENODEV : -err;
}

static int hwb_gpiod_line(struct gpio_backend *be, const char *chip, unsigned offset,
                          struct gpiod_slot **slot, struct gpiod_line **line)
{
	*slot = gpiod_lookup(be, chip);
	if (!*slot)
		return -ENOENT;
	if (offset >= gpiod_chip_num_lines((*slot)->chip))
		return -ENOENT;
	*line = gpiod_chip_get_line((*slot)->chip, offset);
	return *line ? 0 : gpiod_err(*slot);
}

static void gpiod_fill_chip(const struct gpiod_slot *s, struct gpio_chip_info *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", s->name);
	snprintf(out->label, sizeof(out->label), "%s", gpiod_chip_label(s->chip));
	out->num_lines = gpiod_chip_num_lines(s->chip);
}

static int gpiod_be_chip_info(struct gpio_backend *be, unsigned index, struct gpio_chip_info *out)
{
	unsigned seen = 0;

	gpiod_scan(be);
	for (size_t i = 0; i < GPIOD_MAX_CHIPS; i++) {
		if (be->slots[i].chip && seen++ == index) {
			gpiod_fill_chip(&be->slots[i], out);
			return 0;
		}
	}
	return -ENOENT;
}

static int gpiod_be_chip_find(struct gpio_backend *be, const char *chip, struct gpio_chip_info *out)
{
	struct gpiod_slot *s = gpiod_lookup(be, chip);

	if (!s)
		return -ENOENT;
	gpiod_fill_chip(s, out);
	return 0;
}

static int gpiod_be_line_info(struct gpio_backend *be, const char *chip, unsigned offset,
                              struct gpio_line_info *out)
{
	struct gpiod_slot *s;
	struct gpiod_line *l;
	int r = hwb_gpiod_line(be, chip, offset, &s, &l);

	if (r < 0)
		return r;
	if (!gpiod_line_is_requested(l) && gpiod_line_update(l) < 0)
		return gpiod_err(s);
	memset(out, 0, sizeof(*out));
	out->offset = offset;
	snprintf(out->name, sizeof(out->name), "%s", gpiod_line_name(l) ?: "");
	snprintf(out->consumer, sizeof(out->consumer), "%s", gpiod_line_consumer(l) ?: "");
	out->used = gpiod_line_is_used(l);
	out->config.direction = gpiod_line_direction(l) == GPIOD_LINE_DIRECTION_OUTPUT
	                                ? GPIO_DIR_OUTPUT
	                                : GPIO_DIR_INPUT;
	switch (gpiod_line_bias(l)) {
	case GPIOD_LINE_BIAS_PULL_UP:
		out->config.bias = GPIO_BIAS_PULL_UP;
		break;
	case GPIOD_LINE_BIAS_PULL_DOWN:
		out->config.bias = GPIO_BIAS_PULL_DOWN;
		break;
	case GPIOD_LINE_BIAS_DISABLE:
		out->config.bias = GPIO_BIAS_DISABLED;
		break;
	default:
		out->config.bias = GPIO_BIAS_AS_IS;
	}
	out->config.active_low = (gpiod_line_active_state(l) == GPIOD_LINE_ACTIVE_STATE_LOW);
	out->config.drive = gpiod_line_is_open_drain(l)    ? GPIO_DRIVE_OPEN_DRAIN
	                    : gpiod_line_is_open_source(l) ? GPIO_DRIVE_OPEN_SOURCE
	                                                   : GPIO_DRIVE_PUSH_PULL;
	return 0;
}

static int gpiod_be_line_find(struct gpio_backend *be, const char *chip, const char *name,
                              unsigned *offset)
{
	struct gpiod_slot *s = gpiod_lookup(be, chip);
	struct gpiod_line *l;

	if (!s)
		return -ENOENT;
	errno = 0;
	l = gpiod_chip_find_line(s->chip, name);
	if (!l)
		return errno && errno != ENOENT ? gpiod_err(s) : -ENOENT;
	*offset = gpiod_line_offset(l);
	return 0;
}

/* --- groups --- */

static struct gpiod_group *gpiod_group_of(struct gpiod_slot *s, struct gpiod_line *l, unsigned *pos)
{
	for (struct gpiod_group *g = s->groups; g; g = g->next) {
		for (unsigned i = 0; i < gpiod_line_bulk_num_lines(&g->bulk); i++) {
			if (gpiod_line_bulk_get_line(&g->bulk, i) == l) {
				*pos = i;
				return g;
			}
		}
	}
	return NULL;
}

static void gpiod_group_unlink(struct gpiod_slot *s, struct gpiod_group *g)
{
	for (struct gpiod_group **pp = &s->groups; *pp; pp = &(*pp)->next) {
		if (*pp == g) {
			*pp = g->next;
			return;
		}
	}
}

/* One kernel request per member from now on, each driven as it was. */
static int gpiod_group_split(struct gpiod_slot *s, struct gpiod_group *g)
{
	struct gpiod_line_request_config rc = {GPIOD_CONSUMER, g->request_type, g->flags};
	unsigned n = gpiod_line_bulk_num_lines(&g->bulk);
	int vals[GPIOD_LINE_BULK_MAX_LINES], err = 0;

	if (gpiod_line_get_value_bulk(&g->bulk, vals) < 0)
		memcpy(vals, g->values, sizeof(vals));
	gpiod_line_release_bulk(&g->bulk);
	for (unsigned i = 0; i < n; i++)
		if (gpiod_line_request(gpiod_line_bulk_get_line(&g->bulk, i), &rc, vals[i]) < 0)
			err = gpiod_err(s);
	gpiod_group_unlink(s, g);
	free(g);
	return err;
}

/* Splits the group of l, if it has one with other members. */
static int gpiod_line_alone(struct gpiod_slot *s, struct gpiod_line *l)
{
	unsigned pos;
	struct gpiod_group *g = gpiod_group_of(s, l, &pos);

	return g ? gpiod_group_split(s, g) : 0;
}

static int gpiod_flags(const struct gpio_line_config *cfg)
{
	int flags = cfg->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;

	if (cfg->drive == GPIO_DRIVE_OPEN_DRAIN)
		flags |= GPIOD_LINE_REQUEST_FLAG_OPEN_DRAIN;
	else if (cfg->drive == GPIO_DRIVE_OPEN_SOURCE)
		flags |= GPIOD_LINE_REQUEST_FLAG_OPEN_SOURCE;
	if (cfg->bias == GPIO_BIAS_DISABLED)
		flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE;
	else if (cfg->bias == GPIO_BIAS_PULL_UP)
		flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP;
	else if (cfg->bias == GPIO_BIAS_PULL_DOWN)
		flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN;
	return flags;
}

/* Lines none of which we hold are requested together, so that a later group
 * write is one kernel call. Fails (and the caller goes line by line) when
 * any is held already. */
static int gpiod_be_request_bulk(struct gpio_backend *be, const char *chip, const unsigned *offsets,
                                 const int *values, size_t n,
                                 const struct gpiod_line_request_config *rc)
{
	struct gpiod_group *g = calloc(1, sizeof(*g));
	struct gpiod_slot *s = NULL;

	if (!g)
		return -ENOMEM;
	gpiod_line_bulk_init(&g->bulk);
	for (size_t i = 0; i < n; i++) {
		struct gpiod_line *l;
		if (hwb_gpiod_line(be, chip, offsets[i], &s, &l) < 0 ||
		    gpiod_line_is_requested(l)) {
			free(g);
			return -EBUSY;
		}
		gpiod_line_bulk_add(&g->bulk, l);
		g->values[i] = values ? values[i] : 0;
	}
	if (gpiod_line_request_bulk(&g->bulk, rc, g->values) < 0) {
		int err = -errno;
		free(g);
		return err;
	}
	g->request_type = rc->request_type;
	g->flags = rc->flags;
	g->next = s->groups;
	s->groups = g;
	return 0;
}

static int gpiod_be_request(struct gpio_backend *be, const char *chip, const unsigned *offsets,
                            const int *values, size_t n, const struct gpio_line_config *cfg)
{
	struct gpiod_slot *s = gpiod_lookup(be, chip);
	struct gpiod_line_request_config rc = {GPIOD_CONSUMER, 0, gpiod_flags(cfg)};
	int dir = cfg->direction == GPIO_DIR_OUTPUT ? GPIOD_LINE_REQUEST_DIRECTION_OUTPUT
	                                            : GPIOD_LINE_REQUEST_DIRECTION_INPUT;

	if (!s)
		return -ENOENT;
	if (n > GPIOD_LINE_BULK_MAX_LINES)
		return -E2BIG;
	rc.request_type = dir;
	if (n > 1 && gpiod_be_request_bulk(be, chip, offsets, values, n, &rc) == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct gpiod_line *l;
		int v = values ? values[i] : cfg->value;
		int r = hwb_gpiod_line(be, chip, offsets[i], &s, &l);
		if (r < 0)
			return r;
		/* Held already: reconfigure in place (no glitch through release),
		 * alone: a shared request is reconfigured as a whole. */
		if (gpiod_line_is_requested(l) && (r = gpiod_line_alone(s, l)) < 0)
			return r;
		if (gpiod_line_is_requested(l))
			r = gpiod_line_set_config(l, dir, rc.flags, v);
		else
			r = gpiod_line_request(l, &rc, v);
		if (r < 0)
			return errno == EINVAL ? -EOPNOTSUPP : gpiod_err(s);
	}
	return 0;
}

static int gpiod_be_release(struct gpio_backend *be, const char *chip, unsigned offset)
{
	struct gpiod_slot *s;
	struct gpiod_line *l;
	int r = hwb_gpiod_line(be, chip, offset, &s, &l);

	if (r < 0)
		return r;
	/* Released alone: the kernel frees a shared request only as a whole. */
	if (gpiod_line_is_requested(l) && (r = gpiod_line_alone(s, l)) < 0)
		return r;
	if (gpiod_line_is_requested(l))
		gpiod_line_release(l);
	return 0;
}

static int gpiod_be_get(struct gpio_backend *be, const char *chip, unsigned offset, int *value)
{
	struct gpiod_slot *s;
	struct gpiod_line *l;
	int r = hwb_gpiod_line(be, chip, offset, &s, &l), v;
	struct gpiod_line_request_config rc = {GPIOD_CONSUMER, GPIOD_LINE_REQUEST_DIRECTION_AS_IS,
	                                       0};

	if (r < 0)
		return r;
	if (gpiod_line_is_requested(l)) {
		unsigned pos;
		struct gpiod_group *g = gpiod_group_of(s, l, &pos);
		int vals[GPIOD_LINE_BULK_MAX_LINES];
		/* A shared request reads by position: the whole group, then ours. */
		if (g)
			v = gpiod_line_get_value_bulk(&g->bulk, vals) < 0 ? -1 : vals[pos];
		else
			v = gpiod_line_get_value(l);
		if (v < 0)
			return gpiod_err(s);
		*value = v;
		return 0;
	}
	/* Not ours: read "as is" so the line's direction does not change. */
	if (gpiod_line_request(l, &rc, 0) < 0)
		return gpiod_err(s);
	v = gpiod_line_get_value(l);
	r = v < 0 ? gpiod_err(s) : 0;
	if (s->chip)
		gpiod_line_release(l);
	if (r == 0)
		*value = v;
	return r;
}

/* Values of lines we hold. A shared request is written as a whole, by
 * position, with its other lines as they were: one kernel call per request. */
static int gpiod_be_set(struct gpio_backend *be, const char *chip, const unsigned *offsets,
                        const int *values, size_t n)
{
	struct gpiod_slot *s = gpiod_lookup(be, chip);
	struct gpiod_line *lines[GPIOD_LINE_BULK_MAX_LINES];
	bool done[GPIOD_LINE_BULK_MAX_LINES] = {false};

	if (!s)
		return -ENOENT;
	if (n > GPIOD_LINE_BULK_MAX_LINES)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		int r = hwb_gpiod_line(be, chip, offsets[i], &s, &lines[i]);
		if (r < 0)
			return r;
		if (!gpiod_line_is_requested(lines[i]))
			return -EPERM;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned pos;
		struct gpiod_group *g;
		if (done[i])
			continue;
		g = gpiod_group_of(s, lines[i], &pos);
		if (!g) {
			if (gpiod_line_set_value(lines[i], values[i]) < 0)
				return gpiod_err(s);
			continue;
		}
		int vals[GPIOD_LINE_BULK_MAX_LINES];
		memcpy(vals, g->values, sizeof(vals));
		for (size_t k = i; k < n; k++) {
			unsigned kpos;
			if (!done[k] && gpiod_group_of(s, lines[k], &kpos) == g) {
				vals[kpos] = values[k];
				done[k] = true;
			}
		}
		if (gpiod_line_set_value_bulk(&g->bulk, vals) < 0)
			return gpiod_err(s);
		memcpy(g->values, vals, sizeof(vals));
	}
	return 0;
}

static int gpiod_be_watch(struct gpio_backend *be, const char *chip, unsigned offset,
                          enum gpio_bias bias, int *fd)
{
	struct gpiod_slot *s;
	struct gpiod_line *l;
	struct gpio_line_config cfg = {.bias = bias};
	struct gpiod_line_request_config rc = {GPIOD_CONSUMER, GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES,
	                                       gpiod_flags(&cfg)};
	int r = hwb_gpiod_line(be, chip, offset, &s, &l);

	if (r < 0)
		return r;
	if (gpiod_line_is_requested(l))
		return -EBUSY;
	if (gpiod_line_request(l, &rc, 0) < 0)
		return gpiod_err(s);
	*fd = gpiod_line_event_get_fd(l);
	if (*fd < 0)
		return gpiod_err(s);
	/* The kernel's event fd blocks; the loop drains it until EAGAIN. */
	fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

static int gpiod_be_read_events(struct gpio_backend *be, const char *chip, unsigned offset,
                                struct gpio_event *events, size_t max)
{
	struct gpiod_slot *s;
	struct gpiod_line *l;
	struct gpiod_line_event ev[16];
	int r = hwb_gpiod_line(be, chip, offset, &s, &l), n;

	if (r < 0)
		return r;
	if (max > 16)
		max = 16;
	n = gpiod_line_event_read_multiple(l, ev, (unsigned)max);
	if (n < 0)
		return errno == EAGAIN ? 0 : gpiod_err(s);
	for (int i = 0; i < n; i++) {
		events[i].offset = offset;
		events[i].edge = ev[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE
		                         ? GPIO_EDGE_RISING
		                         : GPIO_EDGE_FALLING;
		events[i].timestamp_ns =
		        (uint64_t)ev[i].ts.tv_sec * 1000000000ull + (uint64_t)ev[i].ts.tv_nsec;
	}
	return n;
}

static int gpiod_be_unwatch(struct gpio_backend *be, const char *chip, unsigned offset)
{
	return gpiod_be_release(be, chip, offset);
}

/* A line handle of the kernel's own (GPIO_GET_LINEHANDLE_IOCTL, the ABI
 * libgpiod 1.6 speaks): libgpiod keeps its handles' fds to itself, and this
 * one leaves the process. */
static int gpiod_be_direct(struct gpio_backend *be, const char *chip, const unsigned *offsets,
                           size_t n, const struct gpio_line_config *cfg, const int *values,
                           const char *consumer, int *fd)
{
	struct gpiohandle_request hr = {0};
	struct gpiod_slot *s = gpiod_lookup(be, chip);
	char path[512];
	int chipfd, err = 0;

	if (!s)
		return -ENOENT;
	if (n == 0 || n > GPIOHANDLES_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		hr.lineoffsets[i] = offsets[i];
		hr.default_values[i] = (uint8_t) !!(values ? values[i] : 0);
	}
	hr.lines = (uint32_t)n;
	hr.flags = cfg->direction == GPIO_DIR_OUTPUT ? GPIOHANDLE_REQUEST_OUTPUT
	                                             : GPIOHANDLE_REQUEST_INPUT;
	if (cfg->active_low)
		hr.flags |= GPIOHANDLE_REQUEST_ACTIVE_LOW;
	if (cfg->drive == GPIO_DRIVE_OPEN_DRAIN)
		hr.flags |= GPIOHANDLE_REQUEST_OPEN_DRAIN;
	else if (cfg->drive == GPIO_DRIVE_OPEN_SOURCE)
		hr.flags |= GPIOHANDLE_REQUEST_OPEN_SOURCE;
	if (cfg->bias == GPIO_BIAS_PULL_UP)
		hr.flags |= GPIOHANDLE_REQUEST_BIAS_PULL_UP;
	else if (cfg->bias == GPIO_BIAS_PULL_DOWN)
		hr.flags |= GPIOHANDLE_REQUEST_BIAS_PULL_DOWN;
	else if (cfg->bias == GPIO_BIAS_DISABLED)
		hr.flags |= GPIOHANDLE_REQUEST_BIAS_DISABLE;
	snprintf(hr.consumer_label, sizeof(hr.consumer_label), "%s", consumer);
	snprintf(path, sizeof(path), "%s/%s", be->dev_dir, s->name);
	chipfd = open(path, O_RDWR | O_CLOEXEC);
	if (chipfd < 0)
		return errno == ENOENT ? -ENODEV : -errno;
	if (ioctl(chipfd, GPIO_GET_LINEHANDLE_IOCTL, &hr) < 0)
		err = errno == EINVAL ? -EOPNOTSUPP : -errno;
	close(chipfd);
	if (err)
		return err;
	*fd = hr.fd;
	return 0;
}

const struct gpio_ops gpio_gpiod_ops = {
        .name = "gpiod",
        .open = gpiod_be_open,
        .close = gpiod_be_close,
        .chip_info = gpiod_be_chip_info,
        .chip_find = gpiod_be_chip_find,
        .line_info = gpiod_be_line_info,
        .line_find = gpiod_be_line_find,
        .request = gpiod_be_request,
        .release = gpiod_be_release,
        .get = gpiod_be_get,
        .set = gpiod_be_set,
        .watch = gpiod_be_watch,
        .read_events = gpiod_be_read_events,
        .unwatch = gpiod_be_unwatch,
        .direct = gpiod_be_direct,
};
