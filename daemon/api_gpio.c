/* GPIO for services: lines, leases, group writes and edge-event streams.
 * docs/gpio.md is the reference. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "config.h"
#include "gpio.h"
#include "gpio_area.h"
#include "lease.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "registry.h"

static const char *const dir_names[] = {"as-is", "input", "output"};
static const char *const bias_names[] = {"as-is", "disabled", "pull-up", "pull-down"};
static const char *const drive_names[] = {"push-pull", "open-drain", "open-source"};

static int gpio_name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

#define NAME_INDEX(tbl, s) gpio_name_index(tbl, sizeof(tbl) / sizeof(tbl[0]), s)

static void gpio_resource(struct gpio_target *t)
{
	snprintf(t->resource, sizeof(t->resource), "gpio:%s:%u", t->chip.name, t->line);
}

/* Errors of the driver as the client sees them. */
int gpio_fail(struct request *req, int err, const char *chip, const char *what)
{
	switch (err) {
	case -ENOENT:
		return req_error(req, err, "GET /v1/gpio lists chips and lines", "%s: no such %s",
		                 chip, what);
	case -ENODEV:
		return req_error(req, err, "the chip may come back (USB expander, module)",
		                 "%s is not present", chip);
	case -EOPNOTSUPP:
		return req_error(req, err, NULL, "%s: the chip does not support this configuration",
		                 chip);
	case -EBUSY:
		return req_error(req, err, NULL, "%s: the line is in use outside hwbrokerd", chip);
	default:
		return req_error(req, err, NULL, "%s: %s", chip, strerror(-err));
	}
}

int gpio_resolve(struct request *req, struct gpio_area *a, struct gpio_target *t)
{
	const char *chip = req_param(req, "chip"), *line = req_param(req, "line");
	struct gpio_line_info info;
	unsigned long long v;
	int r;

	memset(t, 0, sizeof(*t));
	r = a->ops->chip_find(a->be, chip, &t->chip);
	if (r < 0)
		return gpio_fail(req, r, chip, "chip");
	if (!line)
		return 0;
	if (line[0] >= '0' && line[0] <= '9') {
		r = req_parse_uint(line, 0, t->chip.num_lines ? t->chip.num_lines - 1 : 0, &v);
		if (r == -EBADMSG)
			return req_error(req, r, "lines are offsets (17, 0x11) or line names",
			                 "malformed line \"%s\"", line);
		if (r < 0)
			return req_error(req, -ENOENT, "GET /v1/gpio lists the lines",
			                 "%s has no line %s (it has %u)", t->chip.name, line,
			                 t->chip.num_lines);
		t->line = (unsigned)v;
	} else {
		r = a->ops->line_find(a->be, t->chip.name, line, &t->line);
		if (r < 0)
			return gpio_fail(req, r, t->chip.name, "line name");
	}
	r = a->ops->line_info(a->be, t->chip.name, t->line, &info);
	if (r < 0)
		return gpio_fail(req, r, t->chip.name, "line");
	snprintf(t->name, sizeof(t->name), "%s", info.name);
	gpio_resource(t);
	return 0;
}

int gpio_authorize(struct request *req, const struct gpio_target *t, unsigned access)
{
	struct policy_request want = {
	        .kind = POLICY_GPIO,
	        .access = access,
	        .chip = t->chip.name,
	        .chip_label = t->chip.label,
	        .line = t->line,
	        .line_name = t->name,
	};
	return req_authorize(req, &want);
}

bool gpio_policy_allows(struct service *svc, const char *chip, const char *label, unsigned line,
                        const char *name, unsigned access)
{
	struct policy_request want = {
	        .kind = POLICY_GPIO,
	        .access = access,
	        .chip = chip,
	        .chip_label = label,
	        .line = line,
	        .line_name = name,
	};
	struct policy_decision d;

	return svc && policy_allows(svc->policy, &want, &d);
}

