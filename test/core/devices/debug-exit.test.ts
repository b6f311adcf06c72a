import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DebugExit } from '../../../core/devices/debug-exit';

test('a write of v requests exit status (v << 1) | 1', () => {
  const got: number[] = [];
  const dev = new DebugExit((s) => got.push(s));
  dev.portWrite(0xf4, 4, 0);
  dev.portWrite(0xf4, 4, 0x10);
  dev.portWrite(0xf4, 1, 0x1ff); // a byte write only carries the low byte
  dev.portWrite(0xf4, 2, 0x7f);
  assert.deepEqual(got, [1, 0x21, 0x1ff, 0xff]);
  assert.equal(dev.lastStatus, 0xff);
});

test('reads return 0 at every width, as QEMU', () => {
  const dev = new DebugExit(() => assert.fail('a read must not exit'));
  assert.equal(dev.portRead(0xf4, 1), 0);
  assert.equal(dev.portRead(0xf4, 2), 0);
  assert.equal(dev.portRead(0xf4, 4), 0);
  assert.equal(dev.portRead(0xf5, 1), 0);
});
