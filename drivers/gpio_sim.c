/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulated board's GPIO: chips whose input lines follow what the
 * simulated outside world pulls, and whose watched lines deliver edge events
 * through a pipe with CLOCK_MONOTONIC timestamps, as the kernel's line event
 * fds do. Default: gpiochip0 (54 lines GPIO0..GPIO53), gpiochip1 (8 lines);
 * a board file's "gpio" section replaces it (docs/board.md). */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gpio.h"

#define SIM_MAX_CHIPS 16
#define SIM_MAX_LINES 512

struct sim_line {
	char name[GPIO_NAME_MAX];
	bool requested, watched;
	struct gpio_line_config cfg;
	int out_phys; /* physical level driven when output */
	int pull;     /* outside world: -1 none, 0 low, 1 high */
	int level;    /* last physical level seen (for edges) */
	int pipe[2];  /* event pipe while watched */
};

struct sim_chip {
	char name[GPIO_NAME_MAX];
	char label[GPIO_NAME_MAX];
	unsigned n;
	struct sim_line *lines;
	bool present;
};

struct gpio_backend {
	const struct drv_env *env;
	struct sim_chip chips[SIM_MAX_CHIPS];
	unsigned n_chips;
};

static int sim_add_chip(struct gpio_backend *be, const char *label, unsigned n, const char *prefix,
                        const json_t *names)
{
	struct sim_chip *c;

	if (be->n_chips == SIM_MAX_CHIPS || n == 0 || n > SIM_MAX_LINES)
		return -EINVAL;
	c = &be->chips[be->n_chips];
	c->lines = calloc(n, sizeof(*c->lines));
	if (!c->lines)
		return -ENOMEM;
	snprintf(c->name, sizeof(c->name), "gpiochip%u", be->n_chips);
	snprintf(c->label, sizeof(c->label), "%s", label);
	c->n = n;
	c->present = true;
	for (unsigned i = 0; i < n; i++) {
		const char *nm = json_string_value(json_array_get(names, i));
		if (nm)
			snprintf(c->lines[i].name, GPIO_NAME_MAX, "%s", nm);
		else if (prefix)
			snprintf(c->lines[i].name, GPIO_NAME_MAX, "%.20s%u", prefix, i);
		c->lines[i].pull = -1;
		c->lines[i].pipe[0] = c->lines[i].pipe[1] = -1;
	}
	be->n_chips++;
	return 0;
}

static int sim_load_board(struct gpio_backend *be, const char *path)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *chips, *c;
	size_t i;
	int r = 0;

	if (!root) {
		env_log(be->env, DRV_LOG_ERROR, "gpio", "%s:%d: %s", path, jerr.line, jerr.text);
		return -EINVAL;
	}
	chips = json_object_get(root, "gpio");
	json_array_foreach(chips, i, c)
	{
		json_t *lines = json_object_get(c, "lines");
		r = sim_add_chip(be, json_string_value(json_object_get(c, "label")) ?: "sim-gpio",
		                 (unsigned)json_integer_value(lines),
		                 json_string_value(json_object_get(c, "names_prefix")),
		                 json_object_get(c, "names"));
		if (r < 0) {
			env_log(be->env, DRV_LOG_ERROR, "gpio",
			        "%s: gpio chip %zu: 1..%d lines needed", path, i, SIM_MAX_LINES);
			break;
		}
	}
	json_decref(root);
	return r;
}

static void sim_close(struct gpio_backend *be);

static int sim_open(struct gpio_backend **out, const struct gpio_params *params)
{
	struct gpio_backend *be = calloc(1, sizeof(*be));
	int r;

	if (!be)
		return -ENOMEM;
	be->env = params ? params->env : NULL;
	if (params && params->board_file)
		r = sim_load_board(be, params->board_file);
	else if ((r = sim_add_chip(be, "pinctrl-sim", 54, "GPIO", NULL)) == 0)
		r = sim_add_chip(be, "sim-expander", 8, "EXP", NULL);
	if (r < 0) {
		sim_close(be);
		return r;
	}
	*out = be;
	return 0;
}

