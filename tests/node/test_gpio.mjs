// SPDX-License-Identifier: GPL-2.0-or-later
// GPIO through the Node client: lines, leases, group writes, watches.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AbortError, ClientTimeoutError, HwbrokerError, connect } from '../../clients/node/index.js';
import { EVERYTHING, withDaemon } from './harness.mjs';

const CHIP = 'gpiochip0';
const GPIO0 = { devices: ['/dev/gpiochip0'] };

async function sensor(d) {
  return connect(await d.register('sensor', EVERYTHING));
}

test('list, get, set and release', () =>
  withDaemon(async (d) => {
    const hw = await sensor(d);
    const chips = await hw.gpio.list();
    assert.deepEqual(
      chips.map((c) => c.chip),
      [CHIP],
    );
    const l17 = chips[0].lines[17];
    assert.deepEqual({ line: l17.line, name: l17.name, holder: l17.holder },
      { line: 17, name: 'GPIO17', holder: null });
    let line = await hw.gpio.set(CHIP, 'GPIO17', 1);
    assert.deepEqual([line.value, line.direction, line.holder, line.lease], [1, 'output', 'sensor', 'persistent']);
    assert.equal((await d.line(CHIP, 17)).value, 1);
    line = await hw.gpio.set(CHIP, 17, false);
    assert.equal(line.value, 0);
    assert.equal((await hw.gpio.get(CHIP, '0x11')).value, 0);
    assert.equal(await hw.gpio.release(CHIP, 17), undefined);
    assert.equal((await d.line(CHIP, 17)).holder, null);
    line = await hw.gpio.set(CHIP, 22, 1, { activeLow: true, drive: 'open-drain' });
    assert.deepEqual([line.active_low, line.drive], [true, 'open-drain']);
    hw.close();
  }));

test('input with bias, configure', () =>
  withDaemon(async (d) => {
    const hw = await sensor(d);
    let line = await hw.gpio.input(CHIP, 5, 'pull-up');
    assert.deepEqual([line.direction, line.bias, line.value, line.holder], ['input', 'pull-up', 1, 'sensor']);
    line = await hw.gpio.configure(CHIP, 5, { direction: 'input', bias: 'pull-down' });
    assert.deepEqual([line.bias, line.value], ['pull-down', 0]);
    assert.equal((await d.line(CHIP, 5)).bias, 'pull-down');
    hw.close();
  }));

test('a connection lease ends with the connection', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', GPIO0));
    assert.equal((await hw.gpio.set(CHIP, 23, 1, { lease: 'connection' })).lease, 'connection');
    assert.equal((await d.line(CHIP, 23)).holder, 'sensor');
    hw.close();
    await d.waitConnections('sensor', 0);
    assert.equal((await d.line(CHIP, 23)).holder, null);
    assert.throws(() => hw.gpio.set(CHIP, 23, 1, { lease: 'forever' }), TypeError);
  }));

test('setMany, all or nothing', () =>
  withDaemon(async (d) => {
    const hw = await sensor(d);
    assert.deepEqual(await hw.gpio.setMany(CHIP, { 17: 1, GPIO27: 0, 22: 1 }), { 17: 1, 27: 0, 22: 1 });
    for (const [n, v] of [
      [17, 1],
      [27, 0],
      [22, 1],
    ]) {
      const line = await d.line(CHIP, n);
      assert.deepEqual([line.value, line.holder], [v, 'sensor']);
    }
    const other = connect(await d.register('other', GPIO0));
    await other.gpio.set(CHIP, 26, 1);
    await assert.rejects(hw.gpio.setMany(CHIP, new Map([[25, 1], [26, 0]])), { code: 'conflict', status: 409 });
    const l25 = await d.line(CHIP, 25);
    assert.deepEqual([l25.holder, l25.used], [null, false]);
    const l26 = await d.line(CHIP, 26);
    assert.deepEqual([l26.holder, l26.value], ['other', 1]);
    hw.close();
    other.close();
  }));

test('409 names the holder; nothing changes', () =>
  withDaemon(async (d) => {
    const hw = await sensor(d);
    const other = connect(await d.register('other', GPIO0));
    await hw.gpio.set(CHIP, 17, 1);
    await assert.rejects(other.gpio.set(CHIP, 17, 0), (e) => {
      assert.ok(e instanceof HwbrokerError);
      assert.deepEqual([e.code, e.status], ['conflict', 409]);
      assert.match(e.message, /sensor/);
      return true;
    });
    assert.equal((await other.gpio.get(CHIP, 17)).holder, 'sensor');
    const line = await d.line(CHIP, 17);
    assert.deepEqual([line.value, line.holder], [1, 'sensor']);
    hw.close();
    other.close();
  }));

test('403 with a hint; nothing changes', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('narrow', { labels: { 'io.hwbroker.gpio': 'gpiochip0=17' } }));
    const before = await d.line(CHIP, 18);
    await assert.rejects(hw.gpio.set(CHIP, 18, 1), (e) => {
      assert.deepEqual([e.code, e.status], ['forbidden', 403]);
      assert.ok(e.hint.length > 0);
      return true;
    });
    await assert.rejects(hw.gpio.setMany(CHIP, { 17: 1, 18: 1 }), { code: 'forbidden' });
    await assert.rejects(hw.gpio.events(CHIP, 18).open(), { code: 'forbidden' });
    assert.deepEqual(await d.line(CHIP, 18), before);
    assert.equal((await d.line(CHIP, 17)).holder, null);
    hw.close();
  }));

