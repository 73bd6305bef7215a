// SPDX-License-Identifier: GPL-2.0-or-later
// The Node client's connection, errors, timeouts and aborts against hwbrokerd --sim.
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import {
  AbortError,
  Client,
  ClientTimeoutError,
  HwbrokerError,
  TransportError,
  connect,
} from '../../clients/node/index.js';
import { EVERYTHING, withDaemon } from './harness.mjs';

test('connect uses HWBROKER_SOCKET, else the container path', () =>
  withDaemon(async (d) => {
    const sock = await d.register('sensor', { devices: ['/dev/i2c-1'] });
    const saved = process.env.HWBROKER_SOCKET;
    try {
      process.env.HWBROKER_SOCKET = sock;
      const hw = connect();
      assert.equal(hw.path, sock);
      const me = await hw.whoami();
      assert.equal(me.service, 'sensor');
      assert.deepEqual(
        me.grants.map((g) => g.kind),
        ['i2c'],
      );
      assert.equal(me.peer.pid, process.pid);
      hw.close();
      delete process.env.HWBROKER_SOCKET;
      assert.equal(new Client().path, '/run/hwbroker/hwbroker.sock');
      assert.equal(connect('/x.sock').path, '/x.sock');
    } finally {
      if (saved === undefined) delete process.env.HWBROKER_SOCKET;
      else process.env.HWBROKER_SOCKET = saved;
    }
  }));

test('a missing socket is a transport error', async () => {
  const hw = connect({ path: path.join(os.tmpdir(), `hwb-none-${process.pid}.sock`) });
  await assert.rejects(hw.whoami(), (e) => {
    assert.ok(e instanceof TransportError && e instanceof HwbrokerError);
    assert.equal(e.code, 'transport');
    assert.equal(e.status, null);
    assert.match(e.message, /cannot connect/);
    return true;
  });
  hw.close();
});

test('calls share one keep-alive connection', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    for (let i = 0; i < 5; i++) await hw.whoami();
    // Made at once, they still go one after the other on the one connection.
    const all = await Promise.all([hw.whoami(), hw.gpio.get('gpiochip0', 17), hw.i2c.readByteData(1, 0x76, 0xd0)]);
    assert.equal(all[2], 0x60);
    assert.equal(await d.connections('sensor'), 1);
    hw.close();
    await d.waitConnections('sensor', 0);
  }));

test('a keep-alive connection the broker closed is reopened', () =>
  withDaemon(['--idle-timeout', '1'], async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    assert.equal((await hw.whoami()).service, 'sensor');
    await d.waitConnections('sensor', 0);
    assert.equal((await hw.whoami()).service, 'sensor');
    assert.equal((await hw.gpio.set('gpiochip0', 17, 1)).value, 1);
    hw.close();
  }));

test('generic request', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    assert.equal((await hw.request('GET', '/v1/whoami')).service, 'sensor');
    const line = await hw.request('PUT', '/v1/gpio/gpiochip0/17', { body: { value: 1 }, query: { lease: 'connection' } });
    assert.deepEqual([line.value, line.lease], [1, 'connection']);
    assert.equal(await hw.request('DELETE', '/v1/gpio/gpiochip0/17'), null);
    assert.deepEqual(await hw.request('POST', '/v1/uart/ttyS0/write', { data: Buffer.from('raw') }), { written: 3 });
    hw.close();
  }));

test('an error carries code, message, hint and status; the board is unchanged', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('narrow', { labels: { 'io.hwbroker.gpio': 'gpiochip0=17' } }));
    const before = await d.line('gpiochip0', 18);
    await assert.rejects(hw.gpio.set('gpiochip0', 18, 1), (e) => {
      assert.ok(e instanceof HwbrokerError);
      assert.equal(e.name, 'HwbrokerError');
      assert.deepEqual([e.code, e.status], ['forbidden', 403]);
      assert.match(e.message, /narrow/);
      assert.match(e.hint, /io\.hwbroker\.gpio/);
      assert.match(String(e), /forbidden/);
      return true;
    });
    assert.deepEqual(await d.line('gpiochip0', 18), before);
    hw.close();
  }));

test('405 closes the connection and the next call reconnects; 400 and 422', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    await assert.rejects(hw.request('GET', '/v1/i2c/1/0x76/smbus'), { code: 'method_not_allowed', status: 405 });
    assert.equal((await hw.whoami()).service, 'sensor');
    await assert.rejects(hw.uart.read('ttyS0', { max: 0 }), { code: 'bad_request', status: 400 });
    await assert.rejects(hw.request('PUT', '/v1/gpio/gpiochip0/17', { body: { value: 1, bogus: 1 } }), (e) => {
      assert.deepEqual([e.code, e.status], ['invalid', 422]);
      assert.match(e.message, /bogus/);
      return true;
    });
    assert.equal((await d.line('gpiochip0', 17)).holder, null);
    hw.close();
  }));

