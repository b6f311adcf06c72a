// Multiboot v1 boot exactly as QEMU 7.2's `-kernel` does it: hw/i386/multiboot.c builds one
// buffer (kernel, module list, command lines, boot loader name, modules) and an 88-byte
// information structure; the option ROM pc-bios/optionrom/multiboot.S then writes the
// memory map at 0x9000 and the structure at 0x9500, copies the buffer to its load address
// and jumps to the kernel in flat 32-bit protected mode. Every number here was checked
// against QEMU itself with guests/probe-multiboot (captures in its qemu-dumps/), and
// test/core/loader/qemu-parity.test.ts replays those captures against this code.
//
// The buffer, at the kernel's load address L, is laid out as QEMU lays it out:
//   L                          the kernel (ELF: from the lowest to the highest PT_LOAD
//                              address; a.out kludge: file bytes, then zeros to bss_end_addr)
//   M = L + page_align(kernel) the module list, 16 bytes per module
//   M + 16*n                   the module command lines, then "<image path> <cmdline>", NUL each
//   ... + cmdline_len          "qemu" (boot_loader_name), where cmdline_len is QEMU's reserve:
//                              strlen(path)+1 + strlen(cmdline)+1 + strlen(-initrd string)+1
//   page_align(that)           each module, each starting on a page boundary
import { ElfHeader, EM_X86_64, parseElfHeader, planElfLoad } from './elf';
import { E820Entry, MULTIBOOT_MEM_LOWER_KIB, encodeMultibootMmap, multibootMemUpperKiB, qemuE820 } from './memory-map';
import { CODE_SELECTOR, DATA_SELECTOR, checkEntry, writeProtectedModeGdt } from './cpu-tables';
import { ByteReader, RamWriter, cString, checkPlacement, hex, pageAlign } from './placement';
import { BootState, GuestRam, LoadOptions, LoaderError } from './types';

export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;
/** QEMU scans `for (i = 0; i < 8192 - 48; i += 4)`: the last header it can find starts at 8140. */
const HEADER_SEARCH_END = 8192 - 48;
const FLAG_VIDEO_MODE = 1 << 2;
const FLAG_AOUT_KLUDGE = 1 << 16;
/** Header flags QEMU satisfies anyway: bit 0 (page-align modules) and bit 1 (memory info). */
const FLAGS_PROVIDED = 0x3;

/** Where QEMU puts the memory map (ADDR_E820_MAP) and the information structure (ADDR_MBI). */
export const MULTIBOOT_MMAP_ADDR = 0x9000;
export const MULTIBOOT_INFO_ADDR = 0x9500;
const MBI_SIZE = 88;
const MB_MOD_SIZE = 16;
const BOOTLOADER_NAME = 'qemu';
/** QEMU's "XXX: use the -boot switch?": BIOS drive 0x80, no partition. */
const BOOT_DEVICE = 0x8000ffff;
/** mem, boot_device, cmdline, mods, mmap, boot_loader_name (bits 0, 1, 2, 3, 6, 9). */
const MBI_FLAGS = 0x24f;

// Register state the option ROM leaves at the kernel's entry, observed under QEMU 7.2 and
// identical for every RAM size, -smp, -append and -initrd tried: ESP is SeaBIOS's stack
// during option ROM boot less the ROM's 0x30-byte frame, EDI is left by the fw_cfg DMA
// blob read, EFLAGS has PF set by the last compare. EDX's low word is the fw_cfg data port
// (0x511) of the last `read_fw`; its high word survives from the mem_upper computation.
const ENTRY_ESP = 0x6f08;
const ENTRY_EDI = 0x1000;
const ENTRY_EFLAGS = 0x6;
const FW_CFG_DATA_PORT = 0x511;

export type HeaderSearch =
  | { found: true; offset: number; flags: number }
  | { found: false; badChecksumAt?: { offset: number; flags: number; checksum: number } };

