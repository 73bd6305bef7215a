/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulated board's serial ports: pseudo-terminals whose far (master)
 * side is a simulated device served in the owner's loop, so the service side
 * runs the same termios code as a real port. ttyS0 echoes what it receives;
 * ttyACM0 is a GPS receiver sending NMEA sentences once a second. Each port
 * models a 16550's line settings: a pseudo-terminal keeps only the speed, so
 * data bits, parity, stop bits and flow control are kept here, and a service
 * developed against the simulated board sees what it would see on a device. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pty.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "uart.h"

#define SIM_PORTS    8
#define SIM_ECHO_BUF 65536
#define SIM_LAST     64 /* bytes of what a device received, kept for snapshots */

enum sim_model { SIM_LOOPBACK, SIM_GPS };

struct sim_port {
	struct uart_backend *be;
	char name[UART_NAME_MAX];
	enum sim_model model;
	bool present;
	int master, hold; /* hold: a slave fd kept open so the master never sees a hangup */
	char slave[64];
	char *out; /* echo bytes the service side has not taken yet */
	size_t out_len;
	struct drv_timer *gps_timer;
	unsigned gps_count;
	struct uart_config cfg; /* the 16550's line settings */
	uint64_t received;      /* bytes the device got from the service side */
	uint8_t last[SIM_LAST]; /* the newest of them, oldest first once full */
};

struct uart_backend {
	const struct drv_env *env;
	struct sim_port ports[SIM_PORTS];
	size_t n;
};

static void sim_master_events(struct sim_port *p);

static void sim_note_received(struct sim_port *p, const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p->last[(p->received + i) % SIM_LAST] = (uint8_t)buf[i];
	p->received += n;
}

static void sim_on_master(void *data, int fd, uint32_t events)
{
	struct sim_port *p = data;
	char buf[4096];
	ssize_t n;

	if (events & EPOLLOUT && p->out_len) {
		n = write(p->master, p->out, p->out_len);
		if (n > 0) {
			memmove(p->out, p->out + n, p->out_len - (size_t)n);
			p->out_len -= (size_t)n;
		}
	}
	if ((events & EPOLLIN) && p->model == SIM_LOOPBACK) {
		size_t room = SIM_ECHO_BUF - p->out_len;
		n = read(p->master, buf, room < sizeof(buf) ? room : sizeof(buf));
		if (n > 0) {
			sim_note_received(p, buf, (size_t)n);
			/* Echo: straight back if the line takes it, else queued. */
			ssize_t w = p->out_len ? 0 : write(p->master, buf, (size_t)n);
			if (w < 0)
				w = 0;
			memcpy(p->out + p->out_len, buf + w, (size_t)(n - w));
			p->out_len += (size_t)(n - w);
		}
	} else if (events & EPOLLIN) {
		while ((n = read(p->master, buf, sizeof(buf))) > 0)
			sim_note_received(p, buf, (size_t)n); /* a GPS ignores what it is sent */
	}
	sim_master_events(p);
}

/* Read while there is room to echo; wait for writability while bytes wait. */
static void sim_master_events(struct sim_port *p)
{
	uint32_t ev = 0;

	if (p->out_len < SIM_ECHO_BUF)
		ev |= EPOLLIN;
	if (p->out_len)
		ev |= EPOLLOUT;
	env_fd_mod(p->be->env, p->master, ev);
}

static unsigned sim_nmea_checksum(const char *s)
{
	unsigned x = 0;

	for (; *s && *s != '*'; s++)
		x ^= (unsigned char)*s;
	return x;
}

static void sim_gps_tick(void *data)
{
	struct sim_port *p = data;
	char body[160], line[200], out[400];
	time_t now = time(NULL);
	struct tm tm;
	int n = 0;

	p->gps_timer = env_timer_add(p->be->env, 1000, sim_gps_tick, p);
	gmtime_r(&now, &tm);
	/* A receiver near Munich with a slowly wandering fix. */
	double lat = 4807.038 + (p->gps_count % 100) * 0.001,
	       lon = 1131.000 + (p->gps_count % 50) * 0.002;
	p->gps_count++;
	snprintf(body, sizeof(body),
	         "GPGGA,%02d%02d%02d.00,%.3f,N,%08.3f,E,1,08,0.9,545.4,M,46.9,M,,", tm.tm_hour,
	         tm.tm_min, tm.tm_sec, lat, lon);
	snprintf(line, sizeof(line), "$%s*%02X\r\n", body, sim_nmea_checksum(body));
	n += snprintf(out + n, sizeof(out) - (size_t)n, "%s", line);
	snprintf(body, sizeof(body),
	         "GPRMC,%02d%02d%02d.00,A,%.3f,N,%08.3f,E,0.4,84.4,%02d%02d%02d,,,A", tm.tm_hour,
	         tm.tm_min, tm.tm_sec, lat, lon, tm.tm_mday, tm.tm_mon + 1, tm.tm_year % 100);
	snprintf(line, sizeof(line), "$%s*%02X\r\n", body, sim_nmea_checksum(body));
	n += snprintf(out + n, sizeof(out) - (size_t)n, "%s", line);
	/* Nobody listening and the line full: sentences are lost, as on a real port. */
	if (write(p->master, out, (size_t)n) < 0)
		return;
}

