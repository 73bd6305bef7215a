// SPDX-License-Identifier: GPL-2.0-or-later
// The BME280 example service (clients/node/examples/bme280.mjs) against the
// simulated sensor, run the way a container would run it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

import { NODE_CLIENT, withDaemon } from './harness.mjs';

const EXAMPLE = path.join(NODE_CLIENT, 'examples', 'bme280.mjs');
const SENSOR = { devices: ['/dev/i2c-1'], labels: { 'io.hwbroker.i2c': '1=0x76' } };

function runExample(socket, ...args) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [EXAMPLE, ...args],
      { env: { ...process.env, HWBROKER_SOCKET: socket }, timeout: 60000 },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }),
    );
  });
}

test('reads plausible values', () =>
  withDaemon(async (d) => {
    const r = await runExample(await d.register('sensor', SENSOR), '--json', '--count', '3', '--interval', '0');
    assert.equal(r.code, 0, r.stderr);
    const readings = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(readings.length, 3);
    for (const x of readings) {
      // The model sits near 22 °C, 1013 hPa, 45 %RH and drifts slowly.
      assert.ok(x.temperature_c > 0 && x.temperature_c < 45, JSON.stringify(x));
      assert.ok(x.pressure_hpa > 900 && x.pressure_hpa < 1100, JSON.stringify(x));
      assert.ok(x.humidity_pct > 10 && x.humidity_pct < 90, JSON.stringify(x));
    }
    const text = await runExample(d.socketPath('sensor'));
    assert.match(text.stdout, /^temperature -?\d+\.\d\d C, pressure \d+\.\d\d hPa, humidity \d+\.\d\d %\n$/);
  }));

test('a refused address exits 3 with the hint', () =>
  withDaemon(async (d) => {
    const r = await runExample(await d.register('sensor', SENSOR), '--address', '0x77');
    assert.equal(r.code, 3);
    assert.match(r.stderr, /0x77/);
    assert.match(r.stderr, /hint:/);
    assert.equal(r.stdout, '');
  }));
