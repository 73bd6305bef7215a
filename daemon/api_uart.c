/* Serial ports for services: configuration, writes, reads with a timeout,
 * raw streams and a raw attach (HTTP Upgrade). Received bytes go to one ring
 * per port addressed by absolute position; every consumer (reads, streams,
 * attach) has its own position in it, so nothing is copied per consumer and
 * a slow one only loses what the ring no longer holds. docs/uart.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "broker.h"
#include "config.h"
#include "lease.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "registry.h"
#include "uart.h"
#include "uart_area.h"

/* --- request helpers --- */

static int uart_fail(struct request *req, int err, const char *port)
{
	switch (err) {
	case -ENOENT:
		return req_error(req, err, "GET /v1/uart lists the ports", "no serial port %.64s",
		                 port);
	case -ENODEV:
		return req_error(req, err, "it may come back (USB adapter)", "%.64s is not present",
		                 port);
	case -EINVAL:
		return req_error(req, err,
		                 "ttyS0, ttyAMA0, ttyUSB0, ttyACM0, serial0 or "
		                 "/dev/serial/by-id/...",
		                 "%.64s is not a serial port name or not a tty device", port);
	case -EBUSY:
		return req_error(req, err, NULL, "%.64s is in use outside hwbrokerd", port);
	default:
		return req_error(req, err, NULL, "%.64s: %s", port, strerror(-err));
	}
}

/* The port named in the path: resolved, authorized, its state. */
static struct uart_port *uart_target(struct request *req, unsigned access)
{
	struct uart_area *a = req_broker(req)->uart;
	const char *name = req_param(req, "port");
	char canon[UART_NAME_MAX], decoded[UART_NAME_MAX * 2];
	struct uart_port *p;
	int r;

	/* by-id names travel percent-encoded with their slashes as %2F-free
	 * segments: accept "serial/by-id/NAME" spelled with '!' for '/'. */
	snprintf(decoded, sizeof(decoded), "%s", name);
	for (char *c = decoded; *c; c++)
		if (*c == '!')
			*c = '/';
	r = a->ops->resolve(a->be, decoded, canon, sizeof(canon));
	if (r < 0 && r != -ENODEV) {
		uart_fail(req, r, decoded);
		return NULL;
	}
	struct policy_request want = {.kind = POLICY_UART, .access = access, .port = canon};
	if (req_authorize(req, &want))
		return NULL;
	if (r == -ENODEV) {
		uart_fail(req, r, canon);
		return NULL;
	}
	p = uart_get_port(a, canon);
	if (!p)
		req_error(req, -ENOMEM, NULL, "out of memory");
	return p;
}

static char *uart_resource(const struct uart_port *p, char *buf, size_t len)
{
	snprintf(buf, len, "uart:%s", p->name);
	return buf;
}

/* Takes or checks the lease. Streams, reads and attach take a connection
 * lease when the service holds none, so a client that goes away frees the port. */
static int uart_hold(struct request *req, struct uart_port *p, bool default_persistent)
{
	struct uart_area *a = req_broker(req)->uart;
	struct service *svc = req_service(req);
	const char *me = svc ? svc->name : "admin", *other = NULL, *q = req_query(req, "lease");
	char res[96];
	const struct lease *l = lease_find(a->leases, uart_resource(p, res, sizeof(res)));
	enum lease_kind kind = default_persistent ? LEASE_PERSISTENT : LEASE_CONNECTION;
	int r;

	if (q && strcmp(q, "connection") && strcmp(q, "persistent"))
		return req_error(req, -EBADMSG, "lease=persistent or lease=connection",
		                 "unknown lease kind")
		               ?: -EBADMSG;
	if (q)
		kind = strcmp(q, "connection") ? LEASE_PERSISTENT : LEASE_CONNECTION;
	if (l && !strcmp(l->holder, me) && (!q || l->kind == kind))
		kind = l->kind; /* keep what the service holds */
	r = lease_acquire(a->leases, res, me, kind, req_conn_id(req), &other);
	if (r == -EBUSY)
		return req_error(req, r, "wait until it is released, or ask its holder",
		                 "%s is held by service %s", p->name, other)
		               ?: r;
	if (r < 0)
		return req_error(req, r, NULL, "cannot take %s", p->name) ?: r;
	r = uart_open_port(p);
	if (r < 0) {
		lease_release(a->leases, res);
		return uart_fail(req, r, p->name) ?: r;
	}
	if (kind == LEASE_PERSISTENT)
		broker_state_changed(a->b);
	return 0;
}

