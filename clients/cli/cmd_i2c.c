/* PLACEHOLDER: the i2c area replaces this file. */
#include <stdio.h>

#include "cli.h"

static int cmd_i2c_run(struct cli *cli, int argc, char **argv)
{
	fprintf(stderr, "%s: i2c: not implemented yet\n", cli->prog);
	return CLI_FAIL;
}

const struct cli_command cli_cmd_i2c = {"i2c", "i2c commands", cmd_i2c_run};
