// The loader's public types. Kept apart from index.ts so that the format modules
// (multiboot, elf, flat, long mode) can share them without importing the dispatcher.

export type ImageFormat = 'auto' | 'multiboot' | 'elf' | 'flat';
export type BootMode = 'real16' | 'protected32' | 'long64';

export interface LoadOptions {
  /** Default 'auto': multiboot header -> multiboot; ELF64 -> elf; else error unless flat is asked for. */
  format?: ImageFormat;
  /** The multiboot command line (QEMU's -append). */
  cmdline?: string;
  /**
   * The image path as the user gave it. QEMU writes "<path> <cmdline>" into the multiboot
   * command line (hw/i386/multiboot.c), so a kernel sees its own file name first. Default 'kernel'.
   */
  imagePath?: string;
  /**
   * Multiboot modules, in order (QEMU's -initrd "a arg,b"). A module's command line as the
   * kernel sees it is "<path> <cmdline>", or just "<path>" when cmdline is undefined.
   */
  modules?: { path: string; bytes: Uint8Array; cmdline?: string }[];
  /** Flat binary load address (default 0x100000 for protected32/long64, 0x7c00 for real16). */
  flatAddress?: number;
  /** Default 'protected32'. */
  flatMode?: BootMode;
  /** Default = flatAddress. */
  flatEntry?: number;
}

/** The guest-physical memory the loader writes into (PhysicalMemory satisfies it). */
export interface GuestRam {
  readonly size: number;
  writeBytes(pa: number, bytes: Uint8Array): void;
  readBytes(pa: number, len: number): Uint8Array;
}

/**
 * How the boot vCPU starts. The CPU model turns this into architectural state:
 * - real16: CR0.PE=0, CS=cs (base cs<<4), IP=rip, other segments 0.
 * - protected32: CR0=0x11 (PE|ET, paging off, as QEMU leaves it), CS=codeSelector and
 *   DS/ES/FS/GS/SS=dataSelector, all flat (base 0, limit 4 GiB), GDTR=gdtBase/gdtLimit.
 * - long64: CR0.PE|PG, CR4.PAE, EFER.LME|LMA, CR3=cr3, CS=codeSelector (64-bit code),
 *   DS/ES/FS/GS/SS=dataSelector, GDTR=gdtBase/gdtLimit.
 * Registers not named in regs are 0 (EFLAGS 0x2 when eflags is absent).
 */
export interface BootState {
  mode: BootMode;
  /** Entry (linear; for real16 the IP with cs below). */
  rip: number;
  /** real16: CS selector/segment (base = cs << 4). */
  cs?: number;
  regs: {
    eax?: number; ebx?: number; ecx?: number; edx?: number;
    esi?: number; edi?: number; esp?: number; ebp?: number;
    /** EFLAGS at entry (QEMU's multiboot option ROM leaves 0x6). */
    eflags?: number;
  };
  /** long64: the PML4 the loader built. */
  cr3?: number;
  /** protected32 and long64: the GDT the loader wrote into guest memory. */
  gdtBase?: number;
  gdtLimit?: number;
  codeSelector?: number;
  dataSelector?: number;
}

export interface SymbolInfo {
  name: string;
  address: number;
  size: number;
  kind: 'func' | 'object' | 'other';
}

export interface LoadedImage {
  format: 'multiboot-elf' | 'multiboot-aout' | 'elf64' | 'elf32' | 'flat';
  boot: BootState;
  /** From .symtab (ELF32 and ELF64), sorted by address; [] when none. */
  symbols: SymbolInfo[];
  /** Guest-physical ranges written (end exclusive), sorted by start. */
  loaded: { start: number; end: number }[];
  /**
   * Things that loaded but deserve a word, e.g. QEMU's own "multiboot knows VBE. we don't"
   * for header flag bit 2, or a section table too broken to read symbols from.
   */
  warnings: string[];
}

/** A malformed or unloadable image. The message names the header and the field. */
export class LoaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoaderError';
  }
}