static json_t *uart_config_json(const struct uart_config *c)
{
	return json_pack("{s:i,s:i,s:s,s:i,s:s}", "baud", (int)c->baud, "data_bits",
	                 (int)c->data_bits, "parity", uart_parity_name(c->parity), "stop_bits",
	                 (int)c->stop_bits, "flow", uart_flow_name(c->flow));
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
	struct uart_area *a = req_broker(req)->uart;
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
	return req_reply_json(req, 200, json_pack("{s:o}", "ports", ports));
}

static int uart_get_config(struct request *req)
{
	struct uart_port *p = uart_target(req, POLICY_READ);
	struct uart_config c;
	int r, fd;

	if (!p)
		return 0;
	if (p->fd >= 0) {
		r = uart_termios_read(p->fd, &c);
	} else {
		/* Not open: look without holding it. */
		r = p->a->ops->port_open(p->a->be, p->name, &fd);
		if (r < 0)
			return uart_fail(req, r, p->name);
		r = uart_termios_read(fd, &c);
		ioctl(fd, TIOCNXCL);
		close(fd);
	}
	if (r < 0)
		return uart_fail(req, r, p->name);
	return req_reply_json(req, 200, uart_config_json(&c));
}

static int uart_put_config(struct request *req)
{
	json_t *body = req_json(req);
	struct uart_port *p = uart_target(req, POLICY_READ | POLICY_WRITE);
	struct uart_config c = {9600, 8, UART_PARITY_NONE, 1, UART_FLOW_NONE};
	char why[400];
	int r, pv, fv;

	if (!p)
		return 0;
	if (p->fd >= 0)
		uart_termios_read(p->fd, &c);
	if (json_object_get(body, "baud"))
		c.baud = (unsigned)json_integer_value(json_object_get(body, "baud"));
	if (json_object_get(body, "data_bits"))
		c.data_bits = (unsigned)json_integer_value(json_object_get(body, "data_bits"));
	if (json_object_get(body, "stop_bits"))
		c.stop_bits = (unsigned)json_integer_value(json_object_get(body, "stop_bits"));
	if (json_object_get(body, "parity")) {
		pv = uart_parity_from_name(json_string_value(json_object_get(body, "parity")));
		if (pv < 0)
			return req_error(req, -EINVAL, NULL,
			                 "parity must be none, even, odd, mark or space");
		c.parity = (enum uart_parity)pv;
	}
	if (json_object_get(body, "flow")) {
		fv = uart_flow_from_name(json_string_value(json_object_get(body, "flow")));
		if (fv < 0)
			return req_error(req, -EINVAL, NULL,
			                 "flow must be none, rtscts or xonxoff");
		c.flow = (enum uart_flow)fv;
	}
	for (struct uart_stream *s = p->streams; s; s = s->next)
		if (s->c.conn_id != req_conn_id(req))
			return req_error(
			        req, -EBUSY, "reconfigure before streaming, or stop the reader",
			        "%s has a reader attached; reconfiguring would garble it", p->name);
	if (p->attach && p->attach->c.conn_id != req_conn_id(req))
		return req_error(req, -EBUSY, NULL, "%s is attached", p->name);
	if (uart_hold(req, p, true) < 0)
		return 0;
	r = uart_termios_apply(p->fd, &c, why, sizeof(why));
	if (r < 0)
		return r == -EINVAL ? req_error(req, r, NULL, "%s", why)
		                    : uart_fail(req, r, p->name);
	struct uart_config got;
	uart_termios_read(p->fd, &got);
	/* A port that quietly keeps another setting (a pty has no parity and
	 * always 8 data bits) must not pass for configured. */
	if (got.baud != c.baud || got.data_bits != c.data_bits || got.parity != c.parity ||
	    got.stop_bits != c.stop_bits || got.flow != c.flow)
		return req_error(
		        req, -EOPNOTSUPP, "pseudo-terminals carry 8 data bits without parity",
		        "%s did not take the configuration: it kept %u data bits, parity %s, "
		        "%u stop bits, flow %s at %u baud",
		        p->name, got.data_bits, uart_parity_name(got.parity), got.stop_bits,
		        uart_flow_name(got.flow), got.baud);
	c = got;
	broker_state_changed(p->a->b); /* the configuration is restored with the lease */
	log_info(req_log_ctx(req), "%s configured: %u %u%c%u %s", p->name, c.baud, c.data_bits,
	         uart_parity_name(c.parity)[0], c.stop_bits, uart_flow_name(c.flow));
	return req_reply_json(req, 200, uart_config_json(&c));
}