static json_t *gpio_line_json(struct gpio_area *a, const struct gpio_target *t)
{
	struct gpio_line_info info;
	const struct lease *l = lease_find(a->leases, t->resource);
	int value = -1;
	json_t *o;

	if (a->ops->line_info(a->be, t->chip.name, t->line, &info) < 0)
		memset(&info, 0, sizeof(info));
	if (a->ops->get(a->be, t->chip.name, t->line, &value) < 0)
		value = -1;
	o = json_pack("{s:s,s:i,s:s,s:s,s:s,s:b,s:s,s:b}", "chip", t->chip.name, "line",
	              (int)t->line, "name", info.name, "direction",
	              dir_names[info.config.direction], "bias", bias_names[info.config.bias],
	              "active_low", info.config.active_low, "drive", drive_names[info.config.drive],
	              "used", info.used);
	json_object_set_new(o, "value", value < 0 ? json_null() : json_integer(value));
	json_object_set_new(o, "holder", l ? json_string(l->holder) : json_null());
	json_object_set_new(
	        o, "lease",
	        l ? json_string(l->kind == LEASE_CONNECTION ? "connection" : "persistent")
	          : json_null());
	json_object_set_new(o, "watchers",
	                    json_integer(gpio_find_watch(a, t->chip.name, t->line) ? 1 : 0));
	return o;
}

/* --- reading --- */

static int gpio_list(struct request *req)
{
	struct gpio_area *a = req_broker(req)->gpio;
	struct service *svc = req_service(req);
	struct gpio_chip_info chip;
	json_t *chips = json_array();

	for (unsigned i = 0; a->ops->chip_info(a->be, i, &chip) == 0; i++) {
		json_t *lines = json_array();
		for (unsigned off = 0; off < chip.num_lines; off++) {
			struct gpio_line_info info;
			if (a->ops->line_info(a->be, chip.name, off, &info) < 0)
				continue;
			if (svc && !gpio_policy_allows(svc, chip.name, chip.label, off, info.name,
			                               POLICY_READ))
				continue;
			char res[96];
			snprintf(res, sizeof(res), "gpio:%s:%u", chip.name, off);
			const struct lease *l = lease_find(a->leases, res);
			json_array_append_new(lines,
			                      json_pack("{s:i,s:s,s:o}", "line", (int)off, "name",
			                                info.name, "holder",
			                                l ? json_string(l->holder) : json_null()));
		}
		if (svc && !json_array_size(lines)) {
			json_decref(lines);
			continue;
		}
		json_array_append_new(chips, json_pack("{s:s,s:s,s:i,s:o}", "chip", chip.name,
		                                       "label", chip.label, "num_lines",
		                                       (int)chip.num_lines, "lines", lines));
	}
	return req_reply_json(req, 200, json_pack("{s:o}", "chips", chips));
}

static int gpio_get_line(struct request *req)
{
	struct gpio_area *a = req_broker(req)->gpio;
	struct gpio_target t;

	if (gpio_resolve(req, a, &t) || gpio_authorize(req, &t, POLICY_READ))
		return 0;
	return req_reply_json(req, 200, gpio_line_json(a, &t));
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
	req_error(req, -EBADMSG, "lease=persistent (default) or lease=connection",
	          "unknown lease kind \"%.32s\"", q);
	return -EBADMSG;
}

/* 409 unless the caller may take the line: free, or already its own. */
static int gpio_check_free(struct request *req, struct gpio_area *a, const struct gpio_target *t)
{
	const struct lease *l = lease_find(a->leases, t->resource);
	struct service *svc = req_service(req);
	const char *me = svc ? svc->name : "admin";

	if (l && strcmp(l->holder, me))
		return req_error(req, -EBUSY, "wait until it is released, or ask its holder",
		                 "%s line %u is held by service %s", t->chip.name, t->line,
		                 l->holder)
		               ?: -EBUSY;
	if (gpio_find_watch(a, t->chip.name, t->line))
		return req_error(req, -EBUSY, "a watched line is an input; stop the watchers first",
		                 "%s line %u is being watched", t->chip.name, t->line)
		               ?: -EBUSY;
	return 0;
}

