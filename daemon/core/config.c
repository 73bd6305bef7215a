/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Table-driven options: one row per option, used for the config file, the
 * flags and --help alike, so the three never disagree. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum opt_type { OPT_STRING, OPT_BOOL, OPT_UINT, OPT_SIZE };

struct opt {
	const char *name; /* flag without "--"; config-file key (dashes or underscores) */
	enum opt_type type;
	size_t offset;
	const char *def;
	const char *help;
};

#define OPT(n, t, field, d, h)                                                                     \
	{                                                                                          \
		n, t, offsetof(struct config, field), d, h                                         \
	}

static const struct opt config_opts[] = {
        OPT("runtime-dir", OPT_STRING, runtime_dir, "/run/hwbroker",
            "sockets: RUNTIME/admin.sock, RUNTIME/services/NAME/hwbroker.sock"),
        OPT("state-dir", OPT_STRING, state_dir, "/var/lib/hwbroker",
            "applied state (state.json) and the audit log"),
        OPT("sim", OPT_BOOL, sim, "false", "run the simulated board (optional BOARD.json follows)"),
        OPT("board", OPT_STRING, board_file, NULL, "board file for --sim (default: built-in)"),
        OPT("host", OPT_STRING, host_backend, NULL,
            "host-action backend: dbus or sim (default: sim with --sim, else dbus)"),
        OPT("log-level", OPT_STRING, log_level, "info", "error, warn, info or debug"),
        OPT("log-format", OPT_STRING, log_format, "text",
            "text (timestamped lines; journald priorities under systemd) or json"),
        OPT("admin-group", OPT_STRING, admin_group, NULL,
            "group allowed on admin.sock (mode 0660); default root only (0600)"),
        OPT("max-body", OPT_SIZE, max_body, "65536", "request body limit in bytes"),
        OPT("max-conns-per-service", OPT_UINT, max_conns_per_service, "16",
            "open connections per service socket"),
        OPT("max-conns", OPT_UINT, max_conns, "1024", "open connections in all"),
        OPT("idle-timeout", OPT_UINT, idle_timeout_s, "60",
            "seconds before an idle connection closes"),
        OPT("head-timeout", OPT_UINT, head_timeout_s, "10",
            "seconds from accept to a complete first request head"),
        OPT("i2c-timeout-ms", OPT_UINT, i2c_timeout_ms, "1000", "I2C transfer timeout"),
        OPT("uart-buffer", OPT_SIZE, uart_buffer, "65536",
            "bytes kept per port while nobody reads"),
        OPT("dbus-timeout-ms", OPT_UINT, dbus_timeout_ms, "5000", "D-Bus call timeout"),
        OPT("reboot-limit", OPT_UINT, reboot_limit, "3",
            "reboots/poweroffs per service per window"),
        OPT("reboot-window", OPT_UINT, reboot_window_s, "3600", "rate-limit window in seconds"),
        OPT("hostname-limit", OPT_UINT, hostname_limit, "10",
            "hostname changes per service per window"),
        OPT("hostname-window", OPT_UINT, hostname_window_s, "3600",
            "hostname rate-limit window in seconds"),
        OPT("unit-restart-limit", OPT_UINT, unit_restart_limit, "10",
            "unit restarts per service per window"),
        OPT("unit-restart-window", OPT_UINT, unit_restart_window_s, "600",
            "unit-restart rate-limit window in seconds"),
        OPT("event-queue", OPT_UINT, event_queue, "256", "GPIO events queued per watcher"),
        OPT("audit-max-bytes", OPT_SIZE, audit_max_bytes, "1048576",
            "audit log size before rotation"),
        OPT("audit-generations", OPT_UINT, audit_generations, "3",
            "rotated audit files kept per log"),
        OPT("audit-denials", OPT_UINT, audit_denials, "20",
            "denials recorded one by one per service per second; more are counted"),
        OPT("dev-dir", OPT_STRING, dev_dir, "/dev", "where the real backends find devices"),
};

#define N_OPTS (sizeof(config_opts) / sizeof(config_opts[0]))

static int saved_argc;
static char **saved_argv;

