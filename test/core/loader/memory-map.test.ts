// The E820 map as QEMU 7.2 + SeaBIOS report it for a `pc` guest (see core/loader/memory-map.ts),
// and the multiboot fields derived from it.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { encodeMultibootMmap, multibootMemUpperKiB, qemuE820 } from '../../../core/loader';
import { MiB } from './images';

test('E820 for 128 MiB: the seven entries QEMU shows a multiboot kernel', () => {
  assert.deepEqual(qemuE820(128 * MiB), [
    { base: 0, length: 0x9fc00, type: 1 },
    { base: 0x9fc00, length: 0x400, type: 2 },
    { base: 0xf0000, length: 0x10000, type: 2 },
    { base: 0x100000, length: 0x7ee0000, type: 1 },
    { base: 0x7fe0000, length: 0x20000, type: 2 },
    { base: 0xfffc0000, length: 0x40000, type: 2 },
    { base: 0xfd00000000, length: 0x300000000, type: 2 },
  ]);
});

test('E820 depends on the RAM size alone and is defined from just above 1 MiB to 3 GiB', () => {
  assert.deepEqual(qemuE820(3072 * MiB)[3], { base: 0x100000, length: 0xbfee0000, type: 1 });
  assert.deepEqual(qemuE820(3072 * MiB), qemuE820(3072 * MiB));
  // 1 MiB + 64 KiB: nothing usable above 1 MiB is left once SeaBIOS takes its 128 KiB.
  assert.deepEqual(qemuE820(MiB + 0x10000).slice(3, 5), [
    { base: 0x100000, length: 0x10000, type: 2 },
    { base: 0xfffc0000, length: 0x40000, type: 2 },
  ]);
  assert.throws(() => qemuE820(MiB), RangeError);
  assert.throws(() => qemuE820(3072 * MiB + 4096), RangeError);
});

test('mem_upper follows contiguous RAM from 1 MiB, in whatever order the entries come', () => {
  assert.equal(multibootMemUpperKiB(qemuE820(64 * MiB)), 0xfb80);
  const shuffled = [
    { base: 0x300000, length: 0x100000, type: 1 },
    { base: 0x100000, length: 0x200000, type: 1 },
    { base: 0x500000, length: 0x100000, type: 1 }, // after a hole: not counted
  ];
  assert.equal(multibootMemUpperKiB(shuffled), 3 * 1024);
});

test('multiboot mmap entries carry size 20 and 64-bit base/length', () => {
  const bytes = encodeMultibootMmap([{ base: 0xfd00000000, length: 0x300000000, type: 2 }]);
  assert.equal(Buffer.from(bytes).toString('hex'), '14000000' + '00000000fd000000' + '0000000003000000' + '02000000');
});