test('HwbrokerError.fromReply maps every status', () => {
  const table = {
    400: 'bad_request',
    403: 'forbidden',
    404: 'not_found',
    405: 'method_not_allowed',
    409: 'conflict',
    413: 'too_large',
    422: 'invalid',
    429: 'rate_limited',
    500: 'internal',
    502: 'nack',
    503: 'unavailable',
    504: 'timeout',
  };
  for (const [status, code] of Object.entries(table)) {
    const body = Buffer.from(JSON.stringify({ error: { code, message: 'm', hint: 'h' } }));
    let e = HwbrokerError.fromReply(Number(status), body);
    assert.deepEqual([e.code, e.status, e.message, e.hint], [code, Number(status), 'm', 'h']);
    e = HwbrokerError.fromReply(Number(status), Buffer.from('<html>'));
    assert.deepEqual([e.code, e.status], [code, Number(status)]);
    assert.match(e.message, new RegExp(status));
  }
  assert.equal(HwbrokerError.fromReply(418, Buffer.alloc(0)).code, 'error');
});

test('a client-side timeout fires on a slow bus and the client recovers', () =>
  withDaemon(['--i2c-timeout-ms', '10000'], async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    assert.equal(await hw.i2c.readByteData(1, 0x76, 0xd0), 0x60);
    // The bus now takes 2 s and the broker waits up to 10 s: only the
    // client's timeout can end this call early.
    await d.i2cDelay(1, 2000);
    await assert.rejects(hw.i2c.readByteData(1, 0x76, 0xd0, { timeout: 200 }), (e) => {
      assert.ok(e instanceof ClientTimeoutError && e instanceof TransportError);
      assert.deepEqual([e.code, e.status], ['timeout', null]);
      return true;
    });
    assert.equal((await hw.whoami()).service, 'sensor');
    await d.waitI2cIdle();
    await d.waitConnections('sensor', 1);
    assert.equal(await hw.i2c.readByteData(1, 0x76, 0xd0), 0x60);
    hw.close();
  }));

test('the client-wide timeout applies to every call; a 504 is the broker timing out', () =>
  withDaemon(['--i2c-timeout-ms', '200'], async (d) => {
    const sock = await d.register('sensor', { devices: ['/dev/i2c-1'] });
    await d.i2cDelay(1, 2000);
    let hw = connect({ path: sock, timeout: 30000 });
    await assert.rejects(hw.i2c.readByteData(1, 0x76, 0xd0), (e) => {
      assert.ok(!(e instanceof ClientTimeoutError));
      assert.deepEqual([e.code, e.status], ['timeout', 504]);
      return true;
    });
    hw.close();
    hw = connect({ path: sock, timeout: 50 });
    await assert.rejects(hw.i2c.transfer(1, 0x76, [[0xd0], 1]), ClientTimeoutError);
    hw.close();
    await d.waitI2cIdle();
    await d.waitConnections('sensor', 0);
  }));

test('a call that never gets a reply still ends', async () => {
  const sockPath = path.join(os.tmpdir(), `hwb-mute-${process.pid}.sock`);
  const conns = [];
  const srv = net.createServer((c) => conns.push(c));
  await new Promise((r) => srv.listen(sockPath, r));
  try {
    const hw = connect({ path: sockPath, timeout: 200 });
    await assert.rejects(hw.whoami(), ClientTimeoutError);
    hw.close();
  } finally {
    for (const c of conns) c.destroy();
    await new Promise((r) => srv.close(r));
  }
});

test('an AbortSignal ends a call', () =>
  withDaemon(['--i2c-timeout-ms', '10000'], async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    await d.i2cDelay(1, 2000);
    const ac = new AbortController();
    const call = hw.i2c.readByteData(1, 0x76, 0xd0, { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('user gave up')), 100);
    await assert.rejects(call, (e) => {
      assert.ok(e instanceof AbortError);
      assert.deepEqual([e.name, e.code], ['AbortError', 'ABORT_ERR']);
      assert.equal(e.cause.message, 'user gave up');
      return true;
    });
    // An already aborted signal sends nothing.
    await assert.rejects(hw.gpio.set('gpiochip0', 17, 1, { signal: AbortSignal.abort() }), AbortError);
    assert.equal((await d.line('gpiochip0', 17)).holder, null);
    await assert.rejects(hw.i2c.readByteData(1, 0x76, 0xd0, { signal: AbortSignal.timeout(100), timeout: null }), AbortError);
    await d.waitI2cIdle();
    assert.equal((await hw.whoami()).service, 'sensor');
    await d.waitConnections('sensor', 1);
    hw.close();
  }));

test('a stopped broker is a transport error', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    await hw.whoami();
    await d.stop();
    await assert.rejects(hw.whoami(), TransportError);
    hw.close();
    await d.start();
  }));

test('index.d.ts declares what index.js exports', async () => {
  const fs = await import('node:fs');
  const { NODE_CLIENT } = await import('./harness.mjs');
  const dts = fs.readFileSync(path.join(NODE_CLIENT, 'index.d.ts'), 'utf8');
  const declared = [...dts.matchAll(/^export (?:class|function|const) (\w+)/gm)].map((m) => m[1]).sort();
  const runtime = Object.keys(await import('../../clients/node/index.js')).sort();
  assert.deepEqual(declared, runtime);
});
