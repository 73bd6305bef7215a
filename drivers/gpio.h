/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GPIO driver ops. One `const struct gpio_ops` per backend (gpio_sim.c: the
 * simulated board; gpio_gpiod.c: libgpiod 1.6 on /dev/gpiochipN), chosen by
 * name with gpio_backend_find(). Ops return 0 (or a count) or a negative
 * errno: -ENOENT no such chip/line, -ENODEV chip gone, -EBUSY line in use
 * elsewhere, -EOPNOTSUPP a flag the chip cannot do. Chips are named by their
 * kernel name ("gpiochip0"), number ("0") or label; ops take any of them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "env.h"

struct gpio_backend;

/* What a backend is opened with. */
struct gpio_params {
	const char *dev_dir;    /* gpiod: where the gpiochipN nodes are ("/dev") */
	const char *board_file; /* sim: a board file, or NULL for the built-in board */
	const struct drv_env *env;
};

enum gpio_direction { GPIO_DIR_AS_IS, GPIO_DIR_INPUT, GPIO_DIR_OUTPUT };
enum gpio_bias { GPIO_BIAS_AS_IS, GPIO_BIAS_DISABLED, GPIO_BIAS_PULL_UP, GPIO_BIAS_PULL_DOWN };
enum gpio_drive { GPIO_DRIVE_PUSH_PULL, GPIO_DRIVE_OPEN_DRAIN, GPIO_DRIVE_OPEN_SOURCE };
enum gpio_edge {
	GPIO_EDGE_NONE = 0,
	GPIO_EDGE_RISING = 1,
	GPIO_EDGE_FALLING = 2,
	GPIO_EDGE_BOTH = 3
};

#define GPIO_NAME_MAX 32

struct gpio_chip_info {
	char name[GPIO_NAME_MAX];  /* kernel name: gpiochip0 */
	char label[GPIO_NAME_MAX]; /* driver label */
	unsigned num_lines;
};

struct gpio_line_config {
	enum gpio_direction direction;
	enum gpio_bias bias;
	enum gpio_drive drive;
	bool active_low;
	int value; /* output: initial logical value */
};

struct gpio_line_info {
	unsigned offset;
	char name[GPIO_NAME_MAX];
	char consumer[GPIO_NAME_MAX];
	bool used; /* requested by anyone (us included) */
	struct gpio_line_config config;
};

struct gpio_event {
	unsigned offset;
	enum gpio_edge edge; /* RISING or FALLING */
	uint64_t timestamp_ns;
};

struct gpio_ops {
	const char *name;
	int (*open)(struct gpio_backend **out, const struct gpio_params *params);
	void (*close)(struct gpio_backend *be);
	/* Chips by index 0..; -ENOENT past the last. */
	int (*chip_info)(struct gpio_backend *be, unsigned index, struct gpio_chip_info *out);
	/* Resolves a chip name/number/label. */
	int (*chip_find)(struct gpio_backend *be, const char *chip, struct gpio_chip_info *out);
	int (*line_info)(struct gpio_backend *be, const char *chip, unsigned offset,
	                 struct gpio_line_info *out);
	/* Line offset of a line name on that chip. */
	int (*line_find)(struct gpio_backend *be, const char *chip, const char *name,
	                 unsigned *offset);
	/* Requests (or reconfigures, if we hold them) n lines of one chip with cfg;
	 * values[i] are the initial output values. One kernel call. */
	int (*request)(struct gpio_backend *be, const char *chip, const unsigned *offsets,
	               const int *values, size_t n, const struct gpio_line_config *cfg);
	int (*release)(struct gpio_backend *be, const char *chip, unsigned offset);
	/* Logical value; of a line we do not hold, read without changing it. */
	int (*get)(struct gpio_backend *be, const char *chip, unsigned offset, int *value);
	/* Sets held output lines of one chip in one kernel call. */
	int (*set)(struct gpio_backend *be, const char *chip, const unsigned *offsets,
	           const int *values, size_t n);
	/* Requests the line as input with edge events; *fd becomes readable when
	 * events are pending and reports EPOLLHUP/EPOLLERR if the chip goes. */
	int (*watch)(struct gpio_backend *be, const char *chip, unsigned offset,
	             enum gpio_bias bias, int *fd);
	/* Pending events of a watched line, up to max; 0 when none. */
	int (*read_events)(struct gpio_backend *be, const char *chip, unsigned offset,
	                   struct gpio_event *events, size_t max);
	int (*unwatch)(struct gpio_backend *be, const char *chip, unsigned offset);
	/* Optional (NULL: the backend has none): a kernel line handle for n
	 * lines nobody holds, requested with cfg and values[i] and labelled
	 * consumer. The caller owns *fd: it is handed to a client, which sets
	 * and reads the lines with the kernel's own ioctls. */
	int (*direct)(struct gpio_backend *be, const char *chip, const unsigned *offsets, size_t n,
	              const struct gpio_line_config *cfg, const int *values, const char *consumer,
	              int *fd);
};

/* The simulated board's outside world, beside the ops: only the simulated
 * backend has it, and only the daemon's --sim controls reach it. */
struct gpio_sim_ops {
	/* Drive an input from outside: level 1/0, or -1 to stop driving. */
	int (*pull)(struct gpio_backend *be, const char *chip, unsigned offset, int level);
	/* false removes the chip (requests and watches end), true brings it back. */
	int (*set_present)(struct gpio_backend *be, const char *chip, bool present);
	/* Every chip and line as the outside world sees it (new reference):
	 * {"chips":[{"chip","label","present","lines":[{"line","name","level",
	 * "direction","bias","drive","active_low","requested","watched","pull"}]}]} */
	json_t *(*snapshot)(struct gpio_backend *be);
};

extern const struct gpio_ops gpio_sim_ops;
extern const struct gpio_ops gpio_gpiod_ops;
extern const struct gpio_sim_ops gpio_sim_control;

/* "sim" or "gpiod". NULL if unknown. */
const struct gpio_ops *gpio_backend_find(const char *name);
/* The simulator controls of a backend: non-NULL only for the simulated one. */
const struct gpio_sim_ops *gpio_backend_sim(const struct gpio_ops *ops);
