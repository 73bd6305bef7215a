/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hwbroker host ...: host actions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hwbroker.h"

static const struct cli_sub host_subs[] = {
        {"reboot", "[--reason R]", "reboot the device (through logind, gracefully)"},
        {"poweroff", "[--reason R]", "power the device off"},
        {"hostname", "[NEW]", "print the hostname, or set the static hostname"},
        {"time", "", "timezone, NTP enabled, NTP synchronized, time"},
        {"restart", "UNIT", "restart a systemd unit the policy names"},
        {NULL, NULL, NULL},
};

#define HOST_BAD(sub, ...) cli_bad(&cli_cmd_host, sub, __VA_ARGS__)

static int host_run(struct cli *cli, int argc, char **argv)
{
	const char *cmd = argv[1], *reason = NULL;
	int max_args = !strcmp(cmd, "hostname") ? 3 : !strcmp(cmd, "restart") ? 3 : 2;
	struct hwb *h;
	int r;

	if ((!strcmp(cmd, "reboot") || !strcmp(cmd, "poweroff")) &&
	    cli_take_option(&argc, argv, "--reason", &reason) < 0)
		return HOST_BAD(cmd, "--reason needs a value");
	if (!strcmp(cmd, "restart") && argc < 3)
		return HOST_BAD(cmd, "missing UNIT");
	if (argc > max_args)
		return HOST_BAD(cmd, "unexpected argument '%s'", argv[max_args]);
	h = cli_connect(cli);
	if (!h)
		return CLI_FAIL;
	if (!strcmp(cmd, "reboot")) {
		r = hwb_host_reboot(h, reason);
	} else if (!strcmp(cmd, "poweroff")) {
		r = hwb_host_poweroff(h, reason);
	} else if (!strcmp(cmd, "hostname") && argc == 3) {
		r = hwb_host_set_hostname(h, argv[2]);
	} else if (!strcmp(cmd, "hostname")) {
		char *name = NULL;
		r = hwb_host_get_hostname(h, &name);
		if (r == 0)
			printf(cli->json ? "{\"hostname\":\"%s\"}\n" : "%s\n", name);
		free(name);
	} else if (!strcmp(cmd, "time")) {
		struct hwb_host_time t = HWB_HOST_TIME_INIT;
		r = hwb_host_time(h, &t);
		if (r == 0 && cli->json)
			printf("{\"timezone\":\"%s\",\"ntp\":%s,\"ntp_synchronized\":%s,\"time_"
			       "usec\":%llu}\n",
			       t.timezone, t.ntp ? "true" : "false",
			       t.ntp_synchronized ? "true" : "false",
			       (unsigned long long)t.time_usec);
		else if (r == 0)
			printf("timezone %s\nntp %s\nntp_synchronized %s\ntime_usec %llu\n",
			       t.timezone, t.ntp ? "yes" : "no", t.ntp_synchronized ? "yes" : "no",
			       (unsigned long long)t.time_usec);
	} else {
		r = hwb_host_restart_unit(h, argv[2]);
	}
	if (r < 0) {
		char what[32];
		snprintf(what, sizeof(what), "host %s", cmd);
		r = cli_fail(cli, h, r, what);
	}
	hwb_close(h);
	return r;
}

const struct cli_command cli_cmd_host = {"host",
                                         "host actions: reboot, poweroff, hostname, time, restart",
                                         host_subs, NULL, host_run};
