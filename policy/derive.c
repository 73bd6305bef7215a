/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compose service -> grants. The table this implements is docs/policy.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy_private.h"

struct derive_caps {
	bool sys_rawio, sys_boot, all;
};

/* A device entry as people write it: HOST, HOST:CONTAINER, HOST:CONTAINER:PERMS,
 * HOST:PERMS, or the long form {"source","target","permissions"}. */
struct derive_device {
	char host[256];
	char text[300];
	bool read_only;
};

static bool derive_valid_perms(const char *s)
{
	bool seen[3] = {false};

	if (!*s || strlen(s) > 3)
		return false;
	for (; *s; s++) {
		const char *k = strchr("rwm", *s);
		if (!k || seen[k - "rwm"])
			return false;
		seen[k - "rwm"] = true;
	}
	return true;
}

static int derive_parse_device(const json_t *entry, struct derive_device *d,
                               struct policy_errors *e)
{
	const char *host = NULL, *perms = NULL;
	char buf[300], *parts[3] = {NULL};
	size_t n = 0;

	if (json_is_object(entry)) {
		host = json_string_value(json_object_get(entry, "source"));
		perms = json_string_value(json_object_get(entry, "permissions"));
		if (!host) {
			policy_error(e, NULL, -1, "devices: long-form entry without \"source\"");
			return -EINVAL;
		}
		snprintf(buf, sizeof(buf), "%s", host);
	} else if (json_is_string(entry)) {
		if (json_string_length(entry) >= sizeof(buf) - 1) {
			policy_error(e, NULL, -1, "devices: entry too long");
			return -EINVAL;
		}
		snprintf(buf, sizeof(buf), "%s", json_string_value(entry));
		for (char *tok = buf; tok && n < 3; n++) {
			parts[n] = tok;
			tok = strchr(tok, ':');
			if (tok)
				*tok++ = '\0';
		}
		host = parts[0];
		if (n == 3)
			perms = parts[2];
		else if (n == 2 && parts[1][0] != '/')
			perms = parts[1];
	} else {
		policy_error(e, NULL, -1, "devices: entries must be strings");
		return -EINVAL;
	}
	snprintf(d->text, sizeof(d->text), "%s",
	         json_is_string(entry) ? json_string_value(entry) : host);
	if (!host || host[0] != '/' || strlen(host) >= sizeof(d->host)) {
		policy_error(e, NULL, -1, "devices: \"%s\" is not an absolute device path",
		             d->text);
		return -EINVAL;
	}
	if (perms && !derive_valid_perms(perms)) {
		policy_error(e, NULL, -1,
		             "devices: \"%s\": permissions must be a combination of r, w and m",
		             d->text);
		return -EINVAL;
	}
	snprintf(d->host, sizeof(d->host), "%s", host);
	d->read_only = perms && !strchr(perms, 'w');
	return 0;
}

static bool derive_number_suffix(const char *s, const char *prefix, unsigned max, unsigned *out)
{
	size_t plen = strlen(prefix);
	unsigned long v = 0;

	if (strncmp(s, prefix, plen) != 0 || !s[plen])
		return false;
	for (s += plen; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return false;
	}
	*out = (unsigned)v;
	return true;
}

static bool derive_is_uart_name(const char *name)
{
	static const char *const prefixes[] = {"ttyS", "ttyAMA", "ttyUSB", "ttyACM", "serial"};
	unsigned n;

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (derive_number_suffix(name, prefixes[i], 65535, &n))
			return true;
	return false;
}

static void derive_passthrough(struct policy *p, const char *device, const char *reason)
{
	json_array_append_new(p->passthrough,
	                      json_pack("{s:s,s:s}", "device", device, "reason", reason));
}

