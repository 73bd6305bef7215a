/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Admin socket: health, metrics and the audit log. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "area.h"
#include "audit.h"
#include "config.h"
#include "loop.h"
#include "metrics.h"
#include "registry.h"
#include "request.h"
#include "transport.h"

static uint64_t admin_started_ms;

static int admin_health(struct request *req)
{
	struct daemon *d = req_daemon(req);
	struct transport_stats st;

	transport_get_stats(d->transport, &st);
	return req_result_json(
	        req, 200,
	        json_pack("{s:s,s:s,s:b,s:s,s:i,s:i,s:I}", "status", "ok", "version", HWB_VERSION,
	                  "sim", d->cfg->sim, "host_backend", d->cfg->host_backend, "services",
	                  (int)registry_count(d->registry), "connections", (int)st.connections,
	                  "uptime_s", (json_int_t)((loop_now_ms() - admin_started_ms) / 1000)));
}

static int admin_metrics(struct request *req)
{
	struct daemon *d = req_daemon(req);
	struct transport_stats st;
	char *text = NULL;
	size_t len = 0, cap = 0;
	int n, r;

	transport_get_stats(d->transport, &st);
	cap = 4096;
	text = malloc(cap);
	if (!text)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	n = snprintf(text, cap,
	             "# HELP hwbroker_services Registered services.\n"
	             "# TYPE hwbroker_services gauge\nhwbroker_services %zu\n"
	             "# HELP hwbroker_connections Open connections.\n"
	             "# TYPE hwbroker_connections gauge\nhwbroker_connections %u\n"
	             "# HELP hwbroker_requests_total Requests received.\n"
	             "# TYPE hwbroker_requests_total counter\nhwbroker_requests_total %llu\n"
	             "# HELP hwbroker_refused_connections_total Connections over a limit.\n"
	             "# TYPE hwbroker_refused_connections_total counter\n"
	             "hwbroker_refused_connections_total %llu\n",
	             registry_count(d->registry), st.connections, (unsigned long long)st.requests,
	             (unsigned long long)st.refused_connections);
	len = (size_t)n;
	r = metrics_render(d->metrics, &text, &len, &cap);
	if (r == 0)
		r = req_result_raw(req, 200, "text/plain; version=0.0.4", text, len);
	else
		r = req_fail(req, r, NULL, "out of memory");
	free(text);
	return r;
}

static int admin_check_audit(struct request *req)
{
	const char *since = req_query(req, "since"), *limit = req_query(req, "limit");
	unsigned long long v;

	if (since && req_parse_uint(since, 0, ~0ull >> 1, &v) < 0)
		return req_fail(req, -EBADMSG, "since is microseconds since the epoch",
		                "malformed since");
	if (limit && req_parse_uint(limit, 1, 1000, &v) < 0)
		return req_fail(req, -EBADMSG, "limit is 1 to 1000", "malformed limit");
	return 0;
}

static int admin_audit_answer(struct request *req)
{
	const char *since = req_query(req, "since"), *limit = req_query(req, "limit");
	unsigned long long since_us = 0, n = 100;

	if (since)
		req_parse_uint(since, 0, ~0ull >> 1, &since_us); /* checked */
	if (limit)
		req_parse_uint(limit, 1, 1000, &n);
	return req_result_json(
	        req, 200,
	        json_pack("{s:o}", "records",
	                  audit_query(req_daemon(req)->audit, req_query(req, "service"),
	                              (long long)since_us, (size_t)n)));
}

static void admin_audit_synced(void *data, int err)
{
	struct request *req = req_wait_take(data);

	if (req) /* what could not be written is not there to read: answer anyway */
		req_complete(req, admin_audit_answer(req));
}

/* GET /v1/audit?service=NAME&since=MICROSECONDS&limit=N. Records written
 * before the request (a denial just answered) are in the answer: it waits
 * for the writer to put them on disk. */
static int admin_audit(struct request *req)
{
	struct req_wait *w = req_wait_new(req);
	int r;

	if (!w)
		return req_fail(req, -ENOMEM, NULL, "out of memory");
	r = audit_sync(req_daemon(req)->audit, admin_audit_synced, w);
	if (r == 0)
		return REQ_ASYNC;
	req_wait_take(w);
	return admin_audit_answer(req);
}

static int admin_status_init(struct daemon *d)
{
	admin_started_ms = loop_now_ms();
	return 0;
}

#define STATUS_ROUTE(m, path)                                                                      \
	.method = (m), .pattern = (path), .sockets = ROUTE_ADMIN, .resource = RES_NONE,            \
	.access = ACCESS_ADMIN

static const struct route status_routes[] = {
        {STATUS_ROUTE("GET", "/v1/health"), .handler = admin_health},
        {STATUS_ROUTE("GET", "/metrics"), .handler = admin_metrics},
        {STATUS_ROUTE("GET", "/v1/audit"), .check = admin_check_audit, .handler = admin_audit},
};

const struct area area_status = {
        .name = "status",
        AREA_ROUTES(status_routes),
        .init = admin_status_init,
};
