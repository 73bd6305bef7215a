/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulated I2C parts behave like the real ones. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "i2c.h"
#include "i2c_sim.h"

static struct i2c_backend *open_sim(void)
{
	struct i2c_backend *be = NULL;
	assert_int_equal(i2c_sim_ops.open(&be, NULL), 0);
	return be;
}

static int xfer(struct i2c_backend *be, unsigned addr, uint8_t *w, uint16_t wl, uint8_t *r,
                uint16_t rl)
{
	struct i2c_xfer_msg m[2] = {{false, wl, w}, {true, rl, r}};
	struct i2c_status st = {0};
	return i2c_sim_ops.transfer(be, 1, addr, m, rl ? 2 : 1, &st);
}

static void test_bme280(void **state)
{
	struct i2c_backend *be = open_sim();
	uint8_t reg = 0xD0, id = 0, cal[26], d[8], ctrl[2] = {0xF4, 0x25};
	struct bme280_calib c = {0};
	int32_t t_fine;

	assert_int_equal(xfer(be, 0x76, &reg, 1, &id, 1), 0);
	assert_int_equal(id, 0x60);
	reg = 0x88;
	assert_int_equal(xfer(be, 0x76, &reg, 1, cal, 26), 0);
	c.t1 = (uint16_t)(cal[0] | cal[1] << 8);
	c.t2 = (int16_t)(cal[2] | cal[3] << 8);
	c.t3 = (int16_t)(cal[4] | cal[5] << 8);
	c.p1 = (uint16_t)(cal[6] | cal[7] << 8);
	c.p2 = (int16_t)(cal[8] | cal[9] << 8);
	c.p3 = (int16_t)(cal[10] | cal[11] << 8);
	c.p4 = (int16_t)(cal[12] | cal[13] << 8);
	c.p5 = (int16_t)(cal[14] | cal[15] << 8);
	c.p6 = (int16_t)(cal[16] | cal[17] << 8);
	c.p7 = (int16_t)(cal[18] | cal[19] << 8);
	c.p8 = (int16_t)(cal[20] | cal[21] << 8);
	c.p9 = (int16_t)(cal[22] | cal[23] << 8);
	/* Before a measurement the data registers are empty. */
	reg = 0xF7;
	assert_int_equal(xfer(be, 0x76, &reg, 1, d, 8), 0);
	assert_int_equal(d[3] | d[4], 0);
	/* Forced mode measures, then the part goes back to sleep. */
	assert_int_equal(xfer(be, 0x76, ctrl, 2, NULL, 0), 0);
	assert_int_equal(xfer(be, 0x76, &reg, 1, d, 8), 0);
	int32_t adc_t = d[3] << 12 | d[4] << 4 | d[5] >> 4,
	        adc_p = d[0] << 12 | d[1] << 4 | d[2] >> 4;
	int32_t t = bme280_compensate_t(&c, adc_t, &t_fine);
	uint32_t p = bme280_compensate_p(&c, adc_p, t_fine);
	assert_true(t > 1500 && t < 3000);                /* 15..30 degC */
	assert_true(p / 256 > 95000 && p / 256 < 105000); /* Pa */
	reg = 0xF4;
	assert_int_equal(xfer(be, 0x76, &reg, 1, ctrl, 1), 0);
	assert_int_equal(ctrl[0] & 3, 0);
	i2c_sim_ops.close(be);
}

static void test_eeprom_page_wrap_and_nack(void **state)
{
	struct i2c_backend *be = open_sim();
	uint8_t w[] = {0x0E, 1, 2, 3, 4}, reg = 0x08, r[8];
	struct i2c_status st = {0};
	struct i2c_xfer_msg m = {true, 1, r};

	/* 0x0E, 0x0F, then back to 0x08: the page is 8 bytes. */
	assert_int_equal(xfer(be, 0x50, w, sizeof(w), NULL, 0), 0);
	assert_int_equal(xfer(be, 0x50, &reg, 1, r, 8), 0);
	uint8_t want[8] = {3, 4, 0xff, 0xff, 0xff, 0xff, 1, 2};
	assert_memory_equal(r, want, 8);
	assert_int_equal(i2c_sim_ops.transfer(be, 1, 0x51, &m, 1, &st), -EREMOTEIO);
	assert_int_equal(st.kerr, ENXIO);
	assert_int_equal(i2c_sim_ops.transfer(be, 7, 0x50, &m, 1, &st), -ENOENT);
	struct i2c_smbus s = {.op = I2C_OP_READ_WORD_DATA, .command = 0x0E};
	assert_int_equal(i2c_sim_ops.smbus(be, 1, 0x50, &s, &st), 0);
	assert_int_equal(s.result, 0x0201); /* 0x0E, 0x0F: LSB first */
	i2c_sim_ops.close(be);
}

static void test_op_names(void **state)
{
	for (int i = 0; i < I2C_OP_COUNT; i++)
		assert_int_equal(i2c_op_from_name(i2c_op_name((enum i2c_op)i)), i);
	assert_int_equal(i2c_op_from_name("nope"), -1);
	assert_true(i2c_op_writes(I2C_OP_PROCESS_CALL));
	assert_false(i2c_op_writes(I2C_OP_QUICK));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_bme280),
	        cmocka_unit_test(test_eeprom_page_wrap_and_nack),
	        cmocka_unit_test(test_op_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