static const struct opt *config_find(const char *name, size_t len)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		const char *o = config_opts[i].name;
		if (strlen(o) != len)
			continue;
		size_t j;
		for (j = 0; j < len; j++) {
			char c = name[j] == '_' ? '-' : name[j];
			if (c != o[j])
				break;
		}
		if (j == len)
			return &config_opts[i];
	}
	return NULL;
}

static int config_set(struct config *cfg, const struct opt *o, const char *value)
{
	void *field = (char *)cfg + o->offset;
	char *end;
	unsigned long long v;

	switch (o->type) {
	case OPT_STRING: {
		char **s = field;
		char *copy = value ? strdup(value) : NULL;
		if (value && !copy)
			return -ENOMEM;
		free(*s);
		*s = copy;
		return 0;
	}
	case OPT_BOOL:
		if (!strcasecmp(value, "true") || !strcasecmp(value, "yes") ||
		    !strcmp(value, "1") || !strcasecmp(value, "on"))
			*(bool *)field = true;
		else if (!strcasecmp(value, "false") || !strcasecmp(value, "no") ||
		         !strcmp(value, "0") || !strcasecmp(value, "off"))
			*(bool *)field = false;
		else
			return -EINVAL;
		return 0;
	case OPT_UINT:
	case OPT_SIZE:
		if (!value || !*value || *value == '-')
			return -EINVAL;
		errno = 0;
		v = strtoull(value, &end, 0);
		if (errno || *end)
			return -EINVAL;
		if (o->type == OPT_UINT) {
			if (v > UINT_MAX)
				return -ERANGE;
			*(unsigned *)field = (unsigned)v;
		} else {
			*(size_t *)field = (size_t)v;
		}
		return 0;
	}
	return -EINVAL;
}

static int config_defaults(struct config *cfg)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &config_opts[i];
		int r;
		if (!o->def && o->type == OPT_STRING) {
			config_set(cfg, o, NULL);
			continue;
		}
		r = config_set(cfg, o, o->def);
		if (r < 0)
			return r;
	}
	return 0;
}

static char *config_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	if (e - s >= 2 && ((s[0] == '"' && e[-1] == '"') || (s[0] == '\'' && e[-1] == '\''))) {
		e[-1] = '\0';
		s++;
	}
	return s;
}

static int config_read_file(struct config *cfg, const char *path)
{
	char line[1024];
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");
	int r = 0;

	if (!f) {
		fprintf(stderr, "hwbrokerd: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		char *key, *value, *eq;
		const struct opt *o;
		lineno++;
		key = config_trim(line);
		if (!*key || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			fprintf(stderr, "hwbrokerd: %s:%u: expected key = value\n", path, lineno);
			r = -EINVAL;
			break;
		}
		*eq = '\0';
		value = config_trim(eq + 1);
		key = config_trim(key);
		o = config_find(key, strlen(key));
		if (!o) {
			fprintf(stderr, "hwbrokerd: %s:%u: unknown option '%s'\n", path, lineno,
			        key);
			r = -EINVAL;
			break;
		}
		if (config_set(cfg, o, value) < 0) {
			fprintf(stderr, "hwbrokerd: %s:%u: bad value for %s: '%s'\n", path, lineno,
			        key, value);
			r = -EINVAL;
			break;
		}
	}
	fclose(f);
	return r;
}

void config_print_help(const char *argv0)
{
	printf("Usage: %s [OPTIONS]\n\nhwbrokerd: hardware-access broker for containers.\n\n"
	       "  --config FILE                 read options from FILE (key = value lines)\n",
	       argv0);
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &config_opts[i];
		char flag[64];
		snprintf(flag, sizeof(flag), "--%s%s", o->name,
		         o->type == OPT_BOOL     ? ""
		         : o->type == OPT_STRING ? " STR"
		                                 : " N");
		printf("  %-29s %s%s%s%s\n", flag, o->help, o->def ? " [" : "",
		       o->def ? o->def : "", o->def ? "]" : "");
	}
	printf("  --routes                      list the HTTP routes and exit\n"
	       "  --help, --version\n\nEvery option may also be set in the config file "
	       "as 'name = value'; flags win.\nSee hwbrokerd(8).\n");
}

