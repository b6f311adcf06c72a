// ELF32/ELF64 reading: the file header, program headers and the load plan, and the
// symbol table. The load plan follows QEMU's load_elf (include/hw/elf_ops.h), which is
// what `-kernel` uses for multiboot ELF kernels: segments go to p_paddr, a segment whose
// zero-filled tail would overlap another segment is cut to p_filesz, and e_entry is moved
// from p_vaddr to p_paddr when it lies in an executable segment whose two addresses differ.
// Reference: System V ABI, "Object Files" (ELF header, program header, symbol table).
import { ByteReader, hex } from './placement';
import { LoaderError, SymbolInfo } from './types';

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const EM_386 = 3;
export const EM_X86_64 = 62;
const ELFDATA2LSB = 1;
const PT_LOAD = 1;
const PF_X = 1;
const SHT_SYMTAB = 2;
const SHN_UNDEF = 0;
const SHN_ABS = 0xfff1;
const STT_NOTYPE = 0;
const STT_OBJECT = 1;
const STT_FUNC = 2;
const STT_SECTION = 3;
const STT_FILE = 4;

const MACHINE_NAMES: Record<number, string> = {
  0: 'none', 2: 'SPARC', 3: 'i386', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 22: 's390',
  40: 'ARM', 42: 'SuperH', 43: 'SPARC V9', 50: 'IA-64', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V',
};

export function machineName(machine: number): string {
  return MACHINE_NAMES[machine] ?? 'unknown';
}

export interface ElfHeader {
  elfClass: 32 | 64;
  type: number;
  machine: number;
  /** e_entry; a number, exact below 2^53 (entry64 keeps all 64 bits for address arithmetic). */
  entry: number;
  entry64: bigint;
  phoff: number;
  phentsize: number;
  phnum: number;
  shoff: number;
  shentsize: number;
  shnum: number;
}

export interface ProgramHeader {
  /** Index in the program header table (what error messages call "program header N"). */
  index: number;
  type: number;
  flags: number;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  /** p_vaddr with all 64 bits, for translating a higher-half e_entry exactly. */
  vaddr64: bigint;
}

export interface ElfSegment {
  index: number;
  paddr: number;
  /** The p_filesz bytes from the file (a view, not a copy). */
  data: Uint8Array;
  /** Bytes occupied in memory (data plus zeros), after QEMU's overlap truncation. */
  memsz: number;
}

export interface ElfLoadPlan {
  header: ElfHeader;
  /** PT_LOAD segments with p_memsz > 0, in program header order. */
  segments: ElfSegment[];
  /** e_entry, translated to a physical address as QEMU does. */
  entry: number;
  /** Lowest and highest (exclusive) physical address over all PT_LOAD headers, as QEMU's elf_low/elf_high. */
  low: number;
  high: number;
}

export function hasElfMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** The ELF identification and file header, validated. Any machine is accepted here. */
export function parseElfHeader(bytes: Uint8Array): ElfHeader {
  const r = new ByteReader(bytes);
  if (bytes.length < 16) {
    throw new LoaderError(`ELF header: the file is ${bytes.length} bytes, too short for the 16-byte e_ident`);
  }
  if (!hasElfMagic(bytes)) {
    const got = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new LoaderError(`ELF header: e_ident magic is ${got}, expected 7f 45 4c 46 ("\\x7fELF")`);
  }
  const cls = bytes[4];
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) {
    throw new LoaderError(`ELF header: e_ident[EI_CLASS] is ${cls}, expected 1 (ELFCLASS32) or 2 (ELFCLASS64)`);
  }
  if (bytes[5] !== ELFDATA2LSB) {
    throw new LoaderError(`ELF header: e_ident[EI_DATA] is ${bytes[5]}, expected 1 (ELFDATA2LSB, little-endian)`);
  }
  const is64 = cls === ELFCLASS64;
  const headerSize = is64 ? 64 : 52;
  if (bytes.length < headerSize) {
    throw new LoaderError(`ELF header: the file is ${bytes.length} bytes, shorter than the ${headerSize}-byte ELF${is64 ? 64 : 32} header`);
  }
  const machine = r.u16(18);
  if (machine !== EM_386 && machine !== EM_X86_64) {
    throw new LoaderError(`ELF header: e_machine is ${machine} (${machineName(machine)}), expected 3 (i386) or 62 (x86-64)`);
  }
  return is64
    ? {
        elfClass: 64, type: r.u16(16), machine, entry: r.u64(24), entry64: r.big64(24), phoff: r.u64(32), shoff: r.u64(40),
        phentsize: r.u16(54), phnum: r.u16(56), shentsize: r.u16(58), shnum: r.u16(60),
      }
    : {
        elfClass: 32, type: r.u16(16), machine, entry: r.u32(24), entry64: BigInt(r.u32(24)), phoff: r.u32(28), shoff: r.u32(32),
        phentsize: r.u16(42), phnum: r.u16(44), shentsize: r.u16(46), shnum: r.u16(48),
      };
}