static void sim_close_pipe(struct sim_line *l)
{
	for (int i = 0; i < 2; i++) {
		if (l->pipe[i] >= 0)
			close(l->pipe[i]);
		l->pipe[i] = -1;
	}
	l->watched = false;
}

static void sim_close(struct gpio_backend *be)
{
	for (unsigned c = 0; c < be->n_chips; c++) {
		for (unsigned i = 0; i < be->chips[c].n; i++)
			sim_close_pipe(&be->chips[c].lines[i]);
		free(be->chips[c].lines);
	}
	free(be);
}

static struct sim_chip *sim_lookup(struct gpio_backend *be, const char *chip)
{
	for (unsigned c = 0; c < be->n_chips; c++) {
		struct sim_chip *sc = &be->chips[c];
		if (!strcmp(sc->name, chip) || !strcmp(sc->label, chip) ||
		    (!strncmp(sc->name, "gpiochip", 8) && !strcmp(sc->name + 8, chip)))
			return sc;
	}
	return NULL;
}

/* The chip, if present; errors: -ENOENT never existed, -ENODEV removed. */
static int sim_chip_get(struct gpio_backend *be, const char *chip, struct sim_chip **out)
{
	struct sim_chip *c = sim_lookup(be, chip);

	if (!c)
		return -ENOENT;
	if (!c->present)
		return -ENODEV;
	*out = c;
	return 0;
}

static int sim_line_get(struct gpio_backend *be, const char *chip, unsigned offset,
                        struct sim_chip **c, struct sim_line **l)
{
	int r = sim_chip_get(be, chip, c);

	if (r < 0)
		return r;
	if (offset >= (*c)->n)
		return -ENOENT;
	*l = &(*c)->lines[offset];
	return 0;
}

static int sim_phys_level(const struct sim_line *l)
{
	if (l->requested && l->cfg.direction == GPIO_DIR_OUTPUT) {
		/* Open drain/source only drive one level; the other floats to the pull. */
		if (l->cfg.drive == GPIO_DRIVE_OPEN_DRAIN && l->out_phys)
			return l->pull >= 0 ? l->pull : 1;
		if (l->cfg.drive == GPIO_DRIVE_OPEN_SOURCE && !l->out_phys)
			return l->pull >= 0 ? l->pull : 0;
		return l->out_phys;
	}
	if (l->pull >= 0)
		return l->pull;
	if (l->requested && l->cfg.bias == GPIO_BIAS_PULL_UP)
		return 1;
	return 0;
}