static int sim_plug(struct sim_port *p)
{
	struct termios t;

	if (openpty(&p->master, &p->hold, p->slave, NULL, NULL) < 0)
		return -errno;
	fcntl(p->master, F_SETFL, O_NONBLOCK);
	fcntl(p->master, F_SETFD, FD_CLOEXEC);
	fcntl(p->hold, F_SETFD, FD_CLOEXEC);
	/* The device side is a wire: no line discipline on the master's slave either. */
	if (tcgetattr(p->hold, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(p->hold, TCSANOW, &t);
	}
	if (env_fd_add(p->be->env, p->master, EPOLLIN, sim_on_master, p) < 0) {
		close(p->master);
		close(p->hold);
		return -EIO;
	}
	p->present = true;
	p->out_len = 0;
	if (p->model == SIM_GPS)
		p->gps_timer = env_timer_add(p->be->env, 1000, sim_gps_tick, p);
	return 0;
}

static void sim_unplug(struct sim_port *p)
{
	if (!p->present)
		return;
	if (p->gps_timer)
		env_timer_cancel(p->be->env, p->gps_timer);
	p->gps_timer = NULL;
	env_fd_del(p->be->env, p->master);
	close(p->master);
	close(p->hold);
	p->master = p->hold = -1;
	p->present = false;
}

static int sim_add(struct uart_backend *be, const char *name, const char *model)
{
	static const struct uart_config power_on = {9600, 8, UART_PARITY_NONE, 1, UART_FLOW_NONE};
	struct sim_port *p;

	if (be->n == SIM_PORTS || !uart_name_valid(name) || name[0] == '/')
		return -EINVAL;
	p = &be->ports[be->n];
	p->be = be;
	p->cfg = power_on;
	snprintf(p->name, sizeof(p->name), "%s", name);
	if (!strcmp(model, "gps"))
		p->model = SIM_GPS;
	else if (!strcmp(model, "loopback"))
		p->model = SIM_LOOPBACK;
	else
		return -EINVAL;
	p->out = malloc(SIM_ECHO_BUF);
	if (!p->out)
		return -ENOMEM;
	be->n++;
	return sim_plug(p);
}

static void sim_close(struct uart_backend *be)
{
	for (size_t i = 0; i < be->n; i++) {
		sim_unplug(&be->ports[i]);
		free(be->ports[i].out);
	}
	free(be);
}

static int sim_open(struct uart_backend **out, const struct uart_params *params)
{
	struct uart_backend *be = calloc(1, sizeof(*be));
	int r = 0;

	if (!be)
		return -ENOMEM;
	be->env = params->env;
	if (params->board_file) {
		json_t *root = json_load_file(params->board_file, 0, NULL), *p;
		size_t i;
		json_array_foreach(json_object_get(root, "uart"), i, p)
		{
			r = sim_add(be, json_string_value(json_object_get(p, "port")) ?: "",
			            json_string_value(json_object_get(p, "model")) ?: "");
			if (r < 0)
				break;
		}
		json_decref(root);
	} else if ((r = sim_add(be, "ttyS0", "loopback")) == 0) {
		r = sim_add(be, "ttyACM0", "gps");
	}
	if (r < 0) {
		env_log(be->env, DRV_LOG_ERROR, "uart", "simulated ports: %s", strerror(-r));
		sim_close(be);
		return r;
	}
	*out = be;
	return 0;
}

static struct sim_port *sim_find(struct uart_backend *be, const char *name)
{
	if (!strncmp(name, "/dev/", 5))
		name += 5;
	for (size_t i = 0; i < be->n; i++)
		if (!strcmp(be->ports[i].name, name))
			return &be->ports[i];
	return NULL;
}

static int sim_list(struct uart_backend *be, char (*names)[UART_NAME_MAX], size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < be->n && n < max; i++)
		if (be->ports[i].present)
			snprintf(names[n++], UART_NAME_MAX, "%s", be->ports[i].name);
	return (int)n;
}