static int gpio_parse_config(struct request *req, const json_t *body, struct gpio_line_config *cfg)
{
	json_t *value = json_object_get(body, "value");
	const char *dir = json_string_value(json_object_get(body, "direction"));
	const char *bias = json_string_value(json_object_get(body, "bias"));
	const char *drive = json_string_value(json_object_get(body, "drive"));
	int i;

	memset(cfg, 0, sizeof(*cfg));
	cfg->direction = value ? GPIO_DIR_OUTPUT : GPIO_DIR_INPUT;
	if (dir) {
		i = NAME_INDEX(dir_names, dir);
		if (i < GPIO_DIR_INPUT)
			return req_error(req, -EINVAL, NULL,
			                 "direction must be \"input\" or \"output\"")
			               ?: -EINVAL;
		cfg->direction = (enum gpio_direction)i;
	}
	if (!value && !dir)
		return req_error(req, -EINVAL, "{\"value\":1} or {\"direction\":\"input\"}",
		                 "give a value or a direction")
		               ?: -EINVAL;
	if (cfg->direction == GPIO_DIR_INPUT && value)
		return req_error(req, -EINVAL, NULL, "an input has no value to set") ?: -EINVAL;
	if (bias && (i = NAME_INDEX(bias_names, bias)) < 0)
		return req_error(req, -EINVAL, NULL,
		                 "bias must be as-is, disabled, pull-up or pull-down")
		               ?: -EINVAL;
	cfg->bias = bias ? (enum gpio_bias)i : GPIO_BIAS_AS_IS;
	if (drive && (i = NAME_INDEX(drive_names, drive)) < 0)
		return req_error(req, -EINVAL, NULL,
		                 "drive must be push-pull, open-drain or open-source")
		               ?: -EINVAL;
	if (drive && cfg->direction == GPIO_DIR_INPUT)
		return req_error(req, -EINVAL, NULL, "drive applies to outputs only") ?: -EINVAL;
	cfg->drive = drive ? (enum gpio_drive)i : GPIO_DRIVE_PUSH_PULL;
	cfg->active_low = json_is_true(json_object_get(body, "active_low"));
	cfg->value = (int)json_integer_value(value);
	return 0;
}

static json_t *gpio_config_json(const struct gpio_line_config *cfg)
{
	return json_pack("{s:s,s:s,s:s,s:b}", "direction", dir_names[cfg->direction], "bias",
	                 bias_names[cfg->bias], "drive", drive_names[cfg->drive], "active_low",
	                 cfg->active_low);
}

static void gpio_remember(struct gpio_area *a, const struct gpio_target *t,
                          const struct gpio_line_config *cfg, int value)
{
	json_object_set_new(a->held, t->resource,
	                    json_pack("{s:s,s:s,s:i,s:s,s:o,s:i}", "chip", t->chip.name, "label",
	                              t->chip.label, "line", (int)t->line, "name", t->name,
	                              "config", gpio_config_json(cfg), "value", value));
}

static int gpio_take(struct request *req, struct gpio_area *a, const struct gpio_target *t,
                     enum lease_kind kind, const struct gpio_line_config *cfg, int value)
{
	struct service *svc = req_service(req);
	int r = lease_acquire(a->leases, t->resource, svc ? svc->name : "admin", kind,
	                      req_conn_id(req), NULL);

	if (r < 0)
		return r;
	gpio_remember(a, t, cfg, value);
	broker_state_changed(a->b);
	log_info(req_log_ctx(req), "%s line %u: %s %s (%s lease)", t->chip.name, t->line,
	         dir_names[cfg->direction],
	         cfg->direction == GPIO_DIR_OUTPUT ? (value ? "1" : "0") : "",
	         kind == LEASE_CONNECTION ? "connection" : "persistent");
	return 0;
}

static int gpio_put_line(struct request *req)
{
	struct gpio_area *a = req_broker(req)->gpio;
	struct gpio_line_config cfg;
	struct gpio_target t;
	enum lease_kind kind;
	int r;

	if (gpio_resolve(req, a, &t) || gpio_authorize(req, &t, POLICY_READ | POLICY_WRITE))
		return 0;
	if (gpio_lease_kind(req, &kind) < 0 || gpio_check_free(req, a, &t) < 0 ||
	    gpio_parse_config(req, req_json(req), &cfg) < 0)
		return 0;
	r = a->ops->request(a->be, t.chip.name, &t.line, &cfg.value, 1, &cfg);
	if (r < 0)
		return gpio_fail(req, r, t.chip.name, "line");
	r = gpio_take(req, a, &t, kind, &cfg, cfg.value);
	if (r < 0)
		return req_error(req, r, NULL, "cannot record the lease");
	return req_reply_json(req, 200, gpio_line_json(a, &t));
}

