/* hwbroker host ...: host actions. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hwbroker.h"

static const char host_usage[] =
        "Usage: hwbroker host COMMAND\n\n"
        "  reboot [--reason R]     reboot the device (through logind, gracefully)\n"
        "  poweroff [--reason R]   power the device off\n"
        "  hostname [NEW]          print the hostname, or set the static hostname\n"
        "  time                    timezone, NTP enabled, NTP synchronized, time\n"
        "  restart UNIT            restart a systemd unit the policy names\n";

static int host_run(struct cli *cli, int argc, char **argv)
{
	const char *cmd, *reason = NULL;
	struct hwb *h;
	int r;

	if (cli_wants_help(argc, argv)) {
		fputs(host_usage, stdout);
		return CLI_OK;
	}
	if (argc < 2)
		return cli_usage(host_usage);
	cmd = argv[1];
	if (!strcmp(cmd, "reboot") || !strcmp(cmd, "poweroff")) {
		if (argc == 4 && !strcmp(argv[2], "--reason"))
			reason = argv[3];
		else if (argc != 2)
			return cli_usage(host_usage);
	} else if (!((!strcmp(cmd, "hostname") && argc <= 3) ||
	             (!strcmp(cmd, "time") && argc == 2) ||
	             (!strcmp(cmd, "restart") && argc == 3))) {
		return cli_usage(host_usage);
	}
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
		struct hwb_host_time t;
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
	if (r < 0)
		r = cli_fail(cli, h, r, cmd);
	hwb_close(h);
	return r;
}

const struct cli_command cli_cmd_host = {
        "host", "host actions: reboot, poweroff, hostname, time, restart", host_run};
