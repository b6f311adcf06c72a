// ELF entered directly: ELF64 in long mode (identity paging and GDT built by the loader),
// ELF32 in protected mode when asked for, and the symbol tables of both classes.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { loadImage, readElfSymbols } from '../../../core/loader';
import { MiB, PROBE_DIR, SparseRam, buildElf, concat, multibootHeader } from './images';

function u64(ram: SparseRam, pa: number): number {
  return ram.u32(pa) + ram.u32(pa + 4) * 0x100000000;
}

/** Walks 4-level paging by hand (SDM vol. 3A 4.5), 2 MiB pages only. */
function translate(ram: SparseRam, cr3: number, va: number): number {
  const pml4e = u64(ram, cr3 + Math.floor(va / 2 ** 39) % 512 * 8);
  assert.equal(pml4e & 1, 1, 'PML4E present');
  const pdpte = u64(ram, (pml4e - (pml4e % 4096)) + Math.floor(va / 2 ** 30) % 512 * 8);
  assert.equal(pdpte & 0x81, 1, 'PDPTE present, not a 1 GiB page');
  const pde = u64(ram, (pdpte - (pdpte % 4096)) + Math.floor(va / 2 ** 21) % 512 * 8);
  assert.equal(pde & 0x83, 0x83, 'PDE present, writable, 2 MiB page');
  return pde - (pde % 2 ** 21) + (va % 2 ** 21);
}

const kernel64 = (entry: number, paddr = 0x200000, vaddr?: number) =>
  buildElf({ cls: 64, entry, segments: [{ paddr, vaddr, data: new Uint8Array([0xf4, 0xeb, 0xfd]), memsz: 0x1000, flags: 5 }] });

test('ELF64: long-mode entry with identity paging of 4 GiB, a 64-bit GDT and a boot stack', () => {
  const ram = new SparseRam(64 * MiB, 0xaa);
  const img = loadImage(kernel64(0x200000), ram);
  assert.equal(img.format, 'elf64');
  assert.deepEqual(img.boot, {
    mode: 'long64', rip: 0x200000, regs: { esp: 0x80000 },
    cr3: 0x70000, gdtBase: 0x76000, gdtLimit: 23, codeSelector: 0x08, dataSelector: 0x10,
  });
  assert.deepEqual(ram.readBytes(0x200000, 3), new Uint8Array([0xf4, 0xeb, 0xfd]));
  assert.deepEqual(ram.readBytes(0x200003, 0x1000 - 3), new Uint8Array(0x1000 - 3), 'p_memsz beyond p_filesz is zeroed');
  assert.equal(u64(ram, 0x70000), 0x71003, 'PML4[0] -> PDPT');
  assert.equal(u64(ram, 0x70008), 0, 'PML4[1] empty');
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => u64(ram, 0x71000 + 8 * i)), [0x72003, 0x73003, 0x74003, 0x75003, 0]);
  assert.equal(u64(ram, 0x72000), 0x83);
  assert.equal(u64(ram, 0x72008), 0x200083);
  assert.equal(u64(ram, 0x75ff8), 0xffe00083, 'the last 2 MiB page below 4 GiB');
  for (const va of [0, 0x7c00, 0x200000, 0x3fffffff, 0x40000000, 0xbfffffff, 0xfee00000, 0xffffffff]) {
    assert.equal(translate(ram, img.boot.cr3!, va), va, `identity at 0x${va.toString(16)}`);
  }
  assert.equal(
    Buffer.from(ram.readBytes(0x76000, 24)).toString('hex'),
    '0000000000000000' + 'ffff0000009aaf00' + 'ffff00000092cf00',
    'null, 64-bit code (L=1), data',
  );
  assert.deepEqual(img.loaded, [{ start: 0x70000, end: 0x76018 }, { start: 0x200000, end: 0x201000 }]);
});

