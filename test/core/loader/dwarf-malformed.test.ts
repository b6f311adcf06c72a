// Broken input: a file that is no ELF is a DwarfError; a broken debug section or unit is
// skipped with a warning and costs only itself; and randomly corrupted sections never
// crash or hang the reader, its lookups or the unwinder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DebugInfo, DwarfError, readElfSections, ReadMemory } from '../../../core/loader/dwarf';

const CPROG = join(__dirname, '../../../../guests/cprog/cprog.elf');
const CPROG_C = 'guests/cprog/cprog.c';

/** A private copy of cprog.elf (byteOffset 0, so a section's byteOffset is its file offset). */
function cprog(): Uint8Array {
  return new Uint8Array(readFileSync(CPROG));
}

/** File offset of a section's data, and of its ELF32 section header. */
function locate(bytes: Uint8Array, name: string): { data: number; size: number; header: number } {
  const sections = readElfSections(bytes).sections;
  const index = sections.findIndex((s) => s.name === name);
  assert.ok(index > 0, name);
  const view = new DataView(bytes.buffer);
  const shoff = view.getUint32(32, true);
  return { data: sections[index].data.byteOffset, size: sections[index].data.length, header: shoff + index * 40 };
}

function setU32(bytes: Uint8Array, offset: number, value: number): void {
  new DataView(bytes.buffer).setUint32(offset, value, true);
}

test('input that is no ELF, or whose section table is cut off, is a DwarfError', () => {
  assert.throws(() => DebugInfo.fromElf(new Uint8Array(0)), DwarfError);
  assert.throws(() => DebugInfo.fromElf(new TextEncoder().encode('\x7fELF but not really')), { name: 'DwarfError', message: /EI_CLASS/ });
  const bytes = cprog();
  assert.throws(() => DebugInfo.fromElf(bytes.subarray(0, 40)), { name: 'DwarfError', message: /ELF header/ });
  // The section header table lies at the end of the file: cut it off.
  const shoff = new DataView(bytes.buffer).getUint32(32, true);
  assert.throws(() => DebugInfo.fromElf(bytes.subarray(0, shoff + 40)), { name: 'DwarfError', message: /section header table/ });
});

test('a truncated .debug_line loses only the units it cut', () => {
  const bytes = cprog();
  const line = locate(bytes, '.debug_line');
  setU32(bytes, line.header + 20, line.size - 100); // sh_size: the last unit (cprog.c) now overruns
  const d = DebugInfo.fromElf(bytes);
  assert.ok(d);
  assert.ok(d.warnings.some((w) => /\.debug_line: the unit at 0x[0-9a-f]+ claims/.test(w)), d.warnings.join('\n'));
  assert.deepEqual(d.lineAt(0x10000c)?.line, 32); // multiboot.S, the first unit, is intact
  assert.equal(d.lineAt(0x101520), null); // cprog.c's unit was cut
  assert.equal(d.addressesForLine(CPROG_C, 49), null);
  assert.equal(d.functionAt(0x101520)?.name, 'quicksort'); // .debug_info is intact
});

test('an impossible entry count in a v5 line table header skips that table', () => {
  const bytes = cprog();
  const line = locate(bytes, '.debug_line');
  // The first table's directories_count (after 30 bytes of fixed header and the 3-byte
  // directory entry format) becomes a ULEB128 of about two million.
  bytes.set([0xff, 0xff, 0x7f], line.data + 0x21);
  const d = DebugInfo.fromElf(bytes);
  assert.ok(d);
  assert.ok(d.warnings.some((w) => /line table at 0x0 skipped: .*entries announced/.test(w)), d.warnings.join('\n'));
  assert.equal(d.lineAt(0x10000c), null);
  assert.equal(d.lineAt(0x101520)?.line, 49);
});

test('a garbage unit in .debug_info is skipped; the symbol table names its functions instead', () => {
  const bytes = cprog();
  const info = locate(bytes, '.debug_info');
  const view = new DataView(bytes.buffer);
  // Walk to the third unit (common/rt.c) and overwrite its DIEs after the unit header.
  let unit = info.data;
  for (let i = 0; i < 2; i++) unit += 4 + view.getUint32(unit, true);
  bytes.fill(0xfe, unit + 12, unit + 64);
  const d = DebugInfo.fromElf(bytes);
  assert.ok(d);
  assert.ok(d.warnings.some((w) => /\.debug_info unit at 0x[0-9a-f]+ skipped/.test(w)), d.warnings.join('\n'));
  assert.deepEqual(d.functionAt(0x100bb0), { name: 'con_puts', low: 0x100bb0, high: 0x100bf7, source: 'symbols' });
  assert.equal(d.functionAt(0x101520)?.source, 'dwarf'); // cprog.c's unit is intact
  assert.equal(d.lineAt(0x100bb0)?.file, 'guests/common/rt.c'); // and so is .debug_line
});

