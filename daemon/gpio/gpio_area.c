/* SPDX-License-Identifier: GPL-2.0-or-later */
/* GPIO for services: lines, leases and group writes (edge-event streams are
 * gpio_events.c). docs/gpio.md is the reference. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "config.h"
#include "gpio.h"
#include "gpio_private.h"
#include "lease.h"
#include "log.h"
#include "policy.h"
#include "registry.h"
#include "state.h"

static struct gpio_area *gpio_area_of(const struct request *req)
{
	return req_daemon(req)->gpio;
}

/* --- replies --- */

static json_t *gpio_holder_json(struct gpio_area *a, const char *chip, unsigned line)
{
	char res[96];
	const struct lease *l;

	snprintf(res, sizeof(res), "gpio:%s:%u", chip, line);
	l = lease_find(a->leases, res);
	return l ? json_string(l->holder) : json_null();
}

json_t *gpio_line_json(struct gpio_area *a, const struct target *t)
{
	struct gpio_line_info info;
	const struct lease *l = gpio_direct_lease(a, t->resource);
	int value = -1;
	json_t *o;

	if (a->ops->line_info(a->be, t->chip, t->want.line, &info) < 0)
		memset(&info, 0, sizeof(info));
	if (a->ops->get(a->be, t->chip, t->want.line, &value) < 0)
		value = -1;
	o = json_pack(
	        "{s:s,s:i,s:s,s:s,s:s,s:b,s:s,s:b,s:s}", "chip", t->chip, "line", (int)t->want.line,
	        "name", info.name, "direction", gpio_dir_names[info.config.direction], "bias",
	        gpio_bias_names[info.config.bias], "active_low", info.config.active_low, "drive",
	        gpio_drive_names[info.config.drive], "used", info.used, "consumer", info.consumer);
	json_object_set_new(o, "value", value < 0 ? json_null() : json_integer(value));
	json_object_set_new(o, "holder", l ? json_string(l->holder) : json_null());
	json_object_set_new(o, "lease",
	                    !l                            ? json_null()
	                    : gpio_lease_is_direct(l)     ? json_string("direct")
	                    : l->kind == LEASE_CONNECTION ? json_string("connection")
	                                                  : json_string("persistent"));
	json_object_set_new(o, "watchers",
	                    json_integer(gpio_find_watch(a, t->chip, t->want.line) ? 1 : 0));
	return o;
}

/* --- reading --- */

static json_t *gpio_list_line(struct gpio_area *a, const struct gpio_chip_info *chip,
                              const struct gpio_line_info *info)
{
	return json_pack("{s:i,s:s,s:o,s:s,s:s,s:s,s:b,s:s,s:b}", "line", (int)info->offset, "name",
	                 info->name, "holder", gpio_holder_json(a, chip->name, info->offset),
	                 "direction", gpio_dir_names[info->config.direction], "bias",
	                 gpio_bias_names[info->config.bias], "drive",
	                 gpio_drive_names[info->config.drive], "active_low",
	                 info->config.active_low, "consumer", info->consumer, "used", info->used);
}

static int gpio_list(struct request *req)
{
	struct gpio_area *a = gpio_area_of(req);
	struct service *svc = req_service(req);
	struct gpio_chip_info chip;
	json_t *chips = json_array();

	gpio_direct_reap(a);
	for (unsigned i = 0; a->ops->chip_info(a->be, i, &chip) == 0; i++) {
		json_t *lines = json_array();
		for (unsigned off = 0; off < chip.num_lines; off++) {
			struct gpio_line_info info;
			if (a->ops->line_info(a->be, chip.name, off, &info) < 0)
				continue;
			if (svc && !gpio_policy_allows(svc, chip.name, chip.label, off, info.name,
			                               POLICY_READ))
				continue;
			json_array_append_new(lines, gpio_list_line(a, &chip, &info));
		}
		if (svc && !json_array_size(lines)) {
			json_decref(lines);
			continue;
		}
		json_array_append_new(chips, json_pack("{s:s,s:s,s:i,s:o}", "chip", chip.name,
		                                       "label", chip.label, "num_lines",
		                                       (int)chip.num_lines, "lines", lines));
	}
	return req_result_json(req, 200, json_pack("{s:o}", "chips", chips));
}

