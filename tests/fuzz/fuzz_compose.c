/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Compose files: the input is a compose file (YAML, so JSON too), loaded as
 * the CLI and the supervisor's apply load it, and every service derived and
 * explained. Nothing may crash, leak or read out of bounds. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "policy.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/fuzz_compose-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	close(fd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "we");
	json_t *compose = NULL, *svc;
	const char *name;
	char err[256];

	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);
	if (compose_load_yaml(path, &compose, err, sizeof(err)) < 0)
		return 0;
	json_object_foreach(json_object_get(compose, "services"), name, svc)
	{
		struct policy *p = NULL;
		json_t *errors = NULL;
		if (policy_derive(name, svc, &p, &errors) == 0) {
			json_decref(policy_to_json(p));
			policy_free(p);
		}
		json_decref(errors);
	}
	json_decref(compose);
	return 0;
}
