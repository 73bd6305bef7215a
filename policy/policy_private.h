/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy model behind policy.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

#define POLICY_MAX_GRANTS    512
#define POLICY_MAX_RANGES    256
#define POLICY_MAX_LABEL     4096
#define POLICY_MAX_GPIO_LINE 1023
#define POLICY_MAX_BUS       1023
#define POLICY_I2C_FIRST     0x03 /* 7-bit addresses outside 0x03..0x77 are reserved */
#define POLICY_I2C_LAST      0x77

struct policy_range {
	unsigned lo, hi;
};

/* One grant. For gpio and i2c the "what" is all (any line/address) or a set
 * of ranges and (gpio) line names. chip "*" is every chip; port "*" every
 * port; action "*" every host action; unit "*" every unit. */
struct policy_grant {
	enum policy_kind kind;
	unsigned access; /* POLICY_READ | POLICY_WRITE */
	bool broad;
	char chip[64]; /* gpio */
	unsigned bus;  /* i2c */
	bool any_bus;  /* i2c: every bus */
	bool all;      /* gpio: every line; i2c: every address 0x03..0x77 */
	bool literal;  /* i2c: ranges name addresses explicitly (reserved ones allowed) */
	struct policy_range ranges[POLICY_MAX_RANGES];
	size_t n_ranges;
	char **names; /* gpio line names */
	size_t n_names;
	char port[256];  /* uart: tty name or /dev/serial/... path */
	char action[16]; /* host */
	char unit[256];  /* unit */
	char provenance[192];
};

struct policy {
	char service[64];
	struct policy_grant *grants;
	size_t n, cap;
	/* Device grants a label narrowed: they grant nothing, but a label grant
	 * on a resource one of them covers gets no more access than it had, so
	 * a narrowing label never widens (matched at decision time, when the
	 * chip's label or the port's by-id name is known). */
	struct policy_grant *ceilings;
	size_t n_ceilings;
	json_t *passthrough; /* [{"device","reason"}] */
	char *container_id;
	/* The io.hwbroker.* label of each kind, as written (NULL: none), so a
	 * denial's hint can say how to widen what the service declares. */
	char *labels[POLICY_UNIT + 1];
	bool direct_gpio; /* io.hwbroker.gpio.direct: line handles handed over */
	bool broad;
};

/* Collected problems of one derivation. */
struct policy_errors {
	const char *service;
	json_t *list;
};

void policy_error(struct policy_errors *e, const char *label, long position, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Appends a zeroed grant (NULL when full: an error is recorded). */
struct policy_grant *policy_add_grant(struct policy *p, struct policy_errors *e,
                                      enum policy_kind kind, unsigned access,
                                      const char *provenance);
void policy_grant_clear(struct policy_grant *g);
/* Removes grant i. */
void policy_remove_grant(struct policy *p, size_t i);
/* Moves grant i to the ceilings. 0 or -ENOMEM. */
int policy_keep_ceiling(struct policy *p, size_t i);

/* labels.c: parse an io.hwbroker.* value into grants of p; errors into e. */
void labels_parse_gpio(struct policy *p, struct policy_errors *e, const char *value);
void labels_parse_i2c(struct policy *p, struct policy_errors *e, const char *value);
void labels_parse_uart(struct policy *p, struct policy_errors *e, const char *value);
void labels_parse_host(struct policy *p, struct policy_errors *e, const char *value);
void labels_parse_units(struct policy *p, struct policy_errors *e, const char *value);
bool labels_valid_unit(const char *name);
/* 1, true, yes, on (any case) */
bool labels_truthy(const char *value);
/* 0, false, no, off (any case) */
bool labels_falsy(const char *value);

/* decide.c: text of a grant's resource ("gpiochip0 lines 17,18"). */
void policy_describe_grant(const struct policy_grant *g, char *buf, size_t len);
