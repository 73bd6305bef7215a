/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Holding serial ports: the resolve step of {port}, leases (who holds a
 * port, for what, and what it set), their end on revocation, removal or a
 * closed connection, and their persistence across restarts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "config.h"
#include "lease.h"
#include "log.h"
#include "policy.h"
#include "registry.h"
#include "state.h"
#include "uart.h"
#include "uart_private.h"

static struct uart_area *uart_area_of(const struct request *req)
{
	return req_daemon(req)->uart;
}

int uart_fail(struct request *req, int err, const char *port)
{
	switch (err) {
	case -ENOENT:
		return req_fail(req, err, "GET /v1/uart lists the ports", "no serial port %.64s",
		                port);
	case -ENODEV:
		return req_fail(req, err, "it may come back (USB adapter)", "%.64s is not present",
		                port);
	case -EINVAL:
		return req_fail(req, err,
		                "ttyS0, ttyAMA0, ttyUSB0, ttyACM0, serial0 or "
		                "serial!by-id!NAME",
		                "%.64s is not a serial port name or not a tty device", port);
	case -EBUSY:
		return req_fail(req, err, NULL, "%.64s is in use outside hwbrokerd", port);
	default:
		return req_fail(req, err, NULL, "%.64s: %s", port, strerror(-err));
	}
}

/* --- resolve --- */

int uart_resolve_port(struct request *req, struct target *t)
{
	struct uart_area *a = uart_area_of(req);
	char decoded[UART_NAME_MAX * 2];
	const char *base;
	int r;

	/* by-id names travel with '!' for '/': "serial!by-id!NAME". */
	snprintf(decoded, sizeof(decoded), "%s", req_param(req, "port"));
	for (char *c = decoded; *c; c++)
		if (*c == '!')
			*c = '/';
	t->want.kind = POLICY_UART;
	t->want.port = t->port;
	r = a->ops->resolve(a->be, decoded, t->port, sizeof(t->port));
	if (r == -ENOENT) {
		/* As named, for the authorization of a port that is not there. */
		base = strrchr(decoded, '/');
		snprintf(t->port, sizeof(t->port), "%.63s", base ? base + 1 : decoded);
	}
	if (r < 0)
		return uart_fail(req, r, decoded);
	snprintf(t->resource, sizeof(t->resource), "uart:%s", t->port);
	return 0;
}

/* --- leases --- */

json_t *uart_config_json(const struct uart_config *c)
{
	return json_pack("{s:i,s:i,s:s,s:i,s:s}", "baud", (int)c->baud, "data_bits",
	                 (int)c->data_bits, "parity", uart_parity_name(c->parity), "stop_bits",
	                 (int)c->stop_bits, "flow", uart_flow_name(c->flow));
}

static int uart_config_from_json(const json_t *o, struct uart_config *c)
{
	int parity = uart_parity_from_name(json_string_value(json_object_get(o, "parity")));
	int flow = uart_flow_from_name(json_string_value(json_object_get(o, "flow")));

	if (!json_is_object(o) || parity < 0 || flow < 0)
		return -EINVAL;
	c->baud = (unsigned)json_integer_value(json_object_get(o, "baud"));
	c->data_bits = (unsigned)json_integer_value(json_object_get(o, "data_bits"));
	c->parity = (enum uart_parity)parity;
	c->stop_bits = (unsigned)json_integer_value(json_object_get(o, "stop_bits"));
	c->flow = (enum uart_flow)flow;
	return 0;
}

/* What the lease carries: whether it was taken to write (a persistent lease
 * and an attach are; reads and streams are not), and the port's settings. */
void uart_lease_note(struct uart_area *a, const struct uart_port *p, const char *resource,
                     bool writes)
{
	json_t *data = json_pack("{s:b}", "writes", writes);

	if (p->cfg_known)
		json_object_set_new(data, "config", uart_config_json(&p->cfg));
	lease_set_data(a->leases, resource, data);
}

/* Takes or checks the lease. Streams, reads and attach take a connection
 * lease when the service holds none, so a client that goes away frees the
 * port; only a service that may write gets a persistent one. */
int uart_hold(struct request *req, struct uart_port *p, bool default_persistent, bool writes)
{
	struct uart_area *a = uart_area_of(req);
	const struct target *t = req_target(req);
	const char *me = req_caller(req), *other = NULL, *q = req_query(req, "lease");
	const struct lease *l = lease_find(a->leases, t->resource);
	enum lease_kind kind = default_persistent ? LEASE_PERSISTENT : LEASE_CONNECTION;
	struct policy_request rw = t->want;
	struct policy_decision d;
	int r;

	if (q)
		kind = strcmp(q, "connection") ? LEASE_PERSISTENT : LEASE_CONNECTION;
	rw.access = POLICY_READ | POLICY_WRITE;
	if (kind == LEASE_PERSISTENT && req_service(req) &&
	    !policy_allows(req_service(req)->policy, &rw, &d))
		return req_fail(req, -EACCES, d.hint,
		                "a persistent lease on %s needs a read-write grant (missing: %s)",
		                p->name, d.grant);
	if (l && !strcmp(l->holder, me) && (!q || l->kind == kind))
		kind = l->kind; /* keep what the service holds */
	writes = writes || kind == LEASE_PERSISTENT ||
	         (l && json_is_true(json_object_get(l->data, "writes")));
	r = lease_acquire(a->leases, t->resource, me, kind, req_conn_id(req), &other);
	if (r == -EBUSY)
		return req_fail(req, r, "wait until it is released, or ask its holder",
		                "%s is held by service %s", p->name, other);
	if (r < 0)
		return req_fail(req, r, NULL, "cannot take %s", p->name);
	r = uart_open_port(p);
	if (r < 0) {
		lease_release(a->leases, t->resource);
		return uart_fail(req, r, p->name);
	}
	uart_lease_note(a, p, t->resource, writes);
	if (kind == LEASE_PERSISTENT)
		state_changed(a->d->state);
	return 0;
}