test('ELF64: a higher-half e_entry is moved to p_paddr exactly, as QEMU moves e_entry', () => {
  // 0xffffffff80100010 does not fit a double: the translation must be done in 64 bits.
  const elf = buildElf({
    cls: 64, entry: 0, segments: [{ paddr: 0x100000, vaddr: 0, data: new Uint8Array(0x20), flags: 5 }],
  });
  const v = new DataView(elf.buffer);
  v.setBigUint64(24, 0xffffffff80100010n, true); // e_entry
  v.setBigUint64(64 + 16, 0xffffffff80100000n, true); // p_vaddr of program header 0
  const img = loadImage(elf, new SparseRam(16 * MiB));
  assert.equal(img.boot.rip, 0x100010);
});

test('ELF64: an image over the fixed long-mode area is refused before anything is written', () => {
  const ram = new SparseRam(16 * MiB);
  assert.throws(() => loadImage(kernel64(0x78000, 0x78000), ram), {
    name: 'LoaderError',
    message: 'segment 0 at 0x78000-0x78fff overlaps 0x70000-0x7ffff, where the loader puts the long-mode page tables, GDT and stack',
  });
  assert.deepEqual(ram.readBytes(0x78000, 4), new Uint8Array(4));
});

test('ELF64 with a multiboot header but no a.out kludge: refused as QEMU refuses it, loadable with format elf', () => {
  const elf = buildElf({ cls: 64, entry: 0x100000, segments: [{ paddr: 0x100000, data: concat(multibootHeader(0x3), new Uint8Array(8)) }] });
  assert.throws(() => loadImage(elf, new SparseRam(16 * MiB)), {
    message:
      'multiboot header at 0x80: the kernel is an x86-64 ELF (e_machine 62) without the a.out kludge (flags bit 16); ' +
      'QEMU refuses it too ("Cannot load x86-64 image, give a 32bit one."): set bit 16 and the address fields, ' +
      "or load it with format 'elf' to enter it in long mode",
  });
  assert.equal(loadImage(elf, new SparseRam(16 * MiB), { format: 'elf' }).boot.mode, 'long64');
});

test('ELF64 with the a.out kludge boots through multiboot in 32-bit mode (the usual 64-bit kernel recipe)', () => {
  const body = new Uint8Array(0x40);
  const header = multibootHeader(0x10003, { headerAddr: 0x100080, loadAddr: 0x100000, loadEndAddr: 0, bssEndAddr: 0x102000, entryAddr: 0x1000a0 });
  const elf = buildElf({ cls: 64, entry: 0x1000a0, segments: [{ paddr: 0x100000, data: concat(header, body) }] });
  const img = loadImage(elf, new SparseRam(16 * MiB));
  assert.equal(img.format, 'multiboot-aout');
  assert.equal(img.boot.mode, 'protected32');
  assert.equal(img.boot.rip, 0x1000a0);
});

test('ELF32 without a multiboot header: refused in auto (QEMU refuses it), protected mode with format elf', () => {
  const elf = buildElf({ cls: 32, entry: 0x100004, segments: [{ paddr: 0x100000, data: new Uint8Array(16) }] });
  assert.throws(() => loadImage(elf, new SparseRam(16 * MiB)), {
    message:
      'ELF header: an ELF32 file without a multiboot header; QEMU -kernel refuses it too ' +
      '("Error loading uncompressed kernel without PVH ELF Note"): add a multiboot header, or load it with format \'elf\' to enter e_entry in protected mode',
  });
  const ram = new SparseRam(16 * MiB);
  const img = loadImage(elf, ram, { format: 'elf' });
  assert.equal(img.format, 'elf32');
  assert.deepEqual(img.boot, { mode: 'protected32', rip: 0x100004, regs: {}, gdtBase: 0xc02b8, gdtLimit: 0x27, codeSelector: 8, dataSelector: 0x10 });
});