static void sim_emit_edges(struct sim_line *l, unsigned offset)
{
	int level = sim_phys_level(l);
	struct gpio_event ev;
	struct timespec ts;

	if (level == l->level)
		return;
	l->level = level;
	if (!l->watched || l->pipe[1] < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ev.offset = offset;
	ev.edge = (level ^ l->cfg.active_low) ? GPIO_EDGE_RISING : GPIO_EDGE_FALLING;
	ev.timestamp_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	/* A full pipe drops the event, as a full kernel event FIFO does. */
	if (write(l->pipe[1], &ev, sizeof(ev)) < 0)
		return;
}

static void sim_fill_chip_info(const struct sim_chip *c, struct gpio_chip_info *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", c->name);
	snprintf(out->label, sizeof(out->label), "%s", c->label);
	out->num_lines = c->n;
}

static int sim_chip_info(struct gpio_backend *be, unsigned index, struct gpio_chip_info *out)
{
	unsigned seen = 0;

	for (unsigned c = 0; c < be->n_chips; c++) {
		if (!be->chips[c].present)
			continue;
		if (seen++ == index) {
			sim_fill_chip_info(&be->chips[c], out);
			return 0;
		}
	}
	return -ENOENT;
}

static int sim_chip_find(struct gpio_backend *be, const char *chip, struct gpio_chip_info *out)
{
	struct sim_chip *c;
	int r = sim_chip_get(be, chip, &c);

	if (r == 0)
		sim_fill_chip_info(c, out);
	return r;
}

static int sim_line_info(struct gpio_backend *be, const char *chip, unsigned offset,
                         struct gpio_line_info *out)
{
	struct sim_chip *c;
	struct sim_line *l;
	int r = sim_line_get(be, chip, offset, &c, &l);

	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	out->offset = offset;
	snprintf(out->name, sizeof(out->name), "%s", l->name);
	out->used = l->requested || l->watched;
	if (out->used)
		snprintf(out->consumer, sizeof(out->consumer), "hwbrokerd");
	out->config = l->cfg;
	if (!out->used)
		out->config.direction = GPIO_DIR_INPUT;
	return 0;
}

static int sim_line_find(struct gpio_backend *be, const char *chip, const char *name,
                         unsigned *offset)
{
	struct sim_chip *c;
	int r = sim_chip_get(be, chip, &c);

	if (r < 0)
		return r;
	for (unsigned i = 0; i < c->n; i++) {
		if (c->lines[i].name[0] && !strcmp(c->lines[i].name, name)) {
			*offset = i;
			return 0;
		}
	}
	return -ENOENT;
}

static int sim_request(struct gpio_backend *be, const char *chip, const unsigned *offsets,
                       const int *values, size_t n, const struct gpio_line_config *cfg)
{
	struct sim_chip *c;
	int r = sim_chip_get(be, chip, &c);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (offsets[i] >= c->n)
			return -ENOENT;
		if (c->lines[offsets[i]].watched)
			return -EBUSY;
	}
	for (size_t i = 0; i < n; i++) {
		struct sim_line *l = &c->lines[offsets[i]];
		l->requested = true;
		l->cfg = *cfg;
		if (cfg->direction == GPIO_DIR_OUTPUT)
			l->out_phys = (values ? values[i] : cfg->value) ^ cfg->active_low;
		l->level = sim_phys_level(l);
	}
	return 0;
}

static int sim_release(struct gpio_backend *be, const char *chip, unsigned offset)
{
	struct sim_chip *c;
	struct sim_line *l;
	int r = sim_line_get(be, chip, offset, &c, &l);

	if (r < 0)
		return r;
	l->requested = false;
	memset(&l->cfg, 0, sizeof(l->cfg));
	l->level = sim_phys_level(l);
	return 0;
}

static int sim_get(struct gpio_backend *be, const char *chip, unsigned offset, int *value)
{
	struct sim_chip *c;
	struct sim_line *l;
	int r = sim_line_get(be, chip, offset, &c, &l);

	if (r < 0)
		return r;
	*value = sim_phys_level(l) ^ (l->requested || l->watched ? l->cfg.active_low : 0);
	return 0;
}

static int sim_set(struct gpio_backend *be, const char *chip, const unsigned *offsets,
                   const int *values, size_t n)
{
	struct sim_chip *c;
	int r = sim_chip_get(be, chip, &c);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (offsets[i] >= c->n)
			return -ENOENT;
		const struct sim_line *l = &c->lines[offsets[i]];
		if (!l->requested || l->cfg.direction != GPIO_DIR_OUTPUT)
			return -EPERM;
	}
	for (size_t i = 0; i < n; i++) {
		struct sim_line *l = &c->lines[offsets[i]];
		l->out_phys = values[i] ^ l->cfg.active_low;
		l->level = sim_phys_level(l);
	}
	return 0;
}

static int sim_watch(struct gpio_backend *be, const char *chip, unsigned offset,
                     enum gpio_bias bias, int *fd)
{
	struct sim_chip *c;
	struct sim_line *l;
	int r = sim_line_get(be, chip, offset, &c, &l);

