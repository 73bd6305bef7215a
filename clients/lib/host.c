/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host-action calls of libhwbroker. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_private.h"

static int host_power(struct hwb *h, const char *path, const char *reason)
{
	json_t *body = reason ? json_pack("{s:s}", "reason", reason) : json_object();
	int r = hwb_call_json(h, "POST", path, body, NULL);

	json_decref(body);
	return r < 0 ? r : 0;
}

HWB_EXPORT int hwb_host_reboot(struct hwb *h, const char *reason)
{
	return host_power(h, "/v1/host/reboot", reason);
}

HWB_EXPORT int hwb_host_poweroff(struct hwb *h, const char *reason)
{
	return host_power(h, "/v1/host/poweroff", reason);
}

HWB_EXPORT int hwb_host_get_hostname(struct hwb *h, char **hostname)
{
	json_t *reply = NULL;
	int r = hwb_call_json(h, "GET", "/v1/host/hostname", NULL, &reply);

	*hostname = NULL;
	if (r < 0)
		return r;
	*hostname = strdup(json_string_value(json_object_get(reply, "hostname")) ?: "");
	json_decref(reply);
	return *hostname ? 0 : -ENOMEM;
}

HWB_EXPORT int hwb_host_set_hostname(struct hwb *h, const char *hostname)
{
	json_t *body = json_pack("{s:s}", "hostname", hostname ? hostname : "");
	int r = hwb_call_json(h, "PUT", "/v1/host/hostname", body, NULL);

	json_decref(body);
	return r < 0 ? r : 0;
}

HWB_EXPORT int hwb_host_time(struct hwb *h, struct hwb_host_time *out)
{
	struct hwb_host_time t = {.size = sizeof(t)};
	json_t *reply = NULL;
	int r;

	if (!out || out->size < HWB_SIZE_V1(struct hwb_host_time, time_usec))
		return hwb_set_error(h, -EINVAL, "invalid",
		                     "struct hwb_host_time: size not set (HWB_HOST_TIME_INIT)");
	r = hwb_call_json(h, "GET", "/v1/host/time", NULL, &reply);
	if (r < 0)
		return r;
	snprintf(t.timezone, sizeof(t.timezone), "%s",
	         json_string_value(json_object_get(reply, "timezone")) ?: "");
	t.ntp = json_is_true(json_object_get(reply, "ntp"));
	t.ntp_synchronized = json_is_true(json_object_get(reply, "ntp_synchronized"));
	t.time_usec = (uint64_t)json_integer_value(json_object_get(reply, "time_usec"));
	json_decref(reply);
	memcpy((char *)out + sizeof(out->size), (char *)&t + sizeof(t.size),
	       HWB_MIN(out->size, sizeof(t)) - sizeof(t.size));
	return 0;
}

HWB_EXPORT int hwb_host_restart_unit(struct hwb *h, const char *unit)
{
	char path[512];
	int r;

	if (hwb_path(path, sizeof(path), "/v1/host/units/%s/restart", unit) < 0)
		return hwb_set_error(h, -ENAMETOOLONG, "invalid", "unit name too long");
	r = hwb_call_json(h, "POST", path, NULL, NULL);
	return r < 0 ? r : 0;
}