/** QEMU's header search: the magic on a 4-byte boundary, with magic+flags+checksum == 0 mod 2^32. */
export function findMultibootHeader(bytes: Uint8Array): HeaderSearch {
  const r = new ByteReader(bytes);
  let bad: { offset: number; flags: number; checksum: number } | undefined;
  for (let i = 0; i < HEADER_SEARCH_END && i + 12 <= bytes.length; i += 4) {
    if (r.u32(i) !== MULTIBOOT_HEADER_MAGIC) continue;
    const flags = r.u32(i + 4);
    const checksum = r.u32(i + 8);
    if (((MULTIBOOT_HEADER_MAGIC + flags + checksum) >>> 0) === 0) return { found: true, offset: i, flags };
    bad ??= { offset: i, flags, checksum };
  }
  return { found: false, badChecksumAt: bad };
}

export function badChecksumMessage(b: { offset: number; checksum: number }): string {
  return `multiboot header at ${hex(b.offset)}: checksum ${hex(b.checksum)} does not make magic+flags+checksum zero`;
}

interface KernelBuffer {
  format: 'multiboot-elf' | 'multiboot-aout';
  loadAddr: number;
  entry: number;
  /** The kernel's bytes from loadAddr, zero-filled where nothing is loaded. */
  image: Uint8Array;
}

function elfKernel(bytes: Uint8Array, where: string, flags: number, ram: GuestRam): KernelBuffer {
  let h: ElfHeader;
  try {
    h = parseElfHeader(bytes);
  } catch (e) {
    if (!(e instanceof LoaderError)) throw e;
    throw new LoaderError(`${where}: flags ${hex(flags)} leave bit 16 (a.out kludge) clear, so the kernel must be ELF32, but: ${e.message}`);
  }
  if (h.machine === EM_X86_64) {
    // QEMU: "Cannot load x86-64 image, give a 32bit one."
    throw new LoaderError(
      `${where}: the kernel is an x86-64 ELF (e_machine 62) without the a.out kludge (flags bit 16); ` +
        'QEMU refuses it too ("Cannot load x86-64 image, give a 32bit one."): set bit 16 and the address fields, ' +
        "or load it with format 'elf' to enter it in long mode",
    );
  }
  const plan = planElfLoad(bytes, h);
  for (const seg of plan.segments) checkPlacement(`segment ${seg.index}`, seg.paddr, seg.memsz, ram);
  const loadAddr = plan.low;
  const image = new Uint8Array(plan.high - plan.low);
  for (const s of plan.segments) image.set(s.data, s.paddr - loadAddr);
  return { format: 'multiboot-elf', loadAddr, entry: plan.entry >>> 0, image };
}

