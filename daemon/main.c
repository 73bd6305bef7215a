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

#include "audit.h"
#include "broker.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "registry.h"
#include "state.h"
#include "transport.h"

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
	struct broker *b = data;
	struct signalfd_siginfo si;
	enum log_level level;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (config_reload(b->cfg) < 0) {
				log_error("main",
				          "SIGHUP: configuration not reloaded (errors above)");
				continue;
			}
			if (log_parse_level(b->cfg->log_level, &level) == 0)
				log_set_level(level);
			log_info("main", "SIGHUP: configuration reloaded");
			continue;
		}
		log_info("main", "signal %u: shutting down", si.ssi_signo);
		main_notify("STOPPING=1");
		loop_quit(b->loop);
	}
}

static int main_setup_signals(struct broker *b)
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
	return loop_add_fd(b->loop, fd, EPOLLIN, main_on_signal, b) < 0 ? -EIO : fd;
}

static int main_init_areas(struct broker *b, size_t *n_init)
{
	for (*n_init = 0; broker_areas[*n_init]; (*n_init)++) {
		const struct area *a = broker_areas[*n_init];
		int r = a->init ? a->init(b) : 0;
		if (r < 0) {
			log_error("main", "%s: cannot start: %s", a->name, strerror(-r));
			return r;
		}
	}
	return 0;
}

static void main_fini_areas(struct broker *b, size_t n_init)
{
	while (n_init-- > 0)
		if (broker_areas[n_init]->fini)
			broker_areas[n_init]->fini(b);
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct broker b = {.cfg = &cfg};
	enum log_level level;
	size_t n_areas = 0;
	int r, sigfd = -1, status = EXIT_FAILURE;

	r = config_load(&cfg, argc, argv);
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
	if ((r = main_mkdir_p(cfg.runtime_dir, 0755)) < 0 ||
	    (r = main_mkdir_p(cfg.state_dir, 0700)) < 0) {
		log_error("main", "cannot create %s or %s: %s", cfg.runtime_dir, cfg.state_dir,
		          strerror(-r));
		goto free_config;
	}
	b.loop = loop_new();
	if (!b.loop)
		goto free_config;
	sigfd = main_setup_signals(&b);
	if (sigfd < 0)
		goto free_loop;
	b.audit = audit_open(cfg.state_dir, cfg.audit_max_bytes);
	if (!b.audit) {
		log_error("main", "cannot open the audit log in %s", cfg.state_dir);
		goto close_signals;
	}
	b.transport = transport_new(&b);
	if (!b.transport)
		goto close_audit;
	b.registry = registry_new(&b);
	if (!b.registry)
		goto free_transport;
	if (main_init_areas(&b, &n_areas) < 0)
		goto fini_areas;
	state_load(&b);
	if (transport_open_admin(b.transport) < 0)
		goto fini_areas;
	log_info("main", "hwbrokerd %s ready: %s board, host actions via %s, runtime %s",
	         HWB_VERSION, cfg.sim ? "simulated" : "real", cfg.host_backend, cfg.runtime_dir);
	main_notify("READY=1");
	r = loop_run(b.loop);
	status = r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	broker_flush_state(&b);

fini_areas:
	/* Sockets go first so no client reaches a half-torn-down daemon. */
	registry_free(b.registry);
	b.registry = NULL;
free_transport:
	transport_free(b.transport);
	main_fini_areas(&b, n_areas);
	if (b.registry)
		registry_free(b.registry);
close_audit:
	audit_close(b.audit);
close_signals:
	close(sigfd);
free_loop:
	loop_free(b.loop);
free_config:
	config_free(&cfg);
	return status;
}
