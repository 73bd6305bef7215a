/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hwbroker: the command-line client. Global options, then a command from the
 * table; each command lives in its own cmd_*.c and describes its
 * subcommands in a table, from which every help and usage text is made.
 * Exit codes: docs/cli.md. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hwbroker.h"

#define CLI_ADMIN_SOCKET "/run/hwbroker/admin.sock"
#define CLI_SYNOPSIS                                                                               \
	"hwbroker [--socket PATH] [--admin] [--json] [--broker-timeout MS] COMMAND [ARGS...]"

static const struct cli_command *const cli_commands[] = {
        &cli_cmd_whoami, &cli_cmd_gpio,  &cli_cmd_i2c,    &cli_cmd_uart,
        &cli_cmd_host,   &cli_cmd_admin, &cli_cmd_policy, NULL,
};

#define CLI_HELP_WIDTH  100
#define CLI_HELP_COLUMN 46

/* text from column col on, wrapped at CLI_HELP_WIDTH onto lines indented to col. */
static void cli_print_wrapped(FILE *out, const char *text, int col)
{
	int at = col;

	while (*text) {
		size_t word = strcspn(text, " ");
		if (at > col && at + 1 + (int)word > CLI_HELP_WIDTH) {
			fprintf(out, "\n%*s", col, "");
			at = col;
		}
		at += fprintf(out, "%s%.*s", at > col ? " " : "", (int)word, text);
		text += word;
		text += strspn(text, " ");
	}
	fputc('\n', out);
}

/* "  CMD SUB SYNOPSIS      summary", the summary on the next line when the
 * usage is long. */
static void cli_print_entry(FILE *out, const char *cmd, const struct cli_sub *s)
{
	char usage[256];
	int n = snprintf(usage, sizeof(usage), "%s%s%s%s%s", cmd, s->name ? " " : "",
	                 s->name ? s->name : "", *s->synopsis ? " " : "", s->synopsis);

	if (n <= CLI_HELP_COLUMN - 4)
		fprintf(out, "  %-*s", CLI_HELP_COLUMN - 2, usage);
	else
		fprintf(out, "  %s\n%*s", usage, CLI_HELP_COLUMN, "");
	cli_print_wrapped(out, s->summary, CLI_HELP_COLUMN);
}

static void cli_print_usage(FILE *out)
{
	fprintf(out, "Usage: " CLI_SYNOPSIS "\n\n"
	             "Talks to hwbrokerd over the service socket ($HWBROKER_SOCKET, else\n"
	             "/run/hwbroker/hwbroker.sock) or, with --admin, the admin socket.\n\n"
	             "Commands:\n");
	for (size_t i = 0; cli_commands[i]; i++) {
		const struct cli_sub *s = cli_commands[i]->subs;
		if (!s->name)
			cli_print_entry(out, cli_commands[i]->name, s);
		for (; s->name; s++)
			cli_print_entry(out, cli_commands[i]->name, s);
	}
	fprintf(out,
	        "\nOptions (before or after the command):\n"
	        "  --socket PATH  the socket to use\n"
	        "  --admin        use the admin socket ($HWBROKER_ADMIN_SOCKET, else %s)\n"
	        "  --json         print replies as JSON\n"
	        "  --broker-timeout MS\n"
	        "                 give up on a stalled broker after MS milliseconds (default %d,\n"
	        "                 or $HWBROKER_TIMEOUT_MS)\n"
	        "  --help         this text; COMMAND --help and COMMAND SUB --help for one "
	        "command\n"
	        "  --version      the version\n"
	        "\nNumbers are decimal or 0x hex. A file argument may be - for standard input.\n"
	        "Exit status: 0 ok, 1 failure, 2 usage, 3 refused by policy, 4 conflict or busy.\n",
	        CLI_ADMIN_SOCKET, HWB_DEFAULT_TIMEOUT_MS);
}

const struct cli_sub *cli_find_sub(const struct cli_command *cmd, const char *name)
{
	for (const struct cli_sub *s = cmd->subs; s->name; s++)
		if (name && !strcmp(s->name, name))
			return s;
	return NULL;
}