static int sim_resolve(struct uart_backend *be, const char *name, char *canon, size_t len)
{
	struct sim_port *p;

	if (!uart_name_valid(name))
		return -EINVAL;
	p = sim_find(be, name);
	if (!p)
		return -ENOENT;
	snprintf(canon, len, "%s", p->name);
	return p->present ? 0 : -ENODEV;
}

static int sim_port_open(struct uart_backend *be, const char *canon, int *fd)
{
	struct sim_port *p = sim_find(be, canon);

	if (!p)
		return -ENOENT;
	struct uart_config wire;
	char why[160];
	int r;

	if (!p->present)
		return -ENODEV;
	r = uart_termios_open(p->slave, fd);
	if (r < 0)
		return r;
	/* The speed the model holds is the pseudo-terminal's too. */
	wire = (struct uart_config){p->cfg.baud, 8, UART_PARITY_NONE, 1, UART_FLOW_NONE};
	uart_termios_apply(*fd, &wire, why, sizeof(why));
	return 0;
}

static int sim_set_present(struct uart_backend *be, const char *canon, bool present)
{
	struct sim_port *p = sim_find(be, canon);

	if (!p)
		return -ENOENT;
	if (!present) {
		sim_unplug(p);
		return 0;
	}
	return p->present ? 0 : sim_plug(p);
}

static void sim_port_close(struct uart_backend *be, const char *canon, int fd)
{
	uart_termios_close(fd);
}

static int sim_config_get(struct uart_backend *be, const char *canon, int fd,
                          struct uart_config *out)
{
	struct sim_port *p = sim_find(be, canon);

	if (!p)
		return -ENOENT;
	if (!p->present)
		return -ENODEV;
	*out = p->cfg;
	return 0;
}

/* The pseudo-terminal takes the speed (so termios readers agree); the rest
 * lives in the model, as a 16550's line control register would hold it. */
static int sim_config_set(struct uart_backend *be, const char *canon, int fd,
                          const struct uart_config *c, struct uart_config *got, char *why,
                          size_t len)
{
	struct sim_port *p = sim_find(be, canon);
	struct uart_config wire = {c->baud, 8, UART_PARITY_NONE, 1, UART_FLOW_NONE};
	int r = uart_config_check(c, why, len);

	if (r < 0)
		return r;
	if (!p)
		return -ENOENT;
	if (!p->present)
		return -ENODEV;
	r = uart_termios_apply(fd, &wire, why, len);
	if (r < 0)
		return r;
	p->cfg = *c;
	*got = p->cfg;
	return 0;
}

const struct uart_ops uart_sim_ops = {
        .name = "sim",
        .open = sim_open,
        .close = sim_close,
        .list = sim_list,
        .resolve = sim_resolve,
        .port_open = sim_port_open,
        .port_close = sim_port_close,
        .config_get = sim_config_get,
        .config_set = sim_config_set,
};

static json_t *sim_snapshot(struct uart_backend *be)
{
	json_t *ports = json_array();

	for (size_t i = 0; i < be->n; i++) {
		const struct sim_port *p = &be->ports[i];
		size_t kept = p->received < SIM_LAST ? (size_t)p->received : SIM_LAST;
		size_t first = p->received < SIM_LAST ? 0 : (size_t)(p->received % SIM_LAST);
		json_t *last = json_array();
		for (size_t k = 0; k < kept; k++)
			json_array_append_new(last, json_integer(p->last[(first + k) % SIM_LAST]));
		json_array_append_new(
		        ports, json_pack("{s:s,s:s,s:b,s:{s:i,s:i,s:s,s:i,s:s},s:I,s:o}", "port",
		                         p->name, "model", p->model == SIM_GPS ? "gps" : "loopback",
		                         "present", p->present, "config", "baud", (int)p->cfg.baud,
		                         "data_bits", (int)p->cfg.data_bits, "parity",
		                         uart_parity_name(p->cfg.parity), "stop_bits",
		                         (int)p->cfg.stop_bits, "flow", uart_flow_name(p->cfg.flow),
		                         "received", (json_int_t)p->received, "last", last));
	}
	return json_pack("{s:o}", "ports", ports);
}

const struct uart_sim_ops uart_sim_control = {
        .set_present = sim_set_present,
        .snapshot = sim_snapshot,
};