/* Applies argv; when only_file is set, just finds --config. */
static int config_parse_args(struct config *cfg, int argc, char **argv, bool only_config)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *value = NULL, *eq;
		const struct opt *o;
		size_t len;

		if (strncmp(arg, "--", 2) != 0) {
			fprintf(stderr, "hwbrokerd: unexpected argument '%s' (see --help)\n", arg);
			return -EINVAL;
		}
		arg += 2;
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		if (len == 4 && !strncmp(arg, "help", 4)) {
			if (only_config)
				continue;
			config_print_help(argv[0]);
			return 1;
		}
		if (len == 7 && !strncmp(arg, "version", 7)) {
			if (only_config)
				continue;
			printf("hwbrokerd %s\n", HWB_VERSION);
			return 1;
		}
		if (len == 6 && !strncmp(arg, "routes", 6)) {
			if (only_config)
				continue;
			return CONFIG_LIST_ROUTES;
		}
		if (len == 6 && !strncmp(arg, "config", 6)) {
			value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!value) {
				fprintf(stderr, "hwbrokerd: --config needs a file\n");
				return -EINVAL;
			}
			if (only_config) {
				free(cfg->config_file);
				cfg->config_file = strdup(value);
			}
			continue;
		}
		o = config_find(arg, len);
		if (!o) {
			fprintf(stderr, "hwbrokerd: unknown option '--%.*s' (see --help)\n",
			        (int)len, arg);
			return -EINVAL;
		}
		if (o->type == OPT_BOOL) {
			value = eq ? eq + 1 : "true";
			/* --sim BOARD.json: an optional board file follows. */
			if (!eq && !strcmp(o->name, "sim") && i + 1 < argc &&
			    strncmp(argv[i + 1], "--", 2) != 0) {
				if (!only_config &&
				    config_set(cfg, config_find("board", 5), argv[i + 1]) < 0)
					return -ENOMEM;
				i++;
			}
		} else {
			value = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
			if (!value) {
				fprintf(stderr, "hwbrokerd: --%s needs a value\n", o->name);
				return -EINVAL;
			}
		}
		if (only_config)
			continue;
		if (config_set(cfg, o, value) < 0) {
			fprintf(stderr, "hwbrokerd: bad value for --%s: '%s'\n", o->name, value);
			return -EINVAL;
		}
	}
	return 0;
}

/* Values that would break the daemon are refused at start and on reload,
 * each with what it may be. */
static int config_check_ranges(const struct config *cfg)
{
	static const struct {
		const char *name;
		size_t offset;
		unsigned long long min, max;
	} ranges[] = {
	        {"event-queue", offsetof(struct config, event_queue), 1, 65536},
	        {"i2c-timeout-ms", offsetof(struct config, i2c_timeout_ms), 1, 600000},
	        {"dbus-timeout-ms", offsetof(struct config, dbus_timeout_ms), 1, 600000},
	        {"idle-timeout", offsetof(struct config, idle_timeout_s), 1, 86400},
	        {"head-timeout", offsetof(struct config, head_timeout_s), 1, 3600},
	        {"max-conns", offsetof(struct config, max_conns), 1, 65536},
	        {"max-conns-per-service", offsetof(struct config, max_conns_per_service), 1, 65536},
	        {"reboot-window", offsetof(struct config, reboot_window_s), 1, 604800},
	        {"hostname-window", offsetof(struct config, hostname_window_s), 1, 604800},
	        {"unit-restart-window", offsetof(struct config, unit_restart_window_s), 1, 604800},
	        {"reboot-limit", offsetof(struct config, reboot_limit), 0, 64},
	        {"hostname-limit", offsetof(struct config, hostname_limit), 0, 64},
	        {"unit-restart-limit", offsetof(struct config, unit_restart_limit), 0, 64},
	        {"audit-generations", offsetof(struct config, audit_generations), 0, 16},
	        {"audit-denials", offsetof(struct config, audit_denials), 1, 100000},
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		unsigned v = *(const unsigned *)((const char *)cfg + ranges[i].offset);
		if (v < ranges[i].min || v > ranges[i].max) {
			fprintf(stderr, "hwbrokerd: --%s must be between %llu and %llu (got %u)\n",
			        ranges[i].name, ranges[i].min, ranges[i].max, v);
			return -EINVAL;
		}
	}
	if (cfg->uart_buffer < 256 || cfg->uart_buffer > (64u << 20)) {
		fprintf(stderr, "hwbrokerd: --uart-buffer must be between 256 bytes and 64 MiB\n");
		return -EINVAL;
	}
	if (cfg->audit_max_bytes < 4096) {
		fprintf(stderr, "hwbrokerd: --audit-max-bytes must be at least 4096\n");
		return -EINVAL;
	}
	return 0;
}

