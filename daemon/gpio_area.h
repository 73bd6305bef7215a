/* Private to the GPIO area (api_gpio.c: lines and leases; gpio_events.c:
 * edge-event streams). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "gpio.h"
#include "router.h"

struct lease_table;
struct loop_timer;
struct service;
struct stream;

#define GPIO_MAX_GROUP  64
#define GPIO_EVENT_LINE 192

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
	char chip[GPIO_NAME_MAX];
	char label[GPIO_NAME_MAX];
	char name[GPIO_NAME_MAX];
	unsigned line;
	int fd;
	struct gpio_watcher *watchers;
	struct gpio_watch *next;
};

struct gpio_area {
	struct loop_timer *presence_timer;
	struct broker *b;
	const struct gpio_ops *ops;
	struct gpio_backend *be;
	struct lease_table *leases;
	json_t *held; /* resource -> {"chip","label","line","name","config","value"} */
	struct gpio_watch *watches;
};

/* A resolved line: kernel chip name, label, offset and name. */
struct gpio_target {
	struct gpio_chip_info chip;
	unsigned line;
	char name[GPIO_NAME_MAX];
	char resource[96];
};

/* api_gpio.c */
int gpio_fail(struct request *req, int err, const char *chip, const char *what);
/* Resolves {chip} and {line} of the request; replies and returns non-zero on failure. */
int gpio_resolve(struct request *req, struct gpio_area *a, struct gpio_target *t);
int gpio_authorize(struct request *req, const struct gpio_target *t, unsigned access);
bool gpio_policy_allows(struct service *svc, const char *chip, const char *label, unsigned line,
                        const char *name, unsigned access);

/* gpio_events.c */
struct gpio_watch *gpio_find_watch(struct gpio_area *a, const char *chip, unsigned line);
int gpio_watch_line(struct request *req); /* GET .../events */
void gpio_watcher_end(struct gpio_watcher *wr, const char *code, const char *message);
void gpio_watch_free(struct gpio_area *a, struct gpio_watch *w);
/* Ends the streams of svc (all, or only those its policy no longer allows). */
void gpio_sweep_watchers(struct gpio_area *a, struct service *svc, bool policy_only);
void gpio_events_fini(struct gpio_area *a);
