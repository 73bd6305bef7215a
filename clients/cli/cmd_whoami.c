/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hwbroker whoami: the service this socket belongs to. */
#include <jansson.h>
#include <stdio.h>

#include "cli.h"
#include "hwbroker.h"

static const struct cli_sub whoami_subs[] = {
        {NULL, "", "the service this socket belongs to (--json: its grants and peer credentials)"},
};

static int whoami_run(struct cli *cli, int argc, char **argv)
{
	json_t *reply = NULL;
	struct hwb *h;
	int r;

	if (argc != 1)
		return cli_bad(&cli_cmd_whoami, NULL, "unexpected argument '%s'", argv[1]);
	h = cli_connect(cli);
	if (!h)
		return CLI_FAIL;
	r = cli_call(cli, h, "GET", "/v1/whoami", NULL, &reply);
	if (r == CLI_OK) {
		if (cli->json)
			cli_print_json(reply);
		else
			printf("%s\n", json_string_value(json_object_get(reply, "service")) ?: "");
	}
	json_decref(reply);
	hwb_close(h);
	return r;
}

const struct cli_command cli_cmd_whoami = {"whoami", "the service this socket belongs to",
                                           whoami_subs, NULL, whoami_run};
