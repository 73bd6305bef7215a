/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hwbroker admin ...: what the device supervisor does, by hand. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hwbroker.h"
#include "policy.h"

static const struct cli_sub admin_subs[] = {
        {"services", "", "registered services"},
        {"show", "NAME", "a service's grants, where each came from, its socket"},
        {"register", "NAME FILE.json|-",
         "register or re-apply a service (compose service as JSON)"},
        {"remove", "NAME", "remove a service (closes its connections and its socket)"},
        {"apply", "COMPOSE.yml|-", "apply a whole compose file as the release (PUT /v1/state)"},
        {"audit", "[--service S] [--since US] [--limit N]", "audit records"},
        {"health", "", "daemon health"},
        {NULL, NULL, NULL},
};

static const char admin_details[] =
        "admin commands use the admin socket ($HWBROKER_ADMIN_SOCKET, else\n"
        "/run/hwbroker/admin.sock) unless --socket names another. - reads standard input.\n";

#define ADMIN_BAD(sub, ...) cli_bad(&cli_cmd_admin, sub, __VA_ARGS__)
#define ADMIN_FILE_MAX      (4u << 20)

static int admin_services(struct cli *cli, struct hwb *h)
{
	json_t *reply, *s;
	size_t i;
	int r = cli_call(cli, h, "GET", "/v1/services", NULL, &reply);

	if (r)
		return r;
	if (cli->json)
		cli_print_json(reply);
	else
		json_array_foreach(json_object_get(reply, "services"), i, s)
		        printf("%s\t%s\t%lld%s\n", json_string_value(json_object_get(s, "name")),
		               json_string_value(json_object_get(s, "socket")),
		               (long long)json_integer_value(json_object_get(s, "connections")),
		               json_is_true(json_object_get(s, "broad")) ? "\tbroad" : "");
	json_decref(reply);
	return CLI_OK;
}

static void admin_print_service(const json_t *svc)
{
	json_t *env = json_object_get(svc, "environment"), *v;
	const char *k;
	size_t i;

	printf("service %s\n  socket: %s\n  mount:  %s -> %s\n",
	       json_string_value(json_object_get(svc, "service")),
	       json_string_value(json_object_get(svc, "socket")),
	       json_string_value(json_object_get(json_object_get(svc, "mount"), "source")),
	       json_string_value(json_object_get(json_object_get(svc, "mount"), "target")));
	json_object_foreach(env, k, v) printf("  env:    %s=%s\n", k, json_string_value(v));
	/* Handles the broker cannot take back: the container must stop. */
	json_array_foreach(json_object_get(svc, "open_handles"), i, v)
	        printf("  open:   %s (direct handle: stop the container to close it)\n",
	               json_string_value(v));
}

static int admin_show(struct cli *cli, struct hwb *h, const char *name)
{
	char path[256], esc[200];
	json_t *reply;
	int r;

	if (cli_escape(esc, sizeof(esc), name) < 0)
		return ADMIN_BAD("show", "service name too long");
	snprintf(path, sizeof(path), "/v1/services/%s", esc);
	r = cli_call(cli, h, "GET", path, NULL, &reply);
	if (r)
		return r;
	if (cli->json) {
		cli_print_json(reply);
	} else {
		admin_print_service(reply);
		printf("  connections: %lld\n",
		       (long long)json_integer_value(json_object_get(reply, "connections")));
		policy_print_table(json_object_get(reply, "policy"), stdout);
	}
	json_decref(reply);
	return CLI_OK;
}

static int admin_register(struct cli *cli, struct hwb *h, const char *name, const char *file)
{
	char path[256], esc[200], *body;
	size_t len;
	json_t *reply;
	int r = cli_read_file(file, ADMIN_FILE_MAX, &body, &len);

	if (r < 0) {
		fprintf(stderr, "%s: admin register: %s: %s\n", cli->prog,
		        strcmp(file, "-") ? file : "<stdin>", strerror(-r));
		return CLI_FAIL;
	}
	if (cli_escape(esc, sizeof(esc), name) < 0) {
		free(body);
		return ADMIN_BAD("register", "service name too long");
	}
	snprintf(path, sizeof(path), "/v1/services/%s", esc);
	r = cli_call(cli, h, "PUT", path, body, &reply);
	free(body);
	if (r)
		return r;
	if (cli->json)
		cli_print_json(reply);
	else
		admin_print_service(reply);
	json_decref(reply);
	return CLI_OK;
}

static int admin_remove(struct cli *cli, struct hwb *h, const char *name)
{
	char path[256], esc[200];

	if (cli_escape(esc, sizeof(esc), name) < 0)
		return ADMIN_BAD("remove", "service name too long");
	snprintf(path, sizeof(path), "/v1/services/%s", esc);
	return cli_call(cli, h, "DELETE", path, NULL, NULL);
}

static int admin_apply(struct cli *cli, struct hwb *h, const char *file)
{
	char err[512];
	json_t *state, *reply, *svc;
	const char *name;
	char *body;
	int r = cli_load_compose(file, &state, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "%s: %s\n", cli->prog, err);
		return CLI_FAIL;
	}
	body = json_dumps(state, JSON_COMPACT);
	json_decref(state);
	r = cli_call(cli, h, "PUT", "/v1/state", body, &reply);
	free(body);
	if (r)
		return r;
	if (cli->json) {
		cli_print_json(reply);
	} else {
		json_object_foreach(json_object_get(reply, "services"), name, svc)
		        admin_print_service(svc);
		size_t i;
		json_t *v;
		json_array_foreach(json_object_get(reply, "removed"), i, v)
		        printf("removed %s\n", json_string_value(v));
	}
	json_decref(reply);
	return CLI_OK;
}

