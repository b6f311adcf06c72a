import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FwCfg, FW_CFG_FILE_DIR } from '../../../core/devices/fw-cfg';

class Ram {
  readonly u8 = new Uint8Array(0x10000);
  readBytes(pa: number, len: number): Uint8Array {
    return this.u8.slice(pa, pa + len);
  }
  writeBytes(pa: number, bytes: Uint8Array): void {
    if (pa + bytes.length > this.u8.length) throw new RangeError('outside RAM');
    this.u8.set(bytes, pa);
  }
}

function make(vcpus = 4, ramBytes = 128 * 1024 * 1024) {
  const ram = new Ram();
  const dev = new FwCfg({ vcpus, ramBytes }, ram);
  const select = (k: number) => dev.portWrite(0x510, 2, k);
  const read = (n: number) => Array.from({ length: n }, () => dev.portRead(0x511, 1));
  return { ram, dev, select, read };
}

test('signature, ID, RAM size and CPU counts as QEMU reports them', () => {
  const { select, read } = make(4, 128 * 1024 * 1024);
  select(0);
  assert.deepEqual(read(8), [0x51, 0x45, 0x4d, 0x55, 0, 0, 0, 0], '"QEMU", then 0 past the end');
  select(1);
  assert.deepEqual(read(4), [3, 0, 0, 0], 'traditional interface + DMA');
  select(3);
  assert.deepEqual(read(8), [0, 0, 0, 8, 0, 0, 0, 0], '128 MiB, u64 LE');
  select(5);
  assert.deepEqual(read(2), [4, 0]);
  select(0x0f);
  assert.deepEqual(read(2), [4, 0]);
  select(0x7777);
  assert.deepEqual(read(4), [0, 0, 0, 0], 'unknown key reads 0');
});

test('selecting rewinds; only 16-bit selector writes and byte data reads count', () => {
  const { dev, select, read } = make();
  select(0);
  assert.deepEqual(read(2), [0x51, 0x45]);
  select(0);
  assert.deepEqual(read(1), [0x51]);
  assert.equal(dev.portRead(0x511, 2), 0, 'word read: 0, no advance');
  assert.equal(dev.portRead(0x510, 4), 0);
  assert.equal(dev.portRead(0x510, 1), 0x45, 'a byte read at 0x510 reads data');
  dev.portWrite(0x510, 4, 5);
  dev.portWrite(0x510, 1, 5);
  dev.portWrite(0x511, 2, 5);
  assert.deepEqual(read(1), [0x4d], 'other write widths are ignored');
});

test('file directory: big-endian count and entries sorted by name', () => {
  const { select, read } = make(1, 32 * 1024 * 1024);
  select(FW_CFG_FILE_DIR);
  const count = read(4);
  assert.deepEqual(count, [0, 0, 0, 2]);
  const entries = [0, 1].map(() => {
    const e = read(64);
    const size = (e[0] << 24) | (e[1] << 16) | (e[2] << 8) | e[3];
    const key = (e[4] << 8) | e[5];
    const name = String.fromCharCode(...e.slice(8, e.indexOf(0, 8)));
    return { size, key, name };
  });
  assert.deepEqual(entries, [
    { size: 4, key: 0x20, name: 'etc/boot-fail-wait' },
    { size: 20, key: 0x21, name: 'etc/e820' },
  ]);
  select(0x20);
  assert.deepEqual(read(4), [0xff, 0xff, 0xff, 0xff], 'no reboot on boot failure, as QEMU');
  select(0x21);
  assert.deepEqual(read(20), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0]);
});

test('DMA: "QEMU CFG" signature and a read transfer with select', () => {
  const { dev, ram, select } = make(4);
  const sig = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => dev.portRead(0x514 + i, 1));
  assert.equal(String.fromCharCode(...sig), 'QEMU CFG');
  assert.equal(dev.portRead(0x514, 4), 0x554d4551, 'same bytes a 32-bit inl returns on QEMU');
  // Descriptor at 0x1000: control = select(5) | READ, length 2, address 0x2000 (all big-endian).
  const desc = new DataView(ram.u8.buffer, 0x1000, 16);
  desc.setUint32(0, (5 << 16) | 0x08 | 0x02, false);
  desc.setUint32(4, 2, false);
  desc.setUint32(12, 0x2000, false);
  const bswap = (v: number) => Buffer.from(new Uint32Array([v]).buffer).readUInt32BE(0);
  dev.portWrite(0x514, 4, 0);
  dev.portWrite(0x518, 4, bswap(0x1000));
  assert.deepEqual(Array.from(ram.u8.slice(0x2000, 0x2002)), [4, 0]);
  assert.equal(desc.getUint32(0, false), 0, 'control cleared: success');
  // Reading 6 bytes of the 4-byte signature: zeroes past the end, offset stops at the end.
  select(0);
  desc.setUint32(0, 0x02, false);
  desc.setUint32(4, 6, false);
  ram.u8.fill(0xaa, 0x2000, 0x2008);
  dev.portWrite(0x514, 4, 0);
  dev.portWrite(0x518, 4, bswap(0x1000));
  assert.deepEqual(Array.from(ram.u8.slice(0x2000, 0x2007)), [0x51, 0x45, 0x4d, 0x55, 0, 0, 0xaa]);
  assert.equal(dev.portRead(0x511, 1), 0);
  // Writes are refused: control gets the error bit.
  desc.setUint32(0, 0x10, false);
  dev.portWrite(0x514, 4, 0);
  dev.portWrite(0x518, 4, bswap(0x1000));
  assert.equal(desc.getUint32(0, false), 1);
  // A transfer to memory outside RAM reports an error instead of throwing.
  desc.setUint32(0, 0x02, false);
  desc.setUint32(12, 0xffff0, false);
  select(0);
  dev.portWrite(0x518, 4, bswap(0x1000));
  assert.equal(desc.getUint32(0, false), 1);
});
