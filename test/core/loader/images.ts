// Test helpers: a sparse in-memory GuestRam, and builders for the ELF, multiboot and
// a.out-kludge images the loader tests feed in (assembled byte by byte here, so each test
// controls exactly the field it breaks).
import * as path from 'path';
import { GuestRam } from '../../../core/loader';

/** RAM that allocates 4 KiB pages on first write, so a 3 GiB guest costs what it touches. */
export class SparseRam implements GuestRam {
  private readonly pages = new Map<number, Uint8Array>();

  constructor(readonly size: number, private readonly fill = 0) {}

  writeBytes(pa: number, bytes: Uint8Array): void {
    if (pa < 0 || pa + bytes.length > this.size) throw new RangeError(`write ${pa.toString(16)}+${bytes.length} outside RAM`);
    for (let i = 0; i < bytes.length; ) {
      const a = pa + i;
      const page = this.page(a >>> 12);
      const n = Math.min(bytes.length - i, 4096 - (a & 0xfff));
      page.set(bytes.subarray(i, i + n), a & 0xfff);
      i += n;
    }
  }

  readBytes(pa: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const a = pa + i;
      const page = this.pages.get(Math.floor(a / 4096));
      out[i] = page ? page[a & 0xfff] : this.fill;
    }
    return out;
  }

  u32(pa: number): number {
    const b = this.readBytes(pa, 4);
    return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  }

  cString(pa: number): string {
    let s = '';
    for (let a = pa; ; a++) {
      const c = this.readBytes(a, 1)[0];
      if (c === 0) return s;
      s += String.fromCharCode(c);
    }
  }

  private page(pfn: number): Uint8Array {
    let p = this.pages.get(pfn);
    if (!p) {
      p = new Uint8Array(4096).fill(this.fill);
      this.pages.set(pfn, p);
    }
    return p;
  }
}

export const MiB = 1024 * 1024;

/** The repository root, from out/test/core/loader/. */
export const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const PROBE_DIR = path.join(REPO_ROOT, 'guests', 'probe-multiboot');

export function le32(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => v.setUint32(i * 4, x >>> 0, true));
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A multiboot v1 header: magic, flags, checksum, then the a.out kludge fields if given. */
export function multibootHeader(flags: number, kludge?: { headerAddr: number; loadAddr: number; loadEndAddr: number; bssEndAddr: number; entryAddr: number }, checksum?: number): Uint8Array {
  const sum = checksum ?? (-(0x1badb002 + flags) >>> 0);
  const base = le32(0x1badb002, flags, sum);
  return kludge ? concat(base, le32(kludge.headerAddr, kludge.loadAddr, kludge.loadEndAddr, kludge.bssEndAddr, kludge.entryAddr)) : base;
}

export interface TestSegment {
  paddr: number;
  vaddr?: number;
  data: Uint8Array;
  memsz?: number;
  /** PF_X|PF_W|PF_R by default. */
  flags?: number;
  type?: number;
  /** Force p_offset (e.g. past the end of the file). */
  offset?: number;
}

export interface TestSymbol {
  name: string;
  value: number;
  size: number;
  /** STT_*: 0 notype, 1 object, 2 func, 3 section, 4 file. */
  type: number;
  /** Section index; 1 (any defined section) by default; 0 undefined, 0xfff1 absolute. */
  shndx?: number;
  global?: boolean;
}

export interface TestElf {
  cls: 32 | 64;
  machine?: number;
  entry: number;
  segments: TestSegment[];
  symbols?: TestSymbol[];
}

