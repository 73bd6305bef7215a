#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A sensor service: reads a BME280 through hwbrokerd and prints compensated
temperature, pressure and humidity. It needs no /dev/i2c-1 and no privileges,
only its hwbroker socket ($HWBROKER_SOCKET).

Usage: bme280.py [--bus N] [--address A] [--count N] [--interval S] [--json]
"""
import argparse
import json
import struct
import sys
import time

import hwbroker

CHIP_ID_REG, CHIP_ID = 0xD0, 0x60
CTRL_HUM, CTRL_MEAS, DATA = 0xF2, 0xF4, 0xF7


class Calibration:
    """The trimming parameters at 0x88-0xA1 and 0xE1-0xE7 (datasheet 4.2.2)."""

    def __init__(self, a, b):
        (self.t1, self.t2, self.t3, self.p1, self.p2, self.p3, self.p4, self.p5, self.p6,
         self.p7, self.p8, self.p9) = struct.unpack_from("<HhhHhhhhhhhh", a, 0)
        self.h1 = a[25]
        self.h2, self.h3 = struct.unpack_from("<hB", b, 0)
        # h4 and h5 are 12-bit values sharing the nibbles of 0xE5.
        self.h4 = struct.unpack_from("b", b, 3)[0] * 16 | (b[4] & 0x0F)
        self.h5 = struct.unpack_from("b", b, 5)[0] * 16 | (b[4] >> 4)
        self.h6 = struct.unpack_from("b", b, 6)[0]


def read_calibration(hw, bus, addr):
    a, = hw.i2c.transfer(bus, addr, [bytes([0x88]), 26])
    b, = hw.i2c.transfer(bus, addr, [bytes([0xE1]), 7])
    return Calibration(a, b)


def compensate(c, adc_t, adc_p, adc_h):
    """The datasheet's floating-point formulas: (°C, hPa, %RH)."""
    v1 = (adc_t / 16384.0 - c.t1 / 1024.0) * c.t2
    v2 = (adc_t / 131072.0 - c.t1 / 8192.0) ** 2 * c.t3
    t_fine = v1 + v2
    temperature = t_fine / 5120.0

    v1 = t_fine / 2.0 - 64000.0
    v2 = v1 * v1 * c.p6 / 32768.0
    v2 = v2 + v1 * c.p5 * 2.0
    v2 = v2 / 4.0 + c.p4 * 65536.0
    v1 = (c.p3 * v1 * v1 / 524288.0 + c.p2 * v1) / 524288.0
    v1 = (1.0 + v1 / 32768.0) * c.p1
    if v1 == 0:
        pressure = 0.0
    else:
        p = 1048576.0 - adc_p
        p = (p - v2 / 4096.0) * 6250.0 / v1
        v1 = c.p9 * p * p / 2147483648.0
        v2 = p * c.p8 / 32768.0
        pressure = (p + (v1 + v2 + c.p7) / 16.0) / 100.0

    h = t_fine - 76800.0
    h = (adc_h - (c.h4 * 64.0 + c.h5 / 16384.0 * h)) * (
        c.h2 / 65536.0 * (1.0 + c.h6 / 67108864.0 * h * (1.0 + c.h3 / 67108864.0 * h)))
    h = h * (1.0 - c.h1 * h / 524288.0)
    humidity = min(max(h, 0.0), 100.0)
    return temperature, pressure, humidity


def measure(hw, bus, addr, calib):
    """One forced measurement (oversampling x1 for all three)."""
    hw.i2c.write_byte_data(bus, addr, CTRL_HUM, 0x01)
    hw.i2c.write_byte_data(bus, addr, CTRL_MEAS, 0x25)
    d, = hw.i2c.transfer(bus, addr, [bytes([DATA]), 8])
    adc_p = d[0] << 12 | d[1] << 4 | d[2] >> 4
    adc_t = d[3] << 12 | d[4] << 4 | d[5] >> 4
    adc_h = d[6] << 8 | d[7]
    return compensate(calib, adc_t, adc_p, adc_h)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bus", type=lambda s: int(s, 0), default=1)
    ap.add_argument("--address", type=lambda s: int(s, 0), default=0x76)
    ap.add_argument("--count", type=int, default=1, help="readings (0: forever)")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between readings")
    ap.add_argument("--json", action="store_true", help="one JSON object per reading")
    args = ap.parse_args(argv)

    try:
        with hwbroker.connect() as hw:
            chip_id = hw.i2c.read_byte_data(args.bus, args.address, CHIP_ID_REG)
            if chip_id != CHIP_ID:
                print("bme280: no BME280 at bus %d address 0x%02x: chip id 0x%02x"
                      % (args.bus, args.address, chip_id), file=sys.stderr)
                return 1
            calib = read_calibration(hw, args.bus, args.address)
            n = 0
            while args.count == 0 or n < args.count:
                t, p, h = measure(hw, args.bus, args.address, calib)
                if args.json:
                    print(json.dumps({"temperature_c": round(t, 2), "pressure_hpa": round(p, 2),
                                      "humidity_pct": round(h, 2)}), flush=True)
                else:
                    print("temperature %.2f C, pressure %.2f hPa, humidity %.2f %%" % (t, p, h),
                          flush=True)
                n += 1
                if args.count == 0 or n < args.count:
                    time.sleep(args.interval)
    except hwbroker.Forbidden as e:
        print("bme280: %s\n  hint: %s" % (e.message, e.hint), file=sys.stderr)
        return 3
    except hwbroker.HwbrokerError as e:
        print("bme280: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
