/* PLACEHOLDER: the host area replaces this file. */
#include <stdio.h>

#include "cli.h"

static int cmd_host_run(struct cli *cli, int argc, char **argv)
{
	fprintf(stderr, "%s: host: not implemented yet\n", cli->prog);
	return CLI_FAIL;
}

const struct cli_command cli_cmd_host = {"host", "host commands", cmd_host_run};