	if (r < 0)
		return r;
	if (l->requested || l->watched)
		return -EBUSY;
	if (pipe2(l->pipe, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	l->watched = true;
	memset(&l->cfg, 0, sizeof(l->cfg));
	l->cfg.direction = GPIO_DIR_INPUT;
	l->cfg.bias = bias;
	l->level = sim_phys_level(l);
	*fd = l->pipe[0];
	return 0;
}

static int sim_read_events(struct gpio_backend *be, const char *chip, unsigned offset,
                           struct gpio_event *events, size_t max)
{
	struct sim_chip *c = sim_lookup(be, chip);
	ssize_t n;

	if (!c || offset >= c->n || c->lines[offset].pipe[0] < 0)
		return -ENODEV;
	n = read(c->lines[offset].pipe[0], events, max * sizeof(*events));
	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	return (int)((size_t)n / sizeof(*events));
}

static int sim_unwatch(struct gpio_backend *be, const char *chip, unsigned offset)
{
	struct sim_chip *c = sim_lookup(be, chip);

	if (!c || offset >= c->n)
		return -ENOENT;
	sim_close_pipe(&c->lines[offset]);
	if (!c->lines[offset].requested)
		memset(&c->lines[offset].cfg, 0, sizeof(c->lines[offset].cfg));
	return 0;
}

static int sim_pull(struct gpio_backend *be, const char *chip, unsigned offset, int level)
{
	struct sim_chip *c;
	struct sim_line *l;
	int r = sim_line_get(be, chip, offset, &c, &l);

	if (r < 0)
		return r;
	l->pull = level < 0 ? -1 : !!level;
	sim_emit_edges(l, offset);
	return 0;
}

static int sim_set_present(struct gpio_backend *be, const char *chip, bool present)
{
	struct sim_chip *c = sim_lookup(be, chip);

	if (!c)
		return -ENOENT;
	if (c->present == present)
		return 0;
	c->present = present;
	/* A chip that goes takes every request with it; watchers see a hangup
	 * on their fd (the write end closes). */
	for (unsigned i = 0; i < c->n; i++) {
		struct sim_line *l = &c->lines[i];
		if (l->pipe[1] >= 0) {
			close(l->pipe[1]);
			l->pipe[1] = -1;
		}
		if (present) {
			sim_close_pipe(l);
			l->requested = false;
			memset(&l->cfg, 0, sizeof(l->cfg));
		}
	}
	return 0;
}

const struct gpio_ops gpio_sim_ops = {
        .name = "sim",
        .open = sim_open,
        .close = sim_close,
        .chip_info = sim_chip_info,
        .chip_find = sim_chip_find,
        .line_info = sim_line_info,
        .line_find = sim_line_find,
        .request = sim_request,
        .release = sim_release,
        .get = sim_get,
        .set = sim_set,
        .watch = sim_watch,
        .read_events = sim_read_events,
        .unwatch = sim_unwatch,
};

static const char *sim_dir_name(const struct sim_line *l)
{
	if (!l->requested && !l->watched)
		return "input";
	return l->cfg.direction == GPIO_DIR_OUTPUT ? "output" : "input";
}

static json_t *sim_snapshot(struct gpio_backend *be)
{
	static const char *const bias[] = {"as-is", "disabled", "pull-up", "pull-down"};
	static const char *const drive[] = {"push-pull", "open-drain", "open-source"};
	json_t *chips = json_array();

	for (unsigned c = 0; c < be->n_chips; c++) {
		const struct sim_chip *sc = &be->chips[c];
		json_t *lines = json_array();
		for (unsigned i = 0; i < sc->n; i++) {
			const struct sim_line *l = &sc->lines[i];
			json_array_append_new(
			        lines,
			        json_pack("{s:i,s:s,s:i,s:s,s:s,s:s,s:b,s:b,s:b,s:i}", "line",
			                  (int)i, "name", l->name, "level", sim_phys_level(l),
			                  "direction", sim_dir_name(l), "bias", bias[l->cfg.bias],
			                  "drive", drive[l->cfg.drive], "active_low",
			                  l->cfg.active_low, "requested", l->requested, "watched",
			                  l->watched, "pull", l->pull));
		}
		json_array_append_new(chips,
		                      json_pack("{s:s,s:s,s:b,s:o}", "chip", sc->name, "label",
		                                sc->label, "present", sc->present, "lines", lines));
	}
	return json_pack("{s:o}", "chips", chips);
}

const struct gpio_sim_ops gpio_sim_control = {
        .pull = sim_pull,
        .set_present = sim_set_present,
        .snapshot = sim_snapshot,
};
