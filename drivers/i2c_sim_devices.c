/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Simulated parts: a BME280-like sensor and a 24C02-like EEPROM. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "i2c_sim.h"

/* --- BME280 --- */

#define BME280_CHIP_ID       0x60
#define BME280_REG_ID        0xD0
#define BME280_REG_RESET     0xE0
#define BME280_REG_CTRL_HUM  0xF2
#define BME280_REG_STATUS    0xF3
#define BME280_REG_CTRL_MEAS 0xF4
#define BME280_REG_DATA      0xF7

/* Calibration of a real part (datasheet example values for T and P). */
static const struct bme280_calib bme280_default_calib = {
        27504, 26435,  -1000, 36477, -10685, 3024, 2855, 140, -7,
        15500, -14600, 6000,  75,    0,      362,  313,  50,  30,
};

struct bme280 {
	uint8_t regs[256];
	uint8_t ptr;
	struct bme280_calib calib;
};

int32_t bme280_compensate_t(const struct bme280_calib *c, int32_t adc_t, int32_t *t_fine)
{
	int32_t var1 = ((((adc_t >> 3) - ((int32_t)c->t1 << 1))) * ((int32_t)c->t2)) >> 11;
	int32_t var2 =
	        (((((adc_t >> 4) - ((int32_t)c->t1)) * ((adc_t >> 4) - ((int32_t)c->t1))) >> 12) *
	         ((int32_t)c->t3)) >>
	        14;
	*t_fine = var1 + var2;
	return (*t_fine * 5 + 128) >> 8; /* 0.01 degC */
}

uint32_t bme280_compensate_p(const struct bme280_calib *c, int32_t adc_p, int32_t t_fine)
{
	int64_t var1 = ((int64_t)t_fine) - 128000, var2, p;

	var2 = var1 * var1 * (int64_t)c->p6;
	var2 = var2 + var1 * (int64_t)c->p5 * 131072; /* << 17, without UB on negatives */
	var2 = var2 + (int64_t)c->p4 * 34359738368LL; /* << 35 */
	var1 = ((var1 * var1 * (int64_t)c->p3) >> 8) + var1 * (int64_t)c->p2 * 4096;
	var1 = (((((int64_t)1) << 47) + var1)) * ((int64_t)c->p1) >> 33;
	if (var1 == 0)
		return 0;
	p = 1048576 - adc_p;
	p = (((p << 31) - var2) * 3125) / var1;
	var1 = (((int64_t)c->p9) * (p >> 13) * (p >> 13)) >> 25;
	var2 = (((int64_t)c->p8) * p) >> 19;
	p = ((p + var1 + var2) >> 8) + (int64_t)c->p7 * 16;
	return (uint32_t)p; /* Pa in Q24.8 */
}

/* The datasheet's formula, in 64 bits so that no input overflows. */
uint32_t bme280_compensate_h(const struct bme280_calib *c, int32_t adc_h, int32_t t_fine)
{
	int64_t v = (int64_t)t_fine - 76800;

	v = ((((((int64_t)adc_h << 14) - ((int64_t)c->h4 * 1048576) - ((int64_t)c->h5 * v)) +
	       16384) >>
	      15) *
	     (((((((v * c->h6) >> 10) * (((v * c->h3) >> 11) + 32768)) >> 10) + 2097152) * c->h2 +
	       8192) >>
	      14));
	v = v - (((((v >> 15) * (v >> 15)) >> 7) * (int64_t)c->h1) >> 4);
	v = v < 0 ? 0 : v;
	v = v > 419430400 ? 419430400 : v;
	return (uint32_t)(v >> 12); /* %RH in Q22.10 */
}