static int gpio_get_line(struct request *req)
{
	return req_result_json(req, 200, gpio_line_json(gpio_area_of(req), req_target(req)));
}

/* --- driving --- */

static int gpio_lease_kind(struct request *req, enum lease_kind *kind)
{
	const char *q = req_query(req, "lease");

	*kind = LEASE_PERSISTENT;
	if (!q || !strcmp(q, "persistent"))
		return 0;
	if (!strcmp(q, "connection")) {
		*kind = LEASE_CONNECTION;
		return 0;
	}
	return req_fail(req, -EBADMSG, "lease=persistent (default) or lease=connection",
	                "unknown lease kind \"%.32s\"", q);
}

/* The kernel request goes unless a watch holds it (a held input that is
 * also watched: the watch's event request is the line's only one). */
static void gpio_give_back(struct gpio_area *a, const char *chip, unsigned line)
{
	if (!gpio_find_watch(a, chip, line))
		a->ops->release(a->be, chip, line);
}

/* Body and query of PUT .../LINE, before anything is resolved. */
static int gpio_check_line_config(struct request *req)
{
	struct gpio_line_config cfg;
	enum lease_kind kind;
	int r = gpio_lease_kind(req, &kind);

	return r < 0 ? r
	             : gpio_parse_config(req, req_json(req),
	                                 json_object_get(req_json(req), "value"), &cfg);
}

static int gpio_check_group(struct request *req)
{
	json_t *values = json_object_get(req_json(req), "values"), *v;
	enum lease_kind kind;
	const char *key;

	if (json_object_size(values) == 0 || json_object_size(values) > GPIO_MAX_GROUP)
		return req_fail(req, -EINVAL, NULL, "\"values\" must name 1 to %d lines",
		                GPIO_MAX_GROUP);
	json_object_foreach(values, key, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1)
			return req_fail(req, -EINVAL, NULL,
			                "value of line \"%.32s\" must be 0 or 1", key);
	}
	return gpio_lease_kind(req, &kind);
}

static json_t *gpio_config_json(const struct gpio_line_config *cfg, int value)
{
	return json_pack("{s:s,s:s,s:s,s:b,s:i}", "direction", gpio_dir_names[cfg->direction],
	                 "bias", gpio_bias_names[cfg->bias], "drive", gpio_drive_names[cfg->drive],
	                 "active_low", cfg->active_low, "value", value);
}

/* The lease, with what was set: a persistent lease is restored from it. */
static int gpio_take(struct request *req, struct gpio_area *a, const char *chip, unsigned line,
                     enum lease_kind kind, const struct gpio_line_config *cfg, int value)
{
	char res[96];
	int r;

	json_t *data = gpio_config_json(cfg, value);
	const struct lease *l;

	snprintf(res, sizeof(res), "gpio:%s:%u", chip, line);
	r = lease_acquire(a->leases, res, req_caller(req), kind, req_conn_id(req), NULL);
	if (r < 0) {
		json_decref(data);
		return r;
	}
	/* The same value again changes nothing durable. */
	l = lease_find(a->leases, res);
	if (l->data && json_equal(l->data, data)) {
		json_decref(data);
		return 0;
	}
	lease_set_data(a->leases, res, data);
	if (kind == LEASE_PERSISTENT)
		state_changed(a->d->state);
	return 0;
}

static int gpio_put_line(struct request *req)
{
	struct gpio_area *a = gpio_area_of(req);
	const struct target *t = req_target(req);
	struct gpio_line_config cfg;
	enum lease_kind kind;
	int r;

	gpio_lease_kind(req, &kind);
	gpio_parse_config(req, req_json(req), json_object_get(req_json(req), "value"), &cfg);
	r = gpio_check_free(req, a, t->chip, t->want.line);
	if (r < 0)
		return r;
	gpio_end_watch(a, t->chip, t->want.line, req_caller(req));
	r = a->ops->request(a->be, t->chip, &t->want.line, &cfg.value, 1, &cfg);
	if (r < 0)
		return gpio_fail(req, r, t->chip, "line");
	r = gpio_take(req, a, t->chip, t->want.line, kind, &cfg, cfg.value);
	if (r < 0)
		return req_fail(req, r, NULL, "cannot record the lease");
	return req_result_json(req, 200, gpio_line_json(a, t));
}

