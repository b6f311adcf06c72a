// Every malformed or unloadable image is refused with a LoaderError whose message names the
// header and the field, and nothing of it is written to RAM.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LoadOptions, loadImage } from '../../../core/loader';
import { ELF32, MiB, SparseRam, buildElf, concat, le32, multibootHeader } from './images';

function expectError(bytes: Uint8Array, message: string, opts: LoadOptions = {}, ramMiB = 16): void {
  const ram = new SparseRam(ramMiB * MiB);
  const writes: number[] = [];
  const spy = { size: ram.size, readBytes: ram.readBytes.bind(ram), writeBytes: (pa: number) => writes.push(pa) };
  assert.throws(() => loadImage(bytes, spy, opts), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'LoaderError');
    assert.equal(e.message, message);
    return true;
  });
  assert.deepEqual(writes, [], 'nothing written');
}

const hex = (n: number) => '0x' + n.toString(16);
const mbElf = (segments: Parameters<typeof buildElf>[0]['segments'], entry = 0x100000) =>
  buildElf({ cls: 32, entry, segments: [{ ...segments[0], data: concat(multibootHeader(0x3), segments[0].data) }, ...segments.slice(1)] });
const setU16 = (b: Uint8Array, off: number, v: number) => new DataView(b.buffer).setUint16(off, v, true);
const setU32 = (b: Uint8Array, off: number, v: number) => new DataView(b.buffer).setUint32(off, v, true);
const aoutHeader = (f: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number; entryAddr: number }) => multibootHeader(0x10003, f);
const AOUT = { headerAddr: 0x100000, loadAddr: 0x100000, loadEndAddr: 0, bssEndAddr: 0, entryAddr: 0x100000 };

test('file-level: empty, truncated, unknown format', () => {
  expectError(new Uint8Array(0), 'image: the file is empty');
  const elf32 = buildElf({ cls: 32, entry: 0x100000, segments: [{ paddr: 0x100000, data: new Uint8Array(4) }] });
  expectError(elf32.slice(0, 40), 'ELF header: the file is 40 bytes, shorter than the 52-byte ELF32 header', { format: 'elf' });
  expectError(elf32.slice(0, 10), 'ELF header: the file is 10 bytes, too short for the 16-byte e_ident');
  const elf64 = buildElf({ cls: 64, entry: 0x200000, segments: [{ paddr: 0x200000, data: new Uint8Array(4) }] });
  expectError(elf64.slice(0, 63), 'ELF header: the file is 63 bytes, shorter than the 64-byte ELF64 header');
  expectError(elf32, "image: unknown format 'coff', expected auto, multiboot, elf or flat", { format: 'coff' as never });
  const bz = new Uint8Array(0x400);
  setU32(bz, 0x202, 0x53726448);
  expectError(bz, 'image: a Linux boot protocol kernel ("HdrS" at 0x202); QEMU boots it with its Linux loader, which Hyperstep does not have');
});

test('ELF identification: magic, class, byte order, machine', () => {
  const base = () => buildElf({ cls: 32, entry: 0x100000, segments: [{ paddr: 0x100000, data: new Uint8Array(4) }] });
  const badMagic = base();
  badMagic[3] = 0x47;
  expectError(badMagic, 'ELF header: e_ident magic is 7f 45 4c 47, expected 7f 45 4c 46 ("\\x7fELF")', { format: 'elf' });
  const badClass = base();
  badClass[4] = 3;
  expectError(badClass, 'ELF header: e_ident[EI_CLASS] is 3, expected 1 (ELFCLASS32) or 2 (ELFCLASS64)');
  const bigEndian = base();
  bigEndian[5] = 2;
  expectError(bigEndian, 'ELF header: e_ident[EI_DATA] is 2, expected 1 (ELFDATA2LSB, little-endian)');
  const arm = buildElf({ cls: 64, machine: 40, entry: 0x200000, segments: [{ paddr: 0x200000, data: new Uint8Array(4) }] });
  expectError(arm, 'ELF header: e_machine is 40 (ARM), expected 3 (i386) or 62 (x86-64)');
  const armMultiboot = mbElf([{ paddr: 0x100000, data: new Uint8Array(4) }]);
  setU16(armMultiboot, ELF32.e_machine, 40);
  expectError(
    armMultiboot,
    'multiboot header at 0x60: flags 0x3 leave bit 16 (a.out kludge) clear, so the kernel must be ELF32, but: ' +
      'ELF header: e_machine is 40 (ARM), expected 3 (i386) or 62 (x86-64)',
  );
  const i386In64 = buildElf({ cls: 64, machine: 3, entry: 0x200000, segments: [{ paddr: 0x200000, data: new Uint8Array(4) }] });
  expectError(i386In64, 'ELF header: e_machine is 3 (i386) in an ELF64 file, expected 62 (x86-64)');
  const notElf = concat(multibootHeader(0x3), new Uint8Array(64));
  expectError(
    notElf,
    'multiboot header at 0x0: flags 0x3 leave bit 16 (a.out kludge) clear, so the kernel must be ELF32, but: ' +
      'ELF header: e_ident magic is 02 b0 ad 1b, expected 7f 45 4c 46 ("\\x7fELF")',
  );
});

