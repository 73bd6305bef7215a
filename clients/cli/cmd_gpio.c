/* PLACEHOLDER: the gpio area replaces this file. */
#include <stdio.h>

#include "cli.h"

static int cmd_gpio_run(struct cli *cli, int argc, char **argv)
{
	fprintf(stderr, "%s: gpio: not implemented yet\n", cli->prog);
	return CLI_FAIL;
}

const struct cli_command cli_cmd_gpio = {"gpio", "gpio commands", cmd_gpio_run};
