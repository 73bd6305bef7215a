/* hwbroker: the command-line client. Global options, then a command from the
 * table; each command lives in its own cmd_*.c. Exit codes: docs/cli.md. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hwbroker.h"

#define CLI_ADMIN_SOCKET "/run/hwbroker/admin.sock"

static const struct cli_command *const cli_commands[] = {
        &cli_cmd_whoami, &cli_cmd_gpio,  &cli_cmd_i2c,    &cli_cmd_uart,
        &cli_cmd_host,   &cli_cmd_admin, &cli_cmd_policy, NULL,
};

static void cli_print_usage(FILE *out)
{
	fprintf(out, "Usage: hwbroker [--socket PATH] [--admin] [--json] COMMAND [ARGS...]\n\n"
	             "Talks to hwbrokerd over the service socket ($HWBROKER_SOCKET, else\n"
	             "/run/hwbroker/hwbroker.sock) or, with --admin, the admin socket.\n\n"
	             "Commands:\n");
	for (size_t i = 0; cli_commands[i]; i++)
		fprintf(out, "  %-8s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
	fprintf(out,
	        "\nOptions:\n"
	        "  --socket PATH  the socket to use\n"
	        "  --admin        use the admin socket ($HWBROKER_ADMIN_SOCKET, else %s)\n"
	        "  --json         print replies as JSON\n"
	        "  --help         this text; COMMAND --help for a command's\n"
	        "\nExit status: 0 ok, 1 failure, 2 usage, 3 refused by policy, 4 conflict or "
	        "busy.\n",
	        CLI_ADMIN_SOCKET);
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
		        strerror(errno));
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

int cli_usage(const char *text)
{
	fputs(text, stderr);
	return CLI_USAGE;
}

bool cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
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

int main(int argc, char **argv)
{
	struct cli cli = {.prog = "hwbroker"};
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			cli.socket = argv[++i];
		else if (!strncmp(argv[i], "--socket=", 9))
			cli.socket = argv[i] + 9;
		else if (!strcmp(argv[i], "--admin"))
			cli.admin = true;
		else if (!strcmp(argv[i], "--json"))
			cli.json = true;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			cli_print_usage(stdout);
			return CLI_OK;
		} else if (!strcmp(argv[i], "--version")) {
			printf("hwbroker %s\n", HWB_VERSION);
			return CLI_OK;
		} else {
			fprintf(stderr, "%s: unknown option %s\n\n", cli.prog, argv[i]);
			cli_print_usage(stderr);
			return CLI_USAGE;
		}
	}
	if (i == argc) {
		cli_print_usage(stderr);
		return CLI_USAGE;
	}
	for (size_t c = 0; cli_commands[c]; c++) {
		if (strcmp(cli_commands[c]->name, argv[i]))
			continue;
		/* Options may also follow the command: "hwbroker gpio get --json ..." */
		int n = 0;
		for (int k = i; k < argc; k++) {
			if (!strcmp(argv[k], "--json"))
				cli.json = true;
			else if (!strcmp(argv[k], "--admin"))
				cli.admin = true;
			else if (!strcmp(argv[k], "--socket") && k + 1 < argc)
				cli.socket = argv[++k];
			else
				argv[i + n++] = argv[k];
		}
		return cli_commands[c]->run(&cli, n, argv + i);
	}
	fprintf(stderr, "%s: unknown command '%s'\n\n", cli.prog, argv[i]);
	cli_print_usage(stderr);
	return CLI_USAGE;
}
