/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Serial ports for services: configuration, writes, reads with a timeout,
 * raw streams and a raw attach (HTTP Upgrade). Received bytes go to one ring
 * per port addressed by absolute position; every consumer (reads, streams,
 * attach) has its own position in it, so nothing is copied per consumer and
 * a slow one only loses what the ring no longer holds (uart_port.c).
 * docs/uart.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "area.h"
#include "config.h"
#include "lease.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "registry.h"
#include "state.h"
#include "uart.h"
#include "uart_private.h"

static struct uart_area *uart_area_of(const struct request *req)
{
	return req_daemon(req)->uart;
}

static int uart_port_of(struct request *req, struct uart_port **out)
{
	*out = uart_get_port(uart_area_of(req), req_target(req)->port);
	return *out ? 0 : req_fail(req, -ENOMEM, NULL, "out of memory");
}

/* --- handlers --- */

static int uart_count_streams(const struct uart_port *p)
{
	int n = 0;

	for (const struct uart_stream *s = p ? p->streams : NULL; s; s = s->next)
		n++;
	return n;
}

static int uart_list(struct request *req)
{
	struct uart_area *a = uart_area_of(req);
	struct service *svc = req_service(req);
	char names[UART_PORTS_MAX][UART_NAME_MAX], res[96];
	int n = a->ops->list(a->be, names, UART_PORTS_MAX);
	json_t *ports = json_array();

	for (int i = 0; i < n; i++) {
		struct policy_request want = {
		        .kind = POLICY_UART, .access = POLICY_READ, .port = names[i]};
		struct policy_decision d;
		if (svc && !policy_allows(svc->policy, &want, &d))
			continue;
		struct uart_port *p = uart_find_port(a, names[i]);
		snprintf(res, sizeof(res), "uart:%.63s", names[i]);
		const struct lease *l = lease_find(a->leases, res);
		json_array_append_new(ports,
		                      json_pack("{s:s,s:o,s:b,s:I,s:I,s:i}", "port", names[i],
		                                "holder", l ? json_string(l->holder) : json_null(),
		                                "open", p && p->fd >= 0, "buffered",
		                                (json_int_t)(p ? p->wpos - p->unread : 0),
		                                "dropped", (json_int_t)(p ? p->dropped : 0),
		                                "streams", uart_count_streams(p)));
	}
	return req_result_json(req, 200, json_pack("{s:o}", "ports", ports));
}

/* Reading the settings never opens the port: opening a tty raises DTR
 * (resetting Arduino-style boards) and would take it from its user. A port
 * hwbrokerd does not have open answers with what it last applied. */
static int uart_get_config(struct request *req)
{
	struct uart_area *a = uart_area_of(req);
	struct uart_port *p = uart_find_port(a, req_target(req)->port);
	struct uart_config c;
	json_t *o;
	int r;

	if (p && p->fd >= 0) {
		r = a->ops->config_get(a->be, p->name, p->fd, &c);
		if (r < 0)
			return uart_fail(req, r, p->name);
	} else if (p && p->cfg_known) {
		c = p->cfg;
	} else {
		return req_fail(req, -EBUSY,
		                "PUT .../config, a write or a read opens the port; reading its "
		                "settings does not",
		                "%s is not open: its settings are known once hwbrokerd has opened "
		                "it",
		                req_target(req)->port);
	}
	o = uart_config_json(&c);
	json_object_set_new(o, "open", json_boolean(p->fd >= 0));
	return req_result_json(req, 200, o);
}

static int uart_parse_config(struct request *req, struct uart_config *c)
{
	json_t *body = req_json(req), *v;
	int i;

	if ((v = json_object_get(body, "baud")))
		c->baud = (unsigned)json_integer_value(v);
	if ((v = json_object_get(body, "data_bits")))
		c->data_bits = (unsigned)json_integer_value(v);
	if ((v = json_object_get(body, "stop_bits")))
		c->stop_bits = (unsigned)json_integer_value(v);
	if ((v = json_object_get(body, "parity"))) {
		if ((i = uart_parity_from_name(json_string_value(v))) < 0)
			return req_fail(req, -EINVAL, NULL,
			                "parity must be none, even, odd, mark or space");
		c->parity = (enum uart_parity)i;
	}
	if ((v = json_object_get(body, "flow"))) {
		if ((i = uart_flow_from_name(json_string_value(v))) < 0)
			return req_fail(req, -EINVAL, NULL, "flow must be none, rtscts or xonxoff");
		c->flow = (enum uart_flow)i;
	}
	return 0;
}

