/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hwb_version() and the version macros. Prints the library's version and
 * "ok"; the Python side compares it with the project version. Linked with
 * the shared library, so that hwb_version() is the exported symbol. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hwbroker.h"

int main(void)
{
	char macros[64];
	const char *v = hwb_version();
	unsigned major, minor, patch;
	char end;

	CHECK(v != NULL);
	CHECK(sscanf(v, "%u.%u.%u%c", &major, &minor, &patch, &end) == 3);
	CHECK(!strcmp(v, HWB_VERSION_STRING));
	snprintf(macros, sizeof(macros), "%d.%d.%d", HWB_VERSION_MAJOR, HWB_VERSION_MINOR,
	         HWB_VERSION_PATCH);
	CHECK(!strcmp(macros, HWB_VERSION_STRING));
	CHECK(major == HWB_VERSION_MAJOR && minor == HWB_VERSION_MINOR &&
	      patch == HWB_VERSION_PATCH);

	/* HWB_CHECK_VERSION: this version and anything older, nothing newer. */
	CHECK(HWB_CHECK_VERSION(HWB_VERSION_MAJOR, HWB_VERSION_MINOR, HWB_VERSION_PATCH));
	CHECK(HWB_CHECK_VERSION(0, 0, 0));
	CHECK(!HWB_CHECK_VERSION(HWB_VERSION_MAJOR, HWB_VERSION_MINOR, HWB_VERSION_PATCH + 1));
	CHECK(!HWB_CHECK_VERSION(HWB_VERSION_MAJOR, HWB_VERSION_MINOR + 1, 0));
	CHECK(!HWB_CHECK_VERSION(HWB_VERSION_MAJOR + 1, 0, 0));
	if (HWB_VERSION_PATCH > 0)
		CHECK(HWB_CHECK_VERSION(HWB_VERSION_MAJOR, HWB_VERSION_MINOR,
		                        HWB_VERSION_PATCH - 1));
	if (HWB_VERSION_MINOR > 0)
		CHECK(HWB_CHECK_VERSION(HWB_VERSION_MAJOR, HWB_VERSION_MINOR - 1, 99));
#if !HWB_CHECK_VERSION(0, 1, 0)
#error "HWB_CHECK_VERSION must work in #if"
#endif
	printf("%s\nok\n", v);
	return 0;
}