void cli_print_command_help(const struct cli_command *cmd, const char *sub, FILE *out)
{
	const struct cli_sub *one = sub ? cli_find_sub(cmd, sub) : NULL;

	if (one || !cmd->subs->name) {
		const struct cli_sub *s = one ? one : cmd->subs;
		/* The summary as a sentence. */
		fprintf(out, "Usage: hwbroker %s%s%s%s%s\n\n%c%s.\n", cmd->name, one ? " " : "",
		        one ? one->name : "", *s->synopsis ? " " : "", s->synopsis,
		        toupper((unsigned char)s->summary[0]), s->summary + 1);
	} else {
		fprintf(out, "Usage: hwbroker %s COMMAND [ARGS...]\n\n", cmd->name);
		for (const struct cli_sub *s = cmd->subs; s->name; s++)
			cli_print_entry(out, cmd->name, s);
	}
	if (cmd->details)
		fprintf(out, "\n%s", cmd->details);
}

int cli_bad(const struct cli_command *cmd, const char *sub, const char *fmt, ...)
{
	const struct cli_sub *s = sub ? cli_find_sub(cmd, sub) : NULL;
	va_list ap;

	fprintf(stderr, "hwbroker: %s%s%s: ", cmd->name, s ? " " : "", s ? s->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (s) {
		fprintf(stderr, "usage: hwbroker %s %s%s%s\n", cmd->name, s->name,
		        *s->synopsis ? " " : "", s->synopsis);
	} else if (!cmd->subs->name) {
		fprintf(stderr, "usage: hwbroker %s%s%s\n", cmd->name,
		        *cmd->subs->synopsis ? " " : "", cmd->subs->synopsis);
	} else {
		fprintf(stderr, "usage: hwbroker %s ", cmd->name);
		for (const struct cli_sub *x = cmd->subs; x->name; x++)
			fprintf(stderr, "%s%s", x == cmd->subs ? "" : "|", x->name);
		fprintf(stderr, " ... (hwbroker %s --help)\n", cmd->name);
	}
	return CLI_USAGE;
}

struct hwb *cli_connect(struct cli *cli)
{
	const char *path = cli->socket;
	struct hwb *h;

	if (!path && cli->admin) {
		path = getenv("HWBROKER_ADMIN_SOCKET");
		if (!path || !*path)
			path = CLI_ADMIN_SOCKET;
	}
	h = hwb_connect(path);
	if (!h)
		fprintf(stderr, "%s: cannot connect to %s: %s\n", cli->prog,
		        path ? path : (getenv("HWBROKER_SOCKET") ?: "/run/hwbroker/hwbroker.sock"),
		        errno == ETIMEDOUT ? "no answer in time (is the broker stalled?)"
		                           : strerror(errno));
	return h;
}

int cli_exit_code(int err)
{
	switch (err) {
	case 0:
		return CLI_OK;
	case -EACCES:
	case -EPERM:
		return CLI_DENIED;
	case -EBUSY:
	case -EAGAIN:
		return CLI_CONFLICT;
	default:
		return CLI_FAIL;
	}
}

int cli_fail(struct cli *cli, struct hwb *h, int err, const char *what)
{
	const char *msg = h ? hwb_error_message(h) : "";
	const char *hint = h ? hwb_error_hint(h) : "";

	fprintf(stderr, "%s: %s: %s", cli->prog, what, *msg ? msg : strerror(-err));
	if (*hint)
		fprintf(stderr, " (hint: %s)", hint);
	fputc('\n', stderr);
	return cli_exit_code(err);
}

int cli_parse_num(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 0);
	/* strtoul's base 0 reads "010" as octal; i2c-tools do too, so keep it. */
	return *end || errno || *out < min || *out > max ? -1 : 0;
}

int cli_take_flag(int *argc, char **argv, const char *flag)
{
	int n = 1, found = 0;

	for (int i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], flag))
			found++;
		else
			argv[n++] = argv[i];
	}
	*argc = n;
	argv[n] = NULL;
	return found;
}

int cli_take_option(int *argc, char **argv, const char *opt, const char **value)
{
	size_t len = strlen(opt);

	for (int i = 1; i < *argc; i++) {
		int drop;
		if (!strcmp(argv[i], opt)) {
			if (i + 1 >= *argc)
				return -1;
			*value = argv[i + 1];
			drop = 2;
		} else if (opt[0] == '-' && opt[1] == '-' && !strncmp(argv[i], opt, len) &&
		           argv[i][len] == '=') {
			*value = argv[i] + len + 1;
			drop = 1;
		} else {
			continue;
		}
		memmove(argv + i, argv + i + drop, (size_t)(*argc - i - drop) * sizeof(*argv));
		*argc -= drop;
		argv[*argc] = NULL;
		return 1;
	}
	return 0;
}

