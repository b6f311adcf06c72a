// Local APIC and I/O APIC registers by address, offset and MSR, with what each is for.
// Offsets, names and reserved-bit masks come from the core (core/apic/registers.ts, the
// same tables the emulated LAPIC uses); the sentences are ours, after the SDM vol. 3,
// chapter "Advanced Programmable Interrupt Controller (APIC)", table "Local APIC Register
// Address Map" (section numbers below are the 2023+ SDM's, 11.x; older editions say 10.x).
import {
  APIC_BASE_DEFAULT, APIC_EOI, APIC_ICR_HIGH, APIC_ICR_LOW, APIC_SELF_IPI, APIC_SVR, APIC_TIMER_DCR, APIC_TPR, DCR_WRITABLE,
  ICR_HIGH_WRITABLE, ICR_LOW_WRITABLE, LVT_DEFINED, LVT_OFFSETS, REGISTER_NAMES, SVR_FOCUS_DISABLE, SVR_WRITABLE, APIC_ESR,
  X2APIC_MSR_FIRST, X2APIC_MSR_ICR, x2apicMsrOf,
} from '../../core/apic/registers';
import { IOAPIC_BASE, IOAPIC_EOI, IOAPIC_IOREGSEL, IOAPIC_IOWIN, IOAPIC_SIZE } from '../../core/apic/ioapic';
import { hex } from '../documents/numbers';

export const LAPIC_PAGE = APIC_BASE_DEFAULT;
export const LAPIC_PAGE_SIZE = 0x1000;

export interface ApicRegister {
  /** The core's name: ICR_LOW, LVT_TIMER, ISR3, ... */
  name: string;
  offset: number;
  /** x2APIC MSR number, or undefined when the register has none in x2APIC mode. */
  msr?: number;
  what: string;
  readOnly?: boolean;
  writeOnly?: boolean;
  /** Bits that must be 0 in a write (x2APIC: #GP), when the register has a simple rule. */
  reserved?: number;
  /** LVT index (core/apic/registers.ts LVT_NAMES order). */
  lvt?: number;
}

const WHAT: Record<string, string> = {
  ID: 'Local APIC ID (xAPIC: bits 31:24; x2APIC: 32 bits, read-only)',
  VER: 'Local APIC version: version in bits 7:0, max LVT entry in 23:16, EOI-broadcast suppression support in bit 24 (read-only)',
  TPR: 'Task priority: interrupts of priority class (vector 7:4) at or below TPR[7:4] are held in IRR (SDM 11.8.3.1)',
  APR: 'Arbitration priority (read-only; not in x2APIC mode)',
  PPR: 'Processor priority: max(TPR, highest in-service class) decides what can be delivered (read-only, SDM 11.8.3.1)',
  EOI: 'End of interrupt: write 0 to retire the highest vector in ISR; for a level-triggered vector (TMR bit set) the EOI is broadcast to the I/O APICs (SDM 11.8.5)',
  RRD: 'Remote read (read-only; not in x2APIC mode)',
  LDR: 'Logical destination: logical APIC ID in bits 31:24 (xAPIC); derived from the APIC ID in x2APIC mode (read-only there)',
  DFR: 'Destination format: model in bits 31:28, 1111 flat / 0000 cluster (xAPIC only)',
  SVR: 'Spurious-interrupt vector: vector in bits 7:0, APIC software enable in bit 8 (a software-disabled local APIC accepts no fixed interrupts; SDM 11.4.7.2, 11.9)',
  ESR: 'Error status: write (any value in xAPIC mode, 0 in x2APIC mode) to latch the errors, then read (SDM 11.5.3)',
  LVT_CMCI: 'LVT corrected machine-check interrupt',
  ICR_LOW: 'Interrupt command register, bits 31:0: writing it sends the IPI (xAPIC; SDM 11.6.1)',
  ICR_HIGH: 'Interrupt command register, bits 63:32: destination in bits 63:56 (xAPIC); write it before ICR low',
  LVT_TIMER: 'LVT timer: vector, mask (16), timer mode in bits 18:17 (one-shot, periodic, TSC-deadline; SDM 11.5.4)',
  LVT_THERMAL: 'LVT thermal sensor',
  LVT_PERF: 'LVT performance-monitoring counters',
  LVT_LINT0: 'LVT LINT0 pin: usually ExtINT from the 8259 PIC on the BSP (virtual-wire mode)',
  LVT_LINT1: 'LVT LINT1 pin: usually NMI',
  LVT_ERROR: 'LVT error: the interrupt raised when ESR records an error',
  TIMER_ICR: 'Timer initial count: a write starts the timer counting down (0 stops it)',
  TIMER_CCR: 'Timer current count (read-only)',
  TIMER_DCR: 'Timer divide configuration: bits 0, 1, 3 select the bus-clock divider (SDM 11.5.4)',
  SELF_IPI: 'SELF IPI (x2APIC only): writing a vector sends a fixed, edge IPI to this processor',
};