static int uart_check_config(struct request *req)
{
	struct uart_config c = {9600, 8, UART_PARITY_NONE, 1, UART_FLOW_NONE};
	char why[400];
	int r = uart_parse_config(req, &c);

	if (r < 0)
		return r;
	r = uart_config_check(&c, why, sizeof(why));
	if (r < 0)
		return req_fail(req, r, NULL, "%s", why);
	return uart_check_lease_query(req);
}

static int uart_put_config(struct request *req)
{
	struct uart_area *a = uart_area_of(req);
	struct uart_config c = {9600, 8, UART_PARITY_NONE, 1, UART_FLOW_NONE}, got;
	struct uart_port *p;
	char why[400];
	int r;

	if ((r = uart_port_of(req, &p)) < 0)
		return r;
	for (struct uart_stream *s = p->streams; s; s = s->next)
		if (s->c.conn_id != req_conn_id(req))
			return req_fail(
			        req, -EBUSY, "reconfigure before streaming, or stop the reader",
			        "%s has a reader attached; reconfiguring would garble it", p->name);
	if (p->attach && p->attach->c.conn_id != req_conn_id(req))
		return req_fail(req, -EBUSY, NULL, "%s is attached", p->name);
	if ((r = uart_hold(req, p, true, true)) < 0)
		return r;
	if (a->ops->config_get(a->be, p->name, p->fd, &c) < 0 && p->cfg_known)
		c = p->cfg;
	uart_parse_config(req, &c); /* checked */
	r = a->ops->config_set(a->be, p->name, p->fd, &c, &got, why, sizeof(why));
	if (r < 0)
		return r == -EINVAL ? req_fail(req, r, NULL, "%s", why)
		                    : uart_fail(req, r, p->name);
	p->cfg = got;
	p->cfg_known = true;
	uart_lease_note(a, p, req_target(req)->resource, true);
	state_changed(a->d->state); /* the configuration is restored with the lease */
	/* A port that quietly keeps another setting must not pass for configured. */
	if (got.baud != c.baud || got.data_bits != c.data_bits || got.parity != c.parity ||
	    got.stop_bits != c.stop_bits || got.flow != c.flow)
		return req_fail(req, -EOPNOTSUPP, "the port's driver cannot do this",
		                "%s did not take the configuration: it kept %u data bits, parity "
		                "%s, %u stop bits, flow %s at %u baud",
		                p->name, got.data_bits, uart_parity_name(got.parity), got.stop_bits,
		                uart_flow_name(got.flow), got.baud);
	return req_result_json(req, 200, uart_config_json(&got));
}

static int uart_write(struct request *req)
{
	struct uart_port *p;
	size_t len;
	const void *data = req_body(req, &len);
	int r;

	if ((r = uart_port_of(req, &p)) < 0 || (r = uart_hold(req, p, true, true)) < 0)
		return r;
	r = uart_queue_tx(p, data, len);
	if (r == -EAGAIN)
		return req_fail(req, r, "the port is slower than the writes; retry",
		                "%s: transmit queue full", p->name);
	if (r < 0) {
		uart_port_fail(p, "the port went away");
		return uart_fail(req, -ENODEV, p->name);
	}
	return req_result_json(req, 200, json_pack("{s:I}", "written", (json_int_t)len));
}

static int uart_check_read(struct request *req)
{
	const char *max_s = req_query(req, "max"), *timeout_s = req_query(req, "timeout_ms");
	unsigned long long v;

	if ((max_s && req_parse_uint(max_s, 1, UART_READ_MAX, &v) < 0) ||
	    (timeout_s && req_parse_uint(timeout_s, 0, 60000, &v) < 0))
		return req_fail(req, -EBADMSG, "max=1..65536, timeout_ms=0..60000",
		                "bad max or timeout_ms");
	return uart_check_lease_query(req);
}