/* PUT /v1/gpio/CHIP {"values":{"17":1,"GPIO27":0}}: all checked, then one request. */
static int gpio_put_chip(struct request *req)
{
	struct gpio_area *a = req_broker(req)->gpio;
	json_t *values = json_object_get(req_json(req), "values"), *v;
	struct gpio_target targets[GPIO_MAX_GROUP], chip_only;
	unsigned offsets[GPIO_MAX_GROUP];
	int vals[GPIO_MAX_GROUP];
	struct gpio_line_config cfg = {.direction = GPIO_DIR_OUTPUT};
	enum lease_kind kind;
	const char *key;
	size_t n = 0;
	int r;

	if (json_object_size(values) == 0 || json_object_size(values) > GPIO_MAX_GROUP)
		return req_error(req, -EINVAL, NULL, "\"values\" must name 1 to %d lines",
		                 GPIO_MAX_GROUP);
	if (gpio_resolve(req, a, &chip_only) || gpio_lease_kind(req, &kind) < 0)
		return 0;
	json_object_foreach(values, key, v)
	{
		struct gpio_target *t = &targets[n];
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1)
			return req_error(req, -EINVAL, NULL,
			                 "value of line \"%.32s\" must be 0 or 1", key);
		/* Reuse the single-line resolver with this key as the line. */
		*t = chip_only;
		if (key[0] >= '0' && key[0] <= '9') {
			unsigned long long off;
			if (req_parse_uint(key, 0, chip_only.chip.num_lines - 1, &off) < 0)
				return req_error(req, -ENOENT, NULL, "%s has no line \"%.32s\"",
				                 chip_only.chip.name, key);
			t->line = (unsigned)off;
		} else if ((r = a->ops->line_find(a->be, chip_only.chip.name, key, &t->line)) < 0) {
			return gpio_fail(req, r, chip_only.chip.name, "line name");
		}
		struct gpio_line_info info;
		if ((r = a->ops->line_info(a->be, t->chip.name, t->line, &info)) < 0)
			return gpio_fail(req, r, t->chip.name, "line");
		snprintf(t->name, sizeof(t->name), "%s", info.name);
		gpio_resource(t);
		for (size_t k = 0; k < n; k++)
			if (offsets[k] == t->line)
				return req_error(req, -EINVAL, NULL, "line %u named twice",
				                 t->line);
		if (gpio_authorize(req, t, POLICY_READ | POLICY_WRITE) ||
		    gpio_check_free(req, a, t) < 0)
			return 0;
		offsets[n] = t->line;
		vals[n] = (int)json_integer_value(v);
		n++;
	}
	r = a->ops->request(a->be, chip_only.chip.name, offsets, vals, n, &cfg);
	if (r < 0)
		return gpio_fail(req, r, chip_only.chip.name, "line");
	json_t *out = json_object();
	for (size_t i = 0; i < n; i++) {
		char k[16];
		gpio_take(req, a, &targets[i], kind, &cfg, vals[i]);
		snprintf(k, sizeof(k), "%u", offsets[i]);
		json_object_set_new(out, k, json_integer(vals[i]));
	}
	return req_reply_json(req, 200,
	                      json_pack("{s:s,s:o}", "chip", chip_only.chip.name, "values", out));
}

static void gpio_drop_line(struct gpio_area *a, const char *chip, unsigned line,
                           const char *resource)
{
	a->ops->release(a->be, chip, line);
	json_object_del(a->held, resource);
}

static int gpio_delete_line(struct request *req)
{
	struct gpio_area *a = req_broker(req)->gpio;
	struct service *svc = req_service(req);
	struct gpio_target t;
	const struct lease *l;

	if (gpio_resolve(req, a, &t) || gpio_authorize(req, &t, POLICY_READ | POLICY_WRITE))
		return 0;
	l = lease_find(a->leases, t.resource);
	if (!l)
		return req_error(req, -ENOENT, NULL, "%s line %u is not held", t.chip.name, t.line);
	if (svc && strcmp(l->holder, svc->name))
		return req_error(req, -EBUSY, NULL, "%s line %u is held by service %s", t.chip.name,
		                 t.line, l->holder);
	gpio_drop_line(a, t.chip.name, t.line, t.resource);
	lease_release(a->leases, t.resource);
	broker_state_changed(a->b);
	return req_reply_json(req, 204, NULL);
}

/* --- simulated outside world (admin socket, --sim only) --- */

static int gpio_sim_pull(struct request *req)
{
	struct gpio_area *a = req_broker(req)->gpio;
	const char *pull = json_string_value(json_object_get(req_json(req), "pull"));
	int level = pull && !strcmp(pull, "up") ? 1 : pull && !strcmp(pull, "down") ? 0 : -1;
	struct gpio_target t;
	int r;

	if (!a->ops->sim_pull)
		return req_error(req, -ENOENT, NULL, "not a simulated board");
	if (level < 0 && (!pull || strcmp(pull, "none")))
		return req_error(req, -EINVAL, NULL, "pull must be up, down or none");
	if (gpio_resolve(req, a, &t))
		return 0;
	r = a->ops->sim_pull(a->be, t.chip.name, t.line, level);
	if (r < 0)
		return gpio_fail(req, r, t.chip.name, "line");
	return req_reply_json(req, 200, gpio_line_json(a, &t));
}