static int config_validate(struct config *cfg)
{
	if (cfg->host_backend && strcmp(cfg->host_backend, "dbus") &&
	    strcmp(cfg->host_backend, "sim")) {
		fprintf(stderr, "hwbrokerd: --host must be dbus or sim\n");
		return -EINVAL;
	}
	if (!cfg->host_backend) {
		cfg->host_backend = strdup(cfg->sim ? "sim" : "dbus");
		if (!cfg->host_backend)
			return -ENOMEM;
	}
	if (cfg->board_file)
		cfg->sim = true;
	if (strcmp(cfg->log_format, "text") && strcmp(cfg->log_format, "json")) {
		fprintf(stderr, "hwbrokerd: --log-format must be text or json\n");
		return -EINVAL;
	}
	if (cfg->max_body < 1024 || cfg->max_body > 16u << 20) {
		fprintf(stderr, "hwbrokerd: --max-body must be between 1024 and 16 MiB\n");
		return -EINVAL;
	}
	if (!cfg->max_conns_per_service || !cfg->max_conns || !cfg->idle_timeout_s) {
		fprintf(stderr, "hwbrokerd: connection limits and the idle timeout must be > 0\n");
		return -EINVAL;
	}
	if (config_check_ranges(cfg) < 0)
		return -EINVAL;
	if (!cfg->runtime_dir[0] || cfg->runtime_dir[0] != '/' || strlen(cfg->runtime_dir) > 180) {
		fprintf(stderr, "hwbrokerd: --runtime-dir must be an absolute path of at most 180 "
		                "characters (unix socket paths are short)\n");
		return -EINVAL;
	}
	return 0;
}

static int config_build(struct config *cfg, int argc, char **argv)
{
	int r = config_defaults(cfg);

	if (r < 0)
		return r;
	r = config_parse_args(cfg, argc, argv, true);
	if (r)
		return r;
	if (cfg->config_file) {
		r = config_read_file(cfg, cfg->config_file);
		if (r < 0)
			return r;
	}
	r = config_parse_args(cfg, argc, argv, false);
	if (r)
		return r;
	return config_validate(cfg);
}

int config_load(struct config *cfg, int argc, char **argv)
{
	int r;

	memset(cfg, 0, sizeof(*cfg));
	saved_argc = argc;
	saved_argv = argv;
	r = config_build(cfg, argc, argv);
	if (r)
		config_free(cfg);
	return r;
}

int config_reload(struct config *cfg)
{
	struct config fresh = {0};
	int r = config_build(&fresh, saved_argc, saved_argv);

	if (r) {
		config_free(&fresh);
		return r < 0 ? r : -EINVAL;
	}
	/* Sockets, state and backends are set up once: changing them needs a restart. */
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &config_opts[i];
		if (strcmp(o->name, "runtime-dir") && strcmp(o->name, "state-dir") &&
		    strcmp(o->name, "sim") && strcmp(o->name, "board") && strcmp(o->name, "host") &&
		    strcmp(o->name, "dev-dir"))
			continue;
		void *from = (char *)cfg + o->offset, *to = (char *)&fresh + o->offset;
		if (o->type == OPT_STRING) {
			char *tmp = *(char **)to;
			*(char **)to = *(char **)from;
			*(char **)from = tmp;
		} else {
			memcpy(to, from, o->type == OPT_BOOL ? sizeof(bool) : sizeof(unsigned));
		}
	}
	config_free(cfg);
	*cfg = fresh;
	return 0;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (config_opts[i].type == OPT_STRING)
			free(*(char **)((char *)cfg + config_opts[i].offset));
	free(cfg->config_file);
	memset(cfg, 0, sizeof(*cfg));
}