static int uart_write(struct request *req)
{
	struct uart_port *p = uart_target(req, POLICY_READ | POLICY_WRITE);
	size_t len;
	const void *data = req_body(req, &len);
	int r;

	if (!p || uart_hold(req, p, true) < 0)
		return 0;
	r = uart_queue_tx(p, data, len);
	if (r == -EAGAIN)
		return req_error(req, r, "the port is slower than the writes; retry",
		                 "%s: transmit queue full", p->name);
	if (r < 0) {
		uart_port_fail(p, "the port went away");
		return uart_fail(req, -ENODEV, p->name);
	}
	return req_reply_json(req, 200, json_pack("{s:I}", "written", (json_int_t)len));
}

static int uart_read(struct request *req)
{
	const char *max_s = req_query(req, "max"), *timeout_s = req_query(req, "timeout_ms");
	unsigned long long max = 4096, timeout = 1000;
	struct uart_port *p;
	struct uart_read *rd;

	if ((max_s && req_parse_uint(max_s, 1, UART_READ_MAX, &max) < 0) ||
	    (timeout_s && req_parse_uint(timeout_s, 0, 60000, &timeout) < 0))
		return req_error(req, -EBADMSG, "max=1..65536, timeout_ms=0..60000",
		                 "bad max or timeout_ms");
	p = uart_target(req, POLICY_READ);
	if (!p || uart_hold(req, p, false) < 0)
		return 0;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	rd->port = p;
	rd->req = req;
	rd->max = (size_t)max;
	if (p->unread < p->wpos || timeout == 0) {
		uart_reply_read(rd);
		free(rd);
		return 0;
	}
	rd->timer = loop_add_timer(p->a->b->loop, timeout, uart_read_timeout, rd);
	rd->next = NULL;
	struct uart_read **pp = &p->reads;
	while (*pp)
		pp = &(*pp)->next;
	*pp = rd;
	return REQ_ASYNC;
}

static int uart_stream(struct request *req)
{
	struct uart_port *p = uart_target(req, POLICY_READ);
	struct service *svc = req_service(req);
	struct uart_stream *s;

	if (!p || uart_hold(req, p, false) < 0)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->c.port = p;
	s->c.pos = p->unread; /* bytes kept while nobody read come first */
	s->c.conn_id = req_conn_id(req);
	snprintf(s->c.service, sizeof(s->c.service), "%s", svc ? svc->name : "admin");
	s->next = p->streams;
	p->streams = s;
	s->stream = req_stream(req, "application/octet-stream", &uart_stream_ops, s);
	if (!s->stream)
		uart_stream_closed(s);
	return 0;
}

static int uart_attach(struct request *req)
{
	const char *upgrade = req_header(req, "Upgrade");
	struct uart_port *p;
	struct uart_attach_req *ar;
	struct service *svc = req_service(req);

	if (!upgrade || strcasecmp(upgrade, UART_PROTOCOL))
		return req_error(req, -EBADMSG,
		                 "send Connection: Upgrade and Upgrade: " UART_PROTOCOL,
		                 "attach needs an HTTP Upgrade to %s", UART_PROTOCOL);
	p = uart_target(req, POLICY_READ | POLICY_WRITE);
	if (!p)
		return 0;
	if (p->attach)
		return req_error(req, -EBUSY, NULL, "%s is attached already", p->name);
	if (uart_hold(req, p, false) < 0)
		return 0;
	ar = calloc(1, sizeof(*ar));
	if (!ar)
		return -ENOMEM;
	ar->port = p;
	ar->conn_id = req_conn_id(req);
	snprintf(ar->service, sizeof(ar->service), "%s", svc ? svc->name : "admin");
	return req_upgrade(req, UART_PROTOCOL, uart_upgraded, ar);
}

