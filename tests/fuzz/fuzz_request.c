/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A whole request through the daemon: the real hwbrokerd (daemon_start)
 * runs in-process on the simulated board, and each input is the bytes a
 * client sends on one connection: the first byte picks the socket (a
 * service holding the whole board, a narrowed one, or the admin socket),
 * the rest goes to the transport as is. So the HTTP parser, the connection
 * state machine, the pipeline, every handler and the simulated drivers
 * behind them are all reachable. Nothing may crash, leak, or trip a strict-build check (a
 * second reply aborts). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "area.h"
#include "areas.h"
#include "config.h"
#include "daemon.h"
#include "driver_env.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "registry.h"
#include "transport.h"

static struct config cfg;
static struct drv_env env;
static struct daemon d;

static const char *const all_json =
        "{\"devices\":[\"/dev/gpiochip0\",\"/dev/gpiochip1\",\"/dev/i2c-0\",\"/dev/i2c-1\","
        "\"/dev/ttyS0\",\"/dev/ttyACM0\"],\"labels\":{\"io.hwbroker.host\":\"reboot,poweroff,"
        "hostname,time\",\"io.hwbroker.units\":\"my-agent.service\",\"io.hwbroker.gpio.direct\":"
        "\"1\"}}";
static const char *const narrow_json =
        "{\"devices\":[\"/dev/gpiochip0:/dev/gpiochip0:r\",\"/dev/i2c-1\"],\"labels\":{"
        "\"io.hwbroker.gpio\":\"gpiochip0=17,18,GPIO22\",\"io.hwbroker.i2c\":\"1=0x76\"}}";

/* The service, registered again if an admin input removed it. */
static struct service *fuzz_service(const char *name, const char *text)
{
	struct service *svc = registry_find(d.registry, name);
	struct policy *p = NULL;
	json_t *compose, *errors = NULL;
	bool created;

	if (svc)
		return svc;
	compose = json_loads(text, 0, NULL);
	if (!compose || policy_derive(name, compose, &p, &errors) < 0 ||
	    registry_apply(d.registry, name, compose, p, &created) < 0)
		abort();
	return registry_find(d.registry, name);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char runtime[] = "/tmp/fuzz_request-run-XXXXXX";
	static char state[] = "/tmp/fuzz_request-state-XXXXXX";
	char *args[] = {"fuzz_request",
	                "--sim",
	                "--runtime-dir",
	                runtime,
	                "--state-dir",
	                state,
	                "--log-level",
	                "error",
	                "--i2c-timeout-ms",
	                "50",
	                "--head-timeout",
	                "1",
	                "--idle-timeout",
	                "1",
	                NULL};
	int n = sizeof(args) / sizeof(args[0]) - 1;

	if (!mkdtemp(runtime) || !mkdtemp(state))
		abort();
	if (config_load(&cfg, n, args) != 0)
		abort();
	log_set_level(LOG_LEVEL_ERROR);
	d.cfg = &cfg;
	d.env = &env;
	d.areas = daemon_areas;
	d.loop = loop_new();
	if (!d.loop)
		abort();
	driver_env_init(&env, d.loop);
	if (daemon_start(&d) < 0)
		abort();
	fuzz_service("all", all_json);
	fuzz_service("narrow", narrow_json);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct service *svc = NULL;
	size_t off = 0;
	char buf[65536];
	int sv[2];

	if (size < 1)
		return 0;
	if (data[0] % 3 == 0)
		svc = fuzz_service("all", all_json);
	else if (data[0] % 3 == 1)
		svc = fuzz_service("narrow", narrow_json);
	data++;
	size--;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	if (transport_adopt(d.transport, sv[0], svc, getpid(), 1000, 1000) < 0) {
		close(sv[1]);
		return 0;
	}
	/* Send it all (the loop serves while the socket buffer is full), then
	 * the end of the client's side, and read what comes back until the
	 * daemon closes or a few turns pass (a stream stays open). */
	for (int turns = 0; off < size && turns < 200; turns++) {
		ssize_t w = write(sv[1], data + off, size - off);
		if (w > 0)
			off += (size_t)w;
		loop_run_once(d.loop, 0);
	}
	shutdown(sv[1], SHUT_WR);
	for (int turns = 0; turns < 40; turns++) {
		ssize_t r = read(sv[1], buf, sizeof(buf));
		if (r == 0)
			break;
		loop_run_once(d.loop, 1);
	}
	close(sv[1]);
	for (int turns = 0; turns < 3; turns++)
		loop_run_once(d.loop, 0);
	return 0;
}