static int gpio_put_group(struct request *req)
{
	struct gpio_area *a = gpio_area_of(req);
	const struct target *t = req_target(req);
	json_t *values = json_object_get(req_json(req), "values"), *out;
	struct gpio_line_config cfg = {.direction = GPIO_DIR_OUTPUT};
	unsigned offsets[GPIO_MAX_GROUP];
	int vals[GPIO_MAX_GROUP], r;
	enum lease_kind kind;
	const char *key;
	json_t *v;
	size_t i = 0;

	gpio_lease_kind(req, &kind);
	/* Members are in the body's order (resolve walked the same object). */
	json_object_foreach(values, key, v)
	{
		offsets[i] = t->members[i].line;
		vals[i] = (int)json_integer_value(v);
		r = gpio_check_free(req, a, t->chip, offsets[i]);
		if (r < 0)
			return r;
		i++;
	}
	for (i = 0; i < t->n_members; i++)
		gpio_end_watch(a, t->chip, offsets[i], req_caller(req));
	r = a->ops->request(a->be, t->chip, offsets, vals, t->n_members, &cfg);
	if (r < 0)
		return gpio_fail(req, r, t->chip, "line");
	out = json_object();
	for (i = 0; i < t->n_members; i++) {
		char k[16];
		gpio_take(req, a, t->chip, offsets[i], kind, &cfg, vals[i]);
		snprintf(k, sizeof(k), "%u", offsets[i]);
		json_object_set_new(out, k, json_integer(vals[i]));
	}
	return req_result_json(req, 200, json_pack("{s:s,s:o}", "chip", t->chip, "values", out));
}

static int gpio_delete_line(struct request *req)
{
	struct gpio_area *a = gpio_area_of(req);
	const struct target *t = req_target(req);
	const struct lease *l = gpio_direct_lease(a, t->resource);

	if (!l)
		return req_fail(req, -ENOENT, NULL, "%s line %u is not held", t->chip,
		                t->want.line);
	/* The handle holds the line in the kernel, not the broker. */
	if (gpio_lease_is_direct(l))
		return req_fail(req, -EBUSY, "closing the handle gives it back",
		                "%s line %u is driven directly by service %s", t->chip,
		                t->want.line, l->holder);
	if (req_service(req) && strcmp(l->holder, req_caller(req)))
		return req_fail(req, -EBUSY, NULL, "%s line %u is held by service %s", t->chip,
		                t->want.line, l->holder);
	gpio_give_back(a, t->chip, t->want.line);
	if (l->kind == LEASE_PERSISTENT)
		state_changed(a->d->state);
	lease_release(a->leases, t->resource);
	return req_result_empty(req);
}

/* --- lifecycle hooks --- */

struct gpio_sweep {
	struct gpio_area *a;
	struct service *svc;
};

static bool gpio_lease_still_allowed(const struct lease *l, void *data)
{
	struct gpio_sweep *s = data;
	struct gpio_chip_info info;
	struct gpio_line_info li;
	char chip[GPIO_NAME_MAX];
	unsigned line;

	if (!gpio_parse_resource(l->resource, chip, sizeof(chip), &line) ||
	    s->a->ops->chip_find(s->a->be, chip, &info) < 0)
		return false;
	/* A direct handle cannot be taken back: its lease stays while it is
	 * open, and the admin's reply lists it (open_handles). */
	if (gpio_lease_is_direct(l))
		return gpio_direct_alive(s->a, chip, line, l->holder);
	if (s->a->ops->line_info(s->a->be, chip, line, &li) < 0)
		li.name[0] = '\0';
	return gpio_policy_allows(s->svc, chip, info.label, line, li.name,
	                          POLICY_READ | POLICY_WRITE);
}

static void gpio_lease_drop(const struct lease *l, enum lease_end why, void *data)
{
	struct gpio_sweep *s = data;
	char chip[GPIO_NAME_MAX];
	unsigned line;

	if (!gpio_parse_resource(l->resource, chip, sizeof(chip), &line))
		return;
	if (gpio_lease_is_direct(l)) {
		s->a->n_direct--;
		if (gpio_direct_alive(s->a, chip, line, l->holder))
			log_warn(s->svc->name,
			         "%s line %u: direct handle still open (%s): stop the container to "
			         "take it back",
			         chip, line, lease_end_reason(why));
		return;
	}
	log_info(s->svc->name, "%s line %u released (%s)", chip, line, lease_end_reason(why));
	gpio_give_back(s->a, chip, line);
}

