/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The io.hwbroker.* label grammars: the first byte picks the label, the rest
 * is its value, derived beside device entries it may narrow. Nothing may
 * crash, leak or read out of bounds; a derived policy must answer
 * decisions and describe itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static const char *const keys[] = {"io.hwbroker.gpio", "io.hwbroker.i2c", "io.hwbroker.uart",
                                   "io.hwbroker.host", "io.hwbroker.units"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL;
	json_t *errors = NULL, *svc;
	char *value;

	if (size < 1)
		return 0;
	value = strndup((const char *)data + 1, size - 1);
	if (!value)
		return 0;
	svc = json_pack("{s:[s,s,s],s:{s:s}}", "devices", "/dev/i2c-1:/dev/i2c-1:r",
	                "/dev/gpiochip0:/dev/gpiochip0:r", "/dev/ttyS0", "labels",
	                keys[data[0] % 5], value);
	if (svc && policy_derive("f", svc, &p, &errors) == 0) {
		struct policy_decision d;
		struct policy_request r = {.kind = POLICY_I2C,
		                           .access = POLICY_READ | POLICY_WRITE,
		                           .bus = 1,
		                           .addr = data[0] & 0x7f};
		struct policy_request g = {.kind = POLICY_GPIO,
		                           .access = POLICY_READ | POLICY_WRITE,
		                           .chip = "gpiochip0",
		                           .chip_label = value,
		                           .line = data[0],
		                           .line_name = value};
		struct policy_request h = {.kind = POLICY_HOST, .action = value};
		struct policy_request u = {.kind = POLICY_UNIT, .unit = value};
		policy_allows(p, &r, &d);
		policy_allows(p, &g, &d);
		policy_allows(p, &h, &d);
		policy_allows(p, &u, &d);
		json_decref(policy_to_json(p));
		policy_free(p);
	}
	json_decref(errors);
	json_decref(svc);
	free(value);
	return 0;
}
