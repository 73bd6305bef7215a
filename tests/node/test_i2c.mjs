// SPDX-License-Identifier: GPL-2.0-or-later
// I2C through the Node client: every SMBus operation and combined transfers
// on the simulated BME280 (1:0x76) and 24C02 EEPROM (1:0x50).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { connect } from '../../clients/node/index.js';
import { EVERYTHING, withDaemon } from './harness.mjs';

const EEPROM = 0x50;
const BME280 = 0x76;

/** Reads the EEPROM through the admin socket, bypassing the client. */
async function eeprom(d, start, n) {
  const r = await d.admin('POST', '/v1/i2c/1/0x50/transfer', { messages: [{ write: [start] }, { read: n }] });
  return Buffer.from(r.reads[0]);
}

test('list', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', { devices: ['/dev/i2c-1'], labels: { 'io.hwbroker.i2c': '1=0x50,0x76' } }));
    assert.deepEqual(await hw.i2c.list(), [
      {
        bus: 1,
        addresses: [
          { address: '0x50', access: 'rw' },
          { address: '0x76', access: 'rw' },
        ],
      },
    ]);
    hw.close();
  }));

test('every SMBus operation', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    const i2c = hw.i2c;
    assert.equal(await i2c.readByteData(1, BME280, 0xd0), 0x60);
    assert.equal(await i2c.readByteData('1', '0x76', 0xd0), 0x60);
    await i2c.quick(1, EEPROM);
    await i2c.quick(1, EEPROM, { read: true });
    assert.equal(await i2c.writeByteData(1, EEPROM, 0x30, 0xaa), undefined);
    assert.deepEqual(await eeprom(d, 0x30, 1), Buffer.from([0xaa]));
    assert.equal(await i2c.readByteData(1, EEPROM, 0x30), 0xaa);
    await i2c.writeByte(1, EEPROM, 0x30); // sets the address pointer
    assert.equal(await i2c.readByte(1, EEPROM), 0xaa);
    await i2c.writeWordData(1, EEPROM, 0x40, 0x1234);
    assert.deepEqual(await eeprom(d, 0x40, 2), Buffer.from([0x34, 0x12]));
    assert.equal(await i2c.readWordData(1, EEPROM, 0x40), 0x1234);
    await i2c.writeI2cBlockData(1, EEPROM, 0x48, Uint8Array.of(1, 2, 3, 4));
    assert.deepEqual(await eeprom(d, 0x48, 4), Buffer.from([1, 2, 3, 4]));
    assert.deepEqual(await i2c.readI2cBlockData(1, EEPROM, 0x48, 4), Buffer.from([1, 2, 3, 4]));
    // A block write stores the count first: what a block read expects back.
    await i2c.writeBlockData(1, EEPROM, 0x10, [7, 8, 9]);
    assert.deepEqual(await eeprom(d, 0x10, 4), Buffer.from([3, 7, 8, 9]));
    assert.deepEqual(await i2c.readBlockData(1, EEPROM, 0x10), Buffer.from([7, 8, 9]));
    // A process call writes a word at the command and reads the next two bytes.
    await i2c.writeI2cBlockData(1, EEPROM, 0x20, [0, 0, 0x78, 0x56]);
    assert.equal(await i2c.processCall(1, EEPROM, 0x20, 0xbeef), 0x5678);
    assert.equal(await i2c.readWordData(1, EEPROM, 0x20), 0xbeef);
    assert.deepEqual(await i2c.smbus(1, EEPROM, 'read_byte_data', { command: 0x30 }), { value: 0xaa });
    hw.close();
  }));

test('combined transfers', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    assert.deepEqual(await hw.i2c.transfer(1, BME280, [{ write: [0xd0] }, { read: 1 }]), [Buffer.from([0x60])]);
    await hw.i2c.transfer(1, EEPROM, [Uint8Array.of(0x60, 1, 2, 3)]);
    assert.deepEqual(await eeprom(d, 0x60, 3), Buffer.from([1, 2, 3]));
    const reads = await hw.i2c.transfer(1, EEPROM, [[0x60], 2, { write: Buffer.from([0x62]) }, { read: 1 }]);
    assert.deepEqual(reads, [Buffer.from([1, 2]), Buffer.from([3])]);
    await assert.rejects(hw.i2c.transfer(1, EEPROM, ['nope']), TypeError);
    hw.close();
  }));

test('errors: nack, invalid, forbidden; nothing changes', () =>
  withDaemon(async (d) => {
    const hw = connect(await d.register('sensor', EVERYTHING));
    await assert.rejects(hw.i2c.readByte(1, 0x51), (e) => {
      assert.deepEqual([e.code, e.status], ['nack', 502]);
      assert.match(e.message, /0x51/);
      return true;
    });
    const before = await eeprom(d, 0x30, 4);
    await assert.rejects(hw.i2c.writeByteData(1, EEPROM, 0x30, 256), { code: 'invalid', status: 422 });
    await assert.rejects(hw.i2c.writeI2cBlockData(1, EEPROM, 0x30, new Uint8Array(33)), { code: 'invalid' });
    const narrow = connect(await d.register('narrow', { devices: ['/dev/i2c-1'], labels: { 'io.hwbroker.i2c': '1=0x76' } }));
    await assert.rejects(narrow.i2c.writeByteData(1, EEPROM, 0x30, 0x55), (e) => {
      assert.deepEqual([e.code, e.status], ['forbidden', 403]);
      assert.ok(e.hint);
      return true;
    });
    const ro = connect(await d.register('reader', { devices: ['/dev/i2c-1:/dev/i2c-1:r'] }));
    assert.equal(await ro.i2c.readByteData(1, EEPROM, 0x30), before[0]);
    await assert.rejects(ro.i2c.transfer(1, EEPROM, [[0x30, 0x55]]), { code: 'forbidden' });
    assert.deepEqual(await eeprom(d, 0x30, 4), before);
    for (const c of [hw, narrow, ro]) c.close();
  }));
