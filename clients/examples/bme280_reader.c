/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A sensor service: reads a BME280 through hwbrokerd and prints compensated
 * temperature, pressure and humidity. It needs no /dev/i2c-1 and no
 * privileges, only its hwbroker socket ($HWBROKER_SOCKET).
 *
 * Usage: bme280_reader [--bus N] [--address A] [--count N] [--interval S] [--json] */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hwbroker.h>

struct calib {
	uint16_t t1;
	int16_t t2, t3;
	uint16_t p1;
	int16_t p2, p3, p4, p5, p6, p7, p8, p9;
	uint8_t h1, h3;
	int16_t h2, h4, h5;
	int8_t h6;
};

static int read_block(struct hwb *h, unsigned bus, unsigned addr, uint8_t reg, uint8_t *buf,
                      uint16_t len)
{
	struct hwb_i2c_msg msgs[2] = {
	        {.size = sizeof(msgs[0]), .buf = &reg, .len = 1},
	        {.size = sizeof(msgs[1]), .buf = buf, .len = len, .read = 1},
	};
	return hwb_i2c_transfer(h, bus, addr, msgs, 2);
}

static int read_calib(struct hwb *h, unsigned bus, unsigned addr, struct calib *c)
{
	uint8_t a[26], b[7];
	int r;

	if ((r = read_block(h, bus, addr, 0x88, a, sizeof(a))) < 0 ||
	    (r = read_block(h, bus, addr, 0xE1, b, sizeof(b))) < 0)
		return r;
#define U16(p, i) ((uint16_t)((p)[i] | (p)[(i) + 1] << 8))
	c->t1 = U16(a, 0);
	c->t2 = (int16_t)U16(a, 2);
	c->t3 = (int16_t)U16(a, 4);
	c->p1 = U16(a, 6);
	c->p2 = (int16_t)U16(a, 8);
	c->p3 = (int16_t)U16(a, 10);
	c->p4 = (int16_t)U16(a, 12);
	c->p5 = (int16_t)U16(a, 14);
	c->p6 = (int16_t)U16(a, 16);
	c->p7 = (int16_t)U16(a, 18);
	c->p8 = (int16_t)U16(a, 20);
	c->p9 = (int16_t)U16(a, 22);
	c->h1 = a[25];
	c->h2 = (int16_t)U16(b, 0);
	c->h3 = b[2];
	c->h4 = (int16_t)((int8_t)b[3] * 16 | (b[4] & 0x0f));
	c->h5 = (int16_t)((int8_t)b[5] * 16 | (b[4] >> 4));
	c->h6 = (int8_t)b[6];
	return 0;
}

/* The datasheet's compensation formulas (floating-point versions). */
static double comp_t(const struct calib *c, int32_t adc, double *t_fine)
{
	double v1 = (adc / 16384.0 - c->t1 / 1024.0) * c->t2;
	double v2 = (adc / 131072.0 - c->t1 / 8192.0) * (adc / 131072.0 - c->t1 / 8192.0) * c->t3;
	*t_fine = v1 + v2;
	return (v1 + v2) / 5120.0;
}

static double comp_p(const struct calib *c, int32_t adc, double t_fine)
{
	double v1 = t_fine / 2.0 - 64000.0, v2, p;

	v2 = v1 * v1 * c->p6 / 32768.0;
	v2 = v2 + v1 * c->p5 * 2.0;
	v2 = v2 / 4.0 + c->p4 * 65536.0;
	v1 = (c->p3 * v1 * v1 / 524288.0 + c->p2 * v1) / 524288.0;
	v1 = (1.0 + v1 / 32768.0) * c->p1;
	if (v1 == 0.0)
		return 0;
	p = 1048576.0 - adc;
	p = (p - v2 / 4096.0) * 6250.0 / v1;
	v1 = c->p9 * p * p / 2147483648.0;
	v2 = p * c->p8 / 32768.0;
	return p + (v1 + v2 + c->p7) / 16.0; /* Pa */
}

static double comp_h(const struct calib *c, int32_t adc, double t_fine)
{
	double h = t_fine - 76800.0;

	h = (adc - (c->h4 * 64.0 + c->h5 / 16384.0 * h)) *
	    (c->h2 / 65536.0 * (1.0 + c->h6 / 67108864.0 * h * (1.0 + c->h3 / 67108864.0 * h)));
	h = h * (1.0 - c->h1 * h / 524288.0);
	return h > 100.0 ? 100.0 : h < 0.0 ? 0.0 : h;
}

int main(int argc, char **argv)
{
	unsigned bus = 1, addr = 0x76, interval = 1;
	long count = 1;
	int json = 0, r, id;
	struct calib c;
	struct hwb *h;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (i + 1 < argc && !strcmp(argv[i], "--bus"))
			bus = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--address"))
			addr = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--count"))
			count = strtol(argv[++i], NULL, 0);
		else if (i + 1 < argc && !strcmp(argv[i], "--interval"))
			interval = (unsigned)strtoul(argv[++i], NULL, 0);
		else {
			fprintf(stderr,
			        "usage: %s [--bus N] [--address A] [--count N (0: forever)] "
			        "[--interval S] [--json]\n",
			        argv[0]);
			return 2;
		}
	}
	h = hwb_connect(NULL);
	if (!h) {
		fprintf(stderr, "bme280_reader: cannot connect to hwbrokerd: %s\n",
		        strerror(errno));
		return 1;
	}
	id = hwb_smbus_read_byte_data(h, bus, addr, 0xD0);
	if (id < 0 || id != 0x60) {
		fprintf(stderr, "bme280_reader: no BME280 at bus %u address 0x%02x: %s\n", bus,
		        addr, id < 0 ? hwb_error_message(h) : "wrong chip id");
		hwb_close(h);
		return id == -EACCES ? 3 : 1;
	}
	if ((r = read_calib(h, bus, addr, &c)) < 0)
		goto fail;
	for (long n = 0; count == 0 || n < count; n++) {
		uint8_t d[8];
		double t_fine, t, p, hum;
		/* Humidity x1, then temperature x1, pressure x1, forced mode. */
		if ((r = hwb_smbus_write_byte_data(h, bus, addr, 0xF2, 0x01)) < 0 ||
		    (r = hwb_smbus_write_byte_data(h, bus, addr, 0xF4, 0x25)) < 0 ||
		    (r = read_block(h, bus, addr, 0xF7, d, sizeof(d))) < 0)
			goto fail;
		int32_t adc_p = d[0] << 12 | d[1] << 4 | d[2] >> 4;
		int32_t adc_t = d[3] << 12 | d[4] << 4 | d[5] >> 4;
		int32_t adc_h = d[6] << 8 | d[7];
		t = comp_t(&c, adc_t, &t_fine);
		p = comp_p(&c, adc_p, t_fine) / 100.0;
		hum = comp_h(&c, adc_h, t_fine);
		if (json)
			printf("{\"temperature_c\":%.2f,\"pressure_hpa\":%.2f,\"humidity_pct\":%."
			       "2f}\n",
			       t, p, hum);
		else
			printf("temperature %.2f C, pressure %.2f hPa, humidity %.2f %%\n", t, p,
			       hum);
		fflush(stdout);
		if (count == 0 || n + 1 < count)
			sleep(interval);
	}
	hwb_close(h);
	return 0;
fail:
	fprintf(stderr, "bme280_reader: %s: %s\n", hwb_error_code(h), hwb_error_message(h));
	hwb_close(h);
	return r == -EACCES ? 3 : 1;
}
