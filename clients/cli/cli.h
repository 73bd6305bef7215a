/* hwbroker CLI internals: global options and the subcommand table. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct hwb;

/* Documented exit codes (docs/cli.md). */
enum cli_exit { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_DENIED = 3, CLI_CONFLICT = 4 };

struct cli {
	const char *prog;   /* "hwbroker" */
	const char *socket; /* --socket PATH, or NULL */
	bool admin;         /* --admin: talk to the admin socket */
	bool json;          /* --json: raw JSON out */
};

struct cli_command {
	const char *name; /* "gpio" */
	const char *summary;
	/* argv[0] is the command name; "--help" anywhere prints the command's usage. */
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
/* Prints usage text to stderr and returns CLI_USAGE. */
int cli_usage(const char *text);
/* True if argv contains --help or -h. */
bool cli_wants_help(int argc, char **argv);
/* Percent-escapes s for one path segment into buf. 0 or -ENAMETOOLONG. */
int cli_escape(char *buf, size_t len, const char *s);
/* Performs a request with an optional JSON body; on success prints nothing
 * and returns 0 with *reply (caller json_decref's; may be NULL); on failure
 * prints the error and returns the exit code. */
struct json_t;
int cli_call(struct cli *cli, struct hwb *h, const char *method, const char *path, const char *body,
             struct json_t **reply);
/* Prints a JSON value compactly on one line. */
void cli_print_json(const struct json_t *j);
