/* PLACEHOLDER: the uart area replaces this file. */
#include <stdio.h>

#include "cli.h"

static int cmd_uart_run(struct cli *cli, int argc, char **argv)
{
	fprintf(stderr, "%s: uart: not implemented yet\n", cli->prog);
	return CLI_FAIL;
}

const struct cli_command cli_cmd_uart = {"uart", "uart commands", cmd_uart_run};
