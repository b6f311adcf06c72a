// Boots without multiboot: an ELF entered directly at e_entry (ELF64 in long mode, or an
// ELF32 in protected mode when format 'elf' is asked for), and flat binaries copied to a
// given address. None of this exists in QEMU's -kernel; the boot state is documented in
// cpu-tables.ts (long mode) and types.ts (BootState).
import { EM_386, EM_X86_64, machineName, parseElfHeader, planElfLoad } from './elf';
import { CODE_SELECTOR, DATA_SELECTOR, checkEntry, writeLongModeTables, writeProtectedModeGdt } from './cpu-tables';
import { RamWriter, checkPlacement, hex } from './placement';
import { BootMode, BootState, LoadOptions, LoaderError } from './types';

export function loadElfDirect(bytes: Uint8Array, w: RamWriter): { format: 'elf32' | 'elf64'; boot: BootState } {
  const h = parseElfHeader(bytes);
  const wanted = h.elfClass === 64 ? EM_X86_64 : EM_386;
  if (h.machine !== wanted) {
    throw new LoaderError(
      `ELF header: e_machine is ${h.machine} (${machineName(h.machine)}) in an ELF${h.elfClass} file, expected ${wanted} (${machineName(wanted)})`,
    );
  }
  const plan = planElfLoad(bytes, h);
  for (const s of plan.segments) checkPlacement(`segment ${s.index}`, s.paddr, s.memsz, w.ram);
  checkEntry(plan.entry, w.ram, 'ELF header: the entry point (e_entry)');
  const ranges = plan.segments.map((s) => ({ what: `segment ${s.index}`, start: s.paddr, end: s.paddr + s.memsz }));
  // Tables first: a clash with the fixed long-mode area is reported before anything of the image is written.
  const tables = h.elfClass === 64 ? writeLongModeTables(w, ranges) : null;
  for (const s of plan.segments) {
    const mem = new Uint8Array(s.memsz); // p_filesz bytes, then zeros up to p_memsz (.bss)
    mem.set(s.data);
    w.write(s.paddr, mem);
  }
  if (tables) {
    return {
      format: 'elf64',
      boot: {
        mode: 'long64', rip: plan.entry, regs: { esp: tables.stackTop },
        cr3: tables.cr3, gdtBase: tables.gdtBase, gdtLimit: tables.gdtLimit,
        codeSelector: CODE_SELECTOR, dataSelector: DATA_SELECTOR,
      },
    };
  }
  const gdt = writeProtectedModeGdt(w);
  return {
    format: 'elf32',
    boot: { mode: 'protected32', rip: plan.entry, regs: {}, ...gdt, codeSelector: CODE_SELECTOR, dataSelector: DATA_SELECTOR },
  };
}

/** The largest linear address real mode reaches (0xFFFF:0xFFFF), with A20 enabled. */
const REAL_MODE_LIMIT = 0x10ffef;

export function loadFlat(bytes: Uint8Array, w: RamWriter, opts: LoadOptions): BootState {
  const mode: BootMode = opts.flatMode ?? 'protected32';
  const address = opts.flatAddress ?? (mode === 'real16' ? 0x7c00 : 0x100000);
  const entry = opts.flatEntry ?? address;
  if (bytes.length === 0) throw new LoaderError('flat image: the file is empty');
  checkPlacement('flat image', address, bytes.length, w.ram);
  checkEntry(entry, w.ram, 'flat image: the entry point');
  switch (mode) {
    case 'real16': {
      if (entry > REAL_MODE_LIMIT) {
        throw new LoaderError(`flat image: the entry point ${hex(entry)} is beyond what real mode reaches (${hex(REAL_MODE_LIMIT)})`);
      }
      // CS:IP as a BIOS hands over a boot sector (0000:7C00): segment 0 while the entry
      // fits in 64 KiB, else the 64 KiB-aligned segment holding it (0xFFFF above 1 MiB).
      const cs = entry <= 0xffff ? 0 : entry >= 0x100000 ? 0xffff : (entry >>> 4) & 0xf000;
      w.write(address, bytes);
      return { mode, rip: entry - cs * 16, cs, regs: {} };
    }
    case 'protected32': {
      w.write(address, bytes);
      const gdt = writeProtectedModeGdt(w);
      return { mode, rip: entry, regs: {}, ...gdt, codeSelector: CODE_SELECTOR, dataSelector: DATA_SELECTOR };
    }
    case 'long64': {
      const t = writeLongModeTables(w, [{ what: 'flat image', start: address, end: address + bytes.length }]);
      w.write(address, bytes);
      return {
        mode, rip: entry, regs: { esp: t.stackTop },
        cr3: t.cr3, gdtBase: t.gdtBase, gdtLimit: t.gdtLimit, codeSelector: CODE_SELECTOR, dataSelector: DATA_SELECTOR,
      };
    }
  }
}
