// Multiboot v1 loading on images assembled here: the ELF path (p_paddr, entry translation,
// bss), the a.out kludge (text offset, load_end_addr 0, bss_end_addr), the buffer layout
// QEMU uses for modules and command lines, and QEMU's tolerance of header flags.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { loadImage } from '../../../core/loader';
import { MiB, SparseRam, buildElf, concat, multibootHeader } from './images';

const MBI = 0x9500;

function code(n: number, value = 0x90): Uint8Array {
  return new Uint8Array(n).fill(value);
}

test('multiboot ELF: segments go to p_paddr, e_entry moves from p_vaddr to p_paddr, bss and gaps are zero', () => {
  const text = concat(multibootHeader(0x3), code(0x34, 0xf4));
  const elf = buildElf({
    cls: 32,
    entry: 0xc010000c,
    segments: [
      { vaddr: 0xc0100000, paddr: 0x100000, data: text, memsz: text.length + 0x100, flags: 5 },
      { vaddr: 0xc0200000, paddr: 0x200000, data: new TextEncoder().encode('DATA'), memsz: 0x2000, flags: 6 },
    ],
  });
  const ram = new SparseRam(32 * MiB, 0xaa);
  const img = loadImage(elf, ram);
  assert.equal(img.format, 'multiboot-elf');
  assert.equal(img.boot.mode, 'protected32');
  assert.equal(img.boot.rip, 0x10000c);
  assert.equal(img.boot.regs.ecx, 0x10000c);
  assert.equal(img.boot.regs.eax, 0x2badb002);
  assert.equal(img.boot.regs.ebx, MBI);
  assert.deepEqual(ram.readBytes(0x100000, text.length), text);
  assert.deepEqual(ram.readBytes(0x100000 + text.length, 0x100), new Uint8Array(0x100), '.bss is zeroed');
  assert.deepEqual(ram.readBytes(0x150000, 16), new Uint8Array(16), 'the gap between segments is part of the zeroed buffer');
  assert.equal(new TextDecoder().decode(ram.readBytes(0x200000, 4)), 'DATA');
  assert.deepEqual(ram.readBytes(0x200004, 0x1ffc), new Uint8Array(0x1ffc));
  // No modules: the (empty) module list and the command lines start on the page after the kernel.
  assert.equal(ram.u32(MBI + 24), 0x202000, 'mods_addr');
  assert.equal(ram.u32(MBI + 20), 0, 'mods_count');
  assert.equal(ram.cString(ram.u32(MBI + 16)), 'kernel ', 'default image path, empty -append');
  assert.equal(ram.u32(MBI + 16), 0x202000);
  assert.equal(ram.u32(MBI + 64), 0x202008, 'boot_loader_name follows "kernel" + "" reserve');
  assert.equal(ram.cString(0x202008), 'qemu');
  assert.deepEqual(img.loaded, [
    { start: 0x9000, end: 0x9000 + 7 * 24 },
    { start: 0x9500, end: 0x9558 },
    { start: 0xc02b8, end: 0xc02e0 },
    { start: 0x100000, end: 0x203000 },
  ]);
});

