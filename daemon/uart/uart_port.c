/* SPDX-License-Identifier: GPL-2.0-or-later */
/* UART ports: the receive ring (one per port, each consumer at its own
 * position), the transmit queue, reads waiting for data, the attached raw
 * pipe with its flow control, and what happens when a port goes away. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "area.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "uart.h"
#include "uart_private.h"

static void uart_port_sync(struct uart_port *p);

/* --- ring --- */

static uint64_t uart_oldest(const struct uart_port *p)
{
	return p->wpos > p->cap ? p->wpos - p->cap : 0;
}

static void uart_ring_put(struct uart_port *p, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p->ring[(p->wpos + i) % p->cap] = buf[i];
	p->wpos += n;
	/* Unread bytes the ring no longer holds are lost: count them. */
	if (p->unread < uart_oldest(p)) {
		p->dropped += uart_oldest(p) - p->unread;
		p->unread = uart_oldest(p);
	}
}

/* Copies up to max bytes for a consumer at *pos; advances it. */
static size_t uart_ring_take(struct uart_port *p, uint64_t *pos, uint64_t *dropped, char *out,
                             size_t max)
{
	size_t n = 0;

	if (*pos < uart_oldest(p)) {
		*dropped += uart_oldest(p) - *pos;
		*pos = uart_oldest(p);
	}
	while (*pos < p->wpos && n < max)
		out[n++] = p->ring[(*pos)++ % p->cap];
	if (*pos > p->unread)
		p->unread = *pos;
	return n;
}

/* --- ports --- */

struct uart_port *uart_find_port(struct uart_area *a, const char *name)
{
	for (struct uart_port *p = a->ports; p; p = p->next)
		if (!strcmp(p->name, name))
			return p;
	return NULL;
}

struct uart_port *uart_get_port(struct uart_area *a, const char *name)
{
	struct uart_port *p = uart_find_port(a, name);