test('404 for an unknown line of a held chip; 422 changes nothing', () =>
  withDaemon(async (d) => {
    const hw = await sensor(d);
    await assert.rejects(hw.gpio.get(CHIP, 'NO_SUCH_LINE'), { code: 'not_found', status: 404 });
    await hw.gpio.set(CHIP, 17, 1);
    const before = await d.line(CHIP, 17);
    await assert.rejects(hw.gpio.set(CHIP, 17, 2), { code: 'invalid', status: 422 });
    await assert.rejects(hw.gpio.configure(CHIP, 17, { direction: 'input', bias: 'sideways' }), { code: 'invalid' });
    assert.deepEqual(await d.line(CHIP, 17), before);
    hw.close();
  }));

test('watch a line', () =>
  withDaemon(async (d) => {
    const hw = await sensor(d);
    const events = hw.gpio.events(CHIP, 4, { edge: 'both' });
    await events.open(); // the broker watches the line from here on
    await d.pull(CHIP, 4, 'up');
    await d.pull(CHIP, 4, 'down');
    const got = [];
    for await (const ev of events) {
      got.push(ev);
      if (got.length === 2) break;
    }
    assert.ok(events.closed);
    assert.deepEqual(
      got.map((e) => [e.chip, e.line, e.name, e.edge, e.seq]),
      [
        [CHIP, 4, 'GPIO4', 'rising', 1],
        [CHIP, 4, 'GPIO4', 'falling', 2],
      ],
    );
    assert.ok(got[1].timestamp_ns >= got[0].timestamp_ns && got[0].timestamp_ns > 0);
    // Leaving the loop closed the stream's connection; the broker lets the line go.
    await d.waitConnections('sensor', 0);
    assert.equal((await d.line(CHIP, 4)).watchers, 0);
    hw.close();
  }));

test('watch rising edges only; a writer takes a watched line', () =>
  withDaemon(async (d) => {
    const hw = await sensor(d);
    const other = connect(await d.register('other', GPIO0));
    const events = await hw.gpio.events(CHIP, 'GPIO4', { edge: 'rising' }).open();
    for (const level of ['up', 'down', 'up']) await d.pull(CHIP, 4, level);
    const it = events[Symbol.asyncIterator]();
    const a = (await it.next()).value;
    const b = (await it.next()).value;
    assert.deepEqual([a.edge, b.edge, b.seq], ['rising', 'rising', 2]);
    // Watching is reading: a writer takes the line and the stream ends, saying so.
    await other.gpio.set(CHIP, 4, 1);
    await assert.rejects(it.next(), { code: 'conflict' });
    hw.close();
    other.close();
  }));

test('an idle timeout and an AbortSignal end a watch', () =>
  withDaemon(async (d) => {
    const hw = await sensor(d);
    const quiet = hw.gpio.events(CHIP, 4, { idleTimeout: 200 });
    await assert.rejects(
      (async () => {
        for await (const ev of quiet) assert.fail(`unexpected event ${JSON.stringify(ev)}`);
      })(),
      ClientTimeoutError,
    );
    const ac = new AbortController();
    const watched = await hw.gpio.events(CHIP, 5, { signal: ac.signal }).open();
    const got = [];
    const reader = (async () => {
      for await (const ev of watched) {
        got.push(ev);
        ac.abort();
      }
    })();
    await d.pull(CHIP, 5, 'up');
    await assert.rejects(reader, AbortError);
    assert.equal(got.length, 1);
    await d.waitConnections('sensor', 0);
    assert.equal((await d.line(CHIP, 5)).watchers, 0);
    hw.close();
  }));

test('a slow consumer gets drop markers', () =>
  withDaemon(['--event-queue', '8'], async (d) => {
    const hw = await sensor(d);
    const events = await hw.gpio.events(CHIP, 4, { idleTimeout: 10000 }).open();
    // Far more than the queue of 8 plus what the socket's buffer holds (about 300 events here).
    const n = 1500;
    for (let i = 0; i < n; i++) await d.pull(CHIP, 4, i % 2 === 0 ? 'up' : 'down');
    const got = [];
    const markers = [];
    for await (const ev of events) {
      if ('dropped' in ev) markers.push(ev.dropped);
      else got.push(ev);
      if (got.length + events.dropped >= n) break;
    }
    assert.ok(markers.length > 0);
    assert.equal(
      events.dropped,
      markers.reduce((a, b) => a + b, 0),
    );
    assert.equal(got.length + events.dropped, n);
    const seqs = got.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
    );
    hw.close();
  }));

test('a chip that goes away ends the watch with its error', () =>
  withDaemon(async (d) => {
    const hw = await sensor(d);
    const events = await hw.gpio.events(CHIP, 4).open();
    await d.pull(CHIP, 4, 'up');
    const got = [];
    await assert.rejects(
      (async () => {
        for await (const ev of events) {
          got.push(ev);
          await d.admin('POST', `/v1/sim/gpio/${CHIP}`, { present: false });
        }
      })(),
      (e) => {
        assert.ok(e instanceof HwbrokerError);
        assert.equal(e.code, 'unavailable');
        return true;
      },
    );
    assert.equal(got.length, 1);
    await d.admin('POST', `/v1/sim/gpio/${CHIP}`, { present: true });
    hw.close();
  }));