/** The program header table, with every PT_LOAD header checked against the file. */
export function readProgramHeaders(bytes: Uint8Array, h: ElfHeader): ProgramHeader[] {
  const r = new ByteReader(bytes);
  const is64 = h.elfClass === 64;
  const entSize = is64 ? 56 : 32;
  if (h.phnum === 0) throw new LoaderError('ELF header: e_phnum is 0: there are no program headers to load');
  if (h.phentsize !== entSize) {
    throw new LoaderError(`ELF header: e_phentsize is ${h.phentsize}, expected ${entSize} for ELF${h.elfClass}`);
  }
  const tableEnd = h.phoff + h.phnum * entSize;
  if (tableEnd > bytes.length) {
    throw new LoaderError(
      `ELF header: the program header table (e_phoff ${hex(h.phoff)} + e_phnum ${h.phnum} * ${entSize} = ${hex(tableEnd)}) ` +
        `is past the end of the file (${hex(bytes.length)} bytes)`,
    );
  }
  const out: ProgramHeader[] = [];
  for (let i = 0; i < h.phnum; i++) {
    const o = h.phoff + i * entSize;
    const ph: ProgramHeader = is64
      ? {
          index: i, type: r.u32(o), flags: r.u32(o + 4), offset: r.u64(o + 8), vaddr: r.u64(o + 16),
          paddr: r.u64(o + 24), filesz: r.u64(o + 32), memsz: r.u64(o + 40), vaddr64: r.big64(o + 16),
        }
      : {
          index: i, type: r.u32(o), offset: r.u32(o + 4), vaddr: r.u32(o + 8), paddr: r.u32(o + 12),
          filesz: r.u32(o + 16), memsz: r.u32(o + 20), flags: r.u32(o + 24), vaddr64: BigInt(r.u32(o + 8)),
        };
    if (ph.type === PT_LOAD) {
      if (ph.filesz > 0 && ph.offset + ph.filesz > bytes.length) {
        throw new LoaderError(
          `program header ${i}: p_offset+p_filesz (${hex(ph.offset + ph.filesz)}) is past the end of the file (${hex(bytes.length)} bytes)`,
        );
      }
      if (ph.filesz > ph.memsz) {
        throw new LoaderError(`program header ${i}: p_filesz (${hex(ph.filesz)}) is larger than p_memsz (${hex(ph.memsz)})`);
      }
    }
    out.push(ph);
  }
  return out;
}

/** Where each PT_LOAD segment goes and where execution starts, as QEMU's load_elf decides it. */
export function planElfLoad(bytes: Uint8Array, h: ElfHeader): ElfLoadPlan {
  const loads = readProgramHeaders(bytes, h).filter((ph) => ph.type === PT_LOAD);
  if (loads.length === 0) throw new LoaderError('ELF header: no program header is PT_LOAD: there is nothing to load');
  let entry = h.entry;
  let low = Infinity;
  let high = 0;
  const segments: ElfSegment[] = [];
  for (const ph of loads) {
    let memsz = ph.memsz;
    // A zero-fill tail that overlaps another segment means p_memsz is a run-time size
    // (data copied out of ROM by the program itself): load only p_filesz, as QEMU does.
    if (memsz > ph.filesz) {
      const zeroStart = ph.paddr + ph.filesz;
      const zeroEnd = ph.paddr + memsz;
      const clash = loads.some((o) => o !== ph && o.paddr < zeroEnd && zeroStart < o.paddr + o.memsz);
      if (clash) memsz = ph.filesz;
    }
    // e_entry is a virtual address; QEMU moves it into the executable segment's p_paddr.
    // In 64 bits exactly: a higher-half e_entry does not fit a double.
    const paddr64 = BigInt(ph.paddr);
    const e = h.entry64;
    if (ph.vaddr64 !== paddr64 && e >= ph.vaddr64 && e < ph.vaddr64 + BigInt(ph.filesz) && (ph.flags & PF_X) !== 0) {
      entry = Number(e - ph.vaddr64 + paddr64);
    }
    if (memsz > 0) {
      segments.push({ index: ph.index, paddr: ph.paddr, data: bytes.subarray(ph.offset, ph.offset + ph.filesz), memsz });
    }
    low = Math.min(low, ph.paddr);
    high = Math.max(high, ph.paddr + memsz);
  }
  // QEMU registers each segment as a ROM blob and refuses overlapping blobs.
  for (let i = 0; i < segments.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = segments[i];
      const b = segments[j];
      if (a.paddr < b.paddr + b.memsz && b.paddr < a.paddr + a.memsz) {
        throw new LoaderError(
          `segment ${a.index} at ${hex(a.paddr)}+${hex(a.memsz)} overlaps segment ${b.index} at ${hex(b.paddr)}+${hex(b.memsz)}`,
        );
      }
    }
  }
  return { header: h, segments, entry, low, high };
}

