/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hwbrokerd: set up, run the loop, tear down in the reverse order. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "area.h"
#include "areas.h"
#include "config.h"
#include "daemon.h"
#include "driver_env.h"
#include "log.h"
#include "loop.h"
#include "router.h"

/* systemd Type=notify without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void main_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	socklen_t len;
	int fd;

	if (!path || !*path || strlen(path) >= sizeof(addr.sun_path))
		return;
	memcpy(addr.sun_path, path, strlen(path));
	if (addr.sun_path[0] == '@')
		addr.sun_path[0] = '\0'; /* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&addr, len) < 0)
		log_debug("main", "sd_notify: %s", strerror(errno));
	close(fd);
}

static int main_mkdir_p(const char *path, mode_t mode)
{
	char buf[512];

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void main_on_signal(void *data, int fd, uint32_t events)
{
	struct daemon *d = data;
	struct signalfd_siginfo si;
	enum log_level level;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (config_reload(d->cfg) < 0) {
				log_error("main",
				          "SIGHUP: configuration not reloaded (errors above)");
				continue;
			}
			if (log_parse_level(d->cfg->log_level, &level) == 0)
				log_set_level(level);
			log_set_format(d->cfg->log_format);
			log_info("main", "SIGHUP: configuration reloaded");
			continue;
		}
		log_info("main", "signal %u: shutting down", si.ssi_signo);
		main_notify("STOPPING=1");
		loop_quit(d->loop);
	}
}

static int main_setup_signals(struct daemon *d)
{
	sigset_t set;
	int fd;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	return loop_add_fd(d->loop, fd, EPOLLIN, main_on_signal, d) < 0 ? -EIO : fd;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct drv_env env;
	struct daemon d = {.cfg = &cfg, .env = &env, .areas = daemon_areas};
	enum log_level level;
	int r, sigfd, status = EXIT_FAILURE;

	r = config_load(&cfg, argc, argv);
	if (r == CONFIG_LIST_ROUTES)
		router_print(daemon_areas, stdout);
	if (r > 0)
		return EXIT_SUCCESS;
	if (r < 0)
		return 2;
	if (log_parse_level(cfg.log_level, &level) < 0) {
		fprintf(stderr, "hwbrokerd: bad --log-level '%s'\n", cfg.log_level);
		config_free(&cfg);
		return 2;
	}
	log_set_level(level);
	log_set_format(cfg.log_format);
	if ((r = main_mkdir_p(cfg.runtime_dir, 0755)) < 0 ||
	    (r = main_mkdir_p(cfg.state_dir, 0700)) < 0) {
		log_error("main", "cannot create %s or %s: %s", cfg.runtime_dir, cfg.state_dir,
		          strerror(-r));
		goto free_config;
	}
	d.loop = loop_new();
	if (!d.loop)
		goto free_config;
	driver_env_init(&env, d.loop);
	sigfd = main_setup_signals(&d);
	if (sigfd >= 0 && daemon_start(&d) == 0) {
		log_info("main", "hwbrokerd %s ready: %s board, host actions via %s, runtime %s",
		         HWB_VERSION, cfg.sim ? "simulated" : "real", cfg.host_backend,
		         cfg.runtime_dir);
		main_notify("READY=1");
		status = loop_run(d.loop) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
		daemon_stop(&d);
	}
	if (sigfd >= 0)
		close(sigfd);
	loop_free(d.loop);
free_config:
	config_free(&cfg);
	return status;
}
