/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Host actions over the system bus with libdbus-1, inside the daemon's loop:
 * libdbus's watches and timeouts are our loop's fds and timers, every call
 * is a pending call with a timeout, and the connection (re)opens lazily, so
 * a bus that restarts is simply reconnected at the next call. */
#include <dbus/dbus.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"

#define HD_DEFAULT_ADDRESS "unix:path=/run/dbus/system_bus_socket"
#define HD_MAX_WATCHES     16

struct hd_call {
	struct host_backend *be;
	enum host_action action;
	host_done_fn done;
	void *data;
	DBusPendingCall *pending;
	struct hd_call *next;
};

struct hd_timeout {
	struct host_backend *be;
	DBusTimeout *t;
	struct drv_timer *timer;
};

struct host_backend {
	const struct drv_env *env;
	char address[512];
	unsigned timeout_ms;
	DBusConnection *conn;
	DBusWatch *watches[HD_MAX_WATCHES];
	size_t n_watches;
	struct hd_call *calls;
	bool dispatch_posted;
};

/* --- watches: libdbus may watch one fd twice (read and write) --- */

static uint32_t hd_fd_events(struct host_backend *be, int fd)
{
	uint32_t ev = 0;

	for (size_t i = 0; i < be->n_watches; i++) {
		DBusWatch *w = be->watches[i];
		if (dbus_watch_get_unix_fd(w) != fd || !dbus_watch_get_enabled(w))
			continue;
		if (dbus_watch_get_flags(w) & DBUS_WATCH_READABLE)
			ev |= EPOLLIN;
		if (dbus_watch_get_flags(w) & DBUS_WATCH_WRITABLE)
			ev |= EPOLLOUT;
	}
	return ev;
}

static void hd_dispatch(void *data);

static void hd_schedule_dispatch(struct host_backend *be)
{
	if (!be->dispatch_posted && env_post(be->env, hd_dispatch, be) == 0)
		be->dispatch_posted = true;
}

static void hd_on_fd(void *data, int fd, uint32_t events)
{
	struct host_backend *be = data;
	DBusWatch *todo[HD_MAX_WATCHES];
	size_t n = 0;

	/* dbus_watch_handle may add or remove watches: act on a copy. */
	for (size_t i = 0; i < be->n_watches; i++)
		if (dbus_watch_get_unix_fd(be->watches[i]) == fd &&
		    dbus_watch_get_enabled(be->watches[i]))
			todo[n++] = be->watches[i];
	for (size_t i = 0; i < n; i++) {
		unsigned flags = 0, want = dbus_watch_get_flags(todo[i]);
		if ((events & EPOLLIN) && (want & DBUS_WATCH_READABLE))
			flags |= DBUS_WATCH_READABLE;
		if ((events & EPOLLOUT) && (want & DBUS_WATCH_WRITABLE))
			flags |= DBUS_WATCH_WRITABLE;
		if (events & EPOLLERR)
			flags |= DBUS_WATCH_ERROR;
		if (events & EPOLLHUP)
			flags |= DBUS_WATCH_HANGUP;
		if (flags)
			dbus_watch_handle(todo[i], flags);
	}
	hd_schedule_dispatch(be);
}

static void hd_sync_fd(struct host_backend *be, int fd)
{
	uint32_t ev = hd_fd_events(be, fd);

	if (!ev) {
		env_fd_del(be->env, fd);
		return;
	}
	if (env_fd_mod(be->env, fd, ev) == -ENOENT)
		env_fd_add(be->env, fd, ev, hd_on_fd, be);
}

static dbus_bool_t hd_add_watch(DBusWatch *w, void *data)
{
	struct host_backend *be = data;

	if (be->n_watches == HD_MAX_WATCHES)
		return FALSE;
	be->watches[be->n_watches++] = w;
	hd_sync_fd(be, dbus_watch_get_unix_fd(w));
	return TRUE;
}

