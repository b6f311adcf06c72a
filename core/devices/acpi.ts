// ACPI tables a -kernel guest finds in the BIOS area: RSDP -> RSDT -> MADT (ACPI 6.5
// sections 5.2.5, 5.2.7, 5.2.12). The MADT lists the same entries as QEMU 7.2's pc
// machine (checked with probes/probe.c at -smp 1, 2, 4, 8):
//   Processor Local APIC per vCPU (processor UID = APIC ID = vCPU index, enabled),
//   Processor Local x2APIC for APIC IDs >= 255 (as QEMU does when it has such CPUs),
//   I/O APIC id 0 at 0xFEC00000, GSI base 0,
//   Interrupt Source Overrides IRQ0 -> GSI2 (conforming) and IRQ 5, 9, 10, 11 -> same
//   GSI, level-triggered, active-high,
//   Local APIC NMI on LINT1 for all processors (Local x2APIC NMI when x2APIC entries exist).
// QEMU's RSDT also lists FACP, HPET and WAET and keeps the tables at the top of RAM;
// we build only RSDP/RSDT/MADT and keep them in the BIOS ROM area, where the guest sees
// them read-only. The RSDP sits where SeaBIOS puts it (0xF59D0), the others at 0xE0000.

export const ACPI_RSDP_ADDRESS = 0xf59d0;
export const ACPI_RSDT_ADDRESS = 0xe0000;
export const ACPI_MADT_ADDRESS = 0xe0040;
export const LOCAL_APIC_ADDRESS = 0xfee00000;
export const IO_APIC_ADDRESS = 0xfec00000;
export const IO_APIC_ID = 0;

/** OEM fields as QEMU fills them. */
const OEM_ID = 'BOCHS ';
const OEM_TABLE_ID = 'BXPC    ';
const CREATOR_ID = 'BXPC';
const HEADER_SIZE = 36;

// MADT interrupt controller structure types (ACPI 6.5 table 5.21).
export const MADT_LOCAL_APIC = 0;
export const MADT_IO_APIC = 1;
export const MADT_INTERRUPT_OVERRIDE = 2;
export const MADT_LOCAL_APIC_NMI = 4;
export const MADT_LOCAL_X2APIC = 9;
export const MADT_LOCAL_X2APIC_NMI = 0x0a;

/** MPS INTI flags: polarity active-high (01), trigger level (11 << 2). */
const INTI_ACTIVE_HIGH_LEVEL = 0x000d;
/** ISA IRQs QEMU declares level-triggered: the PCI interrupt links and the ACPI SCI. */
const LEVEL_IRQS = [5, 9, 10, 11];
/** The largest APIC ID a Processor Local APIC structure may carry; 0xFF means broadcast. */
const XAPIC_ID_LIMIT = 255;

export interface AcpiLayout { rsdp: number; rsdt: number; madt: number }

/** Writes RSDP, RSDT and MADT into guest memory and returns where they are. */
export function buildAcpiTables(
  ram: { writeBytes(pa: number, bytes: Uint8Array): void },
  opts: { vcpus: number; ramBytes: number },
): AcpiLayout {
  const madt = buildMadt(opts.vcpus);
  const rsdt = buildRsdt([ACPI_MADT_ADDRESS]);
  if (ACPI_RSDT_ADDRESS + rsdt.length > ACPI_MADT_ADDRESS) throw new Error('RSDT overlaps the MADT');
  if (ACPI_MADT_ADDRESS + madt.length > ACPI_RSDP_ADDRESS) {
    throw new Error(`MADT for ${opts.vcpus} vCPUs (${madt.length} bytes) does not fit below the RSDP`);
  }
  ram.writeBytes(ACPI_RSDT_ADDRESS, rsdt);
  ram.writeBytes(ACPI_MADT_ADDRESS, madt);
  ram.writeBytes(ACPI_RSDP_ADDRESS, buildRsdp(ACPI_RSDT_ADDRESS));
  return { rsdp: ACPI_RSDP_ADDRESS, rsdt: ACPI_RSDT_ADDRESS, madt: ACPI_MADT_ADDRESS };
}

/** RSDP revision 0 (ACPI 1.0, 20 bytes): signature, checksum, OEM ID, revision, RSDT address. */
export function buildRsdp(rsdtAddress: number): Uint8Array {
  const b = new Uint8Array(20);
  const dv = new DataView(b.buffer);
  ascii(b, 0, 'RSD PTR ');
  ascii(b, 9, OEM_ID);
  b[15] = 0;
  dv.setUint32(16, rsdtAddress, true);
  b[8] = checksum(b, 0, 20);
  return b;
}