static int uart_read(struct request *req)
{
	const char *max_s = req_query(req, "max"), *timeout_s = req_query(req, "timeout_ms");
	unsigned long long max = 4096, timeout = 1000;
	struct uart_port *p;
	struct uart_read *rd;
	int r;

	if (max_s)
		req_parse_uint(max_s, 1, UART_READ_MAX, &max); /* checked */
	if (timeout_s)
		req_parse_uint(timeout_s, 0, 60000, &timeout);
	if ((r = uart_port_of(req, &p)) < 0 || (r = uart_hold(req, p, false, false)) < 0)
		return r;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	rd->port = p;
	rd->req = req;
	rd->max = (size_t)max;
	if (p->unread < p->wpos || timeout == 0) {
		r = uart_reply_read(rd);
		free(rd);
		return r;
	}
	rd->timer = loop_add_timer(p->a->d->loop, timeout, uart_read_timeout, rd);
	struct uart_read **pp = &p->reads;
	while (*pp)
		pp = &(*pp)->next;
	*pp = rd;
	return REQ_ASYNC;
}

static int uart_stream(struct request *req)
{
	struct uart_port *p;
	struct uart_stream *s;
	int r;

	if ((r = uart_port_of(req, &p)) < 0 || (r = uart_hold(req, p, false, false)) < 0)
		return r;
	s = calloc(1, sizeof(*s));
	if (!s)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	s->c.port = p;
	s->c.pos = p->unread; /* bytes kept while nobody read come first */
	s->c.conn_id = req_conn_id(req);
	snprintf(s->c.service, sizeof(s->c.service), "%s", req_caller(req));
	s->next = p->streams;
	p->streams = s;
	s->stream = req_result_stream(req, "application/octet-stream", &uart_stream_ops, s);
	if (!s->stream) {
		uart_stream_closed(s);
		return -ENOMEM;
	}
	return 0;
}

static int uart_check_attach(struct request *req)
{
	const char *upgrade = req_header(req, "Upgrade");

	if (!upgrade || strcasecmp(upgrade, UART_PROTOCOL))
		return req_fail(req, -EBADMSG,
		                "send Connection: Upgrade and Upgrade: " UART_PROTOCOL,
		                "attach needs an HTTP Upgrade to %s", UART_PROTOCOL);
	return uart_check_lease_query(req);
}

static int uart_attach(struct request *req)
{
	struct uart_attach_req *ar;
	struct uart_port *p;
	int r;

	if ((r = uart_port_of(req, &p)) < 0)
		return r;
	if (p->attach)
		return req_fail(req, -EBUSY, NULL, "%s is attached already", p->name);
	if ((r = uart_hold(req, p, false, true)) < 0)
		return r;
	ar = calloc(1, sizeof(*ar));
	if (!ar)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	ar->port = p;
	ar->still_allowed = uart_attach_allowed;
	ar->conn_id = req_conn_id(req);
	snprintf(ar->service, sizeof(ar->service), "%s", req_caller(req));
	r = req_result_upgrade(req, UART_PROTOCOL, uart_upgraded, ar);
	if (r < 0)
		free(ar);
	return r;
}

static int uart_release(struct request *req)
{
	struct uart_area *a = uart_area_of(req);
	const struct target *t = req_target(req);
	const struct lease *l = lease_find(a->leases, t->resource);
	struct uart_port *p = uart_find_port(a, t->port);

	if (!l)
		return req_fail(req, -ENOENT, NULL, "%s is not held", t->port);
	if (req_service(req) && strcmp(l->holder, req_caller(req)))
		return req_fail(req, -EBUSY, NULL, "%s is held by service %s", t->port, l->holder);
	if (l->kind == LEASE_PERSISTENT)
		state_changed(a->d->state);
	lease_release(a->leases, t->resource);
	if (p)
		uart_release_port(p, "released");
	return req_result_empty(req);
}