test('a .debug_frame past the end of the file is ignored: unwinding falls back to frame pointers', () => {
  const bytes = cprog();
  const frame = locate(bytes, '.debug_frame');
  setU32(bytes, frame.header + 16, bytes.length - 8); // sh_offset
  const d = DebugInfo.fromElf(bytes);
  assert.ok(d);
  assert.ok(d.warnings.some((w) => /\.debug_frame.*past the end of the file/.test(w)), d.warnings.join('\n'));
  assert.equal(d.hasFrameInfo(0x101520), false);
  const mem: Record<number, number> = { 0x8000: 0, 0x8004: 0x102012 };
  const read: ReadMemory = (a) => mem[a] ?? null;
  assert.deepEqual(d.unwind({ pc: 0x101530, sp: 0x7f00, fp: 0x8000 }, read, false).map((f) => [f.method, f.pc]), [['frame-pointer', 0x102012]]);
});

test('an unknown call frame instruction makes that FDE unusable, not the unwinder throw', () => {
  const bytes = cprog();
  const frame = locate(bytes, '.debug_frame');
  // The first FDE (emit_padded, 0x100140) starts at 0x14; its instructions at 0x24.
  bytes[frame.data + 0x24] = 0x3f;
  const d = DebugInfo.fromElf(bytes);
  assert.ok(d);
  assert.throws(() => d.frameRowAt(0x100150), { name: 'DwarfError', message: /unknown call frame instruction 0x3f/ });
  const read: ReadMemory = () => 0x100200;
  assert.deepEqual(d.unwind({ pc: 0x100150, sp: 0x7f00 }, read, false), []);
  // Other FDEs still work: quicksort at its entry finds the return address at [esp].
  assert.equal(d.unwind({ pc: 0x101520, sp: 0x7f00 }, (a) => (a === 0x7f00 ? 0x102012 : null), false)[0]?.pc, 0x102012);
});

/** xorshift32: the same corruptions on every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

test('randomly corrupted debug sections never crash or hang the reader, its lookups or the unwinder', () => {
  const original = cprog();
  const names = ['.debug_line', '.debug_line_str', '.debug_info', '.debug_abbrev', '.debug_str', '.debug_frame', '.debug_rnglists'];
  const places = names.map((n) => locate(original, n));
  const random = rng(20240601);
  const pick = (n: number) => Math.floor(random() * n);
  let readable = 0;
  let warned = 0;
  for (let iteration = 0; iteration < 120; iteration++) {
    const bytes = original.slice();
    const where = places[pick(places.length)];
    if (random() < 0.2) {
      setU32(bytes, where.header + 20, pick(where.size)); // truncate the section
    } else {
      const n = 1 + pick(24);
      for (let i = 0; i < n; i++) bytes[where.data + pick(where.size)] = pick(256);
    }
    let d: DebugInfo | null;
    try {
      d = DebugInfo.fromElf(bytes);
    } catch (e) {
      assert.ok(e instanceof DwarfError, `iteration ${iteration}: ${String(e)}`);
      continue;
    }
    assert.ok(d);
    readable++;
    if (d.warnings.length > 0) warned++;
    for (const a of [0x10000c, 0x100150, 0x101520, 0x101f90, 0x102c2e, pick(0x110000)]) {
      d.lineAt(a);
      d.functionAt(a);
      // Adversarial memory: every word read is random, so only the unwinder's own checks end it.
      const frames = d.unwind({ pc: a, sp: 0x7000, fp: 0x7100, 3: 1, 5: 0x7100, 6: 2, 7: 3 }, () => pick(0x200000), false, 32);
      assert.ok(frames.length <= 32);
    }
    d.addressesForLine(CPROG_C, 1 + pick(340));
    d.addressesForLine('multiboot.S', 40);
    d.sourceFiles();
  }
  // The ELF itself is never touched, so every corrupted copy is still read.
  assert.equal(readable, 120);
  // Many corruptions are silent (a changed line number or string is still well formed),
  // but enough break structure for the error paths to be exercised.
  assert.ok(warned > 20, `${warned} corrupted copies reported problems`);
});