/** RSDT: the header and one 32-bit physical address per table. */
export function buildRsdt(tables: number[]): Uint8Array {
  const b = new Uint8Array(HEADER_SIZE + 4 * tables.length);
  const dv = new DataView(b.buffer);
  tables.forEach((t, i) => dv.setUint32(HEADER_SIZE + 4 * i, t, true));
  finishTable(b, 'RSDT', 1);
  return b;
}

/** MADT for vCPUs 0..vcpus-1 with APIC ID = processor UID = index. */
export function buildMadt(vcpus: number): Uint8Array {
  if (!Number.isInteger(vcpus) || vcpus < 1) throw new RangeError(`vcpus must be a positive integer, not ${vcpus}`);
  const x2apic = vcpus > XAPIC_ID_LIMIT;
  const xapicCount = Math.min(vcpus, XAPIC_ID_LIMIT);
  const size = HEADER_SIZE + 8 + 8 * xapicCount + 16 * (vcpus - xapicCount) + 12 + 10 * (1 + LEVEL_IRQS.length) + (x2apic ? 12 : 6);
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  dv.setUint32(36, LOCAL_APIC_ADDRESS, true);
  dv.setUint32(40, 1, true); // PCAT_COMPAT: dual 8259s are present
  let at = 44;
  for (let id = 0; id < vcpus; id++) {
    if (id < XAPIC_ID_LIMIT) {
      b[at] = MADT_LOCAL_APIC;
      b[at + 1] = 8;
      b[at + 2] = id; // ACPI processor UID
      b[at + 3] = id; // APIC ID
      dv.setUint32(at + 4, 1, true); // enabled
      at += 8;
    } else {
      b[at] = MADT_LOCAL_X2APIC;
      b[at + 1] = 16;
      dv.setUint32(at + 4, id, true); // x2APIC ID
      dv.setUint32(at + 8, 1, true); // enabled
      dv.setUint32(at + 12, id, true); // ACPI processor UID
      at += 16;
    }
  }
  b[at] = MADT_IO_APIC;
  b[at + 1] = 12;
  b[at + 2] = IO_APIC_ID;
  dv.setUint32(at + 4, IO_APIC_ADDRESS, true);
  dv.setUint32(at + 8, 0, true); // global system interrupt base
  at += 12;
  at = putOverride(b, dv, at, 0, 2, 0);
  for (const irq of LEVEL_IRQS) at = putOverride(b, dv, at, irq, irq, INTI_ACTIVE_HIGH_LEVEL);
  if (x2apic) {
    b[at] = MADT_LOCAL_X2APIC_NMI;
    b[at + 1] = 12;
    dv.setUint16(at + 2, 0, true); // flags: conforming
    dv.setUint32(at + 4, 0xffffffff, true); // all processors
    b[at + 8] = 1; // LINT1
    at += 12;
  } else {
    b[at] = MADT_LOCAL_APIC_NMI;
    b[at + 1] = 6;
    b[at + 2] = 0xff; // all processors
    dv.setUint16(at + 3, 0, true); // flags: conforming
    b[at + 5] = 1; // LINT1
    at += 6;
  }
  if (at !== size) throw new Error(`MADT size mismatch: ${at} != ${size}`);
  finishTable(b, 'APIC', 1);
  return b;
}

function putOverride(b: Uint8Array, dv: DataView, at: number, irq: number, gsi: number, flags: number): number {
  b[at] = MADT_INTERRUPT_OVERRIDE;
  b[at + 1] = 10;
  b[at + 2] = 0; // bus: ISA
  b[at + 3] = irq;
  dv.setUint32(at + 4, gsi, true);
  dv.setUint16(at + 8, flags, true);
  return at + 10;
}

/** Fills the common header (ACPI 6.5 table 5.4) and the checksum. */
function finishTable(b: Uint8Array, signature: string, revision: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  ascii(b, 0, signature);
  dv.setUint32(4, b.length, true);
  b[8] = revision;
  b[9] = 0;
  ascii(b, 10, OEM_ID);
  ascii(b, 16, OEM_TABLE_ID);
  dv.setUint32(24, 1, true); // OEM revision
  ascii(b, 28, CREATOR_ID);
  dv.setUint32(32, 1, true); // creator revision
  b[9] = checksum(b, 0, b.length);
}

/** The byte that makes [start, start+len) sum to 0 mod 256 (with its own slot still 0). */
export function checksum(b: Uint8Array, start: number, len: number): number {
  let sum = 0;
  for (let i = start; i < start + len; i++) sum = (sum + b[i]) & 0xff;
  return (256 - sum) & 0xff;
}

function ascii(b: Uint8Array, at: number, s: string): void {
  for (let i = 0; i < s.length; i++) b[at + i] = s.charCodeAt(i);
}
