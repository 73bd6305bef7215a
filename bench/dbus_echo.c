/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The peer-transport reference: a method call round trip through a bus.
 *
 *   dbus_echo serve ADDRESS
 *       connects to the bus at ADDRESS, owns org.hwbroker.BenchEcho and
 *       answers Echo(s) -> s on /org/hwbroker/BenchEcho; one thread.
 *   dbus_echo call ADDRESS [--warmup N] [--iterations N] [--cpu C] [--samples PREFIX]
 *       blocking Echo calls with a string shaped like a GPIO line reply;
 *       prints one JSON result line (bench_util.h). */
#include <dbus/dbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define ECHO_NAME  "org.hwbroker.BenchEcho"
#define ECHO_PATH  "/org/hwbroker/BenchEcho"
#define ECHO_IFACE "org.hwbroker.BenchEcho"
#define ECHO_LINE                                                                                  \
	"{\"chip\":\"gpiochip0\",\"line\":5,\"name\":\"GPIO5\",\"value\":1,\"direction\":"         \
	"\"output\",\"bias\":\"as-is\",\"active_low\":false,\"drive\":\"push-pull\",\"used\":"     \
	"true,\"holder\":\"bench\",\"lease\":\"persistent\",\"watchers\":0}"

static DBusConnection *echo_connect(const char *address)
{
	DBusError err;
	DBusConnection *c;

	dbus_error_init(&err);
	c = dbus_connection_open_private(address, &err);
	if (c && !dbus_bus_register(c, &err)) {
		dbus_connection_close(c);
		dbus_connection_unref(c);
		c = NULL;
	}
	if (!c) {
		fprintf(stderr, "dbus_echo: %s: %s\n", address, err.message);
		dbus_error_free(&err);
	}
	return c;
}

static DBusHandlerResult echo_message(DBusConnection *c, DBusMessage *m, void *data)
{
	const char *s = NULL;
	DBusMessage *reply;

	if (!dbus_message_is_method_call(m, ECHO_IFACE, "Echo"))
		return DBUS_HANDLER_RESULT_NOT_YET_HANDLED;
	if (!dbus_message_get_args(m, NULL, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID))
		reply = dbus_message_new_error(m, DBUS_ERROR_INVALID_ARGS, "Echo takes a string");
	else if ((reply = dbus_message_new_method_return(m)))
		dbus_message_append_args(reply, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID);
	if (!reply)
		return DBUS_HANDLER_RESULT_NEED_MEMORY;
	dbus_connection_send(c, reply, NULL);
	dbus_message_unref(reply);
	return DBUS_HANDLER_RESULT_HANDLED;
}

static int echo_serve(const char *address)
{
	const DBusObjectPathVTable vtable = {.message_function = echo_message};
	DBusConnection *c = echo_connect(address);
	DBusError err;

	if (!c)
		return 1;
	dbus_error_init(&err);
	if (dbus_bus_request_name(c, ECHO_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &err) !=
	            DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER ||
	    !dbus_connection_register_object_path(c, ECHO_PATH, &vtable, NULL)) {
		fprintf(stderr, "dbus_echo: cannot own %s: %s\n", ECHO_NAME,
		        err.message ? err.message : "");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (dbus_connection_read_write_dispatch(c, -1))
		;
	return 0;
}

static int echo_call(int argc, char **argv)
{
	long warmup = 200, iterations = 2000, cpu = -1, errors = 0;
	struct bench_samples s = {0};
	const char *arg = ECHO_LINE;
	DBusConnection *c;
	char extra[96];

	for (int i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--samples")) {
			bench_set_samples_prefix(argv[i + 1]);
			continue;
		}
		long v = bench_parse_long(argv[i], argv[i + 1]);
		if (!strcmp(argv[i], "--warmup"))
			warmup = v;
		else if (!strcmp(argv[i], "--iterations"))
			iterations = v;
		else if (!strcmp(argv[i], "--cpu"))
			cpu = v;
		else
			return 2;
	}
	if (bench_pin_cpu((int)cpu) < 0 || !(c = echo_connect(argv[2])))
		return 1;
	for (long i = 0; i < warmup + iterations; i++) {
		uint64_t t0 = bench_now_ns();
		DBusMessage *m =
		        dbus_message_new_method_call(ECHO_NAME, ECHO_PATH, ECHO_IFACE, "Echo");
		DBusMessage *reply;
		const char *back = NULL;
		if (!m || !dbus_message_append_args(m, DBUS_TYPE_STRING, &arg, DBUS_TYPE_INVALID))
			return 1;
		reply = dbus_connection_send_with_reply_and_block(c, m, 5000, NULL);
		dbus_message_unref(m);
		if (!reply ||
		    !dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &back,
		                           DBUS_TYPE_INVALID) ||
		    strcmp(back, arg) != 0)
			errors++;
		else if (i >= warmup)
			bench_samples_add(&s, bench_now_ns() - t0);
		if (reply)
			dbus_message_unref(reply);
	}
	snprintf(extra, sizeof(extra), "\"errors\":%ld,\"requests\":%ld", errors,
	         warmup + iterations);
	bench_report("dbus_echo", &s, 0, extra);
	bench_samples_free(&s);
	dbus_connection_close(c);
	dbus_connection_unref(c);
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "serve"))
		return echo_serve(argv[2]);
	if (argc >= 3 && !strcmp(argv[1], "call"))
		return echo_call(argc, argv);
	fprintf(stderr, "usage: dbus_echo serve ADDRESS | dbus_echo call ADDRESS [--warmup N] "
	                "[--iterations N] [--cpu C]\n");
	return 2;
}
