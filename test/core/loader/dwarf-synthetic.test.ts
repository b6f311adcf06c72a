// The DWARF reader on hand-assembled debug sections: what gcc 12 does not emit for the
// guests but other producers do (DWARF 2-4 line tables and units, .debug_ranges, the
// 64-bit DWARF format, DWARF 5 index forms strx/addrx/rnglistx, every form a DIE may
// carry, CIE versions 1 and 4 and the rarer call frame instructions). Each section is
// built byte by byte here, so every expected value below is known by construction.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DebugInfo, X86_64_DWARF_REGISTERS as X64, ReadMemory } from '../../../core/loader/dwarf';

/** Little-endian byte assembly with the DWARF variable-length encodings. */
class Bytes {
  readonly b: number[] = [];
  get length(): number {
    return this.b.length;
  }
  u8(...v: number[]): this {
    for (const x of v) this.b.push(x & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v, v >> 8);
  }
  u32(v: number): this {
    return this.u8(v, v >> 8, v >> 16, v >>> 24);
  }
  u64(v: number): this {
    return this.u32(v % 2 ** 32).u32(Math.floor(v / 2 ** 32));
  }
  uleb(v: number): this {
    do {
      let byte = v % 128;
      v = Math.floor(v / 128);
      if (v > 0) byte |= 0x80;
      this.b.push(byte);
    } while (v > 0);
    return this;
  }
  sleb(v: number): this {
    for (;;) {
      const byte = ((v % 128) + 128) % 128;
      v = Math.floor(v / 128);
      const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
      this.b.push(done ? byte : byte | 0x80);
      if (done) return this;
    }
  }
  str(s: string): this {
    for (const c of Buffer.from(s, 'utf8')) this.b.push(c);
    return this.u8(0);
  }
  raw(x: Bytes | number[]): this {
    this.b.push(...(x instanceof Bytes ? x.b : x));
    return this;
  }
  /** A unit: its initial length (32- or 64-bit format), then the body. */
  static unit(body: Bytes, format: 32 | 64 = 32): Bytes {
    const out = new Bytes();
    if (format === 64) out.u32(0xffffffff).u64(body.length);
    else out.u32(body.length);
    return out.raw(body);
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.b);
  }
}

