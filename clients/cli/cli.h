/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hwbroker CLI internals: global options, the command tables and the helpers
 * every command shares (usage errors, number parsing, files, JSON calls). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct hwb;

/* Documented exit codes (docs/cli.md). */
enum cli_exit { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_DENIED = 3, CLI_CONFLICT = 4 };

struct cli {
	const char *prog;   /* "hwbroker" */
	const char *socket; /* --socket PATH, or NULL */
	bool admin;         /* --admin: talk to the admin socket */
	bool json;          /* --json: raw JSON out */
};

/* One subcommand ("i2c get"): its argument synopsis and what it does. */
struct cli_sub {
	const char *name;
	const char *synopsis; /* after "hwbroker CMD SUB ", may be "" */
	const char *summary;
};

struct cli_command {
	const char *name; /* "gpio" */
	const char *summary;
	/* Subcommands, ended by {NULL}; a command without any (whoami) has one
	 * entry named NULL whose synopsis and summary describe the command. */
	const struct cli_sub *subs;
	const char *details; /* more help text after the list, or NULL */
	/* argv[0] is the command name; --help never reaches it (main.c answers). */
	int (*run)(struct cli *cli, int argc, char **argv);
};

extern const struct cli_command cli_cmd_whoami, cli_cmd_gpio, cli_cmd_i2c, cli_cmd_uart,
        cli_cmd_host, cli_cmd_admin, cli_cmd_policy;

/* Connects as --socket/--admin say; prints the reason and returns NULL on failure. */
struct hwb *cli_connect(struct cli *cli);
/* Maps a library errno to the exit code: -EACCES 3, -EBUSY 4, -EBADMSG/-EINVAL... 1. */
int cli_exit_code(int err);
/* Prints "hwbroker: WHAT: message (hint: ...)" from h's last error (h may be NULL)
 * to stderr and returns cli_exit_code(err). */
int cli_fail(struct cli *cli, struct hwb *h, int err, const char *what);
/* A usage error in "CMD SUB" (sub NULL: in the command itself): prints
 * "hwbroker: CMD SUB: <message>" and the one-line usage of that subcommand
 * (or the command's list of subcommands) to stderr; returns CLI_USAGE. */
int cli_bad(const struct cli_command *cmd, const char *sub, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* The usage lines of a command (all subcommands, or just sub) to out. */
void cli_print_command_help(const struct cli_command *cmd, const char *sub, FILE *out);
/* Finds a subcommand by name, or NULL. */
const struct cli_sub *cli_find_sub(const struct cli_command *cmd, const char *name);

/* Parses a decimal or 0x hex number in [min, max]. 0 or -1. */
int cli_parse_num(const char *s, unsigned long min, unsigned long max, unsigned long *out);
/* Removes every argv entry equal to flag (after argv[0]); returns how many there were. */
int cli_take_flag(int *argc, char **argv, const char *flag);
/* Removes "OPT VALUE" (after argv[0]): 1 and *value, 0 if absent, -1 if VALUE is missing. */
int cli_take_option(int *argc, char **argv, const char *opt, const char **value);

/* Reads a whole file, or standard input for "-", up to max bytes. Returns 0
 * and *buf (malloc'd, NUL-terminated) / *len, or -errno (-EFBIG past max). */
int cli_read_file(const char *path, size_t max, char **buf, size_t *len);
/* A compose file (YAML, or JSON; "-" is standard input) as {"services":{...}}.
 * 0 and *out (caller json_decref's), or -errno with "FILE:LINE:COL: message" in err. */
struct json_t;
int cli_load_compose(const char *path, struct json_t **out, char *err, size_t errlen);

/* Percent-escapes s for one path segment into buf. 0 or -ENAMETOOLONG. */
int cli_escape(char *buf, size_t len, const char *s);
/* Performs a request with an optional JSON body; on success prints nothing
 * and returns 0 with *reply (caller json_decref's; may be NULL); on failure
 * prints the error and returns the exit code. */
int cli_call(struct cli *cli, struct hwb *h, const char *method, const char *path, const char *body,
             struct json_t **reply);
/* Prints a JSON value compactly on one line. */
void cli_print_json(const struct json_t *j);