static void derive_device(struct policy *p, struct policy_errors *e, const struct derive_device *d,
                          const struct derive_caps *caps)
{
	unsigned access = d->read_only ? POLICY_READ : POLICY_READ | POLICY_WRITE;
	char prov[192];
	struct policy_grant *g;
	unsigned n;
	const char *base = strrchr(d->host, '/') + 1;

	snprintf(prov, sizeof(prov), "devices: %.150s", d->text);
	if (derive_number_suffix(d->host, "/dev/gpiochip", POLICY_MAX_GPIO_LINE, &n)) {
		if ((g = policy_add_grant(p, e, POLICY_GPIO, access, prov))) {
			snprintf(g->chip, sizeof(g->chip), "gpiochip%u", n);
			g->all = true;
		}
	} else if (!strcmp(d->host, "/dev/gpiomem") ||
	           (!strcmp(d->host, "/dev/mem") && caps->sys_rawio)) {
		if (!strcmp(d->host, "/dev/mem"))
			snprintf(prov, sizeof(prov), "devices: %.150s with cap_add: SYS_RAWIO",
			         d->text);
		if ((g = policy_add_grant(p, e, POLICY_GPIO, access, prov))) {
			strcpy(g->chip, "*");
			g->all = true;
			g->broad = true;
			p->broad = true;
		}
	} else if (!strcmp(d->host, "/dev/mem")) {
		derive_passthrough(p, d->text,
		                   "/dev/mem without cap_add: SYS_RAWIO grants nothing");
	} else if (derive_number_suffix(d->host, "/dev/i2c-", POLICY_MAX_BUS, &n) ||
	           derive_number_suffix(d->host, "/dev/i2c/", POLICY_MAX_BUS, &n)) {
		/* /dev/i2c/N is the udev alias some boards use for /dev/i2c-N. */
		if ((g = policy_add_grant(p, e, POLICY_I2C, access, prov))) {
			g->bus = n;
			g->all = true;
		}
	} else if (!strncmp(d->host, "/dev/", 5) && !strchr(d->host + 5, '/') &&
	           derive_is_uart_name(base)) {
		if ((g = policy_add_grant(p, e, POLICY_UART, access, prov)))
			snprintf(g->port, sizeof(g->port), "%s", base);
	} else if (!strncmp(d->host, "/dev/serial/by-id/", 18) ||
	           !strncmp(d->host, "/dev/serial/by-path/", 20)) {
		if ((g = policy_add_grant(p, e, POLICY_UART, access, prov)))
			snprintf(g->port, sizeof(g->port), "%s", d->host);
	} else {
		derive_passthrough(p, d->text,
		                   "no broker resource: passed through to the container");
	}
}

static void derive_everything(struct policy *p, struct policy_errors *e)
{
	const char *prov = "privileged: true";
	struct policy_grant *g;

	p->broad = true;
	if ((g = policy_add_grant(p, e, POLICY_GPIO, POLICY_READ | POLICY_WRITE, prov))) {
		strcpy(g->chip, "*");
		g->all = g->broad = true;
	}
	if ((g = policy_add_grant(p, e, POLICY_I2C, POLICY_READ | POLICY_WRITE, prov))) {
		g->any_bus = g->all = g->broad = true;
	}
	if ((g = policy_add_grant(p, e, POLICY_UART, POLICY_READ | POLICY_WRITE, prov))) {
		strcpy(g->port, "*");
		g->broad = true;
	}
	if ((g = policy_add_grant(p, e, POLICY_HOST, POLICY_READ | POLICY_WRITE, prov))) {
		strcpy(g->action, "*");
		g->broad = true;
	}
	if ((g = policy_add_grant(p, e, POLICY_UNIT, POLICY_READ | POLICY_WRITE, prov))) {
		strcpy(g->unit, "*");
		g->broad = true;
	}
}

static void derive_host(struct policy *p, struct policy_errors *e, const char *action,
                        const char *prov)
{
	struct policy_grant *g;

	for (size_t i = 0; i < p->n; i++)
		if (p->grants[i].kind == POLICY_HOST && !strcmp(p->grants[i].action, action))
			return; /* first provenance wins; the grant is the same */
	if ((g = policy_add_grant(p, e, POLICY_HOST, POLICY_READ | POLICY_WRITE, prov)))
		snprintf(g->action, sizeof(g->action), "%s", action);
}

static int derive_caps(const json_t *cap_add, struct derive_caps *caps, struct policy_errors *e)
{
	size_t i;
	json_t *v;

	if (!cap_add)
		return 0;
	if (!json_is_array(cap_add)) {
		policy_error(e, NULL, -1, "cap_add must be a list");
		return -EINVAL;
	}
	json_array_foreach(cap_add, i, v)
	{
		const char *c = json_string_value(v);
		if (!c) {
			policy_error(e, NULL, -1, "cap_add: entries must be strings");
			return -EINVAL;
		}
		if (!strncasecmp(c, "CAP_", 4))
			c += 4;
		if (!strcasecmp(c, "SYS_RAWIO"))
			caps->sys_rawio = true;
		else if (!strcasecmp(c, "SYS_BOOT"))
			caps->sys_boot = true;
		else if (!strcasecmp(c, "ALL"))
			caps->all = caps->sys_rawio = caps->sys_boot = true;
	}
	return 0;
}

