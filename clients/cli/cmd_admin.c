/* hwbroker admin ...: what the device supervisor does, by hand. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hwbroker.h"
#include "policy.h"

static const char admin_usage[] =
        "Usage: hwbroker --admin admin COMMAND\n\n"
        "  services                 registered services\n"
        "  show NAME                a service's grants, where each came from, its socket\n"
        "  register NAME FILE|-     register or re-apply a service (compose service as JSON)\n"
        "  remove NAME              remove a service (closes its connections and socket)\n"
        "  apply COMPOSE.yml        apply a whole compose file as the release (PUT /v1/state)\n"
        "  audit [--service S] [--since US] [--limit N]   audit records\n"
        "  health                   daemon health\n";

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

	printf("service %s\n  socket: %s\n  mount:  %s -> %s\n",
	       json_string_value(json_object_get(svc, "service")),
	       json_string_value(json_object_get(svc, "socket")),
	       json_string_value(json_object_get(json_object_get(svc, "mount"), "source")),
	       json_string_value(json_object_get(json_object_get(svc, "mount"), "target")));
	json_object_foreach(env, k, v) printf("  env:    %s=%s\n", k, json_string_value(v));
}

static int admin_show(struct cli *cli, struct hwb *h, const char *name)
{
	char path[256], esc[200];
	json_t *reply;
	int r;

	if (cli_escape(esc, sizeof(esc), name) < 0)
		return cli_usage("hwbroker: service name too long\n");
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

static char *admin_read_file(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	size_t len = 0, cap = 4096, n;
	char *buf = malloc(cap);

	if (!f || !buf) {
		free(buf);
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (len + 1 == cap) {
			if (cap >= (16u << 20))
				break;
			char *nb = realloc(buf, cap *= 2);
			if (!nb)
				break;
			buf = nb;
		}
	}
	buf[len] = '\0';
	if (f != stdin)
		fclose(f);
	return buf;
}

static int admin_register(struct cli *cli, struct hwb *h, const char *name, const char *file)
{
	char path[256], esc[200], *body = admin_read_file(file);
	json_t *reply;
	int r;

	if (!body) {
		fprintf(stderr, "%s: %s: %s\n", cli->prog, file, strerror(errno));
		return CLI_FAIL;
	}
	if (cli_escape(esc, sizeof(esc), name) < 0) {
		free(body);
		return cli_usage("hwbroker: service name too long\n");
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
		return cli_usage("hwbroker: service name too long\n");
	snprintf(path, sizeof(path), "/v1/services/%s", esc);
	return cli_call(cli, h, "DELETE", path, NULL, NULL);
}

static int admin_apply(struct cli *cli, struct hwb *h, const char *file)
{
	char err[512];
	json_t *state, *reply, *svc;
	const char *name;
	char *body;
	int r = compose_load_yaml(file, &state, err, sizeof(err));

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

static int admin_audit(struct cli *cli, struct hwb *h, int argc, char **argv)
{
	char path[512] = "/v1/audit", esc[200];
	json_t *reply, *rec;
	size_t used = strlen(path), i;
	char sep = '?';
	int r;

	for (int k = 2; k < argc; k += 2) {
		const char *key = !strcmp(argv[k], "--service") ? "service"
		                  : !strcmp(argv[k], "--since") ? "since"
		                  : !strcmp(argv[k], "--limit") ? "limit"
		                                                : NULL;
		if (!key || k + 1 >= argc || cli_escape(esc, sizeof(esc), argv[k + 1]) < 0)
			return cli_usage(admin_usage);
		used += (size_t)snprintf(path + used, sizeof(path) - used, "%c%s=%s", sep, key,
		                         esc);
		sep = '&';
	}
	r = cli_call(cli, h, "GET", path, NULL, &reply);
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
	struct hwb *h;
	int r;

	if (cli_wants_help(argc, argv)) {
		fputs(admin_usage, stdout);
		return CLI_OK;
	}
	if (argc < 2)
		return cli_usage(admin_usage);
	const char *cmd = argv[1];
	bool ok = (!strcmp(cmd, "services") && argc == 2) ||
	          (!strcmp(cmd, "health") && argc == 2) || (!strcmp(cmd, "show") && argc == 3) ||
	          (!strcmp(cmd, "register") && argc == 4) ||
	          (!strcmp(cmd, "remove") && argc == 3) || (!strcmp(cmd, "apply") && argc == 3) ||
	          !strcmp(cmd, "audit");
	if (!ok)
		return cli_usage(admin_usage);
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
		r = admin_audit(cli, h, argc, argv);
	hwb_close(h);
	return r;
}

const struct cli_command cli_cmd_admin = {"admin", "supervisor commands (admin socket)", admin_run};
