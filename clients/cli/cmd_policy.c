/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hwbroker policy derive: what a compose file grants, offline. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "policy.h"

static const struct cli_sub policy_subs[] = {
        {"derive", "COMPOSE.yml|- [SERVICE]",
         "each service's grants and the compose entry each came from, offline"},
        {NULL, NULL, NULL},
};

static const char policy_details[] =
        "Works without a daemon. - reads the compose file from standard input. Exit status 1\n"
        "when a declaration is malformed (every problem is printed).\n"
#if !HWB_HAVE_YAML
        "This build has no YAML support: give the compose file as JSON\n"
        "(docker compose config --format json).\n"
#endif
        ;

static int policy_derive_one(struct cli *cli, const char *file, const char *name, const json_t *svc,
                             json_t *all)
{
	struct policy *p;
	json_t *errors = NULL, *e;
	size_t i;

	if (policy_derive(name, svc, &p, &errors) < 0) {
		json_array_foreach(errors, i, e)
		{
			json_t *pos = json_object_get(e, "position");
			fprintf(stderr, "%s: service %s", file, name);
			if (json_object_get(e, "label"))
				fprintf(stderr, ": label %s",
				        json_string_value(json_object_get(e, "label")));
			if (pos)
				fprintf(stderr, " (position %lld)",
				        (long long)json_integer_value(pos));
			fprintf(stderr, ": %s\n", json_string_value(json_object_get(e, "message")));
		}
		json_decref(errors);
		return CLI_FAIL;
	}
	json_t *pj = policy_to_json(p);
	if (cli->json) {
		json_object_set_new(all, name, pj);
	} else {
		printf("service %s\n", name);
		policy_print_table(pj, stdout);
		json_decref(pj);
	}
	policy_free(p);
	return CLI_OK;
}

static int policy_run(struct cli *cli, int argc, char **argv)
{
	char err[512];
	json_t *state, *services, *svc, *all;
	const char *name;
	int r = CLI_OK;

	if (argc < 3)
		return cli_bad(&cli_cmd_policy, "derive", "missing COMPOSE.yml");
	if (argc > 4)
		return cli_bad(&cli_cmd_policy, "derive", "unexpected argument '%s'", argv[4]);
	const char *shown = strcmp(argv[2], "-") ? argv[2] : "<stdin>";
	if (cli_load_compose(argv[2], &state, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", cli->prog, err);
		return CLI_FAIL;
	}
	services = json_object_get(state, "services");
	all = json_object();
	if (argc == 4) {
		svc = json_object_get(services, argv[3]);
		if (!svc) {
			fprintf(stderr, "%s: %s: no service %s\n", cli->prog, shown, argv[3]);
			r = CLI_FAIL;
		} else {
			r = policy_derive_one(cli, shown, argv[3], svc, all);
		}
	} else {
		json_object_foreach(services, name, svc)
		{
			int one = policy_derive_one(cli, shown, name, svc, all);
			if (one != CLI_OK)
				r = one;
		}
	}
	if (cli->json && r == CLI_OK)
		cli_print_json(all);
	json_decref(all);
	json_decref(state);
	return r;
}

const struct cli_command cli_cmd_policy = {"policy", "derive grants from a compose file (offline)",
                                           policy_subs, policy_details, policy_run};