/* Labels as a map (values string/number/bool) or a list of "key=value". */
static json_t *derive_labels(const json_t *labels, struct policy_errors *e)
{
	json_t *out = json_object(), *v;
	const char *key;
	size_t i;

	if (!labels || json_is_null(labels))
		return out;
	if (json_is_array(labels)) {
		json_array_foreach(labels, i, v)
		{
			const char *s = json_string_value(v), *eq;
			char k[256];
			if (!s) {
				policy_error(e, NULL, -1,
				             "labels: list entries must be \"key=value\"");
				continue;
			}
			eq = strchr(s, '=');
			snprintf(k, sizeof(k), "%.*s", eq ? (int)(eq - s) : (int)strlen(s), s);
			json_object_set_new(out, k, json_string(eq ? eq + 1 : ""));
		}
		return out;
	}
	if (!json_is_object(labels)) {
		policy_error(e, NULL, -1, "labels must be a map or a list");
		return out;
	}
	json_object_foreach((json_t *)labels, key, v)
	{
		char buf[64];
		if (json_is_string(v)) {
			json_object_set(out, key, v);
		} else if (json_is_integer(v)) {
			snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
			json_object_set_new(out, key, json_string(buf));
		} else if (json_is_real(v)) {
			snprintf(buf, sizeof(buf), "%g", json_real_value(v));
			json_object_set_new(out, key, json_string(buf));
		} else if (json_is_boolean(v)) {
			json_object_set_new(out, key,
			                    json_string(json_is_true(v) ? "true" : "false"));
		} else if (json_is_null(v)) {
			json_object_set_new(out, key, json_string(""));
		} else {
			policy_error(e, key, -1, "label value must be a string, number or boolean");
		}
	}
	return out;
}

static void derive_feature_labels(struct policy *p, struct policy_errors *e, json_t *labels)
{
	static const char *const vendors[] = {"io.balena.features.", "io.resin.features."};
	char key[96], prov[192];

	for (size_t i = 0; i < 2; i++) {
		snprintf(key, sizeof(key), "%ssupervisor-api", vendors[i]);
		if (labels_truthy(json_string_value(json_object_get(labels, key)))) {
			snprintf(prov, sizeof(prov), "label %s", key);
			derive_host(p, e, "reboot", prov);
			derive_host(p, e, "poweroff", prov);
		}
		snprintf(key, sizeof(key), "%sdbus", vendors[i]);
		if (labels_truthy(json_string_value(json_object_get(labels, key)))) {
			snprintf(prov, sizeof(prov), "label %s", key);
			derive_host(p, e, "hostname", prov);
			derive_host(p, e, "time", prov);
			derive_host(p, e, "reboot", prov);
			derive_host(p, e, "poweroff", prov);
		}
	}
}

/* Does device grant d cover the resource of label grant g (same chip/bus/port)? */
static bool derive_same_resource(const struct policy_grant *d, const struct policy_grant *g)
{
	switch (g->kind) {
	case POLICY_GPIO:
		return !strcmp(d->chip, "*") || !strcmp(d->chip, g->chip);
	case POLICY_I2C:
		return d->any_bus || d->bus == g->bus;
	case POLICY_UART:
		return !strcmp(d->port, g->port);
	default:
		return false;
	}
}

/* An io.hwbroker.{gpio,i2c,uart} label narrows what devices: gave for its
 * kind: afterwards the kind's grants are exactly the label's entries, and an
 * entry whose chip/bus/port a read-only device entry covered stays
 * read-only. privileged: true is not narrowed (it is everything anyway). */
static void derive_narrow(struct policy *p, size_t first_label_grant, enum policy_kind kind)
{
	for (size_t i = first_label_grant; i < p->n; i++) {
		struct policy_grant *g = &p->grants[i];
		if (g->kind != kind)
			continue;
		for (size_t j = 0; j < first_label_grant; j++) {
			const struct policy_grant *d = &p->grants[j];
			if (d->kind != kind || strncmp(d->provenance, "devices:", 8) ||
			    !derive_same_resource(d, g))
				continue;
			if (!(d->access & POLICY_WRITE))
				g->access = POLICY_READ;
			size_t len = strlen(g->provenance);
			snprintf(g->provenance + len, sizeof(g->provenance) - len,
			         " (narrowing %.120s)", d->provenance);
			break;
		}
	}
	for (size_t j = first_label_grant; j-- > 0;) {
		const struct policy_grant *d = &p->grants[j];
		if (d->kind == kind && !strncmp(d->provenance, "devices:", 8) &&
		    policy_keep_ceiling(p, j) < 0)
			policy_remove_grant(p, j);
	}
}

static void derive_keep_label(struct policy *p, enum policy_kind kind, const char *value)
{
	free(p->labels[kind]);
	p->labels[kind] = strdup(value);
}