static int uart_release(struct request *req)
{
	struct uart_area *a = req_broker(req)->uart;
	struct uart_port *p = uart_target(req, POLICY_READ | POLICY_WRITE);
	struct service *svc = req_service(req);
	char res[96];
	const struct lease *l;

	if (!p)
		return 0;
	l = lease_find(a->leases, uart_resource(p, res, sizeof(res)));
	if (!l)
		return req_error(req, -ENOENT, NULL, "%s is not held", p->name);
	if (svc && strcmp(l->holder, svc->name))
		return req_error(req, -EBUSY, NULL, "%s is held by service %s", p->name, l->holder);
	lease_release(a->leases, res);
	uart_release_port(p, "released");
	broker_state_changed(a->b);
	return req_reply_json(req, 204, NULL);
}

static int uart_sim_present(struct request *req)
{
	struct uart_area *a = req_broker(req)->uart;
	bool present = json_is_true(json_object_get(req_json(req), "present"));
	const char *name = req_param(req, "port");
	int r;

	if (!a->ops->sim_set_present)
		return req_error(req, -ENOENT, NULL, "not a simulated board");
	/* Unplugged, our fd sees the hangup in the loop, as with a real USB adapter. */
	r = a->ops->sim_set_present(a->be, name, present);
	if (r < 0)
		return uart_fail(req, r, name);
	return req_reply_json(req, 200, json_pack("{s:s,s:b}", "port", name, "present", present));
}

/* --- hooks --- */

struct uart_sweep {
	struct uart_area *a;
	struct service *svc;
	uint64_t conn_id;
	int why; /* 0 policy, 1 service removed, 2 connection closed */
};

static bool uart_sweep_lease(const struct lease *l, void *data)
{
	struct uart_sweep *s = data;
	struct uart_port *p = uart_find_port(s->a, l->resource + 5);
	bool drop;

	if (strcmp(l->holder, s->svc->name))
		return false;
	if (s->why == 0) {
		struct policy_request want = {
		        .kind = POLICY_UART, .access = POLICY_READ, .port = l->resource + 5};
		struct policy_decision d;
		drop = !policy_allows(s->svc->policy, &want, &d);
	} else if (s->why == 2) {
		drop = l->kind == LEASE_CONNECTION && l->conn_id == s->conn_id;
	} else {
		drop = true;
	}
	if (drop && p)
		uart_release_port(p, s->why == 0   ? "revoked: the service's policy changed"
		                     : s->why == 2 ? "its connection closed"
		                                   : "the service was removed");
	return drop;
}

static void uart_policy_changed(struct broker *b, struct service *svc)
{
	struct uart_sweep s = {b->uart, svc, 0, 0};
	lease_sweep(b->uart->leases, uart_sweep_lease, &s);
}

static void uart_service_removed(struct broker *b, struct service *svc)
{
	struct uart_sweep s = {b->uart, svc, 0, 1};
	lease_sweep(b->uart->leases, uart_sweep_lease, &s);
}

static void uart_conn_closed(struct broker *b, struct service *svc, uint64_t conn_id)
{
	struct uart_sweep s = {b->uart, svc, conn_id, 2};

	if (b->uart)
		lease_sweep(b->uart->leases, uart_sweep_lease, &s);
}

/* Persistent leases survive a restart: the port is opened and configured again. */
struct uart_save_ctx {
	struct uart_area *a;
	json_t *list;
};

static bool uart_save_one(const struct lease *l, void *data)
{
	struct uart_save_ctx *c = data;
	struct uart_port *p = uart_find_port(c->a, l->resource + 5);
	struct uart_config cfg;

	if (l->kind != LEASE_PERSISTENT)
		return false;
	json_t *rec = json_pack("{s:s,s:s}", "port", l->resource + 5, "holder", l->holder);
	if (p && p->fd >= 0 && uart_termios_read(p->fd, &cfg) == 0)
		json_object_set_new(rec, "config", uart_config_json(&cfg));
	json_array_append_new(c->list, rec);
	return false;
}

static json_t *uart_save(struct broker *b)
{
	struct uart_save_ctx c = {b->uart, json_array()};

	lease_sweep(b->uart->leases, uart_save_one, &c);
	return json_pack("{s:o}", "leases", c.list);
}

