/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Identity on a service socket: who the socket says the caller is. */
#include "area.h"
#include "policy.h"
#include "registry.h"
#include "request.h"

static int whoami(struct request *req)
{
	struct service *svc = req_service(req);
	const struct peer *peer = req_peer(req);
	json_t *policy = policy_to_json(svc->policy);
	json_t *grants = json_object_get(policy, "grants");
	json_t *body = json_pack("{s:s,s:O,s:{s:i,s:i,s:i}}", "service", svc->name, "grants",
	                         grants ? grants : json_array(), "peer", "pid", (int)peer->pid,
	                         "uid", (int)peer->uid, "gid", (int)peer->gid);

	json_decref(policy);
	return req_result_json(req, 200, body);
}

static const struct route whoami_routes[] = {
        {.method = "GET",
         .pattern = "/v1/whoami",
         .sockets = ROUTE_SERVICE,
         .resource = RES_NONE,
         .access = ACCESS_NONE,
         .handler = whoami},
};

const struct area area_whoami = {
        .name = "whoami",
        AREA_ROUTES(whoami_routes),
};
