/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Device models of the simulated I2C buses. A model sees raw I2C messages:
 * write() gets the bytes of a write message, read() fills a read message;
 * messages of one combined transaction arrive in order. Private. */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct i2c_sim_model {
	const char *name; /* board-file "model" */
	void *(*create)(void);
	void (*destroy)(void *dev);
	int (*write)(void *dev, const uint8_t *buf, size_t n);
	int (*read)(void *dev, uint8_t *buf, size_t n);
	/* Lasting state only (memory, configuration): new reference. */
	json_t *(*snapshot)(const void *dev);
};

extern const struct i2c_sim_model i2c_sim_bme280, i2c_sim_eeprom;

/* BME280 datasheet compensation (integer versions), shared with tests. */
struct bme280_calib {
	uint16_t t1;
	int16_t t2, t3;
	uint16_t p1;
	int16_t p2, p3, p4, p5, p6, p7, p8, p9;
	uint8_t h1, h3;
	int16_t h2, h4, h5;
	int8_t h6;
};
int32_t bme280_compensate_t(const struct bme280_calib *c, int32_t adc_t, int32_t *t_fine);
uint32_t bme280_compensate_p(const struct bme280_calib *c, int32_t adc_p, int32_t t_fine);
uint32_t bme280_compensate_h(const struct bme280_calib *c, int32_t adc_h, int32_t t_fine);