	if (p)
		return p;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->a = a;
	p->fd = -1;
	p->cap = a->d->cfg->uart_buffer ? a->d->cfg->uart_buffer : 65536;
	p->ring = malloc(p->cap);
	p->tx = malloc(UART_TX_MAX);
	if (!p->ring || !p->tx) {
		free(p->ring);
		free(p->tx);
		free(p);
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->next = a->ports;
	a->ports = p;
	return p;
}

void uart_close_fd(struct uart_port *p)
{
	if (p->fd < 0)
		return;
	loop_del_fd(p->a->d->loop, p->fd);
	p->a->ops->port_close(p->a->be, p->name, p->fd);
	p->fd = -1;
	p->fd_events = 0;
	p->tx_len = 0;
}

static void uart_deliver_reads(struct uart_port *p);
static void uart_pump_attach(struct uart_port *p);

static void uart_on_tty(void *data, int fd, uint32_t events)
{
	struct uart_port *p = data;
	char buf[4096];
	ssize_t n;

	if ((events & EPOLLOUT) && p->tx_len) {
		n = write(p->fd, p->tx, p->tx_len);
		if (n > 0) {
			memmove(p->tx, p->tx + n, p->tx_len - (size_t)n);
			p->tx_len -= (size_t)n;
		}
	}
	if (events & EPOLLIN) {
		n = read(p->fd, buf, sizeof(buf));
		if (n > 0) {
			uart_ring_put(p, buf, (size_t)n);
			for (struct uart_stream *s = p->streams; s; s = s->next)
				stream_wake(s->stream);
			uart_deliver_reads(p);
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			uart_port_fail(p, "the port went away");
			return;
		}
	}
	if ((events & (EPOLLHUP | EPOLLERR)) && !(events & EPOLLIN)) {
		uart_port_fail(p, "the port went away");
		return;
	}
	uart_pump_attach(p);
	uart_port_sync(p);
}

/* What the tty fd should wake us for: reading, unless the attached client
 * lags (its bytes are never dropped: flow control instead); writing while
 * bytes wait. */
static void uart_port_sync(struct uart_port *p)
{
	uint32_t ev = EPOLLIN;

	if (p->fd < 0)
		return;
	if (p->attach && p->wpos - p->attach->c.pos > p->cap - 4096)
		ev = 0;
	if (p->tx_len)
		ev |= EPOLLOUT;
	if (ev == p->fd_events)
		return;
	if (loop_mod_fd(p->a->d->loop, p->fd, ev) == 0)
		p->fd_events = ev;
}

int uart_open_port(struct uart_port *p)
{
	int r;

	if (p->fd >= 0)
		return 0;
	r = p->a->ops->port_open(p->a->be, p->name, &p->fd);
	if (r < 0)
		return r;
	r = loop_add_fd(p->a->d->loop, p->fd, EPOLLIN, uart_on_tty, p);
	if (r < 0) {
		close(p->fd);
		p->fd = -1;
		return r;
	}
	p->fd_events = EPOLLIN;
	/* Bytes that arrived while nothing had the port open are lost, as on a
	 * real UART; a pty would otherwise hand over a stale backlog. */
	tcflush(p->fd, TCIFLUSH);
	p->unread = p->wpos;
	log_info("uart", "%s opened", p->name);
	return 0;
}

int uart_queue_tx(struct uart_port *p, const void *data, size_t len)
{
	ssize_t n = 0;

	if (p->tx_len + len > UART_TX_MAX)
		return -EAGAIN;
	if (!p->tx_len) {
		n = write(p->fd, data, len);
		if (n < 0 && errno != EAGAIN)
			return -ENODEV;
		if (n < 0)
			n = 0;
	}
	memcpy(p->tx + p->tx_len, (const char *)data + n, len - (size_t)n);
	p->tx_len += len - (size_t)n;
	uart_port_sync(p);
	return 0;
}

/* --- reads --- */

int uart_reply_read(struct uart_read *rd)
{
	struct uart_port *p = rd->port;
	char *buf = malloc(rd->max);
	uint64_t pos = p->unread, dropped = 0;
	size_t n;
	char hdr[32];
	int r;

	if (!buf)
		return req_fail(rd->req, -ENOMEM, NULL, "out of memory");
	n = uart_ring_take(p, &pos, &dropped, buf, rd->max);
	if (p->dropped > p->dropped_reported) {
		snprintf(hdr, sizeof(hdr), "%llu",
		         (unsigned long long)(p->dropped - p->dropped_reported));
		req_add_header(rd->req, "X-Hwbroker-Dropped", hdr);
		p->dropped_reported = p->dropped;
	}
	r = req_result_raw(rd->req, 200, "application/octet-stream", buf, n);
	free(buf);
	return r;
}

static void uart_unlink_read(struct uart_read *rd)
{
	for (struct uart_read **pp = &rd->port->reads; *pp; pp = &(*pp)->next) {
		if (*pp == rd) {
			*pp = rd->next;
			return;
		}
	}
}

static void uart_deliver_reads(struct uart_port *p)
{
	while (p->reads && p->unread < p->wpos) {
		struct uart_read *rd = p->reads;
		p->reads = rd->next;
		loop_cancel_timer(p->a->d->loop, rd->timer);
		req_complete(rd->req, uart_reply_read(rd));
		free(rd);
	}
}

void uart_read_timeout(void *data)
{
	struct uart_read *rd = data;

	uart_unlink_read(rd);
	req_complete(rd->req, uart_reply_read(rd)); /* what arrived within the timeout: nothing */
	free(rd);
}

/* --- attach --- */

static void uart_attach_sync(struct uart_attach *at)
{
	struct uart_port *p = at->c.port;
	uint32_t ev = 0;

	if (p->tx_len < UART_TX_MAX / 2)
		ev |= EPOLLIN;
	if (at->c.pos < p->wpos)
		ev |= EPOLLOUT;
	if (ev != at->sock_events && loop_mod_fd(p->a->d->loop, at->sock, ev) == 0)
		at->sock_events = ev;
}

void uart_attach_end(struct uart_port *p)
{
	struct uart_attach *at = p->attach;

	if (!at)
		return;
	p->attach = NULL;
	loop_del_fd(p->a->d->loop, at->sock);
	upgrade_close(at->up);
	log_info(at->c.service, "%s: attach ended", p->name);
	free(at);
	uart_port_sync(p);
}

static void uart_pump_attach(struct uart_port *p)
{
	struct uart_attach *at = p->attach;
	char buf[16384];

	if (!at)
		return;
	while (at->c.pos < p->wpos) {
		uint64_t pos = at->c.pos;
		size_t n = uart_ring_take(p, &pos, &at->c.dropped, buf, sizeof(buf));
		ssize_t w = send(at->sock, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN)
				break;
			uart_attach_end(p);
			return;
		}
		at->c.pos = pos - (n - (size_t)w); /* what the socket took */
		if ((size_t)w < n)
			break;
	}
	uart_attach_sync(at);
}