int uart_check_lease_query(struct request *req)
{
	const char *q = req_query(req, "lease");

	if (q && strcmp(q, "connection") && strcmp(q, "persistent"))
		return req_fail(req, -EBADMSG, "lease=persistent or lease=connection",
		                "unknown lease kind \"%.32s\"", q);
	return 0;
}

bool uart_attach_allowed(struct uart_port *p, const struct uart_attach_req *ar)
{
	struct uart_area *a = p->a;
	struct service *svc = registry_find(a->d->registry, ar->service);
	struct policy_request want = {
	        .kind = POLICY_UART, .access = POLICY_READ | POLICY_WRITE, .port = p->name};
	struct policy_decision d;
	char res[96];
	const struct lease *l;

	snprintf(res, sizeof(res), "uart:%s", p->name);
	l = lease_find(a->leases, res);
	if (!l || strcmp(l->holder, ar->service) ||
	    (l->kind == LEASE_CONNECTION && l->conn_id != ar->conn_id))
		return false;
	if (!strcmp(ar->service, "admin"))
		return true;
	return svc && policy_allows(svc->policy, &want, &d);
}

/* --- hooks --- */

static bool uart_lease_still_allowed(const struct lease *l, void *data)
{
	struct service *svc = data;
	bool writes = json_is_true(json_object_get(l->data, "writes"));
	struct policy_request want = {.kind = POLICY_UART,
	                              .access = writes ? POLICY_READ | POLICY_WRITE : POLICY_READ,
	                              .port = l->resource + 5};
	struct policy_decision d;

	return policy_allows(svc->policy, &want, &d);
}

static void uart_lease_drop(const struct lease *l, enum lease_end why, void *data);

struct uart_sweep {
	struct uart_area *a;
	struct service *svc;
};

static bool uart_sweep_allowed(const struct lease *l, void *data)
{
	return uart_lease_still_allowed(l, ((struct uart_sweep *)data)->svc);
}

static void uart_lease_drop(const struct lease *l, enum lease_end why, void *data)
{
	struct uart_sweep *s = data;
	struct uart_port *p = uart_find_port(s->a, l->resource + 5);

	if (p)
		uart_release_port(p, lease_end_reason(why));
}

static void uart_end_leases(struct daemon *d, struct service *svc, enum lease_end why,
                            uint64_t conn_id)
{
	struct uart_sweep s = {d->uart, svc};

	if (d->uart)
		lease_end_for(d->uart->leases, svc->name, why, conn_id, uart_sweep_allowed,
		              uart_lease_drop, &s);
}

void uart_policy_changed(struct daemon *d, struct service *svc)
{
	uart_end_leases(d, svc, LEASE_END_REVOKED, 0);
	state_changed(d->state);
}

void uart_service_removed(struct daemon *d, struct service *svc)
{
	uart_end_leases(d, svc, LEASE_END_REMOVED, 0);
}

void uart_conn_closed(struct daemon *d, struct service *svc, uint64_t conn_id)
{
	uart_end_leases(d, svc, LEASE_END_CONN, conn_id);
}

json_t *uart_save(struct daemon *d)
{
	return lease_save(d->uart->leases);
}

/* Opens and configures the port again as it was; the lease follows. */
static int uart_restore_port(const char *resource, const char *holder, const json_t *data,
                             void *ctx)
{
	struct uart_area *a = ctx;
	struct uart_config cfg, got;
	char canon[UART_NAME_MAX], why[400];
	struct uart_port *p;

	if (strncmp(resource, "uart:", 5) ||
	    a->ops->resolve(a->be, resource + 5, canon, sizeof(canon)) < 0 ||
	    !(p = uart_get_port(a, canon)) || uart_open_port(p) < 0) {
		log_warn("uart", "lease of %s on %s not restored", holder, resource);
		return -ENODEV;
	}
	if (uart_config_from_json(json_object_get(data, "config"), &cfg) == 0) {
		if (a->ops->config_set(a->be, canon, p->fd, &cfg, &got, why, sizeof(why)) < 0)
			log_warn("uart", "%s: saved configuration not applied: %s", canon, why);
		else {
			p->cfg = got;
			p->cfg_known = true;
		}
	}
	log_info("uart", "restored %s's lease on %s", holder, canon);
	return 0;
}

void uart_restore(struct daemon *d, const json_t *saved)
{
	lease_restore(d->uart->leases, saved, uart_restore_port, d->uart);
}