static void uart_restore(struct broker *b, const json_t *saved)
{
	struct uart_area *a = b->uart;
	json_t *rec;
	size_t i;

	json_array_foreach(json_object_get(saved, "leases"), i, rec)
	{
		const char *port = json_string_value(json_object_get(rec, "port"));
		const char *holder = json_string_value(json_object_get(rec, "holder"));
		json_t *c = json_object_get(rec, "config");
		char canon[UART_NAME_MAX], res[96], why[400];
		struct uart_port *p;

		if (!port || !holder || a->ops->resolve(a->be, port, canon, sizeof(canon)) < 0 ||
		    !(p = uart_get_port(a, canon)) || uart_open_port(p) < 0) {
			log_warn("uart", "lease of %s on %s not restored", holder ? holder : "?",
			         port ? port : "?");
			continue;
		}
		lease_acquire(a->leases, uart_resource(p, res, sizeof(res)), holder,
		              LEASE_PERSISTENT, 0, NULL);
		if (c) {
			int parity = uart_parity_from_name(
			        json_string_value(json_object_get(c, "parity")));
			int flow =
			        uart_flow_from_name(json_string_value(json_object_get(c, "flow")));
			struct uart_config cfg = {
			        (unsigned)json_integer_value(json_object_get(c, "baud")),
			        (unsigned)json_integer_value(json_object_get(c, "data_bits")),
			        parity < 0 ? UART_PARITY_NONE : (enum uart_parity)parity,
			        (unsigned)json_integer_value(json_object_get(c, "stop_bits")),
			        flow < 0 ? UART_FLOW_NONE : (enum uart_flow)flow};
			if (uart_termios_apply(p->fd, &cfg, why, sizeof(why)) < 0)
				log_warn("uart", "%s: saved configuration not applied: %s", canon,
				         why);
		}
		log_info("uart", "restored %s's lease on %s", holder, canon);
	}
}

static int uart_init(struct broker *b)
{
	struct uart_area *a = calloc(1, sizeof(*a));
	int r;

	if (!a)
		return -ENOMEM;
	a->b = b;
	a->ops = uart_backend_find(b->cfg->sim ? "sim" : "termios");
	a->leases = lease_table_new();
	r = a->ops->open(&a->be, b->loop, b->cfg);
	if (r < 0 || !a->leases) {
		lease_table_free(a->leases);
		free(a);
		return r < 0 ? r : -ENOMEM;
	}
	b->uart = a;
	return 0;
}

static void uart_fini(struct broker *b)
{
	struct uart_area *a = b->uart;

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
			loop_cancel_timer(b->loop, rd->timer);
			free(rd);
		}
		if (p->attach) {
			loop_del_fd(b->loop, p->attach->sock);
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
	b->uart = NULL;
}

static const struct schema uart_config_schema = {
        .fields = (const struct schema_field[]){{"baud", SCHEMA_INT, false, 1, 100000000},
                                                {"data_bits", SCHEMA_INT, false, 1, 16},
                                                {"parity", SCHEMA_STRING, false, 1, 8},
                                                {"stop_bits", SCHEMA_INT, false, 1, 8},
                                                {"flow", SCHEMA_STRING, false, 1, 8},
                                                {0}},
};
static const struct schema uart_present_schema = {
        .fields = (const struct schema_field[]){{"present", SCHEMA_BOOL, true, 0, 0}, {0}},
};

#define ANY (ROUTE_SERVICE | ROUTE_ADMIN)
static const struct route uart_routes[] = {
        {"GET", "/v1/uart", ANY, BODY_NONE, NULL, uart_list},
        {"GET", "/v1/uart/{port}/config", ANY, BODY_NONE, NULL, uart_get_config},
        {"PUT", "/v1/uart/{port}/config", ANY, BODY_JSON, &uart_config_schema, uart_put_config},
        {"POST", "/v1/uart/{port}/write", ANY, BODY_RAW, NULL, uart_write},
        {"GET", "/v1/uart/{port}/read", ANY, BODY_NONE, NULL, uart_read},
        {"GET", "/v1/uart/{port}/stream", ANY, BODY_NONE, NULL, uart_stream},
        {"GET", "/v1/uart/{port}/attach", ANY, BODY_NONE, NULL, uart_attach},
        {"DELETE", "/v1/uart/{port}", ANY, BODY_NONE, NULL, uart_release},
        {"POST", "/v1/sim/uart/{port}", ROUTE_ADMIN | ROUTE_SIM, BODY_JSON, &uart_present_schema,
         uart_sim_present},
};

const struct area area_uart = {
        .name = "uart",
        .routes = uart_routes,
        .n_routes = sizeof(uart_routes) / sizeof(uart_routes[0]),
        .init = uart_init,
        .fini = uart_fini,
        .policy_changed = uart_policy_changed,
        .service_removed = uart_service_removed,
        .conn_closed = uart_conn_closed,
        .save = uart_save,
        .restore = uart_restore,
};
