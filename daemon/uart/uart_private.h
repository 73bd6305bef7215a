/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Private to the UART area (api_uart.c: handlers and hooks; uart_port.c:
 * the ports' data paths). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "request.h"
#include "uart.h"

struct lease_table;
struct loop_timer;
struct service;
struct stream;
struct upgrade;

#define UART_TX_MAX    (256 * 1024)
#define UART_READ_MAX  65536
#define UART_PORTS_MAX 64
#define UART_PROTOCOL  "hwbroker-uart"

struct uart_port;

struct uart_consumer {
	struct uart_port *port;
	uint64_t pos;     /* next absolute byte to deliver */
	uint64_t dropped; /* bytes lost to ring overwrites */
	char service[64];
	uint64_t conn_id;
};

struct uart_stream {
	struct uart_consumer c;
	struct stream *stream;
	char error[160];
	bool ending;
	struct uart_stream *next;
};

struct uart_read {
	struct uart_port *port;
	struct request *req;
	size_t max;
	struct loop_timer *timer;
	struct uart_read *next;
};

struct uart_attach {
	struct uart_consumer c;
	struct upgrade *up;
	int sock;
	uint32_t sock_events;
};

struct uart_port {
	struct uart_area *a;
	char name[UART_NAME_MAX];
	struct uart_config cfg; /* the last configuration applied (cfg_known) */
	bool cfg_known;
	int fd;
	uint32_t fd_events;
	char *ring;
	size_t cap;
	uint64_t wpos;   /* bytes received in all */
	uint64_t unread; /* position up to which someone consumed */
	uint64_t dropped, dropped_reported;
	char *tx;
	size_t tx_len;
	struct uart_stream *streams;
	struct uart_read *reads;
	struct uart_attach *attach;
	struct uart_port *next;
};

struct uart_area {
	struct daemon *d;
	const struct uart_ops *ops;
	const struct uart_sim_ops *sim; /* simulated board only */
	struct uart_backend *be;
	struct lease_table *leases;
	struct uart_port *ports;
};

struct uart_attach_req {
	struct uart_port *port;
	/* Does the requester still hold the port, with a read-write grant? */
	bool (*still_allowed)(struct uart_port *p, const struct uart_attach_req *ar);
	char service[64];
	uint64_t conn_id;
};

/* uart_hold.c */
/* Resolve step of {port} (the simulator's controls use it too). */
int uart_resolve_port(struct request *req, struct target *t);
/* Records a port error as the client sees it; returns err. */
int uart_fail(struct request *req, int err, const char *port);
/* Takes or checks the lease of the request's port and opens it: a
 * connection lease for reads, streams and attach unless the service holds
 * one; a persistent one (read-write grant only) for config and writes.
 * writes: taken to write (attach). 0 or a recorded failure. */
int uart_hold(struct request *req, struct uart_port *p, bool default_persistent, bool writes);
/* Notes what the lease carries (the settings, whether it writes). */
void uart_lease_note(struct uart_area *a, const struct uart_port *p, const char *resource,
                     bool writes);
int uart_check_lease_query(struct request *req);
bool uart_attach_allowed(struct uart_port *p, const struct uart_attach_req *ar);
json_t *uart_config_json(const struct uart_config *c);
/* Area hooks. */
void uart_policy_changed(struct daemon *d, struct service *svc);
void uart_service_removed(struct daemon *d, struct service *svc);
void uart_conn_closed(struct daemon *d, struct service *svc, uint64_t conn_id);
json_t *uart_save(struct daemon *d);
void uart_restore(struct daemon *d, const json_t *saved);

/* uart_port.c */
struct uart_port *uart_find_port(struct uart_area *a, const char *name);
/* The port's state, created on first use (NULL: out of memory). */
struct uart_port *uart_get_port(struct uart_area *a, const char *name);
int uart_open_port(struct uart_port *p);
void uart_close_fd(struct uart_port *p);
/* Queues bytes for the port: 0, -EAGAIN (queue full) or -ENODEV. */
int uart_queue_tx(struct uart_port *p, const void *data, size_t len);
/* Records the read's result: what the ring holds now (0 or a recorded failure). */
int uart_reply_read(struct uart_read *rd);
void uart_read_timeout(void *data);
void uart_attach_end(struct uart_port *p);
/* The port went away: streams, attach and waiting reads end (logged as a warning). */
void uart_port_fail(struct uart_port *p, const char *why);
/* The same, for a release (logged as information). */
void uart_release_port(struct uart_port *p, const char *why);
extern const struct stream_ops uart_stream_ops;
void uart_stream_closed(void *data);
void uart_upgraded(void *data, struct upgrade *up, int fd, const char *extra, size_t extra_len);