static void hd_remove_watch(DBusWatch *w, void *data)
{
	struct host_backend *be = data;

	for (size_t i = 0; i < be->n_watches; i++) {
		if (be->watches[i] == w) {
			be->watches[i] = be->watches[--be->n_watches];
			break;
		}
	}
	hd_sync_fd(be, dbus_watch_get_unix_fd(w));
}

static void hd_toggle_watch(DBusWatch *w, void *data)
{
	hd_sync_fd(data, dbus_watch_get_unix_fd(w));
}

/* --- timeouts --- */

static void hd_timeout_fire(void *data)
{
	struct hd_timeout *ht = data;

	/* Re-arm first: handling may remove (and free) the timeout. */
	ht->timer = env_timer_add(ht->be->env, (uint64_t)dbus_timeout_get_interval(ht->t),
	                          hd_timeout_fire, ht);
	dbus_timeout_handle(ht->t);
	hd_schedule_dispatch(ht->be);
}

static void hd_timeout_arm(struct hd_timeout *ht)
{
	if (ht->timer)
		env_timer_cancel(ht->be->env, ht->timer);
	ht->timer = NULL;
	if (dbus_timeout_get_enabled(ht->t))
		ht->timer = env_timer_add(ht->be->env, (uint64_t)dbus_timeout_get_interval(ht->t),
		                          hd_timeout_fire, ht);
}

static void hd_timeout_free(void *data)
{
	struct hd_timeout *ht = data;

	if (ht->timer)
		env_timer_cancel(ht->be->env, ht->timer);
	free(ht);
}

static dbus_bool_t hd_add_timeout(DBusTimeout *t, void *data)
{
	struct hd_timeout *ht = calloc(1, sizeof(*ht));

	if (!ht)
		return FALSE;
	ht->be = data;
	ht->t = t;
	dbus_timeout_set_data(t, ht, hd_timeout_free);
	hd_timeout_arm(ht);
	return TRUE;
}

static void hd_remove_timeout(DBusTimeout *t, void *data)
{
	struct hd_timeout *ht = dbus_timeout_get_data(t);

	if (ht && ht->timer) {
		env_timer_cancel(ht->be->env, ht->timer);
		ht->timer = NULL;
	}
}

static void hd_toggle_timeout(DBusTimeout *t, void *data)
{
	struct hd_timeout *ht = dbus_timeout_get_data(t);

	if (ht)
		hd_timeout_arm(ht);
}

/* --- connection --- */

static void hd_dispatch(void *data)
{
	struct host_backend *be = data;

	be->dispatch_posted = false;
	if (!be->conn)
		return;
	dbus_connection_ref(be->conn);
	while (dbus_connection_dispatch(be->conn) == DBUS_DISPATCH_DATA_REMAINS)
		;
	dbus_connection_unref(be->conn);
}

static void hd_dispatch_status(DBusConnection *c, DBusDispatchStatus status, void *data)
{
	if (status == DBUS_DISPATCH_DATA_REMAINS)
		hd_schedule_dispatch(data);
}

static void hd_unlink(struct hd_call *c);

/* Calls still waiting on a connection we drop will never be answered. */
static void hd_fail_calls(struct host_backend *be, int err, const char *why)
{
	while (be->calls) {
		struct hd_call *c = be->calls;
		struct host_result res = {.err = err};
		snprintf(res.message, sizeof(res.message), "%s", why);
		hd_unlink(c);
		dbus_pending_call_cancel(c->pending);
		dbus_pending_call_unref(c->pending);
		c->done(c->data, &res);
		free(c);
	}
}

static void hd_disconnect(struct host_backend *be)
{
	hd_fail_calls(be, -ENODEV, "the system bus connection was lost");
	if (!be->conn)
		return;
	dbus_connection_close(be->conn);
	dbus_connection_unref(be->conn); /* removes our watches and timeouts */
	be->conn = NULL;
}