static int gpio_sim_present(struct request *req)
{
	struct gpio_area *a = req_broker(req)->gpio;
	const char *chip = req_param(req, "chip");
	bool present = json_is_true(json_object_get(req_json(req), "present"));
	int r;

	if (!a->ops->sim_set_present)
		return req_error(req, -ENOENT, NULL, "not a simulated board");
	r = a->ops->sim_set_present(a->be, chip, present);
	if (r < 0)
		return gpio_fail(req, r, chip, "chip");
	log_info("gpio", "simulated %s %s", chip, present ? "returns" : "removed");
	return req_reply_json(req, 200, json_pack("{s:s,s:b}", "chip", chip, "present", present));
}

/* --- lifecycle hooks --- */

struct gpio_sweep {
	struct gpio_area *a;
	struct service *svc;
	uint64_t conn_id;
	enum { SWEEP_POLICY, SWEEP_SERVICE, SWEEP_CONN } why;
};

static bool gpio_sweep_lease(const struct lease *l, void *data)
{
	struct gpio_sweep *s = data;
	json_t *h = json_object_get(s->a->held, l->resource);
	const char *chip = json_string_value(json_object_get(h, "chip"));
	unsigned line = (unsigned)json_integer_value(json_object_get(h, "line"));
	bool drop;

	if (strcmp(l->holder, s->svc->name) || !chip)
		return false;
	switch (s->why) {
	case SWEEP_POLICY:
		drop = !gpio_policy_allows(
		        s->svc, chip, json_string_value(json_object_get(h, "label")), line,
		        json_string_value(json_object_get(h, "name")), POLICY_READ | POLICY_WRITE);
		break;
	case SWEEP_CONN:
		drop = l->kind == LEASE_CONNECTION && l->conn_id == s->conn_id;
		break;
	default:
		drop = true;
	}
	if (drop) {
		log_info(s->svc->name, "%s line %u released (%s)", chip, line,
		         s->why == SWEEP_POLICY ? "revoked by the new policy"
		         : s->why == SWEEP_CONN ? "its connection closed"
		                                : "service removed");
		gpio_drop_line(s->a, chip, line, l->resource);
	}
	return drop;
}

static void gpio_policy_changed(struct broker *b, struct service *svc)
{
	struct gpio_sweep s = {b->gpio, svc, 0, SWEEP_POLICY};

	lease_sweep(b->gpio->leases, gpio_sweep_lease, &s);
	gpio_sweep_watchers(b->gpio, svc, true);
	broker_state_changed(b);
}

static void gpio_service_removed(struct broker *b, struct service *svc)
{
	struct gpio_sweep s = {b->gpio, svc, 0, SWEEP_SERVICE};

	lease_sweep(b->gpio->leases, gpio_sweep_lease, &s);
	gpio_sweep_watchers(b->gpio, svc, false);
}

static void gpio_conn_closed(struct broker *b, struct service *svc, uint64_t conn_id)
{
	struct gpio_sweep s = {b->gpio, svc, conn_id, SWEEP_CONN};

	if (b->gpio)
		lease_sweep(b->gpio->leases, gpio_sweep_lease, &s);
}

struct gpio_save_ctx {
	struct gpio_area *a;
	json_t *list;
};

static bool gpio_save_one(const struct lease *l, void *data)
{
	struct gpio_save_ctx *c = data;
	json_t *h = json_object_get(c->a->held, l->resource);

	if (l->kind == LEASE_PERSISTENT && h) {
		json_t *copy = json_deep_copy(h);
		json_object_set_new(copy, "holder", json_string(l->holder));
		json_array_append_new(c->list, copy);
	}
	return false;
}

static json_t *gpio_save(struct broker *b)
{
	struct gpio_save_ctx c = {b->gpio, json_array()};

	lease_sweep(b->gpio->leases, gpio_save_one, &c);
	return json_pack("{s:o}", "leases", c.list);
}

