// ELF section lookup by name, for the .debug_* sections. elf.ts reads what loading needs
// (program headers, symbols); debug information lives in sections named in the section
// header string table (System V ABI, "Sections").
import { parseElfHeader } from '../elf';
import { LoaderError } from '../types';
import { DwarfError, decodeUtf8, hex } from './reader';

const SHT_NOBITS = 8;
const SHF_COMPRESSED = 0x800;
const SHN_XINDEX = 0xffff;

export interface ElfSection {
  name: string;
  type: number;
  flags: number;
  addr: number;
  /** The section's bytes in the file (a view). Empty for SHT_NOBITS. */
  data: Uint8Array;
}

export interface ElfSections {
  elfClass: 32 | 64;
  machine: number;
  sections: ElfSection[];
  /** Problems that made a section unusable (it is then left out of `byName`). */
  warnings: string[];
  byName(name: string): Uint8Array | undefined;
}

/** Reads the section header table. Throws DwarfError when the file is not a readable ELF. */
export function readElfSections(bytes: Uint8Array): ElfSections {
  let h;
  try {
    h = parseElfHeader(bytes);
  } catch (e) {
    if (e instanceof LoaderError) throw new DwarfError(e.message);
    throw e;
  }
  const is64 = h.elfClass === 64;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);
  const u64 = (o: number) => u32(o) + u32(o + 4) * 0x100000000;
  const entSize = is64 ? 64 : 40;
  const warnings: string[] = [];
  const sections: ElfSection[] = [];
  const result: ElfSections = {
    elfClass: h.elfClass, machine: h.machine, sections, warnings,
    byName(name) {
      return sections.find((s) => s.name === name && s.type !== SHT_NOBITS)?.data;
    },
  };
  if (h.shoff === 0) return result;
  if (h.shentsize !== entSize) throw new DwarfError(`ELF header: e_shentsize is ${h.shentsize}, expected ${entSize} for ELF${h.elfClass}`);
  if (h.shoff + entSize > bytes.length) throw new DwarfError(`ELF header: e_shoff ${hex(h.shoff)} is past the end of the file (${hex(bytes.length)} bytes)`);
  const raw = (i: number) => {
    const o = h.shoff + i * entSize;
    return is64
      ? { name: u32(o), type: u32(o + 4), flags: u64(o + 8), addr: u64(o + 16), offset: u64(o + 24), size: u64(o + 32), link: u32(o + 40) }
      : { name: u32(o), type: u32(o + 4), flags: u32(o + 8), addr: u32(o + 12), offset: u32(o + 16), size: u32(o + 20), link: u32(o + 24) };
  };
  // More than 0xff00 sections: the real count and string table index live in section 0.
  const shnum = h.shnum !== 0 ? h.shnum : raw(0).size;
  if (h.shoff + shnum * entSize > bytes.length) {
    throw new DwarfError(`ELF header: the section header table (${shnum} entries at ${hex(h.shoff)}) is past the end of the file (${hex(bytes.length)} bytes)`);
  }
  let shstrndx = u16(is64 ? 62 : 50);
  if (shstrndx === SHN_XINDEX) shstrndx = raw(0).link;
  let names: Uint8Array | undefined;
  if (shstrndx > 0 && shstrndx < shnum) {
    const s = raw(shstrndx);
    if (s.offset + s.size <= bytes.length) names = bytes.subarray(s.offset, s.offset + s.size);
    else warnings.push(`section header string table (section ${shstrndx}) is past the end of the file`);
  }
  for (let i = 0; i < shnum; i++) {
    const s = raw(i);
    let name = '';
    if (names && s.name < names.length) {
      const end = names.indexOf(0, s.name);
      name = decodeUtf8(names.subarray(s.name, end < 0 ? names.length : end));
    }
    let data: Uint8Array = new Uint8Array(0);
    if (s.type !== SHT_NOBITS) {
      if (s.offset + s.size > bytes.length) {
        warnings.push(`section ${i} (${name || 'unnamed'}): sh_offset+sh_size (${hex(s.offset + s.size)}) is past the end of the file; ignored`);
        continue;
      }
      if ((s.flags & SHF_COMPRESSED) !== 0) {
        warnings.push(`section ${i} (${name}): compressed sections (SHF_COMPRESSED) are not supported; ignored`);
        continue;
      }
      data = bytes.subarray(s.offset, s.offset + s.size);
    }
    sections.push({ name, type: s.type, flags: s.flags, addr: s.addr, data });
  }
  return result;
}