test('symbols of an ELF32: functions, objects and labels sorted by address; undefined, section, file and absolute constants left out', () => {
  const elf = buildElf({
    cls: 32, entry: 0x100000,
    segments: [{ paddr: 0x100000, data: concat(multibootHeader(0), new Uint8Array(4)) }],
    symbols: [
      { name: 'main', value: 0x100040, size: 0x20, type: 2, global: true },
      { name: 'buffer', value: 0x100100, size: 64, type: 1 },
      { name: 'loop', value: 0x100010, size: 0, type: 0 },
      { name: '_start', value: 0x100000, size: 0x10, type: 2, global: true },
      { name: 'printf', value: 0, size: 0, type: 2, shndx: 0, global: true },
      { name: '.text', value: 0x100000, size: 0, type: 3 },
      { name: 'start.S', value: 0, size: 0, type: 4, shndx: 0xfff1 },
      { name: 'MAGIC', value: 0x1badb002, size: 0, type: 0, shndx: 0xfff1 },
      { name: 'fixed_func', value: 0x1000, size: 8, type: 2, shndx: 0xfff1 },
    ],
  });
  const expected = [
    { name: 'fixed_func', address: 0x1000, size: 8, kind: 'func' },
    { name: '_start', address: 0x100000, size: 0x10, kind: 'func' },
    { name: 'loop', address: 0x100010, size: 0, kind: 'other' },
    { name: 'main', address: 0x100040, size: 0x20, kind: 'func' },
    { name: 'buffer', address: 0x100100, size: 64, kind: 'object' },
  ];
  assert.deepEqual(readElfSymbols(elf), expected);
  assert.deepEqual(loadImage(elf, new SparseRam(16 * MiB)).symbols, expected);
});

test('symbols of an ELF64, and of the committed probe kernel', () => {
  const elf = buildElf({
    cls: 64, entry: 0x200000,
    segments: [{ paddr: 0x200000, data: new Uint8Array(4) }],
    symbols: [
      { name: 'kmain', value: 0x200100, size: 0x80, type: 2, global: true },
      { name: 'entry64', value: 0x200000, size: 0, type: 0 },
      { name: 'pml4', value: 0x201000, size: 4096, type: 1 },
    ],
  });
  assert.deepEqual(readElfSymbols(elf).map((s) => [s.name, s.address, s.kind]), [
    ['entry64', 0x200000, 'other'], ['kmain', 0x200100, 'func'], ['pml4', 0x201000, 'object'],
  ]);
  const probe = readElfSymbols(new Uint8Array(fs.readFileSync(path.join(PROBE_DIR, 'probe.elf'))));
  assert.deepEqual(probe.find((s) => s.name === '_start'), { name: '_start', address: 0x10000c, size: 428, kind: 'func' });
  assert.deepEqual(probe.find((s) => s.name === 'saved_regs'), { name: 'saved_regs', address: 0x1002e0, size: 84, kind: 'object' });
  assert.equal(probe.find((s) => s.name === 'probe.o'), undefined, 'file symbols are left out');
  for (let i = 1; i < probe.length; i++) assert.ok(probe[i - 1].address <= probe[i].address, 'sorted');
});

test('an image whose symbol table is broken still loads, with a warning', () => {
  const elf = buildElf({
    cls: 32, entry: 0x100000,
    segments: [{ paddr: 0x100000, data: concat(multibootHeader(0), new Uint8Array(4)) }],
    symbols: [{ name: 'x', value: 0x100000, size: 0, type: 0 }],
  });
  const v = new DataView(elf.buffer);
  const shoff = v.getUint32(32, true);
  v.setUint32(shoff + 40 + 24, 9, true); // .symtab's sh_link -> a section that does not exist
  const img = loadImage(elf, new SparseRam(16 * MiB));
  assert.deepEqual(img.symbols, []);
  assert.deepEqual(img.warnings, ['symbols not read: section header 1: sh_link 9 does not name a string table section (there are 4 sections)']);
  assert.throws(() => readElfSymbols(elf), { name: 'LoaderError', message: 'section header 1: sh_link 9 does not name a string table section (there are 4 sections)' });
});

test('an ELF without section headers has no symbols', () => {
  assert.deepEqual(readElfSymbols(kernel64(0x200000)), []);
});
