/* PLACEHOLDER: the policy area replaces this file. */
#include <stdio.h>

#include "cli.h"

static int cmd_policy_run(struct cli *cli, int argc, char **argv)
{
	fprintf(stderr, "%s: policy: not implemented yet\n", cli->prog);
	return CLI_FAIL;
}

const struct cli_command cli_cmd_policy = {"policy", "policy commands", cmd_policy_run};
