/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Policy model: a service's grants, derived from its compose declaration, and
 * the one decision function every handler uses. Pure logic: no I/O except
 * realpath() for /dev/serial/... grants. docs/policy.md is the reference. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

struct policy; /* immutable once derived; shared read-only */

enum policy_kind { POLICY_GPIO, POLICY_I2C, POLICY_UART, POLICY_HOST, POLICY_UNIT };
/* POLICY_DIRECT: a kernel handle on GPIO lines passed to the service, which
 * also needs the label io.hwbroker.gpio.direct (with READ | WRITE). */
enum policy_access { POLICY_READ = 1u, POLICY_WRITE = 2u, POLICY_DIRECT = 4u };

/* What one request wants to do. Unused fields are zero/NULL. */
struct policy_request {
	enum policy_kind kind;
	unsigned access; /* POLICY_READ | POLICY_WRITE | POLICY_DIRECT */
	/* gpio: kernel chip name ("gpiochip0"), optional chip label, line offset
	 * and optional line name ("GPIO17"); a grant by name or by offset matches. */
	const char *chip;
	const char *chip_label;
	unsigned line;
	const char *line_name;
	/* i2c: bus number and 7-bit address (0x03..0x77 unless a label names it) */
	unsigned bus;
	unsigned addr;
	/* uart: canonical kernel tty name, e.g. "ttyUSB0" */
	const char *port;
	/* host: "reboot" | "poweroff" | "hostname" | "time" */
	const char *action;
	/* unit: systemd unit name */
	const char *unit;
};

struct policy_decision {
	bool allowed;
	char grant[160];      /* allowed: the grant that matched; denied: the missing grant */
	char hint[256];       /* denied: the compose entry that would give it */
	char provenance[192]; /* allowed: the compose entry the grant came from */
};

/* Derives a policy from a compose service as JSON (keys: privileged, devices,
 * cap_add, labels (object or array of "k=v"), container_id; unknown keys are
 * ignored). Returns 0 and *out (caller frees with policy_free), or -EINVAL and
 * *errors (caller owns; array of {"service","label","position","message"})
 * when something is malformed. Nothing partial is ever returned. */
int policy_derive(const char *service, const json_t *compose, struct policy **out, json_t **errors);
void policy_free(struct policy *p);

/* "gpio", "i2c", "uart", "host", "unit". */
const char *policy_kind_name(enum policy_kind kind);

/* May this service do this? Always fills *d. */
bool policy_allows(const struct policy *p, const struct policy_request *req,
                   struct policy_decision *d);

/* "sha256:..." style id the supervisor gave, or NULL. Borrowed. */
const char *policy_container_id(const struct policy *p);

/* {"grants":[{"kind","resource","access","provenance","broad"}...],
 *  "passthrough":[{"device","reason"}...], "broad":bool, "container_id"?}
 * New reference; caller owns. */
json_t *policy_to_json(const struct policy *p);

/* Readable table of a policy_to_json() object (for the CLI). */
void policy_print_table(const json_t *policy_json, FILE *out);

/* Loads a compose file (2.x/3.x, anchors, aliases) into
 * {"services":{NAME:{...}}} with YAML types mapped to JSON. Returns 0 and *out
 * (caller owns) or -errno with "file:line:column: message" in err. */
int compose_load_yaml(const char *path, json_t **out, char *err, size_t errlen);

/* Service names: [a-z0-9][a-z0-9_.-]{0,62}. */
bool policy_valid_service_name(const char *name);

/* systemd unit names with their type: my-agent.service, backup@1.timer. */
bool policy_valid_unit_name(const char *name);