const READ_ONLY = new Set(['ID', 'VER', 'APR', 'PPR', 'RRD', 'TIMER_CCR']);
/** Registers the x2APIC MSR space leaves out (SDM table "Local APIC Register Address Map Supported by x2APIC"). */
const NOT_IN_X2APIC = new Set(['APR', 'RRD', 'DFR', 'ICR_HIGH']);

/** The local APIC register at an offset in its 4 KiB page; undefined for a reserved offset. */
export function apicRegisterAt(offset: number): ApicRegister | undefined {
  if (offset < 0 || offset >= LAPIC_PAGE_SIZE || (offset & 0xf) !== 0) return undefined;
  const name = REGISTER_NAMES[offset >> 4];
  if (!name) return undefined;
  const bank = /^(ISR|TMR|IRR)(\d)$/.exec(name);
  const lvt = LVT_OFFSETS.indexOf(offset);
  const reg: ApicRegister = {
    name, offset,
    msr: NOT_IN_X2APIC.has(name) ? undefined : offset === APIC_ICR_LOW ? X2APIC_MSR_ICR : x2apicMsrOf(offset),
    what: bank
      ? `${bank[1] === 'ISR' ? 'In-service' : bank[1] === 'TMR' ? 'Trigger mode' : 'Interrupt request'} register bits for vectors ${Number(bank[2]) * 32}-${Number(bank[2]) * 32 + 31} (read-only; SDM 11.8.4)`
      : WHAT[name] ?? name,
    readOnly: READ_ONLY.has(name) || bank !== null || undefined,
    writeOnly: offset === APIC_EOI || offset === APIC_SELF_IPI || undefined,
    lvt: lvt >= 0 ? lvt : undefined,
  };
  if (lvt >= 0) reg.reserved = ~LVT_DEFINED[lvt] >>> 0;
  else if (offset === APIC_SVR) reg.reserved = ~(SVR_WRITABLE | SVR_FOCUS_DISABLE) >>> 0;
  else if (offset === APIC_TPR) reg.reserved = ~0xff >>> 0;
  else if (offset === APIC_TIMER_DCR) reg.reserved = ~DCR_WRITABLE >>> 0;
  else if (offset === APIC_SELF_IPI) reg.reserved = ~0xff >>> 0;
  else if (offset === APIC_ICR_LOW) reg.reserved = ~ICR_LOW_WRITABLE >>> 0;
  else if (offset === APIC_ICR_HIGH) reg.reserved = ~ICR_HIGH_WRITABLE >>> 0;
  else if (offset === APIC_EOI || offset === APIC_ESR) reg.reserved = 0; // xAPIC: any value; x2APIC: 0 only (checked separately)
  return reg;
}

/** The local APIC register an x2APIC MSR is; undefined outside 0x800-0x8FF or for a hole. */
export function apicRegisterOfMsr(msr: number): ApicRegister | undefined {
  if (msr < X2APIC_MSR_FIRST || msr > X2APIC_MSR_FIRST + 0x3f) return undefined;
  const reg = apicRegisterAt((msr - X2APIC_MSR_FIRST) << 4);
  return reg && reg.msr === msr ? reg : undefined;
}