/**
 * The symbols of .symtab (every SHT_SYMTAB section), sorted by address then name. Works on
 * executables, relocatable objects and separate debug files alike; [] when there is none.
 * Left out: undefined symbols, section and file symbols, and absolute untyped constants.
 */
export function readElfSymbols(bytes: Uint8Array): SymbolInfo[] {
  const h = parseElfHeader(bytes);
  const r = new ByteReader(bytes);
  const is64 = h.elfClass === 64;
  const shEntSize = is64 ? 64 : 40;
  if (h.shoff === 0) return [];
  if (h.shentsize !== shEntSize) {
    throw new LoaderError(`ELF header: e_shentsize is ${h.shentsize}, expected ${shEntSize} for ELF${h.elfClass}`);
  }
  if (h.shoff + shEntSize > bytes.length) {
    throw new LoaderError(`ELF header: e_shoff ${hex(h.shoff)} is past the end of the file (${hex(bytes.length)} bytes)`);
  }
  const section = (i: number) => {
    const o = h.shoff + i * shEntSize;
    return is64
      ? { type: r.u32(o + 4), offset: r.u64(o + 24), size: r.u64(o + 32), link: r.u32(o + 40), entsize: r.u64(o + 56) }
      : { type: r.u32(o + 4), offset: r.u32(o + 16), size: r.u32(o + 20), link: r.u32(o + 24), entsize: r.u32(o + 36) };
  };
  // e_shnum 0 with a table present means "more than 0xff00 sections": the count is section 0's sh_size.
  const shnum = h.shnum !== 0 ? h.shnum : section(0).size;
  const tableEnd = h.shoff + shnum * shEntSize;
  if (tableEnd > bytes.length) {
    throw new LoaderError(
      `ELF header: the section header table (e_shoff ${hex(h.shoff)} + e_shnum ${shnum} * ${shEntSize} = ${hex(tableEnd)}) ` +
        `is past the end of the file (${hex(bytes.length)} bytes)`,
    );
  }
  const symEntSize = is64 ? 24 : 16;
  const decoder = new TextDecoder('utf-8');
  const out: SymbolInfo[] = [];
  for (let s = 0; s < shnum; s++) {
    const sh = section(s);
    if (sh.type !== SHT_SYMTAB) continue;
    if (sh.offset + sh.size > bytes.length) {
      throw new LoaderError(`section header ${s}: sh_offset+sh_size (${hex(sh.offset + sh.size)}) is past the end of the file (${hex(bytes.length)} bytes)`);
    }
    if (sh.entsize !== symEntSize) {
      throw new LoaderError(`section header ${s}: sh_entsize is ${sh.entsize}, expected ${symEntSize} for an ELF${h.elfClass} symbol table`);
    }
    if (sh.link === 0 || sh.link >= shnum) {
      throw new LoaderError(`section header ${s}: sh_link ${sh.link} does not name a string table section (there are ${shnum} sections)`);
    }
    const str = section(sh.link);
    if (str.offset + str.size > bytes.length) {
      throw new LoaderError(`section header ${sh.link}: sh_offset+sh_size (${hex(str.offset + str.size)}) is past the end of the file (${hex(bytes.length)} bytes)`);
    }
    const strtab = bytes.subarray(str.offset, str.offset + str.size);
    for (let k = 1; k * symEntSize + symEntSize <= sh.size; k++) {
      const o = sh.offset + k * symEntSize;
      const nameOff = r.u32(o);
      const info = is64 ? r.u8(o + 4) : r.u8(o + 12);
      const shndx = is64 ? r.u16(o + 6) : r.u16(o + 14);
      const value = is64 ? r.u64(o + 8) : r.u32(o + 4);
      const size = is64 ? r.u64(o + 16) : r.u32(o + 8);
      const type = info & 0xf;
      if (shndx === SHN_UNDEF || type === STT_SECTION || type === STT_FILE) continue;
      if (shndx === SHN_ABS && type === STT_NOTYPE) continue;
      if (nameOff >= strtab.length) {
        throw new LoaderError(`section header ${s}: symbol ${k} has st_name ${hex(nameOff)}, outside its string table (${hex(strtab.length)} bytes)`);
      }
      let end = nameOff;
      while (end < strtab.length && strtab[end] !== 0) end++;
      const name = decoder.decode(strtab.subarray(nameOff, end));
      if (name === '') continue;
      const kind = type === STT_FUNC ? 'func' : type === STT_OBJECT ? 'object' : 'other';
      out.push({ name, address: value, size, kind });
    }
  }
  out.sort((a, b) => a.address - b.address || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}
