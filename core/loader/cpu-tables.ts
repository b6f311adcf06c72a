// The descriptor and page tables the loader leaves in guest memory for the boot vCPU.
//
// protected32: the same 5-entry GDT, at the same address, that QEMU's multiboot option ROM
// (pc-bios/optionrom/multiboot.S) runs the kernel with: observed GDTR base 0xc02b8, limit
// 0x27, CS=0x08, data segments 0x10 (guests/probe-multiboot/qemu-dumps/). A kernel should
// load its own GDT (the multiboot spec says so), but one that reloads a segment register
// first finds the descriptors it would find under QEMU.
//
// long64 (our convenience; QEMU -kernel has no 64-bit entry): identity-mapped 4-level paging
// of the first 4 GiB with 2 MiB pages (PML4 -> one PDPT -> four page directories, PS=1;
// Intel SDM vol. 3A 4.5 "4-Level Paging"), and a GDT with null, 64-bit code (0x08, L=1) and
// data (0x10) descriptors (SDM vol. 3A 3.4.5, 5.2.1). 2 MiB rather than 1 GiB pages, because
// every long-mode CPU has PS in page directories while 1 GiB pages need CPUID pdpe1gb.
// They live in a fixed low-memory area:
//   0x70000 PML4, 0x71000 PDPT, 0x72000-0x75fff page directories, 0x76000 GDT,
//   0x77000-0x7ffff boot stack (RSP = 0x80000).
// That keeps clear of 0x0-0x7fff (real-mode IVT, BDA and where SMP trampolines go), of
// 0x9000-0x9fff (where multiboot info would go) and of the EBDA at 0x9fc00.
import { GuestRam, LoaderError } from './types';
import { RamWriter, checkPlacement, hex } from './placement';

/** Where QEMU's multiboot option ROM keeps its GDT (observed, QEMU 7.2 -nodefaults). */
export const PROTECTED_GDT_BASE = 0xc02b8;
const PROTECTED_GDT = [
  0x0000000000000000n,
  0x00cf9a000000ffffn, // 0x08: 32-bit code, base 0, limit 4 GiB, exec/read
  0x00cf92000000ffffn, // 0x10: 32-bit data, base 0, limit 4 GiB, read/write
  0x00009e000000ffffn, // 0x18: 16-bit code, base 0, limit 64 KiB, exec/read/conforming
  0x000092000000ffffn, // 0x20: 16-bit data, base 0, limit 64 KiB
];

export const LONG_MODE_AREA_START = 0x70000;
export const LONG_MODE_AREA_END = 0x80000;
export const LONG_MODE_PML4 = 0x70000;
const LONG_MODE_PDPT = 0x71000;
const LONG_MODE_PD = 0x72000;
export const LONG_MODE_GDT_BASE = 0x76000;
export const LONG_MODE_STACK_TOP = 0x80000;
const LONG_MODE_GDT = [
  0x0000000000000000n,
  0x00af9a000000ffffn, // 0x08: 64-bit code (L=1, D=0), DPL 0, exec/read
  0x00cf92000000ffffn, // 0x10: data, read/write
];

const PTE_P = 0x1;
const PTE_RW = 0x2;
const PDE_PS = 0x80;
const TWO_MIB = 0x200000;

export const CODE_SELECTOR = 0x08;
export const DATA_SELECTOR = 0x10;

function descriptorTable(entries: bigint[]): Uint8Array {
  const out = new Uint8Array(entries.length * 8);
  const v = new DataView(out.buffer);
  entries.forEach((e, i) => v.setBigUint64(i * 8, e, true));
  return out;
}

/** Writes QEMU's option-ROM GDT; returns GDTR. */
export function writeProtectedModeGdt(w: RamWriter): { gdtBase: number; gdtLimit: number } {
  const gdt = descriptorTable(PROTECTED_GDT);
  if (PROTECTED_GDT_BASE + gdt.length > w.ram.size) {
    throw new LoaderError(`the boot GDT at ${hex(PROTECTED_GDT_BASE)} does not fit in RAM (${hex(w.ram.size)} bytes)`);
  }
  w.write(PROTECTED_GDT_BASE, gdt);
  return { gdtBase: PROTECTED_GDT_BASE, gdtLimit: gdt.length - 1 };
}

/**
 * Builds the long-mode paging and GDT. imageRanges are what the image occupies: the
 * fixed area must not overlap them.
 */
export function writeLongModeTables(
  w: RamWriter,
  imageRanges: { what: string; start: number; end: number }[],
): { cr3: number; gdtBase: number; gdtLimit: number; stackTop: number } {
  checkPlacement('the long-mode page tables, GDT and stack', LONG_MODE_AREA_START, LONG_MODE_AREA_END - LONG_MODE_AREA_START, w.ram);
  for (const r of imageRanges) {
    if (r.start < LONG_MODE_AREA_END && LONG_MODE_AREA_START < r.end) {
      throw new LoaderError(
        `${r.what} at ${hex(r.start)}-${hex(r.end - 1)} overlaps ${hex(LONG_MODE_AREA_START)}-${hex(LONG_MODE_AREA_END - 1)}, ` +
          'where the loader puts the long-mode page tables, GDT and stack',
      );
    }
  }
  const pml4 = new Uint8Array(0x1000);
  new DataView(pml4.buffer).setUint32(0, LONG_MODE_PDPT | PTE_P | PTE_RW, true);
  const pdpt = new Uint8Array(0x1000);
  const pdptView = new DataView(pdpt.buffer);
  const pds = new Uint8Array(4 * 0x1000);
  const pdView = new DataView(pds.buffer);
  for (let g = 0; g < 4; g++) {
    pdptView.setUint32(g * 8, (LONG_MODE_PD + g * 0x1000) | PTE_P | PTE_RW, true);
  }
  for (let i = 0; i < 2048; i++) {
    // Entry i maps [i * 2 MiB, (i+1) * 2 MiB); bits 32+ of the frame go in the high dword.
    const pa = i * TWO_MIB;
    pdView.setUint32(i * 8, (pa % 0x100000000) | PTE_P | PTE_RW | PDE_PS, true);
    pdView.setUint32(i * 8 + 4, Math.floor(pa / 0x100000000), true);
  }
  const gdt = descriptorTable(LONG_MODE_GDT);
  w.write(LONG_MODE_PML4, pml4);
  w.write(LONG_MODE_PDPT, pdpt);
  w.write(LONG_MODE_PD, pds);
  w.write(LONG_MODE_GDT_BASE, gdt);
  return { cr3: LONG_MODE_PML4, gdtBase: LONG_MODE_GDT_BASE, gdtLimit: gdt.length - 1, stackTop: LONG_MODE_STACK_TOP };
}

export function checkEntry(entry: number, ram: GuestRam, what: string): void {
  if (entry < 0 || entry >= ram.size) {
    throw new LoaderError(`${what} ${hex(entry)} is outside RAM (${hex(ram.size)} bytes)`);
  }
}