static int hd_connect(struct host_backend *be, char *msg, size_t len)
{
	DBusError err;
	DBusMessage *hello;

	if (be->conn && dbus_connection_get_is_connected(be->conn))
		return 0;
	if (be->conn) {
		env_log(be->env, DRV_LOG_WARN, "host", "system bus connection lost; reconnecting");
		hd_disconnect(be);
	}
	dbus_error_init(&err);
	be->conn = dbus_connection_open_private(be->address, &err);
	if (!be->conn) {
		snprintf(msg, len, "system bus unavailable (%.100s): %.100s", be->address,
		         err.message);
		dbus_error_free(&err);
		return -ENODEV;
	}
	dbus_connection_set_exit_on_disconnect(be->conn, FALSE);
	if (!dbus_connection_set_watch_functions(be->conn, hd_add_watch, hd_remove_watch,
	                                         hd_toggle_watch, be, NULL) ||
	    !dbus_connection_set_timeout_functions(be->conn, hd_add_timeout, hd_remove_timeout,
	                                           hd_toggle_timeout, be, NULL)) {
		hd_disconnect(be);
		snprintf(msg, len, "out of memory");
		return -ENOMEM;
	}
	dbus_connection_set_dispatch_status_function(be->conn, hd_dispatch_status, be, NULL);
	/* Hello without waiting for it (dbus_bus_register would block the loop):
	 * the bus handles our messages in order, Hello first. */
	hello = dbus_message_new_method_call(DBUS_SERVICE_DBUS, DBUS_PATH_DBUS, DBUS_INTERFACE_DBUS,
	                                     "Hello");
	if (!hello || !dbus_connection_send(be->conn, hello, NULL)) {
		if (hello)
			dbus_message_unref(hello);
		hd_disconnect(be);
		snprintf(msg, len, "cannot greet the system bus");
		return -ENODEV;
	}
	dbus_message_unref(hello);
	env_log(be->env, DRV_LOG_INFO, "host", "connected to the system bus at %s", be->address);
	return 0;
}

static int hd_open(struct host_backend **out, const struct host_params *params)
{
	struct host_backend *be = calloc(1, sizeof(*be));
	const char *addr = getenv("DBUS_SYSTEM_BUS_ADDRESS");

	if (!be)
		return -ENOMEM;
	be->env = params->env;
	be->timeout_ms = params->timeout_ms ? params->timeout_ms : 5000;
	snprintf(be->address, sizeof(be->address), "%s", addr && *addr ? addr : HD_DEFAULT_ADDRESS);
	*out = be;
	return 0;
}

static void hd_unlink(struct hd_call *c)
{
	for (struct hd_call **pp = &c->be->calls; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			return;
		}
	}
}

static void hd_close(struct host_backend *be)
{
	hd_fail_calls(be, -ESHUTDOWN, "hwbrokerd is shutting down");
	hd_disconnect(be);
	free(be);
}

/* --- replies --- */

static int hd_error(DBusMessage *reply, struct host_result *res)
{
	const char *name = dbus_message_get_error_name(reply), *text = NULL;
	static const struct {
		const char *name;
		int err;
	} map[] = {
	        {DBUS_ERROR_SERVICE_UNKNOWN, -ENODEV}, {DBUS_ERROR_NAME_HAS_NO_OWNER, -ENODEV},
	        {DBUS_ERROR_DISCONNECTED, -ENODEV},    {DBUS_ERROR_UNKNOWN_OBJECT, -ENODEV},
	        {DBUS_ERROR_NO_REPLY, -ETIMEDOUT},     {DBUS_ERROR_TIMEOUT, -ETIMEDOUT},
	        {DBUS_ERROR_TIMED_OUT, -ETIMEDOUT},    {DBUS_ERROR_INVALID_ARGS, -EINVAL},
	};

	dbus_message_get_args(reply, NULL, DBUS_TYPE_STRING, &text, DBUS_TYPE_INVALID);
	snprintf(res->message, sizeof(res->message), "%s%s%s", name ? name : "error",
	         text ? ": " : "", text ? text : "");
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (name && !strcmp(name, map[i].name))
			return map[i].err;
	return -EIO;
}

