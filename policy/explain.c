/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Human-readable form of a policy (hwbroker admin show, policy derive). */
#include <stdio.h>
#include <string.h>

#include "policy.h"

static const char *explain_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

void policy_print_table(const json_t *policy_json, FILE *out)
{
	json_t *grants = json_object_get(policy_json, "grants");
	json_t *passthrough = json_object_get(policy_json, "passthrough");
	json_t *g;
	size_t i;

	if (json_array_size(grants) == 0)
		fprintf(out, "  (no grants: the service may use no hardware and no host action)\n");
	else
		fprintf(out, "  %-5s %-36s %-6s %s\n", "KIND", "RESOURCE", "ACCESS", "FROM");
	json_array_foreach(grants, i, g)
	{
		const char *access = explain_str(g, "access");
		fprintf(out, "  %-5s %-36s %-6s %s%s\n", explain_str(g, "kind"),
		        explain_str(g, "resource"), *access ? access : "-",
		        explain_str(g, "provenance"),
		        json_is_true(json_object_get(g, "broad")) ? "  [BROAD]" : "");
	}
	json_array_foreach(passthrough, i, g)
	        fprintf(out, "  passed through, not granted: %s (%s)\n", explain_str(g, "device"),
	                explain_str(g, "reason"));
	if (json_is_true(json_object_get(policy_json, "broad")))
		fprintf(out,
		        "  BROAD: privileged or /dev/mem-style access gives this service far more "
		        "than it likely needs\n");
	if (json_object_get(policy_json, "container_id"))
		fprintf(out, "  container: %s\n", explain_str(policy_json, "container_id"));
}