int cli_escape(char *buf, size_t len, const char *s)
{
	size_t used = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (used + 4 >= len)
			return -ENAMETOOLONG;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p))
			buf[used++] = (char)*p;
		else
			used += (size_t)snprintf(buf + used, len - used, "%%%02X", *p);
	}
	buf[used] = '\0';
	return 0;
}

void cli_print_json(const json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	if (text)
		puts(text);
	free(text);
}

int cli_call(struct cli *cli, struct hwb *h, const char *method, const char *path, const char *body,
             json_t **reply)
{
	char *text = NULL, what[300];
	int r = hwb_request(h, method, path, body, &text);

	if (reply)
		*reply = NULL;
	if (r < 0) {
		snprintf(what, sizeof(what), "%s %s", method, path);
		return cli_fail(cli, h, r, what);
	}
	if (reply && text && *text)
		*reply = json_loads(text, 0, NULL);
	free(text);
	return CLI_OK;
}

static int cli_main_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "hwbroker: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: " CLI_SYNOPSIS " (hwbroker --help lists the commands)\n");
	return CLI_USAGE;
}

static int cli_set_timeout(const char *ms)
{
	unsigned long v;

	if (cli_parse_num(ms, 1, INT_MAX, &v) < 0)
		return cli_main_usage("bad --broker-timeout '%s' (milliseconds, 1 or more)", ms);
	/* The library takes its default from there, for the connect too. */
	setenv("HWBROKER_TIMEOUT_MS", ms, 1);
	return CLI_OK;
}

int main(int argc, char **argv)
{
	struct cli cli = {.prog = "hwbroker"};
	int i, r;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			cli.socket = argv[++i];
		else if (!strncmp(argv[i], "--socket=", 9))
			cli.socket = argv[i] + 9;
		else if (!strcmp(argv[i], "--admin"))
			cli.admin = true;
		else if (!strcmp(argv[i], "--json"))
			cli.json = true;
		else if (!strcmp(argv[i], "--broker-timeout") && i + 1 < argc) {
			if ((r = cli_set_timeout(argv[++i])))
				return r;
		} else if (!strncmp(argv[i], "--broker-timeout=", 17)) {
			if ((r = cli_set_timeout(argv[i] + 17)))
				return r;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cli_print_usage(stdout);
			return CLI_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("hwbroker %s\n", HWB_VERSION_STRING);
			return CLI_OK;
		} else {
			return cli_main_usage("unknown option '%s'", argv[i]);
		}
	}
	if (i == argc)
		return cli_main_usage("%s", "no command given");
	for (size_t c = 0; cli_commands[c]; c++) {
		const struct cli_command *cmd = cli_commands[c];
		bool help = false;
		if (strcmp(cmd->name, argv[i]))
			continue;
		/* Options may also follow the command: "hwbroker gpio get --json ..." */
		int n = 0;
		for (int k = i; k < argc; k++) {
			if (!strcmp(argv[k], "--json"))
				cli.json = true;
			else if (!strcmp(argv[k], "--admin"))
				cli.admin = true;
			else if (!strcmp(argv[k], "--help") || !strcmp(argv[k], "-h"))
				help = true;
			else if (!strcmp(argv[k], "--socket") && k + 1 < argc)
				cli.socket = argv[++k];
			else if (!strncmp(argv[k], "--socket=", 9))
				cli.socket = argv[k] + 9;
			else if (!strcmp(argv[k], "--broker-timeout") && k + 1 < argc) {
				if ((r = cli_set_timeout(argv[++k])))
					return r;
			} else if (!strncmp(argv[k], "--broker-timeout=", 17)) {
				if ((r = cli_set_timeout(argv[k] + 17)))
					return r;
			} else
				argv[i + n++] = argv[k];
		}
		argv[i + n] = NULL;
		if (help) {
			cli_print_command_help(cmd, n > 1 ? argv[i + 1] : NULL, stdout);
			return CLI_OK;
		}
		if (cmd->subs->name && n < 2)
			return cli_bad(cmd, NULL, "no command given");
		if (cmd->subs->name && !cli_find_sub(cmd, argv[i + 1]))
			return cli_bad(cmd, NULL, "unknown command '%s'", argv[i + 1]);
		return cmd->run(&cli, n, argv + i);
	}
	return cli_main_usage("unknown command '%s'", argv[i]);
}
