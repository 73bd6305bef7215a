/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to the GPIO area: gpio_target.c (resolve steps, grants, driver
 * errors), gpio_events.c (edge-event streams), gpio_area.c (routes,
 * handlers, leases). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "gpio.h"
#include "request.h"

struct daemon;
struct lease;
struct lease_table;
struct loop_timer;
struct service;
struct stream;

#define GPIO_MAX_GROUP  64
#define GPIO_EVENT_LINE 192
/* No line: a name that does not exist (never inside a grant's ranges). */
#define GPIO_NO_LINE 0xffffffffu

struct gpio_watch;

/* One event stream. Its queue is a ring of cfg->event_queue events; when
 * full the oldest go and a {"dropped":N} marker tells the client. */
struct gpio_watcher {
	struct gpio_watch *watch;
	struct gpio_area *area;
	struct stream *stream;
	char service[64];
	uint64_t conn_id;
	enum gpio_edge edge;
	struct gpio_event *ring;
	size_t cap, head, count;
	uint64_t dropped, seq;
	char final[256]; /* last line before the end (error), if any */
	bool ending;
	struct gpio_watcher *next;
};

/* One kernel request per watched line, shared by its watchers. */
struct gpio_watch {
	char chip[64];
	char label[64];
	char name[64];
	unsigned line;
	int fd;
	struct gpio_watcher *watchers;
	struct gpio_watch *next;
};

struct gpio_area {
	struct loop_timer *presence_timer;
	struct daemon *d;
	const struct gpio_ops *ops;
	const struct gpio_sim_ops *sim; /* simulated board only */
	struct gpio_backend *be;
	struct lease_table *leases;
	struct gpio_watch *watches;
	size_t n_direct; /* direct leases (gpio_direct.c) */
};

/* gpio_lines.c: configuration names, indexed by the enums of gpio.h. */
extern const char *const gpio_dir_names[3];
extern const char *const gpio_bias_names[4];
extern const char *const gpio_drive_names[3];
/* The index of s in names[0..n), or -1. */
int gpio_name_index(const char *const *names, size_t n, const char *s);
#define NAME_INDEX(tbl, s) gpio_name_index(tbl, sizeof(tbl) / sizeof(tbl[0]), s)

/* gpio_target.c */
/* Records a driver error as the client sees it; returns err. */
int gpio_fail(struct request *req, int err, const char *chip, const char *what);
bool gpio_policy_allows(struct service *svc, const char *chip, const char *label, unsigned line,
                        const char *name, unsigned access);
/* Resolve steps (route.h): {chip}, {chip}/{line}, and {chip} with the
 * lines of a group write's body as the target's members. */
int gpio_resolve_chip(struct request *req, struct target *t);
int gpio_resolve_line(struct request *req, struct target *t);
int gpio_resolve_group(struct request *req, struct target *t);

/* The members of a group target: keys are offsets or line names. */
int gpio_resolve_members(struct request *req, struct target *t, const char *const *keys, size_t n);

/* gpio_area.c: a line as GET .../LINE shows it. */
json_t *gpio_line_json(struct gpio_area *a, const struct target *t);

/* gpio_lines.c */
/* 409 unless the caller may take the line: free, or already its own
 * (through the API; a line driven directly is nobody's to take). */
int gpio_check_free(struct request *req, struct gpio_area *a, const char *chip, unsigned line);
/* "value" (PUT .../LINE) or "values" (direct) is what decides an output. */
int gpio_parse_config(struct request *req, const json_t *body, const json_t *value,
                      struct gpio_line_config *cfg);
/* Is l a lease on a line held as an input? Its configuration into cfg. */
bool gpio_lease_input(const struct lease *l, struct gpio_line_config *cfg);
/* Requests a held input again as its lease says (after a watch of it ends). */
void gpio_restore_input(struct gpio_area *a, const char *chip, unsigned line);
/* "gpio:CHIP:LINE" -> CHIP and LINE. */
bool gpio_parse_resource(const char *resource, char *chip, size_t len, unsigned *line);

bool gpio_lease_is_direct(const struct lease *l);
/* The lease of resource, after dropping direct leases whose handle closed. */
const struct lease *gpio_direct_lease(struct gpio_area *a, const char *resource);
/* Drops the direct leases whose handle was closed. */
void gpio_direct_reap(struct gpio_area *a);
/* Is service's direct handle still open on chip/line? */
bool gpio_direct_alive(struct gpio_area *a, const char *chip, unsigned line, const char *service);
/* The kernel's consumer label of service's direct handles. */
void gpio_direct_consumer(char *buf, size_t len, const char *service);

/* gpio_direct.c */
int gpio_check_direct(struct request *req);
int gpio_resolve_direct(struct request *req, struct target *t);
int gpio_direct_open(struct request *req); /* POST /v1/direct/gpio/CHIP */
json_t *gpio_direct_open_handles(struct daemon *d, const char *service);

/* gpio_events.c */
struct gpio_watch *gpio_find_watch(struct gpio_area *a, const char *chip, unsigned line);
int gpio_check_watch(struct request *req); /* query of GET .../events */
int gpio_watch_line(struct request *req);  /* GET .../events */
void gpio_watcher_end(struct gpio_watcher *wr, const char *code, const char *message);
void gpio_watch_free(struct gpio_area *a, struct gpio_watch *w);
/* A writer takes the line: watching is reading, and never holds a line
 * against a writer. Its watchers' streams end with a conflict naming who. */
void gpio_end_watch(struct gpio_area *a, const char *chip, unsigned line, const char *by);
/* Ends the streams of svc (all, or only those its policy no longer allows). */
void gpio_sweep_watchers(struct gpio_area *a, struct service *svc, bool policy_only);
void gpio_events_fini(struct gpio_area *a);