test('program headers: table bounds, entry size, count, p_offset/p_filesz, p_filesz/p_memsz, no PT_LOAD', () => {
  const elf = () => mbElf([{ paddr: 0x100000, data: new Uint8Array(4) }]);
  const many = elf();
  setU16(many, ELF32.e_phnum, 200);
  expectError(many, `ELF header: the program header table (e_phoff 0x34 + e_phnum 200 * 32 = 0x1934) is past the end of the file (${hex(many.length)} bytes)`);
  const wide = elf();
  setU16(wide, ELF32.e_phentsize, 40);
  expectError(wide, 'ELF header: e_phentsize is 40, expected 32 for ELF32');
  const none = elf();
  setU16(none, ELF32.e_phnum, 0);
  expectError(none, 'ELF header: e_phnum is 0: there are no program headers to load');

  // Three segments, the third claiming 0x800 bytes at file offset 0x4800 of a 0x4800-byte file.
  const three = mbElf([
    { paddr: 0x100000, data: new Uint8Array(0x100) },
    { paddr: 0x200000, data: new Uint8Array(0x100) },
    { paddr: 0x300000, data: new Uint8Array(0x800), offset: 0x4800 },
  ]);
  const padded = new Uint8Array(0x4800);
  padded.set(three.subarray(0, Math.min(three.length, 0x4800)));
  expectError(padded, 'program header 2: p_offset+p_filesz (0x5000) is past the end of the file (0x4800 bytes)');

  expectError(mbElf([{ paddr: 0x100000, data: new Uint8Array(4), memsz: 8 }]), 'program header 0: p_filesz (0x10) is larger than p_memsz (0x8)');
  const note = mbElf([{ paddr: 0x100000, data: new Uint8Array(4), type: 4 }]);
  expectError(note, 'ELF header: no program header is PT_LOAD: there is nothing to load');
});

test('segments: outside RAM, overlapping, in the VGA/ROM hole, over the multiboot information', () => {
  expectError(
    mbElf([{ paddr: 0x100000, data: new Uint8Array(4) }, { paddr: 0x7ff0000, data: new Uint8Array(0x10), memsz: 0x20000 }]),
    'segment 1 at 0x7ff0000+0x20000 does not fit in 128 MiB of RAM',
    {},
    128,
  );
  expectError(
    mbElf([{ paddr: 0x100000, data: new Uint8Array(0x1000 - 12) }, { paddr: 0x100800, data: new Uint8Array(0x1000) }]),
    'segment 1 at 0x100800+0x1000 overlaps segment 0 at 0x100000+0x1000',
  );
  expectError(mbElf([{ paddr: 0xa0000, data: new Uint8Array(0x100 - 12) }]), 'segment 0 at 0xa0000+0x100 overlaps the legacy VGA/ROM hole 0xa0000-0xfffff');
  expectError(
    concat(aoutHeader({ ...AOUT, headerAddr: 0x8000, loadAddr: 0x8000, entryAddr: 0x8000 }), new Uint8Array(16)),
    'the multiboot image at 0x8000+0x2000 overlaps 0x9000-0x9557, where QEMU puts the memory map and the multiboot information structure',
  );
  expectError(
    buildElf({ cls: 64, entry: 0x40000000, segments: [{ paddr: 0x200000, data: new Uint8Array(4) }] }),
    'ELF header: the entry point (e_entry) 0x40000000 is outside RAM (0x1000000 bytes)',
  );
});

test('multiboot header: checksum, and every a.out kludge field QEMU checks', () => {
  expectError(concat(new Uint8Array(0x20), le32(0x1badb002, 0, 0x1234), new Uint8Array(32)), 'multiboot header at 0x20: checksum 0x1234 does not make magic+flags+checksum zero');
  const body = new Uint8Array(16);
  expectError(concat(aoutHeader({ ...AOUT, loadAddr: 0x100010 }), body), 'multiboot header at 0x0: header_addr 0x100000 is below load_addr 0x100010');
  expectError(
    concat(aoutHeader({ ...AOUT, headerAddr: 0x100010 }), body),
    "multiboot header at 0x0: header_addr - load_addr is 0x10, more than the header's file offset: load_addr would lie before the start of the file",
  );
  expectError(concat(aoutHeader({ ...AOUT, loadEndAddr: 0xff000 }), body), 'multiboot header at 0x0: load_end_addr 0xff000 is below load_addr 0x100000');
  expectError(
    concat(aoutHeader({ ...AOUT, loadEndAddr: 0x100020, bssEndAddr: 0x100010 }), body),
    'multiboot header at 0x0: bss_end_addr 0x100010 is below the end of the loaded text and data (0x100020)',
  );
  expectError(
    concat(aoutHeader({ ...AOUT, loadEndAddr: 0x100400 }), body),
    'multiboot header at 0x0: load_end_addr 0x100400 asks for 0x400 bytes from file offset 0x0, past the end of the file (0x30 bytes)',
  );
  expectError(
    concat(multibootHeader(0x10003), new Uint8Array(8)),
    'multiboot header at 0x0: flags bit 16 (a.out kludge) is set but the address fields header_addr..entry_addr run past the end of the file (0x14 bytes)',
  );
  expectError(
    concat(aoutHeader({ ...AOUT, headerAddr: 0xfffff000, loadAddr: 0xfffff000, entryAddr: 0xfffff000 }), new Uint8Array(0x1100 - 32)),
    'multiboot header at 0x0: load_addr 0xfffff000 plus 0x1100 bytes to load runs past 4 GiB',
  );
  expectError(
    concat(aoutHeader({ ...AOUT, headerAddr: 0x2000000, loadAddr: 0x2000000, bssEndAddr: 0x2001000, entryAddr: 0x2000000 }), body),
    'kernel at 0x2000000+0x1000 does not fit in 16 MiB of RAM',
  );
  expectError(concat(aoutHeader({ ...AOUT, entryAddr: 0x5000000 }), body), 'multiboot header at 0x0: the entry point 0x5000000 is outside RAM (0x1000000 bytes)');
});