/** An ELF file holding only the given sections (no program headers: nothing here loads it). */
function elfWithSections(cls: 32 | 64, sections: Record<string, Bytes>): Uint8Array {
  const names = ['', ...Object.keys(sections), '.shstrtab'];
  const shstrtab = new Bytes().u8(0);
  const nameOffsets = names.map((n) => {
    if (n === '') return 0;
    const o = shstrtab.length;
    shstrtab.str(n);
    return o;
  });
  const datas = [new Bytes(), ...Object.values(sections), shstrtab];
  const ehSize = cls === 64 ? 64 : 52;
  const out = new Bytes();
  const offsets: number[] = [];
  let off = ehSize;
  for (const d of datas) {
    offsets.push(off);
    off += d.length;
  }
  const shoff = (off + 7) & ~7;
  out.u8(0x7f, 0x45, 0x4c, 0x46, cls === 64 ? 2 : 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  out.u16(2).u16(cls === 64 ? 62 : 3).u32(1);
  if (cls === 64) out.u64(0).u64(0).u64(shoff);
  else out.u32(0).u32(0).u32(shoff);
  out.u32(0).u16(ehSize).u16(cls === 64 ? 56 : 32).u16(0).u16(cls === 64 ? 64 : 40).u16(names.length).u16(names.length - 1);
  for (const d of datas) out.raw(d);
  while (out.length < shoff) out.u8(0);
  names.forEach((_, i) => {
    const type = i === 0 ? 0 : i === names.length - 1 ? 3 : 1; // SHT_NULL, SHT_STRTAB, SHT_PROGBITS
    const size = datas[i].length;
    if (cls === 64) out.u32(nameOffsets[i]).u32(type).u64(0).u64(0).u64(i === 0 ? 0 : offsets[i]).u64(size).u32(0).u32(0).u64(1).u64(0);
    else out.u32(nameOffsets[i]).u32(type).u32(0).u32(0).u32(i === 0 ? 0 : offsets[i]).u32(size).u32(0).u32(0).u32(1).u32(0);
  });
  return out.bytes();
}

// DWARF constants used below (DWARF 5, section 7).
const TAG = { compile_unit: 0x11, subprogram: 0x2e, lexical_block: 0x0b, variable: 0x34 };
const AT = {
  name: 0x03, stmt_list: 0x10, low_pc: 0x11, high_pc: 0x12, comp_dir: 0x1b, producer: 0x25, inline: 0x20,
  abstract_origin: 0x31, decl_file: 0x3a, decl_line: 0x3b, declaration: 0x3c, external: 0x3f, frame_base: 0x40,
  location: 0x02, type: 0x49, specification: 0x47, ranges: 0x55, str_offsets_base: 0x72, addr_base: 0x73,
  rnglists_base: 0x74, const_value: 0x1c, byte_size: 0x0b, sibling: 0x01,
};
const FORM = {
  addr: 0x01, data2: 0x05, data4: 0x06, data8: 0x07, string: 0x08, block: 0x09, block1: 0x0a, data1: 0x0b, flag: 0x0c,
  sdata: 0x0d, strp: 0x0e, udata: 0x0f, ref_addr: 0x10, ref4: 0x13, ref_udata: 0x15, indirect: 0x16, sec_offset: 0x17,
  exprloc: 0x18, flag_present: 0x19, strx: 0x1a, addrx: 0x1b, strp_sup: 0x1d, data16: 0x1e, line_strp: 0x1f,
  ref_sig8: 0x20, implicit_const: 0x21, loclistx: 0x22, rnglistx: 0x23, strx1: 0x25, strx2: 0x26, strx4: 0x28,
  addrx1: 0x29, addrx2: 0x2a, addrx3: 0x2b, addrx4: 0x2c,
};

function abbrev(b: Bytes, code: number, tag: number, children: boolean, attrs: [number, number, number?][]): void {
  b.uleb(code).uleb(tag).u8(children ? 1 : 0);
  for (const [at, form, implicit] of attrs) {
    b.uleb(at).uleb(form);
    if (form === FORM.implicit_const) b.sleb(implicit ?? 0);
  }
  b.u8(0, 0);
}

test('DWARF 2 line table with DWARF 3 units: comp_dir, define_file, v2 opcode_base, .debug_ranges, specification', () => {
  // .debug_line, version 2: opcode_base 10, so 10-12 are special opcodes here, not
  // prologue_end/epilogue_begin/set_isa as in DWARF 3 and later.
  const header = new Bytes()
    .u8(1, 1, -5 & 0xff, 14, 10) // min_inst_length, default_is_stmt, line_base, line_range, opcode_base
    .u8(0, 1, 1, 1, 1, 0, 0, 0, 1) // standard_opcode_lengths
    .str('src').u8(0) // include_directories
    .str('a.c').uleb(1).uleb(0).uleb(0).str('b.h').uleb(0).uleb(0).uleb(0).u8(0); // file_names
  const program = new Bytes()
    .u8(0, 5, 2).u32(0x1000) // DW_LNE_set_address 0x1000
    .u8(3).sleb(9) // advance_line -> 10
    .u8(1) // copy: 0x1000 a.c:10
    .u8(10 + (1 + 5) + 14 * 3) // special: address +3, line +1: 0x1003 a.c:11
    .u8(8) // const_add_pc: +(255-10)/14 = 17 -> 0x1014
    .u8(9).u16(0x10) // fixed_advance_pc -> 0x1024
    .u8(4).uleb(2) // set_file b.h
    .u8(3).sleb(-6) // line 5
    .u8(1) // copy: 0x1024 b.h:5
    .u8(6) // negate_stmt
    .u8(2).uleb(4) // advance_pc -> 0x1028
    .u8(1) // copy: 0x1028 b.h:5, not a statement
    .u8(0, 8, 3).str('gen.c').uleb(1).uleb(0).uleb(0) // DW_LNE_define_file: file 3 = src/gen.c
    .u8(4).uleb(3).u8(6) // set_file gen.c; negate_stmt (a statement again)
    .u8(2).uleb(2).u8(1) // 0x102a gen.c:5
    .u8(12) // v2 special opcode 12: address +0, line -3: 0x102a gen.c:2
    .u8(0, 3, 0x80, 0xaa, 0xbb) // an unknown extended opcode, stepped over by its length
    .u8(2).uleb(6) // -> 0x1030
    .u8(0, 1, 1); // end_sequence
  const lineUnit = new Bytes().u16(2).u32(header.length).raw(header).raw(program);
  const line = Bytes.unit(lineUnit);

  const abbrevs = new Bytes();
  abbrev(abbrevs, 1, TAG.compile_unit, true, [[AT.name, FORM.string], [AT.comp_dir, FORM.string], [AT.stmt_list, FORM.data4], [AT.low_pc, FORM.addr]]);
  abbrev(abbrevs, 2, TAG.subprogram, false, [[AT.name, FORM.string], [AT.low_pc, FORM.addr], [AT.high_pc, FORM.addr]]);
  abbrev(abbrevs, 3, TAG.subprogram, false, [[AT.name, FORM.strp], [AT.declaration, FORM.flag]]);
  abbrev(abbrevs, 4, TAG.subprogram, false, [[AT.specification, FORM.ref4], [AT.low_pc, FORM.addr], [AT.high_pc, FORM.addr]]);
  abbrev(abbrevs, 5, TAG.subprogram, false, [[AT.name, FORM.string], [AT.ranges, FORM.data4]]);
  abbrevs.u8(0);
  // Unit header (DWARF 3): version, abbrev offset, address size; then the DIEs.
  const dies = new Bytes().u16(3).u32(0).u8(4);
  dies.uleb(1).str('src/a.c').str('/build').u32(0).u32(0);
  dies.uleb(2).str('plain_fn').u32(0x1000).u32(0x1010);
  const declOffset = 4 + dies.length; // unit-relative offset of the next DIE
  dies.uleb(3).u32(0).u8(1);
  dies.uleb(4).u32(declOffset).u32(0x1010).u32(0x1020);
  dies.uleb(5).str('split_fn').u32(0);
  dies.u8(0);
  const info = Bytes.unit(dies);
  // .debug_ranges: a base address selection entry, two ranges relative to it, the end.
  const ranges = new Bytes().u32(0xffffffff).u32(0x1000).u32(0x20).u32(0x28).u32(0x2c).u32(0x30).u32(0).u32(0);
  const str = new Bytes().str('declared_fn');

  const d = DebugInfo.fromElf(elfWithSections(32, { '.debug_line': line, '.debug_info': info, '.debug_abbrev': abbrevs, '.debug_ranges': ranges, '.debug_str': str }));
  assert.ok(d);
  assert.deepEqual(d.warnings, []);
  const at = (a: number) => {
    const l = d.lineAt(a);
    return l && `${l.file}:${l.line}`;
  };
  // Directory 0 is the unit's DW_AT_comp_dir; file 0 (unused here) its DW_AT_name.
  assert.equal(at(0x1000), '/build/src/a.c:10');
  assert.equal(at(0x1002), '/build/src/a.c:10');
  assert.equal(at(0x1003), '/build/src/a.c:11');
  assert.equal(at(0x1023), '/build/src/a.c:11');
  assert.equal(at(0x1024), '/build/b.h:5');
  assert.equal(at(0x1028), '/build/b.h:5');
  assert.equal(at(0x102a), '/build/src/gen.c:2');
  assert.equal(at(0x102f), '/build/src/gen.c:2');
  assert.equal(at(0x1030), null);
  assert.equal(at(0xfff), null);
  assert.deepEqual(d.sourceFiles(), ['/build/b.h', '/build/src/a.c', '/build/src/gen.c']);
  assert.deepEqual(d.addressesForLine('/build/src/a.c', 10)?.addresses, [0x1000]);
  assert.deepEqual(d.addressesForLine('b.h', 1), { line: 5, addresses: [0x1024], files: ['/build/b.h'] }); // 0x1028 is not a statement
  assert.deepEqual(d.addressesForLine('src/gen.c', 3)?.line, 5);
  const rows = d.lineTables[0].sequences[0].rows;
  assert.deepEqual(rows.map((r) => [r.address, r.file, r.line, r.isStmt]), [
    [0x1000, 1, 10, true], [0x1003, 1, 11, true], [0x1024, 2, 5, true], [0x1028, 2, 5, false],
    [0x102a, 3, 5, true], [0x102a, 3, 2, true], [0x1030, 3, 2, true],
  ]);
  assert.deepEqual(d.functionAt(0x1008), { name: 'plain_fn', low: 0x1000, high: 0x1010, source: 'dwarf' });
  assert.equal(d.functionAt(0x1010)?.name, 'declared_fn'); // named through DW_AT_specification
  assert.deepEqual([d.functionAt(0x1027)?.name, d.functionAt(0x1028), d.functionAt(0x102f)?.name], ['split_fn', null, 'split_fn']);
});

test('DWARF 5 in the 64-bit format: strx/addrx/rnglistx through their base attributes, and every form skipped exactly', () => {
  // .debug_str and .debug_line_str.
  const strs = ['producer', 'unit.c', 'alpha', 'beta', 'gamma', 'delta', 'epsilon'];
  const str = new Bytes();
  const strOff: Record<string, number> = {};
  for (const s of strs) {
    strOff[s] = str.length;
    str.str(s);
  }
  const lineStr = new Bytes().str('/work').str('zeta').str('inc');
  // .debug_str_offsets (64-bit format): header 16 bytes, then 8-byte offsets.
  const strOffsets = Bytes.unit(new Bytes().u16(5).u16(0).raw(strs.reduce((b, s) => b.u64(strOff[s]), new Bytes())), 64);
  // .debug_addr (64-bit format): header 16 bytes, then 8-byte addresses.
  const addrs = [0x200000, 0x200100, 0x200200, 0x200300, 0x200400, 0x200500];
  const addr = Bytes.unit(new Bytes().u16(5).u8(8, 0).raw(addrs.reduce((b, a) => b.u64(a), new Bytes())), 64);
  // .debug_rnglists (64-bit format): header 20 bytes, one offset (relative to the base), one list.
  const list = new Bytes()
    .u8(0x03).uleb(2).uleb(0x10) // startx_length: addr[2] = 0x200200, +0x10
    .u8(0x05).u64(0x300000) // base_address
    .u8(0x04).uleb(0x40).uleb(0x48) // offset_pair: 0x300040..0x300048
    .u8(0x06).u64(0x300100).u64(0x300104) // start_end
    .u8(0x00); // end_of_list
  const rnglists = Bytes.unit(new Bytes().u16(5).u8(8, 0).u32(1).u64(8).raw(list), 64);

  const abbrevs = new Bytes();
  abbrev(abbrevs, 1, TAG.compile_unit, true, [
    [AT.producer, FORM.strx1], [AT.name, FORM.strx1], [AT.str_offsets_base, FORM.sec_offset], [AT.addr_base, FORM.sec_offset],
    [AT.rnglists_base, FORM.sec_offset], [AT.low_pc, FORM.addr], [AT.stmt_list, FORM.sec_offset], [AT.comp_dir, FORM.line_strp],
  ]);
  abbrev(abbrevs, 2, TAG.subprogram, false, [[AT.name, FORM.strx2], [AT.low_pc, FORM.addrx], [AT.high_pc, FORM.data4]]);
  abbrev(abbrevs, 3, TAG.subprogram, true, [[AT.name, FORM.strx], [AT.ranges, FORM.rnglistx]]);
  // Everything a DIE may carry, to be stepped over; the name comes through DW_FORM_indirect.
  abbrev(abbrevs, 4, TAG.subprogram, false, [
    [AT.decl_file, FORM.data16], [AT.frame_base, FORM.exprloc], [AT.external, FORM.flag_present], [AT.decl_line, FORM.implicit_const, -7],
    [AT.type, FORM.ref_sig8], [AT.location, FORM.block1], [AT.const_value, FORM.sdata], [AT.sibling, FORM.ref_udata],
    [0x2001, FORM.strp_sup], [0x2002, FORM.loclistx], [0x2003, FORM.block], [0x2004, FORM.data8], [0x2005, FORM.data2],
    [AT.name, FORM.indirect], [AT.low_pc, FORM.addrx3], [AT.high_pc, FORM.udata],
  ]);
  abbrev(abbrevs, 5, TAG.subprogram, false, [[AT.name, FORM.line_strp], [AT.inline, FORM.data1]]);
  abbrev(abbrevs, 6, TAG.subprogram, false, [[AT.abstract_origin, FORM.ref_addr], [AT.low_pc, FORM.addrx1], [AT.high_pc, FORM.addrx4]]);
  abbrev(abbrevs, 7, TAG.lexical_block, true, [[AT.low_pc, FORM.addrx2], [AT.high_pc, FORM.data8]]);
  abbrev(abbrevs, 8, TAG.variable, false, [[AT.name, FORM.strx4], [AT.location, FORM.exprloc]]);
  abbrevs.u8(0);

  const unitStart = 12; // the 64-bit initial length is 12 bytes
  const dies = new Bytes().u16(5).u8(1, 8).u64(0); // version, DW_UT_compile, address size, abbrev offset
  dies.uleb(1).u8(0, 1).u64(16).u64(16).u64(20).u64(0).u64(0).u64(0);
  dies.uleb(2).u16(2).uleb(0).u32(0x80); // alpha: addr[0] = 0x200000, length 0x80
  dies.uleb(3).uleb(3).uleb(0); // beta: range list 0
  dies.uleb(8).u32(6).u8(2, 0x91, 0x08); // a variable (epsilon) inside beta
  dies.u8(0); // end of beta's children
  dies.uleb(4).raw(new Array(16).fill(0xee)).uleb(1).u8(0x9c).raw(new Array(8).fill(0x11)).u8(3, 1, 2, 3).sleb(-100).uleb(42)
    .u64(0x1234).uleb(5).uleb(4).u8(0xa, 0xb, 0xc, 0xd).u64(0xdeadbeef).u16(7)
    .uleb(FORM.strx1).u8(4) // name: DW_FORM_indirect -> strx1 -> gamma
    .u8(1, 0, 0) // low_pc: addrx3 index 1 = 0x200100
    .uleb(0x20); // high_pc: length 0x20
  const abstractAt = unitStart + dies.length;
  dies.uleb(5).u64(6).u8(1); // an abstract instance: name "zeta" from .debug_line_str
  dies.uleb(6).u64(abstractAt).u8(3).u32(4); // its concrete copy: [addr[3], addr[4]) = 0x200300..0x200400
  dies.uleb(7).u16(5).u64(0x10); // a lexical block with a nested function
  dies.uleb(2).u16(5).uleb(5).u32(0x08); // delta: addr[5] = 0x200500, length 8
  dies.u8(0); // end of the block
  dies.u8(0); // end of the unit's children
  const info = Bytes.unit(dies, 64);

  // .debug_line version 5, 64-bit format: directories by line_strp, files by string with MD5.
  const header = new Bytes()
    .u8(1, 1, 1, -3 & 0xff, 12, 13).u8(0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, 1)
    .u8(1).uleb(1).uleb(FORM.line_strp).uleb(2).u64(0).u64(11) // directories: /work, inc
    .u8(3).uleb(1).uleb(FORM.string).uleb(2).uleb(FORM.udata).uleb(5).uleb(FORM.data16)
    .uleb(2).str('unit.c').uleb(0).raw(new Array(16).fill(1)).str('defs.h').uleb(1).raw(new Array(16).fill(2));
  const program = new Bytes()
    .u8(0, 9, 2).u64(0x200000).u8(4).uleb(0).u8(5).uleb(7).u8(10).u8(1) // set_address, file 0, column 7, prologue_end, copy
    .u8(4).uleb(1).u8(3).sleb(19).u8(0, 2, 4).uleb(3).u8(2).uleb(0x100).u8(1) // defs.h:20 at 0x200100, discriminator 3
    .u8(2).uleb(0x500).u8(0, 1, 1);
  const lineUnit = new Bytes().u16(5).u8(8, 0).u64(header.length).raw(header).raw(program);
  const line = Bytes.unit(lineUnit, 64);

  const d = DebugInfo.fromElf(elfWithSections(64, {
    '.debug_info': info, '.debug_abbrev': abbrevs, '.debug_str': str, '.debug_line_str': lineStr, '.debug_str_offsets': strOffsets,
    '.debug_addr': addr, '.debug_rnglists': rnglists, '.debug_line': line,
  }));
  assert.ok(d);
  assert.deepEqual(d.warnings, []);
  const name = (a: number) => d.functionAt(a)?.name ?? null;
  assert.deepEqual(d.functionAt(0x200000), { name: 'alpha', low: 0x200000, high: 0x200080, source: 'dwarf' });
  assert.equal(name(0x200080), null);
  assert.deepEqual([name(0x200200), name(0x20020f), name(0x200210)], ['beta', 'beta', null]);
  assert.deepEqual([name(0x300040), name(0x300048), name(0x300103)], ['beta', null, 'beta']);
  assert.deepEqual([name(0x200100), name(0x20011f), name(0x200120)], ['gamma', 'gamma', null]);
  assert.deepEqual([name(0x200300), name(0x2003ff), name(0x200400)], ['zeta', 'zeta', null]);
  assert.equal(name(0x200504), 'delta'); // found inside a lexical block
  assert.deepEqual(d.lineAt(0x200010), { file: '/work/unit.c', line: 1, column: 7, address: 0x200000 });
  assert.deepEqual(d.lineAt(0x200100), { file: '/work/inc/defs.h', line: 20, column: 7, address: 0x200100 });
  const rows = d.lineTables[0].sequences[0].rows;
  assert.deepEqual(rows.map((r) => [r.prologueEnd, r.discriminator]), [[true, 0], [false, 3], [false, 0]]);
  assert.deepEqual(d.sourceFiles(), ['/work/inc/defs.h', '/work/unit.c']);
});

test('.debug_frame: CIE v4 in the 64-bit format and v1 in the 32-bit one, the rarer instructions, and unwinding through them', () => {
  const cie4 = new Bytes().u32(0xffffffff).u32(0xffffffff).u8(4).str('').u8(8, 0).uleb(1).sleb(-8).uleb(16)
    .u8(0x0c).uleb(7).uleb(8) // def_cfa rsp+8
    .u8(0x80 | 16).uleb(1); // offset r16 at cfa-8
  const fde = new Bytes().u64(0).u64(0x1000).u64(0x50)
    .u8(0x40 | 1).u8(0x0e).uleb(16).u8(0x80 | 6).uleb(2) // 0x1001: cfa rsp+16, rbp at cfa-16
    .u8(0x40 | 3).u8(0x0d).uleb(6) // 0x1004: cfa rbp+16
    .u8(0x03).u16(0x0c) // advance_loc2 -> 0x1010
    .u8(0x11).uleb(3).sleb(3) // offset_extended_sf: rbx at cfa-24
    .u8(0x14).uleb(12).uleb(1) // val_offset: r12 = cfa-8
    .u8(0x09).uleb(13).uleb(14) // register: r13 was in r14
    .u8(0x08).uleb(15) // same_value r15
    .u8(0x07).uleb(14) // undefined r14
    .u8(0x02).u8(0x10) // advance_loc1 -> 0x1020
    .u8(0x0a) // remember_state
    .u8(0x0c).uleb(7).uleb(8) // def_cfa rsp+8
    .u8(0xc0 | 6).u8(0x06).uleb(3) // restore rbp, restore_extended rbx
    .u8(0x40 | 1).u8(0x0b) // 0x1021: restore_state: cfa rbp+16, rbx and rbp saved again
    .u8(0x04).u32(0x0f) // advance_loc4 -> 0x1030
    .u8(0x0f).uleb(2).u8(0x77).sleb(24) // def_cfa_expression DW_OP_breg7 24: rsp+24
    .u8(0x40 | 8).u8(0x10).uleb(3).uleb(2).u8(0x73, 0x00) // 0x1038: expression rule for rbx
    .u8(0x2e).uleb(16).u8(0x00) // GNU_args_size, nop
    .u8(0x40 | 8).u8(0x0f).uleb(3).u8(0x77, 0x00, 0x06) // 0x1040: cfa = [rsp] (DW_OP_deref): not evaluated
    .u8(0, 0);
  const cie1 = new Bytes().u32(0xffffffff).u8(1).str('').uleb(1).sleb(-8).u8(16)
    .u8(0x0c).uleb(7).uleb(8).u8(0x80 | 16).uleb(1);
  const frame = new Bytes();
  frame.raw(Bytes.unit(cie4, 64)); // at offset 0, which the 64-bit FDE's CIE pointer names
  frame.raw(Bytes.unit(fde, 64));
  const cie1At = frame.length;
  frame.raw(Bytes.unit(cie1));
  // A 32-bit-format FDE pointing at the version 1 CIE, whose RA column (16) says 8-byte addresses.
  const fde2 = new Bytes().u32(cie1At).u64(0x2000).u64(0x20)
    .u8(0x04).u32(4).u8(0x0e).uleb(32) // 0x2004: rsp+32
    .u8(0x01).u64(0x2010).u8(0x13).sleb(-1); // set_loc 0x2010, def_cfa_offset_sf -1*-8 = 8
  frame.raw(Bytes.unit(fde2));
  frame.u32(0); // a zero terminator
  const d = DebugInfo.fromElf(elfWithSections(64, { '.debug_frame': frame }));
  assert.ok(d);
  assert.deepEqual(d.warnings, []);

  const row = (pc: number) => {
    const r = d.frameRowAt(pc);
    assert.ok(r, `FDE at ${pc.toString(16)}`);
    return { cfa: r.row.cfa, regs: Object.fromEntries([...r.row.registers].map(([k, v]) => [k, v.kind === 'offset' || v.kind === 'val_offset' ? `${v.kind}${v.offset}` : v.kind === 'register' ? `r${v.register}` : v.kind])) };
  };
  assert.deepEqual(row(0x1000), { cfa: { kind: 'register', register: 7, offset: 8 }, regs: { 16: 'offset-8' } });
  assert.deepEqual(row(0x1003), { cfa: { kind: 'register', register: 7, offset: 16 }, regs: { 16: 'offset-8', 6: 'offset-16' } });
  const body = { cfa: { kind: 'register', register: 6, offset: 16 }, regs: { 16: 'offset-8', 6: 'offset-16', 3: 'offset-24', 12: 'val_offset-8', 13: 'r14', 15: 'same', 14: 'undefined' } };
  assert.deepEqual(row(0x1012), body);
  const { 6: _rbp, 3: _rbx, ...epilogue } = body.regs;
  assert.deepEqual(row(0x1020), { cfa: { kind: 'register', register: 7, offset: 8 }, regs: epilogue });
  assert.deepEqual(row(0x1021), body);
  assert.deepEqual(row(0x1030).cfa, { kind: 'register', register: 7, offset: 24 });
  assert.equal(row(0x1038).regs[3], 'expression');
  assert.deepEqual(row(0x1040).cfa, { kind: 'expression' });
  assert.equal(d.frameRowAt(0x1050), null);
  assert.deepEqual(row(0x2003).cfa, { kind: 'register', register: 7, offset: 8 });
  assert.deepEqual(row(0x2004).cfa, { kind: 'register', register: 7, offset: 32 });
  assert.deepEqual(row(0x201f).cfa, { kind: 'register', register: 7, offset: 8 });

  // Unwinding at 0x1012: CFA = rbp+16 = 0x8020; return address at 0x8018, rbp at 0x8010, rbx at 0x8008.
  const mem: Record<number, number> = { 0x8018: 0x5000, 0x8010: 0x9000, 0x8008: 0xbb, 0x9000: 0, 0x9008: 0x6000 };
  const read: ReadMemory = (a, size) => (size === 8 && a in mem ? mem[a] : null);
  const regs = { pc: 0x1012, sp: 0x8000, fp: 0x8010, [X64.rbx]: 0x33, [X64.r12]: 0x1212, [X64.r13]: 0x1313, [X64.r14]: 0x1414, [X64.r15]: 0x1515 };
  const frames = d.unwind(regs, read, true);
  assert.deepEqual(frames.map((f) => f.method), ['cfi', 'frame-pointer']);
  const r0 = frames[0].registers;
  assert.deepEqual([r0.pc, r0.sp, r0.fp, r0[X64.rbx], r0[X64.r12], r0[X64.r13], r0[X64.r14], r0[X64.r15]], [0x5000, 0x8020, 0x9000, 0xbb, 0x8018, 0x1414, undefined, 0x1515]);
  assert.equal(frames[0].cfa, 0x8020);
  // 0x5000 has no FDE: the frame pointer restored from the CFI (0x9000) leads on to 0x6000,
  // whose saved frame pointer, 0, is below the stack: the end.
  assert.deepEqual([frames[1].pc, frames[1].sp, frames[1].registers.fp], [0x6000, 0x9010, 0]);
  // Where the CFA is an expression this reader does not evaluate, unwinding stops cleanly.
  assert.deepEqual(d.unwind({ ...regs, pc: 0x1042 }, read, true), []);
});