function aoutKernel(bytes: Uint8Array, offset: number, where: string, ram: GuestRam): KernelBuffer {
  if (offset + 32 > bytes.length) {
    throw new LoaderError(`${where}: flags bit 16 (a.out kludge) is set but the address fields header_addr..entry_addr run past the end of the file (${hex(bytes.length)} bytes)`);
  }
  const r = new ByteReader(bytes);
  const headerAddr = r.u32(offset + 12);
  const loadAddr = r.u32(offset + 16);
  const loadEndAddr = r.u32(offset + 20);
  const bssEndAddr = r.u32(offset + 24);
  const entry = r.u32(offset + 28);
  // The checks and their order are QEMU's.
  if (headerAddr < loadAddr) {
    throw new LoaderError(`${where}: header_addr ${hex(headerAddr)} is below load_addr ${hex(loadAddr)}`);
  }
  if (headerAddr - loadAddr > offset) {
    throw new LoaderError(
      `${where}: header_addr - load_addr is ${hex(headerAddr - loadAddr)}, more than the header's file offset: load_addr would lie before the start of the file`,
    );
  }
  const textOffset = offset - (headerAddr - loadAddr);
  let loadSize: number;
  if (loadEndAddr !== 0) {
    if (loadEndAddr < loadAddr) {
      throw new LoaderError(`${where}: load_end_addr ${hex(loadEndAddr)} is below load_addr ${hex(loadAddr)}`);
    }
    loadSize = loadEndAddr - loadAddr;
  } else {
    loadSize = bytes.length - textOffset;
  }
  if (loadSize > 0xffffffff - loadAddr) {
    throw new LoaderError(`${where}: load_addr ${hex(loadAddr)} plus ${hex(loadSize)} bytes to load runs past 4 GiB`);
  }
  let kernelSize = loadSize;
  if (bssEndAddr !== 0) {
    if (bssEndAddr < loadAddr + loadSize) {
      throw new LoaderError(`${where}: bss_end_addr ${hex(bssEndAddr)} is below the end of the loaded text and data (${hex(loadAddr + loadSize)})`);
    }
    kernelSize = bssEndAddr - loadAddr;
  }
  if (textOffset + loadSize > bytes.length) {
    // QEMU: "fread() failed".
    throw new LoaderError(
      `${where}: load_end_addr ${hex(loadEndAddr)} asks for ${hex(loadSize)} bytes from file offset ${hex(textOffset)}, ` +
        `past the end of the file (${hex(bytes.length)} bytes)`,
    );
  }
  checkPlacement('kernel', loadAddr, kernelSize, ram);
  const image = new Uint8Array(kernelSize);
  image.set(bytes.subarray(textOffset, textOffset + loadSize));
  return { format: 'multiboot-aout', loadAddr, entry, image };
}

/** QEMU's -initrd option string for these modules: "path args" items, ',' doubled, joined by ','. */
function moduleStrings(opts: LoadOptions): { lines: string[]; initrdOption: string | null } {
  const mods = opts.modules ?? [];
  const lines = mods.map((m) => (m.cmdline !== undefined ? `${m.path} ${m.cmdline}` : m.path));
  return { lines, initrdOption: mods.length ? lines.map((l) => l.replace(/,/g, ',,')).join(',') : null };
}

export interface MultibootResult {
  format: 'multiboot-elf' | 'multiboot-aout';
  boot: BootState;
  warnings: string[];
}