static void gpio_end_leases(struct daemon *d, struct service *svc, enum lease_end why,
                            uint64_t conn_id)
{
	struct gpio_sweep s = {d->gpio, svc};

	if (!d->gpio)
		return;
	lease_end_for(d->gpio->leases, svc->name, why, conn_id, gpio_lease_still_allowed,
	              gpio_lease_drop, &s);
}

static void gpio_policy_changed(struct daemon *d, struct service *svc)
{
	gpio_end_leases(d, svc, LEASE_END_REVOKED, 0);
	gpio_sweep_watchers(d->gpio, svc, true);
	state_changed(d->state);
}

static void gpio_service_removed(struct daemon *d, struct service *svc)
{
	gpio_end_leases(d, svc, LEASE_END_REMOVED, 0);
	gpio_sweep_watchers(d->gpio, svc, false);
}

static void gpio_conn_closed(struct daemon *d, struct service *svc, uint64_t conn_id)
{
	gpio_end_leases(d, svc, LEASE_END_CONN, conn_id);
}

static json_t *gpio_save(struct daemon *d)
{
	return lease_save(d->gpio->leases);
}

/* Drives the line again as it was; the lease follows when this succeeds. */
static int gpio_restore_line(const char *resource, const char *holder, const json_t *data,
                             void *ctx)
{
	struct gpio_area *a = ctx;
	struct gpio_line_config cfg = {0};
	char chip[GPIO_NAME_MAX];
	unsigned line;
	int dir = NAME_INDEX(gpio_dir_names, json_string_value(json_object_get(data, "direction")));
	int bias = NAME_INDEX(gpio_bias_names, json_string_value(json_object_get(data, "bias")));
	int drive = NAME_INDEX(gpio_drive_names, json_string_value(json_object_get(data, "drive")));

	if (json_is_true(json_object_get(data, "direct")) &&
	    gpio_parse_resource(resource, chip, sizeof(chip), &line)) {
		/* Nothing to drive: the client's handle kept the line, or it is gone. */
		if (!gpio_direct_alive(a, chip, line, holder)) {
			log_info("gpio", "%s's direct handle on %s line %u closed meanwhile",
			         holder, chip, line);
			return -ENOENT;
		}
		a->n_direct++;
		return 0;
	}
	if (!gpio_parse_resource(resource, chip, sizeof(chip), &line) || dir < 0 || bias < 0 ||
	    drive < 0) {
		log_warn("gpio", "saved lease %s of %s is unreadable: not restored", resource,
		         holder);
		return -EINVAL;
	}
	cfg.direction = (enum gpio_direction)dir;
	cfg.bias = (enum gpio_bias)bias;
	cfg.drive = (enum gpio_drive)drive;
	cfg.active_low = json_is_true(json_object_get(data, "active_low"));
	cfg.value = (int)json_integer_value(json_object_get(data, "value"));
	if (a->ops->request(a->be, chip, &line, &cfg.value, 1, &cfg) < 0) {
		log_warn("gpio", "lease of %s on %s line %u not restored", holder, chip, line);
		return -EIO;
	}
	log_info("gpio", "restored %s's lease on %s line %u", holder, chip, line);
	return 0;
}

static void gpio_restore(struct daemon *d, const json_t *saved)
{
	lease_restore(d->gpio->leases, saved, gpio_restore_line, d->gpio);
}

static int gpio_init(struct daemon *d)
{
	struct gpio_area *a = calloc(1, sizeof(*a));
	struct gpio_params params = {d->cfg->dev_dir, d->cfg->board_file, d->env};
	int r;

	if (!a)
		return -ENOMEM;
	a->d = d;
	a->ops = gpio_backend_find(d->cfg->sim ? "sim" : "gpiod");
	a->sim = gpio_backend_sim(a->ops);
	a->leases = lease_table_new();
	r = a->ops->open(&a->be, &params);
	if (r < 0 || !a->leases) {
		lease_table_free(a->leases);
		free(a);
		return r < 0 ? r : -ENOMEM;
	}
	d->gpio = a;
	return 0;
}

