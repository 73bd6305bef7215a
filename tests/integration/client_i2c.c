/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libhwbroker's SMBus and transfer calls against hwbrokerd --sim
 * (service with bus 1 addresses 0x50, 0x76, 0x77). Usage: client_i2c SOCKET */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hwbroker.h"

int main(int argc, char **argv)
{
	struct hwb *h;
	uint8_t block[32], reg = 0x40, rd[4] = {0};

	CHECK(argc == 2);
	h = hwb_connect(argv[1]);
	CHECK(h);
	CHECK(hwb_smbus_read_byte_data(h, 1, 0x76, 0xD0) == 0x60);
	CHECK(hwb_smbus_write_byte_data(h, 1, 0x50, 0x30, 0x5a) == 0);
	CHECK(hwb_smbus_read_byte_data(h, 1, 0x50, 0x30) == 0x5a);
	CHECK(hwb_smbus_write_word_data(h, 1, 0x50, 0x32, 0xbeef) == 0);
	CHECK(hwb_smbus_read_word_data(h, 1, 0x50, 0x32) == 0xbeef);
	const uint8_t data[4] = {9, 8, 7, 6};
	CHECK(hwb_smbus_write_i2c_block_data(h, 1, 0x50, 0x40, 4, data) == 0);
	CHECK(hwb_smbus_read_i2c_block_data(h, 1, 0x50, 0x40, 4, block) == 4);
	CHECK(!memcmp(block, data, 4));
	struct hwb_i2c_msg msgs[2] = {{sizeof(msgs[0]), &reg, 1, 0}, {sizeof(msgs[1]), rd, 4, 1}};
	CHECK(hwb_i2c_transfer(h, 1, 0x50, msgs, 2) == 0);
	CHECK(!memcmp(rd, data, 4));
	/* An SMBus block write puts its count on the wire: the EEPROM stores it. */
	CHECK(hwb_smbus_write_block_data(h, 1, 0x50, 0x48, 3, data) == 0);
	CHECK(hwb_smbus_read_block_data(h, 1, 0x50, 0x48, block) == 3);
	CHECK(!memcmp(block, data, 3));
	CHECK(hwb_smbus_write_quick(h, 1, 0x50, 0) == 0);
	CHECK(hwb_smbus_read_byte(h, 1, 0x77) == -EREMOTEIO);
	CHECK(!strcmp(hwb_error_code(h), "nack"));
	CHECK(hwb_smbus_read_byte(h, 1, 0x48) == -EACCES);
	CHECK(hwb_smbus_read_i2c_block_data(h, 1, 0x50, 0, 33, block) == -EINVAL);
	hwb_close(h);
	printf("ok\n");
	return 0;
}