test('multiboot information: flags, mem_lower/mem_upper, boot_device, mmap, and EDX as the option ROM leaves it', () => {
  const elf = buildElf({ cls: 32, entry: 0x100000, segments: [{ paddr: 0x100000, data: concat(multibootHeader(0), code(4)) }] });
  const ram = new SparseRam(200 * MiB);
  const img = loadImage(elf, ram);
  const memUpper = (200 * MiB - 0x20000 - MiB) / 1024;
  assert.equal(ram.u32(MBI), 0x24f);
  assert.equal(ram.u32(MBI + 4), 639);
  assert.equal(ram.u32(MBI + 8), memUpper);
  assert.equal(ram.u32(MBI + 12), 0x8000ffff);
  assert.equal(ram.u32(MBI + 44), 7 * 24, 'mmap_length');
  assert.equal(ram.u32(MBI + 48), 0x9000, 'mmap_addr');
  for (const off of [28, 32, 36, 40, 52, 56, 60, 68, 72, 76, 80, 84]) assert.equal(ram.u32(MBI + off), 0, `offset ${off} is zero`);
  // Entry 4 of the map: RAM from 1 MiB to 128 KiB below the top.
  const e4 = 0x9000 + 3 * 24;
  assert.deepEqual([ram.u32(e4), ram.u32(e4 + 4), ram.u32(e4 + 12), ram.u32(e4 + 20)], [20, MiB, 200 * MiB - 0x20000 - MiB, 1]);
  assert.equal(img.boot.regs.edx, ((memUpper & 0xffff0000) | 0x511) >>> 0);
  assert.deepEqual(
    { esp: img.boot.regs.esp, edi: img.boot.regs.edi, esi: img.boot.regs.esi, ebp: img.boot.regs.ebp, eflags: img.boot.regs.eflags },
    { esp: 0x6f08, edi: 0x1000, esi: 0, ebp: 0, eflags: 0x6 },
  );
  assert.deepEqual(
    { gdtBase: img.boot.gdtBase, gdtLimit: img.boot.gdtLimit, cs: img.boot.codeSelector, ds: img.boot.dataSelector },
    { gdtBase: 0xc02b8, gdtLimit: 0x27, cs: 0x08, ds: 0x10 },
  );
});

/** An a.out-kludge image: `prefix` bytes, the header, then `body`. */
function aout(fields: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number; entryAddr: number }, prefix: number, body: Uint8Array): Uint8Array {
  return concat(code(prefix, 0x11), multibootHeader(0x10003, fields), body);
}

test('a.out kludge: the text starts header_addr - load_addr before the header, load_end_addr 0 loads to the end of the file', () => {
  const body = Uint8Array.from({ length: 0xa0 }, (_, i) => i);
  const file = aout({ headerAddr: 0x200020, loadAddr: 0x200000, loadEndAddr: 0, bssEndAddr: 0x201000, entryAddr: 0x200060 }, 0x40, body);
  const ram = new SparseRam(16 * MiB, 0xaa);
  const img = loadImage(file, ram);
  assert.equal(img.format, 'multiboot-aout');
  assert.equal(img.boot.rip, 0x200060);
  // File offset 0x20 (= 0x40 - 0x20) lands at load_addr.
  assert.deepEqual(ram.readBytes(0x200000, file.length - 0x20), file.subarray(0x20));
  const loaded = file.length - 0x20;
  assert.deepEqual(ram.readBytes(0x200000 + loaded, 0x1000 - loaded), new Uint8Array(0x1000 - loaded), 'zeros up to bss_end_addr');
  assert.equal(ram.u32(MBI + 24), 0x201000, 'the module list follows the kernel page');
});

test('a.out kludge: load_end_addr cuts the file, bss_end_addr 0 means no bss', () => {
  const body = code(0x100, 0x22);
  const file = aout({ headerAddr: 0x300000, loadAddr: 0x300000, loadEndAddr: 0x300010, bssEndAddr: 0, entryAddr: 0x300000 }, 0, body);
  const ram = new SparseRam(16 * MiB, 0xaa);
  loadImage(file, ram);
  assert.deepEqual(ram.readBytes(0x300000, 0x10), file.subarray(0, 0x10));
  assert.deepEqual(ram.readBytes(0x300010, 0x10), new Uint8Array(0x10), 'the rest of the page is the zeroed buffer');
  assert.equal(ram.u32(MBI + 24), 0x301000);
});