/* Reads a variant's basic value of the given type. */
static bool hd_variant(DBusMessageIter *it, int type, void *out)
{
	DBusMessageIter v;

	if (dbus_message_iter_get_arg_type(it) != DBUS_TYPE_VARIANT)
		return false;
	dbus_message_iter_recurse(it, &v);
	if (dbus_message_iter_get_arg_type(&v) != type)
		return false;
	dbus_message_iter_get_basic(&v, out);
	return true;
}

static void hd_parse_time(DBusMessage *reply, struct host_result *res)
{
	DBusMessageIter it, dict, entry;
	struct timespec ts;

	/* timedated answers TimeUSec; if it does not, this host's clock is the answer. */
	clock_gettime(CLOCK_REALTIME, &ts);
	res->time_usec = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	if (!dbus_message_iter_init(reply, &it) ||
	    dbus_message_iter_get_arg_type(&it) != DBUS_TYPE_ARRAY)
		return;
	for (dbus_message_iter_recurse(&it, &dict);
	     dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY;
	     dbus_message_iter_next(&dict)) {
		const char *key, *s;
		dbus_bool_t b;
		dbus_uint64_t u;
		dbus_message_iter_recurse(&dict, &entry);
		dbus_message_iter_get_basic(&entry, &key);
		dbus_message_iter_next(&entry);
		if (!strcmp(key, "Timezone") && hd_variant(&entry, DBUS_TYPE_STRING, &s))
			snprintf(res->timezone, sizeof(res->timezone), "%s", s);
		else if (!strcmp(key, "NTP") && hd_variant(&entry, DBUS_TYPE_BOOLEAN, &b))
			res->ntp = b;
		else if (!strcmp(key, "NTPSynchronized") &&
		         hd_variant(&entry, DBUS_TYPE_BOOLEAN, &b))
			res->ntp_synchronized = b;
		else if (!strcmp(key, "TimeUSec") && hd_variant(&entry, DBUS_TYPE_UINT64, &u))
			res->time_usec = u;
	}
}

static void hd_parse(struct hd_call *c, DBusMessage *reply, struct host_result *res)
{
	DBusMessageIter it;
	const char *s;

	if (dbus_message_get_type(reply) == DBUS_MESSAGE_TYPE_ERROR) {
		res->err = hd_error(reply, res);
		return;
	}
	switch (c->action) {
	case HOST_GET_HOSTNAME:
		if (dbus_message_iter_init(reply, &it) && hd_variant(&it, DBUS_TYPE_STRING, &s))
			snprintf(res->hostname, sizeof(res->hostname), "%s", s);
		else
			res->err = -EIO;
		break;
	case HOST_GET_TIME:
		hd_parse_time(reply, res);
		break;
	case HOST_RESTART_UNIT:
		if (dbus_message_get_args(reply, NULL, DBUS_TYPE_OBJECT_PATH, &s,
		                          DBUS_TYPE_INVALID))
			snprintf(res->job, sizeof(res->job), "%s", s);
		break;
	default:
		break;
	}
	if (res->err == -EIO)
		snprintf(res->message, sizeof(res->message), "unexpected reply from the peer");
}

static void hd_notify(DBusPendingCall *pending, void *data)
{
	struct hd_call *c = data;
	struct host_result res = {0};
	DBusMessage *reply = dbus_pending_call_steal_reply(pending);

	hd_unlink(c);
	if (reply) {
		hd_parse(c, reply, &res);
		dbus_message_unref(reply);
	} else {
		res.err = -EIO;
		snprintf(res.message, sizeof(res.message), "no reply");
	}
	dbus_pending_call_unref(c->pending);
	c->done(c->data, &res);
	free(c);
}

