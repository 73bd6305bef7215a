/* The simulated board's serial ports: pseudo-terminals whose far (master)
 * side is a simulated device served in the loop, so the service side runs
 * the same termios code as a real port. ttyS0 echoes what it receives;
 * ttyACM0 is a GPS receiver sending NMEA sentences once a second. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "loop.h"
#include "uart.h"

#define SIM_PORTS    8
#define SIM_ECHO_BUF 65536

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
	struct loop_timer *gps_timer;
	unsigned gps_count;
};

struct uart_backend {
	struct loop *loop;
	struct sim_port ports[SIM_PORTS];
	size_t n;
};

static void sim_master_events(struct sim_port *p);

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
			/* Echo: straight back if the line takes it, else queued. */
			ssize_t w = p->out_len ? 0 : write(p->master, buf, (size_t)n);
			if (w < 0)
				w = 0;
			memcpy(p->out + p->out_len, buf + w, (size_t)(n - w));
			p->out_len += (size_t)(n - w);
		}
	} else if (events & EPOLLIN) {
		while (read(p->master, buf, sizeof(buf)) > 0)
			; /* a GPS ignores what it is sent */
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
	loop_mod_fd(p->be->loop, p->master, ev);
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

	p->gps_timer = loop_add_timer(p->be->loop, 1000, sim_gps_tick, p);
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
	if (loop_add_fd(p->be->loop, p->master, EPOLLIN, sim_on_master, p) < 0) {
		close(p->master);
		close(p->hold);
		return -EIO;
	}
	p->present = true;
	p->out_len = 0;
	if (p->model == SIM_GPS)
		p->gps_timer = loop_add_timer(p->be->loop, 1000, sim_gps_tick, p);
	return 0;
}

static void sim_unplug(struct sim_port *p)
{
	if (!p->present)
		return;
	if (p->gps_timer)
		loop_cancel_timer(p->be->loop, p->gps_timer);
	p->gps_timer = NULL;
	loop_del_fd(p->be->loop, p->master);
	close(p->master);
	close(p->hold);
	p->master = p->hold = -1;
	p->present = false;
}

static int sim_add(struct uart_backend *be, const char *name, const char *model)
{
	struct sim_port *p;

	if (be->n == SIM_PORTS || !uart_name_valid(name) || name[0] == '/')
		return -EINVAL;
	p = &be->ports[be->n];
	p->be = be;
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

static int sim_open(struct uart_backend **out, struct loop *loop, const struct config *cfg)
{
	struct uart_backend *be = calloc(1, sizeof(*be));
	int r = 0;

	if (!be)
		return -ENOMEM;
	be->loop = loop;
	if (cfg && cfg->board_file) {
		json_t *root = json_load_file(cfg->board_file, 0, NULL), *p;
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
		log_error("uart", "simulated ports: %s", strerror(-r));
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
	if (!p->present)
		return -ENODEV;
	return uart_termios_open(p->slave, fd);
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

const struct uart_ops uart_sim_ops = {
        .name = "sim",
        .open = sim_open,
        .close = sim_close,
        .list = sim_list,
        .resolve = sim_resolve,
        .port_open = sim_port_open,
        .sim_set_present = sim_set_present,
};