export function loadMultiboot(bytes: Uint8Array, w: RamWriter, header: { offset: number; flags: number }, opts: LoadOptions): MultibootResult {
  const ram = w.ram;
  const where = `multiboot header at ${hex(header.offset)}`;
  const warnings: string[] = [];
  if (header.flags & FLAG_VIDEO_MODE) {
    warnings.push(`${where}: flags bit 2 asks for a video mode; QEMU only warns "multiboot knows VBE. we don't" and boots without one, and so do we`);
  }
  const unknownRequired = header.flags & 0xffff & ~(FLAGS_PROVIDED | FLAG_VIDEO_MODE);
  if (unknownRequired) {
    warnings.push(`${where}: flags ${hex(unknownRequired)} ask for features no multiboot v1 loader defines; QEMU ignores them, and so do we`);
  }
  const kernel = header.flags & FLAG_AOUT_KLUDGE
    ? aoutKernel(bytes, header.offset, where, ram)
    : elfKernel(bytes, where, header.flags, ram);

  // Layout of QEMU's mb_buf.
  const phys = kernel.loadAddr;
  const mods = opts.modules ?? [];
  const { lines: modLines, initrdOption } = moduleStrings(opts);
  const kernelCmdline = `${opts.imagePath ?? 'kernel'} ${opts.cmdline ?? ''}`;
  const utf8 = (s: string) => new TextEncoder().encode(s).length;
  let cmdlineLen = utf8(opts.imagePath ?? 'kernel') + 1 + utf8(opts.cmdline ?? '') + 1;
  if (initrdOption !== null) cmdlineLen += utf8(initrdOption) + 1;
  const offMbinfo = pageAlign(kernel.image.length);
  const offCmdlinesStart = offMbinfo + mods.length * MB_MOD_SIZE;
  const offBootloader = offCmdlinesStart + cmdlineLen;
  let bufSize = pageAlign(offBootloader + BOOTLOADER_NAME.length + 1);
  const modOffsets: number[] = [];
  for (const m of mods) {
    modOffsets.push(bufSize);
    bufSize = pageAlign(bufSize + m.bytes.length);
  }
  checkPlacement('the multiboot image (kernel, module list, command lines and modules)', phys, bufSize, ram);
  if (phys < MULTIBOOT_INFO_ADDR + MBI_SIZE && MULTIBOOT_MMAP_ADDR < phys + bufSize) {
    throw new LoaderError(
      `the multiboot image at ${hex(phys)}+${hex(bufSize)} overlaps ${hex(MULTIBOOT_MMAP_ADDR)}-${hex(MULTIBOOT_INFO_ADDR + MBI_SIZE - 1)}, ` +
        'where QEMU puts the memory map and the multiboot information structure',
    );
  }

  const buf = new Uint8Array(bufSize);
  const bv = new DataView(buf.buffer);
  buf.set(kernel.image);
  let offCmdlines = offCmdlinesStart;
  const addCmdline = (s: string): number => {
    const c = cString(s);
    buf.set(c, offCmdlines);
    offCmdlines += c.length;
    return phys + offCmdlines - c.length;
  };
  mods.forEach((m, k) => {
    const cmdlineAddr = addCmdline(modLines[k]);
    buf.set(m.bytes, modOffsets[k]);
    const o = offMbinfo + k * MB_MOD_SIZE;
    bv.setUint32(o, phys + modOffsets[k], true);
    bv.setUint32(o + 4, phys + modOffsets[k] + m.bytes.length, true);
    bv.setUint32(o + 8, cmdlineAddr, true);
  });
  const cmdlineAddr = addCmdline(kernelCmdline);
  buf.set(cString(BOOTLOADER_NAME), offBootloader);

  const map: E820Entry[] = qemuE820(ram.size);
  const mmap = encodeMultibootMmap(map);
  const memUpper = multibootMemUpperKiB(map);
  const mbi = new Uint8Array(MBI_SIZE);
  const mv = new DataView(mbi.buffer);
  mv.setUint32(0, MBI_FLAGS, true);
  mv.setUint32(4, MULTIBOOT_MEM_LOWER_KIB, true);
  mv.setUint32(8, memUpper, true);
  mv.setUint32(12, BOOT_DEVICE, true);
  mv.setUint32(16, cmdlineAddr, true);
  mv.setUint32(20, mods.length, true);
  mv.setUint32(24, phys + offMbinfo, true);
  mv.setUint32(44, mmap.length, true);
  mv.setUint32(48, MULTIBOOT_MMAP_ADDR, true);
  mv.setUint32(64, phys + offBootloader, true);

  checkEntry(kernel.entry, ram, `${where}: the entry point`);
  // The option ROM's order: information structure and memory map first, then the buffer.
  w.write(MULTIBOOT_MMAP_ADDR, mmap);
  w.write(MULTIBOOT_INFO_ADDR, mbi);
  const gdt = writeProtectedModeGdt(w);
  w.write(phys, buf);

  return {
    format: kernel.format,
    warnings,
    boot: {
      mode: 'protected32',
      rip: kernel.entry,
      regs: {
        eax: MULTIBOOT_BOOTLOADER_MAGIC,
        ebx: MULTIBOOT_INFO_ADDR,
        ecx: kernel.entry,
        edx: ((memUpper & 0xffff0000) | FW_CFG_DATA_PORT) >>> 0,
        esi: 0,
        edi: ENTRY_EDI,
        esp: ENTRY_ESP,
        ebp: 0,
        eflags: ENTRY_EFLAGS,
      },
      ...gdt,
      codeSelector: CODE_SELECTOR,
      dataSelector: DATA_SELECTOR,
    },
  };
}