static DBusMessage *hd_message(enum host_action action, const char *arg)
{
	static const char *const props = "org.freedesktop.DBus.Properties";
	dbus_bool_t no = FALSE;
	const char *replace = "replace", *iface, *prop;
	DBusMessage *m = NULL;

	switch (action) {
	case HOST_REBOOT:
	case HOST_POWEROFF:
		m = dbus_message_new_method_call("org.freedesktop.login1",
		                                 "/org/freedesktop/login1",
		                                 "org.freedesktop.login1.Manager",
		                                 action == HOST_REBOOT ? "Reboot" : "PowerOff");
		if (m)
			dbus_message_append_args(m, DBUS_TYPE_BOOLEAN, &no, DBUS_TYPE_INVALID);
		break;
	case HOST_GET_HOSTNAME:
		iface = "org.freedesktop.hostname1";
		prop = "Hostname";
		m = dbus_message_new_method_call("org.freedesktop.hostname1",
		                                 "/org/freedesktop/hostname1", props, "Get");
		if (m)
			dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING,
			                         &prop, DBUS_TYPE_INVALID);
		break;
	case HOST_SET_HOSTNAME:
		m = dbus_message_new_method_call("org.freedesktop.hostname1",
		                                 "/org/freedesktop/hostname1",
		                                 "org.freedesktop.hostname1", "SetStaticHostname");
		if (m)
			dbus_message_append_args(m, DBUS_TYPE_STRING, &arg, DBUS_TYPE_BOOLEAN, &no,
			                         DBUS_TYPE_INVALID);
		break;
	case HOST_GET_TIME:
		iface = "org.freedesktop.timedate1";
		m = dbus_message_new_method_call("org.freedesktop.timedate1",
		                                 "/org/freedesktop/timedate1", props, "GetAll");
		if (m)
			dbus_message_append_args(m, DBUS_TYPE_STRING, &iface, DBUS_TYPE_INVALID);
		break;
	case HOST_RESTART_UNIT:
		m = dbus_message_new_method_call("org.freedesktop.systemd1",
		                                 "/org/freedesktop/systemd1",
		                                 "org.freedesktop.systemd1.Manager", "RestartUnit");
		if (m)
			dbus_message_append_args(m, DBUS_TYPE_STRING, &arg, DBUS_TYPE_STRING,
			                         &replace, DBUS_TYPE_INVALID);
		break;
	}
	return m;
}

static int hd_call(struct host_backend *be, enum host_action action, const char *arg,
                   host_done_fn done, void *data)
{
	char msg[256];
	struct hd_call *c;
	DBusMessage *m;
	int r = hd_connect(be, msg, sizeof(msg));

	if (r < 0) {
		env_log(be->env, DRV_LOG_WARN, "host", "%s", msg);
		return r;
	}
	m = hd_message(action, arg);
	c = calloc(1, sizeof(*c));
	if (!m || !c) {
		if (m)
			dbus_message_unref(m);
		free(c);
		return -ENOMEM;
	}
	c->be = be;
	c->action = action;
	c->done = done;
	c->data = data;
	if (!dbus_connection_send_with_reply(be->conn, m, &c->pending, (int)be->timeout_ms) ||
	    !c->pending) {
		dbus_message_unref(m);
		free(c);
		hd_disconnect(be);
		return -ENODEV;
	}
	dbus_message_unref(m);
	if (!dbus_pending_call_set_notify(c->pending, hd_notify, c, NULL)) {
		dbus_pending_call_cancel(c->pending);
		dbus_pending_call_unref(c->pending);
		free(c);
		return -ENOMEM;
	}
	c->next = be->calls;
	be->calls = c;
	hd_schedule_dispatch(be);
	return 0;
}

const struct host_ops host_dbus_ops = {
        .name = "dbus",
        .open = hd_open,
        .close = hd_close,
        .call = hd_call,
};