static void bme280_store_calib(struct bme280 *d)
{
	const struct bme280_calib *c = &d->calib;
	uint8_t *r = d->regs;
	const uint16_t tp[12] = {c->t1,           (uint16_t)c->t2, (uint16_t)c->t3,
	                         c->p1,           (uint16_t)c->p2, (uint16_t)c->p3,
	                         (uint16_t)c->p4, (uint16_t)c->p5, (uint16_t)c->p6,
	                         (uint16_t)c->p7, (uint16_t)c->p8, (uint16_t)c->p9};

	for (int i = 0; i < 12; i++) {
		r[0x88 + 2 * i] = tp[i] & 0xff;
		r[0x89 + 2 * i] = tp[i] >> 8;
	}
	r[0xA1] = c->h1;
	r[0xE1] = (uint16_t)c->h2 & 0xff;
	r[0xE2] = (uint16_t)c->h2 >> 8;
	r[0xE3] = c->h3;
	r[0xE4] = (uint8_t)(c->h4 >> 4);
	r[0xE5] = (uint8_t)((c->h4 & 0x0f) | ((c->h5 & 0x0f) << 4));
	r[0xE6] = (uint8_t)(c->h5 >> 4);
	r[0xE7] = (uint8_t)c->h6;
}

static void *bme280_create(void)
{
	struct bme280 *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->calib = bme280_default_calib;
	d->regs[BME280_REG_ID] = BME280_CHIP_ID;
	bme280_store_calib(d);
	return d;
}

/* Finds the raw ADC value whose compensated value is closest to target;
 * f is monotonic (increasing when up, else decreasing) over [0, 2^bits). */
