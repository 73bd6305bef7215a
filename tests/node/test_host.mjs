// SPDX-License-Identifier: GPL-2.0-or-later
// Host actions through the Node client (recorded by --host sim).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { connect } from '../../clients/node/index.js';
import { EVERYTHING, withDaemon } from './harness.mjs';

test('reboot, then a poweroff conflicts', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    assert.deepEqual(await hw.host.reboot('firmware updated'), { action: 'reboot', status: 'accepted' });
    await assert.rejects(hw.host.poweroff(), { code: 'conflict', status: 409 });
    assert.deepEqual(
      (await d.hostActions()).map((a) => a.action),
      ['reboot'],
    );
    hw.close();
  }));

test('poweroff', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    assert.equal((await hw.host.poweroff()).action, 'poweroff');
    assert.deepEqual(
      (await d.hostActions()).map((a) => a.action),
      ['poweroff'],
    );
    hw.close();
  }));

test('hostname, time, unit restart', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    assert.ok((await hw.host.hostname()).length > 0);
    assert.equal(await hw.host.setHostname('edge-7'), 'edge-7');
    assert.equal(await hw.host.hostname(), 'edge-7');
    await assert.rejects(hw.host.setHostname('not_valid'), { code: 'invalid', status: 422 });
    assert.equal(await hw.host.hostname(), 'edge-7');
    const t = await hw.host.time();
    assert.deepEqual(Object.keys(t).sort(), ['ntp', 'ntp_synchronized', 'time_usec', 'timezone']);
    const r = await hw.host.restartUnit('my-agent.service');
    assert.equal(r.unit, 'my-agent.service');
    await assert.rejects(hw.host.restartUnit('sshd.service'), (e) => {
      assert.equal(e.code, 'forbidden');
      assert.match(e.hint, /io\.hwbroker\.units/);
      return true;
    });
    const acts = (await d.hostActions()).filter((a) => a.action === 'restart_unit').map((a) => a.arg);
    assert.deepEqual(acts, ['my-agent.service']);
    hw.close();
  }));

test('refused host actions do nothing', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('plain', { devices: ['/dev/i2c-1'] }));
    for (const call of [() => hw.host.reboot(), () => hw.host.poweroff(), () => hw.host.hostname(), () => hw.host.time(), () => hw.host.setHostname('x')]) {
      await assert.rejects(call(), (e) => {
        assert.deepEqual([e.code, e.status], ['forbidden', 403]);
        assert.ok(e.hint);
        return true;
      });
    }
    assert.deepEqual(await d.hostActions(), []);
    hw.close();
  }));
