/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Daemon configuration. Every option exists as a config-file key
 * ("key = value" lines, '#' comments) and as the flag --key VALUE; the table
 * in config.c is the single list (docs/hwbrokerd.md documents it). Flags win
 * over the file. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct config {
	char *runtime_dir;              /* /run/hwbroker */
	char *state_dir;                /* /var/lib/hwbroker */
	char *config_file;              /* --config */
	bool sim;                       /* --sim: simulated board */
	char *board_file;               /* --sim BOARD.json */
	char *host_backend;             /* "dbus" | "sim"; default: sim with --sim, else dbus */
	char *log_level;                /* error|warn|info|debug */
	char *log_format;               /* text|json */
	char *admin_group;              /* admin.sock group (mode 0660) or NULL (0600 root) */
	size_t max_body;                /* bytes, 65536 */
	unsigned max_conns_per_service; /* 16 */
	unsigned max_conns;             /* total, 1024 */
	unsigned idle_timeout_s;        /* 60 */
	unsigned head_timeout_s;        /* 10: accept to a complete first request head */
	unsigned i2c_timeout_ms;        /* 1000 */
	size_t uart_buffer;             /* 65536: bytes kept per port while nobody reads */
	unsigned dbus_timeout_ms;       /* 5000 */
	unsigned reboot_limit;          /* reboots/poweroffs per service per window: 3 */
	unsigned reboot_window_s;       /* 3600 */
	unsigned hostname_limit;        /* hostname changes per service per window: 10 */
	unsigned hostname_window_s;     /* 3600 */
	unsigned unit_restart_limit;    /* unit restarts per service per window: 10 */
	unsigned unit_restart_window_s; /* 600 */
	unsigned event_queue;           /* gpio events queued per watcher: 256 */
	size_t audit_max_bytes;         /* 1 MiB, then rotate */
	unsigned audit_generations;     /* rotated files kept per log: 3 */
	unsigned audit_denials;         /* denials written per service per second: 20 */
	char *dev_dir;                  /* /dev: where real backends look for devices */
};

#define CONFIG_LIST_ROUTES 2

/* Defaults, then --config FILE (if any), then flags. On a usage error prints
 * to stderr and returns -EINVAL; --help/--version print and return 1;
 * --routes returns CONFIG_LIST_ROUTES (the caller prints them). */
int config_load(struct config *cfg, int argc, char **argv);
/* SIGHUP: re-read the file; flags given at start still win. 0 or -errno. */
int config_reload(struct config *cfg);
void config_free(struct config *cfg);
void config_print_help(const char *argv0);