test('modules: page-aligned after the info page, command lines as "path args", a zero-length module shares the next one\'s address', () => {
  const file = aout({ headerAddr: 0x100000, loadAddr: 0x100000, loadEndAddr: 0, bssEndAddr: 0, entryAddr: 0x100000 }, 0, code(0x10));
  const ram = new SparseRam(16 * MiB);
  const b = Uint8Array.from({ length: 4096 }, (_, i) => i & 0xff);
  const c = new TextEncoder().encode('0123456789');
  loadImage(file, ram, {
    imagePath: '/boot/k.bin',
    cmdline: 'console=ttyS0',
    modules: [{ path: 'a', bytes: new Uint8Array(0), cmdline: 'one' }, { path: 'b', bytes: b }, { path: 'c', bytes: c, cmdline: '' }],
  });
  assert.equal(ram.u32(MBI + 20), 3);
  const list = 0x101000;
  assert.equal(ram.u32(MBI + 24), list);
  const mods = [0, 1, 2].map((k) => [ram.u32(list + 16 * k), ram.u32(list + 16 * k + 4), ram.cString(ram.u32(list + 16 * k + 8)), ram.u32(list + 16 * k + 12)]);
  assert.deepEqual(mods, [
    [0x102000, 0x102000, 'a one', 0],
    [0x102000, 0x103000, 'b', 0],
    [0x103000, 0x10300a, 'c ', 0],
  ]);
  assert.equal(ram.u32(list + 16 * 0 + 8), list + 48, 'module command lines follow the list');
  assert.deepEqual(ram.readBytes(0x102000, 4096), b);
  assert.deepEqual(ram.readBytes(0x103000, 10), c);
  assert.equal(ram.cString(ram.u32(MBI + 16)), '/boot/k.bin console=ttyS0');
  // QEMU reserves strlen(path)+1 + strlen(cmdline)+1 + strlen("a one,b,c ")+1 bytes of command lines.
  assert.equal(ram.u32(MBI + 64), list + 48 + 12 + 14 + 11);
  assert.equal(ram.cString(ram.u32(MBI + 64)), 'qemu');
});

test('a module that would end past RAM is refused with the whole buffer named', () => {
  const file = aout({ headerAddr: 0x100000, loadAddr: 0x100000, loadEndAddr: 0, bssEndAddr: 0, entryAddr: 0x100000 }, 0, code(0x10));
  assert.throws(() => loadImage(file, new SparseRam(2 * MiB), { modules: [{ path: 'big', bytes: new Uint8Array(MiB) }] }), {
    name: 'LoaderError',
    message: 'the multiboot image (kernel, module list, command lines and modules) at 0x100000+0x102000 does not fit in 2 MiB of RAM',
  });
});

test('header flags: bit 2 (video) and unknown required bits load with warnings, as QEMU boots them', () => {
  const mk = (flags: number) => buildElf({ cls: 32, entry: 0x100000, segments: [{ paddr: 0x100000, data: concat(multibootHeader(flags), code(4)) }] });
  const vbe = loadImage(mk(0x7), new SparseRam(16 * MiB));
  assert.deepEqual(vbe.warnings, [
    'multiboot header at 0x60: flags bit 2 asks for a video mode; QEMU only warns "multiboot knows VBE. we don\'t" and boots without one, and so do we',
  ]);
  const odd = loadImage(mk(0x23), new SparseRam(16 * MiB));
  assert.deepEqual(odd.warnings, ['multiboot header at 0x60: flags 0x20 ask for features no multiboot v1 loader defines; QEMU ignores them, and so do we']);
});

test('the header is found on any 4-byte boundary up to offset 8140, and not at 8144 or off-boundary', () => {
  const at = (offset: number) => concat(code(offset, 0), multibootHeader(0x10003, {
    headerAddr: 0x100000 + offset, loadAddr: 0x100000, loadEndAddr: 0, bssEndAddr: 0, entryAddr: 0x100000,
  }), code(64));
  assert.equal(loadImage(at(8140), new SparseRam(16 * MiB)).format, 'multiboot-aout');
  assert.throws(() => loadImage(at(8144), new SparseRam(16 * MiB)), /^LoaderError: image: neither a multiboot header/);
  assert.throws(() => loadImage(at(2), new SparseRam(16 * MiB), { format: 'multiboot' }), {
    message: 'multiboot header: none found (magic 0x1badb002 on a 4-byte boundary in the first 8192 bytes with magic+flags+checksum zero)',
  });
});

test('a segment whose zero-fill tail overlaps another segment is cut to p_filesz, as QEMU does', () => {
  const first = concat(multibootHeader(0x3), code(4));
  const elf = buildElf({
    cls: 32,
    entry: 0x100000,
    segments: [
      { paddr: 0x100000, data: first, memsz: 0x2000 },
      { paddr: 0x101000, data: new TextEncoder().encode('KEEP') },
    ],
  });
  const ram = new SparseRam(16 * MiB);
  loadImage(elf, ram);
  assert.equal(new TextDecoder().decode(ram.readBytes(0x101000, 4)), 'KEEP');
});