static void gpio_restore(struct broker *b, const json_t *saved)
{
	struct gpio_area *a = b->gpio;
	json_t *h;
	size_t i;

	json_array_foreach(json_object_get(saved, "leases"), i, h)
	{
		struct gpio_target t = {0};
		struct gpio_line_config cfg = {0};
		json_t *c = json_object_get(h, "config");
		const char *holder = json_string_value(json_object_get(h, "holder"));
		const char *chip = json_string_value(json_object_get(h, "chip"));
		int dir = NAME_INDEX(dir_names, json_string_value(json_object_get(c, "direction")));
		int bias = NAME_INDEX(bias_names, json_string_value(json_object_get(c, "bias")));
		int drive = NAME_INDEX(drive_names, json_string_value(json_object_get(c, "drive")));

		if (!holder || !chip || dir < 0 || bias < 0 || drive < 0 ||
		    a->ops->chip_find(a->be, chip, &t.chip) < 0)
			continue;
		t.line = (unsigned)json_integer_value(json_object_get(h, "line"));
		snprintf(t.name, sizeof(t.name), "%s",
		         json_string_value(json_object_get(h, "name")) ?: "");
		gpio_resource(&t);
		cfg.direction = (enum gpio_direction)dir;
		cfg.bias = (enum gpio_bias)bias;
		cfg.drive = (enum gpio_drive)drive;
		cfg.active_low = json_is_true(json_object_get(c, "active_low"));
		cfg.value = (int)json_integer_value(json_object_get(h, "value"));
		if (a->ops->request(a->be, t.chip.name, &t.line, &cfg.value, 1, &cfg) < 0 ||
		    lease_acquire(a->leases, t.resource, holder, LEASE_PERSISTENT, 0, NULL) < 0) {
			log_warn("gpio", "lease of %s on %s line %u not restored", holder, chip,
			         t.line);
			continue;
		}
		gpio_remember(a, &t, &cfg, cfg.value);
		log_info("gpio", "restored %s's lease on %s line %u", holder, chip, t.line);
	}
}

static int gpio_init(struct broker *b)
{
	struct gpio_area *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->b = b;
	a->ops = gpio_backend_find(b->cfg->sim ? "sim" : "gpiod");
	a->leases = lease_table_new();
	a->held = json_object();
	r = a->ops->open(&a->be, b->cfg);
	if (r < 0 || !a->leases) {
		lease_table_free(a->leases);
		json_decref(a->held);
		free(a);
		return r < 0 ? r : -ENOMEM;
	}
	b->gpio = a;
	return 0;
}

static void gpio_fini(struct broker *b)
{
	struct gpio_area *a = b->gpio;

	if (!a)
		return;
	gpio_events_fini(a);
	a->ops->close(a->be);
	lease_table_free(a->leases);
	json_decref(a->held);
	free(a);
	b->gpio = NULL;
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
static const struct schema gpio_pull_schema = {
        .fields = (const struct schema_field[]){{"pull", SCHEMA_STRING, true, 1, 8}, {0}},
};
static const struct schema gpio_present_schema = {
        .fields = (const struct schema_field[]){{"present", SCHEMA_BOOL, true, 0, 0}, {0}},
};

#define ANY (ROUTE_SERVICE | ROUTE_ADMIN)
static const struct route gpio_routes[] = {
        {"GET", "/v1/gpio", ANY, BODY_NONE, NULL, gpio_list},
        {"GET", "/v1/gpio/{chip}/{line}", ANY, BODY_NONE, NULL, gpio_get_line},
        {"PUT", "/v1/gpio/{chip}/{line}", ANY, BODY_JSON, &gpio_line_schema, gpio_put_line},
        {"DELETE", "/v1/gpio/{chip}/{line}", ANY, BODY_NONE, NULL, gpio_delete_line},
        {"PUT", "/v1/gpio/{chip}", ANY, BODY_JSON, &gpio_group_schema, gpio_put_chip},
        {"GET", "/v1/gpio/{chip}/{line}/events", ANY, BODY_NONE, NULL, gpio_watch_line},
        {"POST", "/v1/sim/gpio/{chip}/{line}", ROUTE_ADMIN | ROUTE_SIM, BODY_JSON,
         &gpio_pull_schema, gpio_sim_pull},
        {"POST", "/v1/sim/gpio/{chip}", ROUTE_ADMIN | ROUTE_SIM, BODY_JSON, &gpio_present_schema,
         gpio_sim_present},
};

const struct area area_gpio = {
        .name = "gpio",
        .routes = gpio_routes,
        .n_routes = sizeof(gpio_routes) / sizeof(gpio_routes[0]),
        .init = gpio_init,
        .fini = gpio_fini,
        .policy_changed = gpio_policy_changed,
        .service_removed = gpio_service_removed,
        .conn_closed = gpio_conn_closed,
        .save = gpio_save,
        .restore = gpio_restore,
};
