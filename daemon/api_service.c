/* Identity on a service socket. */
#include "broker.h"
#include "policy.h"
#include "registry.h"

static int service_whoami(struct request *req)
{
	struct service *svc = req_service(req);
	const struct peer *peer = req_peer(req);
	json_t *policy = policy_to_json(svc->policy);
	json_t *grants = json_object_get(policy, "grants");

	json_t *body = json_pack("{s:s,s:o,s:{s:i,s:i,s:i}}", "service", svc->name, "grants",
	                         grants ? json_incref(grants) : json_array(), "peer", "pid",
	                         (int)peer->pid, "uid", (int)peer->uid, "gid", (int)peer->gid);
	json_decref(policy);
	return req_reply_json(req, 200, body);
}

static const struct route service_routes[] = {
        {"GET", "/v1/whoami", ROUTE_SERVICE, BODY_NONE, NULL, service_whoami},
};

const struct area area_service = {
        .name = "service",
        .routes = service_routes,
        .n_routes = sizeof(service_routes) / sizeof(service_routes[0]),
};