static void gpio_fini(struct daemon *d)
{
	struct gpio_area *a = d->gpio;

	if (!a)
		return;
	gpio_events_fini(a);
	a->ops->close(a->be);
	lease_table_free(a->leases);
	free(a);
	d->gpio = NULL;
}

static const struct schema gpio_line_schema = {
        .fields = (const struct schema_field[]){{"value", SCHEMA_INT, false, 0, 1},
                                                {"direction", SCHEMA_STRING, false, 1, 16},
                                                {"bias", SCHEMA_STRING, false, 1, 16},
                                                {"drive", SCHEMA_STRING, false, 1, 16},
                                                {"active_low", SCHEMA_BOOL, false, 0, 0},
                                                {0}},
};
static const struct schema gpio_group_schema = {
        .fields = (const struct schema_field[]){{"values", SCHEMA_OBJECT, true, 0, 0}, {0}},
};

static const struct schema gpio_direct_schema = {
        .fields = (const struct schema_field[]){{"lines", SCHEMA_ARRAY, true, 1, 64},
                                                {"values", SCHEMA_ARRAY, false, 1, 64},
                                                {"direction", SCHEMA_STRING, false, 1, 16},
                                                {"bias", SCHEMA_STRING, false, 1, 16},
                                                {"drive", SCHEMA_STRING, false, 1, 16},
                                                {"active_low", SCHEMA_BOOL, false, 0, 0},
                                                {0}},
};

static const struct route gpio_routes[] = {
        {.method = "GET",
         .pattern = "/v1/gpio",
         .sockets = ROUTE_ANY,
         .resource = RES_NONE,
         .access = ACCESS_NONE,
         .handler = gpio_list},
        {.method = "GET",
         .pattern = "/v1/gpio/{chip}/{line}",
         .sockets = ROUTE_ANY,
         .resource = RES_GPIO_LINE,
         .access = ACCESS_READ,
         .resolve = gpio_resolve_line,
         .handler = gpio_get_line},
        {.method = "PUT",
         .pattern = "/v1/gpio/{chip}/{line}",
         .sockets = ROUTE_ANY,
         .body = BODY_JSON,
         .schema = &gpio_line_schema,
         .check = gpio_check_line_config,
         .resource = RES_GPIO_LINE,
         .access = ACCESS_WRITE,
         .resolve = gpio_resolve_line,
         .handler = gpio_put_line},
        {.method = "DELETE",
         .pattern = "/v1/gpio/{chip}/{line}",
         .sockets = ROUTE_ANY,
         .resource = RES_GPIO_LINE,
         .access = ACCESS_WRITE,
         .resolve = gpio_resolve_line,
         .handler = gpio_delete_line},
        {.method = "PUT",
         .pattern = "/v1/gpio/{chip}",
         .sockets = ROUTE_ANY,
         .body = BODY_JSON,
         .schema = &gpio_group_schema,
         .check = gpio_check_group,
         .resource = RES_GPIO_CHIP,
         .access = ACCESS_WRITE,
         .resolve = gpio_resolve_group,
         .handler = gpio_put_group},
        {.method = "GET",
         .pattern = "/v1/gpio/{chip}/{line}/events",
         .sockets = ROUTE_ANY,
         .check = gpio_check_watch,
         .resource = RES_GPIO_LINE,
         .access = ACCESS_READ,
         .resolve = gpio_resolve_line,
         .handler = gpio_watch_line},
        {.method = "POST",
         .pattern = "/v1/direct/gpio/{chip}",
         .sockets = ROUTE_ANY,
         .body = BODY_JSON,
         .schema = &gpio_direct_schema,
         .check = gpio_check_direct,
         .resource = RES_GPIO_CHIP,
         .access = ACCESS_DIRECT,
         .resolve = gpio_resolve_direct,
         .handler = gpio_direct_open},
};

const struct area area_gpio = {
        .name = "gpio",
        AREA_ROUTES(gpio_routes),
        .init = gpio_init,
        .fini = gpio_fini,
        .policy_changed = gpio_policy_changed,
        .service_removed = gpio_service_removed,
        .conn_closed = gpio_conn_closed,
        .save = gpio_save,
        .restore = gpio_restore,
        .open_handles = gpio_direct_open_handles,
};