static void derive_hwbroker_labels(struct policy *p, struct policy_errors *e, json_t *labels)
{
	const char *key;
	json_t *v;

	json_object_foreach(labels, key, v)
	{
		const char *value = json_string_value(v);
		size_t before = p->n;
		if (strncmp(key, "io.hwbroker.", 12) != 0)
			continue;
		if (strlen(value) > POLICY_MAX_LABEL) {
			policy_error(e, key, POLICY_MAX_LABEL,
			             "label value longer than %d characters", POLICY_MAX_LABEL);
			continue;
		}
		if (!strcmp(key, "io.hwbroker.gpio")) {
			labels_parse_gpio(p, e, value);
			derive_narrow(p, before, POLICY_GPIO);
			derive_keep_label(p, POLICY_GPIO, value);
		} else if (!strcmp(key, "io.hwbroker.i2c")) {
			labels_parse_i2c(p, e, value);
			derive_narrow(p, before, POLICY_I2C);
			derive_keep_label(p, POLICY_I2C, value);
		} else if (!strcmp(key, "io.hwbroker.uart")) {
			labels_parse_uart(p, e, value);
			derive_narrow(p, before, POLICY_UART);
			derive_keep_label(p, POLICY_UART, value);
		} else if (!strcmp(key, "io.hwbroker.host")) {
			labels_parse_host(p, e, value);
			derive_keep_label(p, POLICY_HOST, value);
		} else if (!strcmp(key, "io.hwbroker.units")) {
			labels_parse_units(p, e, value);
			derive_keep_label(p, POLICY_UNIT, value);
		} else if (!strcmp(key, "io.hwbroker.gpio.direct")) {
			if (!labels_truthy(value) && !labels_falsy(value))
				policy_error(e, key, 0,
				             "expected 1, true, yes, on, or 0, false, no, off");
			p->direct_gpio = labels_truthy(value);
		} else {
			policy_error(
			        e, key, -1,
			        "unknown label: io.hwbroker.* labels are gpio, gpio.direct, i2c, "
			        "uart, host and units");
		}
	}
}

static int derive_container_id(struct policy *p, const json_t *cid, struct policy_errors *e)
{
	const char *s = json_string_value(cid);
	size_t len = s ? strlen(s) : 0;

	if (!cid || json_is_null(cid))
		return 0;
	if (!s || len < 4 || len > 128 ||
	    strspn(s, "0123456789abcdefABCDEFghijklmnopqrstuvwxyz"
	              "GHIJKLMNOPQRSTUVWXYZ") != len) {
		policy_error(e, NULL, -1, "container_id must be 4 to 128 letters and digits");
		return -EINVAL;
	}
	p->container_id = strdup(s);
	return p->container_id ? 0 : -ENOMEM;
}

static bool derive_privileged(const json_t *v)
{
	return json_is_true(v) || (json_is_string(v) && labels_truthy(json_string_value(v)));
}

int policy_derive(const char *service, const json_t *compose, struct policy **out, json_t **errors)
{
	struct policy_errors e = {service ? service : "", json_array()};
	struct derive_caps caps = {false};
	struct policy *p = calloc(1, sizeof(*p));
	json_t *devices, *labels = NULL, *v;
	size_t i;

	*out = NULL;
	if (errors)
		*errors = NULL;
	if (!p || !e.list)
		goto fail;
	snprintf(p->service, sizeof(p->service), "%s", e.service);
	p->passthrough = json_array();
	if (!json_is_object(compose)) {
		policy_error(&e, NULL, -1, "a service must be a JSON object");
		goto fail;
	}
	derive_container_id(p, json_object_get(compose, "container_id"), &e);
	derive_caps(json_object_get(compose, "cap_add"), &caps, &e);
	labels = derive_labels(json_object_get(compose, "labels"), &e);
	if (derive_privileged(json_object_get(compose, "privileged")))
		derive_everything(p, &e);
	devices = json_object_get(compose, "devices");
	if (devices && !json_is_array(devices) && !json_is_null(devices))
		policy_error(&e, NULL, -1, "devices must be a list");
	json_array_foreach(devices, i, v)
	{
		struct derive_device d;
		if (derive_parse_device(v, &d, &e) == 0)
			derive_device(p, &e, &d, &caps);
	}
	if (caps.sys_boot) {
		derive_host(p, &e, "reboot", "cap_add: SYS_BOOT");
		derive_host(p, &e, "poweroff", "cap_add: SYS_BOOT");
	}
	derive_feature_labels(p, &e, labels);
	derive_hwbroker_labels(p, &e, labels);
	json_decref(labels);
	if (json_array_size(e.list))
		goto fail;
	json_decref(e.list);
	*out = p;
	return 0;

fail:
	if (errors && json_array_size(e.list))
		*errors = e.list;
	else
		json_decref(e.list);
	policy_free(p);
	return -EINVAL;
}
