// Flat binaries: copied as they are to flatAddress and entered at flatEntry in flatMode.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadImage } from '../../../core/loader';
import { MiB, SparseRam } from './images';

const bin = Uint8Array.from([0xfa, 0xf4, 0xeb, 0xfd, 0x55, 0xaa]);

test('flat default: protected mode at 1 MiB with the flat GDT', () => {
  const ram = new SparseRam(16 * MiB);
  const img = loadImage(bin, ram, { format: 'flat' });
  assert.equal(img.format, 'flat');
  assert.deepEqual(img.boot, { mode: 'protected32', rip: 0x100000, regs: {}, gdtBase: 0xc02b8, gdtLimit: 0x27, codeSelector: 8, dataSelector: 0x10 });
  assert.deepEqual(ram.readBytes(0x100000, bin.length), bin);
  assert.deepEqual(img.symbols, []);
  assert.deepEqual(img.loaded, [{ start: 0xc02b8, end: 0xc02e0 }, { start: 0x100000, end: 0x100006 }]);
});

test('flat real16: a boot sector at 0000:7C00, and entries above 64 KiB in a 64 KiB-aligned segment', () => {
  const ram = new SparseRam(16 * MiB);
  const boot = loadImage(bin, ram, { format: 'flat', flatMode: 'real16' });
  assert.deepEqual(boot.boot, { mode: 'real16', rip: 0x7c00, cs: 0, regs: {} });
  assert.deepEqual(ram.readBytes(0x7c00, bin.length), bin);
  assert.deepEqual(boot.loaded, [{ start: 0x7c00, end: 0x7c06 }]);
  const high = loadImage(bin, new SparseRam(16 * MiB), { format: 'flat', flatMode: 'real16', flatAddress: 0x12000, flatEntry: 0x12345 });
  assert.deepEqual({ cs: high.boot.cs, rip: high.boot.rip }, { cs: 0x1000, rip: 0x2345 });
  const hma = loadImage(bin, new SparseRam(16 * MiB), { format: 'flat', flatMode: 'real16', flatAddress: 0x100000, flatEntry: 0x100010 });
  assert.deepEqual({ cs: hma.boot.cs, rip: hma.boot.rip }, { cs: 0xffff, rip: 0x20 });
  assert.throws(() => loadImage(bin, new SparseRam(16 * MiB), { format: 'flat', flatMode: 'real16', flatAddress: 0x200000 }), {
    message: 'flat image: the entry point 0x200000 is beyond what real mode reaches (0x10ffef)',
  });
});

test('flat long64: same paging and GDT as ELF64, entry at flatEntry', () => {
  const ram = new SparseRam(16 * MiB);
  const img = loadImage(bin, ram, { format: 'flat', flatMode: 'long64', flatAddress: 0x300000, flatEntry: 0x300004 });
  assert.deepEqual(img.boot, {
    mode: 'long64', rip: 0x300004, regs: { esp: 0x80000 }, cr3: 0x70000, gdtBase: 0x76000, gdtLimit: 23, codeSelector: 8, dataSelector: 0x10,
  });
  assert.equal(ram.u32(0x70000), 0x71003);
  assert.throws(() => loadImage(bin, new SparseRam(16 * MiB), { format: 'flat', flatMode: 'long64', flatAddress: 0x7fffe }), {
    message: 'flat image at 0x7fffe-0x80003 overlaps 0x70000-0x7ffff, where the loader puts the long-mode page tables, GDT and stack',
  });
});

test('auto: flat options make an unrecognised image flat; without them it is an error', () => {
  const img = loadImage(bin, new SparseRam(16 * MiB), { flatAddress: 0x200000 });
  assert.equal(img.format, 'flat');
  assert.equal(img.boot.rip, 0x200000);
  assert.throws(() => loadImage(bin, new SparseRam(16 * MiB)), {
    name: 'LoaderError',
    message: "image: neither a multiboot header in the first 8192 bytes nor an ELF header (7f 45 4c 46); for a flat binary pass format 'flat' or flatAddress/flatMode",
  });
});

test('flat images must lie in RAM and outside the VGA/ROM hole', () => {
  assert.throws(() => loadImage(bin, new SparseRam(2 * MiB), { format: 'flat', flatAddress: 0x1ffffe }), {
    message: 'flat image at 0x1ffffe+0x6 does not fit in 2 MiB of RAM',
  });
  assert.throws(() => loadImage(bin, new SparseRam(2 * MiB), { format: 'flat', flatAddress: 0xb8000 }), {
    message: 'flat image at 0xb8000+0x6 overlaps the legacy VGA/ROM hole 0xa0000-0xfffff',
  });
  assert.throws(() => loadImage(bin, new SparseRam(2 * MiB), { format: 'flat', flatEntry: 0x300000 }), {
    message: 'flat image: the entry point 0x300000 is outside RAM (0x200000 bytes)',
  });
});