static void uart_on_attach_sock(void *data, int fd, uint32_t events)
{
	struct uart_port *p = data;
	struct uart_attach *at = p->attach;
	char buf[16384];

	if (!at)
		return;
	if (events & EPOLLIN) {
		size_t room = UART_TX_MAX - p->tx_len;
		ssize_t n = recv(fd, buf, room < sizeof(buf) ? room : sizeof(buf), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			uart_attach_end(p);
			return;
		}
		if (n > 0 && uart_queue_tx(p, buf, (size_t)n) < 0) {
			uart_attach_end(p);
			return;
		}
	} else if (events & (EPOLLHUP | EPOLLERR)) {
		uart_attach_end(p);
		return;
	}
	uart_pump_attach(p);
	uart_port_sync(p);
}

/* --- failures and release --- */

static void uart_stream_end(struct uart_stream *s, const char *why)
{
	if (s->ending)
		return;
	s->ending = true;
	snprintf(s->error, sizeof(s->error), "%s", why);
	stream_close(s->stream);
}

static void uart_port_end(struct uart_port *p, const char *why);

void uart_port_fail(struct uart_port *p, const char *why)
{
	log_warn("uart", "%s: %s", p->name, why);
	uart_port_end(p, why);
}

static void uart_port_end(struct uart_port *p, const char *why)
{
	uart_close_fd(p);
	for (struct uart_stream *s = p->streams; s; s = s->next)
		uart_stream_end(s, why);
	uart_attach_end(p);
	while (p->reads) {
		struct uart_read *rd = p->reads;
		p->reads = rd->next;
		loop_cancel_timer(p->a->d->loop, rd->timer);
		req_complete(rd->req, req_fail(rd->req, -ENODEV, "it may come back (USB adapter)",
		                               "%s: %s", p->name, why));
		free(rd);
	}
}

/* Everything of one holder ends; the port closes when nobody holds it. */
void uart_release_port(struct uart_port *p, const char *why)
{
	log_info("uart", "%s closed: %s", p->name, why);
	uart_port_end(p, why);
}

static ssize_t uart_stream_fill(void *data, char *buf, size_t max)
{
	struct uart_stream *s = data;
	struct uart_port *p = s->c.port;
	size_t n;

	if (!p)
		return STREAM_EOF;
	n = uart_ring_take(p, &s->c.pos, &s->c.dropped, buf, max);
	if (n)
		return (ssize_t)n;
	if (s->ending) {
		if (s->error[0]) {
			char text[200];
			snprintf(text, sizeof(text), "unavailable: %s", s->error);
			stream_set_trailer(s->stream, "X-Hwbroker-Error", text);
		}
		return STREAM_EOF;
	}
	return 0;
}

void uart_stream_closed(void *data)
{
	struct uart_stream *s = data;
	struct uart_port *p = s->c.port;

	if (p) {
		for (struct uart_stream **pp = &p->streams; *pp; pp = &(*pp)->next) {
			if (*pp == s) {
				*pp = s->next;
				break;
			}
		}
	}
	free(s);
}

const struct stream_ops uart_stream_ops = {uart_stream_fill, uart_stream_closed};

void uart_upgraded(void *data, struct upgrade *up, int fd, const char *extra, size_t extra_len)
{
	struct uart_attach_req *ar = data;
	struct uart_port *p = ar->port;
	struct uart_attach *at;

	/* The 101 may complete long after the request was allowed: the lease,
	 * its connection and the policy are checked again now. */
	if (!up || p->attach || p->fd < 0 || !ar->still_allowed(p, ar)) {
		if (up)
			upgrade_close(up);
		free(ar);
		return;
	}
	at = calloc(1, sizeof(*at));
	if (!at) {
		upgrade_close(up);
		free(ar);
		return;
	}
	at->c.port = p;
	at->c.pos = p->unread;
	at->c.conn_id = ar->conn_id;
	snprintf(at->c.service, sizeof(at->c.service), "%s", ar->service);
	free(ar);
	at->up = up;
	at->sock = fd;
	p->attach = at;
	if (extra_len)
		uart_queue_tx(p, extra, extra_len);
	if (loop_add_fd(p->a->d->loop, fd, EPOLLIN, uart_on_attach_sock, p) < 0) {
		uart_attach_end(p);
		return;
	}
	at->sock_events = EPOLLIN;
	log_info(at->c.service, "%s: attached", p->name);
	uart_pump_attach(p);
	uart_port_sync(p);
}