static int32_t bme280_invert(int64_t (*f)(const struct bme280 *, int32_t, int32_t),
                             const struct bme280 *d, int32_t t_fine, int64_t target, int bits,
                             bool up)
{
	int32_t lo = 0, hi = (1 << bits) - 1;

	while (lo < hi) {
		int32_t mid = lo + (hi - lo) / 2;
		int64_t v = f(d, mid, t_fine);
		if (up ? v < target : v > target)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int64_t bme280_t_of(const struct bme280 *d, int32_t adc, int32_t unused)
{
	int32_t tf;
	(void)unused;
	return bme280_compensate_t(&d->calib, adc, &tf);
}

static int64_t bme280_p_of(const struct bme280 *d, int32_t adc, int32_t t_fine)
{
	return bme280_compensate_p(&d->calib, adc, t_fine);
}

static int64_t bme280_h_of(const struct bme280 *d, int32_t adc, int32_t t_fine)
{
	return bme280_compensate_h(&d->calib, adc, t_fine);
}

/* A measurement: plausible indoor weather drifting slowly with time. */
static void bme280_measure(struct bme280 *d)
{
	struct timespec ts;
	double t, temp_c, press_pa, hum;
	int32_t adc_t, adc_p, adc_h, t_fine;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	temp_c = 22.0 + 1.5 * sin(t / 600.0);
	press_pa = 101325.0 + 200.0 * sin(t / 900.0);
	hum = 45.0 + 5.0 * sin(t / 700.0);
	adc_t = bme280_invert(bme280_t_of, d, 0, (int64_t)(temp_c * 100), 20, true);
	bme280_compensate_t(&d->calib, adc_t, &t_fine);
	adc_p = bme280_invert(bme280_p_of, d, t_fine, (int64_t)(press_pa * 256), 20, false);
	adc_h = bme280_invert(bme280_h_of, d, t_fine, (int64_t)(hum * 1024), 16, true);
	d->regs[0xF7] = (uint8_t)(adc_p >> 12);
	d->regs[0xF8] = (uint8_t)(adc_p >> 4);
	d->regs[0xF9] = (uint8_t)((adc_p & 0x0f) << 4);
	d->regs[0xFA] = (uint8_t)(adc_t >> 12);
	d->regs[0xFB] = (uint8_t)(adc_t >> 4);
	d->regs[0xFC] = (uint8_t)((adc_t & 0x0f) << 4);
	d->regs[0xFD] = (uint8_t)(adc_h >> 8);
	d->regs[0xFE] = (uint8_t)adc_h;
}

static void bme280_write_reg(struct bme280 *d, uint8_t reg, uint8_t v)
{
	if (reg == BME280_REG_RESET) {
		if (v == 0xB6) {
			memset(d->regs + 0xF2, 0, 0x100 - 0xF2);
			d->regs[BME280_REG_ID] = BME280_CHIP_ID;
		}
		return;
	}
	if (reg != BME280_REG_CTRL_HUM && reg != BME280_REG_CTRL_MEAS && reg != 0xF5)
		return; /* read-only registers */
	d->regs[reg] = v;
	if (reg == BME280_REG_CTRL_MEAS && (v & 3)) {
		/* Forced (01/10) or normal (11) mode: a result is ready at once
		 * here; forced mode then goes back to sleep, as the part does. */
		bme280_measure(d);
		if ((v & 3) != 3)
			d->regs[BME280_REG_CTRL_MEAS] &= (uint8_t)~3u;
	}
}

/* Writes are the register address then (register, value) pairs; the first
 * value goes to the addressed register. */
static int bme280_write(void *dev, const uint8_t *buf, size_t n)
{
	struct bme280 *d = dev;

	if (n == 0)
		return 0;
	d->ptr = buf[0];
	if (n >= 2)
		bme280_write_reg(d, buf[0], buf[1]);
	for (size_t i = 2; i + 1 < n; i += 2)
		bme280_write_reg(d, buf[i], buf[i + 1]);
	return 0;
}

static int bme280_read(void *dev, uint8_t *buf, size_t n)
{
	struct bme280 *d = dev;

	/* In normal mode the part keeps measuring. */
	if ((d->regs[BME280_REG_CTRL_MEAS] & 3) == 3 && d->ptr >= BME280_REG_DATA)
		bme280_measure(d);
	for (size_t i = 0; i < n; i++)
		buf[i] = d->regs[d->ptr++];
	return 0;
}

/* Measurements change by themselves; what a client can change is the
 * configuration. */
static json_t *bme280_snapshot(const void *dev)
{
	const struct bme280 *d = dev;

	return json_pack("{s:i,s:i,s:i}", "ctrl_hum", d->regs[BME280_REG_CTRL_HUM], "ctrl_meas",
	                 d->regs[BME280_REG_CTRL_MEAS], "config", d->regs[0xF5]);
}

const struct i2c_sim_model i2c_sim_bme280 = {"bme280",     bme280_create, free,
                                             bme280_write, bme280_read,   bme280_snapshot};

/* --- 24C02 EEPROM: 256 bytes, 8-byte pages --- */

#define EEPROM_SIZE 256
#define EEPROM_PAGE 8

struct eeprom {
	uint8_t mem[EEPROM_SIZE];
	uint8_t ptr;
};

static void *eeprom_create(void)
{
	struct eeprom *e = calloc(1, sizeof(*e));

	if (e)
		memset(e->mem, 0xff, sizeof(e->mem)); /* erased */
	return e;
}

static int eeprom_write(void *dev, const uint8_t *buf, size_t n)
{
	struct eeprom *e = dev;

	if (n == 0)
		return 0;
	e->ptr = buf[0];
	/* Page write: the address counter wraps within the 8-byte page. */
	uint8_t page = e->ptr & (uint8_t) ~(EEPROM_PAGE - 1), off = e->ptr & (EEPROM_PAGE - 1);
	for (size_t i = 1; i < n; i++) {
		e->mem[page | off] = buf[i];
		off = (off + 1) & (EEPROM_PAGE - 1);
	}
	if (n > 1)
		e->ptr = page | off;
	return 0;
}

static int eeprom_read(void *dev, uint8_t *buf, size_t n)
{
	struct eeprom *e = dev;

	for (size_t i = 0; i < n; i++)
		buf[i] = e->mem[e->ptr++]; /* sequential reads roll over the whole array */
	return 0;
}

static json_t *eeprom_snapshot(const void *dev)
{
	const struct eeprom *e = dev;
	json_t *mem = json_array();

	for (size_t i = 0; i < EEPROM_SIZE; i++)
		json_array_append_new(mem, json_integer(e->mem[i]));
	return json_pack("{s:o}", "memory", mem);
}

const struct i2c_sim_model i2c_sim_eeprom = {"24c02",      eeprom_create, free,
                                             eeprom_write, eeprom_read,   eeprom_snapshot};