static const char *admin_field(const json_t *rec, const char *key)
{
	const char *v = json_string_value(json_object_get(rec, key));

	return v && *v ? v : NULL;
}

/* TIME SERVICE pid=PID EVENT WHAT METHOD PATH [DETAIL]: WHAT is the action,
 * what was refused, or the service an admin change was about. */
static void admin_print_record(const json_t *rec)
{
	const char *what = admin_field(rec, "action") ?: admin_field(rec, "refused")
	                                                        ?: admin_field(rec, "subject");
	const char *detail = admin_field(rec, "missing_grant") ?: admin_field(rec, "reason")
	                                                              ?: admin_field(rec, "error");

	printf("%s %s pid=%lld %s %s %s %s%s%s\n", admin_field(rec, "time") ?: "-",
	       admin_field(rec, "service") ?: "-",
	       (long long)json_integer_value(json_object_get(json_object_get(rec, "peer"), "pid")),
	       admin_field(rec, "event") ?: "-", what ?: "-", admin_field(rec, "method") ?: "-",
	       admin_field(rec, "path") ?: "-", detail ? ": " : "", detail ?: "");
}

/* GET /v1/audit with the options as its query; usage errors before connecting. */
static int admin_audit_path(int argc, char **argv, char *path, size_t len)
{
	size_t used;
	char sep = '?', esc[200];

	snprintf(path, len, "/v1/audit");
	used = strlen(path);
	for (int k = 2; k < argc; k += 2) {
		const char *key = !strcmp(argv[k], "--service") ? "service"
		                  : !strcmp(argv[k], "--since") ? "since"
		                  : !strcmp(argv[k], "--limit") ? "limit"
		                                                : NULL;
		if (!key)
			return ADMIN_BAD("audit", "unknown option '%s'", argv[k]);
		if (k + 1 >= argc)
			return ADMIN_BAD("audit", "%s needs a value", argv[k]);
		if (cli_escape(esc, sizeof(esc), argv[k + 1]) < 0)
			return ADMIN_BAD("audit", "%s value too long", argv[k]);
		used += (size_t)snprintf(path + used, len - used, "%c%s=%s", sep, key, esc);
		sep = '&';
	}
	return CLI_OK;
}

static int admin_audit(struct cli *cli, struct hwb *h, const char *path)
{
	json_t *reply, *rec;
	size_t i;
	int r = cli_call(cli, h, "GET", path, NULL, &reply);

	if (r)
		return r;
	json_array_foreach(json_object_get(reply, "records"), i, rec)
	{
		if (cli->json) {
			cli_print_json(rec);
			continue;
		}
		admin_print_record(rec);
	}
	json_decref(reply);
	return CLI_OK;
}

static int admin_health(struct cli *cli, struct hwb *h)
{
	json_t *reply;
	int r = cli_call(cli, h, "GET", "/v1/health", NULL, &reply);

	if (r)
		return r;
	if (cli->json)
		cli_print_json(reply);
	else
		printf("%s\n", json_string_value(json_object_get(reply, "status")));
	json_decref(reply);
	return CLI_OK;
}

static int admin_run(struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[1];
	char audit[1024];
	struct hwb *h;
	int r, want = !strcmp(cmd, "services") || !strcmp(cmd, "health") ? 2
	              : !strcmp(cmd, "register")                         ? 4
	              : !strcmp(cmd, "audit")                            ? -1
	                                                                 : 3;

	if (want > 0 && argc < want)
		return ADMIN_BAD(cmd, "missing %s",
		                 !strcmp(cmd, "apply") ? "COMPOSE.yml"
		                 : argc == 2           ? "NAME"
		                                       : "FILE");
	if (want > 0 && argc > want)
		return ADMIN_BAD(cmd, "unexpected argument '%s'", argv[want]);
	if (!strcmp(cmd, "audit") && (r = admin_audit_path(argc, argv, audit, sizeof(audit))))
		return r;
	cli->admin = true;
	h = cli_connect(cli);
	if (!h)
		return CLI_FAIL;
	if (!strcmp(cmd, "services"))
		r = admin_services(cli, h);
	else if (!strcmp(cmd, "show"))
		r = admin_show(cli, h, argv[2]);
	else if (!strcmp(cmd, "register"))
		r = admin_register(cli, h, argv[2], argv[3]);
	else if (!strcmp(cmd, "remove"))
		r = admin_remove(cli, h, argv[2]);
	else if (!strcmp(cmd, "apply"))
		r = admin_apply(cli, h, argv[2]);
	else if (!strcmp(cmd, "health"))
		r = admin_health(cli, h);
	else
		r = admin_audit(cli, h, audit);
	hwb_close(h);
	return r;
}

const struct cli_command cli_cmd_admin = {"admin", "supervisor commands (admin socket)", admin_subs,
                                          admin_details, admin_run};
