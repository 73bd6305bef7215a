#!/usr/bin/env node
// SPDX-License-Identifier: LGPL-2.1-or-later
// A sensor service: reads a BME280 through hwbrokerd and prints compensated
// temperature, pressure and humidity. It needs no /dev/i2c-1 and no
// privileges, only its hwbroker socket ($HWBROKER_SOCKET).
//
// Usage: bme280.mjs [--bus N] [--address A] [--count N] [--interval S] [--json]
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { HwbrokerError, connect } from 'hwbroker';

const CHIP_ID_REG = 0xd0;
const CHIP_ID = 0x60;
const CTRL_HUM = 0xf2;
const CTRL_MEAS = 0xf4;
const DATA = 0xf7;

/** The trimming parameters at 0x88-0xA1 and 0xE1-0xE7 (datasheet 4.2.2). */
function parseCalibration(a, b) {
  const c = {
    t1: a.readUInt16LE(0),
    t2: a.readInt16LE(2),
    t3: a.readInt16LE(4),
    p1: a.readUInt16LE(6),
  };
  for (let i = 2; i <= 9; i++) c[`p${i}`] = a.readInt16LE(6 + 2 * (i - 1));
  c.h1 = a[25];
  c.h2 = b.readInt16LE(0);
  c.h3 = b[2];
  // h4 and h5 are 12-bit values sharing the nibbles of 0xE5.
  c.h4 = (b.readInt8(3) * 16) | (b[4] & 0x0f);
  c.h5 = (b.readInt8(5) * 16) | (b[4] >> 4);
  c.h6 = b.readInt8(6);
  return c;
}

/** The datasheet's floating-point formulas: [°C, hPa, %RH]. */
export function compensate(c, adcT, adcP, adcH) {
  let v1 = (adcT / 16384 - c.t1 / 1024) * c.t2;
  let v2 = (adcT / 131072 - c.t1 / 8192) ** 2 * c.t3;
  const tFine = v1 + v2;
  const temperature = tFine / 5120;

  v1 = tFine / 2 - 64000;
  v2 = (v1 * v1 * c.p6) / 32768;
  v2 = v2 + v1 * c.p5 * 2;
  v2 = v2 / 4 + c.p4 * 65536;
  v1 = ((c.p3 * v1 * v1) / 524288 + c.p2 * v1) / 524288;
  v1 = (1 + v1 / 32768) * c.p1;
  let pressure = 0;
  if (v1 !== 0) {
    let p = 1048576 - adcP;
    p = ((p - v2 / 4096) * 6250) / v1;
    v1 = (c.p9 * p * p) / 2147483648;
    v2 = (p * c.p8) / 32768;
    pressure = (p + (v1 + v2 + c.p7) / 16) / 100;
  }

  let h = tFine - 76800;
  h = (adcH - (c.h4 * 64 + (c.h5 / 16384) * h)) * ((c.h2 / 65536) * (1 + (c.h6 / 67108864) * h * (1 + (c.h3 / 67108864) * h)));
  h = h * (1 - (c.h1 * h) / 524288);
  const humidity = Math.min(Math.max(h, 0), 100);
  return [temperature, pressure, humidity];
}

async function readCalibration(hw, bus, addr) {
  const [a] = await hw.i2c.transfer(bus, addr, [[0x88], 26]);
  const [b] = await hw.i2c.transfer(bus, addr, [[0xe1], 7]);
  return parseCalibration(a, b);
}

/** One forced measurement (oversampling x1 for all three). */
async function measure(hw, bus, addr, calib) {
  await hw.i2c.writeByteData(bus, addr, CTRL_HUM, 0x01);
  await hw.i2c.writeByteData(bus, addr, CTRL_MEAS, 0x25);
  const [d] = await hw.i2c.transfer(bus, addr, [[DATA], 8]);
  const adcP = (d[0] << 12) | (d[1] << 4) | (d[2] >> 4);
  const adcT = (d[3] << 12) | (d[4] << 4) | (d[5] >> 4);
  const adcH = (d[6] << 8) | d[7];
  return compensate(calib, adcT, adcP, adcH);
}

async function main() {
  const { values: args } = parseArgs({
    options: {
      bus: { type: 'string', default: '1' },
      address: { type: 'string', default: '0x76' },
      count: { type: 'string', default: '1' },
      interval: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
    },
  });
  const bus = Number(args.bus);
  const addr = Number(args.address);
  const count = Number(args.count);
  const interval = Number(args.interval) * 1000;

  const hw = connect();
  try {
    const id = await hw.i2c.readByteData(bus, addr, CHIP_ID_REG);
    if (id !== CHIP_ID) {
      console.error(`bme280: no BME280 at bus ${bus} address 0x${addr.toString(16)}: chip id 0x${id.toString(16)}`);
      return 1;
    }
    const calib = await readCalibration(hw, bus, addr);
    for (let n = 0; count === 0 || n < count; n++) {
      const [t, p, h] = await measure(hw, bus, addr, calib);
      if (args.json) {
        const r2 = (x) => Math.round(x * 100) / 100;
        console.log(JSON.stringify({ temperature_c: r2(t), pressure_hpa: r2(p), humidity_pct: r2(h) }));
      } else {
        console.log(`temperature ${t.toFixed(2)} C, pressure ${p.toFixed(2)} hPa, humidity ${h.toFixed(2)} %`);
      }
      if (count === 0 || n + 1 < count) await sleep(interval);
    }
    return 0;
  } catch (e) {
    if (!(e instanceof HwbrokerError)) throw e;
    if (e.code === 'forbidden') {
      console.error(`bme280: ${e.message}\n  hint: ${e.hint}`);
      return 3;
    }
    console.error(`bme280: ${e.code}: ${e.message}`);
    return 1;
  } finally {
    hw.close();
  }
}

process.exitCode = await main();
