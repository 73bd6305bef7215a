/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Route rows: what each endpoint is and what it touches.
 *
 * A row names its method, path pattern, the sockets that serve it, its body
 * kind and schema (and an optional semantic check of the body), the kind of
 * resource it acts on, the access a service needs for it, and the resolve
 * step that turns the path into a canonical target. The core runs the same
 * pipeline for every request (docs/architecture.md):
 *
 *   parse and validate -> resolve -> authorize and audit -> handler -> render
 *
 * so a handler only runs for a request that is well formed, names something
 * the service may touch, and is allowed. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

struct request;

#define ROUTE_SERVICE 1u /* service sockets */
#define ROUTE_ADMIN   2u /* admin socket */
#define ROUTE_SIM     4u /* only when hwbrokerd runs the simulated board */
#define ROUTE_ANY     (ROUTE_SERVICE | ROUTE_ADMIN)

enum body_kind { BODY_NONE, BODY_JSON, BODY_RAW };

enum schema_type {
	SCHEMA_INT,
	SCHEMA_BOOL,
	SCHEMA_STRING,
	SCHEMA_OBJECT,
	SCHEMA_ARRAY,
	SCHEMA_ANY
};

struct schema_field {
	const char *name;
	enum schema_type type;
	bool required;
	long long min, max; /* SCHEMA_INT bounds (both 0: unbounded); STRING/ARRAY: length */
};

/* A JSON object body: listed fields type-checked; unknown keys refused (422)
 * unless allow_unknown. Terminate fields with {0}. */
struct schema {
	const struct schema_field *fields;
	bool allow_unknown;
	bool allow_empty_body; /* BODY_JSON route that accepts no body at all */
};

/* What a route acts on. */
enum route_resource {
	RES_NONE,        /* identity, health, lists filtered by the grants */
	RES_GPIO_CHIP,   /* {chip} */
	RES_GPIO_LINE,   /* {chip}/{line} */
	RES_I2C_ADDRESS, /* {bus}/{addr} */
	RES_I2C_BUS,     /* {bus} (simulator controls) */
	RES_UART_PORT,   /* {port} */
	RES_HOST_ACTION, /* the row's action */
	RES_UNIT,        /* {unit} */
	RES_SERVICE,     /* {name}: a registered service (admin) */
	RES_BOARD,       /* the simulated board as a whole (admin, --sim) */
};

/* What a service needs for it (the admin socket may do everything). */
enum route_access {
	ACCESS_NONE,   /* nothing: identity, or a list the handler filters by the grants */
	ACCESS_READ,   /* a read grant on the target */
	ACCESS_WRITE,  /* a read-write grant on the target */
	ACCESS_BODY,   /* read, or read-write when the row's body_writes() says so */
	ACCESS_HOST,   /* a host action or unit grant; audited before the handler runs */
	ACCESS_DIRECT, /* a read-write grant and the service's direct label (gpio.direct) */
	ACCESS_ADMIN,  /* the admin socket only */
};

/* One line of a group target (a group write names several lines). */
struct target_member {
	unsigned line;
	char name[64];
};

/* The canonical target a resolve step produces. want is what authorization
 * asks the policy; its strings point into the buffers here. When the target
 * does not exist, resolve fills in what the path named and fails with
 * -ENOENT or -ENODEV: the core then answers 403 unless a grant covers what
 * was named, so a service learns nothing outside its grants. */
struct target {
	struct policy_request want;
	char chip[64];           /* gpio: kernel chip name */
	char chip_label[64];     /* gpio: the chip's label */
	char line_name[64];      /* gpio: the line's name ("" if none) */
	unsigned num_lines;      /* gpio: lines of the chip */
	char port[64];           /* uart: canonical kernel tty name */
	char resource[96];       /* lease key: "gpio:gpiochip0:17", "uart:ttyS0" */
	struct service *service; /* RES_SERVICE */
	/* A group: every member is authorized like want with its line (freed
	 * with the request; allocate with calloc). */
	struct target_member *members;
	size_t n_members;
};

typedef int (*route_fn)(struct request *req);
/* 0, or a negative errno with the message recorded (req_fail). */
typedef int (*route_check_fn)(struct request *req);
typedef int (*route_resolve_fn)(struct request *req, struct target *t);
typedef bool (*route_writes_fn)(const json_t *body);

struct route {
	const char *method;  /* "GET", "PUT", "POST", "DELETE" */
	const char *pattern; /* "/v1/gpio/{chip}/{line}": {x} captures one segment */
	unsigned sockets;    /* ROUTE_* mask */
	enum body_kind body;
	const struct schema *schema; /* BODY_JSON only; NULL: any JSON value */
	route_check_fn check;        /* semantic checks of body and query, before resolve */
	enum route_resource resource;
	enum route_access access;
	const char *action;          /* RES_HOST_ACTION: the policy's host action */
	route_resolve_fn resolve;    /* required unless resource is RES_NONE/RES_BOARD/HOST */
	route_writes_fn body_writes; /* ACCESS_BODY only */
	route_fn handler;
};