/** An ELF file: header, program headers, segment data (16-byte aligned), then .symtab/.strtab/.shstrtab and section headers. */
export function buildElf(spec: TestElf): Uint8Array {
  const is64 = spec.cls === 64;
  const ehSize = is64 ? 64 : 52;
  const phSize = is64 ? 56 : 32;
  const shSize = is64 ? 64 : 40;
  const symSize = is64 ? 24 : 16;
  const align = (n: number) => (n + 15) & ~15;
  let off = align(ehSize + phSize * spec.segments.length);
  const segOffsets = spec.segments.map((s) => {
    const o = off;
    off = align(off + s.data.length);
    return o;
  });
  // Symbol table pieces.
  const syms = spec.symbols ?? [];
  const strtab: number[] = [0];
  const nameOffsets = syms.map((s) => {
    const o = strtab.length;
    for (const c of Buffer.from(s.name, 'utf8')) strtab.push(c);
    strtab.push(0);
    return o;
  });
  const shstr = Buffer.from('\0.symtab\0.strtab\0.shstrtab\0', 'latin1');
  const symtabOff = off;
  const symtabLen = syms.length ? (syms.length + 1) * symSize : 0;
  const strtabOff = symtabOff + symtabLen;
  const shstrOff = strtabOff + strtab.length;
  const shOff = syms.length ? align(shstrOff + shstr.length) : 0;
  const total = syms.length ? shOff + 4 * shSize : off;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1]);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, spec.machine ?? (is64 ? 62 : 3), true);
  v.setUint32(20, 1, true);
  if (is64) {
    v.setBigUint64(24, BigInt(spec.entry), true);
    v.setBigUint64(32, BigInt(ehSize), true);
    v.setBigUint64(40, BigInt(shOff), true);
    v.setUint16(52, ehSize, true);
    v.setUint16(54, phSize, true);
    v.setUint16(56, spec.segments.length, true);
    v.setUint16(58, shSize, true);
    v.setUint16(60, syms.length ? 4 : 0, true);
    v.setUint16(62, syms.length ? 3 : 0, true);
  } else {
    v.setUint32(24, spec.entry, true);
    v.setUint32(28, ehSize, true);
    v.setUint32(32, shOff, true);
    v.setUint16(40, ehSize, true);
    v.setUint16(42, phSize, true);
    v.setUint16(44, spec.segments.length, true);
    v.setUint16(46, shSize, true);
    v.setUint16(48, syms.length ? 4 : 0, true);
    v.setUint16(50, syms.length ? 3 : 0, true);
  }
  spec.segments.forEach((s, i) => {
    const o = ehSize + i * phSize;
    const fields = {
      type: s.type ?? 1, flags: s.flags ?? 7, offset: s.offset ?? segOffsets[i], vaddr: s.vaddr ?? s.paddr,
      paddr: s.paddr, filesz: s.data.length, memsz: s.memsz ?? s.data.length,
    };
    if (is64) {
      v.setUint32(o, fields.type, true);
      v.setUint32(o + 4, fields.flags, true);
      v.setBigUint64(o + 8, BigInt(fields.offset), true);
      v.setBigUint64(o + 16, BigInt(fields.vaddr), true);
      v.setBigUint64(o + 24, BigInt(fields.paddr), true);
      v.setBigUint64(o + 32, BigInt(fields.filesz), true);
      v.setBigUint64(o + 40, BigInt(fields.memsz), true);
      v.setBigUint64(o + 48, 0x1000n, true);
    } else {
      v.setUint32(o, fields.type, true);
      v.setUint32(o + 4, fields.offset, true);
      v.setUint32(o + 8, fields.vaddr, true);
      v.setUint32(o + 12, fields.paddr, true);
      v.setUint32(o + 16, fields.filesz, true);
      v.setUint32(o + 20, fields.memsz, true);
      v.setUint32(o + 24, fields.flags, true);
      v.setUint32(o + 28, 0x1000, true);
    }
    out.set(s.data, segOffsets[i]);
  });
  if (syms.length) {
    syms.forEach((s, k) => {
      const o = symtabOff + (k + 1) * symSize;
      const info = ((s.global ? 1 : 0) << 4) | s.type;
      v.setUint32(o, nameOffsets[k], true);
      if (is64) {
        v.setUint8(o + 4, info);
        v.setUint16(o + 6, s.shndx ?? 1, true);
        v.setBigUint64(o + 8, BigInt(s.value), true);
        v.setBigUint64(o + 16, BigInt(s.size), true);
      } else {
        v.setUint32(o + 4, s.value, true);
        v.setUint32(o + 8, s.size, true);
        v.setUint8(o + 12, info);
        v.setUint16(o + 14, s.shndx ?? 1, true);
      }
    });
    out.set(strtab, strtabOff);
    out.set(shstr, shstrOff);
    // Sections: 0 null, 1 .symtab (link 2), 2 .strtab, 3 .shstrtab.
    const sections = [
      null,
      { name: 1, type: 2, offset: symtabOff, size: symtabLen, link: 2, entsize: symSize },
      { name: 9, type: 3, offset: strtabOff, size: strtab.length, link: 0, entsize: 0 },
      { name: 17, type: 3, offset: shstrOff, size: shstr.length, link: 0, entsize: 0 },
    ];
    sections.forEach((s, i) => {
      if (!s) return;
      const o = shOff + i * shSize;
      v.setUint32(o, s.name, true);
      v.setUint32(o + 4, s.type, true);
      if (is64) {
        v.setBigUint64(o + 24, BigInt(s.offset), true);
        v.setBigUint64(o + 32, BigInt(s.size), true);
        v.setUint32(o + 40, s.link, true);
        v.setBigUint64(o + 56, BigInt(s.entsize), true);
      } else {
        v.setUint32(o + 16, s.offset, true);
        v.setUint32(o + 20, s.size, true);
        v.setUint32(o + 24, s.link, true);
        v.setUint32(o + 36, s.entsize, true);
      }
    });
  }
  return out;
}

/** ELF header field offsets, for tests that break one field. */
export const ELF32 = { e_machine: 18, e_phoff: 28, e_phentsize: 42, e_phnum: 44, e_shoff: 32 };
