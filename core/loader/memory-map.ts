// The BIOS memory map (INT 15h E820) a guest of QEMU's `pc` machine sees, as a function of
// the RAM size alone, and the multiboot mmap/mem_lower/mem_upper derived from it.
//
// Under QEMU, -kernel's multiboot option ROM (pc-bios/optionrom/multiboot.S) calls
// INT 15h E820 in a loop and stores each 20-byte answer behind a 4-byte size field; the
// answers come from SeaBIOS, which merges QEMU's fw_cfg "etc/e820" table with its own
// reservations. Observed with QEMU 7.2 (SeaBIOS 1.16) for -m 4 to -m 3072 and -smp 1 to 16,
// TCG, default CPU (captures in guests/probe-multiboot/qemu-dumps/), always these entries:
//   1. 0x0          .. 0x9fc00     RAM       conventional memory below the EBDA
//   2. 0x9fc00      .. 0xa0000     reserved  SeaBIOS's 1 KiB Extended BIOS Data Area
//   3. 0xf0000      .. 0x100000    reserved  the BIOS ROM segment
//   4. 0x100000     .. RAM-128 KiB RAM
//   5. RAM-128 KiB  .. RAM         reserved  SeaBIOS's high tables (ACPI, SMBIOS, ...)
//   6. 0xfffc0000   .. 4 GiB       reserved  the BIOS flash mapping below 4 GiB
//   7. 0xfd00000000 .. 1 TiB       reserved  AMD HyperTransport hole: QEMU 7.x reserves it
//                                            when the vCPU vendor is AMD, and the default
//                                            TCG CPU (qemu64) is AuthenticAMD
// Guests with more than 3 GiB (memory above 4 GiB) are not supported here.
import { hex } from './placement';

export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface E820Entry {
  base: number;
  length: number;
  type: number;
}

const EBDA_START = 0x9fc00;
const EBDA_END = 0xa0000;
const BIOS_SEGMENT_START = 0xf0000;
const ONE_MIB = 0x100000;
/** What SeaBIOS keeps of its 256 KiB high zone after booting (its "giveback" returns the rest). */
export const SEABIOS_HIGH_TABLES_SIZE = 0x20000;
const BIOS_FLASH_START = 0xfffc0000;
const BIOS_FLASH_SIZE = 0x40000;
const AMD_HT_START = 0xfd00000000;
const AMD_HT_SIZE = 0x300000000;

/** INT 12h under SeaBIOS: 640 KiB less the 1 KiB EBDA. The option ROM stores it as mem_lower. */
export const MULTIBOOT_MEM_LOWER_KIB = 639;

/** The E820 table for a `pc` guest with ramSize bytes of RAM (all below 4 GiB). */
export function qemuE820(ramSize: number): E820Entry[] {
  if (ramSize <= ONE_MIB || ramSize > 0xc0000000) {
    throw new RangeError(`the E820 map is defined for RAM sizes above 1 MiB and up to 3 GiB, not ${hex(ramSize)} bytes`);
  }
  const highTables = Math.max(ONE_MIB, ramSize - SEABIOS_HIGH_TABLES_SIZE);
  const map: E820Entry[] = [
    { base: 0, length: EBDA_START, type: E820_RAM },
    { base: EBDA_START, length: EBDA_END - EBDA_START, type: E820_RESERVED },
    { base: BIOS_SEGMENT_START, length: ONE_MIB - BIOS_SEGMENT_START, type: E820_RESERVED },
  ];
  if (highTables > ONE_MIB) map.push({ base: ONE_MIB, length: highTables - ONE_MIB, type: E820_RAM });
  map.push(
    { base: highTables, length: ramSize - highTables, type: E820_RESERVED },
    { base: BIOS_FLASH_START, length: BIOS_FLASH_SIZE, type: E820_RESERVED },
    { base: AMD_HT_START, length: AMD_HT_SIZE, type: E820_RESERVED },
  );
  return map;
}

/**
 * mem_upper as the option ROM computes it: KiB of RAM contiguous from 1 MiB, found by
 * extending from 1 MiB through type-1 entries below 4 GiB (in any order).
 */
export function multibootMemUpperKiB(map: E820Entry[]): number {
  let top = ONE_MIB;
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of map) {
      if (e.type !== E820_RAM || e.base >= 0x100000000) continue;
      if (e.base <= top && top < e.base + e.length) {
        top = e.base + e.length;
        grew = true;
      }
    }
  }
  return Math.floor((top - ONE_MIB) / 1024);
}

/** Multiboot mmap entries: size (always 20, what E820 returned), base_addr, length, type. */
export function encodeMultibootMmap(map: E820Entry[]): Uint8Array {
  const out = new Uint8Array(map.length * 24);
  const v = new DataView(out.buffer);
  map.forEach((e, i) => {
    const o = i * 24;
    v.setUint32(o, 20, true);
    v.setUint32(o + 4, e.base % 0x100000000, true);
    v.setUint32(o + 8, Math.floor(e.base / 0x100000000), true);
    v.setUint32(o + 12, e.length % 0x100000000, true);
    v.setUint32(o + 16, Math.floor(e.length / 0x100000000), true);
    v.setUint32(o + 20, e.type, true);
  });
  return out;
}