static int uart_init(struct daemon *d)
{
	struct uart_area *a = calloc(1, sizeof(*a));
	struct uart_params params = {d->cfg->dev_dir, d->cfg->board_file, d->env};
	int r;

	if (!a)
		return -ENOMEM;
	a->d = d;
	a->ops = uart_backend_find(d->cfg->sim ? "sim" : "termios");
	a->sim = uart_backend_sim(a->ops);
	a->leases = lease_table_new();
	r = a->ops->open(&a->be, &params);
	if (r < 0 || !a->leases) {
		lease_table_free(a->leases);
		free(a);
		return r < 0 ? r : -ENOMEM;
	}
	d->uart = a;
	return 0;
}

static void uart_fini(struct daemon *d)
{
	struct uart_area *a = d->uart;

	if (!a)
		return;
	while (a->ports) {
		struct uart_port *p = a->ports;
		a->ports = p->next;
		/* Streams and requests went with the transport. */
		for (struct uart_stream *s = p->streams; s; s = s->next)
			s->c.port = NULL;
		while (p->reads) {
			struct uart_read *rd = p->reads;
			p->reads = rd->next;
			loop_cancel_timer(d->loop, rd->timer);
			free(rd);
		}
		if (p->attach) {
			loop_del_fd(d->loop, p->attach->sock);
			free(p->attach);
		}
		uart_close_fd(p);
		free(p->ring);
		free(p->tx);
		free(p);
	}
	a->ops->close(a->be);
	lease_table_free(a->leases);
	free(a);
	d->uart = NULL;
}

static const struct schema uart_config_schema = {
        .fields = (const struct schema_field[]){{"baud", SCHEMA_INT, false, 1, 100000000},
                                                {"data_bits", SCHEMA_INT, false, 1, 16},
                                                {"parity", SCHEMA_STRING, false, 1, 8},
                                                {"stop_bits", SCHEMA_INT, false, 1, 8},
                                                {"flow", SCHEMA_STRING, false, 1, 8},
                                                {0}},
};

#define UART_PORT_ROUTE(m, path, acc)                                                              \
	.method = (m), .pattern = (path), .sockets = ROUTE_ANY, .resource = RES_UART_PORT,         \
	.access = (acc), .resolve = uart_resolve_port

static const struct route uart_routes[] = {
        {.method = "GET",
         .pattern = "/v1/uart",
         .sockets = ROUTE_ANY,
         .resource = RES_NONE,
         .access = ACCESS_NONE,
         .handler = uart_list},
        {UART_PORT_ROUTE("GET", "/v1/uart/{port}/config", ACCESS_READ), .handler = uart_get_config},
        {UART_PORT_ROUTE("PUT", "/v1/uart/{port}/config", ACCESS_WRITE), .body = BODY_JSON,
         .schema = &uart_config_schema, .check = uart_check_config, .handler = uart_put_config},
        {UART_PORT_ROUTE("POST", "/v1/uart/{port}/write", ACCESS_WRITE), .body = BODY_RAW,
         .check = uart_check_lease_query, .handler = uart_write},
        {UART_PORT_ROUTE("GET", "/v1/uart/{port}/read", ACCESS_READ), .check = uart_check_read,
         .handler = uart_read},
        {UART_PORT_ROUTE("GET", "/v1/uart/{port}/stream", ACCESS_READ),
         .check = uart_check_lease_query, .handler = uart_stream},
        {UART_PORT_ROUTE("GET", "/v1/uart/{port}/attach", ACCESS_WRITE), .check = uart_check_attach,
         .handler = uart_attach},
        {UART_PORT_ROUTE("DELETE", "/v1/uart/{port}", ACCESS_WRITE), .handler = uart_release},
};

const struct area area_uart = {
        .name = "uart",
        AREA_ROUTES(uart_routes),
        .init = uart_init,
        .fini = uart_fini,
        .policy_changed = uart_policy_changed,
        .service_removed = uart_service_removed,
        .conn_closed = uart_conn_closed,
        .save = uart_save,
        .restore = uart_restore,
};
