// SPDX-License-Identifier: GPL-2.0-or-later
// UART through the Node client on the simulated ttyS0 (echoes what is
// written) and ttyACM0 (a GPS sending NMEA sentences).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';

import { AbortError, ClientTimeoutError, connect } from '../../clients/node/index.js';
import { EVERYTHING, withDaemon } from './harness.mjs';

const PORT = 'ttyS0';

async function readExactly(hw, n, port = PORT) {
  const parts = [];
  let len = 0;
  for (let i = 0; i < 100 && len < n; i++) {
    const b = await hw.uart.read(port, { max: 65536, timeoutMs: 200 });
    parts.push(b);
    len += b.length;
  }
  return Buffer.concat(parts);
}

test('list and configuration', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    assert.deepEqual((await hw.uart.list()).map((p) => p.port).sort(), ['ttyACM0', 'ttyS0']);
    const want = { baud: 115200, data_bits: 8, parity: 'none', stop_bits: 2, flow: 'none' };
    assert.deepEqual(await hw.uart.configure(PORT, { baud: 115200, stopBits: 2 }), want);
    assert.deepEqual(await hw.uart.getConfig(PORT), { ...want, open: true });
    assert.equal((await d.port(PORT)).holder, 'sensor');
    // The simulated port keeps every setting, as a 16550 would.
    assert.equal((await hw.uart.configure(PORT, { parity: 'even' })).parity, 'even');
    assert.equal((await hw.uart.getConfig(PORT)).parity, 'even');
    await assert.rejects(hw.uart.configure(PORT, { dataBits: 9 }), (e) => {
      assert.equal(e.code, 'invalid');
      return true;
    });
    await assert.rejects(hw.uart.configure(PORT, { baud: 12345 }), /115200/);
    assert.equal((await hw.uart.getConfig(PORT)).baud, 115200);
    hw.close();
  }));

test('loopback: write and read', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    const data = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.equal(await hw.uart.write(PORT, data), 256);
    assert.deepEqual(await readExactly(hw, 256), data);
    assert.equal(await hw.uart.write(PORT, 'héllo'), 6);
    assert.equal((await readExactly(hw, 6)).toString('utf8'), 'héllo');
    const empty = await hw.uart.read(PORT, { max: 10, timeoutMs: 100 });
    assert.deepEqual([empty.length, empty.dropped], [0, 0]);
    hw.close();
    // timeoutMs counts on top of the call's own timeout.
    const short = connect({ path: hw.path, timeout: 1000 });
    assert.equal((await short.uart.read(PORT, { max: 10, timeoutMs: 2000 })).length, 0);
    short.close();
  }));

test('dropped bytes are counted', () =>
  withDaemon(['--uart-buffer', '1024'], async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    const data = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    for (let off = 0; off < data.length; off += 500) await hw.uart.write(PORT, data.subarray(off, off + 500));
    // Let the echo come back while nobody reads (on the broker's own count).
    const deadline = Date.now() + 10000;
    while ((await d.port(PORT)).dropped < 3000 - 1024 && Date.now() < deadline) await sleep(50);
    const got = await hw.uart.read(PORT, { max: 65536, timeoutMs: 0 });
    assert.deepEqual(got.subarray(), data.subarray(-1024));
    assert.equal(got.dropped, 3000 - 1024);
    hw.close();
  }));

test('stream', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    const stream = await hw.uart.stream(PORT, { idleTimeout: 10000 }).open();
    await hw.uart.write(PORT, 'ping');
    let got = Buffer.alloc(0);
    for await (const chunk of stream) {
      assert.ok(Buffer.isBuffer(chunk) && chunk.length > 0);
      got = Buffer.concat([got, chunk]);
      if (got.length >= 4) break;
    }
    assert.equal(got.toString(), 'ping');
    assert.ok(stream.closed);
    hw.close();
  }));

test('a stream ends on idle timeout, on abort, and when the port goes away', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    await assert.rejects(
      (async () => {
        for await (const c of hw.uart.stream(PORT, { idleTimeout: 200 })) assert.fail(`unexpected ${c}`);
      })(),
      ClientTimeoutError,
    );
    const ac = new AbortController();
    await assert.rejects(
      (async () => {
        for await (const c of hw.uart.stream('ttyACM0', { signal: ac.signal })) {
          assert.ok(c.length > 0);
          ac.abort();
        }
      })(),
      AbortError,
    );
    await d.waitConnections('sensor', 0);
    const gps = await hw.uart.stream('ttyACM0').open();
    let chunks = 0;
    await assert.rejects(
      (async () => {
        for await (const c of gps) {
          assert.ok(c.length > 0);
          if (chunks++ === 0) await d.admin('POST', '/v1/sim/uart/ttyACM0', { present: false });
        }
      })(),
      (e) => {
        assert.deepEqual([e.code, e.status], ['unavailable', 503]);
        return true;
      },
    );
    await d.admin('POST', '/v1/sim/uart/ttyACM0', { present: true });
    hw.close();
  }));

test('release', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    await hw.uart.write(PORT, 'x');
    assert.equal((await d.port(PORT)).holder, 'sensor');
    assert.equal(await hw.uart.release(PORT), undefined);
    const p = await d.port(PORT);
    assert.deepEqual([p.holder, p.open], [null, false]);
    hw.close();
  }));

test('409 names the holder; 403; nothing changes', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    const other = connect(await d.register('other', { devices: ['/dev/ttyS0'] }));
    await hw.uart.configure(PORT, { baud: 57600 });
    await assert.rejects(other.uart.write(PORT, 'intruder'), (e) => {
      assert.deepEqual([e.code, e.status], ['conflict', 409]);
      assert.match(e.message, /sensor/);
      return true;
    });
    await assert.rejects(other.uart.configure(PORT, { baud: 9600 }), { code: 'conflict' });
    await assert.rejects(other.uart.stream(PORT).open(), { code: 'conflict' });
    assert.equal((await d.port(PORT)).holder, 'sensor');
    assert.equal((await hw.uart.getConfig(PORT)).baud, 57600);
    assert.equal((await hw.uart.read(PORT, { max: 100, timeoutMs: 100 })).length, 0);
    const gps = connect(await d.register('gps', { devices: ['/dev/ttyACM0:/dev/ttyACM0:r'] }));
    await assert.rejects(gps.uart.write('ttyACM0', 'x'), (e) => {
      assert.deepEqual([e.code, e.status], ['forbidden', 403]);
      assert.ok(e.hint);
      return true;
    });
    assert.equal((await d.port('ttyACM0')).holder, null);
    for (const c of [hw, other, gps]) c.close();
  }));