export interface IoApicRegister {
  name: string;
  offset: number;
  what: string;
}

/** An I/O APIC MMIO register by offset from 0xFEC00000 (82093AA datasheet, 3.1). */
export function ioApicRegisterAt(offset: number): IoApicRegister | undefined {
  if (offset === IOAPIC_IOREGSEL) return { name: 'IOREGSEL', offset, what: 'I/O APIC register select: bits 7:0 pick the register IOWIN reads and writes (0x00 ID, 0x01 VER, 0x02 ARB, 0x10+2n / 0x11+2n redirection entry n)' };
  if (offset === IOAPIC_IOWIN) return { name: 'IOWIN', offset, what: 'I/O APIC window: the 32-bit register selected by IOREGSEL' };
  if (offset === IOAPIC_EOI) return { name: 'EOI', offset, what: 'I/O APIC EOI (version 0x20): writing a vector clears remote IRR of the level-triggered entries with that vector' };
  return undefined;
}

export type ApicAddress =
  | { kind: 'lapic'; address: number; offset: number; reg?: ApicRegister }
  | { kind: 'ioapic'; address: number; offset: number; reg?: IoApicRegister };

/** What a physical address in the APIC windows is (default bases), if it is in one. */
export function apicAddress(address: number): ApicAddress | undefined {
  if (address >= LAPIC_PAGE && address < LAPIC_PAGE + LAPIC_PAGE_SIZE) {
    const offset = address - LAPIC_PAGE;
    return { kind: 'lapic', address, offset, reg: apicRegisterAt(offset) };
  }
  if (address >= IOAPIC_BASE && address < IOAPIC_BASE + IOAPIC_SIZE) {
    const offset = address - IOAPIC_BASE;
    return { kind: 'ioapic', address, offset, reg: ioApicRegisterAt(offset) };
  }
  return undefined;
}

const DISPLAY: Record<string, string> = {
  ICR_LOW: 'ICR low', ICR_HIGH: 'ICR high', TIMER_ICR: 'timer initial count (TIMER_ICR)', TIMER_CCR: 'timer current count (TIMER_CCR)',
  TIMER_DCR: 'timer divide configuration (TIMER_DCR)', SELF_IPI: 'SELF IPI',
};

/** The register as people say it: "ICR low", "LVT_TIMER", "ISR3". */
export function displayName(reg: ApicRegister): string {
  return DISPLAY[reg.name] ?? reg.name;
}

/** Markdown lines describing a local APIC register. */
export function describeApicRegister(reg: ApicRegister, address?: number): string {
  const where = [`xAPIC offset ${hex(reg.offset, 3)}`];
  if (address !== undefined) where.unshift(`MMIO ${hex(address, 8)}`);
  where.push(reg.msr !== undefined ? `x2APIC MSR ${hex(reg.msr, 3)}` : 'no x2APIC MSR');
  const access = reg.readOnly ? ' Read-only.' : reg.writeOnly ? ' Write-only.' : '';
  return `**Local APIC ${displayName(reg)}** (${where.join(', ')})\n\n${reg.what}.${access}`;
}

export function describeApicAddress(a: ApicAddress): string {
  if (a.kind === 'lapic') {
    if (a.reg) return describeApicRegister(a.reg, a.address);
    return `**Local APIC page** ${hex(a.address, 8)}: offset ${hex(a.offset, 3)} is reserved (a 32-bit access sets ESR bit 7, illegal register address).`;
  }
  if (a.reg) return `**I/O APIC ${a.reg.name}** (MMIO ${hex(a.address, 8)}, offset ${hex(a.offset, 2)})\n\n${a.reg.what}.`;
  return `**I/O APIC page** ${hex(a.address, 8)}: offset ${hex(a.offset, 2)} is not a register.`;
}
